//! One trajectory of the discrete QR method, resumable: the warm-up, then measured steps in one
//! or several calls to [`Trajectory::measure`] (the pseudo-code of docs/DESIGN.md section 2;
//! chunks: section 2, "Error bars over time and stopping when converged").
//!
//! Between calls the trajectory keeps the system's workspace, the tangent basis and every
//! accumulator, so measuring `T1` steps and then `T2` more gives bit for bit the result of
//! measuring `T1 + T2` steps at once, provided `T1` is a multiple of `qr_every` (every call
//! ends with a QR, as the whole run does at its last step).

use crate::checks::SequenceChecker;
use crate::convergence::BlockMeans;
use crate::qr::QrKernel;
use crate::spectrum::{SequenceSpectrum, SpectrumConfig, SpectrumError, TracePoint, WarmupStyle};
use crate::system::{Tangent, TangentSystem};
use crate::Real;
use faer::Mat;

/// How the tangent vectors are held.
enum Basis<T: Real> {
    /// `Q` explicit (`n x k`), mapped through [`TangentSystem::apply_jacobian`] into `y`.
    Tangent { q: Mat<T>, y: Mat<T> },
    /// The dense fast path (docs/DESIGN.md section 2, "The dense fast path"): `Q` kept as the
    /// Householder basis of the last factorisation (none before the first step), `J_t Q`
    /// formed in `product` by applying its reflectors to `J_t` from the right.
    Dense {
        basis: Mat<T>,
        product: Mat<T>,
        has_basis: bool,
    },
}

/// The state of one trajectory between chunks of measured steps.
pub(crate) struct Trajectory<T: Real, S: TangentSystem<T>> {
    workspace: S::Workspace,
    kernel: QrKernel<T>,
    basis: Basis<T>,
    k: usize,
    qr_every: usize,
    tangent: Tangent,
    record_trace: bool,
    /// Measured steps so far (`t`).
    measured: usize,
    /// Measured steps since the last QR.
    since_qr: usize,
    /// `sum ln|R_ii|` over the measured QR steps.
    accumulated: Vec<f64>,
    /// `ln|R_ii|` of the last QR step.
    growth: Vec<f64>,
    blocks: BlockMeans,
    trace: Vec<TracePoint>,
    /// The built-in checks along this trajectory (sum rule, two-trajectory estimate).
    checks: SequenceChecker<T, S::Workspace>,
    /// Steps run so far, warm-up included.
    steps_run: usize,
    /// The first step (1-based, warm-up included) after which the state was not finite; the
    /// trajectory stops there.
    diverged_at: Option<usize>,
}

impl<T: Real, S: TangentSystem<T>> Trajectory<T, S> {
    /// A trajectory from the system's initial state (or `start`), with the tangent block the
    /// first `k` unit vectors; the dense fast path when `k` is the state dimension, the QR
    /// runs every step and the warm-up is the standard one (it falls back to the tangent path
    /// when the system gives no dense Jacobian).
    pub(crate) fn new(
        system: &S,
        start: Option<&[T]>,
        config: &SpectrumConfig,
    ) -> Result<Self, SpectrumError> {
        let n = system.state_dim();
        let k = config.k;
        let dense = k == n && config.qr_every == 1 && config.warmup_style == WarmupStyle::Standard;
        let mut workspace = system.workspace(if dense { n } else { k });
        if let Some(state) = start {
            if !system.set_state(&mut workspace, state) {
                return Err(SpectrumError::CannotSetState);
            }
        }
        let checks = SequenceChecker::new(system, &workspace, config.checks, k == n)
            .ok_or(SpectrumError::CannotSetState)?;
        let basis = if dense {
            Basis::Dense {
                basis: Mat::zeros(n, n),
                product: Mat::zeros(n, n),
                has_basis: false,
            }
        } else {
            Basis::Tangent {
                q: Mat::identity(n, k),
                y: Mat::zeros(n, k),
            }
        };
        Ok(Self {
            workspace,
            kernel: QrKernel::new(n, k),
            basis,
            k,
            qr_every: config.qr_every,
            tangent: config.tangent,
            record_trace: config.record_trace,
            measured: 0,
            since_qr: 0,
            accumulated: vec![0.0; k],
            growth: vec![0.0; k],
            blocks: BlockMeans::new(k),
            trace: Vec::new(),
            checks,
            steps_run: 0,
            diverged_at: None,
        })
    }

    /// The warm-up: one step per input vector of `inputs` (`warmup` of them, row-major), with a
    /// QR every `qr_every` steps in the standard style and none in the paper's, then one QR on
    /// the tangent path (skipped on the dense path, whose `Q` is orthonormal already).
    pub(crate) fn warm_up(&mut self, system: &S, inputs: &[T], warmup: usize, style: WarmupStyle) {
        let d = system.input_dim();
        for t in 0..warmup {
            if self.diverged_at.is_some() {
                return;
            }
            let qr = style == WarmupStyle::Standard && (t + 1).is_multiple_of(self.qr_every);
            self.step(system, &inputs[t * d..(t + 1) * d], qr, false);
        }
        if warmup > 0 {
            if let Basis::Tangent { q, y } = &mut self.basis {
                y.copy_from(&*q);
                self.growth.fill(0.0);
                self.kernel
                    .orthonormalize(y.as_mut(), q.as_mut(), &mut self.growth);
            }
        }
    }

    /// `steps` more measured steps, one per input vector of `inputs` (row-major), with a QR at
    /// every multiple of `qr_every` (counting all measured steps so far) and at the last one.
    pub(crate) fn measure(&mut self, system: &S, inputs: &[T], steps: usize) {
        let d = system.input_dim();
        let end = self.measured + steps;
        for i in 0..steps {
            if self.diverged_at.is_some() {
                return;
            }
            let t = self.measured + 1;
            let qr = t.is_multiple_of(self.qr_every) || t == end;
            self.step(system, &inputs[i * d..(i + 1) * d], qr, true);
            self.measured = t;
            self.since_qr += 1;
            if qr {
                for (a, g) in self.accumulated.iter_mut().zip(&self.growth) {
                    *a += g;
                }
                self.blocks.push(&self.growth, self.since_qr);
                self.since_qr = 0;
                if self.record_trace {
                    let estimate = self.accumulated.iter().map(|a| a / t as f64).collect();
                    self.trace.push(TracePoint { step: t, estimate });
                }
            }
        }
    }

    /// One step of the state and the tangent vectors; with `qr`, the re-orthonormalisation
    /// with `ln|R_ii|` in `self.growth`, otherwise `Q <- J Q` as it is; the checks follow the
    /// step (their time averages count only `measured` steps).
    fn step(&mut self, system: &S, input: &[T], qr: bool, measured: bool) {
        system.step(&mut self.workspace, input);
        self.steps_run += 1;
        if !system.state(&self.workspace).iter().all(|v| v.is_finite()) {
            self.diverged_at = Some(self.steps_run);
            return;
        }
        self.checks
            .after_step(system, &mut self.workspace, input, measured);
        if let Basis::Dense {
            basis,
            product,
            has_basis,
        } = &mut self.basis
        {
            if system.dense_jacobian_into(&mut self.workspace, product.as_mut(), self.tangent) {
                if *has_basis {
                    self.kernel
                        .apply_q_on_the_right(basis.as_ref(), product.as_mut());
                }
                self.growth.fill(0.0);
                self.kernel
                    .factor_in_place(product.as_mut(), &mut self.growth);
                std::mem::swap(basis, product);
                *has_basis = true;
                return;
            }
            // No dense Jacobian: continue on the tangent path from the same `Q`.
            let mut q = Mat::identity(basis.nrows(), self.k);
            if *has_basis {
                self.kernel.form_q(basis.as_ref(), q.as_mut());
            }
            let y = Mat::zeros(q.nrows(), q.ncols());
            self.basis = Basis::Tangent { q, y };
        }
        if let Basis::Tangent { q, y } = &mut self.basis {
            system.apply_jacobian(&mut self.workspace, q.as_ref(), y.as_mut(), self.tangent);
            if qr {
                self.growth.fill(0.0);
                self.kernel
                    .orthonormalize(y.as_mut(), q.as_mut(), &mut self.growth);
            } else {
                std::mem::swap(q, y);
            }
        }
    }

    /// Measured steps so far.
    pub(crate) fn measured(&self) -> usize {
        self.measured
    }

    /// [`SpectrumError::Diverged`] when the state of this trajectory (sequence `sequence`)
    /// stopped being finite.
    pub(crate) fn check_finite(&self, sequence: usize) -> Result<(), SpectrumError> {
        match self.diverged_at {
            Some(step) => Err(SpectrumError::Diverged { sequence, step }),
            None => Ok(()),
        }
    }

    /// Whether exponent `i` diverged to `-inf` (a direction collapsed exactly).
    pub(crate) fn diverged(&self, i: usize) -> bool {
        self.accumulated[i] == f64::NEG_INFINITY
    }

    /// The standard error of each exponent's time average so far (docs/DESIGN.md section 2,
    /// [`BlockMeans::standard_errors`]), nats per step.
    pub(crate) fn block_standard_errors(&self) -> Vec<f64> {
        self.blocks.standard_errors()
    }

    /// The spectrum of the measured steps so far: `lambda_i = acc_i / t`, the running
    /// estimates and the standard errors of the time averages.
    pub(crate) fn finish(self) -> SequenceSpectrum {
        let t = self.measured as f64;
        SequenceSpectrum {
            exponents: self.accumulated.iter().map(|a| a / t).collect(),
            block_se: self.blocks.standard_errors(),
            trace: self.trace,
            checks: self.checks.finish(self.measured),
        }
    }
}

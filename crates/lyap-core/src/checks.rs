//! Built-in checks of a spectrum, computed along the same trajectories as the QR method but
//! independently of it (docs/DESIGN.md section 2, "Built-in checks"):
//!
//! - the **sum rule**: with all `k = d` exponents, `sum_i lambda_i = (1/T) sum_t ln|det J_t|`,
//!   the right side from each step's Jacobian ([`TangentSystem::log_abs_det_jacobian`]: an LU
//!   or the system's structure), never from the diagonal of `R`;
//! - the **largest exponent by two nearby trajectories** (Benettin's two-trajectory method): a
//!   copy of the trajectory started `eps` away and driven by the same inputs, the separation
//!   `delta_t` renormalised to length `eps_t` after every step,
//!   `lambda_1 ~ (1/T) sum_t ln(|delta_t| / eps_(t-1))`.

use crate::spectrum::Spectrum;
use crate::system::TangentSystem;
use crate::Real;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::factor::{lu_in_place, lu_in_place_scratch};
use faer::{Mat, MatRef, Par};

/// Which checks the engine runs along each trajectory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckConfig {
    /// Accumulate `ln|det J_t|` over the measured steps when `k` equals the state dimension.
    pub sum_rule: bool,
    /// Run the perturbed copy of each trajectory for the largest exponent.
    pub max_by_perturbation: bool,
}

impl Default for CheckConfig {
    /// The sum rule on (it is skipped anyway when `k < d`), the perturbed copy off.
    fn default() -> Self {
        Self {
            sum_rule: true,
            max_by_perturbation: false,
        }
    }
}

/// The checks of one trajectory, in the spectrum's unit (nats per step, or per time unit
/// after [`Spectrum::per_time_unit`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SequenceChecks {
    /// `(1/T) sum_t ln|det J_t|` over the measured steps (`None`: not computed).
    pub mean_log_abs_det: Option<f64>,
    /// The largest exponent from the perturbed copy (`None`: not computed).
    pub max_by_perturbation: Option<f64>,
}

impl SequenceChecks {
    /// Every value divided by `dt` (docs/DESIGN.md section 2.1).
    pub fn per_time_unit(&self, dt: f64) -> Self {
        Self {
            mean_log_abs_det: self.mean_log_abs_det.map(|v| v / dt),
            max_by_perturbation: self.max_by_perturbation.map(|v| v / dt),
        }
    }
}

/// The sum rule over a batch: `sum` is the sum of the mean exponents, `mean_log_abs_det` the
/// mean over the sequences of their `(1/T) sum_t ln|det J_t|`, `difference = sum -
/// mean_log_abs_det`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SumRule {
    pub sum: f64,
    pub mean_log_abs_det: f64,
    pub difference: f64,
}

/// The largest exponent by two nearby trajectories over a batch: the mean `estimate` over the
/// sequences and `difference = estimate - lambda_1` (the mean of the first QR exponent).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaxByPerturbation {
    pub estimate: f64,
    pub difference: f64,
}

/// The batch's sum rule, when every sequence computed it.
pub fn sum_rule(spectrum: &Spectrum) -> Option<SumRule> {
    let mean_log_abs_det = batch_mean(spectrum, |c| c.mean_log_abs_det)?;
    let sum = spectrum.statistics.mean.iter().sum::<f64>();
    Some(SumRule {
        sum,
        mean_log_abs_det,
        difference: difference(sum, mean_log_abs_det),
    })
}

/// The batch's perturbation estimate of the largest exponent, when every sequence computed it.
pub fn max_by_perturbation(spectrum: &Spectrum) -> Option<MaxByPerturbation> {
    let estimate = batch_mean(spectrum, |c| c.max_by_perturbation)?;
    let lambda_1 = *spectrum.statistics.mean.first()?;
    Some(MaxByPerturbation {
        estimate,
        difference: difference(estimate, lambda_1),
    })
}

/// `a - b`, with equal infinities (both sides `-inf`: a direction collapsed exactly on both)
/// counted as agreement.
fn difference(a: f64, b: f64) -> f64 {
    if a.is_infinite() && a == b {
        0.0
    } else {
        a - b
    }
}

/// The mean over the sequences of one check, when every sequence computed it.
fn batch_mean(spectrum: &Spectrum, value: impl Fn(&SequenceChecks) -> Option<f64>) -> Option<f64> {
    let values = spectrum
        .per_sequence
        .iter()
        .map(|s| value(&s.checks))
        .collect::<Option<Vec<f64>>>()?;
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The largest sum-rule difference rounding explains, in nats per step, for a state of
/// dimension `d` computed with machine epsilon `epsilon` over `steps` measured steps, whose
/// exponents have largest modulus `max_abs_exponent`: `tol = d (100 epsilon + steps
/// f64::EPSILON / 2) (1 + max_abs_exponent)` (docs/DESIGN.md section 2, "Built-in checks").
/// Each step's `sum_i ln|R_ii|` and `ln|det J_t|` are both backward stable (relative errors of
/// a few `d epsilon` in each of the `d` logarithms, growing with how strongly the step
/// contracts); the time average does not shrink a systematic part. The second term is the
/// rounding of the time sums themselves, accumulated in `f64`: adding a term to a running sum
/// of size `t |lambda|` rounds by up to `f64::EPSILON / 2` of it, and when the terms hardly vary
/// (a constant `ln|det J|`, as for the Henon map) these errors do not cancel, so the time
/// average can be off by about `steps f64::EPSILON |lambda| / 4` per sum (measured: `1.9e-12`
/// nats per step for the Henon map over 100,000 steps).
pub fn sum_rule_tolerance(d: usize, epsilon: f64, max_abs_exponent: f64, steps: usize) -> f64 {
    let accumulation = steps as f64 * f64::EPSILON / 2.0;
    d as f64 * (100.0 * epsilon + accumulation) * (1.0 + max_abs_exponent)
}

/// Reusable buffers for `ln|det A|` of `n x n` matrices by LU with partial pivoting (faer),
/// `sum_i ln|U_ii|` accumulated in `f64`. An exactly singular matrix (a zero pivot) gives
/// `-inf`.
pub struct LogDet<T: Real> {
    lu: Mat<T>,
    perm: Vec<usize>,
    perm_inv: Vec<usize>,
    scratch: MemBuffer,
}

impl<T: Real> LogDet<T> {
    pub fn new(n: usize) -> Self {
        let req = lu_in_place_scratch::<usize, T>(n, n, Par::Seq, Default::default());
        Self {
            lu: Mat::zeros(n, n),
            perm: vec![0; n],
            perm_inv: vec![0; n],
            scratch: MemBuffer::new(req),
        }
    }

    /// `ln|det a|` for a square `a` of this size.
    pub fn log_abs_det(&mut self, a: MatRef<'_, T>) -> f64 {
        assert_eq!(
            (a.nrows(), a.ncols()),
            (self.lu.nrows(), self.lu.ncols()),
            "LogDet size"
        );
        self.lu.copy_from(a);
        lu_in_place(
            self.lu.as_mut(),
            &mut self.perm,
            &mut self.perm_inv,
            Par::Seq,
            MemStack::new(&mut self.scratch),
            Default::default(),
        );
        let mut sum = 0.0;
        for i in 0..self.lu.nrows() {
            let pivot = self.lu[(i, i)].as_f64().abs();
            if pivot == 0.0 {
                // exactly singular: the entries after a zero pivot are NaN
                return f64::NEG_INFINITY;
            }
            sum += pivot.ln();
        }
        sum
    }
}

impl<T: Real> Clone for LogDet<T> {
    fn clone(&self) -> Self {
        Self::new(self.lu.nrows())
    }
}

impl<T: Real> std::fmt::Debug for LogDet<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogDet({})", self.lu.nrows())
    }
}

/// `ln|det a|` of a square matrix by LU with partial pivoting (allocates its buffers).
pub fn log_abs_det<T: Real>(a: MatRef<'_, T>) -> f64 {
    LogDet::new(a.nrows()).log_abs_det(a)
}

/// The checks that follow one trajectory: the sum-rule accumulator and the perturbed copy.
pub(crate) struct SequenceChecker<T, W> {
    log_det: Option<f64>,
    perturbed: Option<Perturbed<T, W>>,
}

/// The perturbed copy: its workspace, the separation it was last set to and the accumulated
/// `ln(|delta_t| / eps_(t-1))`.
struct Perturbed<T, W> {
    workspace: W,
    separation: f64,
    accumulated: f64,
    /// Scratch: the new state of the copy.
    state: Vec<T>,
}

/// Component `i` of the initial direction of the separation: all components equal
/// (normalised), so that it overlaps the leading direction of any system.
fn direction(d: usize) -> f64 {
    1.0 / (d as f64).sqrt()
}

/// The separation the copy is set to from state `s`: `sqrt(epsilon) (1 + max_i |s_i|)`, small
/// against the state yet large against its rounding.
fn separation<T: Real>(state: &[T]) -> f64 {
    let largest = state.iter().fold(0.0f64, |m, v| m.max(v.as_f64().abs()));
    T::epsilon().as_f64().sqrt() * (1.0 + largest)
}

/// `|p - s|` in `f64`.
fn distance<T: Real>(s: &[T], p: &[T]) -> f64 {
    s.iter()
        .zip(p)
        .map(|(a, b)| (b.as_f64() - a.as_f64()).powi(2))
        .sum::<f64>()
        .sqrt()
}

impl<T: Real, W> SequenceChecker<T, W> {
    /// The checks `config` asks for along the trajectory of `reference` (already at its
    /// initial state); the sum rule only when `all_exponents`. `None` when the system cannot
    /// start the perturbed copy from a given state.
    pub(crate) fn new<S: TangentSystem<T, Workspace = W>>(
        system: &S,
        reference: &W,
        config: CheckConfig,
        all_exponents: bool,
    ) -> Option<Self> {
        let perturbed = if config.max_by_perturbation {
            let start = system.state(reference);
            let mut copy = Perturbed {
                workspace: system.workspace(1),
                separation: separation(start),
                accumulated: 0.0,
                state: vec![T::zero(); start.len()],
            };
            let unit = direction(start.len());
            for (new, s) in copy.state.iter_mut().zip(start) {
                *new = *s + T::of_f64(copy.separation * unit);
            }
            if !system.set_state(&mut copy.workspace, &copy.state) {
                return None;
            }
            copy.separation = distance(start, &copy.state);
            Some(copy)
        } else {
            None
        };
        Some(Self {
            log_det: (config.sum_rule && all_exponents).then_some(0.0),
            perturbed,
        })
    }

    /// After the reference trajectory's step on `input`: `ln|det J_t|` (when `measured`), and
    /// the perturbed copy's step, separation and renormalisation.
    pub(crate) fn after_step<S: TangentSystem<T, Workspace = W>>(
        &mut self,
        system: &S,
        reference: &mut W,
        input: &[T],
        measured: bool,
    ) {
        if measured {
            if let Some(acc) = &mut self.log_det {
                match system.log_abs_det_jacobian(reference) {
                    Some(value) => *acc += value,
                    None => self.log_det = None,
                }
            }
        }
        if let Some(copy) = &mut self.perturbed {
            system.step(&mut copy.workspace, input);
            let s = system.state(reference);
            let p = system.state(&copy.workspace);
            let grown = distance(s, p);
            if measured {
                copy.accumulated += (grown / copy.separation).ln();
            }
            let target = separation(s);
            let scale = target / grown;
            let collapsed = !(scale.is_finite() && grown > 0.0);
            let unit = direction(s.len());
            for ((new, &a), &b) in copy.state.iter_mut().zip(s).zip(p) {
                let delta = if collapsed {
                    target * unit
                } else {
                    scale * (b.as_f64() - a.as_f64())
                };
                *new = a + T::of_f64(delta);
            }
            system.set_state(&mut copy.workspace, &copy.state);
            copy.separation = distance(s, &copy.state);
        }
    }

    /// The time averages over `steps` measured steps.
    pub(crate) fn finish(self, steps: usize) -> SequenceChecks {
        SequenceChecks {
            mean_log_abs_det: self.log_det.map(|acc| acc / steps as f64),
            max_by_perturbation: self.perturbed.map(|p| p.accumulated / steps as f64),
        }
    }
}

//! The discrete QR (Benettin) method over a batch of input sequences (docs/DESIGN.md section 2).

use crate::checks::{CheckConfig, SequenceChecker, SequenceChecks};
use crate::qr::QrKernel;
use crate::stats::{column_statistics, ColumnStatistics};
use crate::system::{Tangent, TangentSystem};
use crate::Real;
use faer::Mat;
use rayon::prelude::*;

/// How the warm-up phase treats the tangent vectors and which inputs the measurement sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WarmupStyle {
    /// docs/DESIGN.md section 2: QR every `qr_every` steps during the warm-up, one QR at its end,
    /// then the measurement continues with inputs `x_{W+1} ..`.
    Standard,
    /// The paper's reference code (docs/DESIGN.md section 4): no QR during the warm-up, one QR at
    /// its end, then the measurement starts again from input `x_1`.
    Paper,
}

/// Settings of one spectrum computation. Exponents are per step, natural log.
#[derive(Clone, Debug)]
pub struct SpectrumConfig {
    /// Number of exponents (tangent vectors), `1 <= k <= state_dim`.
    pub k: usize,
    /// Steps run before measuring (`W`).
    pub warmup: usize,
    /// Measured steps (`T`).
    pub steps: usize,
    /// Re-orthonormalise every `qr_every` steps (and always at the last step).
    pub qr_every: usize,
    /// `J Q` (correct) or `J^T Q` (the paper's code).
    pub tangent: Tangent,
    pub warmup_style: WarmupStyle,
    /// Record the running estimate `acc / t` at every measured QR step.
    pub record_trace: bool,
    /// Built-in checks along each trajectory (docs/DESIGN.md section 2, "Built-in checks").
    pub checks: CheckConfig,
}

impl SpectrumConfig {
    /// Full settings with the defaults of docs/DESIGN.md: no warm-up, QR every step, `J Q`.
    pub fn new(k: usize, steps: usize) -> Self {
        Self {
            k,
            warmup: 0,
            steps,
            qr_every: 1,
            tangent: Tangent::Jacobian,
            warmup_style: WarmupStyle::Standard,
            record_trace: false,
            checks: CheckConfig::default(),
        }
    }

    /// Number of input vectors a sequence must provide.
    pub fn inputs_needed(&self) -> usize {
        match self.warmup_style {
            WarmupStyle::Standard => self.warmup + self.steps,
            WarmupStyle::Paper => self.warmup.max(self.steps),
        }
    }
}

/// Why a spectrum cannot be computed with the given settings and inputs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpectrumError {
    #[error("k = {k} is out of range: it must be between 1 and the state dimension {state_dim}")]
    BadK { k: usize, state_dim: usize },
    #[error("steps must be at least 1")]
    NoSteps,
    #[error("qr_every must be at least 1")]
    BadQrEvery,
    #[error("no input sequences were given")]
    NoSequences,
    #[error("sequence {sequence} has {available} input steps but warm-up + steps needs {needed}")]
    SequenceTooShort {
        sequence: usize,
        available: usize,
        needed: usize,
    },
    #[error(
        "sequence {sequence} has {len} input values, not a multiple of the input size {input_dim}"
    )]
    RaggedSequence {
        sequence: usize,
        len: usize,
        input_dim: usize,
    },
    #[error("{states} initial states were given for {sequences} input sequences; one per sequence is needed")]
    InitialStatesMismatch { states: usize, sequences: usize },
    #[error("initial state {sequence} has {len} values but the state dimension is {state_dim}")]
    InitialStateLength {
        sequence: usize,
        len: usize,
        state_dim: usize,
    },
    #[error("initial state {sequence} holds a value that is not finite")]
    NonFiniteInitialState { sequence: usize },
    #[error("this system cannot start from a given initial state")]
    CannotSetState,
}

/// The running estimate of the exponents after `step` measured steps.
#[derive(Clone, Debug, PartialEq)]
pub struct TracePoint {
    pub step: usize,
    pub estimate: Vec<f64>,
}

/// The spectrum of one trajectory.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceSpectrum {
    /// `lambda_i = (1/T) sum_t ln|R_ii(t)|`, QR order (largest first up to QR ordering).
    pub exponents: Vec<f64>,
    /// Running estimates (empty unless `record_trace`).
    pub trace: Vec<TracePoint>,
    /// The built-in checks of this trajectory ([`crate::checks`]).
    pub checks: SequenceChecks,
}

/// The spectrum over a batch of sequences: per sequence, and mean / sample std / sem.
#[derive(Clone, Debug, PartialEq)]
pub struct Spectrum {
    pub per_sequence: Vec<SequenceSpectrum>,
    pub statistics: ColumnStatistics,
}

impl Spectrum {
    /// The spectrum per time unit of a system sampled every `dt` time units (a flow,
    /// docs/DESIGN.md section 2.1): every exponent, running estimate, mean, std and sem divided by
    /// `dt`. Trace points keep their step index (time `step * dt`).
    pub fn per_time_unit(&self, dt: f64) -> Spectrum {
        let scale = |values: &[f64]| values.iter().map(|v| v / dt).collect::<Vec<f64>>();
        let per_sequence = self
            .per_sequence
            .iter()
            .map(|sequence| SequenceSpectrum {
                exponents: scale(&sequence.exponents),
                trace: sequence
                    .trace
                    .iter()
                    .map(|point| TracePoint {
                        step: point.step,
                        estimate: scale(&point.estimate),
                    })
                    .collect(),
                checks: sequence.checks.per_time_unit(dt),
            })
            .collect();
        let statistics = ColumnStatistics {
            mean: scale(&self.statistics.mean),
            std: scale(&self.statistics.std),
            sem: scale(&self.statistics.sem),
        };
        Spectrum {
            per_sequence,
            statistics,
        }
    }
}

/// `count` empty input sequences, the inputs of an autonomous system (`input_dim() == 0`):
/// the number of steps then comes from the [`SpectrumConfig`] alone.
pub fn autonomous_inputs<T>(count: usize) -> Vec<&'static [T]> {
    (0..count).map(|_| &[] as &[T]).collect()
}

/// Computes the Lyapunov spectrum of `system` driven by each of `sequences` (row-major
/// `[time][input_dim]` slices), in parallel across sequences with rayon. Every trajectory
/// starts from the system's own initial state ([`TangentSystem::workspace`]). An autonomous
/// system (`input_dim() == 0`) takes empty slices ([`autonomous_inputs`]); the number of
/// steps then comes from `config`.
///
/// Each trajectory runs on one thread with its own buffers, so the result is bit-identical
/// whatever the number of threads.
pub fn lyapunov_spectrum<T: Real, S: TangentSystem<T>>(
    system: &S,
    sequences: &[&[T]],
    config: &SpectrumConfig,
) -> Result<Spectrum, SpectrumError> {
    validate(system, sequences, config)?;
    batch_spectrum(system, None, sequences, config)
}

/// [`lyapunov_spectrum`] with trajectory `b` starting from `initial_states[b]` (one state of
/// length `state_dim` per sequence, set through [`TangentSystem::set_state`]): e.g. points on
/// a flow's attractor ([`attractor_points`](crate::systems::attractor_points)) or states
/// reached by driving a network. The tangent vectors start as the first `k` unit vectors, as
/// in [`lyapunov_spectrum`].
pub fn lyapunov_spectrum_from<T: Real, S: TangentSystem<T>>(
    system: &S,
    initial_states: &[&[T]],
    sequences: &[&[T]],
    config: &SpectrumConfig,
) -> Result<Spectrum, SpectrumError> {
    validate(system, sequences, config)?;
    if initial_states.len() != sequences.len() {
        return Err(SpectrumError::InitialStatesMismatch {
            states: initial_states.len(),
            sequences: sequences.len(),
        });
    }
    let state_dim = system.state_dim();
    for (sequence, state) in initial_states.iter().enumerate() {
        if state.len() != state_dim {
            return Err(SpectrumError::InitialStateLength {
                sequence,
                len: state.len(),
                state_dim,
            });
        }
        if !state.iter().all(|value| value.is_finite()) {
            return Err(SpectrumError::NonFiniteInitialState { sequence });
        }
    }
    batch_spectrum(system, Some(initial_states), sequences, config)
}

/// The batch, in parallel, after validation; `starts[b]` is trajectory `b`'s initial state.
fn batch_spectrum<T: Real, S: TangentSystem<T>>(
    system: &S,
    starts: Option<&[&[T]]>,
    sequences: &[&[T]],
    config: &SpectrumConfig,
) -> Result<Spectrum, SpectrumError> {
    let per_sequence = sequences
        .par_iter()
        .enumerate()
        .map(|(b, sequence)| {
            let start = starts.map(|starts| starts[b]);
            sequence_spectrum(system, start, sequence, config)
        })
        .collect::<Result<Vec<SequenceSpectrum>, SpectrumError>>()?;
    let rows: Vec<&[f64]> = per_sequence
        .iter()
        .map(|s| s.exponents.as_slice())
        .collect();
    let statistics = column_statistics(&rows);
    Ok(Spectrum {
        per_sequence,
        statistics,
    })
}

fn validate<T: Real, S: TangentSystem<T>>(
    system: &S,
    sequences: &[&[T]],
    config: &SpectrumConfig,
) -> Result<(), SpectrumError> {
    let state_dim = system.state_dim();
    if config.k == 0 || config.k > state_dim {
        return Err(SpectrumError::BadK {
            k: config.k,
            state_dim,
        });
    }
    if config.steps == 0 {
        return Err(SpectrumError::NoSteps);
    }
    if config.qr_every == 0 {
        return Err(SpectrumError::BadQrEvery);
    }
    if sequences.is_empty() {
        return Err(SpectrumError::NoSequences);
    }
    let input_dim = system.input_dim();
    let needed = config.inputs_needed();
    for (index, sequence) in sequences.iter().enumerate() {
        if input_dim == 0 {
            continue;
        }
        if sequence.len() % input_dim != 0 {
            return Err(SpectrumError::RaggedSequence {
                sequence: index,
                len: sequence.len(),
                input_dim,
            });
        }
        let available = sequence.len() / input_dim;
        if available < needed {
            return Err(SpectrumError::SequenceTooShort {
                sequence: index,
                available,
                needed,
            });
        }
    }
    Ok(())
}

/// A workspace for `max_vectors` tangent vectors, starting from `start` when given.
fn start_workspace<T: Real, S: TangentSystem<T>>(
    system: &S,
    max_vectors: usize,
    start: Option<&[T]>,
) -> Result<S::Workspace, SpectrumError> {
    let mut workspace = system.workspace(max_vectors);
    match start {
        Some(state) if !system.set_state(&mut workspace, state) => {
            Err(SpectrumError::CannotSetState)
        }
        _ => Ok(workspace),
    }
}

/// One trajectory of the QR method (the pseudo-code of docs/DESIGN.md section 2).
fn sequence_spectrum<T: Real, S: TangentSystem<T>>(
    system: &S,
    start: Option<&[T]>,
    sequence: &[T],
    config: &SpectrumConfig,
) -> Result<SequenceSpectrum, SpectrumError> {
    let fused = config.k == system.state_dim()
        && config.qr_every == 1
        && config.warmup_style == WarmupStyle::Standard;
    let all_exponents = config.k == system.state_dim();
    let checker = |workspace: &S::Workspace| {
        SequenceChecker::new(system, workspace, config.checks, all_exponents)
            .ok_or(SpectrumError::CannotSetState)
    };
    if fused {
        let workspace = start_workspace(system, system.state_dim(), start)?;
        let checks = checker(&workspace)?;
        if let Some(result) = dense_sequence_spectrum(system, workspace, checks, sequence, config) {
            return Ok(result);
        }
    }
    let workspace = start_workspace(system, config.k, start)?;
    let checks = checker(&workspace)?;
    Ok(tangent_sequence_spectrum(
        system, workspace, checks, sequence, config,
    ))
}

/// The QR method with the tangent vectors applied through [`TangentSystem::apply_jacobian`].
fn tangent_sequence_spectrum<T: Real, S: TangentSystem<T>>(
    system: &S,
    mut workspace: S::Workspace,
    mut checks: SequenceChecker<T, S::Workspace>,
    sequence: &[T],
    config: &SpectrumConfig,
) -> SequenceSpectrum {
    let (n, k, m) = (system.state_dim(), config.k, config.qr_every);
    let input_dim = system.input_dim();
    let input_at = |t: usize| &sequence[t * input_dim..(t + 1) * input_dim];

    let mut kernel = QrKernel::<T>::new(n, k);
    let mut q = Mat::<T>::identity(n, k);
    let mut y = Mat::<T>::zeros(n, k);
    let mut discarded = vec![0.0f64; k];

    for t in 0..config.warmup {
        system.step(&mut workspace, input_at(t));
        checks.after_step(system, &mut workspace, input_at(t), false);
        system.apply_jacobian(&mut workspace, q.as_ref(), y.as_mut(), config.tangent);
        let qr_now = config.warmup_style == WarmupStyle::Standard && (t + 1) % m == 0;
        if qr_now {
            kernel.orthonormalize(y.as_mut(), q.as_mut(), &mut discarded);
        } else {
            std::mem::swap(&mut q, &mut y);
        }
    }
    if config.warmup > 0 {
        y.copy_from(&q);
        kernel.orthonormalize(y.as_mut(), q.as_mut(), &mut discarded);
    }

    let first_input = match config.warmup_style {
        WarmupStyle::Standard => config.warmup,
        WarmupStyle::Paper => 0,
    };
    let mut accumulated = vec![0.0f64; k];
    let mut trace = Vec::new();
    for t in 1..=config.steps {
        system.step(&mut workspace, input_at(first_input + t - 1));
        checks.after_step(system, &mut workspace, input_at(first_input + t - 1), true);
        system.apply_jacobian(&mut workspace, q.as_ref(), y.as_mut(), config.tangent);
        if t % m == 0 || t == config.steps {
            kernel.orthonormalize(y.as_mut(), q.as_mut(), &mut accumulated);
            if config.record_trace {
                let estimate = accumulated.iter().map(|a| a / t as f64).collect();
                trace.push(TracePoint { step: t, estimate });
            }
        } else {
            std::mem::swap(&mut q, &mut y);
        }
    }
    let exponents = accumulated
        .iter()
        .map(|a| a / config.steps as f64)
        .collect();
    let checks = checks.finish(config.steps);
    SequenceSpectrum {
        exponents,
        trace,
        checks,
    }
}

/// The full spectrum with QR every step for a system with a dense Jacobian
/// ([`TangentSystem::dense_jacobian_into`]): `Q` stays in Householder form, and `J_t Q_(t-1)`
/// is `J_t` with the previous step's reflectors applied from the right, so `Q` is never formed
/// (about a third fewer flops per step than `J Q` plus forming `Q`). The extra QR after the
/// warm-up is skipped: with a QR every step `Q` is already orthonormal, and that QR would only
/// flip signs. Returns `None` when the system does not provide its dense Jacobian.
fn dense_sequence_spectrum<T: Real, S: TangentSystem<T>>(
    system: &S,
    mut workspace: S::Workspace,
    mut checks: SequenceChecker<T, S::Workspace>,
    sequence: &[T],
    config: &SpectrumConfig,
) -> Option<SequenceSpectrum> {
    let n = system.state_dim();
    let input_dim = system.input_dim();
    let mut kernel = QrKernel::<T>::new(n, n);
    let mut basis = Mat::<T>::zeros(n, n);
    let mut product = Mat::<T>::zeros(n, n);
    let mut discarded = vec![0.0f64; n];
    let mut accumulated = vec![0.0f64; n];
    let mut trace = Vec::new();
    for t in 0..config.warmup + config.steps {
        let input = &sequence[t * input_dim..(t + 1) * input_dim];
        system.step(&mut workspace, input);
        checks.after_step(system, &mut workspace, input, t + 1 > config.warmup);
        if !system.dense_jacobian_into(&mut workspace, product.as_mut(), config.tangent) {
            return None;
        }
        if t > 0 {
            kernel.apply_q_on_the_right(basis.as_ref(), product.as_mut());
        }
        let measured = t + 1 > config.warmup;
        let log_diag = if measured {
            &mut accumulated
        } else {
            &mut discarded
        };
        kernel.factor_in_place(product.as_mut(), log_diag);
        std::mem::swap(&mut basis, &mut product);
        if measured && config.record_trace {
            let step = t + 1 - config.warmup;
            let estimate = accumulated.iter().map(|a| a / step as f64).collect();
            trace.push(TracePoint { step, estimate });
        }
    }
    let exponents = accumulated
        .iter()
        .map(|a| a / config.steps as f64)
        .collect();
    let checks = checks.finish(config.steps);
    Some(SequenceSpectrum {
        exponents,
        trace,
        checks,
    })
}

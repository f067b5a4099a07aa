//! The discrete QR (Benettin) method over a batch of input sequences (docs/DESIGN.md section 2).

use crate::checks::{CheckConfig, SequenceChecks};
use crate::convergence::combine_standard_errors;
use crate::stats::{column_statistics, ColumnStatistics};
use crate::system::{Tangent, TangentSystem};
use crate::trajectory::Trajectory;
use crate::Real;
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
    #[error(
        "the trajectory of sequence {sequence} diverged: its state is not finite after step \
         {step} (counting the warm-up)"
    )]
    Diverged { sequence: usize, step: usize },
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
    /// The standard error of each time average `lambda_i` from batch means of its log
    /// growths (docs/DESIGN.md section 2, [`crate::convergence`]); `NaN` when undefined.
    pub block_se: Vec<f64>,
    /// The built-in checks of this trajectory ([`crate::checks`]).
    pub checks: SequenceChecks,
}

/// The spectrum over a batch of sequences: per sequence, and mean / sample std / sem.
#[derive(Clone, Debug, PartialEq)]
pub struct Spectrum {
    pub per_sequence: Vec<SequenceSpectrum>,
    pub statistics: ColumnStatistics,
    /// The standard error of the mean from each sequence's error over time,
    /// `sqrt(sum_b block_se_b^2) / B` ([`crate::convergence::combine_standard_errors`]).
    pub block_sem: Vec<f64>,
}

impl Spectrum {
    /// The spectrum per time unit of a system sampled every `dt` time units (a flow,
    /// docs/DESIGN.md section 2.1): every exponent, running estimate, mean, std and sem divided by
    /// `dt`, and so are the standard errors over time (`block_se`, `block_sem`). Trace points
    /// keep their step index (time `step * dt`).
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
                block_se: scale(&sequence.block_se),
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
            block_sem: scale(&self.block_sem),
        }
    }

    /// The batch of `per_sequence` trajectories: mean / std / sem over them
    /// ([`column_statistics`]) and the standard error over time of the mean (`block_sem`).
    pub fn from_sequences(per_sequence: Vec<SequenceSpectrum>) -> Spectrum {
        let rows: Vec<&[f64]> = per_sequence
            .iter()
            .map(|s| s.exponents.as_slice())
            .collect();
        let statistics = column_statistics(&rows);
        let errors: Vec<&[f64]> = per_sequence.iter().map(|s| s.block_se.as_slice()).collect();
        let block_sem = combine_standard_errors(&errors);
        Spectrum {
            per_sequence,
            statistics,
            block_sem,
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
            sequence_spectrum(system, b, start, sequence, config)
        })
        .collect::<Result<Vec<SequenceSpectrum>, SpectrumError>>()?;
    Ok(Spectrum::from_sequences(per_sequence))
}

fn validate<T: Real, S: TangentSystem<T>>(
    system: &S,
    sequences: &[&[T]],
    config: &SpectrumConfig,
) -> Result<(), SpectrumError> {
    validate_settings(system, sequences.len(), config)?;
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

/// `k`, `steps`, `qr_every` and the number of sequences.
pub(crate) fn validate_settings<T: Real, S: TangentSystem<T>>(
    system: &S,
    sequences: usize,
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
    if sequences == 0 {
        return Err(SpectrumError::NoSequences);
    }
    Ok(())
}

/// One trajectory of the QR method (the pseudo-code of docs/DESIGN.md section 2), run in one
/// go: the warm-up on inputs `0..W`, then `T` measured steps ([`Trajectory`]).
fn sequence_spectrum<T: Real, S: TangentSystem<T>>(
    system: &S,
    index: usize,
    start: Option<&[T]>,
    sequence: &[T],
    config: &SpectrumConfig,
) -> Result<SequenceSpectrum, SpectrumError> {
    let d = system.input_dim();
    let mut trajectory = Trajectory::new(system, start, config)?;
    trajectory.warm_up(system, sequence, config.warmup, config.warmup_style);
    let first_input = match config.warmup_style {
        WarmupStyle::Standard => config.warmup,
        WarmupStyle::Paper => 0,
    };
    trajectory.measure(system, &sequence[first_input * d..], config.steps);
    trajectory.check_finite(index)?;
    Ok(trajectory.finish())
}

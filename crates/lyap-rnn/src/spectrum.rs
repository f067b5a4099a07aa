//! The front door of the library: the Lyapunov spectrum of a recurrent stack driven by input
//! sequences, from weights to the JSON report of docs/DESIGN.md section 6, in one call
//! ([`compute_spectrum`]). `lyap spectrum`, `lyap train` and the Python package all call it.
//! [`compute_system_spectrum`] (`spectrum/system.rs`) does the same for a built-in dynamical
//! system (`lyap spectrum --system`), sharing the checks, the engine run and the report.

mod checks;
mod closed_loop;
mod generated;
mod system;
mod until;

use crate::arch::LstmState;
use crate::report::{trace_csv, ConfigInfo, LogBase, ModelInfo, SpectrumReport};
use crate::stack::{ClosedLoopError, Readout, RecurrentStack};
use crate::weights::{ShapeError, StackWeights};
pub use checks::Culprit;
use checks::{check_finite_weights, check_memory, check_representable, convert_inputs};
pub use generated::{GeneratedTokens, InputGenerator, ZeroInputs};
use lyap_core::memory::OutOfMemory;
use lyap_core::systems::SystemError;
use lyap_core::{
    CheckConfig, Precision, Real, Spectrum, SpectrumConfig, SpectrumError, Tangent, TangentSystem,
    WarmupStyle,
};
use std::time::Instant;
pub use system::{compute_system_spectrum, system_named, SYSTEM_STEPS};
use until::Trajectories;
pub use until::DEFAULT_MAX_STEPS;

/// Options of [`compute_spectrum`], with the defaults of docs/DESIGN.md: all exponents, no
/// warm-up, every input step after it, QR every step, full state, `f64`, natural log, no
/// trace, rayon's global pool.
#[derive(Clone, Debug, PartialEq)]
pub struct SpectrumOptions {
    /// Number of exponents; `None`: all `state_dim` of them.
    pub k: Option<usize>,
    /// Steps run before measuring (`W`).
    pub warmup: usize,
    /// Measured steps (`T`); `None`: every input step after the warm-up (all of them under
    /// `paper_compat`, whose measurement restarts from the first input).
    pub steps: Option<usize>,
    /// Re-orthonormalise every `qr_every` steps (and at the last step).
    pub qr_every: usize,
    /// `None`: [`LstmState::Full`] ([`LstmState::Hidden`] under `paper_compat`); an explicit
    /// `Full` with `paper_compat` is an error.
    pub state: Option<LstmState>,
    /// Precision of the computation; weights and inputs are converted to it.
    pub precision: Precision,
    /// `None`: [`LogBase::E`] ([`LogBase::Two`] under `paper_compat`); an explicit `E` with
    /// `paper_compat` is an error.
    pub log_base: Option<LogBase>,
    /// The paper's reference code (docs/DESIGN.md section 4): transposed Jacobian, its
    /// warm-up, log base 2, hidden state only.
    pub paper_compat: bool,
    /// Record the running estimates at every measured QR step.
    pub trace: bool,
    /// `None`: the current rayon pool; `Some(n)`: a local pool of `n` threads.
    pub threads: Option<usize>,
    /// Built-in checks (docs/DESIGN.md section 2): the sum rule (on by default) and the
    /// largest exponent by two nearby trajectories (`--check-max`; refused for a hidden-state
    /// LSTM).
    pub checks: CheckConfig,
    /// Measure in chunks until every exponent's `block_sem` (in the report's unit) is below
    /// this tolerance (docs/DESIGN.md section 2); `steps` is then the first chunk.
    pub until_converged: Option<f64>,
    /// The step limit of `until_converged` ([`DEFAULT_MAX_STEPS`]).
    pub max_steps: usize,
    /// The time step between two steps (a sampled flow, docs/DESIGN.md section 2.1): every
    /// exponent, error and check is reported per time unit (divided by `dt`), and
    /// `until_converged` is in that unit; `None`: per step.
    pub dt: Option<f64>,
    /// Run the network on its own output through this readout (docs/DESIGN.md section 2.2):
    /// each input sequence only primes the state (open loop, not measured), then the closed
    /// loop runs `warmup` steps and measures `steps` (default [`GENERATED_STEPS`]) with the
    /// tangent vectors starting afresh. An empty sequence starts from the zero state.
    pub closed_loop: Option<Readout>,
}

impl Default for SpectrumOptions {
    fn default() -> Self {
        Self {
            k: None,
            warmup: 0,
            steps: None,
            qr_every: 1,
            state: None,
            precision: Precision::F64,
            log_base: None,
            paper_compat: false,
            trace: false,
            threads: None,
            checks: CheckConfig::default(),
            until_converged: None,
            max_steps: DEFAULT_MAX_STEPS,
            dt: None,
            closed_loop: None,
        }
    }
}

/// The method settings the options resolve to (docs/DESIGN.md section 4 for `paper_compat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Method {
    pub state: LstmState,
    pub log_base: LogBase,
    pub tangent: Tangent,
    pub warmup_style: WarmupStyle,
}

impl SpectrumOptions {
    /// State, log base, tangent map and warm-up style; `paper_compat` fixes all four and
    /// conflicts with an explicit full state or natural log.
    pub fn method(&self) -> Result<Method, ComputeError> {
        if self.paper_compat {
            if self.state == Some(LstmState::Full) {
                return Err(ComputeError::PaperCompatConflict(
                    "--paper-compat uses the hidden state only; drop --state full",
                ));
            }
            if self.log_base == Some(LogBase::E) {
                return Err(ComputeError::PaperCompatConflict(
                    "--paper-compat uses log base 2; drop --log-base e",
                ));
            }
            return Ok(Method {
                state: LstmState::Hidden,
                log_base: LogBase::Two,
                tangent: Tangent::Transposed,
                warmup_style: WarmupStyle::Paper,
            });
        }
        Ok(Method {
            state: self.state.unwrap_or(LstmState::Full),
            log_base: self.log_base.unwrap_or(LogBase::E),
            tangent: Tangent::Jacobian,
            warmup_style: WarmupStyle::Standard,
        })
    }

    /// Input steps a sequence must provide for `steps` measured steps with this warm-up and
    /// warm-up style (`warmup + steps`, or `max(warmup, steps)` under `paper_compat`).
    pub fn inputs_needed(&self, style: WarmupStyle, steps: usize) -> usize {
        let mut config = SpectrumConfig::new(1, steps);
        config.warmup = self.warmup;
        config.warmup_style = style;
        config.inputs_needed()
    }
}

/// Borrowed input sequences, each row-major `[time][input_size]`; all the same length.
#[derive(Clone, Debug)]
pub enum InputBatch<'a> {
    F32(Vec<&'a [f32]>),
    F64(Vec<&'a [f64]>),
    /// `batch` sequences computed on demand, as long as the run needs (`steps` default:
    /// [`GENERATED_STEPS`]; extended by `until_converged`).
    Generated {
        batch: usize,
        generator: &'a dyn InputGenerator,
    },
}

/// Measured steps of generated inputs when `steps` is not given.
pub const GENERATED_STEPS: usize = 100;

impl InputBatch<'_> {
    /// Number of sequences.
    pub fn len(&self) -> usize {
        match self {
            InputBatch::F32(s) => s.len(),
            InputBatch::F64(s) => s.len(),
            InputBatch::Generated { batch, .. } => *batch,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values in the shortest sequence.
    fn shortest(&self) -> usize {
        match self {
            InputBatch::F32(s) => s.iter().map(|s| s.len()).min(),
            InputBatch::F64(s) => s.iter().map(|s| s.len()).min(),
            InputBatch::Generated { .. } => None,
        }
        .unwrap_or(0)
    }
}

/// What [`compute_spectrum`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct SpectrumResult {
    /// The JSON document of docs/DESIGN.md section 6 (what `lyap spectrum --out` writes).
    pub report: SpectrumReport,
    /// The engine's result in nats per step, or per time unit with `dt` (per sequence, with
    /// running estimates when `trace`).
    pub spectrum: Spectrum,
}

impl SpectrumResult {
    /// The running estimates in the report's log base, in the format of `lyap spectrum
    /// --trace` ([`trace_csv`]); only a header without `trace`.
    pub fn trace_csv(&self) -> String {
        trace_csv(&self.spectrum, self.report.config.log_base)
    }
}

/// Why [`compute_spectrum`] (or [`compute_system_spectrum`]) cannot compute a spectrum.
/// Messages are one line, the text `lyap spectrum` prints for the same mistake.
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    #[error(transparent)]
    Shape(#[from] ShapeError),
    #[error(transparent)]
    Engine(#[from] SpectrumError),
    #[error("--k {k} is out of range: it must be between 1 and the state dimension {state_dim}")]
    BadK { k: usize, state_dim: usize },
    #[error("non-finite value {value} in {culprit}")]
    NonFinite { culprit: Culprit, value: f64 },
    #[error("value {value} in {culprit} overflows {precision}")]
    Overflow {
        culprit: Culprit,
        value: f64,
        precision: &'static str,
    },
    #[error("--warmup {warmup} leaves none of the {available} input steps to measure")]
    NothingToMeasure { warmup: usize, available: usize },
    #[error("{0}")]
    PaperCompatConflict(&'static str),
    #[error(transparent)]
    OutOfMemory(#[from] OutOfMemory),
    #[error(
        "--check-max needs the full LSTM state (--state full): with the hidden state the \
         perturbation of c is held at zero, which no pair of trajectories can do"
    )]
    CheckMaxHiddenState,
    #[error("cannot build a thread pool: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
    #[error("--until-converged {0} must be a positive finite tolerance")]
    BadTolerance(f64),
    #[error("--max-steps must be at least 1")]
    BadMaxSteps,
    #[error("--dt {0} must be a positive finite time step")]
    BadDt(f64),
    /// A built-in system that does not exist, a time step it cannot take, or initial points
    /// that cannot be found on its attractor; `context` names the culprit (`--dt 0.5`).
    #[error("{}", prefixed(.context.as_deref(), .source))]
    System {
        context: Option<String>,
        #[source]
        source: SystemError,
    },
    #[error("--dt {given} differs from the time step {system} the system was built with")]
    DtMismatch { given: f64, system: f64 },
    /// An option of networks given for a built-in system ([`compute_system_spectrum`]).
    #[error("{0}")]
    NotForSystems(&'static str),
    #[error("--closed-loop: {0}")]
    ClosedLoop(#[from] ClosedLoopError),
    #[error(
        "--closed-loop is primed by given input sequences (or none): generated inputs cannot \
         prime it"
    )]
    ClosedLoopGenerated,
}

/// `context: message`, or the message alone.
fn prefixed(context: Option<&str>, message: &dyn std::fmt::Display) -> String {
    match context {
        Some(context) => format!("{context}: {message}"),
        None => message.to_string(),
    }
}

/// The Lyapunov spectrum of the stack `weights` driven by each sequence of `inputs`, with the
/// report of docs/DESIGN.md section 6.
///
/// The method is the discrete QR (Benettin) method of docs/DESIGN.md section 2: along each
/// trajectory `s_t = F(s_(t-1), x_t)`, `k` tangent vectors `Q_(t-1)` are mapped by the state
/// Jacobian `J_t` and re-orthonormalised, `Q_t R_t = J_t Q_(t-1)`, and the exponents are the
/// time averages `lambda_i = (1/T) sum_t ln|R_t[i, i]|` in nats per step (reported in
/// `log_base`), then averaged over the sequences (with standard deviation and error). See
/// G. Benettin, L. Galgani, A. Giorgilli, J.-M. Strelcyn, "Lyapunov characteristic exponents
/// for smooth dynamical systems and for Hamiltonian systems; a method for computing all of
/// them", Meccanica 15 (1980); I. Shimada, T. Nagashima, "A numerical approach to ergodic
/// problem of dissipative dynamical systems", Prog. Theor. Phys. 61 (1979); R. Vogt,
/// M. Puelma Touzel, E. Shlizerman, G. Lajoie, "On Lyapunov exponents for RNNs: understanding
/// information propagation using dynamical systems tools", Frontiers in Applied Mathematics
/// and Statistics (2022).
///
/// Weights are checked for non-finite values and cast to `options.precision` (values that
/// overflow `f32` are an error); inputs are converted only when their type differs from it.
/// The memory the run needs is checked before it starts. `report.timing` is the wall-clock
/// time of the engine run.
///
/// ```
/// use lyap_rnn::{compute_spectrum, Arch, InputBatch, SpectrumOptions, StackWeights};
///
/// // A random LSTM (input size 2, hidden size 8, one layer), two sequences of 50 steps.
/// let weights = StackWeights::<f64>::random(Arch::Lstm, 2, 8, 1, true, 0.3, 7);
/// let sequences: Vec<Vec<f64>> = (0..2)
///     .map(|b| (0..100).map(|i| ((i * 7 + b * 3) % 11) as f64 / 11.0 - 0.5).collect())
///     .collect();
/// let batch = InputBatch::F64(sequences.iter().map(Vec::as_slice).collect());
/// let options = SpectrumOptions { warmup: 10, ..SpectrumOptions::default() };
/// let result = compute_spectrum(&weights, batch, &options).unwrap();
/// let mean = &result.report.exponents.mean;
/// assert_eq!(mean.len(), 16); // all exponents of the full state (h, c)
/// assert_eq!(result.report.config.steps, 40); // every step after the warm-up
/// assert!(mean.iter().sum::<f64>() < 0.0); // a contracting network
/// ```
pub fn compute_spectrum<W: Real>(
    weights: &StackWeights<W>,
    inputs: InputBatch<'_>,
    options: &SpectrumOptions,
) -> Result<SpectrumResult, ComputeError> {
    let method = options.method()?;
    weights.validate()?;
    check_finite_weights(weights)?;
    match options.precision {
        Precision::F64 => run::<W, f64>(weights, inputs, options, method),
        Precision::F32 => run::<W, f32>(weights, inputs, options, method),
    }
}

/// [`compute_spectrum`] in precision `T`.
fn run<W: Real, T: Real>(
    weights: &StackWeights<W>,
    inputs: InputBatch<'_>,
    options: &SpectrumOptions,
    method: Method,
) -> Result<SpectrumResult, ComputeError> {
    check_representable::<W, T>(weights)?;
    let cast = weights.cast::<T>();
    let stack = RecurrentStack::new(cast, method.state)?;
    if options.checks.max_by_perturbation
        && weights.arch.has_cell_state()
        && method.state == LstmState::Hidden
    {
        return Err(ComputeError::CheckMaxHiddenState);
    }
    let state_dim = stack.state_dim();
    let k = check_settings(options, state_dim, inputs.len())?;
    let model = ModelInfo::new(weights, method.state, state_dim);
    if let Some(readout) = &options.closed_loop {
        return closed_loop::run(stack, readout, &inputs, options, method, model, k);
    }
    let steps = match (options.steps, &inputs) {
        (Some(steps), _) => steps,
        (None, InputBatch::Generated { .. }) => GENERATED_STEPS,
        (None, _) => default_steps(&inputs, weights.input_size, options.warmup, method)?,
    };
    let config = engine_config(options, method, k, steps);
    let parameters = stack.weights().parameter_count();
    check_memory::<T>(state_dim, parameters, &config, options, inputs.len())?;
    let materialized;
    let inputs = match inputs {
        InputBatch::Generated { batch, generator } if options.until_converged.is_none() => {
            let needed = config.inputs_needed();
            materialized = generated::materialize(generator, batch, needed);
            InputBatch::F64(materialized.iter().map(Vec::as_slice).collect())
        }
        inputs => inputs,
    };
    let converted = convert_inputs::<T>(&inputs, weights.input_size)?;
    let sequences: Vec<&[T]> = converted.iter().map(|s| s.as_ref()).collect();
    let trajectories = Trajectories {
        starts: None,
        inputs: &inputs,
        sequences: &sequences,
    };
    run_and_report(&stack, &trajectories, &config, options, method, model)
}

/// The checks both front doors make before anything runs; the number of exponents `k`
/// (`options.k`, default all `state_dim`) when it is in range, the batch is not empty, the
/// `until_converged` settings are valid and `dt` is a positive finite time step.
fn check_settings(
    options: &SpectrumOptions,
    state_dim: usize,
    batch: usize,
) -> Result<usize, ComputeError> {
    let k = options.k.unwrap_or(state_dim);
    if k == 0 || k > state_dim {
        return Err(ComputeError::BadK { k, state_dim });
    }
    if batch == 0 {
        return Err(SpectrumError::NoSequences.into());
    }
    until::check(options)?;
    if let Some(dt) = options.dt {
        if !(dt.is_finite() && dt > 0.0) {
            return Err(ComputeError::BadDt(dt));
        }
    }
    Ok(k)
}

/// The engine's settings for `k` exponents over `steps` measured steps.
fn engine_config(
    options: &SpectrumOptions,
    method: Method,
    k: usize,
    steps: usize,
) -> SpectrumConfig {
    SpectrumConfig {
        k,
        warmup: options.warmup,
        steps,
        qr_every: options.qr_every,
        tangent: method.tangent,
        warmup_style: method.warmup_style,
        record_trace: options.trace,
        checks: options.checks,
    }
}

/// `work` in a local pool of `threads` threads, or in the current pool when `None`.
fn in_pool<R: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> R + Send,
) -> Result<R, ComputeError> {
    Ok(match threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()?
            .install(work),
        None => work(),
    })
}

/// The shared end of both front doors: the timed engine run (all steps at once, or until
/// converged) in the requested pool, per time unit with `options.dt`, and its report for
/// `model`.
fn run_and_report<T: Real, S: TangentSystem<T>>(
    system: &S,
    trajectories: &Trajectories<'_, T>,
    config: &SpectrumConfig,
    options: &SpectrumOptions,
    method: Method,
    model: ModelInfo,
) -> Result<SpectrumResult, ComputeError> {
    let engine = || {
        let start = Instant::now();
        let run = until::run(system, trajectories, config, options, method.log_base);
        (run, start.elapsed().as_secs_f64())
    };
    let (run, seconds) = in_pool(options.threads, engine)?;
    let mut run = run?;
    if let Some(dt) = options.dt {
        run.spectrum = run.spectrum.per_time_unit(dt);
    }
    let config_info = ConfigInfo {
        batch: trajectories.batch(),
        steps: run.steps,
        warmup: options.warmup,
        qr_every: options.qr_every,
        k: config.k,
        log_base: method.log_base,
        precision: T::NAME.to_string(),
        paper_compat: options.paper_compat,
        convergence: run.convergence,
        dt: options.dt,
        closed_loop: options.closed_loop.is_some(),
    };
    let mut report = SpectrumReport::new(&run.spectrum, model, config_info, seconds);
    report.warnings.extend(run.warning);
    Ok(SpectrumResult {
        report,
        spectrum: run.spectrum,
    })
}

/// Every input step after the warm-up (all of them in the paper's style, which measures from
/// the first input again).
fn default_steps(
    inputs: &InputBatch<'_>,
    input_size: usize,
    warmup: usize,
    method: Method,
) -> Result<usize, ComputeError> {
    let available = inputs.shortest() / input_size.max(1);
    let steps = match method.warmup_style {
        WarmupStyle::Paper => available,
        WarmupStyle::Standard => available.saturating_sub(warmup),
    };
    if steps == 0 {
        return Err(ComputeError::NothingToMeasure { warmup, available });
    }
    Ok(steps)
}

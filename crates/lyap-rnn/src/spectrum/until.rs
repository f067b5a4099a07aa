//! The engine run of both front doors ([`super::compute_spectrum`] and
//! [`super::compute_system_spectrum`]): all steps at once, or measured in chunks until converged
//! (`until_converged`, docs/DESIGN.md section 2, "Error bars over time and stopping when
//! converged").

use super::generated::GeneratedSource;
use super::{ComputeError, InputBatch, SpectrumOptions};
use crate::report::{ConvergenceInfo, LogBase};
use lyap_core::{
    lyapunov_spectrum, lyapunov_spectrum_from, lyapunov_spectrum_until, FixedInputs, InputSource,
    Real, Spectrum, SpectrumConfig, SpectrumError, TangentSystem, UntilConverged,
};

/// The step limit of a run until converged when none is given.
pub const DEFAULT_MAX_STEPS: usize = 100_000;

/// What the engine ran: the spectrum, the steps measured and, for a run until converged,
/// the outcome and a warning when it stopped short of the tolerance.
pub(super) struct EngineRun {
    pub spectrum: Spectrum,
    pub steps: usize,
    pub convergence: Option<ConvergenceInfo>,
    pub warning: Option<String>,
}

/// `until_converged` is a positive finite tolerance and `max_steps` at least 1.
pub(super) fn check(options: &SpectrumOptions) -> Result<(), ComputeError> {
    if let Some(tolerance) = options.until_converged {
        if !(tolerance.is_finite() && tolerance > 0.0) {
            return Err(ComputeError::BadTolerance(tolerance));
        }
        if options.max_steps == 0 {
            return Err(ComputeError::BadMaxSteps);
        }
    }
    Ok(())
}

/// Where the trajectories of a run start and what drives them.
pub(super) struct Trajectories<'a, T> {
    /// One initial state per sequence; `None`: the system's own initial state.
    pub starts: Option<&'a [&'a [T]]>,
    /// The inputs as given (generated ones are read chunk by chunk when run until converged).
    pub inputs: &'a InputBatch<'a>,
    /// The sequences in precision `T`: none for generated inputs, empty slices for an
    /// autonomous system.
    pub sequences: &'a [&'a [T]],
}

impl<T> Trajectories<'_, T> {
    /// Number of trajectories.
    pub fn batch(&self) -> usize {
        self.inputs.len()
    }
}

/// The engine run: all `config.steps` at once, or in chunks until converged.
pub(super) fn run<T: Real, S: TangentSystem<T>>(
    system: &S,
    trajectories: &Trajectories<'_, T>,
    config: &SpectrumConfig,
    options: &SpectrumOptions,
    log_base: LogBase,
) -> Result<EngineRun, SpectrumError> {
    let (starts, sequences) = (trajectories.starts, trajectories.sequences);
    let Some(tolerance) = options.until_converged else {
        let spectrum = match starts {
            Some(starts) => lyapunov_spectrum_from(system, starts, sequences, config)?,
            None => lyapunov_spectrum(system, sequences, config)?,
        };
        return Ok(EngineRun {
            spectrum,
            steps: config.steps,
            convergence: None,
            warning: None,
        });
    };
    let rule = UntilConverged {
        tolerance,
        max_steps: options.max_steps,
    };
    let per_step = options.dt.unwrap_or(1.0);
    let reported = move |nats: f64| log_base.convert(nats) / per_step;
    let batch = trajectories.batch();
    match trajectories.inputs {
        InputBatch::Generated { generator, .. } => {
            let source = GeneratedSource {
                generator: *generator,
            };
            chunked(system, starts, batch, &source, config, &rule, &reported)
        }
        _ => {
            let source = FixedInputs {
                sequences,
                input_dim: system.input_dim(),
            };
            chunked(system, starts, batch, &source, config, &rule, &reported)
        }
    }
}

/// [`lyapunov_spectrum_until`] with `reported` converting a standard error in nats per step
/// into the report's unit, and the outcome as an [`EngineRun`].
fn chunked<T: Real, S: TangentSystem<T>, I: InputSource<T>>(
    system: &S,
    starts: Option<&[&[T]]>,
    batch: usize,
    source: &I,
    config: &SpectrumConfig,
    rule: &UntilConverged,
    reported: &(dyn Fn(f64) -> f64 + Sync),
) -> Result<EngineRun, SpectrumError> {
    let run = lyapunov_spectrum_until(system, starts, batch, source, config, rule, reported)?;
    let tolerance = rule.tolerance;
    let warning = if run.converged {
        None
    } else if run.inputs_ended {
        Some(format!(
            "not converged: the input sequences ended after {} measured steps with a block_sem \
             above {tolerance}",
            run.steps
        ))
    } else {
        Some(format!(
            "not converged: a block_sem is still above {tolerance} after --max-steps {} steps",
            run.steps
        ))
    };
    Ok(EngineRun {
        spectrum: run.spectrum,
        steps: run.steps,
        convergence: Some(ConvergenceInfo {
            until_converged: tolerance,
            max_steps: rule.max_steps,
            converged: run.converged,
        }),
        warning,
    })
}

//! The front door for the built-in dynamical systems (`lyap spectrum --system`, docs/DESIGN.md
//! section 2.1): the same engine run, checks and report as [`super::compute_spectrum`], with
//! the trajectories started from seeded points on the system's attractor instead of driven by
//! inputs.

use super::{
    check_memory, check_settings, engine_config, in_pool, run_and_report, ComputeError, InputBatch,
    Method, SpectrumOptions, SpectrumResult, Trajectories, GENERATED_STEPS,
};
use crate::arch::LstmState;
use crate::report::ModelInfo;
use lyap_core::systems::{system_by_name, BuiltinSystem, SystemError};
use lyap_core::{autonomous_inputs, Precision, Real, TangentSystem};

/// Measured steps of a built-in system when `steps` is not given: 1000 time units of a flow
/// at the default `dt = 0.01` (about 900 Lyapunov times of Lorenz-63, where the mean over 10
/// points is within about 0.5 % of the published exponents). A run until converged starts
/// with a first chunk of [`GENERATED_STEPS`] instead.
pub const SYSTEM_STEPS: usize = 100_000;

/// The built-in system `name` (one of [`lyap_core::systems::SYSTEM_NAMES`]) with time step
/// `dt` (a flow's default [`lyap_core::systems::DEFAULT_DT`] when `None`; a map takes none),
/// with errors that name the culprit as `lyap spectrum` does: `--dt 0.5: henon is a map ...`.
pub fn system_named(name: &str, dt: Option<f64>) -> Result<BuiltinSystem, ComputeError> {
    system_by_name(name, dt).map_err(|source| {
        let context = match (&source, dt) {
            (SystemError::Unknown { .. }, _) | (_, None) => None,
            (_, Some(dt)) => Some(format!("--dt {dt}")),
        };
        ComputeError::System { context, source }
    })
}

/// The Lyapunov spectrum of the built-in dynamical `system` (a map, or a flow integrated by
/// RK4 with its time step `dt`), the mean over `batch` trajectories from seeded points on its
/// attractor, with the report of docs/DESIGN.md section 6.
///
/// Each trajectory starts from one of [`BuiltinSystem::attractor_points`]`(batch, seed)`
/// (initial conditions drawn from the system's box, then run through a transient of 100 time
/// units, 1000 steps for a map; computed in `f64`, then cast to `options.precision`). The
/// method is the discrete QR method of [`super::compute_spectrum`]: with `Q_0` the first `k`
/// unit vectors, `Q_t R_t = DPhi(s_(t-1)) Q_(t-1)` along `s_t = Phi(s_(t-1))`, where `Phi` is
/// the map or one RK4 step of the flow and `DPhi` its exact Jacobian (RK4 applied to the
/// variational equation, docs/DESIGN.md section 2.1), and
///
/// `lambda_i = (1 / (T dt)) sum_(t=1..T) ln|R_t[i, i]|`
///
/// per time unit for a flow (`report.config.dt = Some(dt)`), per step for a map (`dt = 1`,
/// `config.dt = None`), in `log_base`, after `warmup` steps that align the tangent block.
/// `steps` defaults to [`SYSTEM_STEPS`] ([`GENERATED_STEPS`], the first chunk, with
/// `until_converged`: an autonomous system never runs out of inputs). The built-in checks, `k`,
/// `qr_every`, `precision`, `trace`, `threads` and `until_converged` work as for a network.
/// `options.dt` must be `None` or the system's own time step (build the system with it,
/// [`system_named`]); `paper_compat` and `state: Some(Hidden)` apply to networks only and are
/// refused ([`ComputeError::NotForSystems`]). A point whose transient diverges is
/// [`ComputeError::System`].
///
/// See G. Benettin, L. Galgani, A. Giorgilli, J.-M. Strelcyn, Meccanica 15 (1980);
/// I. Shimada, T. Nagashima, Prog. Theor. Phys. 61 (1979); E. N. Lorenz, J. Atmos. Sci. 20
/// (1963); M. Henon, Commun. Math. Phys. 50 (1976); O. E. Rossler, Phys. Lett. A 57 (1976);
/// reference exponents from J. C. Sprott, *Chaos and Time-Series Analysis* (2003): Lorenz-63
/// `0.9056, 0, -14.5723` per time unit, Kaplan-Yorke dimension `2.062`; Henon `0.41922,
/// -1.62319` nats per step.
///
/// ```
/// use lyap_rnn::{compute_system_spectrum, system_named, SpectrumOptions};
///
/// // Lorenz-63 with dt = 0.01 from 2 points on its attractor: 20 time units after a warm-up.
/// let lorenz = system_named("lorenz63", None).unwrap();
/// let options = SpectrumOptions { warmup: 500, steps: Some(2000), ..SpectrumOptions::default() };
/// let result = compute_system_spectrum(&lorenz, 2, 0, &options).unwrap();
/// let report = &result.report;
/// assert_eq!(report.model.system.as_deref(), Some("lorenz63"));
/// assert_eq!(report.config.dt, Some(0.01));
/// assert_eq!(report.config.unit(), "nats/time unit");
/// // the exponents sum to the divergence of the field, -(sigma + 1 + beta) = -13.667
/// let sum: f64 = report.exponents.mean.iter().sum();
/// assert!((sum + 41.0 / 3.0).abs() < 1e-3);
/// assert!(report.exponents.mean[0] > 0.5); // chaos
/// ```
pub fn compute_system_spectrum(
    system: &BuiltinSystem,
    batch: usize,
    seed: u64,
    options: &SpectrumOptions,
) -> Result<SpectrumResult, ComputeError> {
    if options.paper_compat {
        return Err(ComputeError::NotForSystems(
            "--paper-compat reproduces the paper's code for networks; it does not apply to \
             --system",
        ));
    }
    if options.state == Some(LstmState::Hidden) {
        return Err(ComputeError::NotForSystems(
            "--state hidden applies to LSTM networks; it does not apply to --system",
        ));
    }
    let method = options.method()?;
    let state_dim = TangentSystem::<f64>::state_dim(system);
    let k = check_settings(options, state_dim, batch)?;
    let dt = time_step(system, options.dt)?;
    let first = match options.until_converged {
        Some(_) => GENERATED_STEPS,
        None => SYSTEM_STEPS,
    };
    let options = SpectrumOptions {
        steps: Some(options.steps.unwrap_or(first)),
        dt,
        ..options.clone()
    };
    match options.precision {
        Precision::F64 => run::<f64>(system, batch, seed, &options, method, k),
        Precision::F32 => run::<f32>(system, batch, seed, &options, method, k),
    }
}

/// The time step the exponents are per: the flow's own (`given` must be `None` or equal it);
/// `None` for a map, which refuses a given one.
fn time_step(system: &BuiltinSystem, given: Option<f64>) -> Result<Option<f64>, ComputeError> {
    match (given, system.time_step()) {
        (None, own) => Ok(own),
        (Some(dt), None) => Err(ComputeError::System {
            context: Some(format!("--dt {dt}")),
            source: SystemError::TimeStepForMap {
                name: system.name().to_string(),
            },
        }),
        (Some(dt), Some(own)) if dt == own => Ok(Some(own)),
        (Some(dt), Some(own)) => Err(ComputeError::DtMismatch {
            given: dt,
            system: own,
        }),
    }
}

/// [`compute_system_spectrum`] in precision `T`, with `options.steps` and `options.dt`
/// resolved.
fn run<T: Real>(
    system: &BuiltinSystem,
    batch: usize,
    seed: u64,
    options: &SpectrumOptions,
    method: Method,
    k: usize,
) -> Result<SpectrumResult, ComputeError> {
    let config = engine_config(options, method, k, options.steps.unwrap_or(SYSTEM_STEPS));
    let state_dim = TangentSystem::<T>::state_dim(system);
    check_memory::<T>(state_dim, 0, &config, options, batch)?;
    let points = in_pool(options.threads, || {
        system.attractor_points::<f64>(batch, seed)
    })?
    .map_err(|source| ComputeError::System {
        context: Some(match options.dt {
            Some(dt) => format!("{} with --dt {dt}", system.name()),
            None => system.name().to_string(),
        }),
        source,
    })?;
    let points: Vec<Vec<T>> = points
        .iter()
        .map(|point| point.iter().map(|&value| T::of_f64(value)).collect())
        .collect();
    let starts: Vec<&[T]> = points.iter().map(Vec::as_slice).collect();
    let sequences = autonomous_inputs::<T>(batch);
    let inputs = InputBatch::F64(autonomous_inputs(batch));
    let trajectories = Trajectories {
        starts: Some(&starts),
        inputs: &inputs,
        sequences: &sequences,
    };
    let model = ModelInfo::system(system.name(), state_dim);
    run_and_report(system, &trajectories, &config, options, method, model)
}

//! The built-in forecasting task `lorenz63` (docs/DESIGN.md section 5): trajectories of the
//! Lorenz (1963) system `x' = sigma (y - x)`, `y' = x (rho - z) - y`, `z' = x y - beta z`
//! (`sigma = 10`, `rho = 28`, `beta = 8/3`) generated in-process with `lyap-core`'s RK4 flow at
//! step [`DT`] `= 0.01`, one sample per step.
//!
//! - Every trajectory starts at its own point on the attractor: a uniform draw from the
//!   field's initial region run for 100 time units
//!   ([`lyap_core::systems::attractor_points`]), seeded. Training trajectories come from
//!   `seed`, validation and held-out test trajectories from seeds derived from it.
//! - Each coordinate is normalised with the mean and population std of all training samples
//!   ([`Normalisation`]); the same map applies to validation and test data, and is stored with
//!   every checkpoint.
//! - Training and validation windows of `seq_len + 1` steps are cut from each trajectory (see
//!   [`super::window_starts`]); the network reads `x_t` and predicts `x_(t+1)` (MSE).
//! - The held-out test trajectories, [`VPT_WARMUP`] + horizon + 1 steps each, measure the
//!   closed-loop valid prediction time (`crate::forecast`) and drive the per-epoch (open-loop)
//!   spectrum.

use super::normalisation::Normalisation;
use super::{spectrum_stretches, window_starts, Dataset, SequenceSet, SpectrumInputSpec, TaskKind};
use crate::error::DataError;
use lyap_core::systems::flows::Lorenz63;
use lyap_core::systems::{system_by_name, BuiltinSystem};
use lyap_core::TangentSystem;
use rayon::prelude::*;

/// Time step of the RK4 integration and of the samples (time units per network step).
pub const DT: f64 = 0.01;
/// The largest Lyapunov exponent of Lorenz-63 per time unit, `0.9056`
/// ([`Lorenz63::EXPONENTS`]; the Lyapunov time is `1 / 0.9056 = 1.104` time units, 110 steps).
pub const LYAPUNOV_EXPONENT: f64 = Lorenz63::EXPONENTS[0];
/// Dimension of the state.
pub const DIM: usize = 3;
/// Default number of training trajectories (`--trajectories`).
pub const DEFAULT_TRAJECTORIES: usize = 40;
/// Default steps per training and validation trajectory (`--max-chars`).
pub const DEFAULT_TRAJECTORY_STEPS: usize = 4000;
/// Teacher-forced steps before a closed-loop forecast starts (2 time units).
pub const VPT_WARMUP: usize = 200;
/// The forecast horizon in Lyapunov times: the largest valid prediction time measurable.
pub const VPT_HORIZON_LYAPUNOV_TIMES: f64 = 20.0;
/// The normalised error (NRMSE) above which a forecast is no longer valid.
pub const VPT_THRESHOLD: f64 = 0.4;

const VALIDATION_SEED: u64 = 0x7661_6c69_6461_7465;
const TEST_SEED: u64 = 0x0068_656c_642d_6f75;

/// What the closed-loop evaluation of a forecasting task needs (see `crate::forecast`).
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastData {
    /// The map from physical to normalised coordinates (training statistics).
    pub normalisation: Normalisation,
    /// Time units per step.
    pub dt: f64,
    /// The true largest exponent per time unit (one Lyapunov time is `1 / lambda_1`).
    pub lyapunov_exponent: f64,
    /// Held-out trajectories in normalised coordinates, `[time][dim]` row-major, each
    /// `warmup + horizon + 1` steps.
    pub test: Vec<Vec<f64>>,
    /// Teacher-forced steps before each forecast.
    pub warmup: usize,
    /// Forecast steps compared with the truth.
    pub horizon: usize,
    /// The NRMSE threshold of the valid prediction time.
    pub threshold: f64,
}

/// The number of forecast steps covering [`VPT_HORIZON_LYAPUNOV_TIMES`]:
/// `ceil(20 / (lambda_1 dt))`.
pub fn vpt_horizon_steps() -> usize {
    (VPT_HORIZON_LYAPUNOV_TIMES / (LYAPUNOV_EXPONENT * DT)).ceil() as usize
}

/// Validation and held-out test trajectories for `trajectories` training trajectories:
/// `max(1, N / 4)` and `max(2, N / 2)`.
pub fn split_counts(trajectories: usize) -> (usize, usize) {
    ((trajectories / 4).max(1), (trajectories / 2).max(2))
}

/// `count` Lorenz-63 trajectories of `steps` samples each in physical units, `[time][3]`
/// row-major, every one starting at its own seeded point on the attractor (module
/// documentation); sample 0 is that point, sample `t` its image after `t` RK4 steps.
pub fn trajectories(count: usize, steps: usize, seed: u64) -> Result<Vec<Vec<f64>>, DataError> {
    let system = lorenz63_system()?;
    let starts = system.attractor_points::<f64>(count, seed)?;
    Ok(starts
        .par_iter()
        .map(|start| {
            let mut workspace = TangentSystem::<f64>::workspace(&system, 1);
            system.set_state(&mut workspace, start);
            let mut out = Vec::with_capacity(steps * DIM);
            for t in 0..steps {
                if t > 0 {
                    system.step(&mut workspace, &[]);
                }
                out.extend_from_slice(system.state(&workspace));
            }
            out
        })
        .collect())
}

/// Lorenz-63 with RK4 at step [`DT`].
pub fn lorenz63_system() -> Result<BuiltinSystem, DataError> {
    Ok(system_by_name("lorenz63", Some(DT))?)
}

/// The `lorenz63` data set: `trajectories` training trajectories of `steps` samples, the
/// validation and test trajectories of [`split_counts`], normalised with the training
/// statistics (module documentation).
pub fn lorenz63_dataset(
    trajectories_count: usize,
    steps: usize,
    seq_len: usize,
    seed: u64,
    spectrum: SpectrumInputSpec,
) -> Result<Dataset, DataError> {
    if trajectories_count == 0 {
        return Err(DataError::Invalid(
            "lorenz63 needs at least 1 training trajectory (--trajectories)".into(),
        ));
    }
    let (val_count, test_count) = split_counts(trajectories_count);
    let mut train = trajectories(trajectories_count, steps, seed)?;
    let mut val = trajectories(val_count, steps, seed ^ VALIDATION_SEED)?;
    let (warmup, horizon) = (VPT_WARMUP, vpt_horizon_steps());
    let mut test = trajectories(test_count, warmup + horizon + 1, seed ^ TEST_SEED)?;
    let normalisation = Normalisation::fit(&train.concat(), DIM);
    for frames in train.iter_mut().chain(&mut val).chain(&mut test) {
        normalisation.normalise(frames);
    }
    let windows_of = |split: &str, set: &[Vec<f64>]| {
        let windows: Vec<Vec<f64>> = set
            .iter()
            .flat_map(|frames| {
                window_starts(frames.len() / DIM, seq_len)
                    .map(move |s| frames[s * DIM..(s + seq_len + 1) * DIM].to_vec())
            })
            .collect();
        if windows.is_empty() {
            return Err(DataError::TooShort {
                what: format!("each {split} trajectory of lorenz63 (--max-chars)"),
                available: steps,
                needed: seq_len + 1,
            });
        }
        Ok(SequenceSet::Signals {
            seq_len,
            dim: DIM,
            windows,
        })
    };
    let train_set = windows_of("training", &train)?;
    let val_set = windows_of("validation", &val)?;
    let spectrum_inputs = spectrum_stretches(
        &test,
        |s| s.len() / DIM,
        |s, start, n| s[start * DIM..(start + n) * DIM].to_vec(),
        spectrum,
        &format!(
            "the {test_count} held-out lorenz63 trajectories of {} steps",
            warmup + horizon + 1
        ),
    )?;
    let description = format!(
        "lorenz63 (RK4, dt = {DT}, seed {seed}): {trajectories_count} training and {val_count} validation trajectories of {steps} steps ({} and {} sequences of {seq_len}), {test_count} held-out trajectories for the valid prediction time",
        train_set.len(),
        val_set.len()
    );
    Ok(Dataset {
        kind: TaskKind::Signal { dim: DIM },
        train: train_set,
        val: val_set,
        spectrum_inputs,
        description,
        forecast: Some(ForecastData {
            normalisation,
            dt: DT,
            lyapunov_exponent: LYAPUNOV_EXPONENT,
            test,
            warmup,
            horizon,
            threshold: VPT_THRESHOLD,
        }),
    })
}

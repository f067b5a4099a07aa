//! The closed loop of a `lorenz63` run's best checkpoint against Lorenz-63 itself
//! (docs/DESIGN.md sections 5 and 6): at the end of `lyap train --task lorenz63`, and by
//! `lyap report` for such a run.
//!
//! Everything is read from the run directory, so the numbers are those of the files:
//! - the closed-loop spectrum of `checkpoints/best.safetensors` through the front door
//!   ([`lyap_rnn::compute_spectrum`] with `closed_loop`), the command
//!   `lyap spectrum --model RUN/checkpoints/best.safetensors --closed-loop --dt 0.01 --k 3
//!   --warmup 2000 --steps 100000`: one zero input from the zero state, then the network on
//!   its own output ([`CLOSED_LOOP_K`], [`CLOSED_LOOP_WARMUP`], [`CLOSED_LOOP_STEPS`]), written
//!   as `closed_loop.json`;
//! - the open-loop (driven) largest exponent of the same checkpoint on `spectrum_inputs.npy`
//!   with the run's `le_warmup`, `le_steps` and `le_state` (the per-epoch spectrum's setting);
//! - both per time unit (`dt` of the checkpoint's metadata), compared with the true values in
//!   `lorenz63.json` ([`comparison`]);
//! - for the report's figure, the x-z attractors of the network and of Lorenz-63
//!   ([`attractor`]).
//!
//! A closed loop that cannot be measured (e.g. a ReLU network whose loop diverges) does not fail
//! the run: `lorenz63.json` says why, with `null` closed-loop values.

pub mod attractor;
pub mod comparison;

use crate::config::TrainConfig;
use crate::data::lorenz63::DT;
use crate::data::normalisation::{Normalisation, NormalisationError};
use crate::error::TrainError;
use crate::run_dir::{read_json, write_atomic, write_json, RunDir};
use crate::TaskName;
use comparison::{comparison_rows, ClosedLoopSettings, Lorenz63Comparison, OpenLoop};
use lyap_rnn::pytorch::readout::find_readout;
use lyap_rnn::pytorch::{load_stack, LoadOptions, PytorchError};
use lyap_rnn::report::SpectrumReport;
use lyap_rnn::{
    compute_spectrum, ComputeError, InputBatch, LstmState, Readout, SpectrumOptions, StackWeights,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Exponents of the closed-loop spectrum (fewer when the state is smaller).
pub const CLOSED_LOOP_K: usize = 3;
/// Closed-loop steps before measuring (20 time units at `dt = 0.01`).
pub const CLOSED_LOOP_WARMUP: usize = 2000;
/// Measured closed-loop steps (1000 time units at `dt = 0.01`; about 2 s for a GRU 64, about
/// 1 % of the default run's training, docs/DESIGN.md section 5).
pub const CLOSED_LOOP_STEPS: usize = 100_000;

/// Why the closed loop of a run cannot be evaluated. Messages are one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", .path.display())]
    Checkpoint {
        path: PathBuf,
        #[source]
        source: PytorchError,
    },
    #[error(transparent)]
    Normalisation(#[from] NormalisationError),
    #[error("{}: metadata dt = '{value}' is not a positive time step", .path.display())]
    BadTimeStep { path: PathBuf, value: String },
    #[error("the attractor of {}: {source}", .path.display())]
    Forecast {
        path: PathBuf,
        #[source]
        source: crate::forecast::ForecastError,
    },
    #[error("the true attractor: {0}")]
    Data(#[from] crate::error::DataError),
}

/// What a forecasting checkpoint holds: the stack (in `f64`, exact for every stored dtype),
/// its readout, the normalisation of its data, the time step and the epoch.
#[derive(Clone, Debug)]
pub struct ForecastCheckpoint {
    pub path: PathBuf,
    pub weights: StackWeights<f64>,
    pub readout: Readout,
    pub normalisation: Normalisation,
    /// Time units per step (metadata `dt`; [`DT`] when absent).
    pub dt: f64,
    /// Metadata `epoch`, if present.
    pub epoch: Option<usize>,
}

impl ForecastCheckpoint {
    /// Reads a checkpoint written by `lyap train` for a forecasting task.
    pub fn read(path: &Path) -> Result<Self, EvaluationError> {
        let bytes = std::fs::read(path).map_err(|source| EvaluationError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |source| EvaluationError::Checkpoint {
            path: path.to_path_buf(),
            source,
        };
        let loaded = load_stack::<f64>(&bytes, &LoadOptions::default()).map_err(bad)?;
        let weights = loaded.weights;
        let readout =
            find_readout(&bytes, weights.hidden_size, weights.input_size, None).map_err(bad)?;
        let normalisation = Normalisation::from_metadata(&loaded.metadata)?.ok_or_else(|| {
            NormalisationError::Missing {
                path: path.to_path_buf(),
            }
        })?;
        let dt = match loaded.metadata.get("dt") {
            None => DT,
            Some(text) => text
                .parse::<f64>()
                .ok()
                .filter(|dt| dt.is_finite() && *dt > 0.0)
                .ok_or_else(|| EvaluationError::BadTimeStep {
                    path: path.to_path_buf(),
                    value: text.clone(),
                })?,
        };
        let epoch = loaded.metadata.get("epoch").and_then(|e| e.parse().ok());
        Ok(Self {
            path: path.to_path_buf(),
            weights,
            readout,
            normalisation,
            dt,
            epoch,
        })
    }

    /// The closed-loop spectrum per time unit (module documentation): `k` =
    /// min([`CLOSED_LOOP_K`], state dimension) exponents, `warmup` and `steps` closed-loop
    /// steps from the zero state and one zero input, as `lyap spectrum --closed-loop` without
    /// `--inputs`.
    pub fn closed_loop_spectrum(
        &self,
        warmup: usize,
        steps: usize,
    ) -> Result<SpectrumReport, ComputeError> {
        let w = &self.weights;
        let per_unit = if w.arch.has_cell_state() { 2 } else { 1 };
        let state_dim = per_unit * w.hidden_size * w.num_layers();
        let options = SpectrumOptions {
            k: Some(CLOSED_LOOP_K.min(state_dim)),
            warmup,
            steps: Some(steps),
            closed_loop: Some(self.readout.clone()),
            dt: Some(self.dt),
            ..SpectrumOptions::default()
        };
        let zero = vec![0.0; self.weights.input_size];
        compute_spectrum(&self.weights, InputBatch::F64(vec![&zero]), &options)
            .map(|result| result.report)
    }

    /// The driven network's largest exponent per time unit on `inputs` (`[time][input]`
    /// row-major each, at least `warmup + steps` steps), mean over the sequences.
    pub fn open_loop_spectrum(
        &self,
        inputs: &[Vec<f64>],
        warmup: usize,
        steps: usize,
        state: LstmState,
    ) -> Result<SpectrumReport, ComputeError> {
        let options = SpectrumOptions {
            k: Some(1),
            warmup,
            steps: Some(steps),
            state: Some(state),
            dt: Some(self.dt),
            ..SpectrumOptions::default()
        };
        let sequences = inputs.iter().map(Vec::as_slice).collect();
        compute_spectrum(&self.weights, InputBatch::F64(sequences), &options)
            .map(|result| result.report)
    }
}

/// The closed-loop spectrum (`closed_loop.json`, when it could be computed) and the
/// comparison (`lorenz63.json`) of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosedLoopEvaluation {
    pub report: Option<SpectrumReport>,
    pub comparison: Lorenz63Comparison,
}

impl RunDir {
    /// `closed_loop.json`: the spectrum JSON of the best checkpoint's closed loop.
    pub fn closed_loop(&self) -> PathBuf {
        self.root.join("closed_loop.json")
    }

    /// `lorenz63.json`: the closed loop against Lorenz-63 ([`Lorenz63Comparison`]).
    pub fn lorenz63(&self) -> PathBuf {
        self.root.join("lorenz63.json")
    }

    /// Whether the run trained on `lorenz63` (its `config.json` says `"task": "lorenz63"`).
    pub fn is_lorenz63(&self) -> bool {
        let Ok(config) = self.read_config::<serde_json::Map<String, serde_json::Value>>() else {
            return false;
        };
        config.get("task").and_then(|t| t.as_str()) == Some(TaskName::Lorenz63.name())
    }

    /// The evaluation written by [`evaluate_run`]; `None` when `lorenz63.json` is absent.
    pub fn read_closed_loop_evaluation(&self) -> Result<Option<ClosedLoopEvaluation>, TrainError> {
        if !self.lorenz63().exists() {
            return Ok(None);
        }
        let comparison: Lorenz63Comparison = read_json(&self.lorenz63())?;
        let report = match comparison.closed_loop.error {
            Some(_) => None,
            None => Some(read_json(&self.closed_loop())?),
        };
        Ok(Some(ClosedLoopEvaluation { report, comparison }))
    }
}

/// Evaluates the closed loop of the best checkpoint of the `lorenz63` run in `dir`, trained
/// with `config` (module documentation), and writes `closed_loop.json` and `lorenz63.json`.
pub fn evaluate_run(
    dir: &RunDir,
    config: &TrainConfig,
) -> Result<ClosedLoopEvaluation, TrainError> {
    let start = Instant::now();
    let checkpoint = ForecastCheckpoint::read(&dir.best_checkpoint())?;
    let closed = checkpoint.closed_loop_spectrum(CLOSED_LOOP_WARMUP, CLOSED_LOOP_STEPS);
    let inputs = dir.read_spectrum_inputs()?;
    let (warmup, steps) = (config.le_warmup, config.le_steps);
    let open = match inputs.is_empty() {
        true => Err("the run has no spectrum inputs (--le-every 0)".to_string()),
        false => checkpoint
            .open_loop_spectrum(&inputs, warmup, steps, config.le_state)
            .map_err(|e| e.to_string()),
    };
    let seconds = start.elapsed().as_secs_f64();
    let relative = |path: PathBuf| {
        path.strip_prefix(&dir.root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned()
    };
    let (report, closed_error) = match closed {
        Ok(report) => (Some(report), None),
        Err(error) => (None, Some(error.to_string())),
    };
    let open_report = open.as_ref().ok();
    let comparison = Lorenz63Comparison {
        checkpoint: relative(dir.best_checkpoint()),
        epoch: checkpoint.epoch,
        dt: checkpoint.dt,
        reference: lyap_core::systems::flows::Lorenz63::REFERENCE.to_string(),
        rows: comparison_rows(report.as_ref()),
        closed_loop: ClosedLoopSettings {
            file: relative(dir.closed_loop()),
            start: "zero state".to_string(),
            k: report.as_ref().map_or(CLOSED_LOOP_K, |r| r.config.k),
            warmup: CLOSED_LOOP_WARMUP,
            steps: CLOSED_LOOP_STEPS,
            error: closed_error,
        },
        open_loop: OpenLoop {
            inputs: relative(dir.spectrum_inputs()),
            batch: inputs.len(),
            warmup,
            steps,
            lambda_1: open_report
                .and_then(|r| r.exponents.mean.first().copied())
                .filter(|v| v.is_finite()),
            sem: open_report
                .and_then(|r| r.exponents.sem.first().copied())
                .filter(|v| v.is_finite()),
            error: open.as_ref().err().cloned(),
        },
        seconds,
    };
    match &report {
        Some(report) => write_atomic(&dir.closed_loop(), report.to_json().as_bytes())?,
        None => remove_stale(&dir.closed_loop())?,
    }
    write_json(&dir.lorenz63(), &comparison)?;
    Ok(ClosedLoopEvaluation { report, comparison })
}

/// Removes a `closed_loop.json` of an earlier evaluation that this one could not replace.
fn remove_stale(path: &Path) -> Result<(), TrainError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(TrainError::Write {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

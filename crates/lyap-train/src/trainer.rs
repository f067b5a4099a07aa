//! The training loop (docs/DESIGN.md section 5) with a spectrum every epoch, writing the run
//! directory (see [`crate::run_dir`]) as it goes.
//!
//! Each epoch `e` (from 1):
//! 1. `lr = lr0 * 0.95^max(0, e - 10)`;
//! 2. the training windows are shuffled and cut into batches of `batch_size` (the last one
//!    may be smaller); for each batch: zero initial state, forward over all `seq_len` steps
//!    with fresh dropout masks, mean loss over all positions, backpropagation through the
//!    whole window (truncated BPTT per sequence), optional global norm clipping, one Adam step;
//! 3. validation loss: mean over all validation positions, no dropout; for forecasting tasks
//!    the closed-loop valid prediction time on the held-out trajectories (`crate::forecast`);
//! 4. the spectrum of the current stack on the spectrum inputs (every `le_every` epochs and at
//!    the last);
//! 5. results written: spectrum JSON, checkpoint, `best.safetensors` when the validation loss
//!    improved, `metrics.jsonl`, the resume snapshot, `status.json`.
//!
//! After the last epoch: `summary.json`; for forecasting tasks the closed loop of the best
//! checkpoint against Lorenz-63 (`crate::closed_loop`: `closed_loop.json`, `lorenz63.json`);
//! then `status.json` says `completed` (a run killed before that resumes to the same files).
//!
//! Randomness: initial weights come from `seed`; epoch `e`'s shuffling and dropout masks come
//! from a ChaCha8 stream seeded with `seed` on stream number `e`, so an epoch's random
//! numbers do not depend on earlier epochs and a resumed run needs no saved generator state.
//! `train_seconds` covers steps 2-3, `le_seconds` step 4.

use crate::closed_loop::comparison::Lorenz63Comparison;
use crate::closed_loop::evaluate_run;
use crate::config::{Precision, TrainConfig};
use crate::data::{Dataset, SequenceSet};
use crate::error::TrainError;
use crate::forecast::model_valid_prediction_time;
use crate::measure::{checkpoint_bytes, epoch_spectrum};
use crate::model::{DropoutMasks, Model, ModelShape};
use crate::optim::{learning_rate, Learner};
use crate::run_dir::{
    read_json, read_metrics, write_atomic, write_json, write_npy, EpochRecord, RunDir, RunState,
    RunStatus, RunSummary, RunWriter,
};
use crate::snapshot::{load_snapshot, save_snapshot, SnapshotState};
use lyap_core::Real;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::time::Instant;

/// Whether the loop should go on after a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// Stop now; the unfinished epoch is discarded and the run is marked `interrupted`.
    Stop,
}

/// Receives progress events (the CLI draws its progress bar from them). Every method has a
/// do-nothing default.
pub trait TrainObserver {
    /// The data is loaded; training starts at `first_epoch` of `config.epochs`.
    fn run_started(&mut self, _dataset: &Dataset, _config: &TrainConfig, _first_epoch: usize) {}
    fn epoch_started(&mut self, _epoch: usize, _batches: usize) {}
    /// After each training batch, with its mean loss.
    fn batch_finished(&mut self, _epoch: usize, _batch: usize, _loss: f64) -> Control {
        Control::Continue
    }
    fn spectrum_started(&mut self, _epoch: usize) {}
    /// Forecasting tasks: the closed-loop valid prediction time is being measured.
    fn forecast_started(&mut self, _epoch: usize) {}
    fn epoch_finished(&mut self, _record: &EpochRecord) {}
    /// Forecasting tasks, after the last epoch: the closed loop of the best checkpoint is being
    /// evaluated (`crate::closed_loop`).
    fn closed_loop_started(&mut self) {}
    /// Its comparison with Lorenz-63, as written to `lorenz63.json`.
    fn closed_loop_finished(&mut self, _comparison: &Lorenz63Comparison) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl TrainObserver for Silent {}

/// How a call to [`train`] or [`resume`] ended (divergence is an error, see
/// [`TrainError::Diverged`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Completed(RunSummary),
    Interrupted { epochs_completed: usize },
}

/// Starts a new run in `out` (which must not hold a run yet).
pub fn train(
    config: &TrainConfig,
    out: &Path,
    observer: &mut dyn TrainObserver,
) -> Result<Outcome, TrainError> {
    config.validate()?;
    let dir = RunDir::new(out);
    if dir.config().exists() {
        return Err(TrainError::RunExists {
            path: out.to_path_buf(),
        });
    }
    let dataset = config.load_dataset()?;
    RunWriter::create(out, config, Some(config.epochs))?;
    write_spectrum_inputs(&dir, &dataset)?;
    dispatch(config, &dataset, &dir, false, observer)
}

/// Saves the spectrum's driving inputs beside the run (see [`RunDir::spectrum_inputs`]).
fn write_spectrum_inputs(dir: &RunDir, dataset: &Dataset) -> Result<(), TrainError> {
    let width = dataset.kind.width() as u64;
    let sequences = &dataset.spectrum_inputs;
    let length = sequences.iter().map(Vec::len).min().unwrap_or(0) as u64 / width.max(1);
    let values: Vec<f64> = sequences
        .iter()
        .flat_map(|s| s[..(length * width) as usize].iter().copied())
        .collect();
    write_npy(
        &dir.spectrum_inputs(),
        &[sequences.len() as u64, length, width],
        &values,
    )
}

/// Continues the run in `run_dir` from its last completed epoch; `epochs` optionally changes
/// the planned number of epochs (to extend a finished run).
pub fn resume(
    run_dir: &Path,
    epochs: Option<usize>,
    observer: &mut dyn TrainObserver,
) -> Result<Outcome, TrainError> {
    let dir = RunDir::new(run_dir);
    let mut config: TrainConfig = read_json(&dir.config())?;
    if let Some(epochs) = epochs {
        config.epochs = epochs;
        write_json(&dir.config(), &config)?;
    }
    config.validate()?;
    let dataset = config.load_dataset()?;
    if !dir.spectrum_inputs().exists() {
        // the run was stopped between writing its config and its spectrum inputs
        write_spectrum_inputs(&dir, &dataset)?;
    }
    dispatch(&config, &dataset, &dir, true, observer)
}

fn dispatch(
    config: &TrainConfig,
    dataset: &Dataset,
    dir: &RunDir,
    resuming: bool,
    observer: &mut dyn TrainObserver,
) -> Result<Outcome, TrainError> {
    let result = match config.precision {
        Precision::F32 => Run::<f32>::start(config, dataset, dir, resuming)
            .and_then(|mut run| run.epochs(observer)),
        Precision::F64 => Run::<f64>::start(config, dataset, dir, resuming)
            .and_then(|mut run| run.epochs(observer)),
    };
    if let Err(error) = &result {
        let done = read_metrics(&dir.metrics()).map_or(0, |r| r.len());
        let status = RunStatus {
            status: RunState::Failed,
            reason: Some(error.to_string()),
            epochs_completed: done,
            epochs_planned: Some(config.epochs),
        };
        let _ = dir.write_status(&status);
    }
    result
}

/// A fingerprint of the data a run trains on.
fn fingerprint(dataset: &Dataset) -> String {
    format!(
        "{} | {}",
        dataset.description,
        dataset.kind.vocab_json().unwrap_or_default()
    )
}

/// The shape of the model a config trains on a data set.
pub fn model_shape(config: &TrainConfig, dataset: &Dataset) -> ModelShape {
    let width = dataset.kind.width();
    ModelShape {
        arch: config.arch,
        input_size: width,
        hidden: config.hidden,
        layers: config.layers,
        bias: config.bias,
        output_size: width,
    }
}

/// A run in progress.
struct Run<'a, T: Real> {
    config: &'a TrainConfig,
    dataset: &'a Dataset,
    /// The run directory and the epoch records so far.
    writer: RunWriter,
    learner: Learner<T>,
    best: Option<(usize, f64)>,
}

impl<'a, T: Real> Run<'a, T> {
    fn start(
        config: &'a TrainConfig,
        dataset: &'a Dataset,
        dir: &'a RunDir,
        resuming: bool,
    ) -> Result<Self, TrainError> {
        let model = Model::<T>::random(
            &model_shape(config, dataset),
            config.init_scale,
            config.seed,
        );
        let mut learner = Learner::new(model);
        let mut records = Vec::new();
        let mut best = None;
        if resuming && dir.snapshot().exists() {
            let state = load_snapshot(&dir.snapshot(), &mut learner.model, &mut learner.adam)?;
            if state.data_fingerprint != fingerprint(dataset) {
                return Err(TrainError::Resume {
                    path: dir.root.clone(),
                    reason: format!(
                        "the data changed since the run started (was: {})",
                        state.data_fingerprint
                    ),
                });
            }
            records = read_metrics(&dir.metrics())?;
            if records.len() < state.epochs_completed {
                return Err(TrainError::Resume {
                    path: dir.root.clone(),
                    reason: format!(
                        "metrics.jsonl has {} epochs, the snapshot {}",
                        records.len(),
                        state.epochs_completed
                    ),
                });
            }
            // Epochs after the snapshot were not fully recorded: they are run again.
            records.truncate(state.epochs_completed);
            best = state.best_epoch.zip(state.best_val_loss);
        }
        Ok(Self {
            config,
            dataset,
            writer: RunWriter::with_records(dir.clone(), records, Some(config.epochs)),
            learner,
            best,
        })
    }

    fn status(&self, status: RunState, reason: Option<String>) -> Result<(), TrainError> {
        self.writer.write_status(status, reason)
    }

    fn epochs(&mut self, observer: &mut dyn TrainObserver) -> Result<Outcome, TrainError> {
        let first = self.writer.records().len() + 1;
        observer.run_started(self.dataset, self.config, first);
        self.writer.write_metrics()?;
        self.status(RunState::Running, None)?;
        for epoch in first..=self.config.epochs {
            let start = Instant::now();
            let lr = learning_rate(self.config.lr, epoch);
            let Some(train_loss) = self.train_epoch(epoch, lr, observer)? else {
                self.status(RunState::Interrupted, Some("stopped on request".into()))?;
                return Ok(Outcome::Interrupted {
                    epochs_completed: self.writer.records().len(),
                });
            };
            let val_loss = self.mean_loss(&self.dataset.val);
            if !val_loss.is_finite() {
                return Err(
                    self.diverged(format!("validation loss is {val_loss} at epoch {epoch}"))
                );
            }
            let train_seconds = start.elapsed().as_secs_f64();
            let vpt = match &self.dataset.forecast {
                Some(data) => {
                    observer.forecast_started(epoch);
                    Some(model_valid_prediction_time(&self.learner.model, data)?)
                }
                None => None,
            };
            let mut record = EpochRecord {
                epoch,
                train_loss: Some(train_loss),
                val_loss: Some(val_loss),
                lr: Some(lr),
                train_seconds: Some(train_seconds),
                le_seconds: Some(0.0),
                spectrum: None,
                vpt_mean: vpt.as_ref().map(|v| v.mean),
                vpt_median: vpt.as_ref().map(|v| v.median),
            };
            self.record_epoch(&mut record, observer)?;
            observer.epoch_finished(&record);
        }
        let summary = RunSummary::of(self.writer.records())
            .ok_or_else(|| TrainError::Config("no epoch was run (--epochs 0?)".into()))?;
        write_json(&self.writer.dir().summary(), &summary)?;
        if self.dataset.forecast.is_some() {
            observer.closed_loop_started();
            let evaluation = evaluate_run(self.writer.dir(), self.config)?;
            observer.closed_loop_finished(&evaluation.comparison);
        }
        self.status(RunState::Completed, None)?;
        Ok(Outcome::Completed(summary))
    }

    /// One pass over the shuffled training windows; the mean loss over all positions, or
    /// `None` when the observer asked to stop.
    fn train_epoch(
        &mut self,
        epoch: usize,
        lr: f64,
        observer: &mut dyn TrainObserver,
    ) -> Result<Option<f64>, TrainError> {
        let train = &self.dataset.train;
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(epoch as u64);
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut rng);
        let batches: Vec<&[usize]> = order.chunks(self.config.batch_size).collect();
        observer.epoch_started(epoch, batches.len());
        let (mut loss_sum, mut positions) = (0.0, 0usize);
        let mut masks = DropoutMasks::default();
        for (index, indices) in batches.iter().enumerate() {
            let batch = train.batch::<T>(indices);
            let len = batch.seq_len * batch.batch * self.config.hidden;
            let (dropout, layers) = (self.config.dropout, self.config.layers);
            masks.resample(dropout, layers, len, &mut rng);
            let loss = self.learner.step(&batch, &masks, lr, self.config.clip);
            if !loss.is_finite() {
                return Err(self.diverged(format!(
                    "training loss is {loss} at epoch {epoch}, batch {}",
                    index + 1
                )));
            }
            let rows = batch.seq_len * batch.batch;
            loss_sum += loss * rows as f64;
            positions += rows;
            if observer.batch_finished(epoch, index + 1, loss) == Control::Stop {
                return Ok(None);
            }
        }
        Ok(Some(loss_sum / positions.max(1) as f64))
    }

    /// Mean loss over all positions of `set`, in batches of `batch_size`, without dropout.
    fn mean_loss(&mut self, set: &SequenceSet) -> f64 {
        let indices: Vec<usize> = (0..set.len()).collect();
        let (mut sum, mut positions) = (0.0, 0usize);
        for chunk in indices.chunks(self.config.batch_size) {
            let batch = set.batch::<T>(chunk);
            let rows = batch.seq_len * batch.batch;
            sum += self.learner.evaluate(&batch) * rows as f64;
            positions += rows;
        }
        sum / positions.max(1) as f64
    }

    fn diverged(&self, reason: String) -> TrainError {
        TrainError::Diverged { reason }
    }

    /// Spectrum, checkpoint, best, metrics, snapshot and status of a finished epoch.
    fn record_epoch(
        &mut self,
        record: &mut EpochRecord,
        observer: &mut dyn TrainObserver,
    ) -> Result<(), TrainError> {
        let (config, epoch) = (self.config, record.epoch);
        let measure =
            config.le_every > 0 && (epoch % config.le_every == 0 || epoch == config.epochs);
        if measure {
            observer.spectrum_started(epoch);
            let start = Instant::now();
            let (report, trace) = epoch_spectrum(
                &self.learner.model,
                &self.dataset.spectrum_inputs,
                config,
                epoch,
            )?;
            record.le_seconds = Some(start.elapsed().as_secs_f64());
            record.spectrum = Some(lyap_core::summarize(&report.exponents.mean));
            let dir = self.writer.dir();
            dir.write_spectrum(epoch, &report)?;
            if let Some(trace) = trace {
                dir.write_trace(epoch, &trace)?;
            }
        }
        let checkpoint = checkpoint_bytes(&self.learner.model, self.dataset, config, epoch)?;
        let dir = self.writer.dir();
        write_atomic(&dir.checkpoint(epoch), &checkpoint)?;
        let improved = record
            .val_loss
            .filter(|&v| self.best.is_none_or(|(_, best)| v < best));
        if let Some(val_loss) = improved {
            self.best = Some((epoch, val_loss));
            write_atomic(&dir.best_checkpoint(), &checkpoint)?;
        }
        self.writer.append_epoch(record.clone())?;
        let state = SnapshotState {
            epochs_completed: epoch,
            adam_step: self.learner.adam.step,
            best_epoch: self.best.map(|b| b.0),
            best_val_loss: self.best.map(|b| b.1),
            data_fingerprint: fingerprint(self.dataset),
        };
        save_snapshot(
            &self.writer.dir().snapshot(),
            &self.learner.model,
            &self.learner.adam,
            &state,
        )?;
        self.status(RunState::Running, None)
    }
}

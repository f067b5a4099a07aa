//! The run directory of `lyap train` (DESIGN.md section 6) and its atomic file writes.
//!
//! ```text
//! RUN_DIR/config.json                  the TrainConfig
//! RUN_DIR/status.json                  running | completed | failed | interrupted (+ reason)
//! RUN_DIR/metrics.jsonl                one EpochRecord per line
//! RUN_DIR/spectra/epoch_NNN.json       the `lyap spectrum` JSON of each measured epoch
//! RUN_DIR/spectra/trace_epoch_NNN.csv  its running estimates (`--le-trace` only)
//! RUN_DIR/checkpoints/epoch_NNN.safetensors, best.safetensors
//! RUN_DIR/state/snapshot.safetensors   everything needed to resume (see crate::snapshot)
//! RUN_DIR/summary.json                 best epoch and the Table-1 timing figure
//! ```
//! Every file is written whole to a temporary file in its destination directory, flushed to
//! disk (`fsync`) and renamed over the target, so a killed run never leaves a half-written
//! file; `metrics.jsonl` is rewritten whole each epoch for the same reason.

use crate::error::{ReadError, TrainError};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (temporary file + fsync + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let error = |source| TrainError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(error)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(error)
}

/// Serialises `value` as pretty JSON and writes it atomically.
/// Writes `values` as a float64 `.npy` array of `shape` (C order), atomically.
pub fn write_npy(path: &Path, shape: &[u64], values: &[f64]) -> Result<(), TrainError> {
    use npyz::WriterBuilder;
    let mut bytes = Vec::new();
    let mut encode = || -> std::io::Result<()> {
        let mut writer = npyz::WriteOptions::<f64>::new()
            .default_dtype()
            .shape(shape)
            .writer(&mut bytes)
            .begin_nd()?;
        writer.extend(values.iter().copied())?;
        writer.finish()
    };
    encode().map_err(|source| TrainError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(path, &bytes)
}

pub fn write_json<V: Serialize>(path: &Path, value: &V) -> Result<(), TrainError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| TrainError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    write_atomic(path, format!("{text}\n").as_bytes())
}

/// Reads a JSON file.
pub fn read_json<V: for<'de> Deserialize<'de>>(path: &Path) -> Result<V, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::read(path, e))?;
    serde_json::from_str(&text).map_err(|e| TrainError::read(path, e))
}

/// Paths inside a run directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDir {
    pub root: PathBuf,
}

impl RunDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn config(&self) -> PathBuf {
        self.root.join("config.json")
    }
    pub fn status(&self) -> PathBuf {
        self.root.join("status.json")
    }
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }
    /// The embedded inputs every epoch's spectrum is driven by, float64 `[batch, time, input]`:
    /// `lyap spectrum --model` on a checkpoint with `--inputs` this file reproduces the epoch's
    /// spectrum.
    pub fn spectrum_inputs(&self) -> PathBuf {
        self.root.join("spectrum_inputs.npy")
    }
    pub fn summary(&self) -> PathBuf {
        self.root.join("summary.json")
    }
    pub fn spectrum(&self, epoch: usize) -> PathBuf {
        self.root
            .join("spectra")
            .join(format!("epoch_{epoch:03}.json"))
    }
    pub fn trace(&self, epoch: usize) -> PathBuf {
        self.root
            .join("spectra")
            .join(format!("trace_epoch_{epoch:03}.csv"))
    }
    pub fn checkpoint(&self, epoch: usize) -> PathBuf {
        self.root
            .join("checkpoints")
            .join(format!("epoch_{epoch:03}.safetensors"))
    }
    pub fn best_checkpoint(&self) -> PathBuf {
        self.root.join("checkpoints").join("best.safetensors")
    }
    pub fn snapshot(&self) -> PathBuf {
        self.root.join("state").join("snapshot.safetensors")
    }
}

/// Where a run stands (`status.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Running,
    Completed,
    Failed,
    /// Stopped on request (e.g. Ctrl-C); `--resume` continues it.
    Interrupted,
}

/// The content of `status.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub status: RunState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Epochs whose results are on disk.
    pub epochs_completed: usize,
    pub epochs_planned: usize,
}

/// Spectrum summary features of one epoch in `metrics.jsonl` (mean spectrum, natural log).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochSpectrumSummary {
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub variance: Option<f64>,
    pub sum: Option<f64>,
    pub n_positive: usize,
    pub kaplan_yorke_dimension: Option<f64>,
}

impl From<&lyap_core::SpectrumSummary> for EpochSpectrumSummary {
    fn from(s: &lyap_core::SpectrumSummary) -> Self {
        let finite = |x: f64| x.is_finite().then_some(x);
        Self {
            max: finite(s.max),
            mean: finite(s.mean),
            min: finite(s.min),
            variance: finite(s.variance),
            sum: finite(s.sum),
            n_positive: s.n_positive,
            kaplan_yorke_dimension: finite(s.kaplan_yorke_dimension),
        }
    }
}

/// One line of `metrics.jsonl`. `spectrum` is `null` for epochs without a spectrum
/// (`--le-every`); non-finite features (diverged exponents) are `null`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    pub lr: f64,
    pub train_seconds: f64,
    pub le_seconds: f64,
    pub spectrum: Option<EpochSpectrumSummary>,
}

/// `metrics.jsonl`: one JSON object per line.
pub fn write_metrics(path: &Path, records: &[EpochRecord]) -> Result<(), TrainError> {
    let mut text = String::new();
    for record in records {
        let line = serde_json::to_string(record).map_err(|e| TrainError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
        text.push_str(&line);
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}

/// Reads `metrics.jsonl` (blank lines ignored).
pub fn read_metrics(path: &Path) -> Result<Vec<EpochRecord>, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::read(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|source| {
                TrainError::read(
                    path,
                    ReadError::JsonLine {
                        line: i + 1,
                        source,
                    },
                )
            })
        })
        .collect()
}

/// `summary.json`: the run's result. `le_fraction_to_best` is the Table-1 figure of the
/// paper: seconds spent on spectra divided by seconds spent training, both summed over
/// epochs 1..=best_epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub best_epoch: usize,
    pub best_val_loss: f64,
    pub epochs_completed: usize,
    pub train_seconds_to_best: f64,
    pub le_seconds_to_best: f64,
    pub le_fraction_to_best: Option<f64>,
    pub total_train_seconds: f64,
    pub total_le_seconds: f64,
}

impl RunSummary {
    /// The summary of `records` (at least one), best = lowest validation loss (first on ties).
    pub fn of(records: &[EpochRecord]) -> Option<Self> {
        let best = records
            .iter()
            .min_by(|a, b| a.val_loss.total_cmp(&b.val_loss))?;
        let upto = &records[..records.iter().position(|r| r.epoch == best.epoch)? + 1];
        let train: f64 = upto.iter().map(|r| r.train_seconds).sum();
        let le: f64 = upto.iter().map(|r| r.le_seconds).sum();
        Some(Self {
            best_epoch: best.epoch,
            best_val_loss: best.val_loss,
            epochs_completed: records.len(),
            train_seconds_to_best: train,
            le_seconds_to_best: le,
            le_fraction_to_best: (train > 0.0).then_some(le / train),
            total_train_seconds: records.iter().map(|r| r.train_seconds).sum(),
            total_le_seconds: records.iter().map(|r| r.le_seconds).sum(),
        })
    }
}

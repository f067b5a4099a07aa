//! The run directory (docs/DESIGN.md section 6): the one owner of its files, read and written
//! here by `lyap train`, `lyap sweep` / `lyap analyze` (lyap-experiments) and the Python
//! `Recorder`.
//!
//! ```text
//! RUN_DIR/config.json                  a JSON object: the TrainConfig, or a Recorder's dict
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
//!
//! - [`RunDir`]: the paths and the readers ([`RunDir::read_status`], [`RunDir::records`],
//!   [`RunDir::read_spectrum`], [`RunDir::read_config`]);
//! - [`RunWriter`]: the writer every producer of runs uses (config, epoch records, spectra,
//!   traces, status);
//! - [`status`]: `status.json` ([`RunStatus`]); [`metrics`]: `metrics.jsonl`
//!   ([`EpochRecord`]) and `summary.json` ([`RunSummary`]).

pub mod metrics;
pub mod status;
mod writer;

pub use metrics::{read_metrics, write_metrics, EpochRecord, RunSummary};
pub use status::{RunState, RunStatus};
pub use writer::RunWriter;

use lyap_rnn::report::SpectrumReport;
use serde::de::DeserializeOwned;

use crate::error::TrainError;
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

/// Reads a float64 `.npy` array of rank 3 written by [`write_npy`] (`[batch, time, width]`,
/// C order) as one row-major `[time][width]` vector per sequence.
pub fn read_npy_sequences(path: &Path) -> Result<Vec<Vec<f64>>, TrainError> {
    let bytes = std::fs::read(path).map_err(|e| TrainError::read(path, e))?;
    let invalid = |reason: String| {
        TrainError::read(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, reason),
        )
    };
    let file = npyz::NpyFile::new(&bytes[..]).map_err(|e| TrainError::read(path, e))?;
    let shape = file.shape().to_vec();
    if file.order() != npyz::Order::C {
        return Err(invalid("not in C order".into()));
    }
    let &[batch, time, width] = shape.as_slice() else {
        return Err(invalid(format!(
            "shape {shape:?}, expected [batch, time, width]"
        )));
    };
    let values = file
        .into_vec::<f64>()
        .map_err(|e| TrainError::read(path, e))?;
    let length = (time * width) as usize;
    if values.len() as u64 != batch * time * width {
        return Err(invalid(format!(
            "{} values for shape {shape:?}",
            values.len()
        )));
    }
    Ok(values.chunks(length.max(1)).map(<[f64]>::to_vec).collect())
}

/// Serialises `value` as pretty JSON (and a newline) and writes it atomically.
pub fn write_json<V: Serialize + ?Sized>(path: &Path, value: &V) -> Result<(), TrainError> {
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

    /// Whether the directory holds a run: a `metrics.jsonl` or a `status.json`.
    pub fn is_run(&self) -> bool {
        self.metrics().is_file() || self.status().is_file()
    }

    /// The sequences of `spectrum_inputs.npy` (none when the file holds none).
    pub fn read_spectrum_inputs(&self) -> Result<Vec<Vec<f64>>, TrainError> {
        read_npy_sequences(&self.spectrum_inputs())
    }

    /// `config.json` (any JSON object for runs not written by `lyap train`: read it as
    /// `serde_json::Map<String, serde_json::Value>`).
    pub fn read_config<C: DeserializeOwned>(&self) -> Result<C, TrainError> {
        read_json(&self.config())
    }

    /// `status.json`; `None` when there is none yet.
    pub fn read_status(&self) -> Result<Option<RunStatus>, TrainError> {
        let path = self.status();
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path).map(Some)
    }

    /// The records of `metrics.jsonl` (none when the file does not exist yet).
    pub fn records(&self) -> Result<Vec<EpochRecord>, TrainError> {
        let path = self.metrics();
        if !path.exists() {
            return Ok(vec![]);
        }
        read_metrics(&path)
    }

    /// `spectra/epoch_NNN.json`; `None` when that epoch has no spectrum.
    pub fn read_spectrum(&self, epoch: usize) -> Result<Option<SpectrumReport>, TrainError> {
        let path = self.spectrum(epoch);
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path).map(Some)
    }
}

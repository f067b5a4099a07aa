//! Hyperparameter sweeps of `lyap train` runs and the analysis of whether early Lyapunov
//! spectra predict final performance.
//!
//! - [`spec`]: the TOML sweep specification and deterministic per-trial sampling;
//! - [`sweep`]: running trials as subprocesses (workers, shards, kill-safe restarts, locks)
//!   and [`slurm`] job-array scripts;
//! - [`trials`]: reading run directories; [`features`]: spectrum features;
//! - [`stats`] and [`ridge`]: correlations, bootstrap intervals, ranks, leave-one-out ridge;
//! - [`analysis`]: correlations, early readout and convergence tables; [`figures`] and
//!   [`report`]: the figures, CSV tables and self-contained HTML report (`analyze_sweep`,
//!   `run_report`).
//!
//! This crate never prints: progress is reported through callbacks and results are returned.

pub mod analysis;
pub mod features;
pub mod figures;
mod lock;
pub mod report;
pub mod ridge;
pub mod slurm;
pub mod spec;
pub mod stats;
pub mod sweep;
pub mod tables;
pub mod trials;

use std::path::{Path, PathBuf};

/// Errors of sweeps and analysis; every message is one line naming the file or setting.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// An invalid sweep specification.
    #[error("{0}")]
    Spec(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file that exists but cannot be understood.
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("{0}")]
    Sweep(String),
    #[error(transparent)]
    Plot(#[from] lyap_plot::PlotError),
}

impl ExperimentError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn format(path: &Path, reason: impl ToString) -> Self {
        Self::Format {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }

    /// Whether the error is the user's input (exit code 2 in the CLI) rather than a failure
    /// of the machine (I/O) or of drawing.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::Spec(_) | Self::Format { .. } | Self::Sweep(_))
    }
}

pub type Result<T, E = ExperimentError> = std::result::Result<T, E>;

/// Writes `bytes` to `path` atomically (temporary sibling file + fsync + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    lyap_plot::write_atomic(path, bytes).map_err(ExperimentError::from)
}

/// Creates `dir` and its parents.
pub(crate) fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| ExperimentError::io(dir, e))
}

/// Reads and parses a JSON file.
pub(crate) fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ExperimentError::format(path, e))
}

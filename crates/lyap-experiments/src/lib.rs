//! Hyperparameter sweeps of `lyap train` runs and the analysis of whether early Lyapunov
//! spectra predict final performance.
//!
//! - [`spec`]: the TOML sweep specification and deterministic per-trial sampling;
//! - [`sweep`]: running trials as subprocesses (workers, shards, kill-safe restarts, locks)
//!   and [`slurm`] job-array scripts;
//! - [`trials`]: reading run directories (through `lyap_train::run_dir`, the owner of their
//!   format), a sweep's trials or any directory of runs; [`features`]: spectrum features;
//! - [`stats`] and [`ridge`]: correlations, bootstrap intervals, ranks, leave-one-out ridge;
//! - [`analysis`]: correlations, early readout and convergence tables; [`figures`] and
//!   [`report`]: the figures, CSV tables and self-contained HTML report (`analyze_sweep`,
//!   `run_report`; the page by [`html`]); [`cost`]: the spectra's share of the training
//!   time (Table 1); [`verdict`]: which early readout ranked the trials best, in words.
//!
//! This crate never prints: progress is reported through callbacks and results are returned.

pub mod analysis;
pub mod cost;
pub mod features;
pub mod figures;
pub mod html;
mod lock;
pub mod report;
pub mod ridge;
pub mod slurm;
pub mod spec;
pub mod stats;
pub mod sweep;
pub mod tables;
pub mod trials;
pub mod verdict;

use std::path::{Path, PathBuf};

/// Errors of sweeps and analysis; every message is one line naming the file or setting, and
/// errors of the file system and the parsers are kept as the source.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// An invalid sweep specification.
    #[error("{0}")]
    Spec(String),
    /// A sweep specification that is not TOML (the parser's message on one line).
    #[error("invalid TOML: {}", spec::one_line(&.0.to_string()))]
    Toml(#[source] toml::de::Error),
    /// An error in the specification file `path`.
    #[error("{}: {source}", .path.display())]
    SpecFile {
        path: PathBuf,
        #[source]
        source: Box<ExperimentError>,
    },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file that exists but cannot be understood.
    #[error("{}: {reason}", .path.display())]
    Format { path: PathBuf, reason: String },
    /// A JSON file that does not parse or does not have the expected fields.
    #[error("{}: {source}", .path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Sweep(String),
    #[error(transparent)]
    Plot(#[from] lyap_plot::PlotError),
    /// A run directory that lyap-train's reader (`lyap_train::run_dir`) rejects.
    #[error(transparent)]
    Run(#[from] lyap_train::TrainError),
    /// A trace CSV that its reader (`lyap_rnn::report::TraceTable`) rejects.
    #[error("{}: {source}", .path.display())]
    Trace {
        path: PathBuf,
        #[source]
        source: lyap_rnn::report::TraceError,
    },
    /// A directory to analyse that holds no run: missing, empty, or neither a sweep directory
    /// (`sweep.json`) nor a directory with run directories in it.
    #[error("{}: no runs found (expected a sweep directory or a directory of run directories)", .path.display())]
    NoRuns { path: PathBuf },
}

impl ExperimentError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn json(path: &Path, source: serde_json::Error) -> Self {
        Self::Json {
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

    /// Whether the error is the user's input (exit code 2 in the CLI): a bad spec, a
    /// malformed file, a file or directory that does not exist or may not be read; rather
    /// than a failure of the machine (other I/O) or of drawing.
    pub fn is_bad_input(&self) -> bool {
        use std::io::ErrorKind::{IsADirectory, NotADirectory, NotFound, PermissionDenied};
        match self {
            Self::Io { source, .. } => matches!(
                source.kind(),
                NotFound | PermissionDenied | NotADirectory | IsADirectory
            ),
            Self::Plot(_) => false,
            Self::Spec(_)
            | Self::Toml(_)
            | Self::SpecFile { .. }
            | Self::Format { .. }
            | Self::Json { .. }
            | Self::Sweep(_)
            | Self::NoRuns { .. }
            | Self::Trace { .. } => true,
            Self::Run(error) => matches!(
                error,
                lyap_train::TrainError::Read { .. } | lyap_train::TrainError::Evaluation(_)
            ),
        }
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
    serde_json::from_str(&text).map_err(|e| ExperimentError::json(path, e))
}

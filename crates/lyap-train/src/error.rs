//! Errors of data loading and training. Every message is one line naming the file, line,
//! value or setting at fault, so the CLI can print it as is; errors of the file system, the
//! JSON and safetensors parsers are kept as the source.

use lyap_rnn::pytorch::PytorchError;
use safetensors::SafeTensorError;
use std::path::PathBuf;

/// Why a data set cannot be loaded or cut into sequences.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not UTF-8 text (invalid byte at offset {})", .source.utf8_error().valid_up_to())]
    NotUtf8 {
        path: PathBuf,
        source: std::string::FromUtf8Error,
    },
    #[error("{path} is empty")]
    Empty { path: PathBuf },
    #[error("{path}:{line}: {found} values, but the first row has {expected}")]
    RaggedRow {
        path: PathBuf,
        line: usize,
        found: usize,
        expected: usize,
    },
    /// `source` is the parser's error, `None` for a number that is infinite or NaN.
    #[error("{path}:{line}: value {column} ('{text}') is not a finite number")]
    NotANumber {
        path: PathBuf,
        line: usize,
        column: usize,
        text: String,
        #[source]
        source: Option<std::num::ParseFloatError>,
    },
    #[error("{what} has {available} steps, too short for one sequence of {needed} (seq_len + 1)")]
    TooShort {
        what: String,
        available: usize,
        needed: usize,
    },
    #[error("missing category directory {path} (expected basketball, soccer, walking, jumping under train/ and test/)")]
    MissingCategory { path: PathBuf },
    #[error("{path} holds no .txt recordings")]
    NoRecordings { path: PathBuf },
    #[error("category '{category}' has {count} training recording(s); the 80/20 train/validation split per category needs at least 2")]
    TooFewRecordings { category: String, count: usize },
    #[error("recordings disagree on the number of columns: {path} has {found}, the first had {expected}")]
    ColumnCountMismatch {
        path: PathBuf,
        found: usize,
        expected: usize,
    },
    #[error("no dimension has a standard deviation of at least 1e-4 over the training frames")]
    NoVaryingDimension,
    #[error("the {split} split of {what} is empty (too little data for seq_len {seq_len})")]
    EmptySplit {
        split: &'static str,
        what: String,
        seq_len: usize,
    },
    #[error("task {task} needs --data PATH")]
    MissingPath { task: &'static str },
    #[error("{0}")]
    Invalid(String),
    /// A built-in system cannot generate the data (`lorenz63`).
    #[error("lorenz63 data: {0}")]
    System(#[from] lyap_core::systems::SystemError),
}

/// Why a training run cannot start, continue or finish.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("invalid setting: {0}")]
    Config(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    #[error("{path} already holds a run (config.json exists); use --resume or another --out")]
    RunExists { path: PathBuf },
    #[error("training diverged: {reason}")]
    Diverged { reason: String },
    #[error("spectrum of epoch {epoch}: {source}")]
    Spectrum {
        epoch: usize,
        source: lyap_rnn::ComputeError,
    },
    #[error(transparent)]
    OutOfMemory(#[from] lyap_core::memory::OutOfMemory),
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("cannot resume {path}: {reason}")]
    Resume { path: PathBuf, reason: String },
    /// The closed-loop forecast of a forecasting task cannot run.
    #[error("closed-loop forecast: {0}")]
    Forecast(#[from] crate::forecast::ForecastError),
    /// The closed loop of a `lorenz63` run's best checkpoint cannot be evaluated.
    #[error("closed-loop evaluation: {0}")]
    Evaluation(#[from] crate::closed_loop::EvaluationError),
    /// The snapshot of the run at `path` cannot be read.
    #[error("cannot resume {path}: {source}")]
    Snapshot {
        path: PathBuf,
        #[source]
        source: SnapshotError,
    },
}

impl TrainError {
    /// A [`TrainError::Read`] of `path`.
    pub fn read(path: &std::path::Path, source: impl Into<ReadError>) -> Self {
        TrainError::Read {
            path: path.to_path_buf(),
            source: source.into(),
        }
    }
}

/// Why a run-directory file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Line `line` (from 1) of a JSON-lines file.
    #[error("line {line}: {source}")]
    JsonLine {
        line: usize,
        #[source]
        source: serde_json::Error,
    },
}

/// Why a snapshot or the model file cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Safetensors(#[from] SafeTensorError),
    #[error(transparent)]
    State(#[from] serde_json::Error),
    #[error(transparent)]
    Stack(#[from] PytorchError),
}

/// Why a snapshot cannot be restored (the messages follow `cannot resume PATH: `).
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("corrupt snapshot: {0}")]
    Corrupt(#[from] SafeTensorError),
    #[error("bad state: {0}")]
    State(#[from] serde_json::Error),
    #[error("the snapshot has no state metadata")]
    NoState,
    #[error("the snapshot has no tensor {name}")]
    MissingTensor { name: String },
    #[error("tensor {name} has dtype {dtype}, not the run's precision {precision}")]
    WrongDtype {
        name: String,
        dtype: String,
        precision: &'static str,
    },
    #[error("the snapshot holds {found} parameters, the configured model has {expected}")]
    ParameterCount { found: usize, expected: usize },
}

//! Errors of data loading and training. Every message is one line naming the file, line,
//! value or setting at fault, so the CLI can print it as is.

use std::path::PathBuf;

/// Why a data set cannot be loaded or cut into sequences.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
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
    #[error("{path}:{line}: value {column} ('{text}') is not a finite number")]
    NotANumber {
        path: PathBuf,
        line: usize,
        column: usize,
        text: String,
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
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path} already holds a run (config.json exists); use --resume or another --out")]
    RunExists { path: PathBuf },
    #[error("training diverged: {reason}")]
    Diverged { reason: String },
    #[error("spectrum of epoch {epoch}: {reason}")]
    Spectrum { epoch: usize, reason: String },
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("cannot resume {path}: {reason}")]
    Resume { path: PathBuf, reason: String },
}

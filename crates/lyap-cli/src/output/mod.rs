//! Everything the `lyap` binary writes: the stdout summary, JSON, trace CSV and plots. Every
//! file is written atomically (temporary file in the same directory, then rename).

pub mod atomic;
pub mod json;
pub mod plot;
pub mod summary;
pub mod trace;

use crate::error::CliError;
use lyap_plot::PlotError;

/// Why an output file cannot be written (bad input, exit code 2: the path is the user's).
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The atomic write of a result file failed (the message names the path).
    #[error("cannot write {0}")]
    Write(#[source] PlotError),
    /// The plot's extension is wrong, or drawing or saving it failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
}

impl From<OutputError> for CliError {
    fn from(error: OutputError) -> Self {
        CliError::input(error)
    }
}

//! Input file formats: `.npy` arrays and safetensors models (with an optional token
//! embedding matrix), and why a file cannot be read.

pub mod model;
pub mod npy;

use crate::error::CliError;
use lyap_rnn::pytorch::PytorchError;
use std::path::PathBuf;

/// Why an input file cannot be used; every message is one line naming the file. All of these
/// are the user's input (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a valid .npy file: {source}", .path.display())]
    NpyHeader {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: cannot read data: {source}", .path.display())]
    NpyData {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}: unsupported dtype {descr}; expected float32, float64 or an integer type",
        .path.display()
    )]
    NpyDtype { path: PathBuf, descr: String },
    /// The safetensors file does not hold a usable recurrent stack or embedding.
    #[error("{}: {source}", .path.display())]
    Model {
        path: PathBuf,
        #[source]
        source: PytorchError,
    },
    /// A `torch.save` checkpoint (zip or pickle) instead of a safetensors file.
    #[error(
        "{}: a PyTorch checkpoint (torch.save), not a safetensors file; convert it once in \
         Python: safetensors.torch.save_file(torch.load(\"{}\"), \"{}\")",
        .path.display(), .path.display(), .converted.display()
    )]
    TorchCheckpoint { path: PathBuf, converted: PathBuf },
}

impl From<FormatError> for CliError {
    fn from(error: FormatError) -> Self {
        CliError::input(error)
    }
}

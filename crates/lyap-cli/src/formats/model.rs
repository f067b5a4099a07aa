//! Loading a recurrent stack, and the token embedding in front of it, from a safetensors file
//! (PyTorch state_dict names).

use crate::formats::FormatError;
use lyap_rnn::pytorch::embedding::{find_embedding, Embedding};
use lyap_rnn::pytorch::readout::find_readout;
use lyap_rnn::pytorch::{load_stack, LoadOptions, PytorchError};
use lyap_rnn::{Arch, Readout, StackWeights};
use std::path::Path;

/// A model read from disk: its weights (in `f64`, exact for every stored dtype) and the key
/// prefix they were found under.
pub struct LoadedModel {
    pub weights: StackWeights<f64>,
    pub prefix: String,
}

/// Reads `path` and extracts the recurrent stack under `prefix` (detected when `None`) with
/// architecture `arch` (metadata or shapes when `None`). Every failure names the file.
pub fn load_model(
    path: &Path,
    prefix: Option<&str>,
    arch: Option<Arch>,
) -> Result<LoadedModel, FormatError> {
    let bytes = read(path)?;
    let options = LoadOptions {
        prefix: prefix.map(str::to_string),
        arch,
    };
    let loaded = load_stack::<f64>(&bytes, &options).map_err(|e| model_error(path, &bytes, e))?;
    Ok(LoadedModel {
        weights: loaded.weights,
        prefix: loaded.prefix,
    })
}

/// The token embedding `[V, input_size]` of the model file at `path`: the tensor `key`, or the
/// one found automatically (see [`lyap_rnn::pytorch::embedding`]); `None` when there is none.
pub fn load_embedding(
    path: &Path,
    input_size: usize,
    key: Option<&str>,
) -> Result<Option<Embedding>, FormatError> {
    let bytes = read(path)?;
    find_embedding(&bytes, input_size, key).map_err(|e| model_error(path, &bytes, e))
}

/// The linear readout of the model file at `path` for a closed loop: `prefix.weight` /
/// `prefix.bias`, or the one found automatically (see [`lyap_rnn::pytorch::readout`]).
pub fn load_readout(
    path: &Path,
    hidden_size: usize,
    input_size: usize,
    prefix: Option<&str>,
) -> Result<Readout, FormatError> {
    let bytes = read(path)?;
    find_readout(&bytes, hidden_size, input_size, prefix).map_err(|e| model_error(path, &bytes, e))
}

fn read(path: &Path) -> Result<Vec<u8>, FormatError> {
    std::fs::read(path).map_err(|source| FormatError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// A file that is not safetensors but a `torch.save` checkpoint (a `.pt`/`.pth` name, a zip
/// or a pickle) gets the conversion command; any other failure names the file.
fn model_error(path: &Path, bytes: &[u8], error: PytorchError) -> FormatError {
    if matches!(error, PytorchError::Format(_)) && is_torch_checkpoint(path, bytes) {
        return FormatError::TorchCheckpoint {
            path: path.to_path_buf(),
            converted: path.with_extension("safetensors"),
        };
    }
    FormatError::Model {
        path: path.to_path_buf(),
        source: error,
    }
}

/// `.pt` / `.pth`, or the bytes of a zip archive (`torch.save` since PyTorch 1.6) or of a
/// pickle (protocol 2 to 5, older `torch.save`).
fn is_torch_checkpoint(path: &Path, bytes: &[u8]) -> bool {
    let by_name = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pt") || e.eq_ignore_ascii_case("pth"));
    let zip = bytes.starts_with(b"PK\x03\x04");
    let pickle = matches!(bytes, [0x80, 2..=5, ..]);
    by_name || zip || pickle
}

//! Loading a recurrent stack from a safetensors file (PyTorch state_dict names).

use crate::error::{CliError, CliResult};
use lyap_rnn::pytorch::{load_stack, LoadOptions};
use lyap_rnn::{Arch, StackWeights};
use std::path::Path;

/// A model read from disk: its weights (in `f64`, exact for every stored dtype) and the key
/// prefix they were found under.
pub struct LoadedModel {
    pub weights: StackWeights<f64>,
    pub prefix: String,
}

/// Reads `path` and extracts the recurrent stack under `prefix` (detected when `None`) with
/// architecture `arch` (metadata or shapes when `None`). Every failure names the file.
pub fn load_model(path: &Path, prefix: Option<&str>, arch: Option<Arch>) -> CliResult<LoadedModel> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| CliError::bad(format!("cannot read {shown}: {e}")))?;
    let options = LoadOptions {
        prefix: prefix.map(str::to_string),
        arch,
    };
    let loaded =
        load_stack::<f64>(&bytes, &options).map_err(|e| CliError::bad(format!("{shown}: {e}")))?;
    Ok(LoadedModel {
        weights: loaded.weights,
        prefix: loaded.prefix,
    })
}

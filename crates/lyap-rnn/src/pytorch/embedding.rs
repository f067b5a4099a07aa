//! The token embedding in front of a recurrent stack (`nn.Embedding`'s `weight`, `[V, D]`):
//! token `t` enters the network as row `t` of the matrix instead of a one-hot vector
//! (docs/DESIGN.md section 6).
//!
//! Found automatically as the only 2-D tensor with `D` columns (`D` the stack's input size)
//! that is neither a recurrent weight (`weight_ih_l*`, `weight_hh_l*`, `weight_hr_l*`) nor a
//! readout (a `NAME.weight` with a `NAME.bias` beside it, as `nn.Linear` has, or named `fc`,
//! `linear`, `out`, `output`, `decoder`, `head`, `lm_head`, `readout` or `classifier`);
//! when several qualify and exactly one has `emb` in its name, that one. An explicit key skips
//! the search.

use super::{decode, parse, PytorchError};
use safetensors::tensor::{SafeTensors, TensorView};

/// An embedding matrix `[vocab, dim]`, values in row-major order (`f64`, exact for every
/// supported dtype).
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    /// The tensor's name in the file.
    pub key: String,
    /// `V`: number of rows (tokens `0..V`).
    pub vocab: usize,
    /// `D`: length of a row (the stack's input size).
    pub dim: usize,
    pub values: Vec<f64>,
}

impl Embedding {
    /// Row `token` (`dim` values); `None` when `token >= vocab`.
    pub fn row(&self, token: usize) -> Option<&[f64]> {
        (token < self.vocab).then(|| &self.values[token * self.dim..(token + 1) * self.dim])
    }
}

/// The embedding of a safetensors buffer for a stack of input size `input_size`: the tensor
/// `key` when given (it must have shape `[V, input_size]`), else the one found as the module
/// documentation says; `None` when there is none (tokens are then one-hot encoded).
pub fn find_embedding(
    bytes: &[u8],
    input_size: usize,
    key: Option<&str>,
) -> Result<Option<Embedding>, PytorchError> {
    let tensors = parse(bytes)?;
    let key = match key {
        Some(key) => key.to_string(),
        None => match candidate(&tensors, input_size)? {
            Some(key) => key,
            None => return Ok(None),
        },
    };
    let view = tensors
        .tensor(&key)
        .map_err(|_| PytorchError::MissingKey { key: key.clone() })?;
    let &[vocab, dim] = view.shape() else {
        return Err(bad_shape(&key, &view, input_size));
    };
    if dim != input_size || vocab == 0 {
        return Err(bad_shape(&key, &view, input_size));
    }
    let values = decode(&key, &view)?;
    Ok(Some(Embedding {
        key,
        vocab,
        dim,
        values,
    }))
}

fn bad_shape(key: &str, view: &TensorView<'_>, input_size: usize) -> PytorchError {
    PytorchError::BadShape {
        key: key.to_string(),
        shape: view.shape().to_vec(),
        expected: format!(
            "[V, {input_size}] with V > 0 (a token embedding for input size {input_size})"
        ),
    }
}

/// The one tensor that looks like the embedding, if any (see the module documentation).
fn candidate(tensors: &SafeTensors<'_>, input_size: usize) -> Result<Option<String>, PytorchError> {
    let names = tensors.names();
    let mut candidates: Vec<String> = tensors
        .iter()
        .filter(|(_, view)| matches!(view.shape(), &[_, d] if d == input_size))
        .map(|(name, _)| name.to_string())
        .filter(|name| !is_recurrent(name) && !is_readout(name, &names))
        .collect();
    candidates.sort_unstable();
    if candidates.len() > 1 {
        let named: Vec<&String> = candidates
            .iter()
            .filter(|n| n.to_ascii_lowercase().contains("emb"))
            .collect();
        if let [only] = named[..] {
            return Ok(Some(only.clone()));
        }
        return Err(PytorchError::AmbiguousEmbedding {
            input_size,
            candidates,
        });
    }
    Ok(candidates.pop())
}

/// `weight_ih_l*`, `weight_hh_l*` or `weight_hr_l*` (any prefix, any direction).
pub(super) fn is_recurrent(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    ["weight_ih_l", "weight_hh_l", "weight_hr_l"]
        .iter()
        .any(|stem| last.starts_with(stem))
}

/// Names of readout layers (the last component before `.weight`).
const READOUTS: [&str; 9] = [
    "fc",
    "linear",
    "out",
    "output",
    "decoder",
    "head",
    "lm_head",
    "readout",
    "classifier",
];

/// `NAME.weight` with a `NAME.bias` in the file (an `nn.Linear`), or a readout by name.
fn is_readout(name: &str, names: &[&str]) -> bool {
    let Some(stem) = name.strip_suffix(".weight") else {
        return false;
    };
    let last = stem.rsplit('.').next().unwrap_or(stem);
    READOUTS.contains(&last) || names.contains(&format!("{stem}.bias").as_str())
}

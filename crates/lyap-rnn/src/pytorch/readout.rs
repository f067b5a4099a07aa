//! The linear readout a closed loop feeds back (docs/DESIGN.md section 2.2): `nn.Linear`'s
//! `NAME.weight` (`[out, n]`) and `NAME.bias` (`[out]`, optional) reading the top layer's
//! hidden state.
//!
//! Found as `fc` (`fc.weight`, or the only `*.fc.weight`), else as the only 2-D `NAME.weight`
//! of shape `[input_size, n]` that is not a recurrent weight; an explicit prefix (`--readout
//! PREFIX`) skips the search. A readout found by name is returned whatever its number of
//! rows, so that a classification head (`[vocab, n]`) is refused by
//! [`ClosedLoop::new`](crate::ClosedLoop::new) with a message naming its size.

use super::embedding::is_recurrent;
use super::{decode, parse, PytorchError};
use crate::stack::Readout;
use safetensors::tensor::SafeTensors;

/// The readout of a safetensors buffer for a stack with hidden size `hidden_size` and input
/// size `input_size`: `prefix.weight` / `prefix.bias` when `prefix` is given (a trailing dot
/// is ignored), else the one found as the module documentation says.
pub fn find_readout(
    bytes: &[u8],
    hidden_size: usize,
    input_size: usize,
    prefix: Option<&str>,
) -> Result<Readout, PytorchError> {
    let tensors = parse(bytes)?;
    let name = match prefix {
        Some(prefix) => prefix.trim_end_matches('.').to_string(),
        None => candidate(&tensors, hidden_size, input_size)?,
    };
    let weight_key = format!("{name}.weight");
    let view = tensors
        .tensor(&weight_key)
        .map_err(|_| PytorchError::MissingKey {
            key: weight_key.clone(),
        })?;
    let &[output_size, columns] = view.shape() else {
        return Err(bad_shape(&weight_key, view.shape(), hidden_size));
    };
    if columns != hidden_size || output_size == 0 {
        return Err(bad_shape(&weight_key, view.shape(), hidden_size));
    }
    let weight = decode(&weight_key, &view)?;
    let bias_key = format!("{name}.bias");
    let bias = match tensors.tensor(&bias_key) {
        Ok(view) if view.shape() == [output_size] => Some(decode(&bias_key, &view)?),
        Ok(view) => {
            return Err(PytorchError::BadShape {
                key: bias_key,
                shape: view.shape().to_vec(),
                expected: format!("[{output_size}] (the rows of {weight_key})"),
            })
        }
        Err(_) => None,
    };
    Ok(Readout {
        name,
        output_size,
        hidden_size,
        weight,
        bias,
    })
}

fn bad_shape(key: &str, shape: &[usize], hidden_size: usize) -> PytorchError {
    PytorchError::BadShape {
        key: key.to_string(),
        shape: shape.to_vec(),
        expected: format!("[out, {hidden_size}] (a linear readout of hidden size {hidden_size})"),
    }
}

/// The prefix of the one tensor that looks like the readout (module documentation).
fn candidate(
    tensors: &SafeTensors<'_>,
    hidden_size: usize,
    input_size: usize,
) -> Result<String, PytorchError> {
    let names = tensors.names();
    if names.contains(&"fc.weight") {
        return Ok("fc".to_string());
    }
    let named: Vec<&str> = names
        .iter()
        .filter_map(|name| name.strip_suffix(".fc.weight"))
        .collect();
    if let [only] = named[..] {
        return Ok(format!("{only}.fc"));
    }
    let mut candidates: Vec<String> = tensors
        .iter()
        .filter(|(name, view)| {
            view.shape() == [input_size, hidden_size]
                && name.ends_with(".weight")
                && !is_recurrent(name)
        })
        .filter_map(|(name, _)| name.strip_suffix(".weight").map(str::to_string))
        .collect();
    candidates.sort_unstable();
    match candidates.len() {
        0 => Err(PytorchError::NoReadout {
            input_size,
            hidden_size,
        }),
        1 => Ok(candidates.remove(0)),
        _ => Err(PytorchError::AmbiguousReadout {
            input_size,
            hidden_size,
            candidates,
        }),
    }
}

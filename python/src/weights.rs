//! The network of a spectrum: a `.safetensors` file or a mapping of PyTorch state_dict names to
//! numpy arrays, both read by `lyap_rnn::pytorch::load_stack` (prefix and architecture found as
//! `lyap spectrum --model` finds them: docs/DESIGN.md section 6).
//!
//! A mapping is packed into an in-memory safetensors buffer so that the key parsing, shape and
//! value checks and their messages are the library's own. Only tensors whose names look
//! recurrent (`weight_ih_l*`, `weight_hh_l*`, `bias_ih_l*`, `bias_hh_l*`, `weight_hr_l*`) carry
//! their values; every other key (an embedding, a readout) is kept by name only, so that prefix
//! detection and its messages see the whole state_dict without copying large tensors.

use crate::errors::{as_array, BindingError};
use lyap_rnn::pytorch::readout::find_readout;
use lyap_rnn::pytorch::{load_stack, LoadOptions};
use lyap_rnn::{Arch, Readout, StackWeights};
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use numpy::{PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use safetensors::tensor::{Dtype, TensorView};

/// The stack under `prefix` / `arch` (detected when `None`) of `source`: a path (`str`) or a
/// dict of names to numpy arrays. Returns the weights and the prefix they were found under.
pub fn load(
    source: &Bound<'_, PyAny>,
    arch: Option<&str>,
    prefix: Option<&str>,
) -> Result<(StackWeights<f64>, String), BindingError> {
    let arch = arch
        .map(|a| a.parse::<Arch>())
        .transpose()
        .map_err(|e| BindingError::value(e.to_string()))?;
    let options = LoadOptions {
        prefix: prefix.map(str::to_string),
        arch,
    };
    let (bytes, context) = source_bytes(source, is_recurrent)?;
    let loaded = load_stack::<f64>(&bytes, &options)
        .map_err(|source| BindingError::Weights { context, source })?;
    Ok((loaded.weights, loaded.prefix))
}

/// The readout of a closed loop (docs/DESIGN.md section 2.2) for `weights`: `readout` a tuple
/// `(weight [out, n], bias [out] or None)` of float64 arrays, else found in `source` under the
/// prefix `readout` (a string) or as `lyap_rnn::pytorch::readout` finds it (`None`).
pub fn readout(
    source: &Bound<'_, PyAny>,
    weights: &StackWeights<f64>,
    readout: Option<&Bound<'_, PyAny>>,
) -> Result<Readout, BindingError> {
    let (n, d) = (weights.hidden_size, weights.input_size);
    if let Some(pair) = readout.and_then(|r| r.cast::<PyTuple>().ok()) {
        return given_readout(pair);
    }
    let prefix = match readout {
        None => None,
        Some(r) => Some(r.extract::<String>().map_err(|_| {
            BindingError::type_error(
                "readout must be None, a key prefix (str), a torch.nn.Linear or a (weight, bias) \
                 pair",
            )
        })?),
    };
    let (bytes, context) = source_bytes(source, |name| !is_recurrent(name))?;
    find_readout(&bytes, n, d, prefix.as_deref())
        .map_err(|source| BindingError::Weights { context, source })
}

/// The safetensors bytes of `source` and the context its errors start with: a path's file as
/// it is (`"PATH: "`), or a dict of names to numpy arrays packed with the values of the tensors
/// `keep` names ([`pack_values`]; no context).
fn source_bytes(
    source: &Bound<'_, PyAny>,
    keep: impl Fn(&str) -> bool,
) -> Result<(Vec<u8>, String), BindingError> {
    if let Ok(path) = source.cast::<PyString>() {
        let path = path.to_string();
        let bytes = std::fs::read(&path)
            .map_err(|e| BindingError::value(format!("cannot read {path}: {e}")))?;
        return Ok((bytes, format!("{path}: ")));
    }
    let dict = source.cast::<PyDict>().map_err(|_| {
        BindingError::type_error(
            "model must be a torch.nn.RNN/LSTM/GRU, a state_dict-like mapping or a path to a \
             .safetensors file",
        )
    })?;
    Ok((pack_values(dict, keep)?, String::new()))
}

/// A readout given as `(weight, bias or None)` (float64 numpy arrays, converted by
/// `lyap/_convert.py`).
fn given_readout(pair: &Bound<'_, PyTuple>) -> Result<Readout, BindingError> {
    let bad = || {
        BindingError::type_error(
            "readout=(weight, bias) needs a float64 array [out, hidden] and a float64 array [out] \
             or None",
        )
    };
    if pair.len() != 2 {
        return Err(bad());
    }
    let weight_item = pair.get_item(0).map_err(|_| bad())?;
    let weight = weight_item
        .cast::<PyArrayDyn<f64>>()
        .map_err(|_| bad())?
        .readonly();
    let &[output_size, hidden_size] = weight.shape() else {
        return Err(BindingError::value(format!(
            "readout weight has shape {:?}; expected [out, hidden]",
            weight.shape()
        )));
    };
    let bias_item = pair.get_item(1).map_err(|_| bad())?;
    let bias = if bias_item.is_none() {
        None
    } else {
        let bias = bias_item
            .cast::<PyArrayDyn<f64>>()
            .map_err(|_| bad())?
            .readonly();
        if bias.shape() != [output_size] {
            return Err(BindingError::value(format!(
                "readout bias has shape {:?}; expected [{output_size}] (the rows of its weight)",
                bias.shape()
            )));
        }
        Some(bias.as_array().iter().copied().collect())
    };
    Ok(Readout {
        name: "(given)".to_string(),
        output_size,
        hidden_size,
        weight: weight.as_array().iter().copied().collect(),
        bias,
    })
}

/// Whether a key's last component names a recurrent parameter that `load_stack` may read.
fn is_recurrent(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    [
        "weight_ih_l",
        "weight_hh_l",
        "bias_ih_l",
        "bias_hh_l",
        "weight_hr_l",
    ]
    .iter()
    .any(|stem| last.starts_with(stem))
}

/// The safetensors bytes of `dict` (names to numpy arrays), little-endian as the format wants,
/// with the values of the tensors `keep` names (the others by name and an empty `U8`
/// placeholder only).
fn pack_values(
    dict: &Bound<'_, PyDict>,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<u8>, BindingError> {
    let mut entries: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::with_capacity(dict.len());
    for (key, value) in dict.iter() {
        let name: String = key
            .extract()
            .map_err(|_| BindingError::type_error("state_dict keys must be strings"))?;
        let array = as_array(&value, &name)?;
        if !keep(&name) {
            entries.push((name, Dtype::U8, vec![0], Vec::new()));
            continue;
        }
        let (dtype, bytes) = tensor_bytes(&name, array)?;
        entries.push((name, dtype, array.shape().to_vec(), bytes));
    }
    let views = entries
        .iter()
        .map(|(name, dtype, shape, data)| {
            TensorView::new(*dtype, shape.clone(), data)
                .map(|view| (name.clone(), view))
                .map_err(|e| BindingError::value(format!("{name}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, None).map_err(|e| BindingError::value(e.to_string()))
}

/// The dtype and little-endian bytes of one array. Float arrays keep their values; any other
/// kind (integers, booleans) is passed as its safetensors dtype so that `load_stack` names the
/// key and dtype in its own message (a `TypeError` here).
fn tensor_bytes(
    name: &str,
    array: &Bound<'_, PyUntypedArray>,
) -> Result<(Dtype, Vec<u8>), BindingError> {
    let descr = array.dtype();
    let (kind, size) = (descr.kind(), descr.itemsize());
    let len = array.len();
    if kind == b'f' && size == 8 {
        let values = readonly::<f64>(array)?;
        return Ok((
            Dtype::F64,
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ));
    }
    if kind == b'f' && size == 4 {
        let values = readonly::<f32>(array)?;
        return Ok((
            Dtype::F32,
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ));
    }
    let dtype = match (kind, size) {
        (b'i', 1) => Dtype::I8,
        (b'i', 2) => Dtype::I16,
        (b'i', 4) => Dtype::I32,
        (b'i', 8) => Dtype::I64,
        (b'u', 1) => Dtype::U8,
        (b'u', 2) => Dtype::U16,
        (b'u', 4) => Dtype::U32,
        (b'u', 8) => Dtype::U64,
        (b'b', 1) => Dtype::BOOL,
        _ => {
            return Err(BindingError::type_error(format!(
                "{name} has numpy dtype {}; supported dtypes are float32, float64 (float16 and \
                 bfloat16 are converted to float32)",
                descr
            )))
        }
    };
    Ok((dtype, vec![0; len * size]))
}

/// The values of a float array in C order (copied when it is not C-contiguous).
fn readonly<T: numpy::Element + Copy>(
    array: &Bound<'_, PyUntypedArray>,
) -> Result<Vec<T>, BindingError> {
    let typed = array
        .cast::<PyArrayDyn<T>>()
        .map_err(|e| BindingError::type_error(e.to_string()))?;
    let view: PyReadonlyArrayDyn<'_, T> = typed.readonly();
    Ok(view.as_array().iter().copied().collect())
}

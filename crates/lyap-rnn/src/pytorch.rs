//! PyTorch interoperability: recurrent-stack weights in safetensors files (bytes in, bytes out).
//!
//! A PyTorch `nn.RNN` / `nn.LSTM` / `nn.GRU` state_dict holds, for each layer `k`,
//! `weight_ih_l{k}` (`G n x m`), `weight_hh_l{k}` (`G n x n`) and optionally `bias_ih_l{k}`,
//! `bias_hh_l{k}` (`G n`), where `G` is the number of gate blocks (4 LSTM, 3 GRU, 1 RNN).
//! Inside a larger module they sit under a prefix such as `rnn.`; other keys (a readout
//! `fc.weight`, an embedding, ...) are ignored ([`embedding`] reads a token embedding,
//! [`readout`] the linear readout a closed loop feeds back).
//! [`load_stack`] finds the prefix, infers the architecture from the shapes (or metadata),
//! checks every shape and value and returns a [`StackWeights`]. [`save_stack`] writes the same
//! names back, with optional extra tensors and metadata, so that
//! `torch.nn.LSTM.load_state_dict` and `lyap spectrum --model` both read it. Bidirectional
//! layers (`*_reverse`) and LSTMs with a projection (`proj_size`, `weight_hr_l*`) are refused.

use crate::arch::Arch;
use crate::weights::{LayerWeights, ShapeError, StackWeights};
use faer::Mat;
use lyap_core::Real;
use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};
use std::collections::{BTreeSet, HashMap};

pub mod embedding;
pub mod readout;

/// Why a safetensors buffer does not hold a usable recurrent stack. Every message is one line
/// naming the key, shape or value at fault; errors of the safetensors crate are kept as the
/// source.
#[derive(Debug, thiserror::Error)]
pub enum PytorchError {
    #[error("not a valid safetensors file (truncated or corrupt?): {0}")]
    Format(#[source] SafeTensorError),
    #[error("no recurrent weights found (no key ending in weight_hh_l0); keys present: {keys}")]
    NoRecurrentKeys { keys: String },
    #[error("recurrent weights found under several prefixes: {}; choose one explicitly (--prefix)", .candidates.join(", "))]
    AmbiguousPrefix { candidates: Vec<String> },
    #[error("no key {prefix}weight_hh_l0; prefixes with recurrent weights: {}", .candidates.join(", "))]
    PrefixNotFound {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("missing key {key}")]
    MissingKey { key: String },
    #[error("{key} has shape {shape:?}, expected {expected}")]
    BadShape {
        key: String,
        shape: Vec<usize>,
        expected: String,
    },
    #[error("{key} has dtype {dtype}; supported dtypes are F32, F64, F16, BF16")]
    UnsupportedDtype { key: String, dtype: String },
    #[error("{key} holds a non-finite value {value} at flat index {index}")]
    NonFinite {
        key: String,
        index: usize,
        value: f64,
    },
    #[error(
        "metadata '{key}' = '{value}' is not a known architecture (lstm, gru, rnn-tanh, rnn-relu)"
    )]
    MetadataArch { key: String, value: String },
    #[error("{key}: bidirectional recurrent layers are not supported")]
    Bidirectional { key: String },
    /// An LSTM with `proj_size > 0`: its `weight_hr_l{k}` projects `h` to a smaller size.
    #[error("{key}: LSTMs with a projection (proj_size > 0, keys weight_hr_l*) are not supported")]
    Projection { key: String },
    /// Several tensors could be the token embedding (see [`embedding`]).
    #[error("several tensors could be the token embedding [V, {input_size}]: {}; choose one (--embedding KEY)", .candidates.join(", "))]
    AmbiguousEmbedding {
        input_size: usize,
        candidates: Vec<String>,
    },
    /// No readout for a closed loop (see [`readout`]).
    #[error("no readout found: no fc.weight and no other [{input_size}, {hidden_size}] linear map (NAME.weight) from the hidden state to the input; name one with --readout PREFIX")]
    NoReadout {
        input_size: usize,
        hidden_size: usize,
    },
    /// Several tensors could be the readout (see [`readout`]).
    #[error("several linear maps [{input_size}, {hidden_size}] could be the readout: {}; choose one (--readout PREFIX)", .candidates.join(", "))]
    AmbiguousReadout {
        input_size: usize,
        hidden_size: usize,
        candidates: Vec<String>,
    },
    #[error("cannot write safetensors: {0}")]
    InvalidWeights(#[source] ShapeError),
    #[error("cannot write safetensors: {name} has shape {shape:?} but {len} values")]
    ExtraLength {
        name: String,
        shape: Vec<usize>,
        len: usize,
    },
    #[error("cannot write safetensors: {name}: {source}")]
    WriteTensor {
        name: String,
        #[source]
        source: SafeTensorError,
    },
    #[error("cannot write safetensors: {0}")]
    Write(#[source] SafeTensorError),
}

/// Two errors are equal when they are the same kind of error with the same message (the
/// safetensors sources have no equality of their own).
impl PartialEq for PytorchError {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.to_string() == other.to_string()
    }
}

/// How to read a file: an explicit prefix and/or architecture, or `None` to detect them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Key prefix such as `rnn` or `rnn.` (a trailing dot is added when missing); `""` means
    /// the keys have no prefix.
    pub prefix: Option<String>,
    /// Architecture; when `None`, taken from the metadata (`arch`, `nonlinearity`) or else
    /// inferred from the shapes (`4n` rows: LSTM, `3n`: GRU, `n`: tanh RNN).
    pub arch: Option<Arch>,
}

/// A stack read from a safetensors buffer, with the prefix its keys had and the file metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedStack<T: Real> {
    pub weights: StackWeights<T>,
    pub prefix: String,
    pub metadata: HashMap<String, String>,
}

/// Precision of the tensors [`save_stack`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveDtype {
    F32,
    F64,
}

/// A tensor written next to the stack (e.g. a readout `fc.weight` of shape `[out, n]`),
/// values in row-major order. Its name is written as given (no prefix is added).
#[derive(Clone, Debug, PartialEq)]
pub struct ExtraTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

const HH: &str = "weight_hh_l";
/// The projection of an LSTM with `proj_size > 0` (not supported).
const HR: &str = "weight_hr_l";

/// Reads the recurrent stack of a safetensors buffer (see the module documentation).
pub fn load_stack<T: Real>(
    bytes: &[u8],
    options: &LoadOptions,
) -> Result<LoadedStack<T>, PytorchError> {
    let tensors = parse(bytes)?;
    let metadata = read_metadata(bytes)?;
    let names: Vec<&str> = tensors.names();
    let prefix = choose_prefix(&names, options.prefix.as_deref())?;
    let layers = layer_count(&names, &prefix)?;

    let get = |name: String| {
        let key = format!("{prefix}{name}");
        tensors.tensor(&key).ok().map(|view| (key, view))
    };
    let require = |name: String| {
        let key = format!("{prefix}{name}");
        get(name).ok_or(PytorchError::MissingKey { key })
    };

    let (hh0_key, hh0) = require(format!("{HH}0"))?;
    let (ih0_key, ih0) = require("weight_ih_l0".into())?;
    let hh0_shape = matrix_shape(&hh0_key, &hh0)?;
    let ih0_shape = matrix_shape(&ih0_key, &ih0)?;
    let arch = match options.arch {
        Some(arch) => arch,
        None => match metadata_arch(&metadata)? {
            Some(arch) => arch,
            None => infer_arch(&hh0_key, hh0_shape)?,
        },
    };
    let hidden = hh0_shape[1];
    let input_size = ih0_shape[1];
    let g = arch.gates() * hidden;

    let mut stack_layers = Vec::with_capacity(layers);
    for l in 0..layers {
        let m = if l == 0 { input_size } else { hidden };
        let (ih_key, ih) = require(format!("weight_ih_l{l}"))?;
        let (hh_key, hh) = require(format!("{HH}{l}"))?;
        let weight_ih = read_matrix(&ih_key, &ih, [g, m], arch)?;
        let weight_hh = read_matrix(&hh_key, &hh, [g, hidden], arch)?;
        let bias_ih = get(format!("bias_ih_l{l}"));
        let bias_hh = get(format!("bias_hh_l{l}"));
        let (bias_ih, bias_hh) = match (bias_ih, bias_hh) {
            (Some((ki, bi)), Some((kh, bh))) => (
                Some(read_vector(&ki, &bi, g, arch)?),
                Some(read_vector(&kh, &bh, g, arch)?),
            ),
            (None, None) => (None, None),
            (Some(_), None) => {
                return Err(PytorchError::MissingKey {
                    key: format!("{prefix}bias_hh_l{l}"),
                })
            }
            (None, Some(_)) => {
                return Err(PytorchError::MissingKey {
                    key: format!("{prefix}bias_ih_l{l}"),
                })
            }
        };
        stack_layers.push(LayerWeights {
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
        });
    }
    let weights = StackWeights {
        arch,
        hidden_size: hidden,
        input_size,
        layers: stack_layers,
    };
    Ok(LoadedStack {
        weights,
        prefix,
        metadata,
    })
}

/// Reads any one tensor (e.g. a readout `fc.weight`) as `f64` values in row-major order, with
/// its shape. Same dtype and finiteness checks as [`load_stack`].
pub fn read_tensor(bytes: &[u8], key: &str) -> Result<(Vec<usize>, Vec<f64>), PytorchError> {
    let tensors = parse(bytes)?;
    let view = tensors.tensor(key).map_err(|_| PytorchError::MissingKey {
        key: key.to_string(),
    })?;
    Ok((view.shape().to_vec(), decode(key, &view)?))
}

/// The safetensors bytes of `weights` under `prefix` (e.g. `"rnn."`, or `""`), with PyTorch's
/// state_dict names, followed by `extra` tensors and `metadata`. The metadata always carries
/// `arch` (the [`Arch::name`]) and, for vanilla RNNs, `nonlinearity` (`tanh` / `relu`).
pub fn save_stack<T: Real>(
    weights: &StackWeights<T>,
    prefix: &str,
    extra: &[ExtraTensor],
    metadata: &HashMap<String, String>,
    dtype: SaveDtype,
) -> Result<Vec<u8>, PytorchError> {
    weights.validate().map_err(PytorchError::InvalidWeights)?;
    let mut entries: Vec<(String, Vec<usize>, Vec<f64>)> = Vec::new();
    let matrix = |m: &Mat<T>| -> Vec<f64> {
        (0..m.nrows())
            .flat_map(|r| (0..m.ncols()).map(move |c| m[(r, c)].as_f64()))
            .collect()
    };
    let vector = |v: &[T]| -> Vec<f64> { v.iter().map(|x| x.as_f64()).collect() };
    for (l, layer) in weights.layers.iter().enumerate() {
        let (ih, hh) = (&layer.weight_ih, &layer.weight_hh);
        entries.push((
            format!("{prefix}weight_ih_l{l}"),
            vec![ih.nrows(), ih.ncols()],
            matrix(ih),
        ));
        entries.push((
            format!("{prefix}{HH}{l}"),
            vec![hh.nrows(), hh.ncols()],
            matrix(hh),
        ));
        if let (Some(bi), Some(bh)) = (&layer.bias_ih, &layer.bias_hh) {
            entries.push((format!("{prefix}bias_ih_l{l}"), vec![bi.len()], vector(bi)));
            entries.push((format!("{prefix}bias_hh_l{l}"), vec![bh.len()], vector(bh)));
        }
    }
    for tensor in extra {
        if tensor.shape.iter().product::<usize>() != tensor.values.len() {
            return Err(PytorchError::ExtraLength {
                name: tensor.name.clone(),
                shape: tensor.shape.clone(),
                len: tensor.values.len(),
            });
        }
        entries.push((
            tensor.name.clone(),
            tensor.shape.clone(),
            tensor.values.clone(),
        ));
    }
    let encoded: Vec<(String, Vec<usize>, Vec<u8>)> = entries
        .into_iter()
        .map(|(name, shape, values)| (name, shape, encode(&values, dtype)))
        .collect();
    let st_dtype = match dtype {
        SaveDtype::F32 => Dtype::F32,
        SaveDtype::F64 => Dtype::F64,
    };
    let views = encoded
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(st_dtype, shape.clone(), data)
                .map(|view| (name.clone(), view))
                .map_err(|source| PytorchError::WriteTensor {
                    name: name.clone(),
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut info = metadata.clone();
    info.insert("arch".into(), weights.arch.name().into());
    match weights.arch {
        Arch::RnnTanh => drop(info.insert("nonlinearity".into(), "tanh".into())),
        Arch::RnnRelu => drop(info.insert("nonlinearity".into(), "relu".into())),
        Arch::Lstm | Arch::Gru => drop(info.remove("nonlinearity")),
    }
    safetensors::serialize(views, Some(info)).map_err(PytorchError::Write)
}

fn parse(bytes: &[u8]) -> Result<SafeTensors<'_>, PytorchError> {
    SafeTensors::deserialize(bytes).map_err(PytorchError::Format)
}

fn read_metadata(bytes: &[u8]) -> Result<HashMap<String, String>, PytorchError> {
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(PytorchError::Format)?;
    Ok(metadata.metadata().clone().unwrap_or_default())
}

/// The prefix to use: the explicit one (normalised to end in `.`), or the only prefix under
/// which a `weight_hh_l0` key exists.
fn choose_prefix(names: &[&str], explicit: Option<&str>) -> Result<String, PytorchError> {
    let candidates: BTreeSet<String> = names
        .iter()
        .filter_map(|name| name.strip_suffix(&format!("{HH}0")))
        .map(str::to_string)
        .collect();
    let shown = |c: &BTreeSet<String>| c.iter().map(|p| display_prefix(p)).collect::<Vec<_>>();
    match explicit {
        Some(prefix) => {
            let prefix = if prefix.is_empty() || prefix.ends_with('.') {
                prefix.to_string()
            } else {
                format!("{prefix}.")
            };
            if candidates.contains(&prefix) {
                Ok(prefix)
            } else {
                Err(PytorchError::PrefixNotFound {
                    prefix,
                    candidates: shown(&candidates),
                })
            }
        }
        None => match candidates.len() {
            0 => {
                let mut sorted: Vec<&str> = names.to_vec();
                sorted.sort_unstable();
                let keys = if sorted.is_empty() {
                    "none".to_string()
                } else {
                    sorted.join(", ")
                };
                Err(PytorchError::NoRecurrentKeys { keys })
            }
            1 => Ok(candidates.into_iter().next().unwrap_or_default()),
            _ => Err(PytorchError::AmbiguousPrefix {
                candidates: shown(&candidates),
            }),
        },
    }
}

fn display_prefix(prefix: &str) -> String {
    if prefix.is_empty() {
        "'' (no prefix)".to_string()
    } else {
        format!("'{}'", prefix.trim_end_matches('.'))
    }
}

/// Number of layers under `prefix`: `weight_hh_l0 .. weight_hh_l{L-1}` must all be present.
fn layer_count(names: &[&str], prefix: &str) -> Result<usize, PytorchError> {
    let mut indices = BTreeSet::new();
    for name in names {
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        if rest.contains('.') {
            continue;
        }
        for stem in ["weight_ih_l", HH, "bias_ih_l", "bias_hh_l", HR] {
            let Some(suffix) = rest.strip_prefix(stem) else {
                continue;
            };
            if suffix.ends_with("_reverse") {
                return Err(PytorchError::Bidirectional {
                    key: name.to_string(),
                });
            }
            if stem == HR {
                return Err(PytorchError::Projection {
                    key: name.to_string(),
                });
            }
            if let Ok(index) = suffix.parse::<usize>() {
                indices.insert(index);
            }
        }
    }
    let layers = indices.last().map_or(0, |&last| last + 1);
    for l in 0..layers {
        let key = format!("{prefix}{HH}{l}");
        if !names.contains(&key.as_str()) {
            return Err(PytorchError::MissingKey { key });
        }
    }
    Ok(layers)
}

/// The architecture named by the metadata keys `arch` and `nonlinearity`, if any.
fn metadata_arch(metadata: &HashMap<String, String>) -> Result<Option<Arch>, PytorchError> {
    let relu = metadata
        .get("nonlinearity")
        .is_some_and(|v| v.eq_ignore_ascii_case("relu"));
    let arch = match metadata.get("arch") {
        Some(value) => Some(
            value
                .parse::<Arch>()
                .map_err(|_| PytorchError::MetadataArch {
                    key: "arch".into(),
                    value: value.clone(),
                })?,
        ),
        None => None,
    };
    Ok(match arch {
        Some(Arch::RnnTanh) if relu => Some(Arch::RnnRelu),
        None if relu => Some(Arch::RnnRelu),
        other => other,
    })
}

/// `4n` rows: LSTM, `3n`: GRU, `n`: tanh RNN, from `weight_hh_l0` of shape `[rows, n]`.
fn infer_arch(key: &str, shape: [usize; 2]) -> Result<Arch, PytorchError> {
    let [rows, n] = shape;
    let bad = || PytorchError::BadShape {
        key: key.to_string(),
        shape: shape.to_vec(),
        expected: "[G*n, n] with G = 4 (lstm), 3 (gru) or 1 (rnn) and n > 0".into(),
    };
    if n == 0 || rows % n != 0 {
        return Err(bad());
    }
    match rows / n {
        4 => Ok(Arch::Lstm),
        3 => Ok(Arch::Gru),
        1 => Ok(Arch::RnnTanh),
        _ => Err(bad()),
    }
}

fn matrix_shape(key: &str, view: &TensorView<'_>) -> Result<[usize; 2], PytorchError> {
    match view.shape() {
        &[rows, cols] => Ok([rows, cols]),
        other => Err(PytorchError::BadShape {
            key: key.to_string(),
            shape: other.to_vec(),
            expected: "a matrix (rank 2)".into(),
        }),
    }
}

fn check_shape(
    key: &str,
    view: &TensorView<'_>,
    expected: &[usize],
    arch: Arch,
) -> Result<(), PytorchError> {
    if view.shape() == expected {
        return Ok(());
    }
    Err(PytorchError::BadShape {
        key: key.to_string(),
        shape: view.shape().to_vec(),
        expected: format!("{expected:?} for {arch}"),
    })
}

fn read_matrix<T: Real>(
    key: &str,
    view: &TensorView<'_>,
    shape: [usize; 2],
    arch: Arch,
) -> Result<Mat<T>, PytorchError> {
    check_shape(key, view, &shape, arch)?;
    let values = decode(key, view)?;
    let cols = shape[1];
    Ok(Mat::from_fn(shape[0], cols, |r, c| {
        T::of_f64(values[r * cols + c])
    }))
}

fn read_vector<T: Real>(
    key: &str,
    view: &TensorView<'_>,
    len: usize,
    arch: Arch,
) -> Result<Vec<T>, PytorchError> {
    check_shape(key, view, &[len], arch)?;
    Ok(decode(key, view)?.into_iter().map(T::of_f64).collect())
}

/// The tensor's values as `f64` (exact for every supported dtype), rejecting NaN and inf.
fn decode(key: &str, view: &TensorView<'_>) -> Result<Vec<f64>, PytorchError> {
    let data = view.data();
    let values: Vec<f64> = match view.dtype() {
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect(),
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64)
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f64())
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f64())
            .collect(),
        other => {
            return Err(PytorchError::UnsupportedDtype {
                key: key.to_string(),
                dtype: format!("{other:?}"),
            })
        }
    };
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(PytorchError::NonFinite {
            key: key.to_string(),
            index,
            value,
        });
    }
    Ok(values)
}

fn encode(values: &[f64], dtype: SaveDtype) -> Vec<u8> {
    match dtype {
        SaveDtype::F32 => values
            .iter()
            .flat_map(|&v| (v as f32).to_le_bytes())
            .collect(),
        SaveDtype::F64 => values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
    }
}

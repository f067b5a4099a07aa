//! Input sequences from a numpy array `[B, T, D]`, borrowed without a copy when it is a
//! C-contiguous float32 or float64 array, with the checks and messages of `lyap spectrum
//! --inputs` (rank, input size, empty batch, a warm-up leaving no steps to measure); the front
//! door checks finiteness.

use crate::errors::{as_array, BindingError};
use lyap_core::WarmupStyle;
use lyap_rnn::{InputBatch, SpectrumOptions, ZeroInputs, GENERATED_STEPS};
use numpy::{PyArray3, PyArrayDescrMethods, PyReadonlyArray3, PyUntypedArray};
use numpy::{PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;

/// Sequences of zero inputs when none are given (as `lyap spectrum --zero-input`); their
/// measured steps default to the front door's [`lyap_rnn::GENERATED_STEPS`].
pub const ZERO_BATCH: usize = 10;

/// Name of the inputs in messages (the CLI names the file).
pub const ORIGIN: &str = "inputs";

/// A borrowed numpy array of one of the two float types the engine reads.
pub enum Borrowed<'py> {
    F32(PyReadonlyArray3<'py, f32>),
    F64(PyReadonlyArray3<'py, f64>),
}

/// Steps `T` and input size `D` of the sequences `[B, T, D]`.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub length: usize,
    pub size: usize,
}

/// Borrows `inputs`, which the Python layer has made a C-contiguous float32/float64 array of
/// rank 3 whenever it could; anything else is refused with the CLI's message.
pub fn borrow<'py>(
    inputs: &Bound<'py, PyAny>,
    input_size: usize,
) -> Result<(Borrowed<'py>, Shape), BindingError> {
    let array = as_array(inputs, ORIGIN)?;
    let shape = array.shape().to_vec();
    let descr = array.dtype();
    let float = descr.kind() == b'f';
    if !float {
        let kind = if matches!(descr.kind(), b'i' | b'u' | b'b') {
            "integers"
        } else {
            "another type"
        };
        return Err(BindingError::type_error(format!(
            "{ORIGIN}: needs a float32/float64 array, got {kind} ({descr}); token ids must be \
             one-hot encoded or embedded first"
        )));
    }
    let [batch, length, size] = match shape[..] {
        [b, t, d] => [b, t, d],
        _ => {
            return Err(BindingError::value(format!(
                "{ORIGIN}: array of shape {shape:?} has rank {}; expected [B, T, D] or [T, D]",
                shape.len()
            )))
        }
    };
    if size != input_size {
        return Err(BindingError::value(format!(
            "{ORIGIN}: inputs have size D = {size} (shape {shape:?}) but the model's input size \
             is {input_size}"
        )));
    }
    if batch == 0 || length == 0 {
        return Err(BindingError::value(format!(
            "{ORIGIN}: array of shape {shape:?} holds no sequences or no steps"
        )));
    }
    if !array.is_c_contiguous() {
        return Err(BindingError::value(format!(
            "{ORIGIN}: the array must be C-contiguous"
        )));
    }
    let shape = Shape { length, size };
    let borrowed = match descr.itemsize() {
        4 => Borrowed::F32(typed::<f32>(array)?),
        8 => Borrowed::F64(typed::<f64>(array)?),
        _ => {
            return Err(BindingError::type_error(format!(
                "{ORIGIN}: needs a float32/float64 array, got {descr}"
            )))
        }
    };
    Ok((borrowed, shape))
}

fn typed<'py, T: numpy::Element>(
    array: &Bound<'py, PyUntypedArray>,
) -> Result<PyReadonlyArray3<'py, T>, BindingError> {
    let typed = array
        .cast::<PyArray3<T>>()
        .map_err(|e| BindingError::type_error(format!("{ORIGIN}: {e}")))?;
    typed
        .try_readonly()
        .map_err(|e| BindingError::value(format!("{ORIGIN}: {e}")))
}

impl Borrowed<'_> {
    /// The per-sequence slices `[T * D]` of the array's own buffer (no copy), and the address
    /// of that buffer (tests check it is the caller's array).
    pub fn batch(&self, shape: Shape) -> Result<(InputBatch<'_>, usize), BindingError> {
        let per = shape.length * shape.size;
        let not_contiguous =
            |_| BindingError::value(format!("{ORIGIN}: the array must be C-contiguous"));
        Ok(match self {
            Borrowed::F32(a) => {
                let all = a.as_slice().map_err(not_contiguous)?;
                (
                    InputBatch::F32(all.chunks_exact(per).collect()),
                    all.as_ptr() as usize,
                )
            }
            Borrowed::F64(a) => {
                let all = a.as_slice().map_err(not_contiguous)?;
                (
                    InputBatch::F64(all.chunks_exact(per).collect()),
                    all.as_ptr() as usize,
                )
            }
        })
    }
}

/// The zero inputs of `inputs=None`, computed on demand (as `lyap spectrum --zero-input`):
/// [`ZERO_BATCH`] sequences as long as the run needs, so that `until_converged` can extend
/// them.
pub fn zero_batch<'a>(
    generator: &'a ZeroInputs,
    steps: Option<usize>,
) -> Result<InputBatch<'a>, BindingError> {
    if steps == Some(0) {
        return Err(BindingError::value("steps must be at least 1"));
    }
    Ok(InputBatch::Generated {
        batch: ZERO_BATCH,
        generator,
    })
}

/// The measured steps after the warm-up, with the CLI's messages when the sequences are too
/// short: `None` steps means every step after the warm-up (all steps under `paper_compat`,
/// whose warm-up replays the sequence); with `until_converged` it means the first chunk of
/// the run, [`GENERATED_STEPS`] or fewer when the sequences hold fewer (as the CLI's).
pub fn check_steps(
    length: usize,
    warmup: usize,
    steps: Option<usize>,
    paper_compat: bool,
    until_converged: bool,
) -> Result<usize, BindingError> {
    if steps == Some(0) {
        return Err(BindingError::value("steps must be at least 1"));
    }
    let measurable = if paper_compat {
        length
    } else {
        length.saturating_sub(warmup)
    };
    let measured = match steps {
        Some(s) => s,
        None if until_converged => measurable.min(GENERATED_STEPS),
        None => measurable,
    };
    if measured == 0 {
        return Err(BindingError::value(format!(
            "{ORIGIN}: warmup {warmup} leaves none of its {length} steps to measure"
        )));
    }
    let needed = inputs_needed(warmup, measured, paper_compat);
    if needed > length {
        return Err(BindingError::value(format!(
            "{ORIGIN}: warmup {warmup} and steps {measured} need {needed} input steps but the \
             sequences have {length}"
        )));
    }
    Ok(measured)
}

/// Input steps a sequence must provide for `warmup` and `steps` (the front door's rule).
fn inputs_needed(warmup: usize, steps: usize, paper_compat: bool) -> usize {
    let style = if paper_compat {
        WarmupStyle::Paper
    } else {
        WarmupStyle::Standard
    };
    let options = SpectrumOptions {
        warmup,
        ..SpectrumOptions::default()
    };
    options.inputs_needed(style, steps)
}

//! What the front doors check before they run: finite weights and inputs that fit the
//! computation's precision ([`super::compute_spectrum`]), and the memory the run needs (both).

use super::{ComputeError, InputBatch, SpectrumOptions};
use crate::weights::StackWeights;
use lyap_core::memory::{checked_product, fits};
use lyap_core::{Real, SpectrumConfig};
use std::borrow::Cow;
use std::fmt;

/// Where a bad value sits: a weight tensor (PyTorch's name) or an input sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Culprit {
    /// `tensor[index]`, e.g. `weight_hh_l0` at `[2, 1]` (a bias has one index).
    Weight { tensor: String, index: Vec<usize> },
    /// Component `component` of step `step` of sequence `sequence` (all 0-based).
    Input {
        sequence: usize,
        step: usize,
        component: usize,
    },
}

impl fmt::Display for Culprit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Culprit::Weight { tensor, index } => write!(f, "{tensor} at {index:?}"),
            Culprit::Input {
                sequence,
                step,
                component,
            } => write!(f, "input at [{sequence}, {step}, {component}]"),
        }
    }
}

/// Every weight and bias is finite.
pub(super) fn check_finite_weights<W: Real>(weights: &StackWeights<W>) -> Result<(), ComputeError> {
    check_weights(weights, f64::is_finite, |culprit, value| {
        ComputeError::NonFinite { culprit, value }
    })
}

/// Every weight and bias of `weights` is finite in `T` (an `f64` value beyond `f32::MAX`
/// is not).
pub(super) fn check_representable<W: Real, T: Real>(
    weights: &StackWeights<W>,
) -> Result<(), ComputeError> {
    check_weights(
        weights,
        |value| T::of_f64(value).as_f64().is_finite(),
        |culprit, value| ComputeError::Overflow {
            culprit,
            value,
            precision: T::NAME,
        },
    )
}

/// Checks `ok` on every parameter; the first failure in PyTorch's state_dict order (row-major
/// within a tensor) becomes `error(culprit, value)`. The scan runs down faer's columns and
/// names the culprit only once something failed.
fn check_weights<W: Real>(
    weights: &StackWeights<W>,
    ok: impl Fn(f64) -> bool,
    error: impl Fn(Culprit, f64) -> ComputeError,
) -> Result<(), ComputeError> {
    for (l, layer) in weights.layers.iter().enumerate() {
        let tensor = |name: &str| format!("{name}_l{l}");
        for (name, m) in [
            ("weight_ih", &layer.weight_ih),
            ("weight_hh", &layer.weight_hh),
        ] {
            if (0..m.ncols()).all(|c| m.col(c).iter().all(|x| ok(x.as_f64()))) {
                continue;
            }
            for r in 0..m.nrows() {
                for c in 0..m.ncols() {
                    let value = m[(r, c)].as_f64();
                    if !ok(value) {
                        let index = vec![r, c];
                        let culprit = Culprit::Weight {
                            tensor: tensor(name),
                            index,
                        };
                        return Err(error(culprit, value));
                    }
                }
            }
        }
        for (name, bias) in [("bias_ih", &layer.bias_ih), ("bias_hh", &layer.bias_hh)] {
            let values = bias.iter().flatten().map(|x| x.as_f64());
            if let Some((i, value)) = values.enumerate().find(|(_, v)| !ok(*v)) {
                let culprit = Culprit::Weight {
                    tensor: tensor(name),
                    index: vec![i],
                };
                return Err(error(culprit, value));
            }
        }
    }
    Ok(())
}

/// The sequences in precision `T`: borrowed when they already are, converted otherwise
/// (none for generated inputs).
/// Non-finite values, and values that overflow `T`, are errors naming their position
/// (`input_size` values per step).
pub(super) fn convert_inputs<'a, T: Real>(
    inputs: &InputBatch<'a>,
    input_size: usize,
) -> Result<Vec<Cow<'a, [T]>>, ComputeError> {
    match inputs {
        InputBatch::F32(s) => convert(s, input_size, T::from_f32_slice),
        InputBatch::F64(s) => convert(s, input_size, T::from_f64_slice),
        // read chunk by chunk by a run until converged
        InputBatch::Generated { .. } => Ok(Vec::new()),
    }
}

fn convert<'a, S: Real, T: Real>(
    sequences: &[&'a [S]],
    input_size: usize,
    same: fn(&'a [S]) -> Option<&'a [T]>,
) -> Result<Vec<Cow<'a, [T]>>, ComputeError> {
    let d = input_size.max(1);
    let culprit = |sequence: usize, i: usize| Culprit::Input {
        sequence,
        step: i / d,
        component: i % d,
    };
    let mut out = Vec::with_capacity(sequences.len());
    for (b, &sequence) in sequences.iter().enumerate() {
        if let Some((i, v)) = sequence.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ComputeError::NonFinite {
                culprit: culprit(b, i),
                value: v.as_f64(),
            });
        }
        if let Some(borrowed) = same(sequence) {
            out.push(Cow::Borrowed(borrowed));
            continue;
        }
        let mut converted = Vec::with_capacity(sequence.len());
        for (i, v) in sequence.iter().enumerate() {
            let x = T::of_f64(v.as_f64());
            if !x.as_f64().is_finite() {
                return Err(ComputeError::Overflow {
                    culprit: culprit(b, i),
                    value: v.as_f64(),
                    precision: T::NAME,
                });
            }
            converted.push(x);
        }
        out.push(Cow::Owned(converted));
    }
    Ok(out)
}

/// Refuses a run that does not fit in memory (docs/DESIGN.md section 8): [`spectrum_bytes`]
/// for the longest run the options allow (`max_steps` when run until converged), with one
/// trajectory per thread of the pool the run uses.
pub(super) fn check_memory<T: Real>(
    state_dim: usize,
    parameters: u128,
    config: &SpectrumConfig,
    options: &SpectrumOptions,
    batch: usize,
) -> Result<(), ComputeError> {
    let threads = options
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .clamp(1, batch.max(1));
    let longest = SpectrumConfig {
        steps: config
            .steps
            .max(options.until_converged.map_or(0, |_| options.max_steps)),
        ..config.clone()
    };
    let bytes = spectrum_bytes::<T>(state_dim, parameters, &longest, threads, batch);
    fits(bytes, "the spectrum")?;
    Ok(())
}

/// Bytes the run allocates, roughly: per concurrent trajectory four `n x k` blocks (basis,
/// product, QR scratch) and the Jacobian scratch (about the system's `parameters`), the
/// system's own parameters, and the running estimates of every sequence with a trace. `None`
/// on overflow.
fn spectrum_bytes<T: Real>(
    state_dim: usize,
    parameters: u128,
    config: &SpectrumConfig,
    threads: usize,
    batch: usize,
) -> Option<u128> {
    let blocks = checked_product(&[4, state_dim, config.k])?;
    let trajectory = blocks.checked_add(parameters)?;
    let values = trajectory
        .checked_mul(threads as u128)?
        .checked_add(parameters)?;
    let bytes = values.checked_mul(std::mem::size_of::<T>() as u128)?;
    let trace = if config.record_trace {
        let points = config.steps / config.qr_every.max(1) + 1;
        // each point: its step, a Vec header and k f64 estimates
        checked_product(&[batch, points, config.k.checked_add(4)?, 8])?
    } else {
        0
    };
    bytes.checked_add(trace)
}

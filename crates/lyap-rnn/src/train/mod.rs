//! Batched forward pass and backpropagation through time for training (docs/DESIGN.md section 5).
//!
//! The batch's `B` sequences are split into [`BATCH_PARTS`] contiguous parts (fewer when
//! `B` is smaller), and each part runs through every layer and time step on one thread with
//! single-threaded gemms: no synchronisation per time step. The parts run in parallel; their
//! parameter gradients are summed in part order, so results do not depend on the number of
//! threads.
//!
//! Layout within a part of `B_p` sequences: a time step is a block of `B_p` columns, so a
//! layer's sequence of hidden states is one column-major `n x (B_p T)` matrix. Per layer:
//! ```text
//! forward:   A_in = W X + b_ih          one gemm for all steps (a column gather W[:, token]
//!                                       for one-hot token inputs)
//!            per t: A_hid = U H_(t-1) + b_hh   one (G n x n)(n x B_p) gemm, then the cell
//! backward:  per t: the cell's pointwise gradient, then dH_(t-1) = U^T dA_hid,t (one gemm)
//!            dU = dA_hid H_prev^T,  dW = dA_in X^T (a scatter-add of columns for tokens),
//!            dX = W^T dA_in                          one gemm each
//! ```
//! The cells' pointwise code (in `cells/`) is shared with the spectrum's single-sequence step.

mod columns;
mod packed;
mod part;
#[cfg(test)]
mod tests;

use crate::weights::StackWeights;
use faer::reborrow::ReborrowMut;
use faer::{MatMut, MatRef};
use lyap_core::Real;
use packed::PackedMatrix;
use part::PartCache;
use rayon::prelude::*;

/// Number of batch parts run in parallel. Fixed (not the number of threads), so the sums
/// forming the gradient are the same on any machine; two parts keep both cores of the target
/// machine busy without per-step synchronisation.
pub const BATCH_PARTS: usize = 2;

/// The first layer's inputs of a batch.
#[derive(Clone, Copy, Debug)]
pub enum Inputs<'a, T> {
    /// Dense vectors, row-major `[seq_len][batch][input_size]`.
    Dense(&'a [T]),
    /// One-hot tokens `[seq_len][batch]`, each below `input_size`: the input `e_token`.
    Tokens(&'a [u32]),
}

/// Activations kept by [`forward_batch`] for [`backward_batch`], and reusable buffers.
#[derive(Debug, Default)]
pub struct ForwardCache<T: Real> {
    batch: usize,
    seq_len: usize,
    parts: Vec<PartCache<T>>,
    /// Each layer's `U` packed for the forward steps, and `U^T` for the backward steps.
    recurrent: Vec<PackedMatrix<T>>,
    recurrent_transposed: Vec<PackedMatrix<T>>,
}

impl<T: Real> ForwardCache<T> {
    pub fn new() -> Self {
        Self {
            batch: 0,
            seq_len: 0,
            parts: Vec::new(),
            recurrent: Vec::new(),
            recurrent_transposed: Vec::new(),
        }
    }
}

/// Runs the stack over a batch. `inputs` is time-major row-major `[seq_len][batch][input_size]`;
/// returns the top layer's `h` as `[seq_len][batch][hidden_size]`. Zero initial state.
/// `inter_layer_masks`: `None`, or `num_layers - 1` masks each `[seq_len][batch][hidden_size]`
/// (already scaled by `1/(1-p)`), multiplied into layer `l`'s output before it feeds layer
/// `l + 1` (PyTorch's dropout between layers).
///
/// # Panics
/// If `inputs` or the masks do not have the stated lengths.
pub fn forward_batch<T: Real>(
    weights: &StackWeights<T>,
    inputs: &[T],
    batch: usize,
    seq_len: usize,
    inter_layer_masks: Option<&[Vec<T>]>,
    cache: &mut ForwardCache<T>,
) -> Vec<T> {
    let inputs = Inputs::Dense(inputs);
    forward_to_vec(weights, inputs, batch, seq_len, inter_layer_masks, cache)
}

/// [`forward_batch`] on one-hot inputs given as tokens `[seq_len][batch]` (each below
/// `input_size`): the same result as the dense one-hot vectors, without the input gemms.
///
/// # Panics
/// If `tokens` or the masks do not have the stated lengths, or a token is out of range.
pub fn forward_batch_tokens<T: Real>(
    weights: &StackWeights<T>,
    tokens: &[u32],
    batch: usize,
    seq_len: usize,
    inter_layer_masks: Option<&[Vec<T>]>,
    cache: &mut ForwardCache<T>,
) -> Vec<T> {
    let inputs = Inputs::Tokens(tokens);
    forward_to_vec(weights, inputs, batch, seq_len, inter_layer_masks, cache)
}

fn forward_to_vec<T: Real>(
    weights: &StackWeights<T>,
    inputs: Inputs<'_, T>,
    batch: usize,
    seq_len: usize,
    inter_layer_masks: Option<&[Vec<T>]>,
    cache: &mut ForwardCache<T>,
) -> Vec<T> {
    let (n, columns) = (weights.hidden_size, batch * seq_len);
    let mut outputs = vec![T::zero(); n * columns];
    let view = MatMut::from_column_major_slice_mut(&mut outputs, n, columns);
    forward_inputs(
        weights,
        inputs,
        batch,
        seq_len,
        inter_layer_masks,
        cache,
        view,
    );
    outputs
}

/// [`forward_batch`] or [`forward_batch_tokens`], by the kind of `inputs`, writing the top
/// layer's `h` into the columns of `outputs` (`hidden_size x batch seq_len`, column
/// `t batch + b`): a caller's aligned, reused buffer.
///
/// # Panics
/// As those two, or if `outputs` has another shape.
pub fn forward_inputs<T: Real>(
    weights: &StackWeights<T>,
    inputs: Inputs<'_, T>,
    batch: usize,
    seq_len: usize,
    inter_layer_masks: Option<&[Vec<T>]>,
    cache: &mut ForwardCache<T>,
    mut outputs: MatMut<'_, T>,
) {
    let (n, num_layers, columns) = (weights.hidden_size, weights.num_layers(), batch * seq_len);
    let shape = (outputs.nrows(), outputs.ncols());
    assert_eq!(
        shape,
        (n, columns),
        "outputs must be hidden_size x batch seq_len"
    );
    match inputs {
        Inputs::Dense(dense) => assert_eq!(
            dense.len(),
            columns * weights.input_size,
            "inputs must be [seq_len][batch][input_size]"
        ),
        Inputs::Tokens(tokens) => {
            assert_eq!(tokens.len(), columns, "tokens must be [seq_len][batch]");
            let vocabulary = weights.input_size;
            assert!(
                tokens.iter().all(|&token| (token as usize) < vocabulary),
                "tokens must be below input_size = {vocabulary}"
            );
        }
    }
    if let Some(masks) = inter_layer_masks {
        let gaps = num_layers.saturating_sub(1);
        assert_eq!(masks.len(), gaps, "one mask per layer gap");
        for mask in masks {
            let message = "masks must be [seq_len][batch][hidden_size]";
            assert_eq!(mask.len(), n * columns, "{message}");
        }
    }
    cache.batch = batch;
    cache.seq_len = seq_len;
    let parts = batch.clamp(1, BATCH_PARTS);
    cache.parts.resize_with(parts, || PartCache::new(0, 0));
    for (p, part) in cache.parts.iter_mut().enumerate() {
        part.first = p * batch / parts;
        part.batch = (p + 1) * batch / parts - part.first;
    }
    pack_recurrent(&mut cache.recurrent, weights, false);
    let recurrent = &cache.recurrent;
    cache.parts.par_iter_mut().for_each(|part| {
        part.forward(
            weights,
            recurrent,
            inputs,
            inter_layer_masks,
            batch,
            seq_len,
        );
    });
    for part in &cache.parts {
        part.scatter_top_outputs(outputs.rb_mut(), batch);
    }
}

/// Accumulates (adds) `d loss / d parameters` into `grads` (same shapes as `weights`; biases
/// present iff the weights have them) given `d loss / d outputs` (the layout of the outputs of
/// the [`forward_batch`] call that filled `cache`). The batch parts' gradients are added in
/// part order: `grads = (grads + dP_0) + dP_1 ...`.
///
/// # Panics
/// If `d_outputs` or `grads` do not match the forward pass.
pub fn backward_batch<T: Real>(
    weights: &StackWeights<T>,
    cache: &mut ForwardCache<T>,
    d_outputs: &[T],
    grads: &mut StackWeights<T>,
) {
    let (n, columns) = (weights.hidden_size, cache.batch * cache.seq_len);
    let message = "d_outputs must match the outputs";
    assert_eq!(d_outputs.len(), n * columns, "{message}");
    let d_outputs = MatRef::from_column_major_slice(d_outputs, n, columns);
    backward_columns(weights, cache, d_outputs, grads);
}

/// [`backward_batch`] with `d loss / d outputs` as the columns of a matrix (`hidden_size x
/// batch seq_len`, the layout of [`forward_inputs`]' outputs).
///
/// # Panics
/// If `d_outputs` or `grads` do not match the forward pass.
pub fn backward_columns<T: Real>(
    weights: &StackWeights<T>,
    cache: &mut ForwardCache<T>,
    d_outputs: MatRef<'_, T>,
    grads: &mut StackWeights<T>,
) {
    let (n, columns) = (weights.hidden_size, cache.batch * cache.seq_len);
    let shape = (d_outputs.nrows(), d_outputs.ncols());
    assert_eq!(shape, (n, columns), "d_outputs must match the outputs");
    assert_eq!(
        grads.num_layers(),
        weights.num_layers(),
        "grads shaped like the weights"
    );
    pack_recurrent(&mut cache.recurrent_transposed, weights, true);
    let recurrent_transposed = &cache.recurrent_transposed;
    cache.parts.par_iter().for_each(|part| {
        part.backward(
            weights,
            recurrent_transposed,
            d_outputs,
            cache.batch,
            cache.seq_len,
        );
    });
    for part in &cache.parts {
        let scratch = part
            .backward
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let part_grads = scratch.grads.as_ref().expect("set by the backward pass");
        grads.add_assign(part_grads);
    }
}

/// Packs every layer's recurrent weights `U` (or `U^T` with `transposed`) into `packed`, one
/// matrix per layer, reusing the buffers.
fn pack_recurrent<T: Real>(
    packed: &mut Vec<PackedMatrix<T>>,
    weights: &StackWeights<T>,
    transposed: bool,
) {
    packed.resize_with(weights.num_layers(), PackedMatrix::default);
    for (matrix, layer) in packed.iter_mut().zip(&weights.layers) {
        let recurrent = layer.weight_hh.as_ref();
        matrix.pack(if transposed {
            recurrent.transpose()
        } else {
            recurrent
        });
    }
}

impl<T: Real> StackWeights<T> {
    /// The same shapes (and bias presence), every value zero: a gradient accumulator.
    pub fn zeros_like(&self) -> Self {
        let mut zeros = self.clone();
        zeros.for_each_param_mut(|chunk| chunk.fill(T::zero()));
        zeros
    }

    /// `self += other` (same shapes), parameter by parameter.
    pub fn add_assign(&mut self, other: &Self) {
        let add = |target: &mut [T], source: &[T]| {
            assert_eq!(target.len(), source.len(), "same shapes");
            target.iter_mut().zip(source).for_each(|(t, &s)| *t += s);
        };
        assert_eq!(self.layers.len(), other.layers.len(), "same shapes");
        for (target, source) in self.layers.iter_mut().zip(&other.layers) {
            let matrices = [
                (&mut target.weight_ih, &source.weight_ih),
                (&mut target.weight_hh, &source.weight_hh),
            ];
            for (target, source) in matrices {
                assert_eq!(target.ncols(), source.ncols(), "same shapes");
                for j in 0..target.ncols() {
                    add(target.col_as_slice_mut(j), source.col_as_slice(j));
                }
            }
            let biases = [
                (&mut target.bias_ih, &source.bias_ih),
                (&mut target.bias_hh, &source.bias_hh),
            ];
            for (target, source) in biases {
                match (target, source) {
                    (Some(target), Some(source)) => add(target, source),
                    (None, None) => {}
                    _ => panic!("same shapes"),
                }
            }
        }
    }

    /// Number of scalar parameters.
    pub fn num_params(&self) -> usize {
        let mut count = 0;
        self.for_each_param(|chunk| count += chunk.len());
        count
    }

    /// Visits every parameter as contiguous chunks in a fixed order: per layer `weight_ih`,
    /// `weight_hh` (column by column), then `bias_ih`, `bias_hh` when present.
    pub fn for_each_param(&self, mut visit: impl FnMut(&[T])) {
        for layer in &self.layers {
            for matrix in [&layer.weight_ih, &layer.weight_hh] {
                (0..matrix.ncols()).for_each(|j| visit(matrix.col_as_slice(j)));
            }
            [&layer.bias_ih, &layer.bias_hh]
                .into_iter()
                .flatten()
                .for_each(|b| visit(b));
        }
    }

    /// Mutable counterpart of [`StackWeights::for_each_param`], same order.
    pub fn for_each_param_mut(&mut self, mut visit: impl FnMut(&mut [T])) {
        for layer in &mut self.layers {
            for matrix in [&mut layer.weight_ih, &mut layer.weight_hh] {
                (0..matrix.ncols()).for_each(|j| visit(matrix.col_as_slice_mut(j)));
            }
            let biases = [&mut layer.bias_ih, &mut layer.bias_hh];
            biases.into_iter().flatten().for_each(|b| visit(b));
        }
    }
}

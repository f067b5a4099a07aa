//! Batched forward pass and backpropagation through time for training (DESIGN.md section 5).
//!
//! Layout: a batch at time `t` is a block of `B` columns, so a layer's sequence of hidden
//! states is one column-major `n x (B T)` matrix whose memory is exactly the row-major
//! `[T][B][n]` of the public API. Per layer:
//! ```text
//! forward:   A_in = W X + b_ih                 one gemm for all time steps
//!            per t: A_hid = U H_(t-1) + b_hh   one (G n x n)(n x B) gemm, then the cell
//! backward:  per t: the cell's pointwise gradient, then dH_(t-1) = U^T dA_hid,t (one gemm)
//!            dU += dA_hid H_prev^T,  dW += dA_in X^T,  dX = W^T dA_in   one gemm each
//! ```
//! The cells' pointwise code (in `cells/`) is shared with the spectrum's single-sequence step;
//! it runs over the `B` columns of a time step in parallel.

// `lyap_core::Real` has no `*Assign` bounds: `x = x + y` is the only spelling.

mod columns;

use crate::cells::{add_bias, Cell};
use crate::math::{ensure_shape, gemm};
use crate::weights::{LayerWeights, StackWeights};
use columns::{column, column_mut, run_over_columns, ForwardViews, GradViews};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use lyap_core::Real;
use std::sync::Mutex;

/// Activations kept by [`forward_batch`] for [`backward_batch`], and reusable buffers.
#[derive(Debug)]
pub struct ForwardCache<T: Real> {
    batch: usize,
    seq_len: usize,
    layers: Vec<LayerCache<T>>,
    /// Copies of the inter-layer dropout masks (empty when none).
    masks: Vec<Vec<T>>,
    /// `U H_(t-1) + b_hh` of one step (cells whose hidden pre-activation is not kept).
    step_hidden_preact: Mat<T>,
    /// Buffers of the backward pass, reused across calls.
    backward: Mutex<BackwardScratch<T>>,
}

impl<T: Real> Default for ForwardCache<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Real> ForwardCache<T> {
    pub fn new() -> Self {
        Self {
            batch: 0,
            seq_len: 0,
            layers: Vec::new(),
            masks: Vec::new(),
            step_hidden_preact: Mat::zeros(0, 0),
            backward: Mutex::new(BackwardScratch::default()),
        }
    }
}

/// One layer's activations over the whole batch and sequence.
#[derive(Debug)]
struct LayerCache<T: Real> {
    /// The layer's inputs `X` (`m x B T`), masked for layers above the first.
    inputs: Mat<T>,
    /// `H` (`n x B (T + 1)`): columns `0..B` are the zero initial state, block `t + 1` is `h_t`.
    hidden: Mat<T>,
    /// `C`, same layout (LSTM; `0` rows otherwise).
    cell: Mat<T>,
    /// Gate activations (`G n x B T`).
    gates: Mat<T>,
    /// `U h + b_hh` for every step (GRU, whose gradient needs `U_n h + b_hn`; `0` rows otherwise).
    hidden_preact: Mat<T>,
}

impl<T: Real> Default for LayerCache<T> {
    fn default() -> Self {
        let empty = || Mat::zeros(0, 0);
        Self {
            inputs: empty(),
            hidden: empty(),
            cell: empty(),
            gates: empty(),
            hidden_preact: empty(),
        }
    }
}

#[derive(Debug)]
struct BackwardScratch<T: Real> {
    /// `dL/dA_in` and (GRU) `dL/dA_hid` for all steps (`G n x B T`).
    d_input_preact: Mat<T>,
    d_hidden_preact: Mat<T>,
    /// `dL/dh_(t)` carried from step `t + 1`, and the one being formed (`n x B`).
    d_h_carry: Mat<T>,
    d_h_carry_next: Mat<T>,
    /// `dL/dc` carried backwards (LSTM; `0` rows otherwise).
    d_c_carry: Mat<T>,
    /// `dL/dH` of the current layer's outputs (below the top) and of the layer below (`n x B T`).
    d_hidden: Mat<T>,
    d_hidden_below: Mat<T>,
}

impl<T: Real> Default for BackwardScratch<T> {
    fn default() -> Self {
        let empty = || Mat::zeros(0, 0);
        Self {
            d_input_preact: empty(),
            d_hidden_preact: empty(),
            d_h_carry: empty(),
            d_h_carry_next: empty(),
            d_c_carry: empty(),
            d_hidden: empty(),
            d_hidden_below: empty(),
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
    let (n, num_layers, columns) = (weights.hidden_size, weights.num_layers(), batch * seq_len);
    let cell = Cell::of(weights.arch);
    let gate_rows = weights.arch.gates() * n;
    assert_eq!(
        inputs.len(),
        columns * weights.input_size,
        "inputs must be [seq_len][batch][input_size]"
    );
    cache.masks.clear();
    if let Some(masks) = inter_layer_masks {
        assert_eq!(
            masks.len(),
            num_layers.saturating_sub(1),
            "one mask per layer gap"
        );
        for mask in masks {
            assert_eq!(
                mask.len(),
                n * columns,
                "masks must be [seq_len][batch][hidden_size]"
            );
            cache.masks.push(mask.clone());
        }
    }
    cache.batch = batch;
    cache.seq_len = seq_len;
    cache.layers.resize_with(num_layers, LayerCache::default);
    ensure_shape(&mut cache.step_hidden_preact, gate_rows, batch);
    for l in 0..num_layers {
        let (below, rest) = cache.layers.split_at_mut(l);
        let layer = &mut rest[0];
        let m = weights.layer_input_size(l);
        let cell_rows = if cell.has_cell_state() { n } else { 0 };
        let kept_preact_rows = if cell.separate_hidden_path() {
            gate_rows
        } else {
            0
        };
        ensure_shape(&mut layer.inputs, m, columns);
        ensure_shape(&mut layer.hidden, n, columns + batch);
        ensure_shape(&mut layer.cell, cell_rows, columns + batch);
        ensure_shape(&mut layer.gates, gate_rows, columns);
        ensure_shape(&mut layer.hidden_preact, kept_preact_rows, columns);
        match below.last() {
            None => layer
                .inputs
                .copy_from(MatRef::from_column_major_slice(inputs, m, columns)),
            Some(previous) => {
                let outputs = previous.hidden.subcols(batch, columns);
                layer.inputs.copy_from(outputs);
                if let Some(mask) = cache.masks.get(l - 1) {
                    multiply_columns(layer.inputs.as_mut(), mask);
                }
            }
        }
        let step_hidden_preact = &mut cache.step_hidden_preact;
        forward_layer(
            cell,
            &weights.layers[l],
            layer,
            step_hidden_preact,
            batch,
            seq_len,
        );
    }
    let top = &cache.layers[num_layers - 1].hidden;
    let mut outputs = Vec::with_capacity(n * columns);
    for j in batch..batch + columns {
        outputs.extend_from_slice(top.col_as_slice(j));
    }
    outputs
}

/// One layer over all time steps (its `inputs` already set).
fn forward_layer<T: Real>(
    cell: Cell,
    weights: &LayerWeights<T>,
    layer: &mut LayerCache<T>,
    step_hidden_preact: &mut Mat<T>,
    batch: usize,
    seq_len: usize,
) {
    let gates = &mut layer.gates;
    gemm(
        gates.as_mut(),
        Accum::Replace,
        weights.weight_ih.as_ref(),
        layer.inputs.as_ref(),
        Par::rayon(0),
    );
    for j in 0..gates.ncols() {
        add_bias(gates.col_as_slice_mut(j), weights.bias_ih.as_deref());
    }
    layer.hidden.subcols_mut(0, batch).fill(T::zero());
    layer.cell.subcols_mut(0, batch).fill(T::zero());
    for t in 0..seq_len {
        let block = t * batch;
        let (past_h, mut next_h) = layer.hidden.split_at_col_mut(block + batch);
        let (past_c, mut next_c) = layer.cell.split_at_col_mut(block + batch);
        let h_prev = past_h.rb().subcols(block, batch);
        let mut hidden_preact = if cell.separate_hidden_path() {
            layer.hidden_preact.as_mut().subcols_mut(block, batch)
        } else {
            step_hidden_preact.as_mut()
        };
        gemm(
            hidden_preact.rb_mut(),
            Accum::Replace,
            weights.weight_hh.as_ref(),
            h_prev,
            Par::rayon(0),
        );
        for j in 0..batch {
            add_bias(
                column_mut(hidden_preact.rb_mut(), j),
                weights.bias_hh.as_deref(),
            );
        }
        let views = ForwardViews {
            cell,
            gates: gates.as_mut().subcols_mut(block, batch),
            hidden_preact: hidden_preact.rb(),
            h_prev,
            c_prev: past_c.rb().subcols(block, batch),
            h: next_h.rb_mut().subcols_mut(0, batch),
            c: next_c.rb_mut().subcols_mut(0, batch),
        };
        run_over_columns(views);
    }
}

/// Accumulates (adds) `d loss / d parameters` into `grads` (same shapes as `weights`; biases
/// present iff the weights have them) given `d loss / d outputs` (the layout of the outputs of
/// the [`forward_batch`] call that filled `cache`).
///
/// # Panics
/// If `d_outputs` or `grads` do not match the forward pass.
pub fn backward_batch<T: Real>(
    weights: &StackWeights<T>,
    cache: &ForwardCache<T>,
    d_outputs: &[T],
    grads: &mut StackWeights<T>,
) {
    let (batch, seq_len) = (cache.batch, cache.seq_len);
    let (n, columns) = (weights.hidden_size, batch * seq_len);
    let cell = Cell::of(weights.arch);
    let separate = cell.separate_hidden_path();
    let gate_rows = weights.arch.gates() * n;
    assert_eq!(
        d_outputs.len(),
        n * columns,
        "d_outputs must match the outputs"
    );
    assert_eq!(
        cache.layers.len(),
        weights.num_layers(),
        "cache from another stack"
    );
    assert_eq!(
        grads.num_layers(),
        weights.num_layers(),
        "grads shaped like the weights"
    );
    let mut scratch = cache
        .backward
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let BackwardScratch {
        d_input_preact,
        d_hidden_preact,
        d_h_carry,
        d_h_carry_next,
        d_c_carry,
        d_hidden,
        d_hidden_below,
    } = &mut *scratch;
    ensure_shape(d_input_preact, gate_rows, columns);
    ensure_shape(
        d_hidden_preact,
        if separate { gate_rows } else { 0 },
        columns,
    );
    ensure_shape(d_h_carry, n, batch);
    ensure_shape(d_h_carry_next, n, batch);
    ensure_shape(d_c_carry, if cell.has_cell_state() { n } else { 0 }, batch);
    let top = weights.num_layers() - 1;
    for (l, layer) in cache.layers.iter().enumerate().rev() {
        let layer_weights = &weights.layers[l];
        let d_h_output = if l == top {
            MatRef::from_column_major_slice(d_outputs, n, columns)
        } else {
            d_hidden.as_ref()
        };
        d_h_carry.fill(T::zero());
        d_c_carry.fill(T::zero());
        for t in (0..seq_len).rev() {
            let block = t * batch;
            let views = GradViews {
                cell,
                gates: layer.gates.subcols(block, batch),
                hidden_preact: layer.hidden_preact.subcols(block, batch),
                h_prev: layer.hidden.subcols(block, batch),
                c_prev: layer.cell.subcols(block, batch),
                c: layer.cell.subcols(block + batch, batch),
                d_h_output: d_h_output.subcols(block, batch),
                d_h_future: d_h_carry.as_ref(),
                d_c: d_c_carry.as_mut(),
                d_input_preact: d_input_preact.as_mut().subcols_mut(block, batch),
                d_hidden_preact: d_hidden_preact.as_mut().subcols_mut(block, batch),
                d_h_prev_direct: if separate {
                    d_h_carry_next.as_mut()
                } else {
                    MatMut::from_column_major_slice_mut(&mut [], 0, batch)
                },
            };
            run_over_columns(views);
            if t > 0 {
                let (d_hidden_step, accum) = if separate {
                    (d_hidden_preact.subcols(block, batch), Accum::Add)
                } else {
                    (d_input_preact.subcols(block, batch), Accum::Replace)
                };
                let u_transposed = layer_weights.weight_hh.transpose();
                gemm(
                    d_h_carry_next.as_mut(),
                    accum,
                    u_transposed,
                    d_hidden_step,
                    Par::rayon(0),
                );
                std::mem::swap(d_h_carry, d_h_carry_next);
            }
        }
        let d_hidden_all = if separate {
            d_hidden_preact.as_ref()
        } else {
            d_input_preact.as_ref()
        };
        let layer_grads = &mut grads.layers[l];
        let h_prev_all = layer.hidden.subcols(0, columns).transpose();
        gemm(
            layer_grads.weight_hh.as_mut(),
            Accum::Add,
            d_hidden_all,
            h_prev_all,
            Par::rayon(0),
        );
        let x_all = layer.inputs.transpose();
        gemm(
            layer_grads.weight_ih.as_mut(),
            Accum::Add,
            d_input_preact.as_ref(),
            x_all,
            Par::rayon(0),
        );
        if let Some(d_bias) = layer_grads.bias_ih.as_deref_mut() {
            add_row_sums(d_bias, d_input_preact.as_ref());
        }
        if let Some(d_bias) = layer_grads.bias_hh.as_deref_mut() {
            add_row_sums(d_bias, d_hidden_all);
        }
        if l > 0 {
            ensure_shape(d_hidden_below, n, columns);
            let w_transposed = layer_weights.weight_ih.transpose();
            gemm(
                d_hidden_below.as_mut(),
                Accum::Replace,
                w_transposed,
                d_input_preact.as_ref(),
                Par::rayon(0),
            );
            if let Some(mask) = cache.masks.get(l - 1) {
                multiply_columns(d_hidden_below.as_mut(), mask);
            }
            std::mem::swap(d_hidden, d_hidden_below);
        }
    }
}

impl<T: Real> StackWeights<T> {
    /// The same shapes (and bias presence), every value zero: a gradient accumulator.
    pub fn zeros_like(&self) -> Self {
        let mut zeros = self.clone();
        zeros.for_each_param_mut(|chunk| chunk.fill(T::zero()));
        zeros
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

/// `mat[:, j] *= mask[j n .. (j + 1) n]` (`mask` row-major over the columns of `mat`).
fn multiply_columns<T: Real>(mut mat: MatMut<'_, T>, mask: &[T]) {
    let n = mat.nrows();
    for (j, mask_column) in mask.chunks_exact(n).enumerate() {
        let column = column_mut(mat.rb_mut(), j);
        column
            .iter_mut()
            .zip(mask_column)
            .for_each(|(v, &m)| *v *= m);
    }
}

/// `sums[r] += sum_j mat[r, j]`.
fn add_row_sums<T: Real>(sums: &mut [T], mat: MatRef<'_, T>) {
    for j in 0..mat.ncols() {
        sums.iter_mut()
            .zip(column(mat, j))
            .for_each(|(s, &v)| *s += v);
    }
}

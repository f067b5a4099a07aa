//! One batch part: a contiguous range of `B_p` of the batch's sequences run through every layer
//! and every time step on one thread (see the `train` module documentation).
//!
//! A part stores its columns time-major like the batch: column `t B_p + b` is its sequence `b`
//! at time `t`, which is column `t B + first + b` of the whole batch.

use super::columns::{add_row_sums, ForwardViews, GradViews};
use super::packed::{PackedMatrix, RhsPanels};
use super::Inputs;
use crate::arch::Arch;
use crate::cells::add_bias;
use crate::weights::{LayerWeights, StackWeights};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef};
use lyap_core::dense::{column, column_mut, ensure_shape, gemm};
use lyap_core::Real;
use std::sync::Mutex;

/// Activations of one part kept by the forward pass for the backward pass.
#[derive(Debug)]
pub(super) struct PartCache<T: Real> {
    /// The part's first sequence in the batch and its number of sequences `B_p`.
    pub(super) first: usize,
    pub(super) batch: usize,
    /// The first layer's inputs when they are tokens, `[t][b]` (empty for dense inputs).
    tokens: Vec<u32>,
    layers: Vec<LayerCache<T>>,
    /// The part's columns of the inter-layer dropout masks (`n x B_p T` each).
    masks: Vec<Mat<T>>,
    /// `U H_(t-1) + b_hh` of one step (cells whose hidden pre-activation is not kept).
    step_hidden_preact: Mat<T>,
    /// The right-hand side of the forward steps' recurrent products, rearranged.
    rhs: RhsPanels<T>,
    /// Buffers of the backward pass, reused across calls.
    pub(super) backward: Mutex<BackwardScratch<T>>,
}

/// One layer's activations over the part's sequences.
#[derive(Debug)]
struct LayerCache<T: Real> {
    /// The layer's dense inputs `X` (`m x B_p T`), masked for layers above the first; `0 x 0`
    /// for token inputs.
    inputs: Mat<T>,
    /// `H` (`n x B_p (T + 1)`): columns `0..B_p` are the zero initial state, block `t + 1` is
    /// `h_t`.
    hidden: Mat<T>,
    /// `h_1 .. h_(T-1)` transposed (`B_p (T - 1) x n`): the columns of `H_prev` that `dU` reads
    /// (`h_0 = 0` adds nothing), so that `dU = dA_hid H_prev^T` multiplies by a column-major
    /// matrix rather than a transposed view (BENCHMARKS.md). Written a step at a time while the
    /// step's `h_t` is in cache.
    hidden_transposed: Mat<T>,
    /// `C`, same layout (LSTM; `0` rows otherwise).
    cell: Mat<T>,
    /// Gate activations (`G n x B_p T`).
    gates: Mat<T>,
    /// `U h + b_hh` for every step (GRU, whose gradient needs `U_n h + b_hn`; `0` rows
    /// otherwise).
    hidden_preact: Mat<T>,
}

/// Buffers of one part's backward pass.
#[derive(Debug)]
pub(super) struct BackwardScratch<T: Real> {
    /// `dL/dA_in` and (GRU) `dL/dA_hid` for all steps (`G n x B_p T`).
    d_input_preact: Mat<T>,
    d_hidden_preact: Mat<T>,
    /// `dL/dh_(t)` carried from step `t + 1`, and the one being formed (`n x B_p`).
    d_h_carry: Mat<T>,
    d_h_carry_next: Mat<T>,
    /// `dL/dc` carried backwards (LSTM; `0` rows otherwise).
    d_c_carry: Mat<T>,
    /// The right-hand side of the backward steps' recurrent products, rearranged.
    rhs: RhsPanels<T>,
    /// `dL/dH` of the current layer's outputs and of the layer below (`n x B_p T`).
    d_hidden: Mat<T>,
    d_hidden_below: Mat<T>,
    /// This part's parameter gradient (overwritten by each backward pass).
    pub(super) grads: Option<StackWeights<T>>,
}

fn empty<T: Real>() -> Mat<T> {
    Mat::zeros(0, 0)
}

impl<T: Real> Default for LayerCache<T> {
    fn default() -> Self {
        Self {
            inputs: empty(),
            hidden: empty(),
            hidden_transposed: empty(),
            cell: empty(),
            gates: empty(),
            hidden_preact: empty(),
        }
    }
}

impl<T: Real> Default for BackwardScratch<T> {
    fn default() -> Self {
        Self {
            d_input_preact: empty(),
            d_hidden_preact: empty(),
            d_h_carry: empty(),
            d_h_carry_next: empty(),
            d_c_carry: empty(),
            rhs: RhsPanels::default(),
            d_hidden: empty(),
            d_hidden_below: empty(),
            grads: None,
        }
    }
}

/// Copies the columns of sequences `first..first + part_batch` of a batch matrix
/// (`rows x B T`, time-major columns) into `dst` (`rows x part_batch T`).
fn gather_columns<T: Real>(
    dst: &mut Mat<T>,
    src: MatRef<'_, T>,
    full_batch: usize,
    (first, part_batch): (usize, usize),
) {
    for j in 0..dst.ncols() {
        let (t, b) = (j / part_batch, j % part_batch);
        let source = src.col(t * full_batch + first + b);
        dst.col_mut(j).copy_from(source);
    }
}

impl<T: Real> PartCache<T> {
    pub(super) fn new(first: usize, batch: usize) -> Self {
        Self {
            first,
            batch,
            tokens: Vec::new(),
            layers: Vec::new(),
            masks: Vec::new(),
            step_hidden_preact: empty(),
            rhs: RhsPanels::default(),
            backward: Mutex::new(BackwardScratch::default()),
        }
    }

    /// Copies the top layer's `h_t` of the part's sequences into their columns of `outputs`
    /// (`n x B T`, time-major columns).
    pub(super) fn scatter_top_outputs(&self, mut outputs: MatMut<'_, T>, full_batch: usize) {
        let top = &self.layers[self.layers.len() - 1].hidden;
        for j in self.batch..top.ncols() {
            let (t, b) = (j / self.batch - 1, j % self.batch);
            let mut target = outputs.rb_mut().col_mut(t * full_batch + self.first + b);
            target.copy_from(top.col(j));
        }
    }

    /// Runs the part's sequences through the stack. `inputs` and `masks` are the whole batch's
    /// (`full_batch` sequences of `seq_len` steps).
    pub(super) fn forward(
        &mut self,
        weights: &StackWeights<T>,
        recurrent: &[PackedMatrix<T>],
        inputs: Inputs<'_, T>,
        masks: Option<&[Vec<T>]>,
        full_batch: usize,
        seq_len: usize,
    ) {
        let (n, num_layers) = (weights.hidden_size, weights.num_layers());
        let (batch, columns) = (self.batch, self.batch * seq_len);
        let arch = weights.arch;
        let gate_rows = arch.gates() * n;
        self.tokens.clear();
        if let Inputs::Tokens(tokens) = inputs {
            for t in 0..seq_len {
                let start = t * full_batch + self.first;
                self.tokens.extend_from_slice(&tokens[start..start + batch]);
            }
        }
        let mask_count = masks.map_or(0, <[Vec<T>]>::len);
        self.masks.resize_with(mask_count, empty);
        for (mask, source) in self.masks.iter_mut().zip(masks.unwrap_or_default()) {
            ensure_shape(mask, n, columns);
            let source = MatRef::from_column_major_slice(source, n, full_batch * seq_len);
            gather_columns(mask, source, full_batch, (self.first, batch));
        }
        ensure_shape(&mut self.step_hidden_preact, gate_rows, batch);
        self.layers.resize_with(num_layers, LayerCache::default);
        for (l, recurrent) in recurrent.iter().enumerate().take(num_layers) {
            let (below, rest) = self.layers.split_at_mut(l);
            let layer = &mut rest[0];
            let m = weights.layer_input_size(l);
            let cell_rows = if arch.has_cell_state() { n } else { 0 };
            let kept_preact_rows = if arch.separate_hidden_path() {
                gate_rows
            } else {
                0
            };
            ensure_shape(&mut layer.hidden, n, columns + batch);
            ensure_shape(&mut layer.hidden_transposed, columns - batch, n);
            ensure_shape(&mut layer.cell, cell_rows, columns + batch);
            ensure_shape(&mut layer.gates, gate_rows, columns);
            ensure_shape(&mut layer.hidden_preact, kept_preact_rows, columns);
            match (below.last(), inputs) {
                (None, Inputs::Tokens(_)) => ensure_shape(&mut layer.inputs, 0, 0),
                (None, Inputs::Dense(dense)) => {
                    ensure_shape(&mut layer.inputs, m, columns);
                    let dense = MatRef::from_column_major_slice(dense, m, full_batch * seq_len);
                    gather_columns(&mut layer.inputs, dense, full_batch, (self.first, batch));
                }
                (Some(previous), _) => {
                    ensure_shape(&mut layer.inputs, m, columns);
                    layer
                        .inputs
                        .copy_from(previous.hidden.subcols(batch, columns));
                    if let Some(mask) = self.masks.get(l - 1) {
                        multiply_elementwise(layer.inputs.as_mut(), mask.as_ref());
                    }
                }
            }
            let tokens = (l == 0).then_some(self.tokens.as_slice());
            forward_layer(
                arch,
                (&weights.layers[l], recurrent),
                layer,
                tokens.filter(|t| !t.is_empty()),
                (&mut self.step_hidden_preact, &mut self.rhs),
                (batch, seq_len),
            );
        }
    }

    /// Backpropagates the part's columns of `d_outputs` (the whole batch's `dL/dH` of the top
    /// layer, `n x B T`) and overwrites the part's gradient in `scratch.grads`.
    /// `recurrent_transposed[l]` is layer `l`'s `U^T`.
    pub(super) fn backward(
        &self,
        weights: &StackWeights<T>,
        recurrent_transposed: &[PackedMatrix<T>],
        d_outputs: MatRef<'_, T>,
        full_batch: usize,
        seq_len: usize,
    ) {
        let (batch, columns) = (self.batch, self.batch * seq_len);
        let n = weights.hidden_size;
        let arch = weights.arch;
        let separate = arch.separate_hidden_path();
        let gate_rows = arch.gates() * n;
        let mut scratch = self
            .backward
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let BackwardScratch {
            d_input_preact,
            d_hidden_preact,
            d_h_carry,
            d_h_carry_next,
            d_c_carry,
            rhs,
            d_hidden,
            d_hidden_below,
            grads,
        } = &mut *scratch;
        if !grads.as_ref().is_some_and(|g| same_shape(g, weights)) {
            *grads = Some(weights.zeros_like());
        }
        let grads = grads.as_mut().expect("set above");
        ensure_shape(d_input_preact, gate_rows, columns);
        let d_hidden_preact_rows = if separate { gate_rows } else { 0 };
        ensure_shape(d_hidden_preact, d_hidden_preact_rows, columns);
        ensure_shape(d_h_carry, n, batch);
        ensure_shape(d_h_carry_next, n, batch);
        ensure_shape(d_c_carry, if arch.has_cell_state() { n } else { 0 }, batch);
        ensure_shape(d_hidden, n, columns);
        gather_columns(d_hidden, d_outputs, full_batch, (self.first, batch));
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let layer_weights = &weights.layers[l];
            d_h_carry.fill(T::zero());
            d_c_carry.fill(T::zero());
            for t in (0..seq_len).rev() {
                let block = t * batch;
                GradViews {
                    arch,
                    gates: layer.gates.subcols(block, batch),
                    hidden_preact: layer.hidden_preact.subcols(block, batch),
                    h_prev: layer.hidden.subcols(block, batch),
                    c_prev: layer.cell.subcols(block, batch),
                    c: layer.cell.subcols(block + batch, batch),
                    d_h_output: d_hidden.subcols(block, batch),
                    d_h_future: d_h_carry.as_ref(),
                    d_c: d_c_carry.as_mut(),
                    d_input_preact: d_input_preact.as_mut().subcols_mut(block, batch),
                    d_hidden_preact: d_hidden_preact.as_mut().subcols_mut(block, batch),
                    d_h_prev_direct: if separate {
                        d_h_carry_next.as_mut()
                    } else {
                        MatMut::from_column_major_slice_mut(&mut [], 0, batch)
                    },
                }
                .run();
                if t > 0 {
                    // dH_(t-1) = U^T dA_hid,t (+ the direct part already in place for GRU)
                    let (d_hidden_step, accum) = if separate {
                        (d_hidden_preact.subcols(block, batch), Accum::Add)
                    } else {
                        (d_input_preact.subcols(block, batch), Accum::Replace)
                    };
                    let u_transposed = &recurrent_transposed[l];
                    u_transposed.matmul(d_h_carry_next.as_mut(), accum, d_hidden_step, rhs);
                    std::mem::swap(d_h_carry, d_h_carry_next);
                }
            }
            let d_hidden_all = if separate {
                d_hidden_preact.as_ref()
            } else {
                d_input_preact.as_ref()
            };
            let layer_grads = &mut grads.layers[l];
            // dU = dA_hid H_prev^T, without the first step's columns: h_0 = 0
            let d_hidden_later = d_hidden_all.subcols(batch, columns - batch);
            let h_prev_later = layer.hidden_transposed.as_ref();
            let d_weight_hh = layer_grads.weight_hh.as_mut();
            gemm(
                d_weight_hh,
                Accum::Replace,
                d_hidden_later,
                h_prev_later,
                T::one(),
            );
            // dW = dA_in X^T: a scatter-add of columns for one-hot tokens
            if l == 0 && !self.tokens.is_empty() {
                layer_grads.weight_ih.fill(T::zero());
                for (j, &token) in self.tokens.iter().enumerate() {
                    let d_column = d_input_preact.col_as_slice(j);
                    let column = layer_grads.weight_ih.col_as_slice_mut(token as usize);
                    column.iter_mut().zip(d_column).for_each(|(g, &d)| *g += d);
                }
            } else {
                let x_all = layer.inputs.transpose();
                let d_weight_ih = layer_grads.weight_ih.as_mut();
                let d_input = d_input_preact.as_ref();
                gemm(d_weight_ih, Accum::Replace, d_input, x_all, T::one());
            }
            if let Some(d_bias) = layer_grads.bias_ih.as_deref_mut() {
                d_bias.fill(T::zero());
                add_row_sums(d_bias, d_input_preact.as_ref());
            }
            if let Some(d_bias) = layer_grads.bias_hh.as_deref_mut() {
                d_bias.fill(T::zero());
                add_row_sums(d_bias, d_hidden_all);
            }
            if l > 0 {
                // dX = W^T dA_in, then through the inter-layer dropout mask
                ensure_shape(d_hidden_below, n, columns);
                let w_transposed = layer_weights.weight_ih.transpose();
                let d_input = d_input_preact.as_ref();
                let d_below = d_hidden_below.as_mut();
                gemm(d_below, Accum::Replace, w_transposed, d_input, T::one());
                if let Some(mask) = self.masks.get(l - 1) {
                    multiply_elementwise(d_hidden_below.as_mut(), mask.as_ref());
                }
                std::mem::swap(d_hidden, d_hidden_below);
            }
        }
    }
}

/// One layer over all time steps of a part (its `inputs` or `tokens` already set):
/// `A_in = W X + b_ih` (a column gather `W[:, token]` for tokens), then per step
/// `A_hid = U H_(t-1) + b_hh` and the cell's pointwise step. `recurrent` is the layer's `U`,
/// packed.
fn forward_layer<T: Real>(
    arch: Arch,
    (weights, recurrent): (&LayerWeights<T>, &PackedMatrix<T>),
    layer: &mut LayerCache<T>,
    tokens: Option<&[u32]>,
    (step_hidden_preact, rhs): (&mut Mat<T>, &mut RhsPanels<T>),
    (batch, seq_len): (usize, usize),
) {
    let gates = &mut layer.gates;
    match tokens {
        Some(tokens) => {
            for (j, &token) in tokens.iter().enumerate() {
                let column = weights.weight_ih.col_as_slice(token as usize);
                gates.col_as_slice_mut(j).copy_from_slice(column);
            }
        }
        None => {
            let inputs = layer.inputs.as_ref();
            gemm(
                gates.as_mut(),
                Accum::Replace,
                weights.weight_ih.as_ref(),
                inputs,
                T::one(),
            );
        }
    }
    if let Some(bias) = weights.bias_ih.as_deref() {
        (0..gates.ncols()).for_each(|j| add_bias(gates.col_as_slice_mut(j), Some(bias)));
    }
    layer.hidden.subcols_mut(0, batch).fill(T::zero());
    layer.cell.subcols_mut(0, batch).fill(T::zero());
    for t in 0..seq_len {
        let block = t * batch;
        let (past_h, mut next_h) = layer.hidden.split_at_col_mut(block + batch);
        let (past_c, mut next_c) = layer.cell.split_at_col_mut(block + batch);
        let h_prev = past_h.rb().subcols(block, batch);
        let mut hidden_preact = if arch.separate_hidden_path() {
            layer.hidden_preact.as_mut().subcols_mut(block, batch)
        } else {
            step_hidden_preact.as_mut()
        };
        if t == 0 {
            // h_0 = 0, so U h_0 = 0
            hidden_preact.fill(T::zero());
        } else {
            recurrent.matmul(hidden_preact.rb_mut(), Accum::Replace, h_prev, rhs);
        }
        if let Some(bias) = weights.bias_hh.as_deref() {
            for j in 0..batch {
                add_bias(column_mut(hidden_preact.rb_mut(), j), Some(bias));
            }
        }
        ForwardViews {
            arch,
            gates: gates.as_mut().subcols_mut(block, batch),
            hidden_preact: hidden_preact.rb(),
            h_prev,
            c_prev: past_c.rb().subcols(block, batch),
            h: next_h.rb_mut().subcols_mut(0, batch),
            c: next_c.rb_mut().subcols_mut(0, batch),
        }
        .run();
        if t + 1 < seq_len {
            let h = next_h.rb().subcols(0, batch);
            write_transposed(&mut layer.hidden_transposed, block, h);
        }
    }
}

/// Writes `src` (`n x B_p`) transposed into rows `first_row .. first_row + B_p` of `dst`
/// (`rows x n`), a tile of 16 rows of `src` at a time so that the 16 destination columns being
/// written stay in the L1 cache.
fn write_transposed<T: Real>(dst: &mut Mat<T>, first_row: usize, src: MatRef<'_, T>) {
    const TILE: usize = 16;
    let (n, batch) = (src.nrows(), src.ncols());
    for tile_start in (0..n).step_by(TILE) {
        let tile_rows = TILE.min(n - tile_start);
        let tile = src.subrows(tile_start, tile_rows);
        for b in 0..batch {
            for (offset, &value) in column(tile, b).iter().enumerate() {
                dst.col_as_slice_mut(tile_start + offset)[first_row + b] = value;
            }
        }
    }
}

/// Whether `a` has the shapes (and bias presence) of `b`.
fn same_shape<T: Real>(a: &StackWeights<T>, b: &StackWeights<T>) -> bool {
    let dims = |m: &Mat<T>| (m.nrows(), m.ncols());
    a.arch == b.arch
        && a.layers.len() == b.layers.len()
        && a.layers.iter().zip(&b.layers).all(|(x, y)| {
            dims(&x.weight_ih) == dims(&y.weight_ih)
                && dims(&x.weight_hh) == dims(&y.weight_hh)
                && x.bias_ih.as_ref().map(Vec::len) == y.bias_ih.as_ref().map(Vec::len)
                && x.bias_hh.as_ref().map(Vec::len) == y.bias_hh.as_ref().map(Vec::len)
        })
}

/// `mat *= mask` elementwise (same shapes).
fn multiply_elementwise<T: Real>(mut mat: MatMut<'_, T>, mask: MatRef<'_, T>) {
    for j in 0..mat.ncols() {
        column_mut(mat.rb_mut(), j)
            .iter_mut()
            .zip(column(mask, j))
            .for_each(|(v, &m)| *v *= m);
    }
}

//! The recurrent cells, one file each: forward step, Jacobians, gradient, in one notation
//! (docs/DESIGN.md section 3).
//!
//! Every cell is evaluated in the same frame, shared with training (docs/DESIGN.md section 5):
//! - the input pre-activation `W x + b_ih` and the hidden pre-activation `U h + b_hh` (gate
//!   row blocks stacked in PyTorch's order, `G n` rows) are computed by the caller with gemms;
//! - the cell's pointwise step turns them into gate activations and the new state;
//! - its Jacobian is formed from the activations by row-scaling weight columns into a
//!   [`LayerJacobian`];
//! - its pointwise gradient turns `dL/dh'` (and `dL/dc'`) into pre-activation gradients.

pub mod gru;
pub mod lstm;
pub mod rnn;

use crate::activation::Activation;
use crate::arch::{Arch, LstmState};
use crate::math::{add_row_scaled, set_two_row_scaled};
use crate::weights::LayerWeights;
use faer::reborrow::ReborrowMut;
use faer::{Accum, Mat, MatMut, MatRef};
use lyap_core::dense::gemm;
use lyap_core::Real;

/// The dispatch from a layer's architecture to its cell's pointwise code.
impl Arch {
    /// One forward step for one sample; see each cell's `step`.
    #[inline(always)]
    pub fn step<T: Real>(self, io: StepSlices<'_, T>) {
        match self {
            Arch::RnnTanh => rnn::step(Activation::Tanh, io),
            Arch::RnnRelu => rnn::step(Activation::Relu, io),
            Arch::Lstm => lstm::step(io),
            Arch::Gru => gru::step(io),
        }
    }

    /// One backward step for one sample; see each cell's `backward`.
    #[inline(always)]
    pub fn backward<T: Real>(self, io: GradSlices<'_, T>) {
        match self {
            Arch::RnnTanh => rnn::backward(Activation::Tanh, io),
            Arch::RnnRelu => rnn::backward(Activation::Relu, io),
            Arch::Lstm => lstm::backward(io),
            Arch::Gru => gru::backward(io),
        }
    }
}

/// What one sample's forward step reads and writes (all slices of one column).
pub struct StepSlices<'a, T> {
    /// In: the input pre-activation `W x + b_ih` (`G n`). Out: the gate activations.
    pub gates: &'a mut [T],
    /// The hidden pre-activation `U h + b_hh` (`G n`).
    pub hidden_preact: &'a [T],
    /// `h` and (LSTM) `c` entering the step; `c_prev` is empty for the other cells.
    pub h_prev: &'a [T],
    pub c_prev: &'a [T],
    /// `h'` and (LSTM) `c'` leaving the step.
    pub h: &'a mut [T],
    pub c: &'a mut [T],
}

/// What one sample's backward step reads and writes (all slices of one column).
pub struct GradSlices<'a, T> {
    /// Values kept by the forward step (see [`StepSlices`]); `c` is `c'`.
    pub gates: &'a [T],
    pub hidden_preact: &'a [T],
    pub h_prev: &'a [T],
    pub c_prev: &'a [T],
    pub c: &'a [T],
    /// `dL/dh'` from the output at this step and from the future step: summed.
    pub d_h_output: &'a [T],
    pub d_h_future: &'a [T],
    /// In: `dL/dc'` from the future step. Out: `dL/dc` (LSTM; empty otherwise).
    pub d_c: &'a mut [T],
    /// Out: `dL/d(W x + b_ih)` (`G n`).
    pub d_input_preact: &'a mut [T],
    /// Out (GRU only, empty otherwise): `dL/d(U h + b_hh)`; for the other cells it equals
    /// `d_input_preact`.
    pub d_hidden_preact: &'a mut [T],
    /// Out (GRU only): the direct part `dL/dh'  * dh'/dh |_(gates fixed)` of `dL/dh`.
    pub d_h_prev_direct: &'a mut [T],
}

/// One layer's Jacobians at one step, formed by row scaling (docs/DESIGN.md section 3):
///
/// ```text
/// R = [ state_block | diag(h_from_c) ]      K = input_block
///     [             | diag(c_from_c) ]
/// ```
///
/// `state_block` holds the columns of the state Jacobian `R` with respect to `h` (all `d`
/// state rows: `d = n`, or `2 n` for a full-state LSTM whose rows are `h` then `c`);
/// the `c`-columns of a full-state LSTM are diagonal and kept as two vectors.
/// `input_block` is the input Jacobian `K` (`d x m`), `dh'/dx` and, full LSTM, `dc'/dx`.
#[derive(Clone, Debug)]
pub struct LayerJacobian<T: Real> {
    pub state_block: Mat<T>,
    pub input_block: Mat<T>,
    /// `dh'/dc = diag(o dtc f)` and `dc'/dc = diag(f)`; empty unless full-state LSTM.
    pub h_from_c: Vec<T>,
    pub c_from_c: Vec<T>,
}

impl<T: Real> LayerJacobian<T> {
    /// Buffers for a layer with hidden size `n`, state dimension `state_dim`, input size `m`.
    pub fn new(n: usize, state_dim: usize, m: usize) -> Self {
        let cell_columns = if state_dim > n { n } else { 0 };
        Self {
            state_block: Mat::zeros(state_dim, n),
            input_block: Mat::zeros(state_dim, m),
            h_from_c: vec![T::zero(); cell_columns],
            c_from_c: vec![T::zero(); cell_columns],
        }
    }

    fn hidden_size(&self) -> usize {
        self.state_block.ncols()
    }

    fn has_cell_columns(&self) -> bool {
        !self.c_from_c.is_empty()
    }

    /// `out = R V`: one gemm with the `h` rows of `V`, plus the diagonal `c`-columns
    /// (`out_h += diag(o dtc f) V_c`, `out_c += diag(f) V_c`).
    pub fn apply_state(&self, tangent: MatRef<'_, T>, mut out: MatMut<'_, T>) {
        let n = self.hidden_size();
        gemm(
            out.rb_mut(),
            Accum::Replace,
            self.state_block.as_ref(),
            tangent.subrows(0, n),
            T::one(),
        );
        if self.has_cell_columns() {
            let tangent_c = tangent.subrows(n, n);
            add_row_scaled(out.rb_mut().subrows_mut(0, n), &self.h_from_c, tangent_c);
            add_row_scaled(out.subrows_mut(n, n), &self.c_from_c, tangent_c);
        }
    }

    /// `out = R^T W`: `out_h = state_block^T W` (one gemm),
    /// `out_c = diag(o dtc f) W_h + diag(f) W_c`.
    pub fn apply_state_transposed(&self, tangent: MatRef<'_, T>, mut out: MatMut<'_, T>) {
        let n = self.hidden_size();
        gemm(
            out.rb_mut().subrows_mut(0, n),
            Accum::Replace,
            self.state_block.transpose(),
            tangent,
            T::one(),
        );
        if self.has_cell_columns() {
            set_two_row_scaled(
                out.subrows_mut(n, n),
                (&self.h_from_c, tangent.subrows(0, n)),
                (&self.c_from_c, tangent.subrows(n, n)),
            );
        }
    }

    /// `out += K Y` (`Y`: the `h` rows of the layer below's new tangent vectors).
    pub fn add_input(&self, below: MatRef<'_, T>, out: MatMut<'_, T>) {
        gemm(out, Accum::Add, self.input_block.as_ref(), below, T::one());
    }

    /// `out = K^T W` (`Accum::Replace`) or `out += K^T W` (`Accum::Add`).
    pub fn apply_input_transposed(&self, tangent: MatRef<'_, T>, out: MatMut<'_, T>, accum: Accum) {
        gemm(out, accum, self.input_block.transpose(), tangent, T::one());
    }
}

/// Per-trajectory buffers of one layer for the single-sequence step used by the spectrum.
#[derive(Clone, Debug)]
pub struct LayerStep<T: Real> {
    /// `W x + b_ih`, then (after the step) the gate activations.
    pub gates: Mat<T>,
    /// `U h + b_hh`.
    pub hidden_preact: Mat<T>,
    pub h_prev: Vec<T>,
    pub c_prev: Vec<T>,
    pub h: Vec<T>,
    pub c: Vec<T>,
    /// Row-scaling coefficients of the Jacobian (`8 n`, laid out by each cell).
    pub coefficients: Vec<T>,
}

impl<T: Real> LayerStep<T> {
    /// Zero state for a layer of `arch` with hidden size `n`.
    pub fn new(arch: Arch, n: usize) -> Self {
        let gates = arch.gates();
        let cell_len = if arch.has_cell_state() { n } else { 0 };
        Self {
            gates: Mat::zeros(gates * n, 1),
            hidden_preact: Mat::zeros(gates * n, 1),
            h_prev: vec![T::zero(); n],
            c_prev: vec![T::zero(); cell_len],
            h: vec![T::zero(); n],
            c: vec![T::zero(); cell_len],
            coefficients: vec![T::zero(); 8 * n],
        }
    }

    /// Advances the layer by one step on input `x`: `gates = W x + b_ih`,
    /// `hidden_preact = U h + b_hh`, then the cell's pointwise step.
    pub fn advance(&mut self, arch: Arch, weights: &LayerWeights<T>, x: &[T]) {
        let x = MatRef::from_column_major_slice(x, x.len(), 1);
        gemm(
            self.gates.as_mut(),
            Accum::Replace,
            weights.weight_ih.as_ref(),
            x,
            T::one(),
        );
        std::mem::swap(&mut self.h, &mut self.h_prev);
        std::mem::swap(&mut self.c, &mut self.c_prev);
        let h_prev = MatRef::from_column_major_slice(&self.h_prev, self.h_prev.len(), 1);
        gemm(
            self.hidden_preact.as_mut(),
            Accum::Replace,
            weights.weight_hh.as_ref(),
            h_prev,
            T::one(),
        );
        add_bias(self.gates.col_as_slice_mut(0), weights.bias_ih.as_deref());
        add_bias(
            self.hidden_preact.col_as_slice_mut(0),
            weights.bias_hh.as_deref(),
        );
        arch.step(StepSlices {
            gates: self.gates.col_as_slice_mut(0),
            hidden_preact: self.hidden_preact.col_as_slice(0),
            h_prev: &self.h_prev,
            c_prev: &self.c_prev,
            h: &mut self.h,
            c: &mut self.c,
        });
    }

    /// Forms this layer's Jacobians of the last step into `jacobian` (the input block only if
    /// `with_input`: the first layer's inputs carry no tangent).
    pub fn form_jacobian(
        &mut self,
        arch: Arch,
        weights: &LayerWeights<T>,
        lstm_state: LstmState,
        with_input: bool,
        jacobian: &mut LayerJacobian<T>,
    ) {
        match arch {
            Arch::RnnTanh => {
                rnn::form_jacobian(Activation::Tanh, self, weights, with_input, jacobian)
            }
            Arch::RnnRelu => {
                rnn::form_jacobian(Activation::Relu, self, weights, with_input, jacobian)
            }
            Arch::Lstm => lstm::form_jacobian(self, weights, lstm_state, with_input, jacobian),
            Arch::Gru => gru::form_jacobian(self, weights, with_input, jacobian),
        }
    }
}

/// `values += bias` when the layer has biases.
#[inline]
pub fn add_bias<T: Real>(values: &mut [T], bias: Option<&[T]>) {
    if let Some(bias) = bias {
        for (v, &b) in values.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// Fills column `j` of `out` from column `j` of `weight` with `fill(weight_column, out_column)`
/// for every `j`: one pass over the weight matrix, all gate blocks of a column together.
pub fn fill_columns<T: Real>(
    weight: &Mat<T>,
    out: &mut Mat<T>,
    mut fill: impl FnMut(&[T], &mut [T]),
) {
    for j in 0..weight.ncols() {
        fill(weight.col_as_slice(j), out.col_as_slice_mut(j));
    }
}

//! Vanilla RNN cell, `rnn-tanh` and `rnn-relu` (docs/DESIGN.md section 3).
//!
//! ```text
//! a  = W x + b_ih + U h + b_hh        h' = phi(a)
//! dh'/dh = diag(phi'(a)) U            dh'/dx = diag(phi'(a)) W
//! dL/da  = dL/dh' * phi'(a)           dL/dh  = U^T dL/da
//! ```
//! `phi'(a)` is computed from the output `h'` (`1 - h'^2`, or `[h' > 0]`).

use super::{fill_columns, GradSlices, LayerJacobian, LayerStep, StepSlices};
use crate::activation::Activation;
use crate::math::gate;
use crate::weights::LayerWeights;
use lyap_core::Real;

/// Forward step: `gates = h' = phi(W x + b_ih + U h + b_hh)`.
#[inline(always)]
pub fn step<T: Real>(activation: Activation, io: StepSlices<'_, T>) {
    for ((a, &hidden), h) in io
        .gates
        .iter_mut()
        .zip(io.hidden_preact)
        .zip(io.h.iter_mut())
    {
        *a = activation.apply(*a + hidden);
        *h = *a;
    }
}

/// Jacobians `R = diag(phi'(a)) U` and `K = diag(phi'(a)) W`, by row scaling.
pub fn form_jacobian<T: Real>(
    activation: Activation,
    step: &mut LayerStep<T>,
    weights: &LayerWeights<T>,
    with_input: bool,
    jacobian: &mut LayerJacobian<T>,
) {
    let n = step.h.len();
    let slope = &mut step.coefficients[..n];
    for (s, &h) in slope.iter_mut().zip(&step.h) {
        *s = activation.slope_from_output(h);
    }
    let slope = gate(&step.coefficients, 0, n);
    let scale_rows = |column: &[T], out: &mut [T]| {
        for ((o, &w), &s) in out.iter_mut().zip(column).zip(slope) {
            *o = s * w;
        }
    };
    fill_columns(&weights.weight_hh, &mut jacobian.state_block, scale_rows);
    if with_input {
        fill_columns(&weights.weight_ih, &mut jacobian.input_block, scale_rows);
    }
}

/// Backward step: `dL/da = (dL/dh'_output + dL/dh'_future) * phi'(a)`; the input and hidden
/// pre-activation gradients are both `dL/da`.
#[inline(always)]
pub fn backward<T: Real>(activation: Activation, io: GradSlices<'_, T>) {
    let GradSlices {
        gates,
        d_h_output,
        d_h_future,
        d_input_preact,
        ..
    } = io;
    for r in 0..gates.len() {
        let d_h = d_h_output[r] + d_h_future[r];
        d_input_preact[r] = d_h * activation.slope_from_output(gates[r]);
    }
}

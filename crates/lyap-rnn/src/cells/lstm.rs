//! LSTM cell, gate order i, f, g, o (docs/DESIGN.md section 3).
//!
//! ```text
//! a = W x + b_ih + U h + b_hh            (row blocks a_i, a_f, a_g, a_o)
//! i = s(a_i)  f = s(a_f)  g = tanh(a_g)  o = s(a_o)
//! c' = f*c + i*g                          h' = o*tanh(c')
//! ```
//! With `di = i(1-i)`, `df = f(1-f)`, `dg = 1-g^2`, `do = o(1-o)`, `tc = tanh(c')`,
//! `dtc = 1-tc^2`:
//! ```text
//! G_h = dc'/dh = diag(c*df) U_f + diag(g*di) U_i + diag(i*dg) U_g     dc'/dc = diag(f)
//! dh'/dh = diag(tc*do) U_o + diag(o*dtc) G_h                          dh'/dc = diag(o*dtc*f)
//! G_x = dc'/dx = diag(c*df) W_f + diag(g*di) W_i + diag(i*dg) W_g
//! dh'/dx = diag(tc*do) W_o + diag(o*dtc) G_x
//! ```
//! Gradient, with `dh = dL/dh'` and `dc' = dL/dc'` (from the future step):
//! ```text
//! dc = dc' + dh*o*dtc      dL/da_i = dc*g*di   dL/da_f = dc*c*df   dL/da_g = dc*i*dg
//! dL/da_o = dh*tc*do       dL/dc = dc*f        dL/dh = U^T dL/da
//! ```

use super::{fill_columns, GradSlices, LayerJacobian, LayerStep, StepSlices};
use crate::activation::{sigmoid, sigmoid_slope, tanh, tanh_slope};
use crate::arch::LstmState;
use crate::math::{combine_three, combine_two, first_three_gates, gate};
use crate::weights::LayerWeights;
use lyap_core::Real;

/// Forward step: gate activations `(i, f, g, o)` in place of the input pre-activation,
/// `c' = f*c + i*g`, `h' = o*tanh(c')`.
#[inline(always)]
pub fn step<T: Real>(io: StepSlices<'_, T>) {
    let n = io.h.len();
    for (a, &hidden) in io.gates.iter_mut().zip(io.hidden_preact) {
        *a += hidden;
    }
    // every slice re-cut to length `n`, so the loop has no bounds checks and vectorises
    let (ifg, o) = io.gates.split_at_mut(3 * n);
    let (i, fg) = ifg.split_at_mut(n);
    let (f, g) = fg.split_at_mut(n);
    let (g, o) = (&mut g[..n], &mut o[..n]);
    let (c_prev, c, h) = (&io.c_prev[..n], &mut io.c[..n], &mut io.h[..n]);
    for r in 0..n {
        i[r] = sigmoid(i[r]);
        f[r] = sigmoid(f[r]);
        g[r] = tanh(g[r]);
        o[r] = sigmoid(o[r]);
        c[r] = f[r] * c_prev[r] + i[r] * g[r];
        h[r] = o[r] * tanh(c[r]);
    }
}

/// Forms `[dh'/dh; dc'/dh]` (full state) or `dh'/dh` (hidden state) and the matching input
/// Jacobian, one pass over each weight matrix: for every column the four gate blocks are read
/// together and `G` is computed once and reused for the `h` rows.
pub fn form_jacobian<T: Real>(
    step: &mut LayerStep<T>,
    weights: &LayerWeights<T>,
    lstm_state: LstmState,
    with_input: bool,
    jacobian: &mut LayerJacobian<T>,
) {
    let n = step.h.len();
    let gates = step.gates.col_as_slice(0);
    let (coefficients, scratch) = step.coefficients.split_at_mut(5 * n);
    {
        let (c_df, rest) = coefficients.split_at_mut(n);
        let (g_di, rest) = rest.split_at_mut(n);
        let (i_dg, rest) = rest.split_at_mut(n);
        let (tc_do, o_dtc) = rest.split_at_mut(n);
        let (i, f, g, o) = (
            gate(gates, 0, n),
            gate(gates, 1, n),
            gate(gates, 2, n),
            gate(gates, 3, n),
        );
        for r in 0..n {
            let tc = tanh(step.c[r]);
            c_df[r] = step.c_prev[r] * sigmoid_slope(f[r]);
            g_di[r] = g[r] * sigmoid_slope(i[r]);
            i_dg[r] = i[r] * tanh_slope(g[r]);
            tc_do[r] = tc * sigmoid_slope(o[r]);
            o_dtc[r] = o[r] * tanh_slope(tc);
        }
        if lstm_state == LstmState::Full {
            for r in 0..n {
                jacobian.h_from_c[r] = o_dtc[r] * f[r];
                jacobian.c_from_c[r] = f[r];
            }
        }
    }
    let coefficients = &*coefficients;
    let (c_df, g_di, i_dg, tc_do, o_dtc) = (
        gate(coefficients, 0, n),
        gate(coefficients, 1, n),
        gate(coefficients, 2, n),
        gate(coefficients, 3, n),
        gate(coefficients, 4, n),
    );
    let mut fill = |w: &[T], out: &mut [T]| {
        // out = [dh'/d. ; dc'/d.] (full) or dh'/d. (hidden), for one weight column
        let (out_h, out_c) = match lstm_state {
            LstmState::Full => out.split_at_mut(n),
            LstmState::Hidden => (out, &mut scratch[..n]),
        };
        combine_three(out_c, [g_di, c_df, i_dg], first_three_gates(w, n));
        combine_two(out_h, [tc_do, o_dtc], [gate(w, 3, n), out_c]);
    };
    fill_columns(&weights.weight_hh, &mut jacobian.state_block, &mut fill);
    if with_input {
        fill_columns(&weights.weight_ih, &mut jacobian.input_block, &mut fill);
    }
}

/// Backward step (formulas in the module documentation). `d_c` enters as `dL/dc'` and leaves
/// as `dL/dc`.
#[inline(always)]
pub fn backward<T: Real>(io: GradSlices<'_, T>) {
    let n = io.c.len();
    let (i, f, g, o) = (
        gate(io.gates, 0, n),
        gate(io.gates, 1, n),
        gate(io.gates, 2, n),
        gate(io.gates, 3, n),
    );
    let (d_ifg, d_o) = io.d_input_preact.split_at_mut(3 * n);
    let (d_i, d_fg) = d_ifg.split_at_mut(n);
    let (d_f, d_g) = d_fg.split_at_mut(n);
    // every slice re-cut to length `n`, so the loop has no bounds checks and vectorises
    let (d_g, d_o, d_c_io) = (&mut d_g[..n], &mut d_o[..n], &mut io.d_c[..n]);
    let (d_h_output, d_h_future) = (&io.d_h_output[..n], &io.d_h_future[..n]);
    let (c, c_prev) = (&io.c[..n], &io.c_prev[..n]);
    for r in 0..n {
        let d_h = d_h_output[r] + d_h_future[r];
        let tc = tanh(c[r]);
        let d_c = d_c_io[r] + d_h * o[r] * tanh_slope(tc);
        d_i[r] = d_c * g[r] * sigmoid_slope(i[r]);
        d_f[r] = d_c * c_prev[r] * sigmoid_slope(f[r]);
        d_g[r] = d_c * i[r] * tanh_slope(g[r]);
        d_o[r] = d_h * tc * sigmoid_slope(o[r]);
        d_c_io[r] = d_c * f[r];
    }
}

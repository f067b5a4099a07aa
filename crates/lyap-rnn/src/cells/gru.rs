//! GRU cell, gate order r, z, n (docs/DESIGN.md section 3).
//!
//! ```text
//! r = s(W_r x + b_ir + U_r h + b_hr)      z = s(W_z x + b_iz + U_z h + b_hz)
//! hn = U_n h + b_hn                        n = tanh(W_n x + b_in + r*hn)
//! h' = (1-z)*n + z*h
//! ```
//! The separate `b_hn` sits inside `r*(...)`: the `n` gate's biases cannot be merged.
//! With `dr = r(1-r)`, `dz = z(1-z)`, `dn = 1-n^2`:
//! ```text
//! dh'/dh = diag(z) + diag((h-n)*dz) U_z + diag((1-z)*dn) [ diag(hn*dr) U_r + diag(r) U_n ]
//! dh'/dx =           diag((h-n)*dz) W_z + diag((1-z)*dn) [ diag(hn*dr) W_r + W_n ]
//! ```
//! Gradient, with `dh = dL/dh'` and `da_n = dh*(1-z)*dn`:
//! ```text
//! dL/d(input  pre-act) = [ da_n*hn*dr, dh*(h-n)*dz, da_n   ]
//! dL/d(hidden pre-act) = [ da_n*hn*dr, dh*(h-n)*dz, da_n*r ]
//! dL/dh = dh*z + U^T dL/d(hidden pre-act)
//! ```

use super::{fill_columns, GradSlices, LayerJacobian, LayerStep, StepSlices};
use crate::activation::{one, sigmoid, sigmoid_slope, tanh, tanh_slope};
use crate::math::{add_to_diagonal, combine_three, first_three_gates, gate};
use crate::weights::LayerWeights;
use lyap_core::Real;

/// Forward step: gate activations `(r, z, n)` in place of the input pre-activation and
/// `h' = (1-z)*n + z*h`.
#[inline(always)]
pub fn step<T: Real>(io: StepSlices<'_, T>) {
    let n_size = io.h.len();
    let (rz, n) = io.gates.split_at_mut(2 * n_size);
    let (r, z) = rz.split_at_mut(n_size);
    let (hidden_r, hidden_z, hidden_n) = (
        gate(io.hidden_preact, 0, n_size),
        gate(io.hidden_preact, 1, n_size),
        gate(io.hidden_preact, 2, n_size),
    );
    for k in 0..n_size {
        r[k] = sigmoid(r[k] + hidden_r[k]);
        z[k] = sigmoid(z[k] + hidden_z[k]);
        n[k] = tanh(n[k] + r[k] * hidden_n[k]);
        io.h[k] = (one::<T>() - z[k]) * n[k] + z[k] * io.h_prev[k];
    }
}

/// Forms `dh'/dh` (then adds `diag(z)` on its diagonal) and `dh'/dx`, one pass over each
/// weight matrix with the three gate blocks of a column read together.
pub fn form_jacobian<T: Real>(
    step: &mut LayerStep<T>,
    weights: &LayerWeights<T>,
    with_input: bool,
    jacobian: &mut LayerJacobian<T>,
) {
    let n_size = step.h.len();
    let gates = step.gates.col_as_slice(0);
    let (r, z, n) = (
        gate(gates, 0, n_size),
        gate(gates, 1, n_size),
        gate(gates, 2, n_size),
    );
    let hidden_n = gate(step.hidden_preact.col_as_slice(0), 2, n_size);
    {
        let (z_coef, rest) = step.coefficients.split_at_mut(n_size);
        let (n_coef, rest) = rest.split_at_mut(n_size);
        let (r_coef, rest) = rest.split_at_mut(n_size);
        let u_n_coef = &mut rest[..n_size];
        for k in 0..n_size {
            z_coef[k] = (step.h_prev[k] - n[k]) * sigmoid_slope(z[k]);
            n_coef[k] = (one::<T>() - z[k]) * tanh_slope(n[k]);
            r_coef[k] = n_coef[k] * hidden_n[k] * sigmoid_slope(r[k]);
            u_n_coef[k] = n_coef[k] * r[k];
        }
    }
    let coefficients = &step.coefficients;
    let (z_coef, n_coef, r_coef, u_n_coef) = (
        gate(coefficients, 0, n_size),
        gate(coefficients, 1, n_size),
        gate(coefficients, 2, n_size),
        gate(coefficients, 3, n_size),
    );
    fill_columns(&weights.weight_hh, &mut jacobian.state_block, |u, out| {
        combine_three(
            out,
            [r_coef, z_coef, u_n_coef],
            first_three_gates(u, n_size),
        );
    });
    add_to_diagonal(&mut jacobian.state_block, z);
    if with_input {
        fill_columns(&weights.weight_ih, &mut jacobian.input_block, |w, out| {
            combine_three(out, [r_coef, z_coef, n_coef], first_three_gates(w, n_size));
        });
    }
}

/// Backward step (formulas in the module documentation); writes both pre-activation
/// gradients and the direct path `dh*z` of `dL/dh`.
#[inline(always)]
pub fn backward<T: Real>(io: GradSlices<'_, T>) {
    let n_size = io.h_prev.len();
    let (r, z, n) = (
        gate(io.gates, 0, n_size),
        gate(io.gates, 1, n_size),
        gate(io.gates, 2, n_size),
    );
    let hidden_n = gate(io.hidden_preact, 2, n_size);
    let (d_in_rz, d_in_n) = io.d_input_preact.split_at_mut(2 * n_size);
    let (d_in_r, d_in_z) = d_in_rz.split_at_mut(n_size);
    let (d_hid_rz, d_hid_n) = io.d_hidden_preact.split_at_mut(2 * n_size);
    let (d_hid_r, d_hid_z) = d_hid_rz.split_at_mut(n_size);
    for k in 0..n_size {
        let d_h = io.d_h_output[k] + io.d_h_future[k];
        let d_a_n = d_h * (one::<T>() - z[k]) * tanh_slope(n[k]);
        let d_a_r = d_a_n * hidden_n[k] * sigmoid_slope(r[k]);
        let d_a_z = d_h * (io.h_prev[k] - n[k]) * sigmoid_slope(z[k]);
        d_in_r[k] = d_a_r;
        d_in_z[k] = d_a_z;
        d_in_n[k] = d_a_n;
        d_hid_r[k] = d_a_r;
        d_hid_z[k] = d_a_z;
        d_hid_n[k] = d_a_n * r[k];
        io.d_h_prev_direct[k] = d_h * z[k];
    }
}

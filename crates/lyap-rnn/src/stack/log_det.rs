//! `ln|det J_t|` of a recurrent stack from its structure, for the sum rule (docs/DESIGN.md
//! section 2, "Built-in checks", and section 3, "Stacks of layers").
//!
//! The joint Jacobian is block lower-triangular with the layers' state Jacobians `R^l` on its
//! diagonal, so `ln|det J| = sum_l ln|det R^l|`, and per layer:
//! ```text
//! RNN:          R = diag(phi'(a)) U                  ln|det R| = sum_r ln|phi'_r| + ln|det U|
//! LSTM (h, c):  R = [ diag(tc do) U_o + diag(o dtc) G_h   diag(o dtc f) ]
//!                   [ G_h                                 diag(f)       ]
//!               subtracting diag(o dtc) times the c rows from the h rows leaves
//!               [ diag(tc do) U_o  0 ; G_h  diag(f) ], so
//!                                                    ln|det R| = sum_r ln|f_r tc_r do_r| + ln|det U_o|
//! GRU, LSTM h:  LU with partial pivoting of the dense n x n block.
//! ```
//! `ln|det U|` and `ln|det U_o|` are constants of the weights, factored once in `f64`.

use super::{RecurrentStack, StackWorkspace};
use crate::arch::{Arch, LstmState};
use crate::math::gate;
use faer::Mat;
use lyap_core::checks::LogDet;
use lyap_core::Real;

impl<T: Real> RecurrentStack<T> {
    /// `ln|det J_t|` of the last step (the Jacobians are formed if they are not yet).
    pub(super) fn structured_log_abs_det(&self, ws: &mut StackWorkspace<T>) -> f64 {
        self.form_jacobians(ws);
        let n = self.weights.hidden_size;
        let arch = self.weights.arch;
        let full_lstm = arch == Arch::Lstm && self.lstm_state == LstmState::Full;
        let mut total = 0.0;
        for l in 0..self.weights.num_layers() {
            let layer = &ws.layers[l];
            total += match arch {
                Arch::RnnTanh | Arch::RnnRelu => {
                    sum_log_abs(gate(&layer.coefficients, 0, n)) + self.weight_log_dets()[l]
                }
                Arch::Lstm if full_lstm => {
                    let tc_do = gate(&layer.coefficients, 3, n);
                    sum_log_abs(&ws.jacobians[l].c_from_c)
                        + sum_log_abs(tc_do)
                        + self.weight_log_dets()[l]
                }
                Arch::Lstm | Arch::Gru => {
                    let lu = ws.log_det.get_or_insert_with(|| LogDet::new(n));
                    lu.log_abs_det(ws.jacobians[l].state_block.as_ref())
                }
            };
        }
        total
    }

    /// Per layer, `ln|det U|` (RNN) or `ln|det U_o|` (LSTM, output gate block of `weight_hh`),
    /// by LU in `f64`, computed on first use; empty for the other cells.
    fn weight_log_dets(&self) -> &[f64] {
        self.weight_log_dets.get_or_init(|| {
            let n = self.weights.hidden_size;
            let first_row = match self.weights.arch {
                Arch::RnnTanh | Arch::RnnRelu => 0,
                Arch::Lstm => 3 * n,
                Arch::Gru => return Vec::new(),
            };
            let mut lu = LogDet::<f64>::new(n);
            self.weights
                .layers
                .iter()
                .map(|layer| {
                    let u = &layer.weight_hh;
                    let block = Mat::from_fn(n, n, |i, j| u[(first_row + i, j)].as_f64());
                    lu.log_abs_det(block.as_ref())
                })
                .collect()
        })
    }
}

/// `sum_r ln|v_r|` in `f64`.
fn sum_log_abs<T: Real>(values: &[T]) -> f64 {
    values.iter().map(|v| v.as_f64().abs().ln()).sum()
}

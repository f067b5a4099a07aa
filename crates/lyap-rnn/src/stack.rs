//! A stack of recurrent layers as a [`TangentSystem`] (docs/DESIGN.md sections 2 and 3).
//!
//! The state is the concatenation of the layers' states, layer 1 first; within an LSTM layer
//! `h` then `c` (`LstmState::Full`) or `h` alone (`LstmState::Hidden`, `c` still evolves in the
//! workspace). The joint Jacobian is block lower-triangular and never formed; it is applied
//! layer by layer, bottom to top:
//! ```text
//! Y^1 = R^1 V^1,     Y^l = R^l V^l + K^l (h-rows of Y^(l-1))
//! ```
//! Its transpose `J^T = D^T (I - N^T)^-1` (with `J = (I - N)^-1 D`, `D = diag(R^l)`,
//! `N_(l,l-1) = K^l P_h`) is applied top to bottom:
//! ```text
//! W^L = V^L,   W^l = V^l + P_h^T (K^(l+1))^T W^(l+1),   Z^l = (R^l)^T W^l
//! ```

use crate::arch::LstmState;
use crate::cells::{LayerJacobian, LayerStep};
use crate::weights::{ShapeError, StackWeights};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef};
use lyap_core::checks::LogDet;
use lyap_core::{Real, Tangent, TangentSystem};
use std::sync::OnceLock;

mod closed_loop;
mod log_det;

pub use closed_loop::{ClosedLoop, ClosedLoopError, ClosedLoopWorkspace, Readout};

/// A validated recurrent stack, ready to drive the spectrum engine.
#[derive(Clone, Debug)]
pub struct RecurrentStack<T: Real> {
    weights: StackWeights<T>,
    lstm_state: LstmState,
    /// `ln|det U|` or `ln|det U_o|` per layer, for the sum rule (`stack/log_det.rs`).
    weight_log_dets: OnceLock<Vec<f64>>,
}

impl<T: Real> RecurrentStack<T> {
    /// Validates the shapes of `weights`. `lstm_state` is ignored by non-LSTM cells.
    pub fn new(weights: StackWeights<T>, lstm_state: LstmState) -> Result<Self, ShapeError> {
        weights.validate()?;
        Ok(Self {
            weights,
            lstm_state,
            weight_log_dets: OnceLock::new(),
        })
    }

    pub fn weights(&self) -> &StackWeights<T> {
        &self.weights
    }

    pub fn lstm_state(&self) -> LstmState {
        self.lstm_state
    }

    /// The state dimension of one layer: `2 n` for a full-state LSTM, `n` otherwise.
    pub fn layer_state_dim(&self) -> usize {
        if self.weights.arch.has_cell_state() && self.lstm_state == LstmState::Full {
            2 * self.weights.hidden_size
        } else {
            self.weights.hidden_size
        }
    }
}

/// Per-trajectory buffers of a [`RecurrentStack`], all allocated once.
#[derive(Clone, Debug)]
pub struct StackWorkspace<T: Real> {
    layers: Vec<LayerStep<T>>,
    jacobians: Vec<LayerJacobian<T>>,
    /// The concatenated state `s_t`.
    state: Vec<T>,
    /// Whether `jacobians` hold the Jacobians of the last step.
    jacobians_formed: bool,
    /// `W^l` of the transposed product (layer state dim x max vectors).
    transposed_sum: Mat<T>,
    /// `(K^(l+1))^T W^(l+1)` of the transposed product (n x max vectors).
    transposed_carry: Mat<T>,
    /// LU buffers for `ln|det R^l|` of a dense layer block, allocated on first use.
    log_det: Option<LogDet<T>>,
    /// Whether the first layer's input carries a tangent (a closed loop, `stack/closed_loop.rs`):
    /// its input block `K^1` is then formed too.
    input_tangent: bool,
    /// `(K^1)^T W^1` of the transposed product with an input tangent (input size x max
    /// vectors; empty otherwise).
    input_carry: Mat<T>,
}

impl<T: Real> RecurrentStack<T> {
    /// A workspace for up to `max_vectors` tangent vectors; with `input_tangent` the first
    /// layer's input Jacobian is formed too ([`ClosedLoop`]).
    fn workspace_with(&self, max_vectors: usize, input_tangent: bool) -> StackWorkspace<T> {
        let (n, d) = (self.weights.hidden_size, self.layer_state_dim());
        let layers = (0..self.weights.num_layers())
            .map(|_| LayerStep::new(self.weights.arch, n))
            .collect();
        let jacobians = (0..self.weights.num_layers())
            .map(|l| {
                // the first layer's inputs carry no tangent (no input block) unless closed
                let m = match l {
                    0 if input_tangent => self.weights.input_size,
                    0 => 0,
                    _ => n,
                };
                LayerJacobian::new(n, d, m)
            })
            .collect();
        StackWorkspace {
            layers,
            jacobians,
            state: vec![T::zero(); self.state_dim()],
            jacobians_formed: false,
            transposed_sum: Mat::zeros(d, max_vectors),
            transposed_carry: Mat::zeros(n, max_vectors),
            log_det: None,
            input_tangent,
            input_carry: Mat::zeros(
                if input_tangent {
                    self.weights.input_size
                } else {
                    0
                },
                max_vectors,
            ),
        }
    }
}

impl<T: Real> TangentSystem<T> for RecurrentStack<T> {
    type Workspace = StackWorkspace<T>;

    fn state_dim(&self) -> usize {
        self.layer_state_dim() * self.weights.num_layers()
    }

    fn input_dim(&self) -> usize {
        self.weights.input_size
    }

    fn workspace(&self, max_vectors: usize) -> StackWorkspace<T> {
        self.workspace_with(max_vectors, false)
    }

    fn state<'a>(&self, workspace: &'a StackWorkspace<T>) -> &'a [T] {
        &workspace.state
    }

    /// [`RecurrentStack::set_state`], with `false` for a state of the wrong length. For a
    /// hidden-state LSTM the cell states are left as they are.
    fn set_state(&self, workspace: &mut StackWorkspace<T>, state: &[T]) -> bool {
        if state.len() != self.state_dim() {
            return false;
        }
        RecurrentStack::set_state(self, workspace, state);
        true
    }

    /// From the block structure and the cells' row coefficients (`stack/log_det.rs`).
    fn log_abs_det_jacobian(&self, workspace: &mut StackWorkspace<T>) -> Option<f64> {
        Some(self.structured_log_abs_det(workspace))
    }

    fn step(&self, workspace: &mut StackWorkspace<T>, input: &[T]) {
        let d = self.layer_state_dim();
        for l in 0..workspace.layers.len() {
            let (below, rest) = workspace.layers.split_at_mut(l);
            let x = below.last().map_or(input, |layer| &layer.h);
            let layer = &mut rest[0];
            layer.advance(self.weights.arch, &self.weights.layers[l], x);
            let state = &mut workspace.state[l * d..(l + 1) * d];
            let n = layer.h.len();
            state[..n].copy_from_slice(&layer.h);
            if d > n {
                state[n..].copy_from_slice(&layer.c);
            }
        }
        workspace.jacobians_formed = false;
    }

    fn apply_jacobian(
        &self,
        workspace: &mut StackWorkspace<T>,
        tangent: MatRef<'_, T>,
        out: MatMut<'_, T>,
        which: Tangent,
    ) {
        self.form_jacobians(workspace);
        match which {
            Tangent::Jacobian => self.apply_forward(workspace, tangent, None, out),
            Tangent::Transposed => self.apply_transposed(workspace, tangent, out),
        }
    }

    /// A single layer whose state Jacobian is one dense block (every cell except a full-state
    /// LSTM, whose `c`-columns are kept diagonal) hands that block to the engine's dense path.
    fn dense_jacobian_into(
        &self,
        workspace: &mut StackWorkspace<T>,
        mut out: MatMut<'_, T>,
        which: Tangent,
    ) -> bool {
        if self.weights.num_layers() != 1 || self.layer_state_dim() != self.weights.hidden_size {
            return false;
        }
        self.form_jacobians(workspace);
        let block = workspace.jacobians[0].state_block.as_ref();
        match which {
            Tangent::Jacobian => out.copy_from(block),
            Tangent::Transposed => out.copy_from(block.transpose()),
        }
        true
    }
}

impl<T: Real> RecurrentStack<T> {
    /// Forms every layer's Jacobians of the last step, once per step.
    fn form_jacobians(&self, workspace: &mut StackWorkspace<T>) {
        if workspace.jacobians_formed {
            return;
        }
        for (l, (layer, jacobian)) in workspace
            .layers
            .iter_mut()
            .zip(&mut workspace.jacobians)
            .enumerate()
        {
            let weights = &self.weights.layers[l];
            let with_input = l > 0 || workspace.input_tangent;
            layer.form_jacobian(
                self.weights.arch,
                weights,
                self.lstm_state,
                with_input,
                jacobian,
            );
        }
        workspace.jacobians_formed = true;
    }
}

impl<T: Real> RecurrentStack<T> {
    /// Sets the state `s` (layout of [`TangentSystem::state`]). For a hidden-state LSTM the
    /// cell states `c`, which are not part of `s`, are left as they are.
    ///
    /// # Panics
    /// If `state.len() != self.state_dim()`.
    pub fn set_state(&self, workspace: &mut StackWorkspace<T>, state: &[T]) {
        assert_eq!(state.len(), self.state_dim(), "state length");
        let d = self.layer_state_dim();
        for (layer, layer_state) in workspace.layers.iter_mut().zip(state.chunks_exact(d)) {
            let n = layer.h.len();
            layer.h.copy_from_slice(&layer_state[..n]);
            if d > n {
                layer.c.copy_from_slice(&layer_state[n..]);
            }
        }
        workspace.state.copy_from_slice(state);
        workspace.jacobians_formed = false;
    }

    /// The cell state `c` of LSTM layer `layer` (empty for other cells), also when it is not
    /// part of the state (`LstmState::Hidden`).
    pub fn cell_state<'a>(&self, workspace: &'a StackWorkspace<T>, layer: usize) -> &'a [T] {
        &workspace.layers[layer].c
    }

    /// `out = J V`, bottom to top; with `input_tangent` (`Y^0`, input size x k, a workspace
    /// made with an input tangent) the first layer adds `K^1 Y^0`.
    fn apply_forward(
        &self,
        ws: &StackWorkspace<T>,
        tangent: MatRef<'_, T>,
        input_tangent: Option<MatRef<'_, T>>,
        mut out: MatMut<'_, T>,
    ) {
        let (n, d) = (self.weights.hidden_size, self.layer_state_dim());
        for (l, jacobian) in ws.jacobians.iter().enumerate() {
            let offset = l * d;
            let (done, rest) = out.rb_mut().split_at_row_mut(offset);
            let mut out_layer = rest.subrows_mut(0, d);
            jacobian.apply_state(tangent.subrows(offset, d), out_layer.rb_mut());
            if l > 0 {
                jacobian.add_input(done.rb().subrows(offset - d, n), out_layer);
            } else if let Some(input) = input_tangent {
                jacobian.add_input(input, out_layer);
            }
        }
    }

    /// `out = J^T V`, top to bottom; with an input tangent, `(K^1)^T W^1` is left in
    /// `ws.input_carry` (the cotangent of the first layer's input).
    fn apply_transposed(
        &self,
        ws: &mut StackWorkspace<T>,
        tangent: MatRef<'_, T>,
        mut out: MatMut<'_, T>,
    ) {
        let (n, d, k) = (
            self.weights.hidden_size,
            self.layer_state_dim(),
            tangent.ncols(),
        );
        let top = ws.jacobians.len() - 1;
        for (l, jacobian) in ws.jacobians.iter().enumerate().rev() {
            let offset = l * d;
            let tangent_layer = tangent.subrows(offset, d);
            let sum = if l == top {
                tangent_layer
            } else {
                let mut sum = ws.transposed_sum.as_mut().subcols_mut(0, k);
                sum.copy_from(tangent_layer);
                let carry = ws.transposed_carry.as_ref().subcols(0, k);
                add_assign(sum.rb_mut().subrows_mut(0, n), carry);
                ws.transposed_sum.as_ref().subcols(0, k)
            };
            jacobian.apply_state_transposed(sum, out.rb_mut().subrows_mut(offset, d));
            if l > 0 {
                let carry = ws.transposed_carry.as_mut().subcols_mut(0, k);
                jacobian.apply_input_transposed(sum, carry, Accum::Replace);
            } else if ws.input_tangent {
                let carry = ws.input_carry.as_mut().subcols_mut(0, k);
                jacobian.apply_input_transposed(sum, carry, Accum::Replace);
            }
        }
    }
}

/// `dst += src`, elementwise.
fn add_assign<T: Real>(mut dst: MatMut<'_, T>, src: MatRef<'_, T>) {
    for j in 0..dst.ncols() {
        for r in 0..dst.nrows() {
            dst[(r, j)] += src[(r, j)];
        }
    }
}

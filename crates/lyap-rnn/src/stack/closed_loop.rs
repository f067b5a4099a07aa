//! A recurrent stack run on its own output: the autonomous system of a network trained to
//! predict its next input (docs/DESIGN.md section 2.2).
//!
//! The readout `x_(t+1) = W_fc h^L_t + b_fc` of the top layer's hidden state becomes the next
//! input, so the state `s` (every layer's `h`, and `c` for an LSTM) evolves by itself:
//! ```text
//! s_t = F(s_(t-1), W_fc P s_(t-1) + b_fc)          (P: the rows of h^L in s)
//! J_t = dF/ds + dF/dx W_fc P
//! ```
//! `dF/dx` enters through the first layer's input Jacobian `K^1` and reaches the layers above
//! through the stack's block structure, so `J_t V` is the stack's product with the input
//! tangent `Y^0 = W_fc P V` added to the first layer, and `J_t^T W` is the stack's transposed
//! product plus `P^T W_fc^T (K^1)^T W^1`.

use super::{RecurrentStack, StackWorkspace};
use crate::arch::LstmState;
use faer::reborrow::ReborrowMut;
use faer::{Accum, Mat, MatMut, MatRef};
use lyap_core::dense::gemm;
use lyap_core::{Real, Tangent, TangentSystem};

/// The linear readout of a network's top hidden state, `x = W h + b`, values in `f64`.
#[derive(Clone, Debug, PartialEq)]
pub struct Readout {
    /// Where it came from (e.g. `fc`), for messages and reports.
    pub name: String,
    /// Rows of `W`: values predicted (the network's input size in a closed loop).
    pub output_size: usize,
    /// Columns of `W`: the hidden size it reads.
    pub hidden_size: usize,
    /// `W` in row-major order (`output_size x hidden_size`), as PyTorch's `nn.Linear.weight`.
    pub weight: Vec<f64>,
    /// `b` (`output_size`), if the readout has one.
    pub bias: Option<Vec<f64>>,
}

/// Why a stack and a readout cannot form a closed loop. Messages are one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClosedLoopError {
    #[error(
        "readout {name} reads {found} hidden values but the top layer's hidden size is \
         {hidden_size}"
    )]
    HiddenSize {
        name: String,
        found: usize,
        hidden_size: usize,
    },
    #[error(
        "readout {name} predicts {output} values but the network reads {input}: a closed loop \
         needs the readout's output size to equal the input size"
    )]
    OutputSize {
        name: String,
        output: usize,
        input: usize,
    },
    #[error("readout {name} holds {found} {what} values where {expected} are needed")]
    Values {
        name: String,
        what: &'static str,
        found: usize,
        expected: usize,
    },
    #[error("readout {name} holds a value that is not finite")]
    NonFinite { name: String },
    #[error(
        "a closed loop needs the full LSTM state (h, c): with the hidden state only, c is not \
         part of the system"
    )]
    HiddenState,
}

/// A [`RecurrentStack`] whose input is its own readout: an autonomous [`TangentSystem`]
/// (`input_dim() == 0`) with the state of the stack.
///
/// ```
/// use lyap_core::{autonomous_inputs, lyapunov_spectrum, SpectrumConfig};
/// use lyap_rnn::{Arch, ClosedLoop, LstmState, Readout, RecurrentStack, StackWeights};
///
/// // A GRU reading 3 values, hidden size 8, whose readout predicts the next 3.
/// let weights = StackWeights::<f64>::random(Arch::Gru, 3, 8, 1, true, 0.5, 1);
/// let stack = RecurrentStack::new(weights, LstmState::Full).unwrap();
/// let readout = Readout {
///     name: "fc".into(),
///     output_size: 3,
///     hidden_size: 8,
///     weight: (0..24).map(|i| ((i * 5 % 7) as f64 - 3.0) / 7.0).collect(),
///     bias: Some(vec![0.1, 0.0, -0.1]),
/// };
/// let closed = ClosedLoop::new(stack, &readout).unwrap();
/// let mut config = SpectrumConfig::new(8, 2000);
/// config.warmup = 200;
/// let spectrum = lyapunov_spectrum(&closed, &autonomous_inputs(1), &config).unwrap();
/// assert_eq!(spectrum.statistics.mean.len(), 8);
/// ```
#[derive(Clone, Debug)]
pub struct ClosedLoop<T: Real> {
    stack: RecurrentStack<T>,
    /// `W_fc` (input size x hidden size).
    weight: Mat<T>,
    /// `b_fc` (zeros without a bias).
    bias: Vec<T>,
}

/// Per-trajectory buffers of a [`ClosedLoop`].
#[derive(Clone, Debug)]
pub struct ClosedLoopWorkspace<T: Real> {
    stack: StackWorkspace<T>,
    /// The input of the last step, `W_fc h^L + b_fc` of the state before it.
    input: Vec<T>,
    /// `Y^0 = W_fc P V` (input size x max vectors).
    projected: Mat<T>,
}

impl<T: Real> ClosedLoop<T> {
    /// Checks that `readout` maps the top layer's hidden state to the stack's input, that its
    /// values are finite, and that an LSTM uses its full state.
    pub fn new(stack: RecurrentStack<T>, readout: &Readout) -> Result<Self, ClosedLoopError> {
        let weights = stack.weights();
        let (n, m) = (weights.hidden_size, weights.input_size);
        let name = readout.name.clone();
        if weights.arch.has_cell_state() && stack.lstm_state() == LstmState::Hidden {
            return Err(ClosedLoopError::HiddenState);
        }
        if readout.hidden_size != n {
            return Err(ClosedLoopError::HiddenSize {
                name,
                found: readout.hidden_size,
                hidden_size: n,
            });
        }
        if readout.output_size != m {
            return Err(ClosedLoopError::OutputSize {
                name,
                output: readout.output_size,
                input: m,
            });
        }
        let values = |what, found, expected| ClosedLoopError::Values {
            name: readout.name.clone(),
            what,
            found,
            expected,
        };
        if readout.weight.len() != m * n {
            return Err(values("weight", readout.weight.len(), m * n));
        }
        let bias = readout.bias.clone().unwrap_or_else(|| vec![0.0; m]);
        if bias.len() != m {
            return Err(values("bias", bias.len(), m));
        }
        if !readout.weight.iter().chain(&bias).all(|v| v.is_finite()) {
            return Err(ClosedLoopError::NonFinite { name });
        }
        let weight = Mat::from_fn(m, n, |i, j| T::of_f64(readout.weight[i * n + j]));
        let bias = bias.iter().map(|&b| T::of_f64(b)).collect();
        Ok(Self {
            stack,
            weight,
            bias,
        })
    }

    /// The stack inside the loop.
    pub fn stack(&self) -> &RecurrentStack<T> {
        &self.stack
    }

    /// The input the last step read (`W_fc h^L + b_fc` of the state before it); zeros before
    /// the first step.
    pub fn last_input<'a>(&self, workspace: &'a ClosedLoopWorkspace<T>) -> &'a [T] {
        &workspace.input
    }

    /// Row offset of the top layer's `h` in the state.
    fn top_rows(&self) -> usize {
        let layers = self.stack.weights().num_layers();
        (layers - 1) * self.stack.layer_state_dim()
    }
}

impl<T: Real> TangentSystem<T> for ClosedLoop<T> {
    type Workspace = ClosedLoopWorkspace<T>;

    fn state_dim(&self) -> usize {
        self.stack.state_dim()
    }

    /// Autonomous: the input is the readout of the state.
    fn input_dim(&self) -> usize {
        0
    }

    fn workspace(&self, max_vectors: usize) -> ClosedLoopWorkspace<T> {
        ClosedLoopWorkspace {
            stack: self.stack.workspace_with(max_vectors, true),
            input: vec![T::zero(); self.weight.nrows()],
            projected: Mat::zeros(self.weight.nrows(), max_vectors),
        }
    }

    fn state<'a>(&self, workspace: &'a ClosedLoopWorkspace<T>) -> &'a [T] {
        &workspace.stack.state
    }

    fn set_state(&self, workspace: &mut ClosedLoopWorkspace<T>, state: &[T]) -> bool {
        <RecurrentStack<T> as TangentSystem<T>>::set_state(&self.stack, &mut workspace.stack, state)
    }

    /// `x = W_fc h^L + b_fc` from the current state, then the stack's step on `x`.
    fn step(&self, workspace: &mut ClosedLoopWorkspace<T>, _input: &[T]) {
        let top = workspace.stack.layers.last().map_or(&[][..], |l| &l.h);
        let m = workspace.input.len();
        workspace.input.copy_from_slice(&self.bias);
        let h = MatRef::from_column_major_slice(top, top.len(), 1);
        let x = MatMut::from_column_major_slice_mut(&mut workspace.input, m, 1);
        gemm(x, Accum::Add, self.weight.as_ref(), h, T::one());
        self.stack.step(&mut workspace.stack, &workspace.input);
    }

    fn apply_jacobian(
        &self,
        workspace: &mut ClosedLoopWorkspace<T>,
        tangent: MatRef<'_, T>,
        mut out: MatMut<'_, T>,
        which: Tangent,
    ) {
        let (n, k) = (self.stack.weights().hidden_size, tangent.ncols());
        let top = self.top_rows();
        self.stack.form_jacobians(&mut workspace.stack);
        match which {
            Tangent::Jacobian => {
                let projected = workspace.projected.as_mut().subcols_mut(0, k);
                let top_h = tangent.subrows(top, n);
                gemm(
                    projected,
                    Accum::Replace,
                    self.weight.as_ref(),
                    top_h,
                    T::one(),
                );
                let projected = workspace.projected.as_ref().subcols(0, k);
                self.stack
                    .apply_forward(&workspace.stack, tangent, Some(projected), out);
            }
            Tangent::Transposed => {
                self.stack
                    .apply_transposed(&mut workspace.stack, tangent, out.rb_mut());
                let carry = workspace.stack.input_carry.as_ref().subcols(0, k);
                gemm(
                    out.subrows_mut(top, n),
                    Accum::Add,
                    self.weight.transpose(),
                    carry,
                    T::one(),
                );
            }
        }
    }

    /// A single layer whose state Jacobian is one dense block: `J = R + K W_fc` (the whole
    /// state is the top layer's `h`).
    fn dense_jacobian_into(
        &self,
        workspace: &mut ClosedLoopWorkspace<T>,
        mut out: MatMut<'_, T>,
        which: Tangent,
    ) -> bool {
        let weights = self.stack.weights();
        if weights.num_layers() != 1 || self.stack.layer_state_dim() != weights.hidden_size {
            return false;
        }
        self.stack.form_jacobians(&mut workspace.stack);
        let jacobian = &workspace.stack.jacobians[0];
        let (state, input) = (jacobian.state_block.as_ref(), jacobian.input_block.as_ref());
        match which {
            Tangent::Jacobian => {
                out.copy_from(state);
                gemm(out, Accum::Add, input, self.weight.as_ref(), T::one());
            }
            Tangent::Transposed => {
                out.copy_from(state.transpose());
                gemm(
                    out,
                    Accum::Add,
                    self.weight.transpose(),
                    input.transpose(),
                    T::one(),
                );
            }
        }
        true
    }
}

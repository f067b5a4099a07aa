//! # lyap-rnn: recurrent cells and stacks
//!
//! Vanilla RNN (tanh, ReLU), LSTM and GRU cells in PyTorch's conventions (DESIGN.md section 3):
//! each cell's forward step, its state and input Jacobians (formed by row scaling, O(n^2)) and
//! its gradient sit side by side in one file under [`cells`]. [`stack`] composes layers into a
//! [`lyap_core::TangentSystem`] applied layer by layer, never as a dense joint matrix.

pub mod activation;
pub mod arch;
pub mod cells;
pub mod math;
pub mod pytorch;
pub mod report;
pub mod stack;
pub mod train;
pub mod weights;

pub use activation::Activation;
pub use arch::{Arch, LstmState, UnknownArch};
pub use cells::LayerJacobian;
pub use stack::{RecurrentStack, StackWorkspace};
pub use train::{
    backward_batch, backward_columns, forward_batch, forward_batch_tokens, forward_inputs,
    ForwardCache, Inputs,
};
pub use weights::{LayerWeights, ShapeError, StackWeights};

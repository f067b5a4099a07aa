//! # lyap-rnn: recurrent cells and stacks, and the spectrum of a network
//!
//! Vanilla RNN (tanh, ReLU), LSTM and GRU cells in PyTorch's conventions (docs/DESIGN.md
//! section 3): each cell's forward step, its state and input Jacobians (formed by row scaling,
//! O(n^2)) and its gradient sit side by side in one file under [`cells`]. [`stack`] composes
//! layers into a [`lyap_core::TangentSystem`] applied layer by layer, never as a dense joint
//! matrix. [`pytorch`] reads and writes PyTorch's weight names in safetensors files;
//! [`report`] is the JSON result of docs/DESIGN.md section 6.
//!
//! [`compute_spectrum`] is the front door: weights and input sequences in, the Lyapunov
//! spectrum (discrete QR method, docs/DESIGN.md section 2) and its report out;
//! [`compute_system_spectrum`] is its sibling for the built-in dynamical systems (Lorenz-63,
//! Rossler, Henon; docs/DESIGN.md section 2.1).
//!
//! ```
//! use lyap_rnn::{compute_spectrum, Arch, InputBatch, SpectrumOptions, StackWeights};
//!
//! // A random GRU (input size 1, hidden size 6), one sequence of 30 constant inputs.
//! let weights = StackWeights::<f32>::random(Arch::Gru, 1, 6, 1, true, 0.4, 3);
//! let inputs = vec![0.5f32; 30];
//! let options = SpectrumOptions { k: Some(3), ..SpectrumOptions::default() };
//! let result = compute_spectrum(&weights, InputBatch::F32(vec![&inputs]), &options).unwrap();
//! assert_eq!(result.report.exponents.mean.len(), 3);
//! assert_eq!(result.report.config.precision, "f64"); // f32 weights, computed in f64
//! // the leading exponents, in nats per step (QR order)
//! assert!(result.spectrum.statistics.mean.iter().all(|l| l.is_finite()));
//! ```

pub mod activation;
pub mod arch;
pub mod cells;
pub mod math;
pub mod pytorch;
pub mod report;
pub mod spectrum;
pub mod stack;
pub mod train;
pub mod weights;

pub use activation::Activation;
pub use arch::{Arch, LstmState, UnknownArch};
pub use cells::LayerJacobian;
pub use lyap_core::CheckConfig;
pub use spectrum::{
    compute_spectrum, compute_system_spectrum, system_named, ComputeError, Culprit,
    GeneratedTokens, InputBatch, InputGenerator, Method, SpectrumOptions, SpectrumResult,
    ZeroInputs, DEFAULT_MAX_STEPS, GENERATED_STEPS, SYSTEM_STEPS,
};
pub use stack::{
    ClosedLoop, ClosedLoopError, ClosedLoopWorkspace, Readout, RecurrentStack, StackWorkspace,
};
pub use train::{
    backward_batch, backward_columns, forward_batch, forward_batch_tokens, forward_inputs,
    ForwardCache, Inputs,
};
pub use weights::{LayerWeights, ShapeError, StackWeights};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

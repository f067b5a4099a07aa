//! # lyap-core: the generic Lyapunov spectrum engine
//!
//! A [`TangentSystem`] is a discrete-time, input-driven map `s_t = F(s_{t-1}, x_t)` that can
//! apply its Jacobian to a block of tangent vectors. [`lyapunov_spectrum`] runs the discrete QR
//! (Benettin) method of docs/DESIGN.md section 2 over a batch of input sequences in parallel:
//! `Q_t R_t = J_t Q_{t-1}`, `lambda_i = (1/T) sum_t ln|R_t[i, i]|`, with warm-up, `qr_every`,
//! top-`k` exponents, optional running-estimate traces, in `f32` or `f64` ([`Precision`]),
//! with the standard error of every time average from batch means ([`convergence`]), and
//! measured in chunks until those errors are below a tolerance ([`lyapunov_spectrum_until`]).
//! [`stats`] holds batch statistics and summary features (Kaplan-Yorke dimension, ...);
//! [`memory`] checks a requested allocation against the machine's memory.
//!
//! This crate knows nothing about recurrent networks; [`maps`] holds classic maps with
//! published exponents used to test it. The Henon map (`a = 1.4`, `b = 0.3`) has exponents
//! `0.41922` and `-1.62319` nats per step, whose sum is `ln b` exactly:
//!
//! ```
//! use lyap_core::maps::Henon;
//! use lyap_core::{lyapunov_spectrum, SpectrumConfig};
//!
//! let mut config = SpectrumConfig::new(2, 100_000); // both exponents, 100,000 steps
//! config.warmup = 1_000;
//! // An autonomous map reads no inputs: one empty "sequence".
//! let spectrum = lyapunov_spectrum::<f64, _>(&Henon::default(), &[&[]], &config).unwrap();
//! let lambda = &spectrum.statistics.mean;
//! assert!((lambda[0] - 0.41922).abs() < 5e-3);
//! assert!((lambda[1] + 1.62319).abs() < 5e-3);
//! assert!((lambda[0] + lambda[1] - 0.3f64.ln()).abs() < 1e-9);
//! ```

pub mod checks;
pub mod convergence;
pub mod dense;
pub mod memory;
pub mod qr;
mod real;
pub mod simd;
pub mod spectrum;
pub mod stats;
pub mod system;
pub mod systems;
mod trajectory;
pub mod vector;

pub use checks::{CheckConfig, MaxByPerturbation, SequenceChecks, SumRule};
pub use convergence::{
    lyapunov_spectrum_until, ConvergedSpectrum, FixedInputs, InputSource, UntilConverged,
};
pub use real::{Precision, Real};
pub use spectrum::{
    autonomous_inputs, lyapunov_spectrum, lyapunov_spectrum_from, SequenceSpectrum, Spectrum,
    SpectrumConfig, SpectrumError, TracePoint, WarmupStyle,
};
pub use stats::{
    column_statistics, kaplan_yorke_dimension, summarize, ColumnStatistics, SpectrumSummary,
};
pub use system::{dense_jacobian, Tangent, TangentOnly, TangentSystem};
pub use systems::{flows, maps};

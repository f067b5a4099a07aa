//! # lyap-core: the generic Lyapunov spectrum engine
//!
//! A [`TangentSystem`] is a discrete-time, input-driven map `s_t = F(s_{t-1}, x_t)` that can
//! apply its Jacobian to a block of tangent vectors. [`lyapunov_spectrum`] runs the discrete QR
//! (Benettin) method of DESIGN.md section 2 over a batch of input sequences in parallel, with
//! warm-up, `qr_every`, top-`k` exponents, optional running-estimate traces, in `f32` or `f64`.
//! [`stats`] holds batch statistics and summary features (Kaplan-Yorke dimension, ...).
//!
//! This crate knows nothing about recurrent networks; [`maps`] holds classic maps with
//! published exponents used to test it.

pub mod dense;
pub mod maps;
pub mod qr;
mod real;
pub mod simd;
pub mod spectrum;
pub mod stats;
pub mod system;
pub mod vector;

pub use real::Real;
pub use spectrum::{
    lyapunov_spectrum, SequenceSpectrum, Spectrum, SpectrumConfig, SpectrumError, TracePoint,
    WarmupStyle,
};
pub use stats::{
    column_statistics, kaplan_yorke_dimension, summarize, ColumnStatistics, SpectrumSummary,
};
pub use system::{dense_jacobian, Tangent, TangentOnly, TangentSystem};

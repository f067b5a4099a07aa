//! Everything the `lyap` binary writes: the stdout summary, JSON, trace CSV and plots. Every
//! file is written atomically (temporary file in the same directory, then rename).

pub mod atomic;
pub mod json;
pub mod plot;
pub mod summary;
pub mod trace;

//! The subcommands of `lyap`.

pub mod bench_train;
pub mod demo;
pub mod inputs;
pub mod spectrum;
pub mod train;

//! The subcommands of `lyap`.

pub mod analyze;
pub mod bench_train;
pub mod closed_loop;
pub mod demo;
pub mod inputs;
pub mod report;
pub mod spectrum;
pub mod sweep;
pub mod train;
pub mod until;

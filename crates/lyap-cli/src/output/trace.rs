//! The trace CSV (`--trace`): running estimates of every exponent at each QR step
//! (format: `lyap_rnn::report::trace_csv`).

use crate::error::CliResult;
use crate::output::atomic;
use lyap_core::Spectrum;
use lyap_rnn::report::{trace_csv, LogBase};
use std::path::Path;

/// Writes [`trace_csv`] to `path`.
pub fn write(path: &Path, spectrum: &Spectrum, log_base: LogBase) -> CliResult<()> {
    atomic::write(path, trace_csv(spectrum, log_base).as_bytes())
}

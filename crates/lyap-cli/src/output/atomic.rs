//! Atomic file writes: a temporary file in the destination directory, then a rename, so a
//! reader never sees a half-written result (shared with the plotting layer).

use crate::error::CliResult;
use crate::output::OutputError;
use std::path::Path;

/// Writes `bytes` to `path` atomically; failures are reported as bad input naming the path.
pub fn write(path: &Path, bytes: &[u8]) -> CliResult<()> {
    lyap_plot::write_atomic(path, bytes).map_err(OutputError::Write)?;
    Ok(())
}

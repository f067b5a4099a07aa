//! The JSON result file (`--out`, docs/DESIGN.md section 6).

use crate::error::CliResult;
use crate::output::atomic;
use lyap_rnn::report::SpectrumReport;
use std::path::Path;

/// Writes `report` as pretty-printed JSON (non-finite values as `null`, see
/// [`lyap_rnn::report`]).
pub fn write(path: &Path, report: &SpectrumReport) -> CliResult<()> {
    let mut text = report.to_json();
    text.push('\n');
    atomic::write(path, text.as_bytes())
}

//! The trace CSV (`--trace`): running estimates of every exponent at each QR step.

use crate::error::CliResult;
use crate::output::atomic;
use lyap_core::Spectrum;
use lyap_rnn::report::LogBase;
use std::fmt::Write;
use std::path::Path;

/// CSV text with header `sequence,step,exponent_1,..,exponent_k` and one row per sequence
/// (0-based index in the batch) and measured QR step (1-based), each value the running
/// estimate `acc / step` in `log_base`. The last row of a sequence equals its final
/// exponents. Non-finite values are written as `-inf`, `inf` or `NaN`.
pub fn render(spectrum: &Spectrum, log_base: LogBase) -> String {
    let k = spectrum
        .per_sequence
        .first()
        .map_or(0, |s| s.exponents.len());
    let mut out = String::from("sequence,step");
    for i in 1..=k {
        let _ = write!(out, ",exponent_{i}");
    }
    out.push('\n');
    for (b, sequence) in spectrum.per_sequence.iter().enumerate() {
        for point in &sequence.trace {
            let _ = write!(out, "{b},{}", point.step);
            for &value in &point.estimate {
                let _ = write!(out, ",{}", log_base.convert(value));
            }
            out.push('\n');
        }
    }
    out
}

/// Writes [`render`] to `path`.
pub fn write(path: &Path, spectrum: &Spectrum, log_base: LogBase) -> CliResult<()> {
    atomic::write(path, render(spectrum, log_base).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lyap_core::{column_statistics, SequenceSpectrum, TracePoint};

    #[test]
    fn rows_per_sequence_and_step_in_bits() {
        let ln2 = std::f64::consts::LN_2;
        let sequence = SequenceSpectrum {
            exponents: vec![ln2, -ln2],
            trace: vec![
                TracePoint {
                    step: 1,
                    estimate: vec![2.0 * ln2, f64::NEG_INFINITY],
                },
                TracePoint {
                    step: 2,
                    estimate: vec![ln2, -ln2],
                },
            ],
        };
        let spectrum = Spectrum {
            statistics: column_statistics(&[&sequence.exponents]),
            per_sequence: vec![sequence.clone(), sequence],
        };
        let csv = render(&spectrum, LogBase::Two);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "sequence,step,exponent_1,exponent_2");
        assert_eq!(lines[1], "0,1,2,-inf");
        assert_eq!(lines[4], "1,2,1,-1");
        assert_eq!(lines.len(), 5);
    }
}

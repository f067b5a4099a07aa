//! Running-estimate charts from trace files (paper Fig. 2): the newest `trace*.csv` of a run,
//! averaged over sequences, at most [`MAX_TRACE_CURVES`] exponents spread over the spectrum.

use std::path::{Path, PathBuf};

use lyap_plot::LineChart;
use lyap_rnn::report::TraceTable;

use crate::{ExperimentError, Result};

/// Most exponents drawn in a running-estimate figure.
pub const MAX_TRACE_CURVES: usize = 10;

/// The running-estimate chart of the newest trace file of a run, if any.
pub(super) fn trace_chart(run_dir: &Path, name: &str) -> Result<Option<LineChart>> {
    let Some(path) = newest_trace_file(run_dir) else {
        return Ok(None);
    };
    let Trace { columns, steps } = load_trace(&path)?;
    let mut chart = LineChart::new(
        &format!("Running estimate ({name})"),
        "QR step",
        "running estimate (per step)",
    )
    .with_integer_x(true);
    for j in shown_columns(columns.len()) {
        chart = chart.with_series(&columns[j], steps.iter().map(|(s, v)| (*s, v[j])).collect());
    }
    Ok(Some(chart))
}

/// The last (by name) `trace*.csv` in `run_dir` or `run_dir/spectra`.
fn newest_trace_file(run_dir: &Path) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = [run_dir.to_path_buf(), run_dir.join("spectra")]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let file = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            file.starts_with("trace") && file.ends_with(".csv")
        })
        .collect();
    candidates.sort();
    candidates.pop()
}

/// Indices of the exponents drawn out of `k`: all when `k <= MAX_TRACE_CURVES`, otherwise
/// `MAX_TRACE_CURVES` spread evenly from the first to the last.
fn shown_columns(k: usize) -> Vec<usize> {
    if k <= MAX_TRACE_CURVES {
        (0..k).collect()
    } else {
        (0..MAX_TRACE_CURVES)
            .map(|i| i * (k - 1) / (MAX_TRACE_CURVES - 1))
            .collect()
    }
}

/// The one place the figures read a trace file: the trace CSV's own reader
/// (`lyap_rnn::report::TraceTable`) through [`read_trace`].
fn load_trace(path: &Path) -> Result<Trace> {
    read_trace(path)
}

/// A trace file averaged over sequences.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Names of the exponent columns.
    pub columns: Vec<String>,
    /// Per QR step: the step and the mean running estimate of every column.
    pub steps: Vec<(f64, Vec<f64>)>,
}

/// Reads a trace CSV ([`TraceTable::parse`]: header `sequence,step,exponent_1,..`,
/// `sequence` optional) and averages every column over the rows of each step
/// ([`TraceTable::mean_over_sequences`]).
pub fn read_trace(path: &Path) -> Result<Trace> {
    let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::io(path, e))?;
    let table = TraceTable::parse(&text).map_err(|source| ExperimentError::Trace {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Trace {
        steps: table.mean_over_sequences(),
        columns: table.columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_is_averaged_over_sequences_per_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trace.csv");
        let csv = "sequence,step,exponent_1,exponent_2\n0,1,1.0,-1.0\n1,1,3.0,-3.0\n0,2,2.0,-2.0\n";
        std::fs::write(&path, csv).unwrap();
        let trace = read_trace(&path).unwrap();
        assert_eq!(trace.columns, ["exponent_1", "exponent_2"]);
        assert_eq!(
            trace.steps,
            vec![(1.0, vec![2.0, -2.0]), (2.0, vec![2.0, -2.0])]
        );
        std::fs::write(&path, "sequence,step,e\n0,x,1\n").unwrap();
        assert!(read_trace(&path).is_err());
    }

    #[test]
    fn shown_columns_spread_from_first_to_last() {
        assert_eq!(shown_columns(3), vec![0, 1, 2]);
        let many = shown_columns(100);
        assert_eq!(many.len(), MAX_TRACE_CURVES);
        assert_eq!((many[0], many[MAX_TRACE_CURVES - 1]), (0, 99));
    }
}

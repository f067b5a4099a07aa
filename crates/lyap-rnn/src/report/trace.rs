//! The trace CSV of `lyap spectrum --trace` and of a run's `spectra/trace_epoch_NNN.csv`
//! (docs/DESIGN.md section 6): writer ([`TraceTable::to_csv`], [`trace_csv`]) and reader
//! ([`TraceTable::parse`]) in one place.
//!
//! Header `sequence,step,exponent_1,..,exponent_k`; one row per sequence (0-based index in
//! the batch) and measured QR step (1-based), each value the running estimate `acc / step`
//! in the report's log base. The last row of a sequence equals its final exponents.
//! Non-finite values are written as `-inf`, `inf` or `NaN` (read back as such). The reader
//! also accepts files without the `sequence` column and columns in any order, as long as
//! there is a `step` column.

use super::LogBase;
use lyap_core::Spectrum;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Why a trace CSV cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("no `step` column in the header")]
    NoStepColumn,
    #[error("line {line}: bad value in column {column}")]
    BadValue { line: usize, column: usize },
}

/// One row: the running estimates of sequence `sequence` after QR step `step`.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceRow {
    /// Index of the sequence in the batch (None when the file has no `sequence` column).
    pub sequence: Option<usize>,
    pub step: f64,
    pub values: Vec<f64>,
}

/// A whole trace file.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceTable {
    /// Names of the value columns (`exponent_1`, ..).
    pub columns: Vec<String>,
    pub rows: Vec<TraceRow>,
}

impl TraceTable {
    /// The running estimates of every sequence of `spectrum` (natural-log values from the
    /// engine) in `log_base`.
    pub fn from_spectrum(spectrum: &Spectrum, log_base: LogBase) -> Self {
        let k = spectrum
            .per_sequence
            .first()
            .map_or(0, |s| s.exponents.len());
        let mut rows = Vec::new();
        for (b, sequence) in spectrum.per_sequence.iter().enumerate() {
            for point in &sequence.trace {
                rows.push(TraceRow {
                    sequence: Some(b),
                    step: point.step as f64,
                    values: point
                        .estimate
                        .iter()
                        .map(|&v| log_base.convert(v))
                        .collect(),
                });
            }
        }
        Self {
            columns: (1..=k).map(|i| format!("exponent_{i}")).collect(),
            rows,
        }
    }

    /// The CSV text (see the module documentation). The `sequence` column is written when
    /// the first row has a sequence index (or there are no rows).
    pub fn to_csv(&self) -> String {
        let with_sequence = self.rows.first().is_none_or(|r| r.sequence.is_some());
        let mut out = String::from(if with_sequence {
            "sequence,step"
        } else {
            "step"
        });
        for name in &self.columns {
            let _ = write!(out, ",{name}");
        }
        out.push('\n');
        for row in &self.rows {
            if with_sequence {
                let _ = write!(out, "{},", row.sequence.unwrap_or_default());
            }
            let _ = write!(out, "{}", row.step);
            for value in &row.values {
                let _ = write!(out, ",{value}");
            }
            out.push('\n');
        }
        out
    }

    /// Parses a trace CSV (blank lines ignored).
    pub fn parse(text: &str) -> Result<Self, TraceError> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let head: Vec<&str> = lines
            .next()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .collect();
        let step_col = head
            .iter()
            .position(|h| *h == "step")
            .ok_or(TraceError::NoStepColumn)?;
        let sequence_col = head.iter().position(|h| *h == "sequence");
        let value_cols: Vec<usize> = (0..head.len())
            .filter(|&i| i != step_col && Some(i) != sequence_col)
            .collect();
        let mut rows = Vec::new();
        for (n, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            let bad = |i: usize| TraceError::BadValue {
                line: n + 2,
                column: i + 1,
            };
            let parse = |i: usize| -> Result<f64, TraceError> {
                cells
                    .get(i)
                    .and_then(|c| c.parse::<f64>().ok())
                    .ok_or_else(|| bad(i))
            };
            let sequence = match sequence_col {
                Some(i) => Some(
                    cells
                        .get(i)
                        .and_then(|c| c.parse::<usize>().ok())
                        .ok_or_else(|| bad(i))?,
                ),
                None => None,
            };
            rows.push(TraceRow {
                sequence,
                step: parse(step_col)?,
                values: value_cols
                    .iter()
                    .map(|&c| parse(c))
                    .collect::<Result<_, _>>()?,
            });
        }
        Ok(Self {
            columns: value_cols.iter().map(|&c| head[c].to_string()).collect(),
            rows,
        })
    }

    /// Per QR step (ascending): the step and the running estimate of every column averaged
    /// over the sequences (rows) of that step.
    pub fn mean_over_sequences(&self) -> Vec<(f64, Vec<f64>)> {
        let mut sums: BTreeMap<u64, (Vec<f64>, usize)> = BTreeMap::new();
        for row in &self.rows {
            let entry = sums
                .entry(row.step.to_bits())
                .or_insert_with(|| (vec![0.0; self.columns.len()], 0));
            for (slot, value) in entry.0.iter_mut().zip(&row.values) {
                *slot += value;
            }
            entry.1 += 1;
        }
        let mut steps: Vec<(f64, Vec<f64>)> = sums
            .into_iter()
            .map(|(bits, (sum, count))| {
                (
                    f64::from_bits(bits),
                    sum.iter().map(|s| s / count as f64).collect(),
                )
            })
            .collect();
        steps.sort_by(|a, b| a.0.total_cmp(&b.0));
        steps
    }
}

/// The trace CSV of `spectrum` in `log_base` ([`TraceTable::from_spectrum`] written with
/// [`TraceTable::to_csv`]).
pub fn trace_csv(spectrum: &Spectrum, log_base: LogBase) -> String {
    TraceTable::from_spectrum(spectrum, log_base).to_csv()
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
            checks: Default::default(),
            block_se: vec![f64::NAN; 2],
        };
        let spectrum = Spectrum {
            statistics: column_statistics(&[&sequence.exponents]),
            per_sequence: vec![sequence.clone(), sequence],
            block_sem: vec![f64::NAN; 2],
        };
        let csv = trace_csv(&spectrum, LogBase::Two);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "sequence,step,exponent_1,exponent_2");
        assert_eq!(lines[1], "0,1,2,-inf");
        assert_eq!(lines[4], "1,2,1,-1");
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn csv_round_trips_through_the_reader() {
        let table = TraceTable {
            columns: vec!["exponent_1".into(), "exponent_2".into()],
            rows: vec![
                TraceRow {
                    sequence: Some(0),
                    step: 1.0,
                    values: vec![0.125, f64::NEG_INFINITY],
                },
                TraceRow {
                    sequence: Some(1),
                    step: 1.0,
                    values: vec![0.1 + 0.2, -1.5e-300],
                },
            ],
        };
        let back = TraceTable::parse(&table.to_csv()).unwrap();
        assert_eq!(back, table);
        let means = back.mean_over_sequences();
        assert_eq!(means.len(), 1);
        assert_eq!(means[0].1[0], (0.125 + (0.1 + 0.2)) / 2.0);
        assert_eq!(means[0].1[1], f64::NEG_INFINITY);
    }

    #[test]
    fn reader_accepts_no_sequence_column_and_names_bad_cells() {
        let table = TraceTable::parse("step,a\n2,0.5\n1,0.25\n").unwrap();
        assert_eq!(table.rows[0].sequence, None);
        assert_eq!(table.columns, vec!["a".to_string()]);
        assert_eq!(table.mean_over_sequences()[0], (1.0, vec![0.25]));
        assert_eq!(
            TraceTable::parse("step,a\n2,0.5\n").unwrap().to_csv(),
            "step,a\n2,0.5\n"
        );
        assert_eq!(
            TraceTable::parse("a,b\n1,2\n"),
            Err(TraceError::NoStepColumn)
        );
        assert_eq!(
            TraceTable::parse("sequence,step,a\n0,1,x\n"),
            Err(TraceError::BadValue { line: 2, column: 3 })
        );
    }
}

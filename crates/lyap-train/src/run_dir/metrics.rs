//! `metrics.jsonl` (one [`EpochRecord`] per line) and `summary.json` ([`RunSummary`]) of a
//! run directory (docs/DESIGN.md section 6).

use super::write_atomic;
use crate::error::{ReadError, TrainError};
use lyap_core::SpectrumSummary;
use lyap_rnn::report::OptionalSummaryJson;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One line of `metrics.jsonl`. `spectrum` is `null` for epochs without a spectrum
/// (`--le-every`); non-finite features (diverged exponents) are `null`.
///
/// `lyap train` writes every field; other producers (a Python `Recorder`) may leave out the
/// losses, `lr` and the seconds, which are then absent from the line (not `null`). `spectrum`
/// is always written: the seven features of [`lyap_core::summarize`] of the epoch's mean
/// spectrum in the JSON form of the spectrum report ([`OptionalSummaryJson`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// Seconds spent training (and validating) in this epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_seconds: Option<f64>,
    /// Seconds spent computing the spectrum in this epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub le_seconds: Option<f64>,
    #[serde(default, with = "OptionalSummaryJson")]
    pub spectrum: Option<SpectrumSummary>,
    /// Forecasting tasks (`lorenz63`): the mean closed-loop valid prediction time over the
    /// held-out trajectories, in Lyapunov times (`crate::forecast`); absent for other tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpt_mean: Option<f64>,
    /// The median of the same valid prediction times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpt_median: Option<f64>,
}

/// `metrics.jsonl`: one JSON object per line.
pub fn write_metrics(path: &Path, records: &[EpochRecord]) -> Result<(), TrainError> {
    let mut text = String::new();
    for record in records {
        let line = serde_json::to_string(record).map_err(|e| TrainError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
        text.push_str(&line);
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}

/// Reads `metrics.jsonl` (blank lines ignored).
pub fn read_metrics(path: &Path) -> Result<Vec<EpochRecord>, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::read(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|source| {
                TrainError::read(
                    path,
                    ReadError::JsonLine {
                        line: i + 1,
                        source,
                    },
                )
            })
        })
        .collect()
}

/// `summary.json`: the run's result. `le_fraction_to_best` is the Table-1 figure of the
/// paper: seconds spent on spectra divided by seconds spent training, both summed over
/// epochs 1..=best_epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub best_epoch: usize,
    pub best_val_loss: f64,
    pub epochs_completed: usize,
    pub train_seconds_to_best: f64,
    pub le_seconds_to_best: f64,
    pub le_fraction_to_best: Option<f64>,
    pub total_train_seconds: f64,
    pub total_le_seconds: f64,
}

impl RunSummary {
    /// The summary of `records`, best = lowest validation loss (first on ties); `None` when
    /// no record has a validation loss. Absent seconds count as 0.
    pub fn of(records: &[EpochRecord]) -> Option<Self> {
        let (best_epoch, best_val_loss) = records
            .iter()
            .filter_map(|r| r.val_loss.map(|v| (r.epoch, v)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        let upto = &records[..records.iter().position(|r| r.epoch == best_epoch)? + 1];
        let seconds = |records: &[EpochRecord], of: fn(&EpochRecord) -> Option<f64>| -> f64 {
            records.iter().filter_map(of).sum()
        };
        let train = seconds(upto, |r| r.train_seconds);
        let le = seconds(upto, |r| r.le_seconds);
        Some(Self {
            best_epoch,
            best_val_loss,
            epochs_completed: records.len(),
            train_seconds_to_best: train,
            le_seconds_to_best: le,
            le_fraction_to_best: (train > 0.0).then_some(le / train),
            total_train_seconds: seconds(records, |r| r.train_seconds),
            total_le_seconds: seconds(records, |r| r.le_seconds),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> Vec<EpochRecord> {
        let summary = lyap_core::summarize(&[0.5, f64::NEG_INFINITY]);
        vec![
            EpochRecord {
                epoch: 1,
                train_loss: Some(2.5),
                val_loss: Some(2.25),
                lr: Some(0.01),
                train_seconds: Some(1.5),
                le_seconds: Some(0.5),
                spectrum: Some(summary),
                ..EpochRecord::default()
            },
            EpochRecord {
                epoch: 2,
                train_loss: Some(2.0),
                spectrum: None,
                ..EpochRecord::default()
            },
        ]
    }

    #[test]
    fn metrics_round_trip_with_absent_fields_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.jsonl");
        let records = records();
        write_metrics(&path, &records).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"epoch":1,"train_loss":2.5,"val_loss":2.25,"lr":0.01,"train_seconds":1.5,"le_seconds":0.5,"spectrum":{"max":0.5,"mean":null,"min":null,"variance":0.0,"sum":null,"n_positive":1,"kaplan_yorke_dimension":1.0}}"#
        );
        assert_eq!(lines[1], r#"{"epoch":2,"train_loss":2.0,"spectrum":null}"#);
        let back = read_metrics(&path).unwrap();
        assert_eq!(back[1], records[1]);
        let (a, b) = (
            back[0].spectrum.as_ref().unwrap(),
            records[0].spectrum.as_ref().unwrap(),
        );
        assert_eq!((a.max, a.min, a.sum), (b.max, b.min, b.sum));
        assert_eq!(a.kaplan_yorke_dimension, b.kaplan_yorke_dimension);
        assert_eq!(back[0].train_loss, records[0].train_loss);
    }

    #[test]
    fn summary_skips_records_without_validation_loss() {
        let summary = RunSummary::of(&records()).unwrap();
        assert_eq!((summary.best_epoch, summary.best_val_loss), (1, 2.25));
        assert_eq!(summary.le_fraction_to_best, Some(0.5 / 1.5));
        assert!(RunSummary::of(&records()[1..]).is_none());
    }
}

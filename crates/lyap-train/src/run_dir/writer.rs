//! [`RunWriter`]: creating a run directory and writing its files, shared by `lyap train`,
//! `lyap sweep` (a trial's failure) and the Python `Recorder` (a user's own training loop).

use super::{write_json, write_metrics, EpochRecord, RunDir, RunState, RunStatus};
use crate::error::TrainError;
use lyap_rnn::report::SpectrumReport;
use serde::Serialize;
use std::path::PathBuf;

impl RunDir {
    /// Writes `status.json`.
    pub fn write_status(&self, status: &RunStatus) -> Result<(), TrainError> {
        write_json(&self.status(), status)
    }

    /// Writes `spectra/epoch_NNN.json` (the report's own JSON, as `lyap spectrum --out`).
    pub fn write_spectrum(&self, epoch: usize, report: &SpectrumReport) -> Result<(), TrainError> {
        super::write_atomic(&self.spectrum(epoch), report.to_json().as_bytes())
    }

    /// Writes `spectra/trace_epoch_NNN.csv`: `csv` is the text of
    /// `lyap_rnn::report::trace_csv` or `TraceTable::to_csv`.
    pub fn write_trace(&self, epoch: usize, csv: &str) -> Result<(), TrainError> {
        super::write_atomic(&self.trace(epoch), csv.as_bytes())
    }
}

/// A run being written: its directory, the epoch records so far (each append rewrites
/// `metrics.jsonl` whole) and the planned number of epochs (for `status.json`).
#[derive(Clone, Debug)]
pub struct RunWriter {
    dir: RunDir,
    records: Vec<EpochRecord>,
    epochs_planned: Option<usize>,
}

impl RunWriter {
    /// Starts a new run in `root` by writing `config` as `config.json`; `config` must
    /// serialise to a JSON object (a `TrainConfig`, or the hyperparameters of a user's
    /// training loop). Fails with [`TrainError::RunExists`] when `root` already holds a run.
    pub fn create<C: Serialize + ?Sized>(
        root: impl Into<PathBuf>,
        config: &C,
        epochs_planned: Option<usize>,
    ) -> Result<Self, TrainError> {
        let dir = RunDir::new(root);
        if dir.config().exists() {
            return Err(TrainError::RunExists { path: dir.root });
        }
        let is_object = serde_json::to_value(config).is_ok_and(|v| v.is_object());
        if !is_object {
            return Err(TrainError::Config(format!(
                "the config of run {} must be a JSON object (names to values)",
                dir.root.display()
            )));
        }
        write_json(&dir.config(), config)?;
        Ok(Self::with_records(dir, vec![], epochs_planned))
    }

    /// Continues the run in `root` after its recorded epochs (`metrics.jsonl`, if any).
    pub fn open(
        root: impl Into<PathBuf>,
        epochs_planned: Option<usize>,
    ) -> Result<Self, TrainError> {
        let dir = RunDir::new(root);
        let records = dir.records()?;
        Ok(Self::with_records(dir, records, epochs_planned))
    }

    /// A writer continuing after `records` (written again on the next append).
    pub fn with_records(
        dir: RunDir,
        records: Vec<EpochRecord>,
        epochs_planned: Option<usize>,
    ) -> Self {
        Self {
            dir,
            records,
            epochs_planned,
        }
    }

    pub fn dir(&self) -> &RunDir {
        &self.dir
    }

    /// The epoch records written so far.
    pub fn records(&self) -> &[EpochRecord] {
        &self.records
    }

    /// Rewrites `metrics.jsonl` with the records so far (an empty file for a fresh run).
    pub fn write_metrics(&self) -> Result<(), TrainError> {
        write_metrics(&self.dir.metrics(), &self.records)
    }

    /// Appends one epoch's record and rewrites `metrics.jsonl`.
    pub fn append_epoch(&mut self, record: EpochRecord) -> Result<(), TrainError> {
        self.records.push(record);
        self.write_metrics()
    }

    /// Writes `status.json` with `state`, `reason`, the number of records as
    /// `epochs_completed` and the planned epochs.
    pub fn write_status(&self, state: RunState, reason: Option<String>) -> Result<(), TrainError> {
        self.dir.write_status(&RunStatus {
            status: state,
            reason,
            epochs_completed: self.records.len(),
            epochs_planned: self.epochs_planned,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_recorder_like_run_round_trips_through_the_readers() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("run");
        let config = BTreeMap::from([("lr", serde_json::json!(0.01)), ("tag", "a".into())]);
        let mut writer = RunWriter::create(&root, &config, None).unwrap();
        assert!(matches!(
            RunWriter::create(&root, &config, None),
            Err(TrainError::RunExists { .. })
        ));
        assert!(matches!(
            RunWriter::create(dir.path().join("other"), &[1, 2], None),
            Err(TrainError::Config(_))
        ));
        writer.write_status(RunState::Running, None).unwrap();
        let record = EpochRecord {
            epoch: 1,
            val_loss: Some(1.5),
            ..EpochRecord::default()
        };
        writer.append_epoch(record.clone()).unwrap();
        writer
            .dir()
            .write_trace(1, "sequence,step,exponent_1\n0,1,0.5\n")
            .unwrap();
        writer.write_status(RunState::Completed, None).unwrap();

        let run = RunDir::new(&root);
        assert!(run.is_run());
        assert_eq!(run.records().unwrap(), vec![record]);
        let status = run.read_status().unwrap().unwrap();
        assert_eq!(
            (status.status, status.epochs_completed),
            (RunState::Completed, 1)
        );
        assert_eq!(status.epochs_planned, None);
        assert!(run.read_spectrum(1).unwrap().is_none());
        let back: serde_json::Map<String, serde_json::Value> = run.read_config().unwrap();
        assert_eq!(back["lr"], 0.01);
        let reopened = RunWriter::open(&root, Some(3)).unwrap();
        assert_eq!(reopened.records().len(), 1);
        assert!(!RunDir::new(dir.path()).is_run());
    }
}

//! Reading run directories for analysis: epochs, losses, spectra and status through
//! lyap-train's readers (`lyap_train::run_dir`, the owner of the format), and the runs of a
//! sweep (hyperparameters from its `sweep.json`) or of any directory of run directories
//! (hyperparameters from each run's `config.json`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lyap_train::run_dir::RunDir;
use lyap_train::{RunState, RunStatus};

use crate::spec::FlagValue;
use crate::sweep::{trial_status, SweepDir};
use crate::{ExperimentError, Result};

/// One epoch of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochData {
    pub epoch: usize,
    /// NaN when the record has none.
    pub train_loss: f64,
    /// NaN when the record has none.
    pub val_loss: f64,
    /// `exponents.mean` of `spectra/epoch_NNN.json` (null read as `-inf`), if measured.
    pub spectrum: Option<Vec<f64>>,
    /// `exponents.sem` (NaN where null), if measured.
    pub spectrum_sem: Option<Vec<f64>>,
}

/// A run directory's content.
#[derive(Clone, Debug, PartialEq)]
pub struct RunData {
    pub dir: PathBuf,
    /// Sweep trial index, or the position of the run among a directory's runs (None for a
    /// stand-alone run).
    pub index: Option<usize>,
    pub name: String,
    pub params: BTreeMap<String, FlagValue>,
    /// `status.json` (None when the run has none).
    pub status: Option<RunStatus>,
    pub epochs: Vec<EpochData>,
}

impl RunData {
    /// Final performance: the lowest finite validation loss over the epochs (the best epoch's,
    /// docs/DESIGN.md section 5); NaN if there is none.
    pub fn best_val_loss(&self) -> f64 {
        self.best_epoch().map_or(f64::NAN, |e| e.val_loss)
    }

    /// The epoch with the lowest finite validation loss (the first of equals).
    pub fn best_epoch(&self) -> Option<&EpochData> {
        self.epochs
            .iter()
            .filter(|e| e.val_loss.is_finite())
            .min_by(|a, b| a.val_loss.total_cmp(&b.val_loss))
    }

    /// The last epoch with a spectrum.
    pub fn final_spectrum(&self) -> Option<(usize, &Vec<f64>)> {
        self.epochs
            .iter()
            .rev()
            .find_map(|e| e.spectrum.as_ref().map(|s| (e.epoch, s)))
    }

    /// The spectrum at `epoch`, if measured.
    pub fn spectrum_at(&self, epoch: usize) -> Option<&Vec<f64>> {
        self.epochs
            .iter()
            .find(|e| e.epoch == epoch)
            .and_then(|e| e.spectrum.as_ref())
    }

    /// For a failed run, the reason.
    pub fn failure(&self) -> Option<&str> {
        self.status.as_ref().and_then(RunStatus::failure)
    }

    /// `completed`, `failed: REASON` or `incomplete` (no status, running or interrupted).
    pub fn status_text(&self) -> String {
        match (self.status.as_ref().map(|s| s.status), self.failure()) {
            (Some(RunState::Completed), _) => "completed".into(),
            (_, Some(reason)) => format!("failed: {reason}"),
            _ => "incomplete".into(),
        }
    }
}

/// Reads `metrics.jsonl` and the spectra of a run directory (an absent metrics file gives no
/// epochs).
pub fn read_epochs(run_dir: &Path) -> Result<Vec<EpochData>> {
    let dir = RunDir::new(run_dir);
    let mut epochs = vec![];
    for record in dir.records()? {
        let report = dir.read_spectrum(record.epoch)?;
        epochs.push(EpochData {
            epoch: record.epoch,
            train_loss: record.train_loss.unwrap_or(f64::NAN),
            val_loss: record.val_loss.unwrap_or(f64::NAN),
            spectrum_sem: report.as_ref().map(|r| r.exponents.sem.clone()),
            spectrum: report.map(|r| r.exponents.mean),
        });
    }
    epochs.sort_by_key(|e| e.epoch);
    Ok(epochs)
}

/// Reads a run directory: its status and epochs; `index`, `name` and `params` as given.
fn read_run(
    run_dir: &Path,
    index: Option<usize>,
    name: String,
    params: BTreeMap<String, FlagValue>,
) -> Result<RunData> {
    Ok(RunData {
        dir: run_dir.to_path_buf(),
        index,
        name,
        params,
        status: trial_status(run_dir),
        epochs: read_epochs(run_dir)?,
    })
}

fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map_or_else(|| "run".into(), |n| n.to_string_lossy().into_owned())
}

/// Reads a stand-alone run directory (for `lyap report`).
pub fn load_run(run_dir: &Path) -> Result<RunData> {
    if !RunDir::new(run_dir).is_run() {
        return Err(ExperimentError::format(
            run_dir,
            "not a run directory (no metrics.jsonl or status.json)",
        ));
    }
    read_run(run_dir, None, dir_name(run_dir), BTreeMap::new())
}

/// The runs of a sweep directory or of a directory of runs, split by status.
#[derive(Clone, Debug, Default)]
pub struct SweepData {
    /// Completed runs in index order.
    pub completed: Vec<RunData>,
    /// Failed runs (reason in `status`), with their hyperparameters.
    pub failed: Vec<RunData>,
    /// Runs not (yet) complete: running, interrupted or never started.
    pub incomplete: Vec<usize>,
    /// Names of the hyperparameters.
    pub param_names: Vec<String>,
}

impl SweepData {
    /// Files `run` under completed, failed or incomplete by its status.
    fn push(&mut self, run: RunData) {
        match run.status.as_ref().map(|s| s.status) {
            Some(RunState::Completed) => self.completed.push(run),
            Some(RunState::Failed) => self.failed.push(run),
            _ => self.incomplete.push(run.index.unwrap_or_default()),
        }
    }
}

/// Reads the runs in `dir`: the trials listed in its `sweep.json` when it is a sweep
/// directory (hyperparameters from the manifest), otherwise every subdirectory that is a run
/// directory, in name order (hyperparameters: the numbers, strings and booleans at the top of
/// its `config.json`; other subdirectories, such as `analysis/`, are skipped). A directory
/// without any run is [`ExperimentError::NoRuns`].
pub fn load_sweep(dir: &Path) -> Result<SweepData> {
    let sweep = SweepDir::new(dir);
    if sweep.manifest().exists() {
        return load_manifest_trials(&sweep);
    }
    let no_runs = || ExperimentError::NoRuns {
        path: dir.to_path_buf(),
    };
    let entries = std::fs::read_dir(dir).map_err(|_| no_runs())?;
    let mut run_dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && RunDir::new(p).is_run())
        .collect();
    if run_dirs.is_empty() {
        return Err(no_runs());
    }
    run_dirs.sort();
    let mut data = SweepData::default();
    let mut names = BTreeSet::new();
    for (index, run_dir) in run_dirs.iter().enumerate() {
        let params = config_params(run_dir)?;
        names.extend(params.keys().cloned());
        data.push(read_run(run_dir, Some(index), dir_name(run_dir), params)?);
    }
    data.param_names = names.into_iter().collect();
    Ok(data)
}

/// The trials of a sweep directory, as listed in its `sweep.json`.
fn load_manifest_trials(sweep: &SweepDir) -> Result<SweepData> {
    let manifest = sweep.read_manifest()?;
    let mut data = SweepData::default();
    let mut names = BTreeSet::new();
    for trial in manifest.trials {
        names.extend(trial.params.keys().cloned());
        let run_dir = sweep.trial(&trial.name);
        if !trial_status(&run_dir).is_some_and(|s| s.is_final()) {
            data.incomplete.push(trial.index);
            continue;
        }
        data.push(read_run(
            &run_dir,
            Some(trial.index),
            trial.name,
            trial.params,
        )?);
    }
    data.param_names = names.into_iter().collect();
    Ok(data)
}

/// The scalar top-level entries of a run's `config.json` (none when it has no config).
fn config_params(run_dir: &Path) -> Result<BTreeMap<String, FlagValue>> {
    let dir = RunDir::new(run_dir);
    if !dir.config().exists() {
        return Ok(BTreeMap::new());
    }
    let config: serde_json::Map<String, serde_json::Value> = dir.read_config()?;
    Ok(config
        .into_iter()
        .filter_map(|(key, value)| {
            let value = match value {
                serde_json::Value::Bool(b) => FlagValue::Bool(b),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => FlagValue::Int(i),
                    None => FlagValue::Float(n.as_f64()?),
                },
                serde_json::Value::String(s) => FlagValue::Text(s),
                _ => return None,
            };
            Some((key, value))
        })
        .collect())
}

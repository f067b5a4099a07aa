//! Reading `lyap train` run directories: epochs, losses, spectra, status, and a sweep's
//! trials with their sampled hyperparameters.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::spec::FlagValue;
use crate::sweep::{run_status, RunStatus, SweepDir};
use crate::{read_json, ExperimentError, Result};

/// One epoch of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochData {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    /// `exponents.mean` of `spectra/epoch_NNN.json` (null read as `-inf`), if measured.
    pub spectrum: Option<Vec<f64>>,
    /// `exponents.sem` (NaN where null), if present.
    pub spectrum_sem: Option<Vec<f64>>,
}

/// A run directory's content.
#[derive(Clone, Debug, PartialEq)]
pub struct RunData {
    pub dir: PathBuf,
    /// Sweep trial index (None for a stand-alone run).
    pub index: Option<usize>,
    pub name: String,
    pub params: BTreeMap<String, FlagValue>,
    pub status: RunStatus,
    pub epochs: Vec<EpochData>,
}

impl RunData {
    /// Final performance: the lowest finite validation loss over the epochs (the best epoch's,
    /// DESIGN.md section 5); NaN if there is none.
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
}

fn number_or_nan(value: Option<&serde_json::Value>) -> f64 {
    value.and_then(|v| v.as_f64()).unwrap_or(f64::NAN)
}

/// Reads a JSON array of numbers with `null` mapped to `null_value`.
fn number_array(value: Option<&serde_json::Value>, null_value: f64) -> Option<Vec<f64>> {
    value?
        .as_array()?
        .iter()
        .map(|v| {
            if v.is_null() {
                Some(null_value)
            } else {
                v.as_f64()
            }
        })
        .collect()
}

/// Reads `spectra/epoch_NNN.json` of `run_dir` (None when absent).
/// `exponents.mean` and `exponents.sem` of one spectrum file.
type SpectrumFile = (Vec<f64>, Option<Vec<f64>>);

fn read_spectrum(run_dir: &Path, epoch: usize) -> Result<Option<SpectrumFile>> {
    let path = run_dir
        .join("spectra")
        .join(format!("epoch_{epoch:03}.json"));
    if !path.exists() {
        return Ok(None);
    }
    let value = read_json(&path)?;
    let exponents = value.get("exponents");
    let mean = number_array(exponents.and_then(|e| e.get("mean")), f64::NEG_INFINITY)
        .ok_or_else(|| ExperimentError::format(&path, "no numeric `exponents.mean` array"))?;
    let sem = number_array(exponents.and_then(|e| e.get("sem")), f64::NAN);
    Ok(Some((mean, sem)))
}

/// Reads `metrics.jsonl` and the spectra of a run directory (an absent metrics file gives no
/// epochs).
pub fn read_epochs(run_dir: &Path) -> Result<Vec<EpochData>> {
    let path = run_dir.join("metrics.jsonl");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(ExperimentError::io(&path, e)),
    };
    let mut epochs = vec![];
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let record: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| ExperimentError::format(&path, format!("line {}: {e}", i + 1)))?;
        let epoch = record
            .get("epoch")
            .and_then(|e| e.as_u64())
            .ok_or_else(|| ExperimentError::format(&path, format!("line {}: no `epoch`", i + 1)))?
            as usize;
        let spectrum = read_spectrum(run_dir, epoch)?;
        epochs.push(EpochData {
            epoch,
            train_loss: number_or_nan(record.get("train_loss")),
            val_loss: number_or_nan(record.get("val_loss")),
            spectrum_sem: spectrum.as_ref().and_then(|s| s.1.clone()),
            spectrum: spectrum.map(|s| s.0),
        });
    }
    epochs.sort_by_key(|e| e.epoch);
    Ok(epochs)
}

/// Reads a stand-alone run directory (for `lyap report`).
pub fn load_run(run_dir: &Path) -> Result<RunData> {
    if !run_dir.join("metrics.jsonl").exists() && !run_dir.join("status.json").exists() {
        return Err(ExperimentError::format(
            run_dir,
            "not a lyap train run directory (no metrics.jsonl or status.json)",
        ));
    }
    Ok(RunData {
        dir: run_dir.to_path_buf(),
        index: None,
        name: run_dir
            .file_name()
            .map_or_else(|| "run".into(), |n| n.to_string_lossy().into_owned()),
        params: BTreeMap::new(),
        status: run_status(run_dir),
        epochs: read_epochs(run_dir)?,
    })
}

/// The trials of a sweep directory, split by status.
#[derive(Clone, Debug, Default)]
pub struct SweepData {
    /// Completed trials in index order.
    pub completed: Vec<RunData>,
    /// Failed trials (reason in `status`), with their sampled hyperparameters.
    pub failed: Vec<RunData>,
    /// Trials not (yet) complete: running, interrupted or never started.
    pub incomplete: Vec<usize>,
    /// Names of the sampled hyperparameters.
    pub param_names: Vec<String>,
}

/// Reads every trial of the sweep in `dir` listed in its `sweep.json`.
pub fn load_sweep(dir: &Path) -> Result<SweepData> {
    let sweep = SweepDir::new(dir);
    let manifest = sweep.read_manifest()?;
    let mut data = SweepData::default();
    let mut names = std::collections::BTreeSet::new();
    for trial in manifest.trials {
        names.extend(trial.params.keys().cloned());
        let run_dir = sweep.trial(&trial.name);
        let status = run_status(&run_dir);
        if status == RunStatus::Incomplete {
            data.incomplete.push(trial.index);
            continue;
        }
        let run = RunData {
            epochs: read_epochs(&run_dir)?,
            dir: run_dir,
            index: Some(trial.index),
            name: trial.name,
            params: trial.params,
            status: status.clone(),
        };
        match status {
            RunStatus::Completed => data.completed.push(run),
            _ => data.failed.push(run),
        }
    }
    data.param_names = names.into_iter().collect();
    Ok(data)
}

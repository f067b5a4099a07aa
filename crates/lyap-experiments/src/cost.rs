//! The cost of the spectra next to the cost of training (the paper's Table 1), from the
//! wall-clock times each trial recorded in `metrics.jsonl` (docs/DESIGN.md section 5,
//! "Cost of the spectra").
//!
//! Per completed trial: `T` = the sum of `train_seconds` (training and validation) over its
//! epochs, `S` = the sum of `le_seconds` over its epochs with a spectrum, `E` its epochs and
//! `M` its spectra. Reported: the medians over trials of `T / E` (seconds per training
//! epoch) and `S / M` (seconds per spectrum), and the share `sum S / sum T` over all trials.
//! The setting (the trials' `config.json` values of [`SETTING_KEYS`], every distinct value
//! listed) is stated beside it, since the share depends on the network and data sizes.

use std::collections::BTreeSet;

use lyap_train::run_dir::RunDir;

use crate::trials::RunData;
use crate::Result;

/// The `config.json` keys that describe the cost's setting.
pub const SETTING_KEYS: &[&str] = &[
    "task",
    "arch",
    "hidden",
    "layers",
    "batch_size",
    "seq_len",
    "max_chars",
    "precision",
    "le_every",
    "le_batch",
    "le_steps",
    "le_warmup",
    "le_state",
];

/// Table 1 of a set of trials.
#[derive(Clone, Debug, PartialEq)]
pub struct CostTable {
    /// Trials with at least one timed epoch.
    pub trials: usize,
    /// Median over trials of the seconds per training epoch.
    pub train_epoch_seconds: f64,
    /// Median over trials of the seconds per spectrum (NaN without spectra).
    pub spectrum_seconds: f64,
    /// Total spectrum seconds over total training seconds.
    pub share: f64,
    /// `(key, values)`: the distinct `config.json` values of each of [`SETTING_KEYS`].
    pub setting: Vec<(String, Vec<String>)>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

/// The cost table of `trials` (module documentation); None when no trial has a timed epoch.
pub fn cost_table(trials: &[RunData]) -> Result<Option<CostTable>> {
    let (mut per_epoch, mut per_spectrum) = (vec![], vec![]);
    let (mut total_train, mut total_spectrum) = (0.0, 0.0);
    let mut setting: Vec<(String, BTreeSet<String>)> = SETTING_KEYS
        .iter()
        .map(|k| (k.to_string(), BTreeSet::new()))
        .collect();
    let mut timed = 0;
    for trial in trials {
        let run = RunDir::new(&trial.dir);
        let records = run.records()?;
        let train: Vec<f64> = records.iter().filter_map(|r| r.train_seconds).collect();
        if train.is_empty() {
            continue;
        }
        timed += 1;
        let spectra: Vec<f64> = records.iter().filter_map(|r| r.le_seconds).collect();
        let (t, s) = (train.iter().sum::<f64>(), spectra.iter().sum::<f64>());
        total_train += t;
        total_spectrum += s;
        per_epoch.push(t / train.len() as f64);
        if !spectra.is_empty() {
            per_spectrum.push(s / spectra.len() as f64);
        }
        if let Ok(config) = run.read_config::<serde_json::Value>() {
            for (key, values) in &mut setting {
                if let Some(v) = config.get(key.as_str()) {
                    values.insert(match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                }
            }
        }
    }
    if timed == 0 {
        return Ok(None);
    }
    Ok(Some(CostTable {
        trials: timed,
        train_epoch_seconds: median(per_epoch),
        spectrum_seconds: median(per_spectrum),
        share: total_spectrum / total_train,
        setting: setting
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect(),
    }))
}

impl CostTable {
    /// The setting as `key = value` pairs (`a / b` for several values).
    pub fn setting_text(&self) -> String {
        self.setting
            .iter()
            .map(|(k, v)| format!("{k} = {}", v.join(" / ")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lyap_train::run_dir::{write_json, write_metrics, EpochRecord};
    use std::collections::BTreeMap;

    fn record(epoch: usize, train: f64, le: Option<f64>) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: Some(1.0),
            val_loss: Some(1.0),
            lr: None,
            train_seconds: Some(train),
            le_seconds: le,
            spectrum: None,
            vpt_mean: None,
            vpt_median: None,
        }
    }

    fn trial(dir: &std::path::Path, hidden: usize, records: &[EpochRecord]) -> RunData {
        std::fs::create_dir_all(dir).unwrap();
        let run = RunDir::new(dir);
        write_metrics(&run.metrics(), records).unwrap();
        write_json(
            &run.config(),
            &serde_json::json!({"task": "synthetic-text", "hidden": hidden}),
        )
        .unwrap();
        RunData {
            dir: dir.to_path_buf(),
            index: None,
            name: "t".into(),
            params: BTreeMap::new(),
            status: None,
            epochs: vec![],
        }
    }

    #[test]
    fn medians_share_and_setting() {
        let dir = tempfile::tempdir().unwrap();
        let a = trial(
            &dir.path().join("a"),
            8,
            &[record(1, 2.0, Some(0.5)), record(2, 4.0, Some(0.5))],
        );
        let b = trial(&dir.path().join("b"), 16, &[record(1, 10.0, None)]);
        let c = trial(&dir.path().join("c"), 8, &[record(1, 1.0, Some(0.1))]);
        let table = cost_table(&[a, b, c]).unwrap().unwrap();
        assert_eq!(table.trials, 3);
        // per-epoch means 3, 10, 1 -> median 3; per-spectrum means 0.5, 0.1 -> median 0.3
        assert_eq!(table.train_epoch_seconds, 3.0);
        assert!((table.spectrum_seconds - 0.3).abs() < 1e-12);
        // (0.5 + 0.5 + 0.1) / (2 + 4 + 10 + 1)
        assert!((table.share - 1.1 / 17.0).abs() < 1e-12);
        assert_eq!(
            table.setting_text(),
            "task = synthetic-text, hidden = 16 / 8"
        );
        assert_eq!(cost_table(&[]).unwrap(), None);
    }
}

//! The run directory of a training loop recorded from Python (`lyap.Recorder`), written
//! through `lyap_train::run_dir` so that `lyap report` and `lyap analyze` read it as they read
//! a `lyap train` run (docs/DESIGN.md section 6).

use crate::errors::{guard, BindingError};
use lyap_rnn::report::{ConfigInfo, ExponentStats, LogBase, ModelInfo, SpectrumReport, Timing};
use lyap_train::run_dir::{EpochRecord, RunState};
use lyap_train::TrainError;
use pyo3::prelude::*;

/// An open run directory: `config.json` written, `status.json` running, one line of
/// `metrics.jsonl` and (when measured) one `spectra/epoch_NNN.json` per logged epoch, all
/// through `lyap_train::run_dir::RunWriter`.
#[pyclass(module = "lyap._lyap")]
pub struct RunWriter {
    inner: lyap_train::run_dir::RunWriter,
}

#[pymethods]
impl RunWriter {
    /// Creates the run in `path` with `config_json` (a JSON object) as its `config.json`; a
    /// directory that already holds a run (a `config.json`) is refused.
    #[new]
    fn new(path: &str, config_json: &str) -> PyResult<Self> {
        Ok(guard::<_, BindingError>(|| {
            let config: serde_json::Value = serde_json::from_str(config_json)
                .map_err(|e| BindingError::value(format!("config: {e}")))?;
            let inner = match lyap_train::run_dir::RunWriter::create(path, &config, None) {
                Err(TrainError::RunExists { path }) => {
                    return Err(BindingError::value(format!(
                        "{} already holds a run (config.json exists); choose another directory",
                        path.display()
                    )))
                }
                other => other?,
            };
            inner.write_status(RunState::Running, None)?;
            Ok(Self { inner })
        })?)
    }

    /// Number of epochs logged so far.
    #[getter]
    fn epochs(&self) -> usize {
        self.inner.records().len()
    }

    /// Appends epoch `len + 1`: its losses (each optional), learning rate and training seconds
    /// (optional), and a spectrum report (the JSON of `lyap spectrum --out`, optional) with its
    /// trace CSV (optional). Rewrites `metrics.jsonl` and `status.json`.
    #[pyo3(signature = (train_loss=None, val_loss=None, lr=None, train_seconds=None,
        spectrum_json=None, trace_csv=None))]
    fn log_epoch(
        &mut self,
        train_loss: Option<f64>,
        val_loss: Option<f64>,
        lr: Option<f64>,
        train_seconds: Option<f64>,
        spectrum_json: Option<&str>,
        trace_csv: Option<&str>,
    ) -> PyResult<usize> {
        Ok(guard::<_, BindingError>(|| {
            let epoch = self.inner.records().len() + 1;
            let mut record = EpochRecord {
                epoch,
                train_loss,
                val_loss,
                lr,
                train_seconds,
                ..EpochRecord::default()
            };
            if let Some(text) = spectrum_json {
                let report = SpectrumReport::from_json(text)
                    .map_err(|e| BindingError::value(format!("spectrum: {e}")))?;
                self.inner.dir().write_spectrum(epoch, &report)?;
                record.le_seconds = Some(report.timing.seconds);
                record.spectrum = Some(report.summary);
            }
            if let Some(csv) = trace_csv {
                self.inner.dir().write_trace(epoch, csv)?;
            }
            self.inner.append_epoch(record)?;
            self.inner.write_status(RunState::Running, None)?;
            Ok(epoch)
        })?)
    }

    /// Marks the run `completed`, or `failed` with `failed` as the reason.
    #[pyo3(signature = (failed=None))]
    fn close(&self, failed: Option<String>) -> PyResult<()> {
        let state = if failed.is_some() {
            RunState::Failed
        } else {
            RunState::Completed
        };
        Ok(guard::<_, BindingError>(|| {
            Ok(self.inner.write_status(state, failed)?)
        })?)
    }
}

/// The JSON of a spectrum known only by its exponents (imported from another tool): mean and
/// optional std, no per-sequence values, model and settings unknown (zeros), a warning saying
/// so; the summary is that of the exponents. `log_base` is `"e"` or `"2"`.
#[pyfunction]
#[pyo3(signature = (exponents, std=None, log_base="e"))]
pub fn imported_spectrum_json(
    exponents: Vec<f64>,
    std: Option<Vec<f64>>,
    log_base: &str,
) -> PyResult<String> {
    let log_base: LogBase = log_base.parse().map_err(BindingError::Value)?;
    let k = exponents.len();
    if k == 0 {
        return Err(BindingError::value("spectrum: no exponents").into());
    }
    let std = std.unwrap_or_else(|| vec![f64::NAN; k]);
    if std.len() != k {
        return Err(BindingError::value(format!(
            "spectrum: std has {} values but there are {k} exponents",
            std.len()
        ))
        .into());
    }
    let summary = lyap_core::summarize(&exponents);
    let report = SpectrumReport {
        model: ModelInfo {
            arch: "unknown".into(),
            layers: 0,
            hidden_size: 0,
            input_size: 0,
            state: "unknown".into(),
            state_dim: k,
            system: None,
        },
        config: ConfigInfo {
            batch: 0,
            steps: 0,
            warmup: 0,
            qr_every: 0,
            k,
            log_base,
            precision: "unknown".into(),
            paper_compat: false,
            ..ConfigInfo::default()
        },
        exponents: ExponentStats {
            mean: exponents,
            std,
            sem: vec![f64::NAN; k],
            block_sem: vec![f64::NAN; k],
        },
        per_sequence: Vec::new(),
        summary,
        timing: Timing { seconds: 0.0 },
        warnings: vec![
            "exponents imported from another tool: no per-sequence values; model and settings \
             unknown"
                .into(),
        ],
        checks: None,
    };
    Ok(report.to_json())
}

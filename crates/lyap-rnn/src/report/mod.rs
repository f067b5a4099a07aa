//! The JSON result of a spectrum computation (docs/DESIGN.md section 6), written by
//! `lyap spectrum --out` and read back by tests and by training runs.
//!
//! JSON has no infinity or NaN: such values are written as `null`. On reading, `null` becomes
//! `-inf` where only a diverged exponent can produce it (means, per-sequence exponents, the
//! summary's max / mean / min / sum) and `NaN` where it means "undefined" (std, sem with one
//! sequence or a diverged exponent; variance; Kaplan-Yorke dimension). `warnings` says which
//! exponents diverged.

use crate::arch::LstmState;
use crate::weights::StackWeights;
use lyap_core::{summarize, Real, Spectrum, SpectrumSummary};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

mod checks;
mod json;
mod trace;

pub use checks::{Checks, MaxByPerturbationJson, SumRuleJson};

use json::{null_nan, null_neg_inf};
pub use json::{OptionalSummaryJson, SummaryJson};
pub use trace::{trace_csv, TraceError, TraceTable};

/// Base of the logarithm the exponents are expressed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LogBase {
    /// Natural log: nats per step (the engine's unit).
    #[default]
    #[serde(rename = "e")]
    E,
    /// Base 2: bits per step (the paper's unit).
    #[serde(rename = "2")]
    Two,
}

impl LogBase {
    /// `"e"` or `"2"`.
    pub fn name(self) -> &'static str {
        match self {
            LogBase::E => "e",
            LogBase::Two => "2",
        }
    }

    /// Unit of an exponent in this base, per step.
    pub fn unit(self) -> &'static str {
        match self {
            LogBase::E => "nats/step",
            LogBase::Two => "bits/step",
        }
    }

    /// Unit of an exponent in this base, per step or (`per_time_unit`) per time unit.
    pub fn unit_per(self, per_time_unit: bool) -> &'static str {
        match (self, per_time_unit) {
            (base, false) => base.unit(),
            (LogBase::E, true) => "nats/time unit",
            (LogBase::Two, true) => "bits/time unit",
        }
    }

    /// A natural-log exponent expressed in this base (`lambda / ln 2` for bits).
    pub fn convert(self, nats: f64) -> f64 {
        match self {
            LogBase::E => nats,
            LogBase::Two => nats / std::f64::consts::LN_2,
        }
    }
}

impl FromStr for LogBase {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "e" => Ok(LogBase::E),
            "2" => Ok(LogBase::Two),
            _ => Err(format!("unknown log base '{s}': expected e or 2")),
        }
    }
}

/// `"model"`: the network the spectrum belongs to and the state it was computed for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub arch: String,
    pub layers: usize,
    pub hidden_size: usize,
    pub input_size: usize,
    /// `full` (LSTM `(h, c)`) or `hidden` (`h` only); for RNN and GRU the state is `h` anyway.
    pub state: String,
    pub state_dim: usize,
    /// The built-in dynamical system analysed instead of a network (`lyap spectrum --system`,
    /// docs/DESIGN.md section 2.1): its name; `arch` is then the same name and the network
    /// sizes are 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
}

impl ModelInfo {
    /// The description of `weights` analysed with `state` in a system of dimension `state_dim`.
    pub fn new<T: Real>(weights: &StackWeights<T>, state: LstmState, state_dim: usize) -> Self {
        Self {
            arch: weights.arch.name().to_string(),
            layers: weights.num_layers(),
            hidden_size: weights.hidden_size,
            input_size: weights.input_size,
            state: state.name().to_string(),
            state_dim,
            system: None,
        }
    }

    /// The description of the built-in system `name` with state dimension `state_dim`.
    pub fn system(name: &str, state_dim: usize) -> Self {
        Self {
            arch: name.to_string(),
            layers: 0,
            hidden_size: 0,
            input_size: 0,
            state: "full".to_string(),
            state_dim,
            system: Some(name.to_string()),
        }
    }
}

/// `"config"`: the settings of the computation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigInfo {
    pub batch: usize,
    pub steps: usize,
    pub warmup: usize,
    pub qr_every: usize,
    pub k: usize,
    pub log_base: LogBase,
    /// `f64` or `f32`.
    pub precision: String,
    pub paper_compat: bool,
    /// Only for a run measured until converged: `until_converged`, `max_steps`, `converged`.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub convergence: Option<ConvergenceInfo>,
    /// The network ran on its own output (`x_(t+1) = W_fc h_t + b_fc`, docs/DESIGN.md
    /// section 2.2); written only when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub closed_loop: bool,
    /// The time step of a flow or of a network trained on a sampled flow: every exponent,
    /// error and check is then per time unit (per step divided by `dt`); written only when
    /// given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dt: Option<f64>,
}

impl ConfigInfo {
    /// The unit of every exponent in the report: per step, or per time unit with `dt`.
    pub fn unit(&self) -> &'static str {
        self.log_base.unit_per(self.dt.is_some())
    }
}

fn is_false(value: &bool) -> bool {
    !value
}

/// The keys of `"config"` written for a run measured until converged (docs/DESIGN.md section
/// 2, "Error bars over time and stopping when converged"); `steps` is then the number of
/// steps measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConvergenceInfo {
    /// The tolerance every `block_sem` had to fall below, in the report's unit.
    pub until_converged: f64,
    /// The step limit.
    pub max_steps: usize,
    /// Whether every `block_sem` (of exponents that did not diverge) fell below it.
    pub converged: bool,
}

/// `"exponents"`: mean, sample standard deviation (ddof = 1) and standard error over the
/// batch, and the standard error of the mean from the fluctuations over time (`block_sem`,
/// docs/DESIGN.md section 2), each of length k, in QR order, in the report's log base.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExponentStats {
    #[serde(with = "null_neg_inf")]
    pub mean: Vec<f64>,
    #[serde(with = "null_nan")]
    pub std: Vec<f64>,
    #[serde(with = "null_nan")]
    pub sem: Vec<f64>,
    /// `sqrt(sum_b se_b^2) / B` from each sequence's batch-means error of its time average;
    /// empty (and not written) for spectra imported without it.
    #[serde(default, with = "null_nan", skip_serializing_if = "Vec::is_empty")]
    pub block_sem: Vec<f64>,
}

/// `"timing"`: wall-clock seconds of the spectrum computation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub seconds: f64,
}

/// The whole JSON result of docs/DESIGN.md section 6.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpectrumReport {
    pub model: ModelInfo,
    pub config: ConfigInfo,
    pub exponents: ExponentStats,
    /// `per_sequence[b][i]`: exponent `i` of sequence `b`.
    #[serde(with = "null_neg_inf")]
    pub per_sequence: Vec<Vec<f64>>,
    /// Features of the mean spectrum ([`lyap_core::summarize`]).
    #[serde(with = "SummaryJson")]
    pub summary: SpectrumSummary,
    pub timing: Timing,
    /// Human-readable notes on diverged or undefined values.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The built-in checks ([`Checks`]); absent when none was computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Checks>,
}

impl SpectrumReport {
    /// The report of `spectrum` (natural-log exponents from the engine), converted to
    /// `config.log_base`; the summary is computed from the converted mean spectrum.
    pub fn new(spectrum: &Spectrum, model: ModelInfo, config: ConfigInfo, seconds: f64) -> Self {
        let base = config.log_base;
        let convert = |v: &[f64]| -> Vec<f64> { v.iter().map(|&x| base.convert(x)).collect() };
        let stats = &spectrum.statistics;
        let exponents = ExponentStats {
            mean: convert(&stats.mean),
            std: convert(&stats.std),
            sem: convert(&stats.sem),
            block_sem: convert(&spectrum.block_sem),
        };
        let per_sequence = spectrum
            .per_sequence
            .iter()
            .map(|s| convert(&s.exponents))
            .collect();
        let summary = summarize(&exponents.mean);
        let mut warnings = warnings(&exponents, spectrum.per_sequence.len());
        let epsilon = match config.precision.as_str() {
            "f32" => f32::EPSILON as f64,
            _ => f64::EPSILON,
        };
        let (checks, check_warnings) = Checks::of(
            spectrum,
            base,
            config.dt,
            model.state_dim,
            epsilon,
            config.steps,
        );
        warnings.extend(check_warnings);
        Self {
            model,
            config,
            exponents,
            per_sequence,
            summary,
            timing: Timing { seconds },
            warnings,
            checks,
        }
    }

    /// Pretty-printed JSON (non-finite values as `null`).
    pub fn to_json(&self) -> String {
        // Serialising plain structs of numbers, strings and vectors cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses a report written by [`SpectrumReport::to_json`].
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Which exponents diverged (`-inf`: a tangent direction collapsed exactly, as with dead ReLU
/// units or zero weights), which are NaN, and whether std/sem are undefined.
fn warnings(exponents: &ExponentStats, batch: usize) -> Vec<String> {
    let list = |pred: &dyn Fn(f64) -> bool| -> Vec<String> {
        let indices: Vec<String> = exponents
            .mean
            .iter()
            .enumerate()
            .filter(|(_, &x)| pred(x))
            .map(|(i, _)| (i + 1).to_string())
            .collect();
        indices
    };
    let mut out = Vec::new();
    let minus_inf = list(&|x| x == f64::NEG_INFINITY);
    if !minus_inf.is_empty() {
        out.push(format!(
            "exponents {} diverged to -inf (a tangent direction collapsed exactly, e.g. dead \
             ReLU units or zero weights); written as null",
            minus_inf.join(", ")
        ));
    }
    let other = list(&|x| x.is_nan() || x == f64::INFINITY);
    if !other.is_empty() {
        out.push(format!(
            "exponents {} are NaN or +inf (numerical overflow); written as null",
            other.join(", ")
        ));
    }
    if batch == 1 {
        out.push("std and sem are undefined for a single sequence; written as null".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use lyap_core::{column_statistics, SequenceSpectrum};

    fn spectrum(rows: &[Vec<f64>]) -> Spectrum {
        let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        Spectrum {
            per_sequence: rows
                .iter()
                .map(|r| SequenceSpectrum {
                    exponents: r.clone(),
                    trace: vec![],
                    checks: Default::default(),
                    block_se: vec![0.01; r.len()],
                })
                .collect(),
            statistics: column_statistics(&refs),
            block_sem: vec![0.005; rows[0].len()],
        }
    }

    fn report(rows: &[Vec<f64>], log_base: LogBase) -> SpectrumReport {
        let weights = StackWeights::<f64>::random(Arch::RnnRelu, 2, 3, 1, false, 0.1, 1);
        let config = ConfigInfo {
            batch: rows.len(),
            steps: 10,
            warmup: 0,
            qr_every: 1,
            k: rows[0].len(),
            log_base,
            precision: "f64".into(),
            paper_compat: false,
            ..ConfigInfo::default()
        };
        let model = ModelInfo::new(&weights, LstmState::Full, 3);
        SpectrumReport::new(&spectrum(rows), model, config, 0.5)
    }

    #[test]
    fn layout_matches_design_and_round_trips() {
        let r = report(&[vec![0.1, -0.5, -1.0], vec![0.3, -0.7, -1.0]], LogBase::E);
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        for key in [
            "model",
            "config",
            "exponents",
            "per_sequence",
            "summary",
            "timing",
            "warnings",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert_eq!(json["model"]["arch"], "rnn-relu");
        assert_eq!(json["config"]["log_base"], "e");
        assert_eq!(json["exponents"]["mean"].as_array().unwrap().len(), 3);
        assert_eq!(json["exponents"]["block_sem"].as_array().unwrap().len(), 3);
        assert!(json["config"].get("converged").is_none());
        assert!(r.warnings.is_empty());
        assert_eq!(SpectrumReport::from_json(&r.to_json()).unwrap(), r);
    }

    #[test]
    fn convergence_keys_round_trip_and_old_reports_read() {
        let mut r = report(&[vec![0.1, -0.5], vec![0.3, -0.7]], LogBase::Two);
        assert!((r.exponents.block_sem[0] - 0.005 / std::f64::consts::LN_2).abs() < 1e-15);
        r.config.convergence = Some(ConvergenceInfo {
            until_converged: 0.01,
            max_steps: 5000,
            converged: false,
        });
        let text = r.to_json();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["config"]["until_converged"], 0.01);
        assert_eq!(json["config"]["max_steps"], 5000);
        assert_eq!(json["config"]["converged"], false);
        assert_eq!(SpectrumReport::from_json(&text).unwrap(), r);
        // a report written before these keys existed
        let mut old = json.clone();
        for key in ["until_converged", "max_steps", "converged"] {
            old["config"].as_object_mut().unwrap().remove(key);
        }
        old["exponents"]
            .as_object_mut()
            .unwrap()
            .remove("block_sem");
        let back = SpectrumReport::from_json(&old.to_string()).unwrap();
        assert_eq!(back.config.convergence, None);
        assert!(back.exponents.block_sem.is_empty());
        assert_eq!(back.config.log_base, LogBase::Two);
    }

    #[test]
    fn minus_infinity_becomes_null_with_a_warning_and_reads_back() {
        let r = report(
            &[vec![0.2, f64::NEG_INFINITY], vec![0.4, f64::NEG_INFINITY]],
            LogBase::E,
        );
        let text = r.to_json();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(json["exponents"]["mean"][1].is_null());
        assert!(json["exponents"]["std"][1].is_null());
        assert!(json["per_sequence"][0][1].is_null());
        assert!(json["summary"]["min"].is_null());
        assert!(
            r.warnings[0].starts_with("exponents 2 diverged"),
            "{:?}",
            r.warnings
        );
        let back = SpectrumReport::from_json(&text).unwrap();
        assert_eq!(back.exponents.mean[1], f64::NEG_INFINITY);
        assert!(back.exponents.std[1].is_nan());
        assert_eq!(back.per_sequence[1][1], f64::NEG_INFINITY);
    }

    #[test]
    fn bits_divide_by_ln2_and_single_sequence_warns() {
        let nats = report(&[vec![0.5, -1.0]], LogBase::E);
        let bits = report(&[vec![0.5, -1.0]], LogBase::Two);
        let ln2 = std::f64::consts::LN_2;
        assert!((bits.exponents.mean[0] - 0.5 / ln2).abs() < 1e-15);
        assert!((bits.summary.sum - nats.summary.sum / ln2).abs() < 1e-15);
        assert_eq!(
            bits.summary.kaplan_yorke_dimension,
            nats.summary.kaplan_yorke_dimension
        );
        assert_eq!(bits.config.log_base.name(), "2");
        assert!(bits.warnings.iter().any(|w| w.contains("single sequence")));
    }
}

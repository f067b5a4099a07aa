//! `RUN_DIR/lorenz63.json`: the closed-loop exponents and Kaplan-Yorke dimension of a network
//! trained on `lorenz63` next to the true ones ([`Lorenz63::EXPONENTS`],
//! [`Lorenz63::KAPLAN_YORKE_DIMENSION`]), their errors, and the open-loop (driven) largest
//! exponent of the same checkpoint (docs/DESIGN.md section 6). Writer, reader and the printed
//! table side by side.

use lyap_core::systems::flows::Lorenz63;
use lyap_rnn::report::SpectrumReport;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One quantity of the comparison: a closed-loop value, its error bar and the true value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    /// `lambda_1`, `lambda_2`, ... or `kaplan_yorke_dimension`.
    pub quantity: String,
    /// The trained network's closed-loop value; `null` when not finite or not computed.
    pub closed_loop: Option<f64>,
    /// The standard error of a closed-loop exponent from its fluctuations over time
    /// (`exponents.block_sem` of `closed_loop.json`); `null` for the dimension.
    pub block_sem: Option<f64>,
    /// The true Lorenz-63 value.
    #[serde(rename = "true")]
    pub truth: f64,
    /// `closed_loop - true`.
    pub difference: Option<f64>,
    /// `(closed_loop - true) / true = closed_loop / true - 1`: negative when the closed-loop
    /// value is smaller in magnitude (EXPERIMENTS.md's convention); `null` when the true value
    /// is 0 (`lambda_2`).
    pub relative_error: Option<f64>,
}

impl ComparisonRow {
    /// The row of `quantity` with closed-loop `value` (non-finite: `null`) against `truth`.
    pub fn new(quantity: &str, value: Option<f64>, block_sem: Option<f64>, truth: f64) -> Self {
        let value = value.filter(|v| v.is_finite());
        let difference = value.map(|v| v - truth);
        Self {
            quantity: quantity.to_string(),
            closed_loop: value,
            block_sem: block_sem.filter(|s| s.is_finite()),
            truth,
            difference,
            relative_error: difference.filter(|_| truth != 0.0).map(|d| d / truth),
        }
    }
}

/// How the closed-loop spectrum was measured (`closed_loop.json` has the full report).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClosedLoopSettings {
    /// The spectrum JSON of the closed loop, relative to the run directory.
    pub file: String,
    /// Where the loop starts: `zero state` (one zero input, then its own outputs).
    pub start: String,
    pub k: usize,
    pub warmup: usize,
    pub steps: usize,
    /// Why the closed-loop spectrum could not be computed (e.g. a loop that diverged); the
    /// rows' closed-loop values are then `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The open-loop (driven) largest exponent of the same checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenLoop {
    /// The driving inputs, relative to the run directory.
    pub inputs: String,
    pub batch: usize,
    pub warmup: usize,
    pub steps: usize,
    /// `lambda_1` per time unit, the mean over the sequences.
    pub lambda_1: Option<f64>,
    /// Its standard error over the sequences (`null` for one sequence).
    pub sem: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `RUN_DIR/lorenz63.json` (module documentation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lorenz63Comparison {
    /// The checkpoint compared, relative to the run directory.
    pub checkpoint: String,
    /// Its epoch (checkpoint metadata), if recorded.
    pub epoch: Option<usize>,
    /// Time units per step: every exponent here is in nats per time unit.
    pub dt: f64,
    /// Where the true values come from ([`Lorenz63::REFERENCE`]).
    pub reference: String,
    /// `lambda_1 .. lambda_k` (at most 3), then `kaplan_yorke_dimension`.
    pub rows: Vec<ComparisonRow>,
    pub closed_loop: ClosedLoopSettings,
    pub open_loop: OpenLoop,
    /// Wall-clock seconds of both spectra.
    pub seconds: f64,
}

/// The rows of a closed-loop spectrum (per time unit) against Lorenz-63: one per computed
/// exponent that has a true value, then the Kaplan-Yorke dimension; without a spectrum, the
/// true values with `null` closed-loop values.
pub fn comparison_rows(closed_loop: Option<&SpectrumReport>) -> Vec<ComparisonRow> {
    let computed = closed_loop.map_or(Lorenz63::EXPONENTS.len(), |r| r.exponents.mean.len());
    let mut rows: Vec<ComparisonRow> = Lorenz63::EXPONENTS
        .iter()
        .take(computed)
        .enumerate()
        .map(|(i, &truth)| {
            let value = closed_loop.map(|r| r.exponents.mean[i]);
            let sem = closed_loop.and_then(|r| r.exponents.block_sem.get(i).copied());
            ComparisonRow::new(&format!("lambda_{}", i + 1), value, sem, truth)
        })
        .collect();
    let dimension = closed_loop.map(|r| r.summary.kaplan_yorke_dimension);
    rows.push(ComparisonRow::new(
        "kaplan_yorke_dimension",
        dimension,
        None,
        Lorenz63::KAPLAN_YORKE_DIMENSION,
    ));
    rows
}

impl Lorenz63Comparison {
    /// The closed-loop value of `quantity`, if computed and finite.
    pub fn value(&self, quantity: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.quantity == quantity)
            .and_then(|r| r.closed_loop)
    }
}

/// A row's label in the printed table and the report: `lambda_1`, ..., `D_KY`.
pub fn row_label(quantity: &str) -> &str {
    match quantity {
        "kaplan_yorke_dimension" => "D_KY",
        other => other,
    }
}

/// A number to 4 decimals, `-` when absent.
fn shown(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"))
}

/// The error column: the relative error in percent, or the difference when the true value
/// is 0; `-` when absent.
pub fn error_text(row: &ComparisonRow) -> String {
    match (row.relative_error, row.difference) {
        (Some(r), _) => format!("{:+.2} %", 100.0 * r),
        (None, Some(d)) => format!("{d:+.4} (abs.)"),
        (None, None) => "-".to_string(),
    }
}

/// The short table `lyap train` prints at the end of a `lorenz63` run.
impl fmt::Display for Lorenz63Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let epoch = self
            .epoch
            .map_or(String::new(), |e| format!(" (epoch {e})"));
        let c = &self.closed_loop;
        writeln!(
            f,
            "closed loop of {}{epoch}, per time unit: {} steps after {} from the {}",
            self.checkpoint, c.steps, c.warmup, c.start
        )?;
        if let Some(error) = &c.error {
            writeln!(f, "  not computed: {error}")?;
        }
        writeln!(
            f,
            "  {:<10} {:>10} {:>9} {:>10} {:>17}",
            "", "network", "± sem", "true", "error"
        )?;
        for row in &self.rows {
            writeln!(
                f,
                "  {:<10} {:>10} {:>9} {:>10.4} {:>17}",
                row_label(&row.quantity),
                shown(row.closed_loop),
                row.block_sem.map_or(String::new(), |s| format!("{s:.4}")),
                row.truth,
                error_text(row)
            )?;
        }
        writeln!(f, "  true values: {}", self.reference)?;
        let o = &self.open_loop;
        match (&o.error, o.lambda_1) {
            (Some(error), _) => write!(f, "open loop: not computed: {error}"),
            (None, value) => write!(
                f,
                "open loop (driven by {}, {} x {} steps): lambda_1 = {} per time unit",
                o.inputs,
                o.batch,
                o.steps,
                shown(value)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_errors_and_a_zero_true_value() {
        let row = ComparisonRow::new("lambda_1", Some(0.9026), Some(0.003), 0.9056);
        assert!((row.difference.unwrap() + 0.003).abs() < 1e-12);
        assert!((row.relative_error.unwrap() + 0.003 / 0.9056).abs() < 1e-12);
        // closed / true - 1: a negative exponent smaller in magnitude has a negative error
        let row = ComparisonRow::new("lambda_3", Some(-14.365), None, -14.5723);
        assert!((row.relative_error.unwrap() - (-14.365 / -14.5723 - 1.0)).abs() < 1e-12);
        assert_eq!(error_text(&row), "-1.42 %");
        let row = ComparisonRow::new("lambda_3", Some(-15.64), None, -14.5723);
        assert_eq!(error_text(&row), "+7.33 %");
        // lambda_2 = 0: no relative error, the difference instead
        let row = ComparisonRow::new("lambda_2", Some(0.0016), None, 0.0);
        assert_eq!(row.relative_error, None);
        assert_eq!(error_text(&row), "+0.0016 (abs.)");
        // non-finite values are absent, and so are their errors
        let row = ComparisonRow::new("lambda_1", Some(f64::NEG_INFINITY), Some(f64::NAN), 0.9);
        assert_eq!(
            (row.closed_loop, row.block_sem, row.difference),
            (None, None, None)
        );
        assert_eq!(error_text(&row), "-");
    }

    #[test]
    fn json_names_the_true_value_true_and_writes_null() {
        let row = ComparisonRow::new("lambda_2", Some(0.5), None, 0.0);
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(
            json,
            r#"{"quantity":"lambda_2","closed_loop":0.5,"block_sem":null,"true":0.0,"difference":0.5,"relative_error":null}"#
        );
        assert_eq!(serde_json::from_str::<ComparisonRow>(&json).unwrap(), row);
    }

    #[test]
    fn rows_without_a_spectrum_hold_the_true_values() {
        let rows = comparison_rows(None);
        let quantities: Vec<&str> = rows.iter().map(|r| r.quantity.as_str()).collect();
        assert_eq!(
            quantities,
            ["lambda_1", "lambda_2", "lambda_3", "kaplan_yorke_dimension"]
        );
        assert_eq!(rows[2].truth, -14.5723);
        assert_eq!(rows[3].truth, 2.062);
        assert!(rows.iter().all(|r| r.closed_loop.is_none()));
    }
}

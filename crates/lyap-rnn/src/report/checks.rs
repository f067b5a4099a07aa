//! `"checks"` of the spectrum JSON (docs/DESIGN.md section 6): the sum rule and the largest
//! exponent by two nearby trajectories (docs/DESIGN.md section 2, "Built-in checks"), in the
//! report's log base, and the warning when the sum rule fails by more than rounding explains.

use super::json::{null_nan, null_neg_inf};
use super::LogBase;
use lyap_core::checks::{max_by_perturbation, sum_rule, sum_rule_tolerance};
use lyap_core::Spectrum;
use serde::{Deserialize, Serialize};

/// `"checks"`: each part present only when it was computed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Checks {
    /// With all exponents: their sum against the time average of `ln|det J_t|`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_rule: Option<SumRuleJson>,
    /// With `--check-max`: `lambda_1` by two nearby trajectories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_by_perturbation: Option<MaxByPerturbationJson>,
}

/// `"sum_rule"`: `difference = sum - mean_log_abs_det` (`null` when not finite).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SumRuleJson {
    #[serde(with = "null_neg_inf")]
    pub sum: f64,
    #[serde(with = "null_neg_inf")]
    pub mean_log_abs_det: f64,
    #[serde(with = "null_nan")]
    pub difference: f64,
}

/// `"max_by_perturbation"`: `difference = estimate - lambda_1`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MaxByPerturbationJson {
    #[serde(with = "null_neg_inf")]
    pub estimate: f64,
    #[serde(with = "null_nan")]
    pub difference: f64,
}

impl Checks {
    /// The checks of `spectrum` (engine unit, nats) in `base`, and the warnings they raise:
    /// a sum-rule difference larger than [`sum_rule_tolerance`] for a state of dimension
    /// `state_dim` computed with machine epsilon `epsilon` over `steps` measured steps. `None`
    /// when nothing was checked.
    /// With `dt`, `spectrum` is per time unit ([`Spectrum::per_time_unit`]) and so are the
    /// tolerance and the warning's unit.
    pub fn of(
        spectrum: &Spectrum,
        base: LogBase,
        dt: Option<f64>,
        state_dim: usize,
        epsilon: f64,
        steps: usize,
    ) -> (Option<Self>, Vec<String>) {
        let mut warnings = Vec::new();
        let rule = sum_rule(spectrum).map(|rule| {
            let largest = spectrum
                .statistics
                .mean
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            let step = dt.unwrap_or(1.0);
            let tolerance = sum_rule_tolerance(state_dim, epsilon, largest * step, steps) / step;
            if rule.difference.is_nan() || rule.difference.abs() > tolerance {
                warnings.push(format!(
                    "sum rule: the exponents sum to {:.9} but the time average of ln|det J| is \
                     {:.9} (difference {:.3e} {}, more than the {:.1e} rounding explains)",
                    base.convert(rule.sum),
                    base.convert(rule.mean_log_abs_det),
                    base.convert(rule.difference),
                    base.unit_per(dt.is_some()),
                    base.convert(tolerance),
                ));
            }
            SumRuleJson {
                sum: base.convert(rule.sum),
                mean_log_abs_det: base.convert(rule.mean_log_abs_det),
                difference: base.convert(rule.difference),
            }
        });
        let max = max_by_perturbation(spectrum).map(|max| MaxByPerturbationJson {
            estimate: base.convert(max.estimate),
            difference: base.convert(max.difference),
        });
        let checks = (rule.is_some() || max.is_some()).then_some(Checks {
            sum_rule: rule,
            max_by_perturbation: max,
        });
        (checks, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lyap_core::{column_statistics, SequenceChecks, SequenceSpectrum};

    /// Two sequences with exponents `[0.5, -1.5]` and the given `ln|det J|` averages.
    fn spectrum(log_dets: [f64; 2]) -> Spectrum {
        let per_sequence: Vec<SequenceSpectrum> = log_dets
            .iter()
            .map(|&log_det| SequenceSpectrum {
                exponents: vec![0.5, -1.5],
                trace: vec![],
                block_se: vec![f64::NAN; 2],
                checks: SequenceChecks {
                    mean_log_abs_det: Some(log_det),
                    max_by_perturbation: Some(0.52),
                },
            })
            .collect();
        let rows: Vec<&[f64]> = per_sequence
            .iter()
            .map(|s| s.exponents.as_slice())
            .collect();
        let statistics = column_statistics(&rows);
        Spectrum {
            per_sequence,
            statistics,
            block_sem: vec![f64::NAN; 2],
        }
    }

    #[test]
    fn within_rounding_no_warning_beyond_it_a_warning_in_the_reports_base() {
        let (checks, warnings) = Checks::of(
            &spectrum([-1.0, -1.0]),
            LogBase::E,
            None,
            2,
            f64::EPSILON,
            100,
        );
        let checks = checks.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(checks.sum_rule.unwrap().difference, 0.0);
        let max = checks.max_by_perturbation.unwrap();
        assert!((max.estimate - 0.52).abs() < 1e-15 && (max.difference - 0.02).abs() < 1e-12);

        let (checks, warnings) = Checks::of(
            &spectrum([-1.0, -1.2]),
            LogBase::Two,
            None,
            2,
            f64::EPSILON,
            100,
        );
        let rule = checks.unwrap().sum_rule.unwrap();
        let ln2 = std::f64::consts::LN_2;
        assert!((rule.mean_log_abs_det + 1.1 / ln2).abs() < 1e-12);
        assert!((rule.difference - 0.1 / ln2).abs() < 1e-12);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("sum rule:"), "{warnings:?}");
        assert!(warnings[0].contains("bits/step"), "{warnings:?}");
    }
}

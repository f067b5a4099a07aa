//! Summary features of one spectrum (`exponents.mean`, `-inf` allowed).

/// A scalar feature of a spectrum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    Max,
    Mean,
    Min,
    Median,
    Variance,
    Top10Mean,
    NPositive,
    KaplanYorke,
}

impl Feature {
    pub const ALL: [Feature; 8] = [
        Feature::Max,
        Feature::Mean,
        Feature::Min,
        Feature::Median,
        Feature::Variance,
        Feature::Top10Mean,
        Feature::NPositive,
        Feature::KaplanYorke,
    ];

    /// Column name in the CSV tables.
    pub fn name(self) -> &'static str {
        match self {
            Feature::Max => "max",
            Feature::Mean => "mean",
            Feature::Min => "min",
            Feature::Median => "median",
            Feature::Variance => "variance",
            Feature::Top10Mean => "top10_mean",
            Feature::NPositive => "n_positive",
            Feature::KaplanYorke => "kaplan_yorke_dimension",
        }
    }

    /// The feature of `exponents`. Max, mean, min, variance, n_positive and the
    /// Kaplan-Yorke dimension are those of [`lyap_core::summarize`] (the spectrum report's
    /// `"summary"`, docs/DESIGN.md section 6): max, min, mean `sum / k` (`-inf` if any exponent is
    /// `-inf`), population variance `sum (x - xbar)^2 / m` of the `m` finite exponents (NaN
    /// if none), the number of exponents `> 0` and `j + (sum_{i<=j} lambda_i) /
    /// |lambda_{j+1}|`. Computed here:
    /// - median (middle value, or the mean of the two middle values, of the sorted exponents);
    /// - top10_mean: mean of the 10 largest exponents (all of them if fewer).
    ///
    /// NaN for an empty spectrum.
    pub fn compute(self, exponents: &[f64]) -> f64 {
        if exponents.is_empty() {
            return f64::NAN;
        }
        let summary = || lyap_core::summarize(exponents);
        let sorted = || {
            let mut sorted = exponents.to_vec();
            sorted.sort_by(|a, b| b.total_cmp(a)); // descending
            sorted
        };
        match self {
            Feature::Max => summary().max,
            Feature::Min => summary().min,
            Feature::Mean => summary().mean,
            Feature::Median => {
                let sorted = sorted();
                let m = sorted.len();
                if m % 2 == 1 {
                    sorted[m / 2]
                } else {
                    0.5 * (sorted[m / 2 - 1] + sorted[m / 2])
                }
            }
            Feature::Variance => summary().variance,
            Feature::Top10Mean => {
                let sorted = sorted();
                let top = &sorted[..sorted.len().min(10)];
                top.iter().sum::<f64>() / top.len() as f64
            }
            Feature::NPositive => summary().n_positive as f64,
            Feature::KaplanYorke => summary().kaplan_yorke_dimension,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_of_a_known_spectrum() {
        let spectrum = [0.5, -0.25, 0.1, -1.0];
        let value = |f: Feature| f.compute(&spectrum);
        assert_eq!(value(Feature::Max), 0.5);
        assert_eq!(value(Feature::Min), -1.0);
        assert!((value(Feature::Mean) + 0.1625).abs() < 1e-15);
        assert!((value(Feature::Median) + 0.075).abs() < 1e-15);
        assert_eq!(value(Feature::NPositive), 2.0);
        assert!((value(Feature::Top10Mean) - value(Feature::Mean)).abs() < 1e-15);
        // mean -0.1625; squared deviations 0.43890625 + 0.00765625 + 0.06890625 + 0.70140625
        // = 1.216875, / 4
        assert!((value(Feature::Variance) - 0.30421875).abs() < 1e-12);
        // KY: partial sums 0.5, 0.6, 0.35, then -0.65 < 0: D = 3 + 0.35 / 1
        assert!((value(Feature::KaplanYorke) - 3.35).abs() < 1e-12);
    }

    #[test]
    fn top10_and_minus_infinity() {
        let spectrum: Vec<f64> = (0..12).map(|i| -(i as f64)).collect();
        assert!((Feature::Top10Mean.compute(&spectrum) + 4.5).abs() < 1e-15);
        let dead = [0.2, f64::NEG_INFINITY, -0.5];
        assert_eq!(Feature::Mean.compute(&dead), f64::NEG_INFINITY);
        assert_eq!(Feature::Min.compute(&dead), f64::NEG_INFINITY);
        assert_eq!(Feature::Median.compute(&dead), -0.5);
        assert!((Feature::Variance.compute(&dead) - 0.1225).abs() < 1e-12);
        assert!(Feature::KaplanYorke.compute(&dead).is_finite());
        assert!(Feature::Max.compute(&[]).is_nan());
    }
}

//! Statistics of spectra: across sequences (mean, sample std, standard error) and summary
//! features of one spectrum (max, mean, min, variance, sum, number positive, Kaplan-Yorke).

/// Mean, sample standard deviation (ddof = 1) and standard error of each exponent over the
/// sequences of a batch. A column containing `-inf` has mean `-inf` and std / sem `NaN`.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnStatistics {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub sem: Vec<f64>,
}

/// Column statistics of equally long rows. With one row, std and sem are `NaN` (ddof = 1).
pub fn column_statistics(rows: &[&[f64]]) -> ColumnStatistics {
    let columns = rows.first().map_or(0, |r| r.len());
    let count = rows.len() as f64;
    let mut stats = ColumnStatistics {
        mean: vec![],
        std: vec![],
        sem: vec![],
    };
    for j in 0..columns {
        let mean = rows.iter().map(|r| r[j]).sum::<f64>() / count;
        let variance = if mean.is_finite() && rows.len() > 1 {
            rows.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / (count - 1.0)
        } else {
            f64::NAN
        };
        stats.mean.push(mean);
        stats.std.push(variance.sqrt());
        stats.sem.push(variance.sqrt() / count.sqrt());
    }
    stats
}

/// Summary features of one spectrum (docs/DESIGN.md section 6, `"summary"`).
#[derive(Clone, Debug, PartialEq)]
pub struct SpectrumSummary {
    pub max: f64,
    pub mean: f64,
    pub min: f64,
    /// Population variance of the finite exponents (`-inf` entries are left out).
    pub variance: f64,
    pub sum: f64,
    pub n_positive: usize,
    pub kaplan_yorke_dimension: f64,
}

/// Summary of `exponents` (any order; sorted internally where it matters).
pub fn summarize(exponents: &[f64]) -> SpectrumSummary {
    let finite: Vec<f64> = exponents
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    let finite_mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
    let variance = if finite.is_empty() {
        f64::NAN
    } else {
        finite
            .iter()
            .map(|x| (x - finite_mean).powi(2))
            .sum::<f64>()
            / finite.len() as f64
    };
    let sum: f64 = exponents.iter().sum();
    SpectrumSummary {
        max: exponents.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        mean: sum / exponents.len().max(1) as f64,
        min: exponents.iter().copied().fold(f64::INFINITY, f64::min),
        variance,
        sum,
        n_positive: exponents.iter().filter(|&&x| x > 0.0).count(),
        kaplan_yorke_dimension: kaplan_yorke_dimension(exponents),
    }
}

/// Kaplan-Yorke (Lyapunov) dimension `D = j + (lambda_1 + .. + lambda_j) / |lambda_{j+1}|`,
/// where `j` is the largest index with a non-negative partial sum of the sorted exponents.
/// `D = 0` when `lambda_1 < 0`; `D = k` when every partial sum of the `k` exponents given is
/// non-negative (then `k` is only a lower bound of the true dimension).
pub fn kaplan_yorke_dimension(exponents: &[f64]) -> f64 {
    let mut sorted = exponents.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let mut partial = 0.0;
    for (j, &lambda) in sorted.iter().enumerate() {
        if partial + lambda < 0.0 {
            return j as f64 + partial / lambda.abs();
        }
        partial += lambda;
    }
    sorted.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_statistics_match_hand_computation() {
        let rows: Vec<&[f64]> = vec![&[1.0, -2.0], &[3.0, -2.0], &[5.0, -2.0]];
        let s = column_statistics(&rows);
        assert_eq!(s.mean, vec![3.0, -2.0]);
        assert!((s.std[0] - 2.0).abs() < 1e-15);
        assert_eq!(s.std[1], 0.0);
        assert!((s.sem[0] - 2.0 / 3f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn minus_infinity_propagates_without_panic() {
        let rows: Vec<&[f64]> = vec![&[0.5, f64::NEG_INFINITY], &[0.7, -1.0]];
        let s = column_statistics(&rows);
        assert_eq!(s.mean[1], f64::NEG_INFINITY);
        assert!(s.std[1].is_nan());
        let summary = summarize(&[0.5, f64::NEG_INFINITY]);
        assert_eq!(summary.min, f64::NEG_INFINITY);
        assert_eq!(summary.variance, 0.0);
        assert_eq!(summary.n_positive, 1);
    }

    #[test]
    fn kaplan_yorke_of_henon_and_edge_cases() {
        // Henon: D = 1 + 0.41922 / 1.62319 = 1.2583
        let d = kaplan_yorke_dimension(&[0.41922, -1.62319]);
        assert!((d - 1.258_27).abs() < 1e-4, "{d}");
        assert_eq!(kaplan_yorke_dimension(&[-0.1, -0.2]), 0.0);
        assert_eq!(kaplan_yorke_dimension(&[0.3, 0.1]), 2.0);
        // order of the input does not matter
        assert_eq!(
            kaplan_yorke_dimension(&[-2.0, 1.0]),
            kaplan_yorke_dimension(&[1.0, -2.0])
        );
    }

    #[test]
    fn summary_features() {
        let s = summarize(&[1.0, -1.0, -3.0]);
        assert_eq!((s.max, s.min, s.sum, s.n_positive), (1.0, -3.0, -3.0, 1));
        assert!((s.mean + 1.0).abs() < 1e-15);
        assert!((s.variance - 8.0 / 3.0).abs() < 1e-15);
        assert!((s.kaplan_yorke_dimension - 2.0).abs() < 1e-15);
    }
}

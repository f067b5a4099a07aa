//! Ridge regression of the final loss on a whole spectrum, with the penalty chosen by
//! closed-form leave-one-out inside the training rows.
//!
//! Preprocessing (computed on the training rows only): per exponent, non-finite values
//! (`-inf`) are replaced by that column's smallest finite training value (0 if none), then
//! the column is standardised `z = (x - mean) / sd` (sd = population standard deviation;
//! constant columns get `sd = 1`, so they become 0). The target is centred, `yc = y - ybar`.
//!
//! Fit: `beta = argmin |yc - Z beta|^2 + alpha |beta|^2`, computed in the dual form
//! `beta = Z^T (K + alpha I)^{-1} yc` with `K = Z Z^T` (n x n, so cost does not grow with the
//! number of exponents). Prediction: `ybar + z(x) . beta`.
//!
//! Penalty: `alpha = k * a` for `a` in [`ALPHA_FACTORS`] (`k` = number of exponents, the
//! scale of `trace(K) / n`), choosing the one with the smallest leave-one-out error over the
//! training rows, `e_j = [A^{-1} yc]_j / [A^{-1}]_jj` with `A = K + alpha I` (exact for
//! ridge without intercept on the centred data; ties go to the larger penalty). Callers
//! use [`crate::stats::leave_one_out`] around [`fit_ridge`] for the outer cross-validation,
//! so a held-out trial never takes part in the standardisation, penalty choice or fit.

/// Candidate penalties, multiplied by the number of exponents.
pub const ALPHA_FACTORS: [f64; 7] = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0];

/// One example: a spectrum and its target (final validation loss).
#[derive(Clone, Debug, PartialEq)]
pub struct RidgeRow {
    pub x: Vec<f64>,
    pub y: f64,
}

/// A fitted ridge model.
#[derive(Clone, Debug, PartialEq)]
pub struct RidgeModel {
    fill: Vec<f64>,
    mean: Vec<f64>,
    scale: Vec<f64>,
    beta: Vec<f64>,
    y_mean: f64,
    /// The chosen penalty.
    pub alpha: f64,
}

impl RidgeModel {
    /// Standardised features of `x` with the training fill, mean and scale.
    fn standardise(&self, x: &[f64]) -> Vec<f64> {
        (0..self.mean.len())
            .map(|j| {
                let v = x
                    .get(j)
                    .copied()
                    .filter(|v| v.is_finite())
                    .unwrap_or(self.fill[j]);
                (v - self.mean[j]) / self.scale[j]
            })
            .collect()
    }

    /// `ybar + z(x) . beta`.
    pub fn predict(&self, x: &[f64]) -> f64 {
        let z = self.standardise(x);
        self.y_mean + z.iter().zip(&self.beta).map(|(a, b)| a * b).sum::<f64>()
    }
}

/// Fits the model on `rows` (all of equal length; shorter rows are padded with the fill).
pub fn fit_ridge(rows: &[RidgeRow]) -> RidgeModel {
    let n = rows.len();
    let k = rows.iter().map(|r| r.x.len()).max().unwrap_or(0);
    let column = |j: usize| {
        rows.iter()
            .map(move |r| r.x.get(j).copied().unwrap_or(f64::NAN))
    };
    let fill: Vec<f64> = (0..k)
        .map(|j| {
            let min = column(j)
                .filter(|v| v.is_finite())
                .fold(f64::INFINITY, f64::min);
            if min.is_finite() {
                min
            } else {
                0.0
            }
        })
        .collect();
    let fill_ref = &fill;
    let filled = |j: usize| column(j).map(move |v| if v.is_finite() { v } else { fill_ref[j] });
    let mean: Vec<f64> = (0..k)
        .map(|j| filled(j).sum::<f64>() / n.max(1) as f64)
        .collect();
    let scale: Vec<f64> = (0..k)
        .map(|j| {
            let var = filled(j).map(|v| (v - mean[j]).powi(2)).sum::<f64>() / n.max(1) as f64;
            if var > 0.0 {
                var.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let y_mean = rows.iter().map(|r| r.y).sum::<f64>() / n.max(1) as f64;
    let mut model = RidgeModel {
        fill,
        mean,
        scale,
        beta: vec![0.0; k],
        y_mean,
        alpha: f64::NAN,
    };
    if n < 2 || k == 0 {
        return model;
    }
    let z: Vec<Vec<f64>> = rows.iter().map(|r| model.standardise(&r.x)).collect();
    let yc: Vec<f64> = rows.iter().map(|r| r.y - y_mean).collect();
    let gram: Vec<f64> = (0..n * n).map(|ij| dot(&z[ij / n], &z[ij % n])).collect();
    let mut best: Option<(f64, f64, Vec<f64>)> = None; // (loo error, alpha, dual weights)
    for factor in ALPHA_FACTORS {
        let alpha = factor * k as f64;
        let mut a = gram.clone();
        for i in 0..n {
            a[i * n + i] += alpha;
        }
        let Some(inverse) = spd_inverse(&a, n) else {
            continue;
        };
        let dual: Vec<f64> = (0..n)
            .map(|i| dot(&inverse[i * n..(i + 1) * n], &yc))
            .collect();
        let loo_error = (0..n)
            .map(|j| (dual[j] / inverse[j * n + j]).powi(2))
            .sum::<f64>()
            / n as f64;
        if best.as_ref().is_none_or(|(e, _, _)| loo_error <= *e) {
            best = Some((loo_error, alpha, dual));
        }
    }
    if let Some((_, alpha, dual)) = best {
        model.alpha = alpha;
        for (zi, ci) in z.iter().zip(&dual) {
            for (b, zij) in model.beta.iter_mut().zip(zi) {
                *b += zij * ci;
            }
        }
    }
    model
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Inverse of a symmetric positive definite `n x n` matrix (row-major) by Cholesky
/// `A = L L^T`; None if `A` is not numerically positive definite.
fn spd_inverse(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s = a[i * n + j] - dot(&l[i * n..i * n + j], &l[j * n..j * n + j]);
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    // Solve L L^T X = I column by column.
    let mut inverse = vec![0.0; n * n];
    let mut column = vec![0.0; n];
    for c in 0..n {
        for i in 0..n {
            let rhs = if i == c { 1.0 } else { 0.0 };
            column[i] = (rhs - dot(&l[i * n..i * n + i], &column[..i])) / l[i * n + i];
        }
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|r| l[r * n + i] * column[r]).sum();
            column[i] = (column[i] - s) / l[i * n + i];
        }
        for i in 0..n {
            inverse[i * n + c] = column[i];
        }
    }
    Some(inverse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{leave_one_out, spearman};

    fn planted_rows() -> Vec<RidgeRow> {
        // y = 2 x0 - x1 + 0.5 x2 with deterministic pseudo-random x.
        (0..30)
            .map(|i| {
                let x: Vec<f64> = (0..3)
                    .map(|j| ((i * 7 + j * 13) as f64 * 0.37).sin())
                    .collect();
                let y = 2.0 * x[0] - x[1] + 0.5 * x[2];
                RidgeRow { x, y }
            })
            .collect()
    }

    #[test]
    fn inverse_is_exact_on_a_small_matrix() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let inv = spd_inverse(&a, 2).unwrap();
        // det = 8: inverse = [3, -2; -2, 4] / 8
        let expected = [0.375, -0.25, -0.25, 0.5];
        for (x, e) in inv.iter().zip(expected) {
            assert!((x - e).abs() < 1e-12);
        }
        assert!(spd_inverse(&[0.0, 0.0, 0.0, 0.0], 2).is_none());
    }

    #[test]
    fn recovers_a_linear_relation_out_of_sample() {
        let rows = planted_rows();
        let predictions = leave_one_out(&rows, fit_ridge, |m, r| m.predict(&r.x));
        let y: Vec<f64> = rows.iter().map(|r| r.y).collect();
        assert!(spearman(&predictions, &y) > 0.95);
    }

    #[test]
    fn held_out_planted_outlier_is_not_seen_by_its_fit() {
        let mut rows = planted_rows();
        let honest = {
            let m = fit_ridge(&rows[1..]);
            m.predict(&rows[0].x)
        };
        rows[0].y = 1000.0; // planted: no other row could predict this
        let mut fitted_sets: Vec<Vec<f64>> = vec![];
        let predictions = leave_one_out(
            &rows,
            |train| {
                fitted_sets.push(train.iter().map(|r| r.y).collect());
                fit_ridge(train)
            },
            |m, r| m.predict(&r.x),
        );
        // the fold of row 0 never contained the planted value and predicts as without it
        assert!(!fitted_sets[0].contains(&1000.0));
        assert!(
            (predictions[0] - honest).abs() < 1e-9,
            "{} vs {honest}",
            predictions[0]
        );
        // every other fold did see it
        assert!(fitted_sets[1..].iter().all(|s| s.contains(&1000.0)));
    }

    #[test]
    fn minus_infinity_and_constant_columns_are_harmless() {
        let rows: Vec<RidgeRow> = (0..8)
            .map(|i| RidgeRow {
                x: vec![
                    i as f64,
                    1.0,
                    if i % 3 == 0 {
                        f64::NEG_INFINITY
                    } else {
                        -(i as f64)
                    },
                ],
                y: i as f64,
            })
            .collect();
        let model = fit_ridge(&rows);
        assert!(model.alpha.is_finite());
        assert!(model.predict(&[3.5, 1.0, f64::NEG_INFINITY]).is_finite());
        let single = fit_ridge(&rows[..1]);
        assert_eq!(single.predict(&[100.0, 0.0, 0.0]), 0.0);
    }
}

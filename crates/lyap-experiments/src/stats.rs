//! Statistics for the analysis: correlations, average ranks, bootstrap percentile intervals,
//! top-fraction overlap and a leave-one-out driver that structurally hides the held-out row.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Arithmetic mean (NaN for no values).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Pearson correlation `r = sum (x - xbar)(y - ybar) / sqrt(sum (x - xbar)^2 sum (y - ybar)^2)`.
/// NaN with fewer than 3 pairs, unequal lengths, non-finite values or a constant variable.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    if x.len() != y.len() || x.len() < 3 || x.iter().chain(y).any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0)
}

/// Ranks 1..n with ties given the average of the ranks they span (ordering by
/// `f64::total_cmp`, so `-inf < finite < inf`).
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && x[order[end]] == x[order[start]] {
            end += 1;
        }
        // positions start..end (0-based) hold ranks start+1..=end; their average:
        let average = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = average;
        }
        start = end;
    }
    ranks
}

/// Spearman correlation: the Pearson correlation of the average ranks. Infinite values are
/// allowed (they rank at the ends); NaN values make the result NaN.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if x.iter().chain(y).any(|v| v.is_nan()) {
        return f64::NAN;
    }
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Quantile `p` of sorted values, linearly interpolated between order statistics
/// (`h = (n - 1) p`; the "type 7" definition).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// A correlation with its bootstrap percentile interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Pearson and Spearman correlation of paired samples with bootstrap intervals.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CorrelationEstimate {
    pub n: usize,
    pub pearson: Interval,
    pub spearman: Interval,
}

/// Bootstrap settings: `resamples` resamples of the pairs (trials) with replacement,
/// `level` (e.g. 0.95) central percentile interval, generator `ChaCha8(seed, stream)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bootstrap {
    pub resamples: usize,
    pub level: f64,
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Self {
            resamples: 2000,
            level: 0.95,
            seed: 0,
        }
    }
}

/// Pearson and Spearman with percentile bootstrap intervals: each resample draws n pairs
/// with replacement; resamples whose statistic is undefined (e.g. a constant resample) are
/// dropped; the interval is the `(1 - level)/2` and `(1 + level)/2` quantiles of the rest
/// (NaN when fewer than half of the resamples are defined). Deterministic in
/// `(bootstrap.seed, stream)`.
pub fn correlate(x: &[f64], y: &[f64], bootstrap: &Bootstrap, stream: u64) -> CorrelationEstimate {
    let n = x.len().min(y.len());
    let mut rng = ChaCha8Rng::seed_from_u64(bootstrap.seed);
    rng.set_stream(stream);
    let (mut pearsons, mut spearmans) = (vec![], vec![]);
    let (mut xs, mut ys) = (vec![0.0; n], vec![0.0; n]);
    if n >= 3 {
        for _ in 0..bootstrap.resamples {
            for j in 0..n {
                let k = rng.random_range(0..n);
                xs[j] = x[k];
                ys[j] = y[k];
            }
            let p = pearson(&xs, &ys);
            let s = spearman(&xs, &ys);
            if p.is_finite() {
                pearsons.push(p);
            }
            if s.is_finite() {
                spearmans.push(s);
            }
        }
    }
    let interval = |estimate: f64, mut samples: Vec<f64>| {
        if samples.len() * 2 < bootstrap.resamples.max(1) {
            return Interval {
                estimate,
                lower: f64::NAN,
                upper: f64::NAN,
            };
        }
        samples.sort_by(f64::total_cmp);
        let tail = (1.0 - bootstrap.level) / 2.0;
        Interval {
            estimate,
            lower: quantile(&samples, tail),
            upper: quantile(&samples, 1.0 - tail),
        }
    };
    CorrelationEstimate {
        n,
        pearson: interval(pearson(&x[..n], &y[..n]), pearsons),
        spearman: interval(spearman(&x[..n], &y[..n]), spearmans),
    }
}

/// Indices of the `m` smallest values (ties broken by index).
fn smallest(values: &[f64], m: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    order.truncate(m);
    order
}

/// Size of the "best fraction" of `n` trials: `ceil(fraction * n)` (at least 1).
pub fn top_count(n: usize, fraction: f64) -> usize {
    ((fraction * n as f64).ceil() as usize).clamp(1, n.max(1))
}

/// The fraction of the true best `m = ceil(fraction n)` trials (lowest `truth`) that are among
/// the predicted best `m` (lowest `predicted`). Ties are broken by position. Chance level is
/// about `m / n`.
pub fn top_fraction_overlap(predicted: &[f64], truth: &[f64], fraction: f64) -> f64 {
    let n = predicted.len().min(truth.len());
    if n == 0 {
        return f64::NAN;
    }
    let m = top_count(n, fraction);
    let best = smallest(&truth[..n], m);
    let chosen = smallest(&predicted[..n], m);
    best.iter().filter(|i| chosen.contains(i)).count() as f64 / m as f64
}

/// Leave-one-out predictions: for each row `i`, `fit` receives a copy of every row except
/// `i` (it never sees row `i`), then `predict(model, row_i)` gives row `i`'s prediction.
pub fn leave_one_out<R: Clone, M>(
    rows: &[R],
    mut fit: impl FnMut(&[R]) -> M,
    predict: impl Fn(&M, &R) -> f64,
) -> Vec<f64> {
    (0..rows.len())
        .map(|held_out| {
            let training: Vec<R> = rows
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != held_out)
                .map(|(_, r)| r.clone())
                .collect();
            let model = fit(&training);
            predict(&model, &rows[held_out])
        })
        .collect()
}

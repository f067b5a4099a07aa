//! `lyap analyze`: do early spectra predict final performance?
//!
//! Target: each completed trial's final performance, its best-epoch (lowest) validation
//! loss. For every [`Feature`] at every epoch with spectra: Pearson and Spearman correlation
//! with the target over the trials that have a finite feature, with bootstrap percentile
//! intervals (resampling trials; [`Bootstrap`]).
//!
//! **Early readout** at epoch `e`, over the trials with a spectrum and a finite validation
//! loss at `e` (the same trials for every predictor): each predictor scores every trial
//! (higher = worse predicted loss) and we report the Spearman correlation of the scores with
//! the final loss and the fraction of the true best `ceil(0.2 n)` trials among the predicted
//! best `ceil(0.2 n)` ([`top_fraction_overlap`]). Predictors:
//! - `val_loss`: the validation loss at epoch `e` (the obvious baseline, no fitting);
//! - `feature:NAME`: the feature, oriented by the sign of its Spearman correlation with the
//!   final loss on the *other* trials (leave-one-out), so that the orientation is never
//!   learnt from the trial being scored (a zero or undefined correlation orients `+`);
//! - `ridge`: ridge regression of the final loss on the whole spectrum ([`crate::ridge`]),
//!   leave-one-trial-out ([`leave_one_out`]). Spectra of different lengths (sampled hidden
//!   sizes) are reduced to the shortest length `m` by taking the exponents at indices
//!   `round(i (k - 1) / (m - 1))`, `i = 0..m`.
//!
//! **Convergence** (the paper's Fig. 3): per trial and epoch, the mean squared difference
//! `(1/k) sum_i (lambda_i(e) - lambda_i(final))^2` and the mean difference
//! `(1/k) sum_i (lambda_i(e) - lambda_i(final))` to the trial's last measured spectrum, over
//! the exponents finite in both; and their averages over trials per epoch.

use std::collections::BTreeSet;

use crate::features::Feature;
use crate::ridge::{fit_ridge, RidgeRow};
use crate::stats::{
    correlate, leave_one_out, spearman, top_count, top_fraction_overlap, Bootstrap,
    CorrelationEstimate,
};
use crate::trials::{RunData, SweepData};

/// Analysis settings.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalysisOptions {
    pub bootstrap: Bootstrap,
    /// Fraction of best trials for the overlap score (0.2).
    pub top_fraction: f64,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        Self {
            bootstrap: Bootstrap::default(),
            top_fraction: 0.2,
        }
    }
}

/// One row of `correlations.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationRow {
    pub epoch: usize,
    pub feature: Feature,
    pub estimate: CorrelationEstimate,
}

/// One row of `early_readout.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadoutRow {
    pub epoch: usize,
    /// `val_loss`, `ridge` or `feature:NAME`.
    pub predictor: String,
    pub n: usize,
    pub spearman: f64,
    pub top_fraction: f64,
    /// Expected overlap of a random ranking, `ceil(0.2 n) / n`.
    pub chance: f64,
}

/// One row of `convergence.csv`; `trial` None is the average over trials.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvergenceRow {
    pub trial: Option<usize>,
    pub epoch: usize,
    pub mean_squared_difference: f64,
    pub mean_difference: f64,
    pub n_trials: usize,
}

/// Everything `lyap analyze` computes.
#[derive(Clone, Debug)]
pub struct SweepAnalysis {
    pub data: SweepData,
    pub epochs: Vec<usize>,
    pub correlations: Vec<CorrelationRow>,
    pub readout: Vec<ReadoutRow>,
    pub convergence: Vec<ConvergenceRow>,
    pub options: AnalysisOptions,
}

/// Runs the whole analysis on the loaded trials.
pub fn analyze(data: SweepData, options: &AnalysisOptions) -> SweepAnalysis {
    let epochs: Vec<usize> = data
        .completed
        .iter()
        .flat_map(|t| {
            t.epochs
                .iter()
                .filter(|e| e.spectrum.is_some())
                .map(|e| e.epoch)
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut correlations = vec![];
    let mut readout = vec![];
    for (epoch_position, &epoch) in epochs.iter().enumerate() {
        for (feature_position, &feature) in Feature::ALL.iter().enumerate() {
            let (x, y): (Vec<f64>, Vec<f64>) = data
                .completed
                .iter()
                .filter_map(|t| {
                    let value = feature.compute(t.spectrum_at(epoch)?);
                    let target = t.best_val_loss();
                    (value.is_finite() && target.is_finite()).then_some((value, target))
                })
                .unzip();
            let stream = (epoch_position * Feature::ALL.len() + feature_position) as u64;
            correlations.push(CorrelationRow {
                epoch,
                feature,
                estimate: correlate(&x, &y, &options.bootstrap, stream),
            });
        }
        readout.extend(early_readout(&data.completed, epoch, options.top_fraction));
    }
    let convergence = convergence(&data.completed);
    SweepAnalysis {
        data,
        epochs,
        correlations,
        readout,
        convergence,
        options: options.clone(),
    }
}

/// A trial in the readout cohort of one epoch.
#[derive(Clone, Debug)]
struct CohortRow {
    spectrum: Vec<f64>,
    val_loss: f64,
    target: f64,
}

fn readout_row(
    epoch: usize,
    predictor: String,
    scores: &[f64],
    target: &[f64],
    fraction: f64,
) -> ReadoutRow {
    let n = scores.len();
    ReadoutRow {
        epoch,
        predictor,
        n,
        spearman: spearman(scores, target),
        top_fraction: top_fraction_overlap(scores, target, fraction),
        chance: if n == 0 {
            f64::NAN
        } else {
            top_count(n, fraction) as f64 / n as f64
        },
    }
}

/// Readout rows of one epoch (none when fewer than 3 trials qualify).
fn early_readout(trials: &[RunData], epoch: usize, fraction: f64) -> Vec<ReadoutRow> {
    let cohort: Vec<CohortRow> = trials
        .iter()
        .filter_map(|t| {
            let e = t.epochs.iter().find(|e| e.epoch == epoch)?;
            let row = CohortRow {
                spectrum: e.spectrum.clone()?,
                val_loss: e.val_loss,
                target: t.best_val_loss(),
            };
            (row.val_loss.is_finite() && row.target.is_finite()).then_some(row)
        })
        .collect();
    if cohort.len() < 3 {
        return vec![];
    }
    let target: Vec<f64> = cohort.iter().map(|r| r.target).collect();
    let val_loss: Vec<f64> = cohort.iter().map(|r| r.val_loss).collect();
    let mut rows = vec![readout_row(
        epoch,
        "val_loss".into(),
        &val_loss,
        &target,
        fraction,
    )];
    for feature in Feature::ALL {
        let with_values: Vec<(f64, f64)> = cohort
            .iter()
            .map(|r| (feature.compute(&r.spectrum), r.target))
            .filter(|(v, _)| !v.is_nan())
            .collect();
        let scores = leave_one_out(
            &with_values,
            |training| {
                let (x, y): (Vec<f64>, Vec<f64>) = training.iter().copied().unzip();
                if spearman(&x, &y) < 0.0 {
                    -1.0
                } else {
                    1.0
                }
            },
            |sign, (value, _)| sign * value,
        );
        let truth: Vec<f64> = with_values.iter().map(|p| p.1).collect();
        let name = format!("feature:{}", feature.name());
        rows.push(readout_row(epoch, name, &scores, &truth, fraction));
    }
    let ridge_rows = common_length_rows(&cohort);
    let scores = leave_one_out(&ridge_rows, fit_ridge, |m, r| m.predict(&r.x));
    rows.push(readout_row(
        epoch,
        "ridge".into(),
        &scores,
        &target,
        fraction,
    ));
    rows
}

/// Ridge rows with every spectrum reduced to the cohort's shortest length `m` (exponents at
/// indices `round(i (k - 1) / (m - 1))`).
fn common_length_rows(cohort: &[CohortRow]) -> Vec<RidgeRow> {
    let m = cohort.iter().map(|r| r.spectrum.len()).min().unwrap_or(0);
    cohort
        .iter()
        .map(|r| {
            let k = r.spectrum.len();
            let x = (0..m)
                .map(|i| {
                    let j = if m > 1 {
                        ((i * (k - 1)) as f64 / (m - 1) as f64).round() as usize
                    } else {
                        0
                    };
                    r.spectrum[j]
                })
                .collect();
            RidgeRow { x, y: r.target }
        })
        .collect()
}

/// `(mean squared difference, mean difference)` of `spectrum - reference` over the
/// exponents finite in both (NaN if none).
pub fn spectrum_difference(spectrum: &[f64], reference: &[f64]) -> (f64, f64) {
    let diffs: Vec<f64> = spectrum
        .iter()
        .zip(reference)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| a - b)
        .collect();
    let n = diffs.len() as f64;
    (
        diffs.iter().map(|d| d * d).sum::<f64>() / n,
        diffs.iter().sum::<f64>() / n,
    )
}

/// Per-trial and averaged convergence rows (module documentation).
fn convergence(trials: &[RunData]) -> Vec<ConvergenceRow> {
    let mut rows = vec![];
    for trial in trials {
        let Some((_, reference)) = trial.final_spectrum() else {
            continue;
        };
        for epoch in &trial.epochs {
            let Some(spectrum) = &epoch.spectrum else {
                continue;
            };
            let (msd, md) = spectrum_difference(spectrum, reference);
            rows.push(ConvergenceRow {
                trial: trial.index,
                epoch: epoch.epoch,
                mean_squared_difference: msd,
                mean_difference: md,
                n_trials: 1,
            });
        }
    }
    let epochs: BTreeSet<usize> = rows.iter().map(|r| r.epoch).collect();
    let mut averages = vec![];
    for epoch in epochs {
        let at: Vec<&ConvergenceRow> = rows
            .iter()
            .filter(|r| r.epoch == epoch && r.mean_squared_difference.is_finite())
            .collect();
        let n = at.len();
        averages.push(ConvergenceRow {
            trial: None,
            epoch,
            mean_squared_difference: at.iter().map(|r| r.mean_squared_difference).sum::<f64>()
                / n as f64,
            mean_difference: at.iter().map(|r| r.mean_difference).sum::<f64>() / n as f64,
            n_trials: n,
        });
    }
    rows.extend(averages);
    rows
}

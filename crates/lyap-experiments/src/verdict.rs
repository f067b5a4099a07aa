//! The verdict of an analysis in plain words (docs/DESIGN.md section 5, "Verdict"): which
//! early readout ranked the trials best, and at which epoch.
//!
//! For every early epoch `e` (every analysed epoch with an early readout up to half the last
//! one, `e <= last / 2`; the first one alone when none is that early) and every predictor (the validation loss at `e`, and each spectrum
//! [`Feature`] at `e`):
//! - `held_out`: the early-readout Spearman correlation of the predictor's scores with the
//!   final loss ([`crate::analysis`]; features oriented leave-one-trial-out);
//! - `correlation`: the Spearman correlation of the predictor's raw values with the final
//!   loss and its bootstrap percentile interval (the `correlations.csv` row of a feature; for
//!   the validation loss computed here with the same [`crate::stats::Bootstrap`] on stream
//!   [`VAL_LOSS_STREAM`]` + e`), **oriented**: multiplied by the sign of the estimate, so that
//!   `1` means "ranks the trials exactly as their final loss" whichever way the feature
//!   points (the interval's bounds are swapped with the sign).
//!
//! Per epoch the best feature is the one with the highest `held_out` (ties: the first in
//! [`Feature::ALL`]); the best early readout overall is the predictor and epoch with the
//! highest `held_out` (ties: the earlier epoch, then the validation loss). The ridge readout
//! is left to the report's table.

use std::fmt::Write;

use crate::analysis::SweepAnalysis;
use crate::features::Feature;
use crate::stats::{correlate, Interval};

/// Bootstrap stream of the validation loss's correlation at epoch `e`: this plus `e`
/// (`correlations.csv` uses streams below `epochs * features`).
pub const VAL_LOSS_STREAM: u64 = 1 << 40;

/// One predictor at one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadoutScore {
    /// `val_loss` or a feature name.
    pub predictor: String,
    /// Early-readout Spearman with the final loss (held out); NaN when not computed.
    pub held_out: f64,
    /// Oriented Spearman correlation with the final loss and its bootstrap interval.
    pub correlation: Interval,
}

/// The validation loss and the best spectrum feature at one early epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochVerdict {
    pub epoch: usize,
    /// Trials in the readout cohort.
    pub n: usize,
    pub val_loss: ReadoutScore,
    pub best_feature: Option<ReadoutScore>,
}

/// The whole verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub trials: usize,
    /// Lowest and highest final loss over the completed trials.
    pub final_loss: (f64, f64),
    /// Interval level (0.95).
    pub level: f64,
    pub epochs: Vec<EpochVerdict>,
    /// The best early readout and its epoch.
    pub best: Option<(usize, ReadoutScore)>,
}

/// `interval` multiplied by the sign of its estimate (bounds swapped when negative).
fn oriented(interval: Interval) -> Interval {
    if interval.estimate < 0.0 {
        Interval {
            estimate: -interval.estimate,
            lower: -interval.upper,
            upper: -interval.lower,
        }
    } else {
        interval
    }
}

/// The held-out readout Spearman of `predictor` at `epoch` (NaN if absent).
fn held_out(analysis: &SweepAnalysis, epoch: usize, predictor: &str) -> (usize, f64) {
    analysis
        .readout
        .iter()
        .find(|r| r.epoch == epoch && r.predictor == predictor)
        .map_or((0, f64::NAN), |r| (r.n, r.spearman))
}

/// The validation loss at `epoch` against the final loss, over the trials with both finite.
fn val_loss_score(analysis: &SweepAnalysis, epoch: usize) -> ReadoutScore {
    let (x, y): (Vec<f64>, Vec<f64>) = analysis
        .data
        .completed
        .iter()
        .filter_map(|t| {
            let e = t.epochs.iter().find(|e| e.epoch == epoch)?;
            let target = t.best_val_loss();
            (e.val_loss.is_finite() && target.is_finite()).then_some((e.val_loss, target))
        })
        .unzip();
    let stream = VAL_LOSS_STREAM + epoch as u64;
    let estimate = correlate(&x, &y, &analysis.options.bootstrap, stream);
    ReadoutScore {
        predictor: "val_loss".into(),
        held_out: held_out(analysis, epoch, "val_loss").1,
        correlation: oriented(estimate.spearman),
    }
}

fn feature_score(analysis: &SweepAnalysis, epoch: usize, feature: Feature) -> ReadoutScore {
    let correlation = analysis
        .correlations
        .iter()
        .find(|r| r.epoch == epoch && r.feature == feature)
        .map_or(
            Interval {
                estimate: f64::NAN,
                lower: f64::NAN,
                upper: f64::NAN,
            },
            |r| oriented(r.estimate.spearman),
        );
    let name = format!("feature:{}", feature.name());
    ReadoutScore {
        predictor: feature.name().into(),
        held_out: held_out(analysis, epoch, &name).1,
        correlation,
    }
}

/// `a` better than `b`: a higher held-out Spearman (NaN never better).
fn better(a: &ReadoutScore, b: &ReadoutScore) -> bool {
    a.held_out > b.held_out || (b.held_out.is_nan() && !a.held_out.is_nan())
}

/// The verdict of `analysis` (module documentation).
pub fn verdict(analysis: &SweepAnalysis) -> Verdict {
    let losses: Vec<f64> = analysis
        .data
        .completed
        .iter()
        .map(|t| t.best_val_loss())
        .filter(|v| v.is_finite())
        .collect();
    let final_loss = losses
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let with_readout: Vec<usize> = analysis
        .epochs
        .iter()
        .copied()
        .filter(|&e| analysis.readout.iter().any(|r| r.epoch == e))
        .collect();
    let last = with_readout.last().copied().unwrap_or(0);
    let mut early: Vec<usize> = with_readout
        .iter()
        .copied()
        .filter(|&e| 2 * e <= last)
        .collect();
    if early.is_empty() {
        early.extend(with_readout.first());
    }
    let mut epochs = vec![];
    let mut best: Option<(usize, ReadoutScore)> = None;
    for epoch in early {
        let val_loss = val_loss_score(analysis, epoch);
        let mut best_feature: Option<ReadoutScore> = None;
        for feature in Feature::ALL {
            let score = feature_score(analysis, epoch, feature);
            if best_feature.as_ref().is_none_or(|b| better(&score, b)) {
                best_feature = Some(score);
            }
        }
        for candidate in std::iter::once(&val_loss).chain(best_feature.as_ref()) {
            if best.as_ref().is_none_or(|(_, b)| better(candidate, b)) {
                best = Some((epoch, candidate.clone()));
            }
        }
        epochs.push(EpochVerdict {
            epoch,
            n: held_out(analysis, epoch, "val_loss").0,
            val_loss,
            best_feature,
        });
    }
    Verdict {
        trials: analysis.data.completed.len(),
        final_loss,
        level: analysis.options.bootstrap.level,
        epochs,
        best,
    }
}

/// `0.78 [0.41, 0.94]` (two decimals; `-` for NaN).
fn show(value: f64) -> String {
    if value.is_nan() {
        "-".into()
    } else {
        format!("{value:.2}")
    }
}

fn show_score(score: &ReadoutScore) -> String {
    let c = score.correlation;
    format!(
        "{} [{}, {}] (held out {})",
        show(c.estimate),
        show(c.lower),
        show(c.upper),
        show(score.held_out)
    )
}

/// A readout's name in words.
fn describe(predictor: &str) -> String {
    match predictor {
        "val_loss" => "the validation loss".into(),
        feature => format!("the spectrum's {feature}"),
    }
}

impl std::fmt::Display for Verdict {
    /// The verdict as a few lines of plain text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} trials; final loss (each trial's best validation loss) from {} to {}.",
            self.trials,
            show(self.final_loss.0),
            show(self.final_loss.1)
        );
        if self.epochs.is_empty() {
            out.push_str("No epoch has enough trials with a spectrum for an early readout.\n");
            return f.write_str(&out);
        }
        let _ = writeln!(
            out,
            "Spearman correlation of each early readout with the final loss, oriented \
             (1 = ranks the trials exactly as their final loss), [{:.0}% bootstrap interval], \
             and the held-out readout score:",
            self.level * 100.0
        );
        let _ = writeln!(
            out,
            "  {:>5}  {:<34}  best spectrum feature",
            "epoch", "validation loss"
        );
        for e in &self.epochs {
            let feature = e.best_feature.as_ref().map_or("-".into(), |s| {
                format!("{:<10} {}", s.predictor, show_score(s))
            });
            let _ = writeln!(
                out,
                "  {:>5}  {:<34}  {feature}",
                e.epoch,
                show_score(&e.val_loss)
            );
        }
        if let Some((epoch, score)) = &self.best {
            let c = score.correlation;
            let _ = write!(
                out,
                "Verdict: {} at epoch {epoch} ranked the trials best (held-out Spearman {}; \
                 correlation {} [{}, {}])",
                describe(&score.predictor),
                show(score.held_out),
                show(c.estimate),
                show(c.lower),
                show(c.upper)
            );
            let baseline = self.epochs.iter().find(|e| e.epoch == *epoch);
            match baseline {
                Some(e) if score.predictor != "val_loss" => {
                    let _ = writeln!(
                        out,
                        "; the validation loss at that epoch: held out {}.",
                        show(e.val_loss.held_out)
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        ", as good as or better than every spectrum feature at every early epoch."
                    );
                }
            }
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{AnalysisOptions, CorrelationRow, ReadoutRow};
    use crate::stats::CorrelationEstimate;
    use crate::trials::{EpochData, RunData, SweepData};

    fn trial(index: usize, val: [f64; 2]) -> RunData {
        RunData {
            dir: "t".into(),
            index: Some(index),
            name: format!("trial_{index}"),
            params: Default::default(),
            status: None,
            epochs: (0..2)
                .map(|i| EpochData {
                    epoch: i + 1,
                    train_loss: val[i],
                    val_loss: val[i],
                    spectrum: Some(vec![0.0]),
                    spectrum_sem: None,
                })
                .collect(),
        }
    }

    fn readout(epoch: usize, predictor: &str, spearman: f64) -> ReadoutRow {
        ReadoutRow {
            epoch,
            predictor: predictor.into(),
            n: 4,
            spearman,
            top_fraction: 0.0,
            chance: 0.25,
        }
    }

    fn correlation(feature: Feature, spearman: [f64; 3]) -> CorrelationRow {
        let [estimate, lower, upper] = spearman;
        let interval = Interval {
            estimate,
            lower,
            upper,
        };
        CorrelationRow {
            epoch: 1,
            feature,
            estimate: CorrelationEstimate {
                n: 4,
                pearson: interval,
                spearman: interval,
            },
        }
    }

    /// Final losses 1, 2, 3, 1.2; validation loss at epoch 1: 3, 2.5, 4, 1.5: ranks
    /// (3, 2, 4, 1) against (1, 3, 4, 2), sum d^2 = 6, Spearman 1 - 6 * 6 / (4 * 15) = 0.4.
    fn known_analysis(max_held_out: f64) -> SweepAnalysis {
        let data = SweepData {
            completed: vec![
                trial(0, [3.0, 1.0]),
                trial(1, [2.5, 2.0]),
                trial(2, [4.0, 3.0]),
                trial(3, [1.5, 1.2]),
            ],
            failed: vec![],
            incomplete: vec![],
            param_names: vec![],
        };
        SweepAnalysis {
            data,
            epochs: vec![1, 2],
            correlations: vec![
                correlation(Feature::Max, [-0.8, -1.0, -0.2]),
                correlation(Feature::Mean, [0.2, -0.5, 0.9]),
            ],
            readout: vec![
                readout(1, "val_loss", 0.4),
                readout(1, "feature:max", max_held_out),
                readout(1, "feature:mean", 0.1),
                readout(2, "val_loss", 1.0),
                readout(2, "feature:max", 1.0),
            ],
            convergence: vec![],
            options: AnalysisOptions::default(),
        }
    }

    #[test]
    fn verdict_of_a_known_table() {
        let v = verdict(&known_analysis(0.8));
        assert_eq!(v.trials, 4);
        assert_eq!(v.final_loss, (1.0, 3.0));
        assert_eq!(v.epochs.len(), 1, "the last epoch is not early");
        let e = &v.epochs[0];
        assert_eq!((e.epoch, e.n), (1, 4));
        assert!((e.val_loss.correlation.estimate - 0.4).abs() < 1e-12);
        assert!(e.val_loss.correlation.lower <= 0.4 && 0.4 <= e.val_loss.correlation.upper);
        let max = e.best_feature.as_ref().unwrap();
        assert_eq!(max.predictor, "max");
        // oriented: -0.8 [-1.0, -0.2] becomes 0.8 [0.2, 1.0]
        assert_eq!(
            (
                max.correlation.estimate,
                max.correlation.lower,
                max.correlation.upper
            ),
            (0.8, 0.2, 1.0)
        );
        let text = v.to_string();
        assert!(
            text.contains(
                "4 trials; final loss (each trial's best validation loss) from 1.00 to 3.00."
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "Verdict: the spectrum's max at epoch 1 ranked the trials best (held-out \
                 Spearman 0.80; correlation 0.80 [0.20, 1.00]); the validation loss at that \
                 epoch: held out 0.40."
            ),
            "{text}"
        );
        assert!(
            text.contains("max        0.80 [0.20, 1.00] (held out 0.80)"),
            "{text}"
        );
    }

    #[test]
    fn the_validation_loss_can_win() {
        let v = verdict(&known_analysis(0.3));
        let (epoch, best) = v.best.clone().unwrap();
        assert_eq!((epoch, best.predictor.as_str()), (1, "val_loss"));
        let text = v.to_string();
        assert!(
            text.contains("Verdict: the validation loss at epoch 1 ranked the trials best (held-out Spearman 0.40; correlation 0.40 ["),
            "{text}"
        );
        assert!(
            text.contains("as good as or better than every spectrum feature"),
            "{text}"
        );
    }
}

//! Correlation, early-readout and convergence tables of `lyap_experiments::analysis` on
//! constructed sweeps.

use lyap_experiments::analysis::*;
use lyap_experiments::features::Feature;
use lyap_experiments::stats::Bootstrap;
use lyap_experiments::trials::{EpochData, RunData, SweepData};
use lyap_train::{RunState, RunStatus};

/// Trial `i` of `n`: final loss `1 + i`, max exponent `0.1 * i` at every epoch (perfect
/// order), spectrum drifting by `0.5 / epoch` towards its last value.
fn constructed(n: usize) -> SweepData {
    let completed = (0..n)
        .map(|i| {
            let epochs = (1..=3)
                .map(|e| {
                    let shift = 0.5 / e as f64 - 0.5 / 3.0;
                    EpochData {
                        epoch: e,
                        train_loss: 2.0,
                        // epoch-1 validation loss ranks trials in reverse: a bad baseline
                        val_loss: if e == 1 {
                            20.0 - i as f64
                        } else {
                            1.0 + i as f64
                        },
                        spectrum: Some(vec![0.1 * i as f64 + shift, -1.0 + shift, -2.0]),
                        spectrum_sem: None,
                    }
                })
                .collect();
            RunData {
                dir: std::path::PathBuf::new(),
                index: Some(i),
                name: format!("trial_{i:04}"),
                params: Default::default(),
                status: Some(RunStatus {
                    status: RunState::Completed,
                    reason: None,
                    epochs_completed: 0,
                    epochs_planned: None,
                }),
                epochs,
            }
        })
        .collect();
    SweepData {
        completed,
        ..SweepData::default()
    }
}

fn options() -> AnalysisOptions {
    AnalysisOptions {
        bootstrap: Bootstrap {
            resamples: 200,
            ..Bootstrap::default()
        },
        ..AnalysisOptions::default()
    }
}

#[test]
fn perfectly_ordered_feature_is_found() {
    let analysis = analyze(constructed(10), &options());
    assert_eq!(analysis.epochs, vec![1, 2, 3]);
    let max_at_1 = analysis
        .correlations
        .iter()
        .find(|r| r.epoch == 1 && r.feature == Feature::Max)
        .unwrap();
    assert_eq!(max_at_1.estimate.n, 10);
    assert!((max_at_1.estimate.spearman.estimate - 1.0).abs() < 1e-12);
    assert!((max_at_1.estimate.pearson.estimate - 1.0).abs() < 1e-12);
    let row = |predictor: &str| {
        analysis
            .readout
            .iter()
            .find(|r| r.epoch == 1 && r.predictor == predictor)
            .unwrap()
    };
    let max = row("feature:max");
    assert!((max.spearman - 1.0).abs() < 1e-12);
    assert_eq!(max.top_fraction, 1.0);
    assert!((max.chance - 0.2).abs() < 1e-12);
    // the reversed baseline ranks the best trials last
    assert!((row("val_loss").spearman + 1.0).abs() < 1e-12);
    assert_eq!(row("val_loss").top_fraction, 0.0);
    // ridge on the whole spectrum recovers the order out of sample
    assert!(row("ridge").spearman > 0.9, "{:?}", row("ridge"));
}

#[test]
fn negatively_related_feature_is_oriented_by_training_folds() {
    // Final loss now decreases with the max exponent; `min` (constant -2) is undefined.
    let mut data = constructed(8);
    for (i, t) in data.completed.iter_mut().enumerate() {
        for e in &mut t.epochs {
            e.val_loss = 50.0 - i as f64;
        }
    }
    let analysis = analyze(data, &options());
    let max = analysis
        .readout
        .iter()
        .find(|r| r.epoch == 2 && r.predictor == "feature:max")
        .unwrap();
    // scores are oriented so that higher = predicted worse: agreement is positive
    assert!((max.spearman - 1.0).abs() < 1e-12, "{max:?}");
    let constant = analysis
        .correlations
        .iter()
        .find(|r| r.feature == Feature::Min)
        .unwrap();
    assert!(constant.estimate.spearman.estimate.is_nan());
}

#[test]
fn convergence_to_the_final_spectrum() {
    let analysis = analyze(constructed(4), &options());
    let average = |epoch: usize| {
        analysis
            .convergence
            .iter()
            .find(|r| r.trial.is_none() && r.epoch == epoch)
            .unwrap()
            .clone()
    };
    // epoch 1: two of three exponents differ by 0.5 - 0.5/3 = 1/3 from the final spectrum
    let d: f64 = 1.0 / 3.0;
    let first = average(1);
    assert_eq!(first.n_trials, 4);
    assert!((first.mean_difference - 2.0 * d / 3.0).abs() < 1e-12);
    assert!((first.mean_squared_difference - 2.0 * d * d / 3.0).abs() < 1e-12);
    assert_eq!(average(3).mean_squared_difference, 0.0);
    let (msd, md) = spectrum_difference(&[1.0, f64::NEG_INFINITY], &[0.0, -1.0]);
    assert_eq!((msd, md), (1.0, 1.0));
}

#[test]
fn too_few_trials_give_no_readout_rows() {
    let analysis = analyze(constructed(2), &options());
    assert!(analysis.readout.is_empty());
    assert!(analysis
        .correlations
        .iter()
        .all(|r| r.estimate.spearman.estimate.is_nan()));
}

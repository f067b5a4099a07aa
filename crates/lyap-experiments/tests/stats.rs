//! Correlations, ranks, bootstrap intervals and leave-one-out of `lyap_experiments::stats`.

use lyap_experiments::stats::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn perfect_rank_order_gives_spearman_one() {
    let x: Vec<f64> = (0..20).map(|i| i as f64).collect();
    let y: Vec<f64> = x.iter().map(|v| (v / 3.0).exp()).collect();
    assert!(close(spearman(&x, &y), 1.0, 1e-12));
    let reversed: Vec<f64> = y.iter().map(|v| -v).collect();
    assert!(close(spearman(&x, &reversed), -1.0, 1e-12));
    // monotone but not linear: Pearson is below 1
    assert!(pearson(&x, &y) < 0.95);
}

#[test]
fn linear_relation_gives_pearson_one() {
    let x: Vec<f64> = (0..10).map(|i| (i * i) as f64 * 0.1).collect();
    let y: Vec<f64> = x.iter().map(|v| 3.0 * v + 2.0).collect();
    assert!(close(pearson(&x, &y), 1.0, 1e-12));
    let down: Vec<f64> = x.iter().map(|v| 1.0 - 0.5 * v).collect();
    assert!(close(pearson(&x, &down), -1.0, 1e-12));
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[test]
fn independent_variables_correlate_near_zero() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let x: Vec<f64> = (0..4000).map(|_| normal(&mut rng)).collect();
    let y: Vec<f64> = (0..4000).map(|_| normal(&mut rng)).collect();
    // standard error ~ 1/sqrt(4000) = 0.016
    assert!(pearson(&x, &y).abs() < 0.06, "{}", pearson(&x, &y));
    assert!(spearman(&x, &y).abs() < 0.06, "{}", spearman(&x, &y));
}

#[test]
fn ties_get_average_ranks_matching_hand_computation() {
    assert_eq!(
        average_ranks(&[3.0, 1.0, 2.0, 2.0]),
        vec![4.0, 1.0, 2.5, 2.5]
    );
    assert_eq!(average_ranks(&[5.0, 5.0, 5.0]), vec![2.0, 2.0, 2.0]);
    assert_eq!(
        average_ranks(&[f64::NEG_INFINITY, 0.0, f64::NEG_INFINITY]),
        vec![1.5, 3.0, 1.5]
    );
    // x ranks (1, 2.5, 2.5, 4), y ranks (1, 2, 3, 4):
    // sxy = 2.25 + 0 + 0 + 2.25 = 4.5, sxx = 4.5, syy = 5 -> r = 4.5 / sqrt(22.5)
    let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[10.0, 20.0, 30.0, 40.0]);
    assert!(close(r, 4.5 / 22.5f64.sqrt(), 1e-12), "{r}");
}

#[test]
fn undefined_cases_are_nan() {
    assert!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
    assert!(pearson(&[1.0, 2.0], &[1.0, 2.0]).is_nan());
    assert!(pearson(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]).is_nan());
    assert!(spearman(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]).is_nan());
}

#[test]
fn quantile_interpolates() {
    let v = [1.0, 2.0, 3.0, 4.0, 5.0];
    assert_eq!(quantile(&v, 0.5), 3.0);
    assert_eq!(quantile(&v, 0.0), 1.0);
    assert_eq!(quantile(&v, 1.0), 5.0);
    assert!(close(quantile(&v, 0.1), 1.4, 1e-12));
}

#[test]
fn bootstrap_interval_covers_true_rho_about_95_percent() {
    let rho: f64 = 0.5;
    let (datasets, n) = (200, 40);
    let bootstrap = Bootstrap {
        resamples: 300,
        level: 0.95,
        seed: 3,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut covered = 0;
    for d in 0..datasets {
        let (mut x, mut y) = (vec![], vec![]);
        for _ in 0..n {
            let (a, b) = (normal(&mut rng), normal(&mut rng));
            x.push(a);
            y.push(rho * a + (1.0 - rho * rho).sqrt() * b);
        }
        let estimate = correlate(&x, &y, &bootstrap, d as u64);
        let p = estimate.pearson;
        assert!(p.lower <= p.estimate && p.estimate <= p.upper);
        if p.lower <= rho && rho <= p.upper {
            covered += 1;
        }
    }
    let coverage = covered as f64 / datasets as f64;
    assert!((0.88..=0.99).contains(&coverage), "coverage {coverage}");
}

#[test]
fn bootstrap_is_deterministic_per_seed_and_stream() {
    let x: Vec<f64> = (0..15).map(|i| (i as f64).sin()).collect();
    let y: Vec<f64> = (0..15).map(|i| (i as f64 * 0.7).cos()).collect();
    let b = Bootstrap {
        resamples: 200,
        ..Bootstrap::default()
    };
    assert_eq!(correlate(&x, &y, &b, 1), correlate(&x, &y, &b, 1));
    assert_ne!(correlate(&x, &y, &b, 1), correlate(&x, &y, &b, 2));
}

#[test]
fn top_fraction_overlap_counts_shared_best_trials() {
    let truth: Vec<f64> = (0..10).map(|i| i as f64).collect();
    assert_eq!(top_count(10, 0.2), 2);
    assert_eq!(top_count(11, 0.2), 3);
    assert_eq!(top_fraction_overlap(&truth, &truth, 0.2), 1.0);
    let reversed: Vec<f64> = truth.iter().map(|v| -v).collect();
    assert_eq!(top_fraction_overlap(&reversed, &truth, 0.2), 0.0);
    // predicted best two: trials 0 and 5; true best: 0 and 1 -> half
    let mut predicted = vec![9.0; 10];
    predicted[0] = 0.0;
    predicted[5] = 1.0;
    assert_eq!(top_fraction_overlap(&predicted, &truth, 0.2), 0.5);
}

#[test]
fn leave_one_out_never_shows_the_held_out_row() {
    let rows: Vec<(usize, f64)> = (0..7).map(|i| (i, i as f64 * 2.0)).collect();
    let mut seen: Vec<Vec<usize>> = vec![];
    let predictions = leave_one_out(
        &rows,
        |training| {
            seen.push(training.iter().map(|r| r.0).collect());
            mean(&training.iter().map(|r| r.1).collect::<Vec<_>>())
        },
        |model, _row| *model,
    );
    for (held_out, ids) in seen.iter().enumerate() {
        assert_eq!(ids.len(), rows.len() - 1);
        assert!(!ids.contains(&held_out), "fold {held_out} saw its own row");
    }
    // the mean of the others: (42 - 2i) / 6
    for (i, p) in predictions.iter().enumerate() {
        assert!(close(*p, (42.0 - 2.0 * i as f64) / 6.0, 1e-12));
    }
}

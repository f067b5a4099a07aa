//! The built-in checks (docs/DESIGN.md section 2, "Built-in checks"): the sum rule against maps
//! and flows with a known `ln|det J|`, the log-determinant against dense determinants, and the
//! largest exponent by two nearby trajectories against the QR method's `lambda_1`.

use faer::Mat;
use lyap_core::checks::{log_abs_det, max_by_perturbation, sum_rule, sum_rule_tolerance, LogDet};
use lyap_core::flows::{Lorenz63, Rk4Flow, VectorField};
use lyap_core::maps::Henon;
use lyap_core::systems::{attractor_points, transient_steps};
use lyap_core::{
    autonomous_inputs, lyapunov_spectrum, lyapunov_spectrum_from, Spectrum, SpectrumConfig,
};

/// Lorenz-63 per time unit from 4 attractor points, with the perturbed copy.
fn lorenz(steps: usize) -> Spectrum {
    let flow = Rk4Flow::new(Lorenz63::default(), 0.01);
    let region = flow.field.initial_region();
    let points = attractor_points(&flow, &region, 4, transient_steps(flow.dt), 7).unwrap();
    let starts: Vec<&[f64]> = points.iter().map(|p| p.as_slice()).collect();
    let mut config = SpectrumConfig::new(3, steps);
    config.warmup = 500;
    config.checks.max_by_perturbation = true;
    let spectrum = lyapunov_spectrum_from(&flow, &starts, &autonomous_inputs(4), &config).unwrap();
    flow.per_time_unit(&spectrum)
}

#[test]
fn henon_log_det_is_ln_b_every_step_and_the_sum_rule_holds() {
    let mut config = SpectrumConfig::new(2, 20_000);
    config.warmup = 100;
    let spectrum = lyapunov_spectrum::<f64, _>(&Henon::default(), &[&[]], &config).unwrap();
    let log_det = spectrum.per_sequence[0].checks.mean_log_abs_det.unwrap();
    assert!((log_det - 0.3f64.ln()).abs() < 1e-12, "{log_det}");
    let rule = sum_rule(&spectrum).unwrap();
    assert!(rule.difference.abs() < 1e-8, "{rule:?}");
    assert_eq!(rule.difference, rule.sum - rule.mean_log_abs_det);
}

#[test]
fn lorenz_sum_rule_is_the_divergence_and_max_agrees_with_lambda_1() {
    let spectrum = lorenz(20_000);
    let rule = sum_rule(&spectrum).unwrap();
    let lorenz = Lorenz63::default();
    let divergence = -(lorenz.sigma + 1.0 + lorenz.beta);
    // the RK4 map's ln|det| per time unit is the flow's divergence to O(dt^4): 1e-4 here
    assert!(
        (rule.mean_log_abs_det - divergence).abs() < 2e-4,
        "{rule:?} against {divergence}"
    );
    assert!(rule.difference.abs() < 1e-8, "{rule:?}");
    // the two-trajectory estimate follows the same trajectories: it agrees with the QR's
    // lambda_1 to far better than lambda_1's own error (about 1 % at this length; the
    // difference measured is 4e-6 per time unit)
    let max = max_by_perturbation(&spectrum).unwrap();
    assert!(max.difference.abs() < 1e-4, "{max:?}");
    assert!((max.estimate - 0.9056).abs() < 0.05, "{max:?}");
}

#[test]
fn sum_rule_skipped_below_the_full_spectrum_or_when_switched_off() {
    let mut config = SpectrumConfig::new(1, 100);
    let spectrum = lyapunov_spectrum::<f64, _>(&Henon::default(), &[&[]], &config).unwrap();
    assert_eq!(spectrum.per_sequence[0].checks.mean_log_abs_det, None);
    assert!(sum_rule(&spectrum).is_none());
    config.k = 2;
    config.checks.sum_rule = false;
    let spectrum = lyapunov_spectrum::<f64, _>(&Henon::default(), &[&[]], &config).unwrap();
    assert!(sum_rule(&spectrum).is_none());
    assert!(max_by_perturbation(&spectrum).is_none());
}

#[test]
fn log_abs_det_matches_dense_determinants() {
    // 3 x 3 by the rule of Sarrus
    let a = Mat::from_fn(3, 3, |i, j| {
        [[2.0f64, -1.0, 0.5], [0.3, 4.0, 1.0], [1.0, 2.0, -3.0]][i][j]
    });
    let det = a[(0, 0)] * (a[(1, 1)] * a[(2, 2)] - a[(1, 2)] * a[(2, 1)])
        - a[(0, 1)] * (a[(1, 0)] * a[(2, 2)] - a[(1, 2)] * a[(2, 0)])
        + a[(0, 2)] * (a[(1, 0)] * a[(2, 1)] - a[(1, 1)] * a[(2, 0)]);
    assert!((log_abs_det(a.as_ref()) - det.abs().ln()).abs() < 1e-13);
    // a permuted product of triangular factors with a known determinant, and faer's own
    let n = 12;
    let lower = Mat::from_fn(n, n, |i, j| match i.cmp(&j) {
        std::cmp::Ordering::Greater => ((i * 7 + j * 3) % 5) as f64 * 0.3 - 0.6,
        std::cmp::Ordering::Equal => 1.0,
        std::cmp::Ordering::Less => 0.0,
    });
    let upper = Mat::from_fn(n, n, |i, j| match i.cmp(&j) {
        std::cmp::Ordering::Less => ((i * 5 + j) % 7) as f64 * 0.2 - 0.5,
        std::cmp::Ordering::Equal => 0.5 + i as f64 * 0.25,
        std::cmp::Ordering::Greater => 0.0,
    });
    let product = &lower * &upper;
    let rotated = Mat::from_fn(n, n, |i, j| product[((i + 5) % n, j)]);
    let expected: f64 = (0..n).map(|i| (0.5 + i as f64 * 0.25f64).ln()).sum();
    let mut lu = LogDet::<f64>::new(n);
    assert!((lu.log_abs_det(rotated.as_ref()) - expected).abs() < 1e-11);
    assert!((lu.log_abs_det(rotated.as_ref()) - rotated.determinant().abs().ln()).abs() < 1e-11);
    // f32 and a singular matrix
    let single = Mat::from_fn(n, n, |i, j| rotated[(i, j)] as f32);
    assert!((log_abs_det(single.as_ref()) - expected).abs() < 1e-4);
    let mut singular = rotated.clone();
    for i in 0..n {
        singular[(i, 3)] = 2.0 * singular[(i, 1)];
    }
    assert!(log_abs_det(singular.as_ref()) < expected - 20.0);
    let mut zero_column = rotated.clone();
    (0..n).for_each(|i| zero_column[(i, 4)] = 0.0);
    assert_eq!(log_abs_det(zero_column.as_ref()), f64::NEG_INFINITY);
}

#[test]
fn tolerance_grows_with_dimension_precision_and_contraction() {
    let base = sum_rule_tolerance(10, f64::EPSILON, 0.0, 100);
    assert!(sum_rule_tolerance(20, f64::EPSILON, 0.0, 100) > base);
    assert!(sum_rule_tolerance(10, f32::EPSILON as f64, 0.0, 100) > base);
    assert!(sum_rule_tolerance(10, f64::EPSILON, 5.0, 100) > base);
    assert!(sum_rule_tolerance(10, f64::EPSILON, 0.0, 100_000) > base);
    assert!(sum_rule_tolerance(1024, f64::EPSILON, 10.0, 100) < 1e-8);
}

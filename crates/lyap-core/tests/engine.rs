//! The engine against identities and published exponents (docs/DESIGN.md section 2).

use faer::Mat;
use lyap_core::maps::{Henon, LinearMap};
use lyap_core::{
    lyapunov_spectrum, SpectrumConfig, SpectrumError, Tangent, TangentOnly, WarmupStyle,
};

#[test]
fn henon_matches_published_exponents() {
    let mut config = SpectrumConfig::new(2, 1_000_000);
    config.warmup = 1000;
    config.qr_every = 5;
    let spectrum = lyapunov_spectrum::<f64, _>(&Henon::default(), &[&[]], &config).unwrap();
    let lambda = &spectrum.statistics.mean;
    assert!(
        (lambda[0] - 0.41922).abs() < 2e-3,
        "lambda_1 = {}",
        lambda[0]
    );
    assert!(
        (lambda[1] + 1.62319).abs() < 2e-3,
        "lambda_2 = {}",
        lambda[1]
    );
    // sum = ln|det J| = ln b exactly, whatever the trajectory
    assert!((lambda[0] + lambda[1] - 0.3f64.ln()).abs() < 1e-9);
}

#[test]
fn henon_top_one_equals_first_of_full() {
    let full =
        lyapunov_spectrum::<f64, _>(&Henon::default(), &[&[]], &SpectrumConfig::new(2, 20_000))
            .unwrap();
    let top =
        lyapunov_spectrum::<f64, _>(&Henon::default(), &[&[]], &SpectrumConfig::new(1, 20_000))
            .unwrap();
    assert!((full.statistics.mean[0] - top.statistics.mean[0]).abs() < 1e-12);
}

fn companion_map() -> LinearMap<f64> {
    // companion matrix of (x - 1.5)(x + 0.5)(x - 0.25): eigenvalues 1.5, -0.5, 0.25, non-normal,
    // and no coordinate axis is invariant (a triangular matrix would keep e_1 an eigenvector)
    let rows = [[1.25, 0.5, -0.1875], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
    let a = Mat::from_fn(3, 3, |r, c| rows[r][c]);
    let b = Mat::from_fn(3, 1, |r, _| r as f64);
    LinearMap { a, b }
}

#[test]
fn constant_jacobian_gives_log_eigenvalue_moduli() {
    let system = companion_map();
    let inputs: Vec<f64> = (0..400).map(|t| (t as f64 * 0.37).sin()).collect();
    for (tangent, qr_every) in [
        (Tangent::Jacobian, 1),
        (Tangent::Jacobian, 4),
        (Tangent::Transposed, 1),
    ] {
        let mut config = SpectrumConfig::new(3, 300);
        config.warmup = 100;
        config.qr_every = qr_every;
        config.tangent = tangent;
        let s = lyapunov_spectrum(&system, &[&inputs], &config).unwrap();
        let expected = [1.5f64.ln(), 0.5f64.ln(), 0.25f64.ln()];
        for (got, want) in s.statistics.mean.iter().zip(expected) {
            assert!(
                (got - want).abs() < 2e-2,
                "{tangent:?}/{qr_every}: {got} vs {want}"
            );
        }
        // the sum is exact at every length: ln|det A|
        let sum: f64 = s.statistics.mean.iter().sum();
        assert!((sum - (1.5f64 * 0.5 * 0.25).ln()).abs() < 1e-12);
    }
}

#[test]
fn trace_ends_at_the_final_estimate_and_f32_agrees() {
    let system = companion_map();
    let inputs: Vec<f64> = vec![0.0; 200];
    let mut config = SpectrumConfig::new(2, 200);
    config.qr_every = 3;
    config.record_trace = true;
    let s = lyapunov_spectrum(&system, &[&inputs, &inputs], &config).unwrap();
    let trace = &s.per_sequence[0].trace;
    assert_eq!(trace.len(), 200 / 3 + 1);
    assert_eq!(trace.last().unwrap().step, 200);
    assert_eq!(trace.last().unwrap().estimate, s.per_sequence[0].exponents);
    assert_eq!(s.statistics.std, vec![0.0, 0.0]);

    let system32 = LinearMap::<f32> {
        a: Mat::from_fn(3, 3, |r, c| system.a[(r, c)] as f32),
        b: Mat::zeros(3, 1),
    };
    let inputs32 = vec![0.0f32; 200];
    let s32 = lyapunov_spectrum(&system32, &[&inputs32], &config).unwrap();
    for (a, b) in s32.statistics.mean.iter().zip(&s.statistics.mean) {
        assert!((a - b).abs() < 1e-5);
    }
}

#[test]
fn paper_style_refeeds_inputs_and_skips_warmup_qr() {
    let system = companion_map();
    let inputs: Vec<f64> = (0..50).map(|t| t as f64).collect();
    let mut config = SpectrumConfig::new(3, 50);
    config.warmup = 50;
    config.warmup_style = WarmupStyle::Paper;
    assert_eq!(config.inputs_needed(), 50);
    let s = lyapunov_spectrum(&system, &[&inputs], &config).unwrap();
    assert!((s.statistics.mean[0] - 1.5f64.ln()).abs() < 2e-2);
}

#[test]
fn bad_settings_are_errors() {
    let system = companion_map();
    let inputs = vec![0.0; 10];
    let run = |k, steps, warmup| {
        let mut c = SpectrumConfig::new(k, steps);
        c.warmup = warmup;
        lyapunov_spectrum(&system, &[&inputs], &c).err()
    };
    assert_eq!(
        run(0, 5, 0),
        Some(SpectrumError::BadK { k: 0, state_dim: 3 })
    );
    assert_eq!(
        run(4, 5, 0),
        Some(SpectrumError::BadK { k: 4, state_dim: 3 })
    );
    assert_eq!(
        run(3, 8, 3),
        Some(SpectrumError::SequenceTooShort {
            sequence: 0,
            available: 10,
            needed: 11
        })
    );
    assert_eq!(run(3, 0, 0), Some(SpectrumError::NoSteps));
}

#[test]
fn dense_fast_path_equals_the_tangent_path() {
    let mut state = 3u64;
    let a = Mat::from_fn(40, 40, |_, _| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.4
    });
    let system = LinearMap {
        a,
        b: Mat::zeros(40, 1),
    };
    let inputs = vec![0.0; 60];
    for tangent in [Tangent::Jacobian, Tangent::Transposed] {
        let mut config = SpectrumConfig::new(40, 50);
        config.warmup = 10;
        config.tangent = tangent;
        config.record_trace = true;
        let dense = lyapunov_spectrum(&system, &[&inputs], &config).unwrap();
        let generic = lyapunov_spectrum(&TangentOnly(system.clone()), &[&inputs], &config).unwrap();
        for (x, y) in dense.statistics.mean.iter().zip(&generic.statistics.mean) {
            assert!((x - y).abs() < 1e-12, "{tangent:?}: {x} vs {y}");
        }
        let (dense_trace, generic_trace) =
            (&dense.per_sequence[0].trace, &generic.per_sequence[0].trace);
        assert_eq!(dense_trace.len(), generic_trace.len());
        assert_eq!(dense_trace.last().unwrap().step, 50);
    }
}

#[test]
fn a_trajectory_whose_state_overflows_stops_with_the_step_named() {
    // s' = 1e10 s from s_0 = 1 leaves f64's range (1.8e308) at step 31: 1e310.
    let map = LinearMap {
        a: Mat::from_fn(1, 1, |_, _| 1e10),
        b: Mat::zeros(1, 1),
    };
    let mut config = SpectrumConfig::new(1, 100);
    config.warmup = 10;
    let start = [1.0];
    let inputs = vec![0.0; 110];
    let sequences: [&[f64]; 2] = [&inputs, &inputs];
    let error = lyap_core::lyapunov_spectrum_from(&map, &[&[0.0], &start], &sequences, &config)
        .unwrap_err();
    assert_eq!(
        error,
        SpectrumError::Diverged {
            sequence: 1,
            step: 31
        }
    );
    assert!(error.to_string().contains("after step 31"), "{error}");
    // The same in chunks until converged.
    let rule = lyap_core::UntilConverged {
        tolerance: 1e-9,
        max_steps: 1000,
    };
    let source = lyap_core::FixedInputs {
        sequences: &sequences,
        input_dim: 1,
    };
    let error = lyap_core::lyapunov_spectrum_until(
        &map,
        Some(&[&[0.0], &start]),
        2,
        &source,
        &config,
        &rule,
        &|x| x,
    )
    .unwrap_err();
    assert_eq!(
        error,
        SpectrumError::Diverged {
            sequence: 1,
            step: 31
        }
    );
}

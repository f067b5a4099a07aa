//! The spectrum of recurrent stacks against exact identities (docs/DESIGN.md section 2), precision
//! agreement and thread-count independence.

mod common;

use common::*;
use faer::Mat;
use lyap_core::{
    dense_jacobian, lyapunov_spectrum, SpectrumConfig, Tangent, TangentOnly, TangentSystem,
};
use lyap_rnn::{Arch, LstmState, RecurrentStack, StackWeights};

/// The moduli of the eigenvalues of `matrix`, decreasing.
fn eigenvalue_moduli(matrix: &Mat<f64>) -> Vec<f64> {
    let mut moduli: Vec<f64> = matrix
        .eigenvalues()
        .expect("eigenvalues")
        .iter()
        .map(|mu| mu.re.hypot(mu.im))
        .collect();
    moduli.sort_by(|a, b| b.total_cmp(a));
    moduli
}

#[test]
fn fixed_point_exponents_are_log_eigenvalue_moduli() {
    // zero input, zero bias, zero state: the state stays 0 and J is constant. ReLU sits on its
    // kink at 0 (slope 0, all exponents -inf) and is left out.
    for (arch, lstm_state) in CONFIGS.into_iter().filter(|(a, _)| *a != Arch::RnnRelu) {
        for layers in [1, 2] {
            let weights = StackWeights::random(arch, 2, 4, layers, false, 1.2, 21);
            let stack = RecurrentStack::new(weights, lstm_state).unwrap();
            let dim = stack.state_dim();
            let mut ws = stack.workspace(dim);
            stack.step(&mut ws, &[0.0, 0.0]);
            assert!(stack.state(&ws).iter().all(|&v| v == 0.0));
            let moduli = eigenvalue_moduli(&dense_jacobian(&stack, &mut ws, Tangent::Jacobian));
            // a full-state LSTM at 0 has rank n per layer: measure the nonzero eigenvalues only
            let k = moduli.iter().filter(|&&m| m > 1e-8 * moduli[0]).count();
            let steps = 200_000;
            let inputs = vec![0.0; 2 * (steps + 1000)];
            let mut config = SpectrumConfig::new(k, steps);
            config.warmup = 1000;
            let spectrum = lyapunov_spectrum(&stack, &[&inputs], &config).unwrap();
            for (i, (lambda, mu)) in spectrum.statistics.mean.iter().zip(&moduli).enumerate() {
                let error = (lambda - mu.ln()).abs();
                assert!(
                    error < 2e-5,
                    "{arch} {lstm_state:?} layers={layers}: lambda_{i} = {lambda}, ln|mu| = {}, error {error:e}",
                    mu.ln()
                );
            }
        }
    }
}

#[test]
fn sum_of_exponents_is_mean_log_determinant() {
    for (arch, lstm_state) in CONFIGS {
        let weights = random_weights(arch, 2, true, 8);
        let stack = RecurrentStack::new(weights, lstm_state).unwrap();
        let dim = stack.state_dim();
        let steps = 300;
        let inputs = random_values(steps * INPUT_SIZE, 5);
        let mut config = SpectrumConfig::new(dim, steps);
        config.qr_every = 3;
        let spectrum = lyapunov_spectrum(&stack, &[&inputs], &config).unwrap();
        let sum: f64 = spectrum.statistics.mean.iter().sum();

        if arch == Arch::RnnRelu {
            // dead ReLU units make J singular (det 0): the sum must be -inf, without a crash
            assert_eq!(sum, f64::NEG_INFINITY, "{arch}: sum {sum}");
            continue;
        }
        let mut ws = stack.workspace(dim);
        let mut log_det = 0.0;
        for x in inputs.chunks_exact(INPUT_SIZE) {
            stack.step(&mut ws, x);
            log_det += dense_jacobian(&stack, &mut ws, Tangent::Jacobian)
                .determinant()
                .abs()
                .ln();
        }
        let mean_log_det = log_det / steps as f64;
        assert!(sum.is_finite(), "{arch} {lstm_state:?}: sum {sum}");
        let error = (sum - mean_log_det).abs() / mean_log_det.abs().max(1.0);
        assert!(
            error < 1e-7,
            "{arch} {lstm_state:?}: sum {sum} vs mean log|det J| {mean_log_det}"
        );
    }
}

#[test]
fn f32_agrees_with_f64() {
    for (arch, lstm_state) in CONFIGS {
        let weights = StackWeights::<f64>::random(arch, 6, 24, 2, true, 0.3, 4);
        let steps = 200;
        let inputs = random_values(steps * 6, 6);
        let inputs32: Vec<f32> = inputs.iter().map(|&v| v as f32).collect();
        let config = SpectrumConfig::new(8, steps);
        let stack64 = RecurrentStack::new(weights.clone(), lstm_state).unwrap();
        let stack32 = RecurrentStack::new(weights.cast::<f32>(), lstm_state).unwrap();
        let exact = lyapunov_spectrum(&stack64, &[&inputs], &config).unwrap();
        let single = lyapunov_spectrum(&stack32, &[&inputs32], &config).unwrap();
        for (a, b) in exact.statistics.mean.iter().zip(&single.statistics.mean) {
            assert!(
                (a - b).abs() < 1e-3 * a.abs().max(1.0),
                "{arch} {lstm_state:?}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let run = |threads: usize, lstm_state: LstmState, tangent: Tangent| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let weights = StackWeights::<f64>::random(Arch::Lstm, 5, 16, 2, true, 0.4, 9);
            let stack = RecurrentStack::new(weights, lstm_state).unwrap();
            let sequences: Vec<Vec<f64>> = (0..4).map(|b| random_values(50 * 5, b)).collect();
            let refs: Vec<&[f64]> = sequences.iter().map(Vec::as_slice).collect();
            let mut config = SpectrumConfig::new(12, 50);
            config.tangent = tangent;
            lyapunov_spectrum(&stack, &refs, &config).unwrap()
        })
    };
    for state in [LstmState::Full, LstmState::Hidden] {
        for tangent in [Tangent::Jacobian, Tangent::Transposed] {
            let one = run(1, state, tangent);
            let two = run(2, state, tangent);
            assert_eq!(one, two, "{state:?} {tangent:?}");
        }
    }
}

/// Single layers hand their dense Jacobian to the engine's fast path (full spectrum, QR every
/// step), which never forms Q; it must agree with the tangent-vector path.
#[test]
fn dense_fast_path_agrees_with_the_tangent_path() {
    let cases = [
        (Arch::Lstm, LstmState::Hidden),
        (Arch::RnnTanh, LstmState::Full),
        (Arch::Gru, LstmState::Full),
    ];
    for (arch, lstm_state) in cases {
        let weights = StackWeights::<f64>::random(arch, 5, 20, 1, true, 0.5, 21);
        let stack = RecurrentStack::new(weights, lstm_state).unwrap();
        let inputs = random_values(80 * 5, 3);
        for tangent in [Tangent::Jacobian, Tangent::Transposed] {
            let mut config = SpectrumConfig::new(20, 60);
            config.warmup = 20;
            config.tangent = tangent;
            let fast = lyapunov_spectrum(&stack, &[&inputs], &config).unwrap();
            let slow = lyapunov_spectrum(&TangentOnly(stack.clone()), &[&inputs], &config).unwrap();
            for (a, b) in fast.statistics.mean.iter().zip(&slow.statistics.mean) {
                assert!((a - b).abs() < 1e-11, "{arch} {tangent:?}: {a} vs {b}");
            }
        }
    }
}

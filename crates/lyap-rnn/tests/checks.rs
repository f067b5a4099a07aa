//! The built-in checks on recurrent stacks (docs/DESIGN.md section 2, "Built-in checks"): the
//! structured `ln|det J|` against an LU of the dense Jacobian, the sum rule to 1e-8 in `f64`
//! for every cell type and for 2-layer stacks, and the largest exponent by two nearby
//! trajectories against `lambda_1`.

mod common;

use common::{driven_workspace, random_values, random_weights, CONFIGS};
use lyap_core::checks::log_abs_det;
use lyap_core::{dense_jacobian, Tangent, TangentSystem};
use lyap_rnn::{
    compute_spectrum, Arch, CheckConfig, ComputeError, InputBatch, LstmState, RecurrentStack,
    SpectrumOptions, StackWeights,
};

/// Both checks on.
const BOTH: CheckConfig = CheckConfig {
    sum_rule: true,
    max_by_perturbation: true,
};

/// The spectrum report of `weights` driven by 3 random sequences of 20 + `steps` steps.
fn report(
    weights: &StackWeights<f64>,
    state: LstmState,
    steps: usize,
    checks: CheckConfig,
) -> Result<lyap_rnn::report::SpectrumReport, ComputeError> {
    let length = (20 + steps) * weights.input_size;
    let sequences: Vec<Vec<f64>> = (0..3).map(|b| random_values(length, 40 + b)).collect();
    let options = SpectrumOptions {
        warmup: 20,
        state: Some(state),
        checks,
        ..SpectrumOptions::default()
    };
    let batch = InputBatch::F64(sequences.iter().map(Vec::as_slice).collect());
    compute_spectrum(weights, batch, &options).map(|r| r.report)
}

#[test]
fn structured_log_det_matches_the_dense_jacobian() {
    for (arch, state) in CONFIGS {
        for layers in [1, 2] {
            let stack = RecurrentStack::new(random_weights(arch, layers, true, 3), state).unwrap();
            let d = stack.state_dim();
            for steps in [1, 7] {
                let mut ws = driven_workspace(&stack, steps, d, 11);
                let structured = stack.log_abs_det_jacobian(&mut ws).unwrap();
                let dense =
                    log_abs_det(dense_jacobian(&stack, &mut ws, Tangent::Jacobian).as_ref());
                assert!(
                    structured == dense || (structured - dense).abs() < 1e-10 * (1.0 + dense.abs()),
                    "{arch:?} {state:?} {layers} layers: {structured} against {dense}"
                );
            }
        }
    }
}

#[test]
fn sum_rule_holds_to_1e8_for_every_cell_and_two_layer_stacks() {
    for (arch, state) in CONFIGS {
        for layers in [1, 2] {
            let mut weights = random_weights(arch, layers, true, 5);
            if arch == Arch::RnnRelu {
                // positive pre-activations throughout (small recurrent and inter-layer weights,
                // large bias): no dead units, so every term is finite
                for (l, layer) in weights.layers.iter_mut().enumerate() {
                    layer.weight_hh = &layer.weight_hh * faer::Scale(0.02);
                    if l > 0 {
                        layer.weight_ih = &layer.weight_ih * faer::Scale(0.02);
                    }
                    layer.bias_ih.iter_mut().flatten().for_each(|b| *b = 5.0);
                }
            }
            let report = report(&weights, state, 200, CheckConfig::default()).unwrap();
            let rule = report.checks.unwrap().sum_rule.unwrap();
            assert!(
                rule.sum.is_finite(),
                "{arch:?} {state:?} {layers}: {rule:?}"
            );
            assert!(
                rule.difference.abs() < 1e-8,
                "{arch:?} {state:?} {layers} layers: {rule:?}"
            );
            assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        }
    }
}

#[test]
fn dead_relu_units_give_minus_infinity_on_both_sides_without_a_warning() {
    let weights = StackWeights::random(Arch::RnnRelu, 3, 8, 1, false, 0.3, 2);
    let report = report(&weights, LstmState::Full, 50, CheckConfig::default()).unwrap();
    let rule = report.checks.unwrap().sum_rule.unwrap();
    assert_eq!(rule.sum, f64::NEG_INFINITY);
    assert_eq!(rule.mean_log_abs_det, f64::NEG_INFINITY);
    assert_eq!(rule.difference, 0.0);
    assert!(!report.warnings.iter().any(|w| w.contains("sum rule")));
}

#[test]
fn no_checks_below_the_full_spectrum_or_when_switched_off() {
    let weights = random_weights(Arch::Gru, 1, true, 1);
    let off = CheckConfig {
        sum_rule: false,
        max_by_perturbation: false,
    };
    let report = report(&weights, LstmState::Full, 10, off).unwrap();
    assert!(report.checks.is_none());
    assert!(!report.to_json().contains("checks"));
}

#[test]
fn max_by_perturbation_agrees_with_lambda_1_on_a_chaotic_rnn() {
    // hidden 32 with weights uniform on [-0.8, 0.8] (spectral radius about 2.6): chaotic
    let weights = StackWeights::random(Arch::RnnTanh, 4, 32, 1, false, 0.8, 0);
    let checks = BOTH;
    let report = report(&weights, LstmState::Full, 2000, checks).unwrap();
    let lambda_1 = report.exponents.mean[0];
    assert!(lambda_1 > 0.1, "{lambda_1}");
    let max = report.checks.unwrap().max_by_perturbation.unwrap();
    assert_eq!(max.difference, max.estimate - lambda_1);
    // measured: 7e-4 (0.4 %); the two start from different directions, and the alignment
    // transient adds O(1) nats in total, O(1/T) per step
    assert!(max.difference.abs() < 2e-3, "{max:?} against {lambda_1}");
}

#[test]
fn max_by_perturbation_refuses_the_hidden_lstm_state() {
    let weights = random_weights(Arch::Lstm, 1, true, 1);
    let checks = BOTH;
    let error = report(&weights, LstmState::Hidden, 10, checks).unwrap_err();
    assert!(
        matches!(error, ComputeError::CheckMaxHiddenState),
        "{error}"
    );
    assert!(!error.to_string().contains('\n'));
    // the full state works, and so does a GRU
    let full = report(&weights, LstmState::Full, 50, checks).unwrap();
    assert!(full.checks.unwrap().max_by_perturbation.is_some());
}

#[test]
fn set_state_refuses_a_wrong_length() {
    let stack =
        RecurrentStack::new(random_weights(Arch::Gru, 2, true, 1), LstmState::Full).unwrap();
    let mut ws = stack.workspace(1);
    assert!(!TangentSystem::set_state(&stack, &mut ws, &[0.0; 3]));
    let state = random_values(stack.state_dim(), 9);
    assert!(TangentSystem::set_state(&stack, &mut ws, &state));
    assert_eq!(stack.state(&ws), state.as_slice());
}

//! The stacked tangent map (applied layer by layer) against finite differences of the whole
//! stacked step, for `J` and `J^T`, every cell, 1-3 layers, with and without bias.

mod common;

use common::*;
use faer::Mat;
use lyap_core::{dense_jacobian, Tangent, TangentSystem};
use lyap_rnn::RecurrentStack;

#[test]
fn stacked_jacobian_matches_finite_differences_of_the_stacked_step() {
    for (arch, lstm_state) in CONFIGS {
        for layers in 1..=3 {
            for bias in [false, true] {
                let label = format!("{arch} {lstm_state:?} layers={layers} bias={bias}");
                let weights = random_weights(arch, layers, bias, 7 + layers as u64);
                let stack = RecurrentStack::new(weights, lstm_state).unwrap();
                let dim = stack.state_dim();
                let base = driven_workspace(&stack, 6, dim, 11);
                let x = random_values(stack.input_dim(), 12);

                let numeric = central_differences(stack.state(&base), |s| {
                    let mut ws = base.clone();
                    stack.set_state(&mut ws, s);
                    stack.step(&mut ws, &x);
                    stack.state(&ws).to_vec()
                });
                let mut ws = base.clone();
                stack.step(&mut ws, &x);
                let forward = dense_jacobian(&stack, &mut ws, Tangent::Jacobian);
                let transposed = dense_jacobian(&stack, &mut ws, Tangent::Transposed);

                let error = relative_error(&forward, &numeric);
                assert!(error < 1e-6, "{label}: J relative error {error:e}");
                let error = relative_error(&transposed, &numeric.transpose().to_owned());
                assert!(error < 1e-6, "{label}: J^T relative error {error:e}");
            }
        }
    }
}

#[test]
fn fewer_vectors_than_the_workspace_holds_give_the_dense_product() {
    for (arch, lstm_state) in CONFIGS {
        let stack = RecurrentStack::new(random_weights(arch, 3, true, 5), lstm_state).unwrap();
        let dim = stack.state_dim();
        let mut ws = driven_workspace(&stack, 5, dim, 3);
        let k = dim / 2;
        let q = random_mat(dim, k, 9);
        for which in [Tangent::Jacobian, Tangent::Transposed] {
            let dense = dense_jacobian(&stack, &mut ws, which);
            let mut out = Mat::<f64>::zeros(dim, k);
            stack.apply_jacobian(&mut ws, q.as_ref(), out.as_mut(), which);
            let error = relative_error(&out, &(&dense * &q));
            assert!(error < 1e-13, "{arch} {lstm_state:?} {which:?}: {error:e}");
        }
    }
}

#[test]
fn state_layout_is_layers_then_h_then_c() {
    let stack = RecurrentStack::new(
        random_weights(lyap_rnn::Arch::Lstm, 2, true, 1),
        Default::default(),
    )
    .unwrap();
    assert_eq!(stack.state_dim(), 2 * 2 * HIDDEN_SIZE);
    let ws = driven_workspace(&stack, 4, 1, 2);
    let state = stack.state(&ws);
    let n = HIDDEN_SIZE;
    assert_eq!(&state[n..2 * n], stack.cell_state(&ws, 0));
    assert_eq!(&state[3 * n..4 * n], stack.cell_state(&ws, 1));
    assert!(state.iter().all(|v| *v != 0.0));
}

#[test]
fn invalid_weights_are_rejected() {
    let mut weights = random_weights(lyap_rnn::Arch::Gru, 2, true, 1);
    weights.layers[1].bias_hh = None;
    assert!(RecurrentStack::new(weights, Default::default()).is_err());
}

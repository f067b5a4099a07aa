//! The closed loop (a stack run on its own readout, docs/DESIGN.md section 2.2): its tangent
//! map against finite differences of the closed-loop step for every cell, 1-3 layers, with and
//! without biases, for `J` and `J^T`; the dense fast path against the tangent path; the loop's
//! step against the stack driven by the readout by hand; the refusals.

mod common;

use common::*;
use faer::Mat;
use lyap_core::{
    autonomous_inputs, dense_jacobian, lyapunov_spectrum, lyapunov_spectrum_from, SpectrumConfig,
    Tangent, TangentOnly, TangentSystem,
};
use lyap_rnn::{Arch, ClosedLoop, ClosedLoopError, LstmState, Readout, RecurrentStack};

/// A readout from hidden size `HIDDEN_SIZE` to `outputs` values.
fn readout(outputs: usize, bias: bool, seed: u64) -> Readout {
    Readout {
        name: "fc".into(),
        output_size: outputs,
        hidden_size: HIDDEN_SIZE,
        weight: random_values(outputs * HIDDEN_SIZE, seed),
        bias: bias.then(|| random_values(outputs, seed + 1)),
    }
}

/// Every configuration a closed loop accepts (an LSTM only with its full state).
fn closed_configs() -> impl Iterator<Item = (Arch, LstmState)> {
    CONFIGS
        .into_iter()
        .filter(|&(arch, state)| !(arch == Arch::Lstm && state == LstmState::Hidden))
}

/// A closed loop primed by a few random inputs (open loop), then run closed for a few steps:
/// a generic state.
fn primed(
    closed: &ClosedLoop<f64>,
    max_vectors: usize,
    seed: u64,
) -> lyap_rnn::ClosedLoopWorkspace<f64> {
    let stack = closed.stack();
    let driven = driven_workspace(stack, 6, 1, seed);
    let mut workspace = closed.workspace(max_vectors);
    assert!(closed.set_state(&mut workspace, stack.state(&driven)));
    for _ in 0..3 {
        closed.step(&mut workspace, &[]);
    }
    workspace
}

#[test]
fn closed_loop_jacobian_matches_finite_differences_of_the_closed_step() {
    for (arch, lstm_state) in closed_configs() {
        for layers in 1..=3 {
            for bias in [false, true] {
                let label = format!("{arch} {lstm_state:?} layers={layers} bias={bias}");
                let seed = 3 + layers as u64;
                let stack =
                    RecurrentStack::new(random_weights(arch, layers, bias, seed), lstm_state)
                        .unwrap();
                let closed = ClosedLoop::new(stack, &readout(INPUT_SIZE, bias, seed)).unwrap();
                let dim = closed.state_dim();
                let base = primed(&closed, dim, seed + 10);

                let numeric = central_differences(closed.state(&base), |s| {
                    let mut ws = base.clone();
                    assert!(closed.set_state(&mut ws, s));
                    closed.step(&mut ws, &[]);
                    closed.state(&ws).to_vec()
                });
                let mut ws = base.clone();
                closed.step(&mut ws, &[]);
                let forward = dense_jacobian(&closed, &mut ws, Tangent::Jacobian);
                let transposed = dense_jacobian(&closed, &mut ws, Tangent::Transposed);
                let error = relative_error(&forward, &numeric);
                assert!(error < 1e-6, "{label}: J relative error {error:e}");
                let error = relative_error(&transposed, &numeric.transpose().to_owned());
                assert!(error < 1e-6, "{label}: J^T relative error {error:e}");

                // The readout's path matters: the open-loop state Jacobian alone is far off.
                let stack = closed.stack();
                let mut open = driven_workspace(stack, 1, dim, 1);
                assert!(TangentSystem::set_state(
                    stack,
                    &mut open,
                    closed.state(&base)
                ));
                stack.step(&mut open, closed.last_input(&ws));
                let state_only = dense_jacobian(stack, &mut open, Tangent::Jacobian);
                assert!(
                    relative_error(&state_only, &numeric) > 1e-3,
                    "{label}: the input path through the readout changes nothing"
                );

                // Fewer vectors than the workspace holds.
                let q = random_mat(dim, dim / 2, 9);
                for which in [Tangent::Jacobian, Tangent::Transposed] {
                    let dense = dense_jacobian(&closed, &mut ws, which);
                    let mut out = Mat::<f64>::zeros(dim, q.ncols());
                    closed.apply_jacobian(&mut ws, q.as_ref(), out.as_mut(), which);
                    let error = relative_error(&out, &(&dense * &q));
                    assert!(error < 1e-13, "{label} {which:?}: {error:e}");
                }

                // The dense fast path (single layers with one dense block) is the same matrix.
                let mut dense = Mat::<f64>::zeros(dim, dim);
                for which in [Tangent::Jacobian, Tangent::Transposed] {
                    if closed.dense_jacobian_into(&mut ws, dense.as_mut(), which) {
                        let applied = dense_jacobian(&closed, &mut ws, which);
                        let error = relative_error(&dense, &applied);
                        assert!(error < 1e-13, "{label} dense {which:?}: {error:e}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_closed_step_feeds_the_readout_of_the_top_layer() {
    for (arch, lstm_state) in closed_configs() {
        let stack = RecurrentStack::new(random_weights(arch, 2, true, 21), lstm_state).unwrap();
        let fc = readout(INPUT_SIZE, true, 22);
        let closed = ClosedLoop::new(stack.clone(), &fc).unwrap();
        let mut ws = primed(&closed, 1, 23);
        let mut open = driven_workspace(&stack, 1, 1, 1);
        assert!(TangentSystem::set_state(
            &stack,
            &mut open,
            closed.state(&ws)
        ));
        for step in 0..5 {
            // x = W_fc h^2 + b_fc, h^2 the top layer's h: rows 2n' .. 2n' + n of the state
            let top = (stack.state_dim() / 2)..(stack.state_dim() / 2 + HIDDEN_SIZE);
            let h = &stack.state(&open)[top];
            let x: Vec<f64> = (0..INPUT_SIZE)
                .map(|i| {
                    let row = &fc.weight[i * HIDDEN_SIZE..(i + 1) * HIDDEN_SIZE];
                    let dot: f64 = row.iter().zip(h).map(|(w, h)| w * h).sum();
                    dot + fc.bias.as_ref().unwrap()[i]
                })
                .collect();
            stack.step(&mut open, &x);
            closed.step(&mut ws, &[]);
            let (a, b) = (stack.state(&open), closed.state(&ws));
            let difference = a
                .iter()
                .zip(b)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(difference < 1e-14, "{arch} step {step}: {difference:e}");
            for (a, b) in closed.last_input(&ws).iter().zip(&x) {
                assert!((a - b).abs() < 1e-14);
            }
        }
    }
}

#[test]
fn dense_and_tangent_paths_give_the_same_closed_loop_spectrum() {
    let stack =
        RecurrentStack::new(random_weights(Arch::Gru, 1, true, 31), LstmState::Full).unwrap();
    let closed = ClosedLoop::new(stack, &readout(INPUT_SIZE, true, 32)).unwrap();
    let mut config = SpectrumConfig::new(HIDDEN_SIZE, 300);
    config.warmup = 50;
    let dense = lyapunov_spectrum(&closed, &autonomous_inputs(1), &config).unwrap();
    let tangent =
        lyapunov_spectrum(&TangentOnly(closed.clone()), &autonomous_inputs(1), &config).unwrap();
    for (a, b) in dense.statistics.mean.iter().zip(&tangent.statistics.mean) {
        assert!((a - b).abs() < 1e-10, "{a} vs {b}");
    }
    // The sum rule holds for the closed loop too (ln|det J| by LU of its own Jacobian).
    let sum: f64 = dense.statistics.mean.iter().sum();
    let log_det = dense.per_sequence[0].checks.mean_log_abs_det.unwrap();
    assert!((sum - log_det).abs() < 1e-9, "{sum} vs {log_det}");
    // Starting from a given state works like any system.
    let start = vec![0.1; HIDDEN_SIZE];
    let from = lyapunov_spectrum_from(&closed, &[&start], &autonomous_inputs(1), &config).unwrap();
    assert_eq!(from.statistics.mean.len(), HIDDEN_SIZE);
}

#[test]
fn readouts_that_cannot_close_the_loop_are_refused() {
    let stack =
        RecurrentStack::new(random_weights(Arch::Lstm, 1, true, 41), LstmState::Full).unwrap();
    let wrong_output = ClosedLoop::new(stack.clone(), &readout(INPUT_SIZE + 2, true, 1));
    assert!(matches!(
        wrong_output,
        Err(ClosedLoopError::OutputSize {
            output: 5,
            input: 3,
            ..
        })
    ));
    let mut wrong_hidden = readout(INPUT_SIZE, false, 1);
    wrong_hidden.hidden_size = HIDDEN_SIZE + 1;
    wrong_hidden.weight = random_values(INPUT_SIZE * (HIDDEN_SIZE + 1), 2);
    assert!(matches!(
        ClosedLoop::new(stack.clone(), &wrong_hidden),
        Err(ClosedLoopError::HiddenSize {
            found: 6,
            hidden_size: 5,
            ..
        })
    ));
    let mut short = readout(INPUT_SIZE, true, 1);
    short.weight.pop();
    assert!(matches!(
        ClosedLoop::new(stack.clone(), &short),
        Err(ClosedLoopError::Values { what: "weight", .. })
    ));
    let mut infinite = readout(INPUT_SIZE, true, 1);
    infinite.bias.as_mut().unwrap()[1] = f64::INFINITY;
    assert!(matches!(
        ClosedLoop::new(stack.clone(), &infinite),
        Err(ClosedLoopError::NonFinite { .. })
    ));
    let hidden =
        RecurrentStack::new(random_weights(Arch::Lstm, 1, true, 41), LstmState::Hidden).unwrap();
    assert_eq!(
        ClosedLoop::new(hidden, &readout(INPUT_SIZE, true, 1)).unwrap_err(),
        ClosedLoopError::HiddenState
    );
    let message = wrong_output.unwrap_err().to_string();
    assert!(
        !message.contains('\n') && message.contains("predicts 5 values"),
        "{message}"
    );
}

//! Each cell's state Jacobian `R` and input Jacobian `K` (docs/DESIGN.md section 3) against central
//! finite differences of its forward step, for every layer of 1-, 2- and 3-layer stacks (input
//! sizes `m` and `n`), with and without bias, and their transposes.

mod common;

use common::*;
use faer::Mat;
use lyap_rnn::cells::{LayerJacobian, LayerStep};
use lyap_rnn::{Arch, LayerWeights, LstmState};

/// One layer driven to a generic state, and the input of the step under test.
struct Case {
    arch: Arch,
    state: LstmState,
    weights: LayerWeights<f64>,
    base: LayerStep<f64>,
    x: Vec<f64>,
}

impl Case {
    fn state_dim(&self) -> usize {
        if self.arch.has_cell_state() && self.state == LstmState::Full {
            2 * HIDDEN_SIZE
        } else {
            HIDDEN_SIZE
        }
    }

    /// The layer's state `[h; c]` (or `h`) after one step from `layer` on `x`.
    fn step_from(&self, mut layer: LayerStep<f64>, x: &[f64]) -> Vec<f64> {
        layer.advance(self.arch, &self.weights, x);
        let mut out = layer.h.clone();
        if self.state_dim() > HIDDEN_SIZE {
            out.extend_from_slice(&layer.c);
        }
        out
    }

    /// Same, from the base state with `h` (and `c` if part of the state) replaced by `s`.
    fn step_from_state(&self, s: &[f64]) -> Vec<f64> {
        let mut layer = self.base.clone();
        layer.h.copy_from_slice(&s[..HIDDEN_SIZE]);
        if s.len() > HIDDEN_SIZE {
            layer.c.copy_from_slice(&s[HIDDEN_SIZE..]);
        }
        self.step_from(layer, &self.x)
    }

    fn analytic(&self) -> LayerJacobian<f64> {
        let mut layer = self.base.clone();
        layer.advance(self.arch, &self.weights, &self.x);
        let mut jacobian = LayerJacobian::new(HIDDEN_SIZE, self.state_dim(), self.x.len());
        layer.form_jacobian(self.arch, &self.weights, self.state, true, &mut jacobian);
        jacobian
    }
}

fn cases() -> Vec<(String, Case)> {
    let mut cases = Vec::new();
    for (arch, state) in CONFIGS {
        for layers in 1..=3 {
            for bias in [false, true] {
                let weights = random_weights(arch, layers, bias, 100 + layers as u64);
                for (l, layer_weights) in weights.layers.iter().enumerate() {
                    let m = weights.layer_input_size(l);
                    let mut base = LayerStep::new(arch, HIDDEN_SIZE);
                    let inputs = random_values(5 * m, 30 + l as u64);
                    for x in inputs.chunks_exact(m) {
                        base.advance(arch, layer_weights, x);
                    }
                    let case = Case {
                        arch,
                        state,
                        weights: layer_weights.clone(),
                        base,
                        x: random_values(m, 40 + l as u64),
                    };
                    let label = format!("{arch} {state:?} layers={layers} layer={l} bias={bias}");
                    cases.push((label, case));
                }
            }
        }
    }
    cases
}

#[test]
fn state_jacobian_matches_finite_differences() {
    for (label, case) in cases() {
        let mut s = case.base.h.clone();
        if case.state_dim() > HIDDEN_SIZE {
            s.extend_from_slice(&case.base.c);
        }
        let numeric = central_differences(&s, |s| case.step_from_state(s));
        let jacobian = case.analytic();
        let d = case.state_dim();
        let identity = Mat::<f64>::identity(d, d);
        let mut dense = Mat::<f64>::zeros(d, d);
        jacobian.apply_state(identity.as_ref(), dense.as_mut());
        let error = relative_error(&dense, &numeric);
        assert!(error < 1e-6, "{label}: R relative error {error:e}");
        jacobian.apply_state_transposed(identity.as_ref(), dense.as_mut());
        let error = relative_error(&dense, &numeric.transpose().to_owned());
        assert!(error < 1e-6, "{label}: R^T relative error {error:e}");
    }
}

#[test]
fn input_jacobian_matches_finite_differences() {
    for (label, case) in cases() {
        let numeric = central_differences(&case.x, |x| case.step_from(case.base.clone(), x));
        let jacobian = case.analytic();
        let error = relative_error(&jacobian.input_block, &numeric);
        assert!(error < 1e-6, "{label}: K relative error {error:e}");
        let (d, m) = (case.state_dim(), case.x.len());
        let identity = Mat::<f64>::identity(d, d);
        let mut transposed = Mat::<f64>::zeros(m, d);
        jacobian.apply_input_transposed(
            identity.as_ref(),
            transposed.as_mut(),
            faer::Accum::Replace,
        );
        let error = relative_error(&transposed, &numeric.transpose().to_owned());
        assert!(error < 1e-6, "{label}: K^T relative error {error:e}");
    }
}

#[test]
fn hidden_lstm_state_block_is_the_top_left_of_the_full_one() {
    let weights = random_weights(Arch::Lstm, 1, true, 3);
    let arch = Arch::Lstm;
    let mut layer = LayerStep::new(arch, HIDDEN_SIZE);
    for x in random_values(4 * INPUT_SIZE, 4).chunks_exact(INPUT_SIZE) {
        layer.advance(arch, &weights.layers[0], x);
    }
    let n = HIDDEN_SIZE;
    let mut full = LayerJacobian::new(n, 2 * n, INPUT_SIZE);
    let mut hidden = LayerJacobian::new(n, n, INPUT_SIZE);
    layer.form_jacobian(arch, &weights.layers[0], LstmState::Full, true, &mut full);
    layer.form_jacobian(
        arch,
        &weights.layers[0],
        LstmState::Hidden,
        true,
        &mut hidden,
    );
    assert_eq!(full.state_block.subrows(0, n), hidden.state_block.as_ref());
    assert_eq!(full.input_block.subrows(0, n), hidden.input_block.as_ref());
}

//! Backpropagation through time (docs/DESIGN.md section 5) against central finite differences of the
//! scalar loss `L = sum(outputs * R)` for a fixed random `R`: every cell, 1 and 2 layers, with
//! and without bias, with and without inter-layer dropout masks; and the forward pass against
//! the spectrum's single-sequence step.

mod common;

use common::*;
use faer::Mat;
use lyap_core::TangentSystem;
use lyap_rnn::train::{backward_batch, forward_batch, ForwardCache};
use lyap_rnn::{Arch, LstmState, RecurrentStack, StackWeights};

const BATCH: usize = 3;
const SEQ_LEN: usize = 5;

fn masks(layers: usize, seed: u64) -> Vec<Vec<f64>> {
    (0..layers - 1)
        .map(|l| {
            random_values(SEQ_LEN * BATCH * HIDDEN_SIZE, seed + l as u64)
                .iter()
                .map(|v| if *v > 0.0 { 2.0 } else { 0.0 })
                .collect()
        })
        .collect()
}

fn loss(weights: &StackWeights<f64>, inputs: &[f64], masks: Option<&[Vec<f64>]>, r: &[f64]) -> f64 {
    let mut cache = ForwardCache::new();
    let outputs = forward_batch(weights, inputs, BATCH, SEQ_LEN, masks, &mut cache);
    outputs.iter().zip(r).map(|(o, r)| o * r).sum()
}

/// The smallest `|W x_t + U h_(t-1) + b|` over all units, steps, samples and layers of a
/// vanilla RNN (recomputed here from each layer's outputs).
fn min_abs_preactivation(
    weights: &StackWeights<f64>,
    inputs: &[f64],
    masks: Option<&[Vec<f64>]>,
) -> f64 {
    let (n, columns) = (HIDDEN_SIZE, SEQ_LEN * BATCH);
    let mut layer_inputs = inputs.to_vec();
    let mut smallest = f64::INFINITY;
    for (l, layer) in weights.layers.iter().enumerate() {
        let m = weights.layer_input_size(l);
        let single = StackWeights {
            layers: vec![layer.clone()],
            input_size: m,
            ..weights.clone()
        };
        let outputs = forward_batch(
            &single,
            &layer_inputs,
            BATCH,
            SEQ_LEN,
            None,
            &mut ForwardCache::new(),
        );
        let x = Mat::from_fn(m, columns, |r, c| layer_inputs[c * m + r]);
        let h_prev = Mat::from_fn(n, columns, |r, c| {
            if c < BATCH {
                0.0
            } else {
                outputs[(c - BATCH) * n + r]
            }
        });
        let mut preact = &layer.weight_ih * &x + &layer.weight_hh * &h_prev;
        if let (Some(bi), Some(bh)) = (&layer.bias_ih, &layer.bias_hh) {
            preact += Mat::from_fn(n, columns, |r, _| bi[r] + bh[r]);
        }
        for c in 0..columns {
            for r in 0..n {
                smallest = smallest.min(preact[(r, c)].abs());
            }
        }
        layer_inputs = match masks.and_then(|masks| masks.get(l)) {
            Some(mask) => outputs.iter().zip(mask).map(|(h, m)| h * m).collect(),
            None => outputs,
        };
    }
    smallest
}

/// Adds `delta` to the `index`-th parameter in `for_each_param_mut` order.
fn nudge(weights: &mut StackWeights<f64>, index: usize, delta: f64) {
    let mut offset = 0;
    weights.for_each_param_mut(|chunk| {
        if (offset..offset + chunk.len()).contains(&index) {
            chunk[index - offset] += delta;
        }
        offset += chunk.len();
    });
}

fn flatten(weights: &StackWeights<f64>) -> Vec<f64> {
    let mut flat = Vec::new();
    weights.for_each_param(|chunk| flat.extend_from_slice(chunk));
    flat
}

#[test]
fn gradients_match_finite_differences() {
    for (arch, lstm_state) in CONFIGS {
        if lstm_state == LstmState::Hidden {
            continue; // training has no state choice
        }
        for layers in [1, 2] {
            for bias in [false, true] {
                for masked in [false, true] {
                    if masked && layers == 1 {
                        continue;
                    }
                    let label = format!("{arch} layers={layers} bias={bias} masked={masked}");
                    let inputs = random_values(SEQ_LEN * BATCH * INPUT_SIZE, 1);
                    let r = random_values(SEQ_LEN * BATCH * HIDDEN_SIZE, 2);
                    let masks = masks(layers, 3);
                    let masks = masked.then_some(masks.as_slice());
                    // ReLU: finite differences are only valid away from its kink at 0
                    let weights = (50..)
                        .map(|seed| random_weights(arch, layers, bias, seed))
                        .find(|w| {
                            arch != Arch::RnnRelu || min_abs_preactivation(w, &inputs, masks) > 1e-3
                        })
                        .unwrap();

                    let mut cache = ForwardCache::new();
                    forward_batch(&weights, &inputs, BATCH, SEQ_LEN, masks, &mut cache);
                    let mut grads = weights.zeros_like();
                    backward_batch(&weights, &mut cache, &r, &mut grads);
                    let analytic = flatten(&grads);

                    let count = weights.num_params();
                    assert_eq!(analytic.len(), count);
                    let mut numeric = Vec::with_capacity(count);
                    for index in 0..count {
                        let mut plus = weights.clone();
                        nudge(&mut plus, index, FD_STEP);
                        let mut minus = weights.clone();
                        nudge(&mut minus, index, -FD_STEP);
                        let difference =
                            loss(&plus, &inputs, masks, &r) - loss(&minus, &inputs, masks, &r);
                        numeric.push(difference / (2.0 * FD_STEP));
                    }
                    let scale = numeric.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                    let error = analytic
                        .iter()
                        .zip(&numeric)
                        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
                        / scale;
                    assert!(scale > 0.0, "{label}: zero gradient");
                    assert!(error < 1e-6, "{label}: relative error {error:e}");
                }
            }
        }
    }
}

#[test]
fn backward_accumulates_into_grads() {
    let weights = random_weights(lyap_rnn::Arch::Lstm, 2, true, 4);
    let inputs = random_values(SEQ_LEN * BATCH * INPUT_SIZE, 1);
    let r = random_values(SEQ_LEN * BATCH * HIDDEN_SIZE, 2);
    let mut cache = ForwardCache::new();
    forward_batch(&weights, &inputs, BATCH, SEQ_LEN, None, &mut cache);
    let mut once = weights.zeros_like();
    backward_batch(&weights, &mut cache, &r, &mut once);
    let mut twice = weights.zeros_like();
    backward_batch(&weights, &mut cache, &r, &mut twice);
    backward_batch(&weights, &mut cache, &r, &mut twice);
    for (a, b) in flatten(&once).iter().zip(flatten(&twice)) {
        assert!((2.0 * a - b).abs() <= 1e-12 * b.abs().max(1.0));
    }
}

#[test]
fn batched_forward_matches_the_single_sequence_step() {
    for (arch, _) in CONFIGS {
        let weights = random_weights(arch, 2, true, 6);
        let inputs = random_values(SEQ_LEN * BATCH * INPUT_SIZE, 7);
        let mut cache = ForwardCache::new();
        let outputs = forward_batch(&weights, &inputs, BATCH, SEQ_LEN, None, &mut cache);
        let stack = RecurrentStack::new(weights, LstmState::Hidden).unwrap();
        for b in 0..BATCH {
            let mut ws = stack.workspace(1);
            for t in 0..SEQ_LEN {
                let start = (t * BATCH + b) * INPUT_SIZE;
                stack.step(&mut ws, &inputs[start..start + INPUT_SIZE]);
                let top = &stack.state(&ws)[HIDDEN_SIZE..];
                let start = (t * BATCH + b) * HIDDEN_SIZE;
                let batched = &outputs[start..start + HIDDEN_SIZE];
                for (x, y) in top.iter().zip(batched) {
                    assert!((x - y).abs() < 1e-13, "{arch} t={t} b={b}: {x} vs {y}");
                }
            }
        }
    }
}

/// One-step sequences: `h_0 = 0`, so `dL/dU` is exactly zero (the forward pass skips `U h_0`
/// and the backward pass the first step's columns of `dU = dA H_prev^T`), while `dL/dW` is not.
#[test]
fn one_step_sequences_have_no_recurrent_gradient() {
    for (arch, lstm_state) in CONFIGS {
        if lstm_state == LstmState::Hidden {
            continue;
        }
        let weights = random_weights(arch, 1, true, 6);
        let inputs = random_values(BATCH * INPUT_SIZE, 1);
        let r = random_values(BATCH * HIDDEN_SIZE, 2);
        let mut cache = ForwardCache::new();
        forward_batch(&weights, &inputs, BATCH, 1, None, &mut cache);
        let mut grads = weights.zeros_like();
        grads.layers[0].weight_hh.fill(1.0);
        backward_batch(&weights, &mut cache, &r, &mut grads);
        let layer = &grads.layers[0];
        let d_recurrent = &layer.weight_hh;
        let untouched = (0..d_recurrent.ncols())
            .all(|j| (0..d_recurrent.nrows()).all(|i| d_recurrent[(i, j)] == 1.0));
        assert!(untouched, "{arch}: dU accumulated a nonzero term");
        assert!(layer.weight_ih.norm_max() > 0.0, "{arch}: zero dW");
    }
}

//! Training results do not depend on the number of threads, and token inputs equal their
//! dense one-hot vectors.

use super::*;
use crate::Arch;

const BATCH: usize = 7;
const SEQ_LEN: usize = 6;
const VOCABULARY: usize = 5;
const HIDDEN: usize = 8;

fn tokens() -> Vec<u32> {
    (0..BATCH * SEQ_LEN)
        .map(|i| ((i * 7 + i / 3) % VOCABULARY) as u32)
        .collect()
}

fn one_hot(tokens: &[u32]) -> Vec<f32> {
    let mut dense = vec![0.0; tokens.len() * VOCABULARY];
    for (i, &token) in tokens.iter().enumerate() {
        dense[i * VOCABULARY + token as usize] = 1.0;
    }
    dense
}

/// Outputs and flattened gradient of `L = sum(outputs * R)` for a fixed `R`.
fn outputs_and_gradient(
    weights: &StackWeights<f32>,
    inputs: Inputs<'_, f32>,
    masks: &[Vec<f32>],
) -> (Vec<f32>, Vec<f32>) {
    let mut cache = ForwardCache::new();
    let outputs = forward_to_vec(weights, inputs, BATCH, SEQ_LEN, Some(masks), &mut cache);
    let r: Vec<f32> = (0..outputs.len())
        .map(|i| ((i % 13) as f32 - 6.0) * 0.1)
        .collect();
    let mut grads = weights.zeros_like();
    backward_batch(weights, &mut cache, &r, &mut grads);
    let mut flat = Vec::new();
    grads.for_each_param(|chunk| flat.extend_from_slice(chunk));
    (outputs, flat)
}

fn in_pool<R: Send>(threads: usize, run: impl FnOnce() -> R + Send) -> R {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    pool.install(run)
}

#[test]
fn gradients_are_bit_identical_for_one_and_two_threads() {
    for arch in [Arch::RnnTanh, Arch::Lstm, Arch::Gru] {
        let weights = StackWeights::<f32>::random(arch, VOCABULARY, HIDDEN, 2, true, 0.5, 3);
        let masks: Vec<Vec<f32>> = vec![(0..BATCH * SEQ_LEN * HIDDEN)
            .map(|i| if i % 5 == 0 { 0.0 } else { 1.25 })
            .collect()];
        let (tokens, dense) = (tokens(), one_hot(&tokens()));
        for inputs in [Inputs::Tokens(&tokens), Inputs::Dense(&dense)] {
            let one = in_pool(1, || outputs_and_gradient(&weights, inputs, &masks));
            let two = in_pool(2, || outputs_and_gradient(&weights, inputs, &masks));
            assert_eq!(one, two, "{arch} {inputs:?}");
        }
    }
}

#[test]
fn tokens_equal_their_one_hot_vectors() {
    for arch in [Arch::RnnRelu, Arch::Lstm, Arch::Gru] {
        let weights = StackWeights::<f32>::random(arch, VOCABULARY, HIDDEN, 2, true, 0.5, 4);
        let masks = vec![vec![1.0; BATCH * SEQ_LEN * HIDDEN]];
        let tokens = tokens();
        let dense = one_hot(&tokens);
        let (outputs, grads) = outputs_and_gradient(&weights, Inputs::Tokens(&tokens), &masks);
        let (dense_outputs, dense_grads) =
            outputs_and_gradient(&weights, Inputs::Dense(&dense), &masks);
        assert_eq!(outputs, dense_outputs, "{arch}: gathered columns are exact");
        for (a, b) in grads.iter().zip(&dense_grads) {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{arch}: {a} vs {b}"
            );
        }
    }
}

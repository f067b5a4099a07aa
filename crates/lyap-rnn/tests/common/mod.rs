//! Shared helpers of the lyap-rnn integration tests.
#![allow(dead_code)]

use faer::Mat;
use lyap_core::TangentSystem;
use lyap_rnn::{Arch, LstmState, RecurrentStack, StackWeights, StackWorkspace};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Every (architecture, LSTM state) combination: the LSTM twice, the others once.
pub const CONFIGS: [(Arch, LstmState); 5] = [
    (Arch::RnnTanh, LstmState::Full),
    (Arch::RnnRelu, LstmState::Full),
    (Arch::Lstm, LstmState::Full),
    (Arch::Lstm, LstmState::Hidden),
    (Arch::Gru, LstmState::Full),
];

pub const INPUT_SIZE: usize = 3;
pub const HIDDEN_SIZE: usize = 5;

/// Uniform values on `[-1, 1]`.
pub fn random_values(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0..=1.0)).collect()
}

pub fn random_mat(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
    let values = random_values(rows * cols, seed);
    Mat::from_fn(rows, cols, |r, c| values[r * cols + c])
}

pub fn random_weights(arch: Arch, layers: usize, bias: bool, seed: u64) -> StackWeights<f64> {
    StackWeights::random(arch, INPUT_SIZE, HIDDEN_SIZE, layers, bias, 0.9, seed)
}

/// A workspace driven by `steps` random inputs from the zero state (a generic, nonzero state).
pub fn driven_workspace(
    stack: &RecurrentStack<f64>,
    steps: usize,
    max_vectors: usize,
    seed: u64,
) -> StackWorkspace<f64> {
    let mut workspace = stack.workspace(max_vectors);
    let m = stack.input_dim();
    let inputs = random_values(steps * m, seed);
    for x in inputs.chunks_exact(m) {
        stack.step(&mut workspace, x);
    }
    workspace
}

/// `max |a - b| / max |b|`.
pub fn relative_error(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    assert_eq!(
        (a.nrows(), a.ncols()),
        (b.nrows(), b.ncols()),
        "shapes differ"
    );
    let mut difference = 0.0f64;
    let mut scale = 0.0f64;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            difference = difference.max((a[(i, j)] - b[(i, j)]).abs());
            scale = scale.max(b[(i, j)].abs());
        }
    }
    difference / scale.max(1e-300)
}

/// Step size of the central differences: error `O(h^2)` plus rounding `O(1e-16 / h)`.
pub const FD_STEP: f64 = 1e-5;

/// Central differences of `f: R^d -> R^r` at `x`, an `r x d` matrix.
pub fn central_differences(x: &[f64], mut f: impl FnMut(&[f64]) -> Vec<f64>) -> Mat<f64> {
    let mut columns = Vec::with_capacity(x.len());
    let mut point = x.to_vec();
    for j in 0..x.len() {
        point[j] = x[j] + FD_STEP;
        let plus = f(&point);
        point[j] = x[j] - FD_STEP;
        let minus = f(&point);
        point[j] = x[j];
        columns.push(
            plus.iter()
                .zip(&minus)
                .map(|(p, m)| (p - m) / (2.0 * FD_STEP))
                .collect::<Vec<_>>(),
        );
    }
    let rows = columns.first().map_or(0, Vec::len);
    Mat::from_fn(rows, x.len(), |r, c| columns[c][r])
}

//! Times the tangent map of a 1-layer LSTM (hidden 512, 82 one-hot inputs): forming `J` plus
//! `J Q` per step, and the whole spectrum (with QR), in f32 and f64, both LSTM states.
//!
//! `cargo run --release -p lyap-rnn --example tangent_bench`

use faer::Mat;
use lyap_core::{lyapunov_spectrum, Real, SpectrumConfig, Tangent, TangentSystem};
use lyap_rnn::{Arch, LstmState, RecurrentStack, StackWeights};
use std::time::Instant;

fn one_hot<T: Real>(steps: usize, size: usize, seed: usize) -> Vec<T> {
    let mut inputs = vec![T::zero(); steps * size];
    for t in 0..steps {
        inputs[t * size + (t * 31 + seed * 7) % size] = T::of_f64(1.0);
    }
    inputs
}

fn bench<T: Real>() {
    let (n, m, steps) = (512, 82, 20);
    let weights = StackWeights::<T>::random(Arch::Lstm, m, n, 1, true, 0.08, 1);
    for state in [LstmState::Hidden, LstmState::Full] {
        let stack = RecurrentStack::new(weights.clone(), state).expect("valid weights");
        let k = stack.state_dim();
        let inputs = one_hot::<T>(steps, m, 0);
        let mut ws = stack.workspace(k);
        let q = Mat::<T>::identity(k, k);
        let mut out = Mat::<T>::zeros(k, k);
        let start = Instant::now();
        for x in inputs.chunks_exact(m) {
            stack.step(&mut ws, x);
            stack.apply_jacobian(&mut ws, q.as_ref(), out.as_mut(), Tangent::Jacobian);
        }
        let tangent_ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
        let start = Instant::now();
        for x in inputs.chunks_exact(m) {
            stack.step(&mut ws, x);
        }
        let step_ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
        // forming J dominates a product with a single vector
        let start = Instant::now();
        for x in inputs.chunks_exact(m) {
            stack.step(&mut ws, x);
            let (q1, out1) = (q.as_ref().subcols(0, 1), out.as_mut().subcols_mut(0, 1));
            stack.apply_jacobian(&mut ws, q1, out1, Tangent::Jacobian);
        }
        let form_ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64 - step_ms;
        let config = SpectrumConfig::new(k, steps);
        let start = Instant::now();
        let sequences = [one_hot::<T>(steps, m, 1), one_hot::<T>(steps, m, 2)];
        let refs: Vec<&[T]> = sequences.iter().map(Vec::as_slice).collect();
        lyapunov_spectrum(&stack, &refs, &config).expect("spectrum");
        let spectrum_ms = start.elapsed().as_secs_f64() * 1e3 / (2 * steps) as f64;
        println!(
            "{} {:6} k={k:4}: step {step_ms:.3} ms, form J {form_ms:.3} ms, step + form J + J Q {tangent_ms:.2} ms, \
             spectrum (2 sequences on the pool, incl. QR) {spectrum_ms:.2} ms per sequence-step",
            T::NAME,
            state.name()
        );
    }
}

fn main() {
    bench::<f32>();
    bench::<f64>();
}

//! Times `forward_batch` + `backward_batch` of a 1-layer LSTM 512 on a batch of 100 sequences
//! of 100 one-hot characters (82 symbols), the paper's CharRNN step, in f32 and f64.
//!
//! `cargo run --release -p lyap-rnn --example train_bench`

use lyap_core::Real;
use lyap_rnn::train::{backward_batch, forward_batch, ForwardCache};
use lyap_rnn::{Arch, StackWeights};
use std::time::Instant;

fn bench<T: Real>() {
    let (n, m, batch, seq_len, repeats) = (512, 82, 100, 100, 5);
    let weights = StackWeights::<T>::random(Arch::Lstm, m, n, 1, true, 0.05, 1);
    let mut inputs = vec![T::zero(); seq_len * batch * m];
    for (i, x) in inputs.chunks_exact_mut(m).enumerate() {
        x[(i * 37) % m] = T::one();
    }
    let d_outputs = vec![T::of_f64(1e-3); seq_len * batch * n];
    let mut cache = ForwardCache::new();
    let mut grads = weights.zeros_like();
    let (mut forward_s, mut backward_s) = (0.0, 0.0);
    for repeat in 0..=repeats {
        let start = Instant::now();
        forward_batch(&weights, &inputs, batch, seq_len, None, &mut cache);
        let forward = start.elapsed().as_secs_f64();
        let start = Instant::now();
        backward_batch(&weights, &mut cache, &d_outputs, &mut grads);
        let backward = start.elapsed().as_secs_f64();
        if repeat > 0 {
            forward_s += forward / repeats as f64;
            backward_s += backward / repeats as f64;
        }
    }
    println!(
        "{}: forward {:.1} ms, backward {:.1} ms, total {:.1} ms (threads {})",
        T::NAME,
        forward_s * 1e3,
        backward_s * 1e3,
        (forward_s + backward_s) * 1e3,
        rayon::current_num_threads()
    );
}

fn main() {
    bench::<f32>();
    bench::<f64>();
}

use lyap_rnn::{Arch, StackWeights};
use lyap_rnn::train::{forward_batch, backward_batch, ForwardCache};
use std::time::Instant;
fn main() {
    let (v, n, b, t) = (82, 128, 100, 100);
    let w = StackWeights::<f32>::random(Arch::Lstm, v, n, 1, false, 0.088, 0);
    let mut inputs = vec![0f32; t * b * v];
    for r in 0..t * b { inputs[r * v + (r * 7) % v] = 1.0; }
    let mut cache = ForwardCache::new();
    for _ in 0..3 {
        let s = Instant::now();
        let out = forward_batch(&w, &inputs, b, t, None, &mut cache);
        let f = s.elapsed();
        let mut g = w.zeros_like();
        let s = Instant::now();
        backward_batch(&w, &cache, &out, &mut g);
        println!("forward {:?} backward {:?}", f, s.elapsed());
    }
}

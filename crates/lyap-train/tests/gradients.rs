//! The full model's gradient (embedding -> stack -> dropout with fixed masks -> readout ->
//! loss) against central finite differences of the loss, in f64, for every cell type, 1 and
//! 2 layers, with and without bias, cross-entropy and MSE.

use lyap_rnn::Arch;
use lyap_train::data::{Batch, BatchInputs, Targets};
use lyap_train::{DropoutMasks, Model, ModelShape, ModelWorkspace};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BATCH: usize = 2;
const SEQ_LEN: usize = 5;
const WIDTH: usize = 3;
const HIDDEN: usize = 4;

fn batch(classes: bool, rng: &mut ChaCha8Rng) -> Batch<f64> {
    let rows = BATCH * SEQ_LEN;
    let (inputs, targets) = if classes {
        let tokens = (0..rows)
            .map(|_| rng.random_range(0..WIDTH as u32))
            .collect();
        let inputs = BatchInputs::Tokens(tokens);
        let t = (0..rows)
            .map(|_| rng.random_range(0..WIDTH as u32))
            .collect();
        (inputs, Targets::Classes(t))
    } else {
        let draw = |rng: &mut ChaCha8Rng| -> Vec<f64> {
            (0..rows * WIDTH)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect()
        };
        let inputs = BatchInputs::Dense(draw(rng));
        (inputs, Targets::Values(draw(rng)))
    };
    Batch {
        batch: BATCH,
        seq_len: SEQ_LEN,
        inputs,
        targets,
    }
}

/// Fixed masks with a few dropped units, pre-scaled by 1 / (1 - p).
fn masks(layers: usize, rng: &mut ChaCha8Rng) -> DropoutMasks<f64> {
    DropoutMasks::sample(0.25, layers, SEQ_LEN * BATCH * HIDDEN, rng)
}

fn check(arch: Arch, layers: usize, bias: bool, classes: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(layers as u64 * 10 + bias as u64);
    let shape = ModelShape {
        arch,
        input_size: WIDTH,
        hidden: HIDDEN,
        layers,
        bias,
        output_size: WIDTH,
    };
    let mut model = Model::<f64>::random(&shape, 0.6, 3);
    let batch = batch(classes, &mut rng);
    let masks = masks(layers, &mut rng);
    let mut ws = ModelWorkspace::default();
    let mut grads = model.zeros_like();
    model.loss_and_gradient(&batch, &masks, &mut grads, &mut ws);
    let analytic = grads.flatten();

    let theta = model.flatten();
    let mut scratch = model.zeros_like();
    let h = 1e-5;
    let mut numeric = vec![0.0; theta.len()];
    for i in 0..theta.len() {
        let mut loss_at = |x: f64| {
            let mut p = theta.clone();
            p[i] = x;
            model.assign_flat(&p);
            model.loss_and_gradient(&batch, &masks, &mut scratch, &mut ws)
        };
        numeric[i] = (loss_at(theta[i] + h) - loss_at(theta[i] - h)) / (2.0 * h);
    }
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let diff: Vec<f64> = analytic.iter().zip(&numeric).map(|(a, n)| a - n).collect();
    let rel = norm(&diff) / norm(&analytic).max(norm(&numeric));
    let label = format!(
        "{arch} layers={layers} bias={bias} loss={}",
        if classes { "ce" } else { "mse" }
    );
    assert!(norm(&analytic) > 1e-3, "{label}: gradient is (almost) zero");
    assert!(rel < 1e-6, "{label}: relative error {rel:e}");
    let worst = diff.iter().fold(0.0f64, |m, d| m.max(d.abs()));
    assert!(worst < 1e-8, "{label}: worst element error {worst:e}");
}

#[test]
fn model_gradient_matches_finite_differences() {
    for arch in Arch::ALL {
        for layers in [1, 2] {
            for bias in [false, true] {
                for classes in [true, false] {
                    check(arch, layers, bias, classes);
                }
            }
        }
    }
}

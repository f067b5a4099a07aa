//! Adam with PyTorch's defaults, the paper's learning-rate schedule, and global
//! gradient-norm clipping.

use crate::data::Batch;
use crate::model::{DropoutMasks, Model, ModelWorkspace};
use lyap_core::Real;

/// A model with its optimiser and reusable buffers: one [`Learner::step`] is one full training
/// step (forward, loss, backward, optional clipping, Adam).
pub struct Learner<T: Real> {
    pub model: Model<T>,
    pub adam: Adam<T>,
    pub grads: Model<T>,
    pub workspace: ModelWorkspace<T>,
    flat_grads: Vec<T>,
}

impl<T: Real> Learner<T> {
    /// `model` with a fresh Adam state.
    pub fn new(model: Model<T>) -> Self {
        let adam = Adam::new(model.parameter_count());
        let grads = model.zeros_like();
        Self {
            model,
            adam,
            grads,
            workspace: ModelWorkspace::default(),
            flat_grads: Vec::new(),
        }
    }

    /// Trains on `batch` under `masks` at learning rate `lr`, clipping the global gradient
    /// norm to `clip` if given. Returns the batch's mean loss (before the update); a
    /// non-finite loss leaves the parameters untouched.
    pub fn step(
        &mut self,
        batch: &Batch<T>,
        masks: &DropoutMasks<T>,
        lr: f64,
        clip: Option<f64>,
    ) -> f64 {
        let loss = self
            .model
            .loss_and_gradient(batch, masks, &mut self.grads, &mut self.workspace);
        if !loss.is_finite() {
            return loss;
        }
        self.flat_grads.clear();
        let flat = &mut self.flat_grads;
        self.grads
            .for_each_chunk(|chunk| flat.extend_from_slice(chunk));
        if let Some(max_norm) = clip {
            clip_gradient(&mut self.flat_grads, max_norm);
        }
        self.adam.update(&mut self.model, &self.flat_grads, lr);
        loss
    }

    /// Mean loss of `batch` without dropout.
    pub fn evaluate(&mut self, batch: &Batch<T>) -> f64 {
        self.model.evaluate(batch, &mut self.workspace)
    }
}

/// Adam (Kingma & Ba) exactly as `torch.optim.Adam` with its defaults
/// (`betas = (0.9, 0.999)`, `eps = 1e-8`, no weight decay, no amsgrad). At step `t`:
/// ```text
/// m <- b1 m + (1 - b1) g              v <- b2 v + (1 - b2) g^2
/// p <- p - (lr / (1 - b1^t)) m / ( sqrt(v) / sqrt(1 - b2^t) + eps )
/// ```
/// (PyTorch's arrangement of the bias corrections, so `f32` results match it closely.)
/// Moments are flat vectors in [`Model::for_each_chunk`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam<T: Real> {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Steps taken so far (`t` of the last step).
    pub step: u64,
    pub m: Vec<T>,
    pub v: Vec<T>,
}

impl<T: Real> Adam<T> {
    /// PyTorch's defaults, zero moments for `parameters` scalars.
    pub fn new(parameters: usize) -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            step: 0,
            m: vec![T::zero(); parameters],
            v: vec![T::zero(); parameters],
        }
    }

    /// One update of `model` with gradient `grads` (flat, [`Model::flatten`] order) at
    /// learning rate `lr`.
    pub fn update(&mut self, model: &mut Model<T>, grads: &[T], lr: f64) {
        self.step += 1;
        let t = self.step as i32;
        let bias_correction1 = 1.0 - self.beta1.powi(t);
        let bias_correction2 = 1.0 - self.beta2.powi(t);
        let step_size = T::of_f64(lr / bias_correction1);
        let sqrt_bc2 = T::of_f64(bias_correction2.sqrt());
        let (b1, b2, eps) = (
            T::of_f64(self.beta1),
            T::of_f64(self.beta2),
            T::of_f64(self.eps),
        );
        let (one_minus_b1, one_minus_b2) =
            (T::of_f64(1.0 - self.beta1), T::of_f64(1.0 - self.beta2));
        let mut offset = 0;
        let (m, v) = (&mut self.m, &mut self.v);
        model.for_each_chunk_mut(|chunk| {
            let range = offset..offset + chunk.len();
            let (m, v, g) = (&mut m[range.clone()], &mut v[range.clone()], &grads[range]);
            for (((p, m), v), &g) in chunk.iter_mut().zip(m).zip(v).zip(g) {
                *m = b1 * *m + one_minus_b1 * g;
                *v = b2 * *v + one_minus_b2 * g * g;
                let denom = v.sqrt() / sqrt_bc2 + eps;
                *p -= step_size * *m / denom;
            }
            offset += chunk.len();
        });
    }
}

/// The paper's schedule: `lr0` for epochs 1..=10, then multiplied by 0.95 each epoch:
/// `lr(e) = lr0 * 0.95^max(0, e - 10)` (epochs counted from 1).
pub fn learning_rate(lr0: f64, epoch: usize) -> f64 {
    const CONSTANT_EPOCHS: usize = 10;
    const DECAY: f64 = 0.95;
    lr0 * DECAY.powi(epoch.saturating_sub(CONSTANT_EPOCHS) as i32)
}

/// Global L2 norm of a flat gradient, accumulated in `f64`.
pub fn gradient_norm<T: Real>(grads: &[T]) -> f64 {
    grads
        .iter()
        .map(|g| g.as_f64() * g.as_f64())
        .sum::<f64>()
        .sqrt()
}

/// `torch.nn.utils.clip_grad_norm_`: when the global norm `||g||` exceeds `max_norm`, scales
/// `g` by `max_norm / (||g|| + 1e-6)`. Returns the norm before clipping.
pub fn clip_gradient<T: Real>(grads: &mut [T], max_norm: f64) -> f64 {
    let norm = gradient_norm(grads);
    let coefficient = max_norm / (norm + 1e-6);
    if coefficient < 1.0 {
        let c = T::of_f64(coefficient);
        grads.iter_mut().for_each(|g| *g *= c);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelShape;
    use lyap_rnn::Arch;

    /// Two steps on every parameter `p0 = 1`, `lr = 0.1`, gradients `0.5` then `-1`:
    /// step 1: `m = 0.05`, `v = 0.00025`, `p1 = 1 - (0.1/0.1) 0.05 / (sqrt(0.00025/0.001) + 1e-8)
    ///          = 1 - 0.05 / 0.50000001 = 0.900000002`;
    /// step 2: `m = 0.045 - 0.1 = -0.055`, `v = 0.00024975 + 0.001 = 0.00124975`,
    ///         `p2 = p1 + (0.1/0.19) 0.055 / (sqrt(0.00124975/0.001999) + 1e-8) = 0.93661035424`.
    #[test]
    fn adam_matches_a_hand_computed_two_step_example() {
        let shape = ModelShape {
            arch: Arch::RnnTanh,
            input_size: 1,
            hidden: 1,
            layers: 1,
            bias: false,
            output_size: 1,
        };
        let mut model = Model::<f64>::random(&shape, 0.1, 0);
        let count = model.parameter_count();
        assert_eq!(count, 4);
        assert!(model.assign_flat(&vec![1.0; count]));
        let mut adam = Adam::new(count);
        adam.update(&mut model, &vec![0.5; count], 0.1);
        for p in model.flatten() {
            assert!((p - 0.900_000_002).abs() < 1e-12, "{p}");
        }
        adam.update(&mut model, &vec![-1.0; count], 0.1);
        assert_eq!(adam.step, 2);
        for p in model.flatten() {
            assert!((p - 0.936_610_354_240_565_3).abs() < 1e-12, "{p}");
        }
    }

    #[test]
    fn schedule_is_constant_for_ten_epochs_then_decays() {
        for epoch in 1..=10 {
            assert_eq!(learning_rate(0.002, epoch), 0.002);
        }
        assert!((learning_rate(0.002, 11) - 0.0019).abs() < 1e-15);
        assert!((learning_rate(0.002, 12) - 0.002 * 0.9025).abs() < 1e-15);
        assert!((learning_rate(1.0, 30) - 0.95f64.powi(20)).abs() < 1e-15);
    }

    #[test]
    fn clipping_scales_only_large_gradients() {
        let mut g = vec![3.0f64, 4.0];
        assert_eq!(clip_gradient(&mut g, 10.0), 5.0);
        assert_eq!(g, vec![3.0, 4.0]);
        clip_gradient(&mut g, 1.0);
        assert!((gradient_norm(&g) - 1.0).abs() < 1e-6);
    }
}

//! The trained model (docs/DESIGN.md section 5): embedding -> recurrent stack -> dropout -> linear
//! readout `fc`, its loss and its gradient.
//!
//! With top-layer outputs `H` (`R x n`, one row per position `r = t * batch + b`), the output
//! dropout mask `M` (entries `0` or `1 / (1 - p)`), readout `W` (`V x n`) and bias `c`:
//! ```text
//! Y = H * M                  (elementwise)
//! Z = Y W^T + 1 c^T          logits / predictions, R x V
//! L = loss(Z, targets)       mean over positions (see crate::loss)
//! dW = dZ^T Y,  dc = 1^T dZ,  dH = (dZ W) * M
//! ```
//! then `lyap_rnn::train::backward_columns` carries `dH` back through time and the layers.
//! The positions are split into `READOUT_PARTS` fixed halves, each half's products run as
//! single-threaded gemms in parallel and the halves' `dW` are added in order, so results do
//! not depend on the number of threads. The embedding has no parameters: one-hot for
//! characters (given to the stack as tokens), identity for signals.
//!
//! Initialisation: the stack's weights (and biases, if any) uniform on `[-p, p]`
//! (`StackWeights::random`); the readout like PyTorch's `nn.Linear` default,
//! `U(-1/sqrt(n), 1/sqrt(n))` for weight and bias.

use crate::data::{Batch, BatchInputs};
use crate::loss::loss_and_gradient;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef};
use lyap_core::dense::{column, column_mut, ensure_shape, gemm};
use lyap_core::Real;
use lyap_rnn::train::{backward_columns, forward_inputs, ForwardCache, Inputs};
use lyap_rnn::{Arch, StackWeights};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Parameters of the whole model; the same type holds gradients and Adam moments.
#[derive(Clone, Debug, PartialEq)]
pub struct Model<T: Real> {
    pub stack: StackWeights<T>,
    /// Readout weight `fc.weight`, `V x n`.
    pub fc_weight: Mat<T>,
    /// Readout bias `fc.bias`, `V`.
    pub fc_bias: Vec<T>,
}

/// The shape of a model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelShape {
    pub arch: Arch,
    /// Input size of the stack (vocabulary size or signal dimension).
    pub input_size: usize,
    pub hidden: usize,
    pub layers: usize,
    pub bias: bool,
    /// Readout outputs (vocabulary size or signal dimension).
    pub output_size: usize,
}

/// Dropout masks of one batch, pre-scaled by `1 / (1 - p)`: `layers - 1` between stacked
/// layers and one on the top layer's outputs, each `[seq_len][batch][hidden]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DropoutMasks<T: Real> {
    pub inter_layer: Option<Vec<Vec<T>>>,
    pub output: Option<Vec<T>>,
}

/// Units of a mask drawn from one random stream. Streams are fixed by position, so the masks
/// do not depend on the number of threads that draw them.
const MASK_CHUNK: usize = 1 << 16;

impl<T: Real> DropoutMasks<T> {
    /// Bernoulli masks: each unit kept with probability `1 - p` (then scaled by `1/(1-p)`).
    /// No masks (and no random draws) when `p == 0`.
    pub fn sample(p: f64, layers: usize, len: usize, rng: &mut ChaCha8Rng) -> Self {
        let mut masks = Self::default();
        masks.resample(p, layers, len, rng);
        masks
    }

    /// Draws new masks into `self`, reusing its buffers (see [`DropoutMasks::sample`]).
    ///
    /// Each mask takes one `u64` seed from `rng` (the inter-layer masks first, then the
    /// output mask); its chunk `i` of `MASK_CHUNK` units comes from stream `i` of a ChaCha8
    /// generator with that seed, the chunks drawn in parallel. A unit is dropped when a
    /// uniform `u32` falls below `round(p 2^32)`.
    pub fn resample(&mut self, p: f64, layers: usize, len: usize, rng: &mut ChaCha8Rng) {
        if p <= 0.0 {
            *self = Self::default();
            return;
        }
        let keep = T::of_f64(1.0 / (1.0 - p));
        let threshold = (p * 4_294_967_296.0).round() as u64;
        let fill = |mask: &mut Vec<T>, seed: u64| {
            mask.resize(len, T::zero());
            mask.par_chunks_mut(MASK_CHUNK)
                .enumerate()
                .for_each(|(index, chunk)| {
                    let mut stream = ChaCha8Rng::seed_from_u64(seed);
                    stream.set_stream(index as u64);
                    for unit in chunk {
                        let dropped = u64::from(stream.next_u32()) < threshold;
                        *unit = if dropped { T::zero() } else { keep };
                    }
                });
        };
        if layers > 1 {
            let inter_layer = self.inter_layer.get_or_insert_with(Vec::new);
            inter_layer.resize_with(layers - 1, Vec::new);
            for mask in inter_layer {
                fill(mask, rng.next_u64());
            }
        } else {
            self.inter_layer = None;
        }
        fill(self.output.get_or_insert_with(Vec::new), rng.next_u64());
    }
}

/// Number of contiguous ranges of positions the readout is split into (fixed: see the module
/// documentation).
const READOUT_PARTS: usize = 2;

/// Buffers reused across batches (faer matrices: aligned columns for the gemms).
pub struct ModelWorkspace<T: Real> {
    cache: ForwardCache<T>,
    /// `Y^T = (H * M)^T`, `n x R`.
    top: Mat<T>,
    /// `Z^T`, then `dZ^T` (`V x R`).
    logits: Mat<T>,
    /// `dH^T`, `n x R`.
    d_top: Mat<T>,
    /// The second half's part of `dW`.
    d_fc_weight_half: Mat<T>,
    /// A copy of the readout weight `W` in a zero-padded matrix: gemm kernels also multiply
    /// the padding rows of a column, which must not hold denormals or NaNs (slow paths).
    fc_weight: Mat<T>,
}

impl<T: Real> Default for ModelWorkspace<T> {
    fn default() -> Self {
        let empty = || Mat::zeros(0, 0);
        Self {
            cache: ForwardCache::new(),
            top: empty(),
            logits: empty(),
            d_top: empty(),
            d_fc_weight_half: empty(),
            fc_weight: empty(),
        }
    }
}

impl<T: Real> Model<T> {
    /// A freshly initialised model (see the module documentation); the stack is drawn from
    /// `seed`, the readout from a stream derived from it.
    pub fn random(shape: &ModelShape, init_scale: f64, seed: u64) -> Self {
        let stack = StackWeights::random(
            shape.arch,
            shape.input_size,
            shape.hidden,
            shape.layers,
            shape.bias,
            init_scale,
            seed,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0072_6561_646f_7574);
        let bound = 1.0 / (shape.hidden as f64).sqrt();
        let (v, n) = (shape.output_size, shape.hidden);
        let values: Vec<f64> = (0..v * n + v)
            .map(|_| rng.random_range(-bound..=bound))
            .collect();
        let fc_weight = Mat::from_fn(v, n, |r, c| T::of_f64(values[r * n + c]));
        let fc_bias = values[v * n..].iter().map(|&x| T::of_f64(x)).collect();
        Self {
            stack,
            fc_weight,
            fc_bias,
        }
    }

    pub fn hidden(&self) -> usize {
        self.stack.hidden_size
    }

    pub fn output_size(&self) -> usize {
        self.fc_bias.len()
    }

    /// A model of the same shape with every parameter zero.
    pub fn zeros_like(&self) -> Self {
        let mut zero = self.clone();
        zero.for_each_chunk_mut(|chunk| chunk.fill(T::zero()));
        zero
    }

    /// Visits every parameter in a fixed order as contiguous chunks: per layer `weight_ih`,
    /// `weight_hh` (column by column), `bias_ih`, `bias_hh`; then `fc.weight` (column by
    /// column) and `fc.bias`. Flattened vectors (Adam moments, snapshots) use this order.
    pub fn for_each_chunk(&self, mut visit: impl FnMut(&[T])) {
        let layers = &self.stack.layers;
        let matrices = layers
            .iter()
            .flat_map(|l| [&l.weight_ih, &l.weight_hh])
            .chain([&self.fc_weight]);
        for m in matrices {
            (0..m.ncols()).for_each(|j| visit(m.col_as_slice(j)));
        }
        let biases = layers
            .iter()
            .flat_map(|l| [l.bias_ih.as_deref(), l.bias_hh.as_deref()])
            .flatten();
        biases.chain([self.fc_bias.as_slice()]).for_each(visit);
    }

    /// Mutable counterpart of [`Model::for_each_chunk`], same order.
    pub fn for_each_chunk_mut(&mut self, mut visit: impl FnMut(&mut [T])) {
        let mut matrix = |m: &mut Mat<T>| (0..m.ncols()).for_each(|j| visit(m.col_as_slice_mut(j)));
        for layer in &mut self.stack.layers {
            matrix(&mut layer.weight_ih);
            matrix(&mut layer.weight_hh);
        }
        matrix(&mut self.fc_weight);
        for layer in &mut self.stack.layers {
            for bias in [&mut layer.bias_ih, &mut layer.bias_hh]
                .into_iter()
                .flatten()
            {
                visit(bias);
            }
        }
        visit(&mut self.fc_bias);
    }

    /// Number of scalar parameters.
    pub fn parameter_count(&self) -> usize {
        let mut count = 0;
        self.for_each_chunk(|c| count += c.len());
        count
    }

    /// All parameters in [`Model::for_each_chunk`] order.
    pub fn flatten(&self) -> Vec<T> {
        let mut flat = Vec::with_capacity(self.parameter_count());
        self.for_each_chunk(|c| flat.extend_from_slice(c));
        flat
    }

    /// Sets all parameters from `flat` (as produced by [`Model::flatten`]); returns false when
    /// the length does not match.
    pub fn assign_flat(&mut self, flat: &[T]) -> bool {
        if flat.len() != self.parameter_count() {
            return false;
        }
        let mut offset = 0;
        self.for_each_chunk_mut(|chunk| {
            chunk.copy_from_slice(&flat[offset..offset + chunk.len()]);
            offset += chunk.len();
        });
        true
    }

    /// Readout outputs `Z^T = W Y^T + c` of a batch in `workspace.logits` (`V x R`), and the
    /// (masked) top-layer outputs `Y^T = (H * M)^T` in `workspace.top`.
    fn forward(&self, batch: &Batch<T>, masks: &DropoutMasks<T>, ws: &mut ModelWorkspace<T>) {
        let (rows, n, v) = (
            batch.batch * batch.seq_len,
            self.hidden(),
            self.output_size(),
        );
        let inputs = match &batch.inputs {
            BatchInputs::Tokens(tokens) => Inputs::Tokens(tokens),
            BatchInputs::Dense(vectors) => Inputs::Dense(vectors),
        };
        ensure_shape(&mut ws.fc_weight, v, n);
        ws.fc_weight.copy_from(&self.fc_weight);
        ensure_shape(&mut ws.top, n, rows);
        ensure_shape(&mut ws.logits, v, rows);
        forward_inputs(
            &self.stack,
            inputs,
            batch.batch,
            batch.seq_len,
            masks.inter_layer.as_deref(),
            &mut ws.cache,
            ws.top.as_mut(),
        );
        let half = rows / READOUT_PARTS;
        let fc_weight = &ws.fc_weight;
        let (top_0, top_1) = ws.top.as_mut().split_at_col_mut(half);
        let (logits_0, logits_1) = ws.logits.as_mut().split_at_col_mut(half);
        let readout = |mut top: MatMut<'_, T>, mut logits: MatMut<'_, T>, first: usize| {
            if let Some(mask) = &masks.output {
                multiply_columns(top.rb_mut(), &mask[first * n..]);
            }
            let weight = fc_weight.as_ref();
            gemm(logits.rb_mut(), Accum::Replace, weight, top.rb(), T::one());
            for j in 0..logits.ncols() {
                let column = column_mut(logits.rb_mut(), j);
                column
                    .iter_mut()
                    .zip(&self.fc_bias)
                    .for_each(|(z, &c)| *z += c);
            }
        };
        rayon::join(
            || readout(top_0, logits_0, 0),
            || readout(top_1, logits_1, half),
        );
    }

    /// The mean loss of `batch` without dropout (evaluation).
    pub fn evaluate(&self, batch: &Batch<T>, ws: &mut ModelWorkspace<T>) -> f64 {
        self.forward(batch, &DropoutMasks::default(), ws);
        loss_and_gradient(ws.logits.as_mut(), &batch.targets, false)
    }

    /// The mean loss of `batch` under `masks`, and its gradient written into `grads`
    /// (overwritten, same shape as `self`).
    pub fn loss_and_gradient(
        &self,
        batch: &Batch<T>,
        masks: &DropoutMasks<T>,
        grads: &mut Model<T>,
        ws: &mut ModelWorkspace<T>,
    ) -> f64 {
        self.forward(batch, masks, ws);
        let (rows, n) = (batch.batch * batch.seq_len, self.hidden());
        let loss = loss_and_gradient(ws.logits.as_mut(), &batch.targets, true);
        grads
            .stack
            .for_each_param_mut(|chunk| chunk.fill(T::zero()));
        ensure_shape(&mut ws.d_top, n, rows);
        ensure_shape(
            &mut ws.d_fc_weight_half,
            self.fc_weight.nrows(),
            self.fc_weight.ncols(),
        );
        let half = rows / READOUT_PARTS;
        let fc_weight = &ws.fc_weight;
        let (d_logits_0, d_logits_1) = ws.logits.as_ref().split_at_col(half);
        let (top_0, top_1) = ws.top.as_ref().split_at_col(half);
        let (d_top_0, d_top_1) = ws.d_top.as_mut().split_at_col_mut(half);
        // per half: dW_k = dZ_k^T Y_k (V x n), dH_k^T = (W^T dZ_k^T) * M_k^T
        let readout_gradient = |d_weight: MatMut<'_, T>,
                                d_logits: MatRef<'_, T>,
                                top: MatRef<'_, T>,
                                mut d_top: MatMut<'_, T>,
                                first: usize| {
            let weight_t = fc_weight.transpose();
            let top_t = top.transpose();
            gemm(d_weight, Accum::Replace, d_logits, top_t, T::one());
            gemm(d_top.rb_mut(), Accum::Replace, weight_t, d_logits, T::one());
            if let Some(mask) = &masks.output {
                multiply_columns(d_top, &mask[first * n..]);
            }
        };
        let d_fc_weight = grads.fc_weight.as_mut();
        let d_fc_weight_half = ws.d_fc_weight_half.as_mut();
        rayon::join(
            || readout_gradient(d_fc_weight, d_logits_0, top_0, d_top_0, 0),
            || readout_gradient(d_fc_weight_half, d_logits_1, top_1, d_top_1, half),
        );
        for j in 0..grads.fc_weight.ncols() {
            let half_column = ws.d_fc_weight_half.col_as_slice(j);
            let column = grads.fc_weight.col_as_slice_mut(j);
            column
                .iter_mut()
                .zip(half_column)
                .for_each(|(g, &d)| *g += d);
        }
        grads.fc_bias.fill(T::zero());
        for j in 0..rows {
            let d_logits = column(ws.logits.as_ref(), j);
            grads
                .fc_bias
                .iter_mut()
                .zip(d_logits)
                .for_each(|(g, &d)| *g += d);
        }
        backward_columns(
            &self.stack,
            &mut ws.cache,
            ws.d_top.as_ref(),
            &mut grads.stack,
        );
        loss
    }
}

/// `mat[:, j] *= mask[j n .. (j + 1) n]` for every column `j` (`mask` row-major over columns).
fn multiply_columns<T: Real>(mut mat: MatMut<'_, T>, mask: &[T]) {
    let n = mat.nrows();
    for (j, mask_column) in mask.chunks_exact(n).take(mat.ncols()).enumerate() {
        let column = column_mut(mat.rb_mut(), j);
        column
            .iter_mut()
            .zip(mask_column)
            .for_each(|(v, &m)| *v *= m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(p: f64, layers: usize, len: usize, threads: usize) -> DropoutMasks<f32> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        pool.install(|| DropoutMasks::sample(p, layers, len, &mut rng))
    }

    #[test]
    fn masks_drop_a_fraction_p_and_scale_the_rest() {
        let (p, len) = (0.3, 300_000);
        let masks = draw(p, 3, len, 2);
        let inter_layer = masks.inter_layer.as_ref().expect("two inter-layer masks");
        assert_eq!(inter_layer.len(), 2);
        let output = masks.output.as_ref().expect("output mask");
        let keep = (1.0 / (1.0 - p)) as f32;
        for mask in inter_layer.iter().chain([output]) {
            assert_eq!(mask.len(), len);
            assert!(mask.iter().all(|&m| m == 0.0 || m == keep));
            let dropped = mask.iter().filter(|&&m| m == 0.0).count() as f64 / len as f64;
            // binomial standard deviation sqrt(p (1 - p) / len) = 8.4e-4
            assert!((dropped - p).abs() < 4e-3, "dropped fraction {dropped}");
        }
        assert_ne!(inter_layer[0], inter_layer[1], "masks are independent");
        assert_ne!(&inter_layer[1], output);
    }

    #[test]
    fn masks_do_not_depend_on_threads_and_reuse_buffers() {
        let one = draw(0.1, 2, 200_000, 1);
        assert_eq!(one, draw(0.1, 2, 200_000, 2));
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut reused = DropoutMasks::<f32>::sample(0.5, 3, 10, &mut rng);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        reused.resample(0.1, 2, 200_000, &mut rng);
        assert_eq!(reused, one);
        reused.resample(0.0, 2, 200_000, &mut rng);
        assert_eq!(reused, DropoutMasks::default());
    }
}

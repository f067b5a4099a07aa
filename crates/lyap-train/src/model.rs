//! The trained model (DESIGN.md section 5): embedding -> recurrent stack -> dropout -> linear
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
//! then `lyap_rnn::train::backward_batch` carries `dH` back through time and the layers.
//! The three products are single large gemms (faer, all cores). The embedding has no
//! parameters: one-hot for characters, identity for signals.
//!
//! Initialisation: the stack's weights (and biases, if any) uniform on `[-p, p]`
//! (`StackWeights::random`); the readout like PyTorch's `nn.Linear` default,
//! `U(-1/sqrt(n), 1/sqrt(n))` for weight and bias.

use crate::data::Batch;
use crate::loss::loss_and_gradient;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use lyap_core::Real;
use lyap_rnn::train::{backward_batch, forward_inputs, ForwardCache, Inputs};
use lyap_rnn::{Arch, StackWeights};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

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

impl<T: Real> DropoutMasks<T> {
    /// Bernoulli masks: each unit kept with probability `1 - p` (then scaled by `1/(1-p)`).
    /// No masks (and no random draws) when `p == 0`.
    pub fn sample(p: f64, layers: usize, len: usize, rng: &mut ChaCha8Rng) -> Self {
        if p <= 0.0 {
            return Self::default();
        }
        let keep = T::of_f64(1.0 / (1.0 - p));
        let mut draw = || -> Vec<T> {
            (0..len)
                .map(|_| {
                    if rng.random::<f64>() < p {
                        T::zero()
                    } else {
                        keep
                    }
                })
                .collect()
        };
        let inter_layer = (layers > 1).then(|| (1..layers).map(|_| draw()).collect());
        Self {
            inter_layer,
            output: Some(draw()),
        }
    }
}

/// Buffers reused across batches.
pub struct ModelWorkspace<T: Real> {
    cache: ForwardCache<T>,
    /// The batch's inputs as tokens when every input vector is one-hot.
    tokens: Vec<u32>,
    outputs: Vec<T>,
    d_hidden: Vec<T>,
}

impl<T: Real> Default for ModelWorkspace<T> {
    fn default() -> Self {
        Self {
            cache: ForwardCache::new(),
            tokens: Vec::new(),
            outputs: Vec::new(),
            d_hidden: Vec::new(),
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

    /// Readout outputs `Z = (H * M) W^T + c` of a batch, `R x V` row-major, and the (masked)
    /// top-layer outputs `Y = H * M` left in `workspace.outputs`.
    fn forward(&self, batch: &Batch<T>, masks: &DropoutMasks<T>, ws: &mut ModelWorkspace<T>) {
        let inputs = if one_hot_tokens(&batch.inputs, self.stack.input_size, &mut ws.tokens) {
            Inputs::Tokens(&ws.tokens)
        } else {
            Inputs::Dense(&batch.inputs)
        };
        let mut top = forward_inputs(
            &self.stack,
            inputs,
            batch.batch,
            batch.seq_len,
            masks.inter_layer.as_deref(),
            &mut ws.cache,
        );
        if let Some(mask) = &masks.output {
            top.iter_mut().zip(mask).for_each(|(h, &m)| *h *= m);
        }
        let (rows, n, v) = (
            batch.batch * batch.seq_len,
            self.hidden(),
            self.output_size(),
        );
        ws.outputs.resize(rows * v, T::zero());
        // Z^T (V x R, column-major = Z row-major) = W (V x n) Y^T (n x R)
        let y_t = MatRef::from_column_major_slice(&top, n, rows);
        let z_t = MatMut::from_column_major_slice_mut(&mut ws.outputs, v, rows);
        matmul(
            z_t,
            Accum::Replace,
            self.fc_weight.as_ref(),
            y_t,
            T::one(),
            Par::rayon(0),
        );
        for row in ws.outputs.chunks_exact_mut(v) {
            row.iter_mut()
                .zip(&self.fc_bias)
                .for_each(|(z, &c)| *z += c);
        }
        ws.d_hidden = top;
    }

    /// The mean loss of `batch` without dropout (evaluation).
    pub fn evaluate(&self, batch: &Batch<T>, ws: &mut ModelWorkspace<T>) -> f64 {
        self.forward(batch, &DropoutMasks::default(), ws);
        loss_and_gradient(&mut ws.outputs, &batch.targets, self.output_size(), false)
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
        let (rows, n, v) = (
            batch.batch * batch.seq_len,
            self.hidden(),
            self.output_size(),
        );
        let loss = loss_and_gradient(&mut ws.outputs, &batch.targets, v, true);
        grads.for_each_chunk_mut(|chunk| chunk.fill(T::zero()));
        let dz_t = MatRef::from_column_major_slice(&ws.outputs, v, rows);
        let y_t = MatRef::from_column_major_slice(&ws.d_hidden, n, rows);
        // dW (V x n) = dZ^T (V x R) Y (R x n)
        matmul(
            grads.fc_weight.as_mut(),
            Accum::Replace,
            dz_t,
            y_t.transpose(),
            T::one(),
            Par::rayon(0),
        );
        for row in ws.outputs.chunks_exact(v) {
            grads
                .fc_bias
                .iter_mut()
                .zip(row)
                .for_each(|(g, &d)| *g += d);
        }
        // dY^T (n x R) = W^T (n x V) dZ^T (V x R); then dH = dY * M
        let mut d_top = std::mem::take(&mut ws.d_hidden);
        let dy_t = MatMut::from_column_major_slice_mut(&mut d_top, n, rows);
        matmul(
            dy_t,
            Accum::Replace,
            self.fc_weight.transpose(),
            dz_t,
            T::one(),
            Par::rayon(0),
        );
        if let Some(mask) = &masks.output {
            d_top.iter_mut().zip(mask).for_each(|(d, &m)| *d *= m);
        }
        backward_batch(&self.stack, &ws.cache, &d_top, &mut grads.stack);
        ws.d_hidden = d_top;
        loss
    }
}

/// Whether every `width`-long vector of `inputs` is one-hot (a single `1`, zeros elsewhere);
/// if so, `tokens` holds the positions of the ones (the embedding of characters), which the
/// stack takes as a column gather instead of a gemm.
fn one_hot_tokens<T: Real>(inputs: &[T], width: usize, tokens: &mut Vec<u32>) -> bool {
    tokens.clear();
    for vector in inputs.chunks_exact(width) {
        let mut ones = vector.iter().enumerate().filter(|(_, &x)| x != T::zero());
        match (ones.next(), ones.next()) {
            (Some((position, &x)), None) if x == T::one() => tokens.push(position as u32),
            _ => return false,
        }
    }
    true
}

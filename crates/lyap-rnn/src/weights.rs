//! Weights of a recurrent stack in PyTorch's layout (docs/DESIGN.md section 3).
//!
//! Layer `l` holds `weight_ih` (`G n x m_l`), `weight_hh` (`G n x n`) and optionally
//! `bias_ih`, `bias_hh` (`G n`), with the gate row blocks in PyTorch's order
//! (LSTM: i, f, g, o; GRU: r, z, n). `m_0` is the input size, `m_l = n` above.

use crate::arch::Arch;
use faer::Mat;
use lyap_core::Real;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One layer's parameters, exactly PyTorch's `weight_ih_l{k}`, `weight_hh_l{k}`,
/// `bias_ih_l{k}`, `bias_hh_l{k}`.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerWeights<T: Real> {
    pub weight_ih: Mat<T>,
    pub weight_hh: Mat<T>,
    pub bias_ih: Option<Vec<T>>,
    pub bias_hh: Option<Vec<T>>,
}

/// A stack of `layers.len()` recurrent layers of one cell type and hidden size.
#[derive(Clone, Debug, PartialEq)]
pub struct StackWeights<T: Real> {
    pub arch: Arch,
    pub hidden_size: usize,
    pub input_size: usize,
    pub layers: Vec<LayerWeights<T>>,
}

/// Shapes that do not form a valid stack.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShapeError {
    #[error("layer {layer}: {name} has shape {got:?}, expected {expected:?}")]
    Mismatch {
        layer: usize,
        name: &'static str,
        got: Vec<usize>,
        expected: Vec<usize>,
    },
    #[error("a stack needs at least one layer")]
    NoLayers,
    #[error("layer {layer}: has {present} but not {missing}")]
    HalfBias {
        layer: usize,
        present: &'static str,
        missing: &'static str,
    },
}

/// The number of parameters of a stack: per layer `G n (m_l + n)` weights (`G` gates,
/// `m_0` the input size, `m_l = n` above) plus `2 G n` biases with `bias`; `None` when the
/// count does not fit in a `u128`. Used to check sizes before allocating.
pub fn parameter_count(
    arch: Arch,
    input_size: usize,
    hidden_size: usize,
    layers: usize,
    bias: bool,
) -> Option<u128> {
    let (m, n, g) = (
        input_size as u128,
        hidden_size as u128,
        arch.gates() as u128,
    );
    let rows = g.checked_mul(n)?;
    let first = rows.checked_mul(m.checked_add(n)?)?;
    let above = rows.checked_mul(n.checked_mul(2)?)?;
    let weights = first.checked_add(above.checked_mul((layers as u128).saturating_sub(1))?)?;
    let biases = if bias {
        rows.checked_mul(2)?.checked_mul(layers as u128)?
    } else {
        0
    };
    weights.checked_add(biases)
}

impl<T: Real> StackWeights<T> {
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// [`parameter_count`] of this stack (at most `usize::MAX`, since its values exist).
    pub fn parameter_count(&self) -> u128 {
        parameter_count(
            self.arch,
            self.input_size,
            self.hidden_size,
            self.num_layers(),
            self.has_bias(),
        )
        .unwrap_or(u128::MAX)
    }

    pub fn has_bias(&self) -> bool {
        self.layers.iter().any(|l| l.bias_ih.is_some())
    }

    /// Input size of layer `layer` (`input_size` for the first, `hidden_size` above).
    pub fn layer_input_size(&self, layer: usize) -> usize {
        if layer == 0 {
            self.input_size
        } else {
            self.hidden_size
        }
    }

    /// A network with every weight and bias drawn uniformly on `[-init_scale, init_scale]`
    /// (the paper's init parameter `p`), deterministically from `seed`. Parameters are drawn
    /// layer by layer in PyTorch's state_dict order (weight_ih, weight_hh, bias_ih, bias_hh),
    /// each matrix in row-major order.
    pub fn random(
        arch: Arch,
        input_size: usize,
        hidden_size: usize,
        layers: usize,
        bias: bool,
        init_scale: f64,
        seed: u64,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut draw = |rows: usize, cols: usize| {
            let values: Vec<f64> = (0..rows * cols)
                .map(|_| rng.random_range(-init_scale..=init_scale))
                .collect();
            Mat::from_fn(rows, cols, |r, c| T::of_f64(values[r * cols + c]))
        };
        let g = arch.gates() * hidden_size;
        let layers = (0..layers)
            .map(|l| {
                let m = if l == 0 { input_size } else { hidden_size };
                let weight_ih = draw(g, m);
                let weight_hh = draw(g, hidden_size);
                let (bias_ih, bias_hh) = if bias {
                    let bi = draw(g, 1).col(0).iter().copied().collect();
                    let bh = draw(g, 1).col(0).iter().copied().collect();
                    (Some(bi), Some(bh))
                } else {
                    (None, None)
                };
                LayerWeights {
                    weight_ih,
                    weight_hh,
                    bias_ih,
                    bias_hh,
                }
            })
            .collect();
        Self {
            arch,
            hidden_size,
            input_size,
            layers,
        }
    }

    /// Checks every shape against `arch`, `hidden_size`, `input_size`.
    pub fn validate(&self) -> Result<(), ShapeError> {
        if self.layers.is_empty() {
            return Err(ShapeError::NoLayers);
        }
        let g = self.arch.gates() * self.hidden_size;
        for (l, layer) in self.layers.iter().enumerate() {
            let m = self.layer_input_size(l);
            let check = |name, got: Vec<usize>, expected: Vec<usize>| {
                if got == expected {
                    Ok(())
                } else {
                    Err(ShapeError::Mismatch {
                        layer: l,
                        name,
                        got,
                        expected,
                    })
                }
            };
            check(
                "weight_ih",
                vec![layer.weight_ih.nrows(), layer.weight_ih.ncols()],
                vec![g, m],
            )?;
            check(
                "weight_hh",
                vec![layer.weight_hh.nrows(), layer.weight_hh.ncols()],
                vec![g, self.hidden_size],
            )?;
            match (&layer.bias_ih, &layer.bias_hh) {
                (Some(bi), Some(bh)) => {
                    check("bias_ih", vec![bi.len()], vec![g])?;
                    check("bias_hh", vec![bh.len()], vec![g])?;
                }
                (Some(_), None) => {
                    return Err(ShapeError::HalfBias {
                        layer: l,
                        present: "bias_ih",
                        missing: "bias_hh",
                    })
                }
                (None, Some(_)) => {
                    return Err(ShapeError::HalfBias {
                        layer: l,
                        present: "bias_hh",
                        missing: "bias_ih",
                    })
                }
                (None, None) => {}
            }
        }
        Ok(())
    }

    /// The same network in another precision.
    pub fn cast<U: Real>(&self) -> StackWeights<U> {
        let mat =
            |m: &Mat<T>| Mat::from_fn(m.nrows(), m.ncols(), |r, c| U::of_f64(m[(r, c)].as_f64()));
        let vec = |v: &Option<Vec<T>>| {
            v.as_ref()
                .map(|v| v.iter().map(|&x| U::of_f64(x.as_f64())).collect())
        };
        StackWeights {
            arch: self.arch,
            hidden_size: self.hidden_size,
            input_size: self.input_size,
            layers: self
                .layers
                .iter()
                .map(|l| LayerWeights {
                    weight_ih: mat(&l.weight_ih),
                    weight_hh: mat(&l.weight_hh),
                    bias_ih: vec(&l.bias_ih),
                    bias_hh: vec(&l.bias_hh),
                })
                .collect(),
        }
    }
}

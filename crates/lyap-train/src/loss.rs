//! Losses over all positions of a batch and their gradients with respect to the readout
//! outputs (logits for classes, predictions for signals).
//!
//! Outputs are one column of `width` values per row (a (time, sequence) position).
//! - Cross-entropy, mean over the `R` rows, with a numerically stable log-softmax:
//!   `L = (1/R) sum_r [ m_r + ln sum_j exp(z_rj - m_r) - z_{r,y_r} ]`, `m_r = max_j z_rj`;
//!   `dL/dz_rj = (softmax(z_r)_j - [j = y_r]) / R`.
//! - Mean squared error, mean over all `R * D` entries (PyTorch's `MSELoss()`):
//!   `L = (1/(R D)) sum (y - t)^2`, `dL/dy = 2 (y - t) / (R D)`.

use crate::data::Targets;
use faer::reborrow::ReborrowMut;
use faer::MatMut;
use lyap_core::dense::column_mut;
use lyap_core::simd::with_wide_simd;
use lyap_core::Real;
use lyap_rnn::activation::exp;
use rayon::prelude::*;

/// Which loss a task trains with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    CrossEntropy,
    MeanSquaredError,
}

/// Rows per parallel chunk (keeps the per-row loss buffer out of the picture for tiny batches).
const ROWS_PER_TASK: usize = 256;

/// The loss of `outputs` (`width x rows`: column `r` is row `r`'s outputs) against `targets`;
/// when `gradient` is true, `outputs` is overwritten with `dL/doutputs`. Per-row losses are
/// summed in order in `f64`, so the result does not depend on the number of threads.
pub fn loss_and_gradient<T: Real>(
    outputs: MatMut<'_, T>,
    targets: &Targets<T>,
    gradient: bool,
) -> f64 {
    let (width, rows) = (outputs.nrows(), outputs.ncols());
    // blocks of rows (columns), each with the index of its first row
    let mut blocks = Vec::with_capacity(rows.div_ceil(ROWS_PER_TASK));
    let mut rest = outputs;
    while rest.ncols() > 0 {
        let start = rows - rest.ncols();
        let len = ROWS_PER_TASK.min(rest.ncols());
        let (block, tail) = rest.split_at_col_mut(len);
        blocks.push((start, block));
        rest = tail;
    }
    let partial: Vec<f64> = match targets {
        Targets::Classes(classes) => {
            let scale = T::of_f64(1.0 / rows as f64);
            blocks
                .into_par_iter()
                .map(|(start, mut block)| {
                    with_wide_simd(
                        #[inline(always)]
                        || {
                            (0..block.ncols())
                                .map(|j| {
                                    let class = classes[start + j] as usize;
                                    let logits = column_mut(block.rb_mut(), j);
                                    cross_entropy_row(logits, class, scale, gradient)
                                })
                                .sum::<f64>()
                        },
                    )
                })
                .collect()
        }
        Targets::Values(values) => {
            let scale = T::of_f64(2.0 / (rows * width) as f64);
            blocks
                .into_par_iter()
                .map(|(start, mut block)| {
                    let mut sum = 0.0;
                    for j in 0..block.ncols() {
                        let target = &values[(start + j) * width..(start + j + 1) * width];
                        for (y, &t) in column_mut(block.rb_mut(), j).iter_mut().zip(target) {
                            let diff = *y - t;
                            sum += diff.as_f64() * diff.as_f64();
                            if gradient {
                                *y = diff * scale;
                            }
                        }
                    }
                    sum
                })
                .collect()
        }
    };
    let total: f64 = partial.iter().sum();
    match targets {
        Targets::Classes(_) => total / rows as f64,
        Targets::Values(_) => total / (rows * width) as f64,
    }
}

/// `-log softmax(z)_class` of one row; with `gradient`, `z <- (softmax(z) - e_class) * scale`.
#[inline(always)]
fn cross_entropy_row<T: Real>(logits: &mut [T], class: usize, scale: T, gradient: bool) -> f64 {
    let max = logits.iter().copied().fold(T::neg_infinity(), T::max);
    let mut sum = T::zero();
    for z in logits.iter() {
        sum += exp(*z - max);
    }
    let log_sum = max + sum.ln();
    let loss = (log_sum - logits[class]).as_f64();
    if gradient {
        for z in logits.iter_mut() {
            *z = exp(*z - log_sum) * scale;
        }
        logits[class] -= scale;
    }
    loss
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns<T: Real>(values: &mut [T], width: usize) -> MatMut<'_, T> {
        let rows = values.len() / width;
        MatMut::from_column_major_slice_mut(values, width, rows)
    }

    #[test]
    fn cross_entropy_matches_hand_values_and_is_stable() {
        // one row, logits (0, ln 3): softmax (1/4, 3/4); class 1 -> loss ln(4/3)
        let mut z = vec![0.0f64, 3f64.ln()];
        let loss = loss_and_gradient(columns(&mut z, 2), &Targets::Classes(vec![1]), true);
        assert!((loss - (4.0f64 / 3.0).ln()).abs() < 1e-15);
        assert!((z[0] - 0.25).abs() < 1e-15 && (z[1] + 0.25).abs() < 1e-15);
        // huge logits do not overflow
        let mut z = vec![1000.0f32, 0.0, -1000.0];
        let loss = loss_and_gradient(columns(&mut z, 3), &Targets::Classes(vec![0]), false);
        assert!(loss.abs() < 1e-6);
    }

    #[test]
    fn mse_is_the_mean_over_all_entries() {
        let mut y = vec![1.0f64, 2.0, 3.0, 5.0];
        let t = Targets::Values(vec![0.0, 2.0, 3.0, 3.0]);
        let loss = loss_and_gradient(columns(&mut y, 2), &t, true);
        assert!((loss - 5.0 / 4.0).abs() < 1e-15);
        assert_eq!(y, vec![0.5, 0.0, 0.0, 1.0]);
    }
}

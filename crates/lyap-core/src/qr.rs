//! The orthonormalisation kernel of the QR method: `Y = Q R`, keep `Q`, return `log|diag R|`.
//!
//! Uses faer's blocked, in-place Householder factorisation on one thread (`Par::Seq`): the
//! engine parallelises across trajectories, never inside one small factorisation, and all
//! buffers (Householder factor, scratch stack) are allocated once per trajectory.

use crate::Real;
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::householder;
use faer::linalg::qr::no_pivoting::factor;
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Conj, Mat, MatMut, Par, Spec};

/// Reusable buffers for the thin QR factorisation of a `rows x cols` matrix (`rows >= cols`).
pub struct QrKernel<T: Real> {
    rows: usize,
    cols: usize,
    householder_factor: Mat<T>,
    scratch: MemBuffer,
}

impl<T: Real> QrKernel<T> {
    /// Buffers for `rows x cols` factorisations, `cols <= rows`.
    pub fn new(rows: usize, cols: usize) -> Self {
        assert!(
            cols >= 1 && cols <= rows,
            "QR kernel needs 1 <= cols <= rows"
        );
        let blocksize = factor::recommended_blocksize::<T>(rows, cols).clamp(1, cols);
        let params: Spec<factor::QrParams, T> = Default::default();
        let req = StackReq::any_of(&[
            factor::qr_in_place_scratch::<T>(rows, cols, blocksize, Par::Seq, params),
            householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<T>(
                rows, blocksize, cols,
            ),
        ]);
        Self {
            rows,
            cols,
            householder_factor: Mat::zeros(blocksize, cols),
            scratch: MemBuffer::new(req),
        }
    }

    /// Factorises `y = Q R` in place (destroying `y`), writes the thin `Q` (`rows x cols`,
    /// orthonormal columns) into `q`, and adds `ln|R_ii|` to `log_diag[i]`.
    ///
    /// `ln|R_ii|` is `-inf` when a direction collapsed exactly (dead ReLU units, zero weights);
    /// it is accumulated as such and never turned into a panic.
    pub fn orthonormalize(
        &mut self,
        mut y: MatMut<'_, T>,
        mut q: MatMut<'_, T>,
        log_diag: &mut [f64],
    ) {
        debug_assert_eq!((y.nrows(), y.ncols()), (self.rows, self.cols));
        debug_assert_eq!((q.nrows(), q.ncols()), (self.rows, self.cols));
        let stack = MemStack::new(&mut self.scratch);
        factor::qr_in_place(
            y.rb_mut(),
            self.householder_factor.as_mut(),
            Par::Seq,
            stack,
            Default::default(),
        );
        for (i, acc) in log_diag.iter_mut().enumerate().take(self.cols) {
            *acc += y[(i, i)].as_f64().abs().ln();
        }
        // Q = H_1 ... H_k [I_k; 0]
        q.fill(T::of_f64(0.0));
        for i in 0..self.cols {
            q[(i, i)] = T::of_f64(1.0);
        }
        let stack = MemStack::new(&mut self.scratch);
        householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
            y.rb(),
            self.householder_factor.as_ref(),
            Conj::No,
            q,
            Par::Seq,
            stack,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
        let mut state = seed;
        Mat::from_fn(rows, cols, |_, _| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        })
    }

    #[test]
    fn q_is_orthonormal_and_reproduces_y() {
        for (rows, cols) in [(5, 5), (40, 7), (130, 130), (97, 60)] {
            let y = pseudo_random(rows, cols, rows as u64 * 31 + cols as u64);
            let mut kernel = QrKernel::<f64>::new(rows, cols);
            let mut work = y.clone();
            let mut q = Mat::<f64>::zeros(rows, cols);
            let mut log_diag = vec![0.0; cols];
            kernel.orthonormalize(work.as_mut(), q.as_mut(), &mut log_diag);
            let qtq = q.transpose() * &q;
            let eye = Mat::<f64>::identity(cols, cols);
            assert!(
                (&qtq - &eye).norm_max() < 1e-12,
                "Q^T Q != I for {rows}x{cols}"
            );
            // R = Q^T Y must be upper triangular with |diag| = exp(log_diag)
            let r = q.transpose() * &y;
            for j in 0..cols {
                for i in j + 1..cols {
                    assert!(r[(i, j)].abs() < 1e-12);
                }
                assert!((r[(j, j)].abs().ln() - log_diag[j]).abs() < 1e-10);
            }
            assert!((&q * &r - &y).norm_max() < 1e-12);
        }
    }

    #[test]
    fn collapsed_direction_gives_minus_infinity() {
        let mut y = Mat::<f64>::zeros(4, 2);
        y[(0, 0)] = 2.0;
        let mut kernel = QrKernel::<f64>::new(4, 2);
        let mut q = Mat::<f64>::zeros(4, 2);
        let mut log_diag = vec![0.0; 2];
        kernel.orthonormalize(y.as_mut(), q.as_mut(), &mut log_diag);
        assert!((log_diag[0] - 2f64.ln()).abs() < 1e-14);
        assert_eq!(log_diag[1], f64::NEG_INFINITY);
    }
}

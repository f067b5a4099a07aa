//! The orthonormalisation kernel of the QR method: `Y = Q R`, keep `Q`, return `log|diag R|`
//! (docs/DESIGN.md section 2).
//!
//! A blocked, right-looking Householder QR (LAPACK's `geqrf` / `orgqr` scheme) built on faer's
//! Householder primitives, run on one thread (`Par::Seq`): the engine parallelises across
//! trajectories, never inside one small factorisation, and every buffer is allocated once.
//!
//! - A block of `b` reflectors, `H_j ... H_(j+b-1) = I - V T^-1 V^T`, is applied (to the
//!   trailing columns, and to the next step's `J` from the right) as two plain matrix products
//!   with an explicit `V` (unit lower trapezoid) and `V T^-T`, formed once per block.
//! - The unblocked leaves run compiled for the widest SIMD ([`with_wide_simd`]) with their own
//!   Householder vector, whose norm is one `f64`-accumulated pass over the sum of squares
//!   (faer's scaled pairwise norm only where that sum could have overflowed or underflowed).
//!
//! Why not `faer::linalg::qr::no_pivoting::factor::qr_in_place`: it is rank-revealing. A column
//! whose new direction is below `16 m eps` of its norm is skipped, which shifts the diagonal of
//! `R` and leaves infinite Householder coefficients. In a Lyapunov computation such columns are
//! the normal case for strongly contracting directions (in `f32` a ratio of `1e-3` suffices), and
//! their tiny `R_ii` is exactly the quantity measured. This kernel never skips a column: a
//! collapsed direction gives `R_ii = 0`, i.e. `ln|R_ii| = -inf`, and an identity reflector.
//!
//! Measurements: BENCHMARKS.md.

use crate::dense::{column, column_mut, gemm};
use crate::simd::with_wide_simd;
use crate::vector::{axpy, dot};
use crate::Real;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::householder;
use faer::linalg::triangular_solve;
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Accum, Conj, Mat, MatMut, MatRef, Par};

/// Width of the unblocked leaves of the recursive panel factorisation.
const LEAF_WIDTH: usize = 8;

/// The Householder blocks of a `cols`-column factorisation: `(first column, width)`.
fn blocks(cols: usize, blocksize: usize) -> impl DoubleEndedIterator<Item = (usize, usize)> {
    (0..cols)
        .step_by(blocksize)
        .map(move |start| (start, blocksize.min(cols - start)))
}

/// `||x||_2` from the plain sum of squares, accumulated in `f64` (exact squares of `f32`
/// values, and one vectorised pass instead of faer's pairwise scaled one). The sum is used when
/// no square can have overflowed (it is finite) or underflowed enough to matter (it is at least
/// `min_positive / eps^2` of `f64`, so squares lost below `min_positive` change it by at most
/// `len eps^2` relatively), which for `f32` inputs is always; faer's scaled norm otherwise.
/// The `f64` accumulation matters for accuracy: summing the squares in `f32` moved the `f32`
/// spectrum of the fixture LSTM twice as far from the `f64` one.
#[inline(always)]
fn norm_l2<T: Real>(x: &[T]) -> T {
    let mut partial = [0.0f64; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for lane in 0..8 {
            let value = chunk[lane].as_f64();
            partial[lane] += value * value;
        }
    }
    let mut sum_of_squares = ((partial[0] + partial[4]) + (partial[1] + partial[5]))
        + ((partial[2] + partial[6]) + (partial[3] + partial[7]));
    for value in rest {
        sum_of_squares += value.as_f64() * value.as_f64();
    }
    let safe_minimum = f64::MIN_POSITIVE / (f64::EPSILON * f64::EPSILON);
    if sum_of_squares.is_finite() && sum_of_squares >= safe_minimum {
        T::of_f64(sum_of_squares.sqrt())
    } else {
        faer::ColRef::from_slice(x).norm_l2()
    }
}

/// The Householder reflector `H = I - v v^T / tau`, `v = [1; essential]`, with
/// `H [head; tail] = [beta; 0]`: on return `head` holds `beta` and `tail` the essential part of
/// `v`, and `tau` is returned. The conventions (and the results) of faer's
/// `make_householder_in_place`, so faer's block-factor routines accept it: `beta = -sign(head)
/// ||[head; tail]||`, and `tau = infinity` (the identity) when the tail is below the smallest
/// normal number.
#[inline(always)]
fn make_householder<T: Real>(head: &mut T, tail: &mut [T]) -> T {
    let tail_norm = norm_l2(tail);
    let mut head_norm = head.abs();
    if head_norm < T::min_positive_value() {
        *head = T::zero();
        head_norm = T::zero();
    }
    if tail_norm < T::min_positive_value() {
        return T::infinity();
    }
    let norm = head_norm.hypot(tail_norm);
    let sign = if head_norm != T::zero() {
        *head / head_norm
    } else {
        T::one()
    };
    let signed_norm = sign * norm;
    let head_with_beta_inv = (*head + signed_norm).recip();
    tail.iter_mut().for_each(|e| *e *= head_with_beta_inv);
    *head = -signed_norm;
    let scaled_tail_norm = tail_norm * head_with_beta_inv.abs();
    T::of_f64(0.5) * (T::one() + scaled_tail_norm * scaled_tail_norm)
}

/// Default Householder block size: the width of the blocks applied as matrix products (its
/// choice: BENCHMARKS.md).
pub const DEFAULT_BLOCKSIZE: usize = 32;

/// Reusable buffers for the thin QR factorisation of a `rows x cols` matrix (`rows >= cols`).
pub struct QrKernel<T: Real> {
    rows: usize,
    cols: usize,
    blocksize: usize,
    /// Block Householder factors: block `b` (columns `j = b bs .. j + bs`) stores its upper
    /// triangular factor `T_b` in `[0..bs, j..j + bs]`, with `H_j ... H_{j+bs-1} = I - V T_b^{-1} V^T`.
    householder_factor: Mat<T>,
    /// The current block's reflectors as an explicit `(rows - j) x bs` matrix `V` (unit
    /// diagonal, zeros above it), and `V T^-T`: see [`QrKernel::prepare_block`].
    explicit_basis: Mat<T>,
    scaled_basis: Mat<T>,
    /// `V^T C` of a left application (`bs x cols`) and `C V` of a right one (`rows x bs`).
    left_product: Mat<T>,
    right_product: Mat<T>,
    scratch: MemBuffer,
}

impl<T: Real> QrKernel<T> {
    /// Buffers for `rows x cols` factorisations, `1 <= cols <= rows`.
    pub fn new(rows: usize, cols: usize) -> Self {
        Self::with_blocksize(rows, cols, DEFAULT_BLOCKSIZE)
    }

    /// As [`QrKernel::new`] with an explicit Householder block size (clamped to `1..=cols`).
    pub fn with_blocksize(rows: usize, cols: usize, blocksize: usize) -> Self {
        assert!(
            cols >= 1 && cols <= rows,
            "QR kernel needs 1 <= cols <= rows"
        );
        let blocksize = blocksize.clamp(1, cols);
        // faer's block routine only runs inside the recursive panel
        let req = householder::apply_block_householder_transpose_on_the_left_in_place_scratch::<T>(
            rows, blocksize, blocksize,
        );
        Self {
            rows,
            cols,
            blocksize,
            householder_factor: Mat::zeros(blocksize, cols),
            explicit_basis: Mat::zeros(rows, blocksize),
            scaled_basis: Mat::zeros(rows, blocksize),
            left_product: Mat::zeros(blocksize, cols),
            right_product: Mat::zeros(rows, blocksize),
            scratch: MemBuffer::new(req),
        }
    }

    /// Factorises `y = Q R` in place (destroying `y`), writes the thin `Q` (`rows x cols`,
    /// orthonormal columns) into `q`, and adds `ln|R_ii|` to `log_diag[i]`.
    ///
    /// `ln|R_ii|` is `-inf` when a direction collapsed exactly (dead ReLU units, zero weights);
    /// it is accumulated as such and never turned into a panic or a NaN in `Q`.
    pub fn orthonormalize(&mut self, mut y: MatMut<'_, T>, q: MatMut<'_, T>, log_diag: &mut [f64]) {
        self.factor_in_place(y.rb_mut(), log_diag);
        self.form_q(y.rb(), q);
    }

    /// Factorises `y = Q R` in place, keeping `Q` implicit: afterwards `y` holds `R` in its upper
    /// triangle and the Householder vectors below it (the *basis*), and this kernel holds the
    /// matching block factors until the next factorisation. Adds `ln|R_ii|` to `log_diag[i]`.
    pub fn factor_in_place(&mut self, mut y: MatMut<'_, T>, log_diag: &mut [f64]) {
        debug_assert_eq!((y.nrows(), y.ncols()), (self.rows, self.cols));
        self.factor(y.rb_mut());
        for (i, acc) in log_diag.iter_mut().enumerate().take(self.cols) {
            *acc += y[(i, i)].as_f64().abs().ln();
        }
    }

    /// `target <- target Q` (`target` is `rows x rows`) for the square `Q` of the last [`factor_in_place`](Self::factor_in_place)
    /// (`rows == cols`), whose basis is `basis`: the block reflectors applied from the right,
    /// first to last. Block `j` only mixes columns `j..` of `target`. This is the product
    /// `J Q` without forming `Q`: `2 n^3` flops instead of `4/3 n^3` (forming `Q`) plus `2 n^3`.
    pub fn apply_q_on_the_right(&mut self, basis: MatRef<'_, T>, mut target: MatMut<'_, T>) {
        assert_eq!(self.rows, self.cols, "only for square factorisations");
        assert_eq!(target.nrows(), self.rows, "target must be rows x rows");
        let rows = self.rows;
        let target_rows = target.nrows();
        for (start, width) in blocks(self.cols, self.blocksize) {
            self.prepare_block(basis, start, width);
            let reflectors = self
                .explicit_basis
                .as_ref()
                .submatrix(0, 0, rows - start, width);
            let scaled = self
                .scaled_basis
                .as_ref()
                .submatrix(0, 0, rows - start, width);
            let mut product = self
                .right_product
                .as_mut()
                .submatrix_mut(0, 0, target_rows, width);
            let columns = target.rb_mut().subcols_mut(start, rows - start);
            // C <- C (I - V T^-1 V^T) = C - (C V) (V T^-T)^T
            gemm(
                product.rb_mut(),
                Accum::Replace,
                columns.rb(),
                reflectors,
                T::one(),
            );
            gemm(
                columns,
                Accum::Add,
                product.rb(),
                scaled.transpose(),
                -T::one(),
            );
        }
    }

    /// Blocked Householder QR: `R` in the upper triangle of `a`, the essential parts of the
    /// Householder vectors below it, block factors in `self.householder_factor`.
    fn factor(&mut self, mut a: MatMut<'_, T>) {
        let (rows, cols, bs) = (self.rows, self.cols, self.blocksize);
        for (start, width) in blocks(cols, bs) {
            self.factor_panel(a.rb_mut(), start, start, width);
            let basis = a.rb().submatrix(start, start, rows - start, width);
            let mut factor_block = self
                .householder_factor
                .as_mut()
                .submatrix_mut(0, start, width, width);
            householder::upgrade_householder_factor(
                factor_block.rb_mut(),
                basis,
                width,
                LEAF_WIDTH.min(width),
                Par::Seq,
            );
            if start + width < cols {
                let (panel, trailing) = a.rb_mut().split_at_col_mut(start + width);
                self.prepare_block(panel.rb(), start, width);
                self.apply_block_transpose_on_the_left(
                    trailing.subrows_mut(start, rows - start),
                    width,
                );
            }
        }
    }

    /// Makes the block of reflectors `start .. start + width` of `basis` explicit for matrix
    /// products: `V` (`(rows - start) x width`, unit diagonal, zeros above) in
    /// `explicit_basis`, and `V T^-T` in `scaled_basis`, where the block's product of
    /// reflectors is `I - V T^-1 V^T` (faer's block factor `T`). Costs `m b` copies and an
    /// `m b^2 / 2` triangular solve, against the `4 m n b` flops of applying the block.
    fn prepare_block(&mut self, basis: MatRef<'_, T>, start: usize, width: usize) {
        let height = self.rows - start;
        let mut reflectors = self
            .explicit_basis
            .as_mut()
            .submatrix_mut(0, 0, height, width);
        for c in 0..width {
            let source = column(basis.subrows(start, height), start + c);
            let target = column_mut(reflectors.rb_mut(), c);
            target[..c].fill(T::zero());
            target[c] = T::one();
            target[c + 1..].copy_from_slice(&source[c + 1..]);
        }
        let mut scaled = self
            .scaled_basis
            .as_mut()
            .submatrix_mut(0, 0, height, width);
        scaled.copy_from(reflectors.rb());
        // V T^-T = S  <=>  T S^T = V^T
        triangular_solve::solve_upper_triangular_in_place(
            self.householder_factor
                .as_ref()
                .submatrix(0, start, width, width),
            scaled.transpose_mut(),
            Par::Seq,
        );
    }

    /// `C <- (I - V T^-1 V^T)^T C = C - (V T^-T) (V^T C)` for the block made ready by
    /// [`QrKernel::prepare_block`]; `C` has its rows.
    fn apply_block_transpose_on_the_left(&mut self, target: MatMut<'_, T>, width: usize) {
        let height = target.nrows();
        let reflectors = self.explicit_basis.as_ref().submatrix(0, 0, height, width);
        let scaled = self.scaled_basis.as_ref().submatrix(0, 0, height, width);
        let mut product = self
            .left_product
            .as_mut()
            .submatrix_mut(0, 0, width, target.ncols());
        gemm(
            product.rb_mut(),
            Accum::Replace,
            reflectors.transpose(),
            target.rb(),
            T::one(),
        );
        gemm(target, Accum::Add, scaled, product.rb(), -T::one());
    }

    /// Factorises columns `start .. start + width` of the block starting at `block_start`,
    /// touching no column outside them: recursively, left half, then the left half's block
    /// reflector applied to the right half (a matrix product), then the right half, down to
    /// unblocked leaves of [`LEAF_WIDTH`] columns. Most of the panel's flops thus run as
    /// products instead of vector operations. Leaves leave their block factors on the diagonal
    /// of the block's factor, where `upgrade_householder_factor` expects them.
    fn factor_panel(
        &mut self,
        mut a: MatMut<'_, T>,
        block_start: usize,
        start: usize,
        width: usize,
    ) {
        let rows = self.rows;
        let factor_row = start - block_start;
        if width <= LEAF_WIDTH {
            self.factor_leaf(a.rb_mut(), factor_row, start, width);
            return;
        }
        let left = (width / 2).div_ceil(LEAF_WIDTH) * LEAF_WIDTH;
        self.factor_panel(a.rb_mut(), block_start, start, left);
        let mut left_factor = self
            .householder_factor
            .as_mut()
            .submatrix_mut(factor_row, start, left, left);
        let (panel, rest) = a.rb_mut().split_at_col_mut(start + left);
        let left_basis = panel.rb().submatrix(start, start, rows - start, left);
        householder::upgrade_householder_factor(
            left_factor.rb_mut(),
            left_basis,
            left,
            LEAF_WIDTH,
            Par::Seq,
        );
        householder::apply_block_householder_transpose_on_the_left_in_place_with_conj(
            left_basis,
            left_factor.rb(),
            Conj::No,
            rest.submatrix_mut(start, 0, rows - start, width - left),
            Par::Seq,
            MemStack::new(&mut self.scratch),
        );
        self.factor_panel(a, block_start, start + left, width - left);
    }

    /// Unblocked Householder QR of columns `start .. start + width`: `H_c` for each column `c`,
    /// applied to the leaf's later columns; the leaf's block factor at
    /// `[factor_row.., start..]`. The vector loops run compiled for the widest SIMD.
    fn factor_leaf(&mut self, mut a: MatMut<'_, T>, factor_row: usize, start: usize, width: usize) {
        let mut factor_block = self
            .householder_factor
            .as_mut()
            .submatrix_mut(factor_row, start, width, width);
        let mut leaf = a.rb_mut().subcols_mut(start, width);
        with_wide_simd(
            #[inline(always)]
            || {
                for offset in 0..width {
                    let c = start + offset;
                    let (mut done, mut rest) = leaf.rb_mut().split_at_col_mut(offset + 1);
                    let column = column_mut(done.rb_mut(), offset);
                    let (head, v) = column[c..].split_at_mut(1);
                    let tau = make_householder(&mut head[0], v);
                    factor_block[(offset, offset)] = tau;
                    let tau_inv = tau.recip();
                    for x in 0..rest.ncols() {
                        let column = &mut column_mut(rest.rb_mut(), x)[c..];
                        let (head, tail) = column.split_at_mut(1);
                        let k = -((head[0] + dot(v, tail)) * tau_inv);
                        head[0] += k;
                        axpy(k, v, tail);
                    }
                }
            },
        );
        let basis = a.rb().submatrix(start, start, self.rows - start, width);
        householder::upgrade_householder_factor(factor_block, basis, width, 1, Par::Seq);
    }

    /// Writes the thin `Q` of the last factorisation (basis `a`) into `q`:
    /// `Q = B_0 B_1 ... [I; 0]`, applying the blocks last to first; block `b` starting at
    /// column `j` only touches `Q[j.., j..]` because the columns before `j` are still `e_i`
    /// there (the `orgqr` saving: `4/3 n^3` instead of `2 n^3` flops for a square matrix).
    pub fn form_q(&mut self, a: MatRef<'_, T>, mut q: MatMut<'_, T>) {
        let (rows, cols, bs) = (self.rows, self.cols, self.blocksize);
        q.fill(T::of_f64(0.0));
        for i in 0..cols {
            q[(i, i)] = T::of_f64(1.0);
        }
        for (j, width) in blocks(cols, bs).rev() {
            self.prepare_block(a, j, width);
            let height = rows - j;
            let reflectors = self.explicit_basis.as_ref().submatrix(0, 0, height, width);
            let scaled = self.scaled_basis.as_ref().submatrix(0, 0, height, width);
            let mut product = self
                .left_product
                .as_mut()
                .submatrix_mut(0, 0, width, cols - j);
            let mut target = q.rb_mut().submatrix_mut(j, j, height, cols - j);
            // C <- (I - V T^-1 V^T) C = C - V ((V T^-T)^T C)
            gemm(
                product.rb_mut(),
                Accum::Replace,
                scaled.transpose(),
                target.rb(),
                T::one(),
            );
            gemm(
                target.rb_mut(),
                Accum::Add,
                reflectors,
                product.rb(),
                -T::one(),
            );
        }
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
        assert!(q.col_iter().all(|c| c.iter().all(|x| x.is_finite())));
        let qtq = q.transpose() * &q;
        assert!((&qtq - &Mat::<f64>::identity(2, 2)).norm_max() < 1e-14);
    }

    /// A column whose new direction is 1e-6 of its norm: faer's rank-revealing QR skips such a
    /// column in f32 (threshold 16 m eps ~ 1e-4 here); the Lyapunov method must measure it.
    #[test]
    fn nearly_dependent_column_is_measured_not_skipped() {
        let rows = 64;
        let first = pseudo_random(rows, 1, 7);
        let noise = pseudo_random(rows, 1, 8);
        let mut y = Mat::<f32>::zeros(rows, 2);
        for r in 0..rows {
            y[(r, 0)] = first[(r, 0)] as f32;
            y[(r, 1)] = (first[(r, 0)] + 1e-6 * noise[(r, 0)]) as f32;
        }
        let exact = {
            let y64 = Mat::<f64>::from_fn(rows, 2, |r, c| y[(r, c)] as f64);
            let mut kernel = QrKernel::<f64>::new(rows, 2);
            let mut q = Mat::<f64>::zeros(rows, 2);
            let mut log_diag = vec![0.0; 2];
            kernel.orthonormalize(y64.clone().as_mut(), q.as_mut(), &mut log_diag);
            log_diag
        };
        let mut kernel = QrKernel::<f32>::new(rows, 2);
        let mut q = Mat::<f32>::zeros(rows, 2);
        let mut log_diag = vec![0.0; 2];
        kernel.orthonormalize(y.as_mut(), q.as_mut(), &mut log_diag);
        assert!(log_diag.iter().all(|x| x.is_finite()), "{log_diag:?}");
        assert!((log_diag[0] - exact[0]).abs() < 1e-6);
        // R_22 is at the f32 rounding level of the inputs; it must be measured, not skipped
        assert!(log_diag[1] < log_diag[0] - 5.0);
        assert!(q.col_iter().all(|c| c.iter().all(|x| x.is_finite())));
    }

    #[test]
    fn applying_q_on_the_right_equals_the_product_with_the_formed_q() {
        for n in [5, 40, 70] {
            let y = pseudo_random(n, n, 11 + n as u64);
            let target = pseudo_random(n, n, 12);
            let mut kernel = QrKernel::<f64>::with_blocksize(n, n, 16);
            let mut basis = y.clone();
            let mut q = Mat::<f64>::zeros(n, n);
            let mut log_diag = vec![0.0; n];
            kernel.factor_in_place(basis.as_mut(), &mut log_diag);
            kernel.form_q(basis.as_ref(), q.as_mut());
            let mut product = target.clone();
            kernel.apply_q_on_the_right(basis.as_ref(), product.as_mut());
            assert!((&product - &target * &q).norm_max() < 1e-12, "n = {n}");
        }
    }

    #[test]
    fn every_blocksize_gives_the_same_factorisation() {
        let y = pseudo_random(70, 45, 3);
        let mut reference = None;
        for blocksize in [1, 4, 16, 32, 45, 64] {
            let mut kernel = QrKernel::<f64>::with_blocksize(70, 45, blocksize);
            let mut q = Mat::<f64>::zeros(70, 45);
            let mut log_diag = vec![0.0; 45];
            kernel.orthonormalize(y.clone().as_mut(), q.as_mut(), &mut log_diag);
            match &reference {
                None => reference = Some((q, log_diag)),
                Some((q0, l0)) => {
                    assert!((&q - q0).norm_max() < 1e-12, "blocksize {blocksize}");
                    for (a, b) in log_diag.iter().zip(l0) {
                        assert!((a - b).abs() < 1e-12);
                    }
                }
            }
        }
    }
}

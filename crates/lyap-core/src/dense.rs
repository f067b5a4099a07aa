//! Dense-matrix plumbing shared by the engine, the cells and training: a column of a faer
//! matrix as a contiguous slice, the single-threaded matrix product, and buffer reshaping.
//!
//! faer matrices are column-major; every buffer the crates allocate (`Mat::zeros`) has unit
//! row stride, so each of its columns, and each column of a row range of it, is one contiguous
//! slice. The kernels walk those slices, which the compiler vectorises.
//!
//! ```
//! use faer::{Accum, Mat};
//! use lyap_core::dense::{column, column_mut, ensure_shape, gemm};
//!
//! let a = Mat::<f64>::from_fn(2, 2, |i, j| (2 * i + j) as f64); // [0 1; 2 3]
//! let b = Mat::<f64>::identity(2, 2);
//! let mut c = Mat::<f64>::zeros(0, 0);
//! ensure_shape(&mut c, 2, 2); // a 2 x 2 buffer; kept as it is on the next call
//! gemm(c.as_mut(), Accum::Replace, a.as_ref(), b.as_ref(), 1.0); // c = a
//! gemm(c.as_mut(), Accum::Add, a.as_ref(), b.as_ref(), -0.5); // c = a / 2
//! assert_eq!(column(c.as_ref(), 1), &[0.5, 1.5]);
//! column_mut(c.as_mut(), 0)[1] = 7.0;
//! assert_eq!(c[(1, 0)], 7.0);
//! ```

use crate::Real;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// Column `j` of `mat` as a contiguous slice of its `nrows()` entries.
///
/// # Panics
/// If `j >= mat.ncols()`, or if `mat` does not have unit row stride (a transposed view, or a
/// view with a row step).
#[inline(always)]
pub fn column<T>(mat: MatRef<'_, T>, j: usize) -> &[T] {
    let column = mat.col(j).try_as_col_major();
    column
        .expect("column of a matrix with unit row stride")
        .as_slice()
}

/// Column `j` of `mat` as a contiguous mutable slice of its `nrows()` entries.
///
/// # Panics
/// As [`column()`].
#[inline(always)]
pub fn column_mut<T>(mat: MatMut<'_, T>, j: usize) -> &mut [T] {
    let column = mat.col_mut(j).try_as_col_major_mut();
    column
        .expect("column of a matrix with unit row stride")
        .as_slice_mut()
}

/// `dst = alpha lhs rhs` (`Accum::Replace`) or `dst += alpha lhs rhs` (`Accum::Add`), computed on
/// the calling thread (`Par::Seq`): the crates parallelise across sequences and batch parts,
/// never inside one product.
///
/// # Panics
/// If the shapes do not match: `lhs` is `m x k`, `rhs` is `k x n`, `dst` is `m x n`.
#[inline]
pub fn gemm<T: Real>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    alpha: T,
) {
    matmul(dst, accum, lhs, rhs, alpha, Par::Seq);
}

/// Makes `mat` a `rows x cols` matrix, reallocating (zero-filled) only if its shape differs, so
/// buffers are reused across calls. The contents are unspecified afterwards: a reused buffer
/// keeps its old values.
pub fn ensure_shape<T: Real>(mat: &mut Mat<T>, rows: usize, cols: usize) {
    if mat.nrows() != rows || mat.ncols() != cols {
        *mat = Mat::zeros(rows, cols);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_of_a_row_range_are_its_slices() {
        let mut a = Mat::<f32>::from_fn(5, 3, |i, j| (10 * j + i) as f32);
        assert_eq!(column(a.as_ref().subrows(1, 3), 2), &[21.0, 22.0, 23.0]);
        column_mut(a.as_mut().subrows_mut(3, 2), 0).fill(-1.0);
        assert_eq!(column(a.as_ref(), 0), &[0.0, 1.0, 2.0, -1.0, -1.0]);
    }

    #[test]
    #[should_panic(expected = "unit row stride")]
    fn a_transposed_view_has_no_column_slices() {
        let a = Mat::<f64>::zeros(3, 4);
        column(a.transpose(), 0);
    }

    #[test]
    fn gemm_replaces_or_adds_the_scaled_product() {
        let a = Mat::<f64>::from_fn(3, 2, |i, j| (i + 2 * j) as f64 - 1.0);
        let b = Mat::<f64>::from_fn(2, 4, |i, j| (3 * i + j) as f64 * 0.5);
        let mut c = Mat::<f64>::from_fn(3, 4, |i, j| (i * j) as f64);
        let start = c.clone();
        let product = &a * &b;
        let expected = Mat::<f64>::from_fn(3, 4, |i, j| start[(i, j)] - 2.0 * product[(i, j)]);
        gemm(c.as_mut(), Accum::Add, a.as_ref(), b.as_ref(), -2.0);
        assert!((&c - &expected).norm_max() < 1e-14);
        gemm(c.as_mut(), Accum::Replace, a.as_ref(), b.as_ref(), 1.0);
        assert!((&c - &product).norm_max() < 1e-14);
    }

    #[test]
    fn ensure_shape_keeps_a_buffer_of_the_right_shape() {
        let mut a = Mat::<f64>::from_fn(2, 3, |_, _| 4.0);
        ensure_shape(&mut a, 2, 3);
        assert_eq!(a[(1, 2)], 4.0);
        ensure_shape(&mut a, 3, 1);
        assert_eq!((a.nrows(), a.ncols(), a[(2, 0)]), (3, 1, 0.0));
    }
}

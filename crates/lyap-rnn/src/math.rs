//! Gate blocks of stacked vectors and the row-scaling kernels every cell's Jacobian is made of
//! (docs/DESIGN.md sections 2 and 3).
//!
//! Jacobians of the cells are sums of row-scaled weight blocks, `diag(v) M`. They are formed
//! here by scaling rows on the fly (O(n^2), one pass over memory), never as a product with a
//! dense diagonal matrix. All matrices are faer's column-major `Mat`, so the kernels walk
//! column by column and, within a column, over contiguous rows.

use faer::reborrow::ReborrowMut;
use faer::{Mat, MatMut, MatRef};
use lyap_core::Real;

/// Rows `gate * n .. (gate + 1) * n` of a gate-stacked vector (PyTorch layout).
#[inline(always)]
pub fn gate<T>(stacked: &[T], gate: usize, n: usize) -> &[T] {
    &stacked[gate * n..(gate + 1) * n]
}

/// The first three gate blocks `[0, 1, 2]` of a gate-stacked vector.
#[inline]
pub fn first_three_gates<T>(stacked: &[T], n: usize) -> [&[T]; 3] {
    [
        gate(stacked, 0, n),
        gate(stacked, 1, n),
        gate(stacked, 2, n),
    ]
}

/// `out[r] = a[r] x[r] + b[r] y[r] + c[r] z[r]`: the fused three-gate combination that LSTM's
/// `dc'/dh` and GRU's `dh'/dh` are made of, applied to one weight column.
#[inline]
pub fn combine_three<T: Real>(out: &mut [T], coefficients: [&[T]; 3], blocks: [&[T]; 3]) {
    let n = out.len();
    let ([a, b, c], [x, y, z]) = (coefficients, blocks);
    let (a, b, c, x, y, z) = (&a[..n], &b[..n], &c[..n], &x[..n], &y[..n], &z[..n]);
    for r in 0..n {
        out[r] = a[r] * x[r] + b[r] * y[r] + c[r] * z[r];
    }
}

/// `out[r] = a[r] x[r] + b[r] y[r]` (LSTM's `dh'/d. = diag(tc*do) W_o + diag(o*dtc) G`).
#[inline]
pub fn combine_two<T: Real>(out: &mut [T], [a, b]: [&[T]; 2], [x, y]: [&[T]; 2]) {
    for ((((o, &a), &b), &x), &y) in out.iter_mut().zip(a).zip(b).zip(x).zip(y) {
        *o = a * x + b * y;
    }
}

/// `out[r, c] = scale[r] * src[r, c]` for every column: `diag(scale) src`, by row scaling.
pub fn set_row_scaled<T: Real>(out: &mut Mat<T>, scale: &[T], src: &Mat<T>) {
    for j in 0..src.ncols() {
        let (dst, from) = (out.col_as_slice_mut(j), src.col_as_slice(j));
        for ((d, &s), &v) in dst.iter_mut().zip(scale).zip(from) {
            *d = s * v;
        }
    }
}

/// `out[r, c] += scale[r] * src[r, c]`: adds `diag(scale) src` by row scaling, for the
/// diagonal blocks of a Jacobian (LSTM's `c`-columns, GRU's `diag(z)`) applied to tangents.
pub fn add_row_scaled<T: Real>(mut out: MatMut<'_, T>, scale: &[T], src: MatRef<'_, T>) {
    for j in 0..out.ncols() {
        let contiguous = (
            out.rb_mut().col_mut(j).try_as_col_major_mut(),
            src.col(j).try_as_col_major(),
        );
        if let (Some(dst), Some(from)) = contiguous {
            for ((d, &s), &v) in dst
                .as_slice_mut()
                .iter_mut()
                .zip(scale)
                .zip(from.as_slice())
            {
                *d += s * v;
            }
        } else {
            for (r, &s) in scale.iter().enumerate() {
                out[(r, j)] += s * src[(r, j)];
            }
        }
    }
}

/// `out[r, c] = a[r] * x[r, c] + b[r] * y[r, c]`: the 2x2 diagonal block of a full-state
/// LSTM's transposed Jacobian, `out_c = diag(o dtc f) W_h + diag(f) W_c`.
pub fn set_two_row_scaled<T: Real>(
    mut out: MatMut<'_, T>,
    (a, x): (&[T], MatRef<'_, T>),
    (b, y): (&[T], MatRef<'_, T>),
) {
    for j in 0..out.ncols() {
        for r in 0..a.len() {
            out[(r, j)] = a[r] * x[(r, j)] + b[r] * y[(r, j)];
        }
    }
}

/// `out[r] += v[r]` for every column `r` of `mat`'s diagonal (adds `diag(v)` to a dense square
/// block in O(n)).
pub fn add_to_diagonal<T: Real>(mat: &mut Mat<T>, v: &[T]) {
    for (r, &x) in v.iter().enumerate() {
        mat[(r, r)] += x;
    }
}

//! The cells' pointwise code over the columns of one time step: the views of all buffers a
//! step touches (all with unit row stride), walked column by column.

use crate::arch::Arch;
use crate::cells::{GradSlices, StepSlices};
use faer::reborrow::ReborrowMut;
use faer::{MatMut, MatRef};
use lyap_core::dense::{column, column_mut};
use lyap_core::simd::with_wide_simd;
use lyap_core::Real;

/// One forward time step's column views (see [`StepSlices`]).
pub(super) struct ForwardViews<'a, T: Real> {
    pub(super) arch: Arch,
    pub(super) gates: MatMut<'a, T>,
    pub(super) hidden_preact: MatRef<'a, T>,
    pub(super) h_prev: MatRef<'a, T>,
    pub(super) c_prev: MatRef<'a, T>,
    pub(super) h: MatMut<'a, T>,
    pub(super) c: MatMut<'a, T>,
}

impl<T: Real> ForwardViews<'_, T> {
    /// The cell's forward step on every column.
    pub(super) fn run(mut self) {
        with_wide_simd(
            #[inline(always)]
            || self.run_columns(),
        );
    }

    #[inline(always)]
    fn run_columns(&mut self) {
        for b in 0..self.gates.ncols() {
            self.arch.step(StepSlices {
                gates: column_mut(self.gates.rb_mut(), b),
                hidden_preact: column(self.hidden_preact, b),
                h_prev: column(self.h_prev, b),
                c_prev: column(self.c_prev, b),
                h: column_mut(self.h.rb_mut(), b),
                c: column_mut(self.c.rb_mut(), b),
            });
        }
    }
}

/// One backward time step's column views (see [`GradSlices`]).
pub(super) struct GradViews<'a, T: Real> {
    pub(super) arch: Arch,
    pub(super) gates: MatRef<'a, T>,
    pub(super) hidden_preact: MatRef<'a, T>,
    pub(super) h_prev: MatRef<'a, T>,
    pub(super) c_prev: MatRef<'a, T>,
    pub(super) c: MatRef<'a, T>,
    pub(super) d_h_output: MatRef<'a, T>,
    pub(super) d_h_future: MatRef<'a, T>,
    pub(super) d_c: MatMut<'a, T>,
    pub(super) d_input_preact: MatMut<'a, T>,
    pub(super) d_hidden_preact: MatMut<'a, T>,
    pub(super) d_h_prev_direct: MatMut<'a, T>,
}

impl<T: Real> GradViews<'_, T> {
    /// The cell's backward step on every column.
    pub(super) fn run(mut self) {
        with_wide_simd(
            #[inline(always)]
            || self.run_columns(),
        );
    }

    #[inline(always)]
    fn run_columns(&mut self) {
        for b in 0..self.gates.ncols() {
            self.arch.backward(GradSlices {
                gates: column(self.gates, b),
                hidden_preact: column(self.hidden_preact, b),
                h_prev: column(self.h_prev, b),
                c_prev: column(self.c_prev, b),
                c: column(self.c, b),
                d_h_output: column(self.d_h_output, b),
                d_h_future: column(self.d_h_future, b),
                d_c: column_mut(self.d_c.rb_mut(), b),
                d_input_preact: column_mut(self.d_input_preact.rb_mut(), b),
                d_hidden_preact: column_mut(self.d_hidden_preact.rb_mut(), b),
                d_h_prev_direct: column_mut(self.d_h_prev_direct.rb_mut(), b),
            });
        }
    }
}

/// `sums[r] += sum_j mat[r, j]`.
pub(super) fn add_row_sums<T: Real>(sums: &mut [T], mat: MatRef<'_, T>) {
    for j in 0..mat.ncols() {
        sums.iter_mut()
            .zip(column(mat, j))
            .for_each(|(s, &v)| *s += v);
    }
}

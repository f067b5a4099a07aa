//! Column-parallel execution of the cells' pointwise code over the `B` columns of one time
//! step: the views of all buffers a step touches split together into column ranges that rayon
//! runs independently.

use crate::cells::{Cell, GradSlices, StepSlices};
use faer::reborrow::ReborrowMut;
use faer::{MatMut, MatRef};
use lyap_core::Real;

/// Column `j` as a slice (all buffers here have unit row stride).
pub(super) fn column<T: Real>(mat: MatRef<'_, T>, j: usize) -> &[T] {
    mat.col(j)
        .try_as_col_major()
        .expect("unit row stride")
        .as_slice()
}

pub(super) fn column_mut<T: Real>(mat: MatMut<'_, T>, j: usize) -> &mut [T] {
    mat.col_mut(j)
        .try_as_col_major_mut()
        .expect("unit row stride")
        .as_slice_mut()
}

/// Work on the `B` columns of one time step that splits into independent column ranges.
pub(super) trait ColumnTask: Sized + Send {
    fn ncols(&self) -> usize;
    fn split(self, at: usize) -> (Self, Self);
    fn run(self);
}

/// Runs `task` over its columns, split in halves across the rayon pool down to a few columns.
pub(super) fn run_over_columns<Task: ColumnTask>(task: Task) {
    let grain = 8.max(task.ncols() / (4 * rayon::current_num_threads()));
    fn recurse<Task: ColumnTask>(task: Task, grain: usize) {
        if task.ncols() <= grain {
            task.run();
        } else {
            let half = task.ncols() / 2;
            let (left, right) = task.split(half);
            rayon::join(|| recurse(left, grain), || recurse(right, grain));
        }
    }
    recurse(task, grain);
}

/// One forward time step's column views (see [`StepSlices`]).
pub(super) struct ForwardViews<'a, T: Real> {
    pub(super) cell: Cell,
    pub(super) gates: MatMut<'a, T>,
    pub(super) hidden_preact: MatRef<'a, T>,
    pub(super) h_prev: MatRef<'a, T>,
    pub(super) c_prev: MatRef<'a, T>,
    pub(super) h: MatMut<'a, T>,
    pub(super) c: MatMut<'a, T>,
}

impl<T: Real> ColumnTask for ForwardViews<'_, T> {
    fn ncols(&self) -> usize {
        self.gates.ncols()
    }

    fn split(self, at: usize) -> (Self, Self) {
        let (gates, gates_right) = self.gates.split_at_col_mut(at);
        let (hidden_preact, hidden_preact_right) = self.hidden_preact.split_at_col(at);
        let (h_prev, h_prev_right) = self.h_prev.split_at_col(at);
        let (c_prev, c_prev_right) = self.c_prev.split_at_col(at);
        let (h, h_right) = self.h.split_at_col_mut(at);
        let (c, c_right) = self.c.split_at_col_mut(at);
        let cell = self.cell;
        let left = Self {
            cell,
            gates,
            hidden_preact,
            h_prev,
            c_prev,
            h,
            c,
        };
        let right = Self {
            cell,
            gates: gates_right,
            hidden_preact: hidden_preact_right,
            h_prev: h_prev_right,
            c_prev: c_prev_right,
            h: h_right,
            c: c_right,
        };
        (left, right)
    }

    fn run(mut self) {
        for b in 0..self.ncols() {
            self.cell.step(StepSlices {
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
    pub(super) cell: Cell,
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

impl<T: Real> ColumnTask for GradViews<'_, T> {
    fn ncols(&self) -> usize {
        self.gates.ncols()
    }

    fn split(self, at: usize) -> (Self, Self) {
        let (gates, gates_r) = self.gates.split_at_col(at);
        let (hidden_preact, hidden_preact_r) = self.hidden_preact.split_at_col(at);
        let (h_prev, h_prev_r) = self.h_prev.split_at_col(at);
        let (c_prev, c_prev_r) = self.c_prev.split_at_col(at);
        let (c, c_r) = self.c.split_at_col(at);
        let (d_h_output, d_h_output_r) = self.d_h_output.split_at_col(at);
        let (d_h_future, d_h_future_r) = self.d_h_future.split_at_col(at);
        let (d_c, d_c_r) = self.d_c.split_at_col_mut(at);
        let (d_input_preact, d_input_preact_r) = self.d_input_preact.split_at_col_mut(at);
        let (d_hidden_preact, d_hidden_preact_r) = self.d_hidden_preact.split_at_col_mut(at);
        let (d_h_prev_direct, d_h_prev_direct_r) = self.d_h_prev_direct.split_at_col_mut(at);
        let cell = self.cell;
        let left = Self {
            cell,
            gates,
            hidden_preact,
            h_prev,
            c_prev,
            c,
            d_h_output,
            d_h_future,
            d_c,
            d_input_preact,
            d_hidden_preact,
            d_h_prev_direct,
        };
        let right = Self {
            cell,
            gates: gates_r,
            hidden_preact: hidden_preact_r,
            h_prev: h_prev_r,
            c_prev: c_prev_r,
            c: c_r,
            d_h_output: d_h_output_r,
            d_h_future: d_h_future_r,
            d_c: d_c_r,
            d_input_preact: d_input_preact_r,
            d_hidden_preact: d_hidden_preact_r,
            d_h_prev_direct: d_h_prev_direct_r,
        };
        (left, right)
    }

    fn run(mut self) {
        for b in 0..self.ncols() {
            self.cell.backward(GradSlices {
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

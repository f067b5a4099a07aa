//! Classic maps with known exponents, for testing the engine independently of any RNN
//! (docs/DESIGN.md section 2).

use crate::system::{Tangent, TangentSystem};
use crate::Real;
use faer::{Mat, MatMut, MatRef};

/// The Henon map `x' = 1 - a x^2 + y`, `y' = b x`; Jacobian `[[-2 a x, 1], [b, 0]]`.
/// For `a = 1.4, b = 0.3` its exponents are `0.41922, -1.62319` (sum `ln 0.3`).
#[derive(Clone, Debug)]
pub struct Henon {
    pub a: f64,
    pub b: f64,
    pub initial: [f64; 2],
}

impl Default for Henon {
    fn default() -> Self {
        Self {
            a: 1.4,
            b: 0.3,
            initial: [0.1, 0.1],
        }
    }
}

/// Henon state plus the `x` the last Jacobian is evaluated at.
pub struct HenonWorkspace<T> {
    state: [T; 2],
    previous_x: T,
}

impl<T: Real> TangentSystem<T> for Henon {
    type Workspace = HenonWorkspace<T>;

    fn state_dim(&self) -> usize {
        2
    }
    fn input_dim(&self) -> usize {
        0
    }
    fn workspace(&self, _max_vectors: usize) -> Self::Workspace {
        let state = [T::of_f64(self.initial[0]), T::of_f64(self.initial[1])];
        HenonWorkspace {
            state,
            previous_x: state[0],
        }
    }
    fn state<'a>(&self, workspace: &'a Self::Workspace) -> &'a [T] {
        &workspace.state
    }
    fn set_state(&self, workspace: &mut Self::Workspace, state: &[T]) -> bool {
        match *state {
            [x, y] => {
                workspace.state = [x, y];
                workspace.previous_x = x;
                true
            }
            _ => false,
        }
    }
    fn step(&self, ws: &mut Self::Workspace, _input: &[T]) {
        let [x, y] = ws.state;
        let (a, b) = (T::of_f64(self.a), T::of_f64(self.b));
        ws.previous_x = x;
        ws.state = [T::of_f64(1.0) - a * x * x + y, b * x];
    }
    fn apply_jacobian(
        &self,
        ws: &mut Self::Workspace,
        tangent: MatRef<'_, T>,
        mut out: MatMut<'_, T>,
        which: Tangent,
    ) {
        let j00 = T::of_f64(-2.0 * self.a) * ws.previous_x;
        let (j01, j10) = match which {
            Tangent::Jacobian => (T::of_f64(1.0), T::of_f64(self.b)),
            Tangent::Transposed => (T::of_f64(self.b), T::of_f64(1.0)),
        };
        for c in 0..tangent.ncols() {
            let (u, v) = (tangent[(0, c)], tangent[(1, c)]);
            out[(0, c)] = j00 * u + j01 * v;
            out[(1, c)] = j10 * u;
        }
    }
}

/// The linear input-driven map `s' = A s + B x` with constant Jacobian `A`, whose exponents
/// are `ln|mu_i(A)|` (the moduli of A's eigenvalues, decreasing).
#[derive(Clone, Debug)]
pub struct LinearMap<T: Real> {
    pub a: Mat<T>,
    pub b: Mat<T>,
}

pub struct LinearWorkspace<T> {
    state: Vec<T>,
    next: Vec<T>,
}

impl<T: Real> TangentSystem<T> for LinearMap<T> {
    type Workspace = LinearWorkspace<T>;

    fn state_dim(&self) -> usize {
        self.a.nrows()
    }
    fn input_dim(&self) -> usize {
        self.b.ncols()
    }
    fn workspace(&self, _max_vectors: usize) -> Self::Workspace {
        let n = self.a.nrows();
        LinearWorkspace {
            state: vec![T::of_f64(0.0); n],
            next: vec![T::of_f64(0.0); n],
        }
    }
    fn state<'a>(&self, workspace: &'a Self::Workspace) -> &'a [T] {
        &workspace.state
    }
    fn set_state(&self, workspace: &mut Self::Workspace, state: &[T]) -> bool {
        super::replace_state(&mut workspace.state, state)
    }
    fn step(&self, ws: &mut Self::Workspace, input: &[T]) {
        for r in 0..self.a.nrows() {
            let mut sum = T::of_f64(0.0);
            for c in 0..self.a.ncols() {
                sum += self.a[(r, c)] * ws.state[c];
            }
            for (c, &x) in input.iter().enumerate() {
                sum += self.b[(r, c)] * x;
            }
            ws.next[r] = sum;
        }
        std::mem::swap(&mut ws.state, &mut ws.next);
    }
    fn apply_jacobian(
        &self,
        _ws: &mut Self::Workspace,
        tangent: MatRef<'_, T>,
        out: MatMut<'_, T>,
        which: Tangent,
    ) {
        let a = match which {
            Tangent::Jacobian => self.a.as_ref(),
            Tangent::Transposed => self.a.transpose(),
        };
        crate::dense::gemm(out, faer::Accum::Replace, a, tangent, T::of_f64(1.0));
    }

    fn dense_jacobian_into(
        &self,
        _ws: &mut Self::Workspace,
        mut out: MatMut<'_, T>,
        which: Tangent,
    ) -> bool {
        match which {
            Tangent::Jacobian => out.copy_from(&self.a),
            Tangent::Transposed => out.copy_from(self.a.transpose()),
        }
        true
    }
}

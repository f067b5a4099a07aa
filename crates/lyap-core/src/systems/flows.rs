//! Continuous-time systems (flows) `ds/dt = f(s)`, integrated with the classical fourth-order
//! Runge-Kutta method together with their variational equation (docs/DESIGN.md section 2.1).
//!
//! One step of size `h = dt` maps `s` to `Phi(s)`:
//!
//! ```text
//! s1 = s             k1 = f(s1)
//! s2 = s + h/2 k1    k2 = f(s2)
//! s3 = s + h/2 k2    k3 = f(s3)
//! s4 = s + h k3      k4 = f(s4)
//! Phi(s) = s + h/6 (k1 + 2 k2 + 2 k3 + k4)
//! ```
//!
//! The tangent map of [`Rk4Flow`] is the exact Jacobian `DPhi(s)` of that discrete map. By the
//! chain rule through each stage (`d k_i = Df(s_i) d s_i`) it is RK4 applied to the
//! variational equation `dY/dt = Df(s(t)) Y` alongside the state, with `Df` evaluated at the
//! same stage states:
//!
//! ```text
//! Y1 = Df(s1) Q
//! Y2 = Df(s2) (Q + h/2 Y1)
//! Y3 = Df(s3) (Q + h/2 Y2)
//! Y4 = Df(s4) (Q + h Y3)
//! DPhi(s) Q = Q + h/6 (Y1 + 2 Y2 + 2 Y3 + Y4)
//! ```
//!
//! The QR method (Benettin, Galgani, Giorgilli and Strelcyn, *Meccanica* 15, 1980; Shimada and
//! Nagashima, *Prog. Theor. Phys.* 61, 1979) applied to these maps gives the exponents of the
//! RK4 map in nats per step; divided by `dt` ([`Rk4Flow::per_time_unit`],
//! [`Spectrum::per_time_unit`]) they are the flow's exponents per time unit, to the accuracy of
//! the integrator (for a linear flow `ds/dt = A s` exactly `ln|P(dt mu_i)| / dt` with `P` the
//! degree-4 Taylor polynomial of `exp`, i.e. `Re mu_i + O(dt^4)`). RK4: Hairer, Norsett and
//! Wanner, *Solving Ordinary Differential Equations I*, section II.1.
//!
//! Built in: [`Lorenz63`] (Lorenz, *J. Atmos. Sci.* 20, 1963) and [`Rossler`] (Rossler,
//! *Phys. Lett. A* 57, 1976).

use crate::dense::gemm;
use crate::spectrum::Spectrum;
use crate::system::{Tangent, TangentSystem};
use crate::Real;
use faer::{Accum, Mat, MatMut, MatRef};

/// A smooth vector field `f: R^d -> R^d` with its dense Jacobian `Df`, the right-hand side of
/// `ds/dt = f(s)`.
pub trait VectorField: Sync {
    /// The dimension `d` of the state.
    fn dim(&self) -> usize;
    /// `out = f(s)`; both of length `d`.
    fn f<T: Real>(&self, s: &[T], out: &mut [T]);
    /// `out = Df(s)`, the `d x d` Jacobian `(Df)_ij = d f_i / d s_j`; `out` is overwritten.
    fn jacobian<T: Real>(&self, s: &[T], out: MatMut<'_, T>);
    /// The state a trajectory starts from when no initial state is given.
    fn initial_state(&self) -> Vec<f64>;
    /// A box `[lo_i, hi_i]` per coordinate inside the attractor's basin, from which
    /// [`attractor_points`](crate::systems::attractor_points) draws initial conditions.
    fn initial_region(&self) -> Vec<(f64, f64)>;
}

/// The flow of `field` sampled every `dt` time units by one classical RK4 step, with the
/// exact Jacobian of that step as its tangent map (module documentation). Autonomous:
/// `input_dim() == 0`, so its input sequences are empty slices and the number of steps comes
/// from the [`SpectrumConfig`](crate::SpectrumConfig).
#[derive(Clone, Debug)]
pub struct Rk4Flow<F> {
    pub field: F,
    /// The time step, in the field's time unit.
    pub dt: f64,
}

impl<F: VectorField> Rk4Flow<F> {
    pub fn new(field: F, dt: f64) -> Self {
        Self { field, dt }
    }

    /// The spectrum per time unit: every exponent (per step, as the engine returns it) and
    /// its statistics divided by `dt`.
    pub fn per_time_unit(&self, spectrum: &Spectrum) -> Spectrum {
        spectrum.per_time_unit(self.dt)
    }
}

/// The `d x d` buffers of the tangent step.
struct TangentScratch<T> {
    /// `Df(s_i)` at one stage.
    jacobian: Mat<T>,
    /// `Q + c_i Y_(i-1)`.
    argument: Mat<T>,
    /// `Y_i`.
    stage: Mat<T>,
}

/// State, the four stage states of the last step, and scratch (`O(d^2)` memory).
pub struct Rk4Workspace<T> {
    state: Vec<T>,
    stages: [Vec<T>; 4],
    rate: Vec<T>,
    sum: Vec<T>,
    scratch: TangentScratch<T>,
    identity: Mat<T>,
    dense: Mat<T>,
}

impl<F: VectorField> Rk4Flow<F> {
    /// `out = DPhi Q` for the stage states of the last step (module documentation);
    /// `q` and `out` are `d x k`, `k <= d`.
    fn tangent_step<T: Real>(
        &self,
        stages: &[Vec<T>; 4],
        scratch: &mut TangentScratch<T>,
        q: MatRef<'_, T>,
        mut out: MatMut<'_, T>,
    ) {
        let h = T::of_f64(self.dt);
        let half = T::of_f64(0.5 * self.dt);
        let (d, k) = (q.nrows(), q.ncols());
        let shifts = [T::of_f64(0.0), half, half, h];
        let weights = [1.0, 2.0, 2.0, 1.0].map(T::of_f64);
        let TangentScratch {
            jacobian,
            argument,
            stage,
        } = scratch;
        let mut argument = argument.as_mut().subcols_mut(0, k);
        let mut stage = stage.as_mut().subcols_mut(0, k);
        for i in 0..4 {
            self.field.jacobian(&stages[i], jacobian.as_mut());
            let input = if i == 0 {
                q
            } else {
                for c in 0..k {
                    for r in 0..d {
                        argument[(r, c)] = q[(r, c)] + shifts[i] * stage[(r, c)];
                    }
                }
                argument.as_ref()
            };
            gemm(
                stage.as_mut(),
                Accum::Replace,
                jacobian.as_ref(),
                input,
                T::of_f64(1.0),
            );
            for c in 0..k {
                for r in 0..d {
                    let term = weights[i] * stage[(r, c)];
                    out[(r, c)] = if i == 0 { term } else { out[(r, c)] + term };
                }
            }
        }
        let sixth = T::of_f64(self.dt / 6.0);
        for c in 0..k {
            for r in 0..d {
                out[(r, c)] = q[(r, c)] + sixth * out[(r, c)];
            }
        }
    }
}

impl<T: Real, F: VectorField> TangentSystem<T> for Rk4Flow<F> {
    type Workspace = Rk4Workspace<T>;

    fn state_dim(&self) -> usize {
        self.field.dim()
    }
    fn input_dim(&self) -> usize {
        0
    }
    /// Scratch is `d x d` whatever `max_vectors` (flows are low-dimensional).
    fn workspace(&self, _max_vectors: usize) -> Self::Workspace {
        let d = self.field.dim();
        let state: Vec<T> = self
            .field
            .initial_state()
            .into_iter()
            .map(T::of_f64)
            .collect();
        let zeros = || vec![T::of_f64(0.0); d];
        Rk4Workspace {
            stages: [state.clone(), zeros(), zeros(), zeros()],
            state,
            rate: zeros(),
            sum: zeros(),
            scratch: TangentScratch {
                jacobian: Mat::zeros(d, d),
                argument: Mat::zeros(d, d),
                stage: Mat::zeros(d, d),
            },
            identity: Mat::identity(d, d),
            dense: Mat::zeros(d, d),
        }
    }
    fn state<'a>(&self, workspace: &'a Self::Workspace) -> &'a [T] {
        &workspace.state
    }
    fn set_state(&self, workspace: &mut Self::Workspace, state: &[T]) -> bool {
        super::replace_state(&mut workspace.state, state)
    }
    /// One RK4 step; keeps the stage states `s1..s4` for the tangent map.
    fn step(&self, ws: &mut Self::Workspace, _input: &[T]) {
        let h = T::of_f64(self.dt);
        let half = T::of_f64(0.5 * self.dt);
        let shifts = [half, half, h];
        let weights = [1.0, 2.0, 2.0, 1.0].map(T::of_f64);
        ws.stages[0].copy_from_slice(&ws.state);
        for i in 0..4 {
            self.field.f(&ws.stages[i], &mut ws.rate);
            for (sum, &rate) in ws.sum.iter_mut().zip(&ws.rate) {
                *sum = if i == 0 {
                    rate
                } else {
                    *sum + weights[i] * rate
                };
            }
            if i < 3 {
                let next = &mut ws.stages[i + 1];
                for ((next, &s), &rate) in next.iter_mut().zip(&ws.state).zip(&ws.rate) {
                    *next = s + shifts[i] * rate;
                }
            }
        }
        let sixth = T::of_f64(self.dt / 6.0);
        for (s, &sum) in ws.state.iter_mut().zip(&ws.sum) {
            *s += sixth * sum;
        }
    }
    fn apply_jacobian(
        &self,
        ws: &mut Self::Workspace,
        tangent: MatRef<'_, T>,
        mut out: MatMut<'_, T>,
        which: Tangent,
    ) {
        match which {
            Tangent::Jacobian => self.tangent_step(&ws.stages, &mut ws.scratch, tangent, out),
            Tangent::Transposed => {
                let identity = ws.identity.as_ref();
                self.tangent_step(&ws.stages, &mut ws.scratch, identity, ws.dense.as_mut());
                gemm(
                    out.as_mut(),
                    Accum::Replace,
                    ws.dense.transpose(),
                    tangent,
                    T::of_f64(1.0),
                );
            }
        }
    }
    /// `DPhi` (or its transpose) as a dense matrix: the tangent step applied to the identity.
    fn dense_jacobian_into(
        &self,
        ws: &mut Self::Workspace,
        mut out: MatMut<'_, T>,
        which: Tangent,
    ) -> bool {
        let identity = ws.identity.as_ref();
        match which {
            Tangent::Jacobian => self.tangent_step(&ws.stages, &mut ws.scratch, identity, out),
            Tangent::Transposed => {
                self.tangent_step(&ws.stages, &mut ws.scratch, identity, ws.dense.as_mut());
                out.copy_from(ws.dense.transpose());
            }
        }
        true
    }
}

/// The Lorenz (1963) system `x' = sigma (y - x)`, `y' = x (rho - z) - y`, `z' = x y - beta z`,
/// with `Df = [[-sigma, sigma, 0], [rho - z, -1, -x], [y, x, -beta]]` and constant trace
/// `-(sigma + 1 + beta)`. For the defaults `sigma = 10, rho = 28, beta = 8/3` its exponents are
/// `0.9056, 0, -14.5723` per time unit and its Kaplan-Yorke dimension `2.062` (Sprott,
/// *Chaos and Time-Series Analysis*, 2003): [`Lorenz63::EXPONENTS`],
/// [`Lorenz63::KAPLAN_YORKE_DIMENSION`], [`Lorenz63::REFERENCE`].
#[derive(Clone, Debug, PartialEq)]
pub struct Lorenz63 {
    pub sigma: f64,
    pub rho: f64,
    pub beta: f64,
}

impl Lorenz63 {
    /// The Lyapunov exponents of the default system per time unit (natural log), in
    /// decreasing order, as published in [`Lorenz63::REFERENCE`]. The one home of these
    /// values: every comparison with "the true Lorenz-63" reads them from here.
    pub const EXPONENTS: [f64; 3] = [0.9056, 0.0, -14.5723];
    /// The Kaplan-Yorke dimension of the default system's attractor, from
    /// [`Lorenz63::REFERENCE`] (`2 + 0.9056 / 14.5723 = 2.0621`).
    pub const KAPLAN_YORKE_DIMENSION: f64 = 2.062;
    /// Where [`Lorenz63::EXPONENTS`] and [`Lorenz63::KAPLAN_YORKE_DIMENSION`] come from.
    pub const REFERENCE: &'static str =
        "J. C. Sprott, Chaos and Time-Series Analysis, Oxford University Press, 2003";
}

impl Default for Lorenz63 {
    fn default() -> Self {
        Self {
            sigma: 10.0,
            rho: 28.0,
            beta: 8.0 / 3.0,
        }
    }
}

impl VectorField for Lorenz63 {
    fn dim(&self) -> usize {
        3
    }
    fn f<T: Real>(&self, s: &[T], out: &mut [T]) {
        let [sigma, rho, beta] = [self.sigma, self.rho, self.beta].map(T::of_f64);
        let (x, y, z) = (s[0], s[1], s[2]);
        out[0] = sigma * (y - x);
        out[1] = x * (rho - z) - y;
        out[2] = x * y - beta * z;
    }
    fn jacobian<T: Real>(&self, s: &[T], out: MatMut<'_, T>) {
        let [sigma, rho, beta] = [self.sigma, self.rho, self.beta].map(T::of_f64);
        let (x, y, z) = (s[0], s[1], s[2]);
        let rows = [
            [-sigma, sigma, T::of_f64(0.0)],
            [rho - z, T::of_f64(-1.0), -x],
            [y, x, -beta],
        ];
        write_rows(rows, out);
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![1.0, 1.0, 1.0]
    }
    fn initial_region(&self) -> Vec<(f64, f64)> {
        vec![(-15.0, 15.0), (-20.0, 20.0), (5.0, 40.0)]
    }
}

/// The Rossler (1976) system `x' = -y - z`, `y' = x + a y`, `z' = b + z (x - c)`, with
/// `Df = [[0, -1, -1], [1, a, 0], [z, 0, x - c]]` and trace `a + x - c`. For the defaults
/// `a = b = 0.2, c = 5.7` its exponents are about `0.0714, 0, -5.3943` per time unit (Sprott,
/// *Chaos and Time-Series Analysis*, 2003).
#[derive(Clone, Debug, PartialEq)]
pub struct Rossler {
    pub a: f64,
    pub b: f64,
    pub c: f64,
}

impl Default for Rossler {
    fn default() -> Self {
        Self {
            a: 0.2,
            b: 0.2,
            c: 5.7,
        }
    }
}

impl VectorField for Rossler {
    fn dim(&self) -> usize {
        3
    }
    fn f<T: Real>(&self, s: &[T], out: &mut [T]) {
        let [a, b, c] = [self.a, self.b, self.c].map(T::of_f64);
        let (x, y, z) = (s[0], s[1], s[2]);
        out[0] = -y - z;
        out[1] = x + a * y;
        out[2] = b + z * (x - c);
    }
    fn jacobian<T: Real>(&self, s: &[T], out: MatMut<'_, T>) {
        let (a, c) = (T::of_f64(self.a), T::of_f64(self.c));
        let (zero, one) = (T::of_f64(0.0), T::of_f64(1.0));
        let (x, z) = (s[0], s[2]);
        let rows = [[zero, -one, -one], [one, a, zero], [z, zero, x - c]];
        write_rows(rows, out);
    }
    fn initial_state(&self) -> Vec<f64> {
        vec![1.0, 1.0, 0.0]
    }
    fn initial_region(&self) -> Vec<(f64, f64)> {
        vec![(-5.0, 5.0), (-5.0, 5.0), (0.0, 0.5)]
    }
}

/// Writes a small dense matrix given by rows into `out`.
fn write_rows<T: Real, const D: usize>(rows: [[T; D]; D], mut out: MatMut<'_, T>) {
    for (r, row) in rows.iter().enumerate() {
        for (c, &value) in row.iter().enumerate() {
            out[(r, c)] = value;
        }
    }
}

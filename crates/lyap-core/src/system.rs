//! The system abstraction: an input-driven map with its tangent map (docs/DESIGN.md section 2).

use crate::Real;
use faer::{MatMut, MatRef};

/// Which linear map [`TangentSystem::apply_jacobian`] applies to the tangent vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tangent {
    /// `Q <- J Q`: the tangent map of the system (the default, and the correct one).
    Jacobian,
    /// `Q <- J^T Q`: what the paper's reference code does (docs/DESIGN.md section 4).
    Transposed,
}

/// A discrete-time, input-driven map `s_t = F(s_{t-1}, x_t)` together with its tangent map
/// `J_t = dF/ds (s_{t-1}, x_t)`.
///
/// All mutable per-trajectory data (state, the quantities a step keeps to apply its Jacobian,
/// scratch buffers) lives in [`TangentSystem::Workspace`], so one system value can drive many
/// trajectories in parallel and no buffer is allocated inside the time loop.
pub trait TangentSystem<T: Real>: Sync {
    /// Per-trajectory state and scratch, allocated once per trajectory.
    type Workspace: Send;

    /// Dimension of the state `s` (and of the tangent space).
    fn state_dim(&self) -> usize;
    /// Dimension of one input vector `x_t` (0 for an autonomous map).
    fn input_dim(&self) -> usize;

    /// A workspace able to apply the Jacobian to up to `max_vectors` tangent vectors,
    /// with the state set to the initial state `s_0`.
    fn workspace(&self, max_vectors: usize) -> Self::Workspace;

    /// The current state `s_t`.
    fn state<'a>(&self, workspace: &'a Self::Workspace) -> &'a [T];

    /// Replaces the state of a fresh workspace by `state` (length `state_dim`), so that the
    /// trajectory starts from `s_0 = state` instead of the system's own initial state
    /// ([`lyapunov_spectrum_from`](crate::lyapunov_spectrum_from)). Returns `false`, leaving
    /// the workspace unchanged, when the system cannot start from a given state or the length
    /// is wrong; the default returns `false`.
    fn set_state(&self, workspace: &mut Self::Workspace, state: &[T]) -> bool {
        let _ = (workspace, state);
        false
    }

    /// Advances `s_{t-1} -> s_t = F(s_{t-1}, x_t)` and keeps what is needed to apply
    /// `J_t = dF/ds (s_{t-1}, x_t)` afterwards. `input.len() == self.input_dim()`.
    fn step(&self, workspace: &mut Self::Workspace, input: &[T]);

    /// `out = J_t tangent` (or `J_t^T tangent`) for the Jacobian of the last [`step`](Self::step).
    ///
    /// `tangent` and `out` are `state_dim x k` with `k <= max_vectors`; `out` is overwritten.
    fn apply_jacobian(
        &self,
        workspace: &mut Self::Workspace,
        tangent: MatRef<'_, T>,
        out: MatMut<'_, T>,
        which: Tangent,
    );

    /// Optional fast path for systems that form their dense Jacobian anyway (a single
    /// recurrent layer): writes `J_t` (or `J_t^T`) of the last step into `out`
    /// (`state_dim x state_dim`) and returns `true`. The default returns `false`, and the
    /// engine then uses [`apply_jacobian`](Self::apply_jacobian).
    ///
    /// With the dense matrix and all `k = state_dim` exponents the engine computes `J Q` by
    /// applying the previous step's Householder reflectors to `J` from the right, never
    /// forming `Q`.
    fn dense_jacobian_into(
        &self,
        workspace: &mut Self::Workspace,
        out: MatMut<'_, T>,
        which: Tangent,
    ) -> bool {
        let _ = (workspace, out, which);
        false
    }

    /// `ln|det J_t|` for the Jacobian of the last [`step`](Self::step), computed from the
    /// Jacobian itself and never from a QR (the sum rule, docs/DESIGN.md section 2, "Built-in
    /// checks"); `None` when the system cannot give it. Called only with a workspace made for
    /// `state_dim` vectors. The default forms the dense Jacobian ([`dense_jacobian`]) and
    /// factors it by LU with partial pivoting (allocating: for small systems); systems with
    /// structure (block-triangular stacks, diagonal blocks) override it.
    fn log_abs_det_jacobian(&self, workspace: &mut Self::Workspace) -> Option<f64>
    where
        Self: Sized,
    {
        let jacobian = dense_jacobian(self, workspace, Tangent::Jacobian);
        Some(crate::checks::log_abs_det(jacobian.as_ref()))
    }
}

/// The dense Jacobian of the last step, `J_t` as a `state_dim x state_dim` matrix, obtained by
/// applying the tangent map to the identity. For tests and small systems only.
pub fn dense_jacobian<T: Real, S: TangentSystem<T>>(
    system: &S,
    workspace: &mut S::Workspace,
    which: Tangent,
) -> faer::Mat<T> {
    let n = system.state_dim();
    let identity = faer::Mat::<T>::identity(n, n);
    let mut out = faer::Mat::<T>::zeros(n, n);
    system.apply_jacobian(workspace, identity.as_ref(), out.as_mut(), which);
    out
}

/// `S` without its dense fast path: the engine then always applies the Jacobian to tangent
/// vectors. For checking the two paths against each other and for benchmarks.
#[derive(Clone, Debug)]
pub struct TangentOnly<S>(pub S);

impl<T: Real, S: TangentSystem<T>> TangentSystem<T> for TangentOnly<S> {
    type Workspace = S::Workspace;

    fn state_dim(&self) -> usize {
        self.0.state_dim()
    }
    fn input_dim(&self) -> usize {
        self.0.input_dim()
    }
    fn workspace(&self, max_vectors: usize) -> Self::Workspace {
        self.0.workspace(max_vectors)
    }
    fn state<'a>(&self, workspace: &'a Self::Workspace) -> &'a [T] {
        self.0.state(workspace)
    }
    fn set_state(&self, workspace: &mut Self::Workspace, state: &[T]) -> bool {
        self.0.set_state(workspace, state)
    }
    fn step(&self, workspace: &mut Self::Workspace, input: &[T]) {
        self.0.step(workspace, input)
    }
    fn log_abs_det_jacobian(&self, workspace: &mut Self::Workspace) -> Option<f64> {
        self.0.log_abs_det_jacobian(workspace)
    }
    fn apply_jacobian(
        &self,
        workspace: &mut Self::Workspace,
        tangent: MatRef<'_, T>,
        out: MatMut<'_, T>,
        which: Tangent,
    ) {
        self.0.apply_jacobian(workspace, tangent, out, which)
    }
}

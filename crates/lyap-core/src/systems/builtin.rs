//! The built-in systems by name, as one type the engine can run (docs/DESIGN.md section 2.1).

use super::flows::{Lorenz63, Rk4Flow, Rk4Workspace, Rossler, VectorField};
use super::maps::{Henon, HenonWorkspace};
use super::{attractor_points, transient_steps, SystemError, DEFAULT_MAP_TRANSIENT_STEPS};
use crate::spectrum::Spectrum;
use crate::system::{Tangent, TangentSystem};
use crate::Real;
use faer::{MatMut, MatRef};

/// The names [`system_by_name`] knows.
pub const SYSTEM_NAMES: [&str; 3] = ["henon", "lorenz63", "rossler"];

/// The time step of a built-in flow when none is given.
pub const DEFAULT_DT: f64 = 0.01;

/// The built-in vector fields (with their default parameters), as one [`VectorField`].
#[derive(Clone, Debug, PartialEq)]
pub enum BuiltinField {
    Lorenz63(Lorenz63),
    Rossler(Rossler),
}

impl BuiltinField {
    pub fn name(&self) -> &'static str {
        match self {
            BuiltinField::Lorenz63(_) => "lorenz63",
            BuiltinField::Rossler(_) => "rossler",
        }
    }
}

macro_rules! with_field {
    ($field:expr, |$f:ident| $body:expr) => {
        match $field {
            BuiltinField::Lorenz63($f) => $body,
            BuiltinField::Rossler($f) => $body,
        }
    };
}

impl VectorField for BuiltinField {
    fn dim(&self) -> usize {
        with_field!(self, |f| f.dim())
    }
    fn f<T: Real>(&self, s: &[T], out: &mut [T]) {
        with_field!(self, |f| f.f(s, out))
    }
    fn jacobian<T: Real>(&self, s: &[T], out: MatMut<'_, T>) {
        with_field!(self, |f| f.jacobian(s, out))
    }
    fn initial_state(&self) -> Vec<f64> {
        with_field!(self, |f| f.initial_state())
    }
    fn initial_region(&self) -> Vec<(f64, f64)> {
        with_field!(self, |f| f.initial_region())
    }
}

/// A built-in system: a map, or a flow with its time step. Implements [`TangentSystem`], so
/// one code path runs any of them:
///
/// ```
/// use lyap_core::systems::system_by_name;
/// use lyap_core::{autonomous_inputs, lyapunov_spectrum_from, SpectrumConfig};
///
/// let system = system_by_name("lorenz63", Some(0.01)).unwrap();
/// let points = system.attractor_points::<f64>(2, 7).unwrap();
/// let starts: Vec<&[f64]> = points.iter().map(|p| p.as_slice()).collect();
/// let mut config = SpectrumConfig::new(3, 2000);
/// config.warmup = 500;
/// let spectrum = lyapunov_spectrum_from(&system, &starts, &autonomous_inputs(2), &config)
///     .unwrap();
/// let per_time_unit = system.per_time_unit(&spectrum);
/// assert!((per_time_unit.statistics.mean.iter().sum::<f64>() + 13.6667).abs() < 1e-3);
/// ```
#[derive(Clone, Debug)]
pub enum BuiltinSystem {
    Henon(Henon),
    Flow(Rk4Flow<BuiltinField>),
}

/// The workspace of a [`BuiltinSystem`].
pub enum BuiltinWorkspace<T> {
    Henon(HenonWorkspace<T>),
    Flow(Box<Rk4Workspace<T>>),
}

/// The system named `name` (one of [`SYSTEM_NAMES`], any case) with its default parameters.
/// A flow runs with time step `dt` ([`DEFAULT_DT`] when `None`); a map takes no time step.
pub fn system_by_name(name: &str, dt: Option<f64>) -> Result<BuiltinSystem, SystemError> {
    let field = match name.to_ascii_lowercase().as_str() {
        "henon" => {
            return match dt {
                None => Ok(BuiltinSystem::Henon(Henon::default())),
                Some(_) => Err(SystemError::TimeStepForMap {
                    name: name.to_string(),
                }),
            }
        }
        "lorenz63" => BuiltinField::Lorenz63(Lorenz63::default()),
        "rossler" => BuiltinField::Rossler(Rossler::default()),
        _ => {
            return Err(SystemError::Unknown {
                name: name.to_string(),
            })
        }
    };
    let dt = dt.unwrap_or(DEFAULT_DT);
    if !(dt.is_finite() && dt > 0.0) {
        return Err(SystemError::BadTimeStep { dt });
    }
    Ok(BuiltinSystem::Flow(Rk4Flow::new(field, dt)))
}

impl BuiltinSystem {
    pub fn name(&self) -> &'static str {
        match self {
            BuiltinSystem::Henon(_) => "henon",
            BuiltinSystem::Flow(flow) => flow.field.name(),
        }
    }

    /// The time step of a flow; `None` for a map (its exponents are per step).
    pub fn time_step(&self) -> Option<f64> {
        match self {
            BuiltinSystem::Henon(_) => None,
            BuiltinSystem::Flow(flow) => Some(flow.dt),
        }
    }

    /// The box the initial conditions of [`attractor_points`](Self::attractor_points) are
    /// drawn from (inside the attractor's basin).
    pub fn initial_region(&self) -> Vec<(f64, f64)> {
        match self {
            BuiltinSystem::Henon(_) => vec![(-0.1, 0.1), (-0.1, 0.1)],
            BuiltinSystem::Flow(flow) => flow.field.initial_region(),
        }
    }

    /// The transient before a point counts as on the attractor: a flow's
    /// [`transient_steps`]`(dt)`, a map's [`DEFAULT_MAP_TRANSIENT_STEPS`].
    pub fn transient_steps(&self) -> usize {
        match self {
            BuiltinSystem::Henon(_) => DEFAULT_MAP_TRANSIENT_STEPS,
            BuiltinSystem::Flow(flow) => transient_steps(flow.dt),
        }
    }

    /// `count` seeded points on the attractor ([`attractor_points`] with this system's region
    /// and transient).
    pub fn attractor_points<T: Real>(
        &self,
        count: usize,
        seed: u64,
    ) -> Result<Vec<Vec<T>>, SystemError> {
        let region = self.initial_region();
        attractor_points(self, &region, count, self.transient_steps(), seed)
    }

    /// A flow's spectrum per time unit ([`Spectrum::per_time_unit`]); a map's unchanged.
    pub fn per_time_unit(&self, spectrum: &Spectrum) -> Spectrum {
        match self.time_step() {
            Some(dt) => spectrum.per_time_unit(dt),
            None => spectrum.clone(),
        }
    }
}

/// Runs `$body` with the system and workspace of the same kind.
macro_rules! with_system {
    ($system:expr, $workspace:expr, |$s:ident, $w:ident| $body:expr) => {
        match ($system, $workspace) {
            (BuiltinSystem::Henon($s), BuiltinWorkspace::Henon($w)) => $body,
            (BuiltinSystem::Flow($s), BuiltinWorkspace::Flow($w)) => $body,
            _ => panic!("a BuiltinSystem was given the workspace of another system"),
        }
    };
}

impl<T: Real> TangentSystem<T> for BuiltinSystem {
    type Workspace = BuiltinWorkspace<T>;

    fn state_dim(&self) -> usize {
        match self {
            BuiltinSystem::Henon(map) => TangentSystem::<T>::state_dim(map),
            BuiltinSystem::Flow(flow) => TangentSystem::<T>::state_dim(flow),
        }
    }
    fn input_dim(&self) -> usize {
        0
    }
    fn workspace(&self, max_vectors: usize) -> Self::Workspace {
        match self {
            BuiltinSystem::Henon(map) => BuiltinWorkspace::Henon(map.workspace(max_vectors)),
            BuiltinSystem::Flow(flow) => {
                BuiltinWorkspace::Flow(Box::new(flow.workspace(max_vectors)))
            }
        }
    }
    fn state<'a>(&self, workspace: &'a Self::Workspace) -> &'a [T] {
        with_system!(self, workspace, |s, w| s.state(w))
    }
    fn set_state(&self, workspace: &mut Self::Workspace, state: &[T]) -> bool {
        with_system!(self, workspace, |s, w| s.set_state(w, state))
    }
    fn step(&self, workspace: &mut Self::Workspace, input: &[T]) {
        with_system!(self, workspace, |s, w| s.step(w, input))
    }
    fn apply_jacobian(
        &self,
        workspace: &mut Self::Workspace,
        tangent: MatRef<'_, T>,
        out: MatMut<'_, T>,
        which: Tangent,
    ) {
        with_system!(self, workspace, |s, w| s
            .apply_jacobian(w, tangent, out, which))
    }
    fn dense_jacobian_into(
        &self,
        workspace: &mut Self::Workspace,
        out: MatMut<'_, T>,
        which: Tangent,
    ) -> bool {
        with_system!(self, workspace, |s, w| s.dense_jacobian_into(w, out, which))
    }
}

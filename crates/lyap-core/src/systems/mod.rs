//! Built-in dynamical systems with known exponents, and initial points on their attractors
//! (docs/DESIGN.md sections 2 and 2.1).
//!
//! [`maps`] holds discrete-time maps (Henon, linear), [`flows`] continuous-time systems
//! integrated with RK4 ([`flows::Rk4Flow`], [`flows::Lorenz63`], [`flows::Rossler`]).
//! [`system_by_name`] looks a built-in system up by its name (`"henon"`, `"lorenz63"`,
//! `"rossler"`) as one [`BuiltinSystem`]. [`attractor_points`] draws seeded initial states on
//! an attractor for [`lyapunov_spectrum_from`](crate::lyapunov_spectrum_from).

mod builtin;
pub mod flows;
pub mod maps;

pub use builtin::{
    system_by_name, BuiltinField, BuiltinSystem, BuiltinWorkspace, DEFAULT_DT, SYSTEM_NAMES,
};

use crate::system::TangentSystem;
use crate::Real;
use rayon::prelude::*;

/// By default a flow's spectrum is the mean over this many trajectories, each from its own
/// point on the attractor.
pub const DEFAULT_INITIAL_POINTS: usize = 10;

/// Time units a flow is integrated from a random initial condition before its end point is
/// taken as a point on the attractor ([`transient_steps`]). For Lorenz-63 this is about 90
/// Lyapunov times, and the contracting direction (`-14.57` per time unit) has shrunk any
/// initial distance from the attractor by far more than the `f64` resolution.
pub const DEFAULT_TRANSIENT_TIME: f64 = 100.0;

/// A map's transient before its end point is taken as a point on the attractor.
pub const DEFAULT_MAP_TRANSIENT_STEPS: usize = 1000;

/// The number of steps of size `dt` covering [`DEFAULT_TRANSIENT_TIME`]: `ceil(100 / dt)`.
pub fn transient_steps(dt: f64) -> usize {
    (DEFAULT_TRANSIENT_TIME / dt).ceil() as usize
}

/// Why built-in systems or initial points cannot be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SystemError {
    #[error("unknown system `{name}`; the built-in systems are {}", SYSTEM_NAMES.join(", "))]
    Unknown { name: String },
    #[error("{name} is a map: a time step applies to flows only")]
    TimeStepForMap { name: String },
    #[error("the time step must be positive and finite, not {dt}")]
    BadTimeStep { dt: f64 },
    #[error(
        "initial points need an autonomous system, but this one takes inputs of size {input_dim}"
    )]
    NotAutonomous { input_dim: usize },
    #[error("the initial region has {region} coordinates but the state dimension is {state_dim}")]
    RegionDimension { region: usize, state_dim: usize },
    #[error("this system cannot start from a given initial state")]
    CannotSetState,
    #[error("the trajectory from initial point {point} left every finite value within its {steps} transient steps")]
    Diverged { point: usize, steps: usize },
}

/// `count` points on the attractor of the autonomous `system`: point `i` is the end of a
/// trajectory from an initial condition drawn uniformly from the box `region` (one `(lo, hi)`
/// per coordinate) and advanced `transient_steps` steps. The initial conditions are drawn
/// in order from one SplitMix64 stream seeded with `seed`, so the points depend on `seed`,
/// `count` and `transient_steps` only (not on the number of threads). A flow takes
/// [`transient_steps`]`(dt)` steps and its field's
/// [`initial_region`](flows::VectorField::initial_region).
pub fn attractor_points<T: Real, S: TangentSystem<T>>(
    system: &S,
    region: &[(f64, f64)],
    count: usize,
    transient_steps: usize,
    seed: u64,
) -> Result<Vec<Vec<T>>, SystemError> {
    let (state_dim, input_dim) = (system.state_dim(), system.input_dim());
    if input_dim != 0 {
        return Err(SystemError::NotAutonomous { input_dim });
    }
    if region.len() != state_dim {
        return Err(SystemError::RegionDimension {
            region: region.len(),
            state_dim,
        });
    }
    let mut random = SplitMix64(seed);
    let starts: Vec<Vec<T>> = (0..count)
        .map(|_| {
            region
                .iter()
                .map(|&(lo, hi)| T::of_f64(lo + (hi - lo) * random.next_unit()))
                .collect()
        })
        .collect();
    starts
        .into_par_iter()
        .enumerate()
        .map(|(point, start)| {
            let mut workspace = system.workspace(1);
            if !system.set_state(&mut workspace, &start) {
                return Err(SystemError::CannotSetState);
            }
            for _ in 0..transient_steps {
                system.step(&mut workspace, &[]);
            }
            let end = system.state(&workspace).to_vec();
            if end.iter().all(|value| value.is_finite()) {
                Ok(end)
            } else {
                Err(SystemError::Diverged {
                    point,
                    steps: transient_steps,
                })
            }
        })
        // Collected in order first, so the error reported is the lowest failing point's
        // whatever the scheduling.
        .collect::<Vec<Result<Vec<T>, SystemError>>>()
        .into_iter()
        .collect()
}

/// `current = new` when the lengths agree (`true`); otherwise `false`, `current` unchanged. The
/// body of [`TangentSystem::set_state`] for systems whose state is one vector.
fn replace_state<T: Copy>(current: &mut [T], new: &[T]) -> bool {
    if current.len() != new.len() {
        return false;
    }
    current.copy_from_slice(new);
    true
}

/// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): a small seeded generator, enough for
/// drawing initial conditions.
struct SplitMix64(u64);

impl SplitMix64 {
    /// A uniform number in `[0, 1)` with 53 random bits.
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

//! The attractors of the `lorenz63` report's figure (docs/DESIGN.md section 5): the trained
//! network run on its own output, de-normalised to Lorenz coordinates with the checkpoint's
//! normalisation, and Lorenz-63 itself from a point on its attractor, over the same time.

use super::{EvaluationError, ForecastCheckpoint};
use crate::data::lorenz63::{trajectories, DIM};
use crate::data::normalisation::Normalisation;
use crate::forecast::{free_run, Forecaster, NetworkForecaster};

/// Closed-loop steps dropped before the network's attractor is recorded (20 time units at
/// `dt = 0.01`, the closed-loop spectrum's warm-up).
pub const ATTRACTOR_TRANSIENT: usize = 2000;
/// Steps of each attractor (30 time units at `dt = 0.01`).
pub const ATTRACTOR_STEPS: usize = 3000;
/// Seed of the true trajectory's point on the attractor.
pub const ATTRACTOR_SEED: u64 = 0;

/// Two trajectories in Lorenz coordinates, `[time][3]` row-major (`x, y, z`).
#[derive(Clone, Debug, PartialEq)]
pub struct Attractors {
    /// The network's closed loop from the zero state, after [`ATTRACTOR_TRANSIENT`] steps;
    /// shorter than `truth` when the loop left the finite numbers.
    pub network: Vec<f64>,
    /// Lorenz-63 (RK4) from a point on its attractor (seed [`ATTRACTOR_SEED`]).
    pub truth: Vec<f64>,
    /// Time units per step.
    pub dt: f64,
}

impl Attractors {
    /// The attractors of `checkpoint`: [`ATTRACTOR_STEPS`] steps each.
    pub fn of(checkpoint: &ForecastCheckpoint) -> Result<Self, EvaluationError> {
        let mut forecaster =
            NetworkForecaster::from_readout(checkpoint.weights.clone(), &checkpoint.readout)
                .map_err(|source| EvaluationError::Forecast {
                    path: checkpoint.path.clone(),
                    source,
                })?;
        let network = network_trajectory(
            &mut forecaster,
            &checkpoint.normalisation,
            ATTRACTOR_TRANSIENT,
            ATTRACTOR_STEPS,
        );
        let truth = trajectories(1, ATTRACTOR_STEPS, ATTRACTOR_SEED)?
            .pop()
            .unwrap_or_default();
        Ok(Self {
            network,
            truth,
            dt: checkpoint.dt,
        })
    }

    /// The `(x, z)` projection of a trajectory.
    pub fn x_z(trajectory: &[f64]) -> Vec<(f64, f64)> {
        trajectory.chunks_exact(DIM).map(|p| (p[0], p[2])).collect()
    }
}

/// `forecaster` run on its own output ([`free_run`]) in normalised coordinates, mapped back
/// to physical ones, `x_d = mean_d + std_d z_d`.
pub fn network_trajectory(
    forecaster: &mut dyn Forecaster,
    normalisation: &Normalisation,
    transient: usize,
    steps: usize,
) -> Vec<f64> {
    let mut trajectory = free_run(forecaster, transient, steps);
    normalisation.denormalise(&mut trajectory);
    trajectory
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Predicts `a x + b` per coordinate (no state).
    struct Affine {
        a: f64,
        b: [f64; 3],
    }

    impl Forecaster for Affine {
        fn dim(&self) -> usize {
            3
        }
        fn reset(&mut self) {}
        fn advance(&mut self, input: &[f64], out: &mut [f64]) {
            for d in 0..3 {
                out[d] = self.a * input[d] + self.b[d];
            }
        }
    }

    #[test]
    fn the_network_trajectory_is_denormalised() {
        let normalisation = Normalisation {
            mean: vec![-0.5, 0.25, 23.5],
            std: vec![7.9, 8.9, 8.6],
        };
        // constant normalised output b: every point is mean + std b
        let mut constant = Affine {
            a: 0.0,
            b: [1.0, -2.0, 0.5],
        };
        let trajectory = network_trajectory(&mut constant, &normalisation, 5, 4);
        assert_eq!(trajectory.len(), 4 * 3);
        for point in trajectory.chunks_exact(3) {
            for d in 0..3 {
                let expected = normalisation.mean[d] + normalisation.std[d] * constant.b[d];
                assert!((point[d] - expected).abs() < 1e-12, "{point:?}");
            }
        }
        assert_eq!(
            Attractors::x_z(&trajectory)[0],
            (-0.5 + 7.9, 23.5 + 8.6 * 0.5)
        );
        // z_(t+1) = 2 z_t + 1 from a zero input: 1, 3, 7, 15, ...; the transient is dropped
        let mut doubling = Affine {
            a: 2.0,
            b: [1.0; 3],
        };
        let identity = Normalisation {
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
        };
        let trajectory = network_trajectory(&mut doubling, &identity, 2, 2);
        assert_eq!(trajectory, vec![7.0, 7.0, 7.0, 15.0, 15.0, 15.0]);
    }

    #[test]
    fn a_loop_that_leaves_the_finite_numbers_stops_early() {
        let mut exploding = Affine {
            a: 1e200,
            b: [1.0; 3],
        };
        let identity = Normalisation {
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
        };
        let trajectory = network_trajectory(&mut exploding, &identity, 0, 10);
        assert_eq!(trajectory.len(), 2 * 3);
        assert!(trajectory.iter().all(|x| x.is_finite()));
    }
}

//! Closed-loop forecasting and the valid prediction time (docs/DESIGN.md section 5).
//!
//! A [`Forecaster`] reads the state `x_t` and predicts `x_(t+1)`. For a trained network
//! ([`NetworkForecaster`]) that is one step of the recurrent stack followed by the readout,
//! `x_(t+1) = W_fc h_t + b_fc` with `h_t` the top layer's hidden state: the same map that
//! `lyap spectrum --model M --closed-loop` iterates.
//!
//! A forecast of a held-out trajectory `x_0, x_1, ...` ([`closed_loop_forecast`]):
//! 1. warm-up: from the zero state, the forecaster reads the true `x_0 .. x_(W-1)` (teacher
//!    forcing); its last output is the prediction `xhat_W`;
//! 2. closed loop: for `j = 1 .. H-1` it reads its own `xhat_(W+j-1)` and predicts
//!    `xhat_(W+j)`.
//!
//! The error of forecast step `j` (`j = 1 .. H`, predicting `x_(W+j-1)`) is the normalised
//! root-mean-square error over the `D` coordinates (Vlachas et al., *Neural Networks* 126,
//! 2020), `NRMSE_j = sqrt((1/D) sum_d ((xhat_d - x_d) / sigma_d)^2)`, with `sigma_d` the
//! training standard deviation, i.e. the RMS error in the normalised coordinates. The number of
//! valid steps is the number of leading steps with `NRMSE_j <= threshold` (`0.4`, as Pathak et
//! al., *Phys. Rev. Lett.* 120, 2018); the valid prediction time in Lyapunov times is
//! `VPT = valid_steps * dt * lambda_1` (at most `H dt lambda_1`, the horizon).

use crate::data::lorenz63::ForecastData;
use crate::model::Model;
use lyap_core::{Real, TangentSystem};
use lyap_rnn::{LstmState, Readout, RecurrentStack, ShapeError, StackWeights, StackWorkspace};
use rayon::prelude::*;

/// Something that reads a state and predicts the next one.
pub trait Forecaster {
    /// The dimension `D` of the states read and predicted.
    fn dim(&self) -> usize;
    /// Back to the initial (zero) state.
    fn reset(&mut self);
    /// Reads `input` (`D` values, the state at time `t`) and writes the prediction of the
    /// state at `t + 1` into `out`.
    fn advance(&mut self, input: &[f64], out: &mut [f64]);
}

/// A trained network as a forecaster, computed in `f64`: the stack's step, then the readout
/// `W_fc h + b_fc` of the top layer's hidden state `h`.
pub struct NetworkForecaster {
    stack: RecurrentStack<f64>,
    workspace: StackWorkspace<f64>,
    /// `fc.weight`, row-major `D x n`.
    fc_weight: Vec<f64>,
    fc_bias: Vec<f64>,
}

/// Why a model cannot forecast its own inputs.
#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error("the readout predicts {output} values but the network reads {input}: a closed loop needs equal sizes")]
    ReadoutSize { output: usize, input: usize },
    #[error("readout fc.weight is [{rows}, {cols}], expected [{output}, {hidden}]")]
    ReadoutShape {
        rows: usize,
        cols: usize,
        output: usize,
        hidden: usize,
    },
    #[error("readout bias has {found} values, expected {expected}")]
    ReadoutBias { found: usize, expected: usize },
    #[error(transparent)]
    Shape(#[from] ShapeError),
}

impl NetworkForecaster {
    /// The forecaster of `model`, whose readout must map the top layer's hidden state to the
    /// input size.
    pub fn new<T: Real>(model: &Model<T>) -> Result<Self, ForecastError> {
        let (v, n) = (model.output_size(), model.hidden());
        let (rows, cols) = (model.fc_weight.nrows(), model.fc_weight.ncols());
        if (rows, cols) != (v, n) {
            return Err(ForecastError::ReadoutShape {
                rows,
                cols,
                output: v,
                hidden: n,
            });
        }
        let readout = Readout {
            name: "fc".into(),
            output_size: rows,
            hidden_size: cols,
            weight: (0..rows)
                .flat_map(|r| (0..cols).map(move |c| model.fc_weight[(r, c)].as_f64()))
                .collect(),
            bias: Some(model.fc_bias.iter().map(|b| b.as_f64()).collect()),
        };
        Self::from_readout(model.stack.cast(), &readout)
    }

    /// The forecaster of a stack and its readout (e.g. read from a checkpoint with
    /// `lyap_rnn::pytorch::readout::find_readout`); the readout must map the top layer's
    /// hidden state to the input size (a missing bias counts as zero).
    pub fn from_readout(
        weights: StackWeights<f64>,
        readout: &Readout,
    ) -> Result<Self, ForecastError> {
        let (v, n) = (readout.output_size, weights.hidden_size);
        if v != weights.input_size {
            return Err(ForecastError::ReadoutSize {
                output: v,
                input: weights.input_size,
            });
        }
        if readout.hidden_size != n || readout.weight.len() != v * n {
            return Err(ForecastError::ReadoutShape {
                rows: v,
                cols: readout.hidden_size,
                output: v,
                hidden: n,
            });
        }
        let fc_bias = match &readout.bias {
            Some(bias) if bias.len() == v => bias.clone(),
            Some(bias) => {
                return Err(ForecastError::ReadoutBias {
                    found: bias.len(),
                    expected: v,
                })
            }
            None => vec![0.0; v],
        };
        let stack = RecurrentStack::new(weights, LstmState::Full)?;
        let workspace = stack.workspace(0);
        Ok(Self {
            stack,
            workspace,
            fc_weight: readout.weight.clone(),
            fc_bias,
        })
    }
}

impl Clone for NetworkForecaster {
    fn clone(&self) -> Self {
        Self {
            stack: self.stack.clone(),
            workspace: self.stack.workspace(0),
            fc_weight: self.fc_weight.clone(),
            fc_bias: self.fc_bias.clone(),
        }
    }
}

impl Forecaster for NetworkForecaster {
    fn dim(&self) -> usize {
        self.fc_bias.len()
    }

    fn reset(&mut self) {
        self.workspace = self.stack.workspace(0);
    }

    fn advance(&mut self, input: &[f64], out: &mut [f64]) {
        self.stack.step(&mut self.workspace, input);
        let n = self.stack.weights().hidden_size;
        let top = self.stack.layer_state_dim() * (self.stack.weights().num_layers() - 1);
        let h = &self.stack.state(&self.workspace)[top..top + n];
        for (d, o) in out.iter_mut().enumerate() {
            let row = &self.fc_weight[d * n..(d + 1) * n];
            *o = self.fc_bias[d] + row.iter().zip(h).map(|(w, x)| w * x).sum::<f64>();
        }
    }
}

/// The closed-loop forecast of `trajectory` (`[time][D]` row-major, at least `warmup + horizon`
/// steps): `warmup` teacher-forced steps, then `horizon` predictions `xhat_W .. xhat_(W+H-1)`
/// (module documentation), `[horizon][D]` row-major. Stops early (returning fewer steps) when
/// a prediction is not finite.
pub fn closed_loop_forecast(
    forecaster: &mut dyn Forecaster,
    trajectory: &[f64],
    warmup: usize,
    horizon: usize,
) -> Vec<f64> {
    let dim = forecaster.dim();
    forecaster.reset();
    let mut prediction = vec![0.0; dim];
    for frame in trajectory.chunks_exact(dim).take(warmup.max(1)) {
        forecaster.advance(frame, &mut prediction);
    }
    let mut out = Vec::with_capacity(horizon * dim);
    let mut input = vec![0.0; dim];
    for j in 0..horizon {
        if !prediction.iter().all(|x| x.is_finite()) {
            break;
        }
        out.extend_from_slice(&prediction);
        if j + 1 < horizon {
            input.copy_from_slice(&prediction);
            forecaster.advance(&input, &mut prediction);
        }
    }
    out
}

/// The forecaster run on its own output from its initial (zero) state: it reads a zero input,
/// then each of its own predictions. Returns the predictions after the first `transient`
/// ones, `steps` of them, `[steps][D]` row-major; stops early (returning fewer) at a
/// prediction that is not finite. These are the inputs `W_fc h_t + b_fc` the closed loop of
/// `lyap spectrum --closed-loop` reads from the zero state.
pub fn free_run(forecaster: &mut dyn Forecaster, transient: usize, steps: usize) -> Vec<f64> {
    let dim = forecaster.dim();
    forecaster.reset();
    let mut input = vec![0.0; dim];
    let mut prediction = vec![0.0; dim];
    let mut out = Vec::with_capacity(steps * dim);
    for t in 0..transient + steps {
        forecaster.advance(&input, &mut prediction);
        if !prediction.iter().all(|x| x.is_finite()) {
            break;
        }
        if t >= transient {
            out.extend_from_slice(&prediction);
        }
        input.copy_from_slice(&prediction);
    }
    out
}

/// `NRMSE_j` of every forecast step: the RMS over the `dim` coordinates of
/// `forecast - truth` (both normalised, `[time][dim]`), for the steps both hold.
pub fn nrmse(forecast: &[f64], truth: &[f64], dim: usize) -> Vec<f64> {
    forecast
        .chunks_exact(dim)
        .zip(truth.chunks_exact(dim))
        .map(|(f, t)| {
            let sum: f64 = f.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum();
            (sum / dim as f64).sqrt()
        })
        .collect()
}

/// The number of leading forecast steps whose NRMSE is at most `threshold` (a NaN error ends
/// the valid stretch).
pub fn valid_steps(errors: &[f64], threshold: f64) -> usize {
    errors.iter().take_while(|&&e| e <= threshold).count()
}

/// Valid prediction times over the held-out trajectories, in Lyapunov times.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidPredictionTime {
    /// One per held-out trajectory, in order.
    pub per_trajectory: Vec<f64>,
    pub mean: f64,
    pub median: f64,
    /// The largest measurable value (`horizon * dt * lambda_1`).
    pub horizon: f64,
}

impl ValidPredictionTime {
    /// Mean and median (the mean of the two middle values for an even count) of `times`.
    pub fn of(times: Vec<f64>, horizon: f64) -> Self {
        let count = times.len().max(1) as f64;
        let mean = times.iter().sum::<f64>() / count;
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        let median = match sorted.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => sorted[n / 2],
            n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
        };
        Self {
            per_trajectory: times,
            mean,
            median,
            horizon,
        }
    }
}

/// The valid prediction time of `forecaster` on the held-out trajectories of `data` (module
/// documentation), the trajectories forecast in parallel, each by its own clone.
pub fn valid_prediction_time<F: Forecaster + Clone + Send + Sync>(
    forecaster: &F,
    data: &ForecastData,
) -> ValidPredictionTime {
    let dim = forecaster.dim();
    let lyapunov_times_per_step = data.dt * data.lyapunov_exponent;
    let times = data
        .test
        .par_iter()
        .map(|trajectory| {
            let mut own = forecaster.clone();
            let forecast = closed_loop_forecast(&mut own, trajectory, data.warmup, data.horizon);
            let truth = &trajectory[data.warmup * dim..];
            let steps = valid_steps(&nrmse(&forecast, truth, dim), data.threshold);
            steps as f64 * lyapunov_times_per_step
        })
        .collect();
    ValidPredictionTime::of(times, data.horizon as f64 * lyapunov_times_per_step)
}

/// The valid prediction time of a trained model on `data` ([`NetworkForecaster`]).
pub fn model_valid_prediction_time<T: Real>(
    model: &Model<T>,
    data: &ForecastData,
) -> Result<ValidPredictionTime, ForecastError> {
    Ok(valid_prediction_time(&NetworkForecaster::new(model)?, data))
}

//! # lyap-train: training RNNs on the paper's tasks with a spectrum every epoch
//!
//! docs/DESIGN.md section 5. The pieces, bottom up:
//! - [`data`]: character text, CMU Mocap and built-in synthetic tasks, cut into windows and
//!   batches; [`config::TrainConfig`] names one and loads it;
//! - [`model`]: embedding -> recurrent stack (`lyap_rnn::train`) -> dropout -> readout, its
//!   loss ([`loss`]) and gradient;
//! - [`forecast`]: closed-loop forecasts and the valid prediction time of forecasting tasks;
//!   [`closed_loop`]: the closed-loop spectrum of a `lorenz63` run's best checkpoint against
//!   Lorenz-63's (`closed_loop.json`, `lorenz63.json`) and the attractors of its figure;
//! - [`optim`]: Adam (PyTorch defaults), the paper's schedule, gradient clipping;
//! - [`trainer`]: the epoch loop with a Lyapunov spectrum per epoch ([`measure`]), writing a
//!   run directory ([`run_dir`]) with checkpoints and a resume snapshot ([`snapshot`]).
//!
//! The library never prints: progress goes to a [`trainer::TrainObserver`].

pub mod baselines;
pub mod closed_loop;
pub mod config;
pub mod data;
pub mod error;
pub mod forecast;
pub mod loss;
pub mod measure;
pub mod model;
pub mod optim;
pub mod run_dir;
pub mod snapshot;
pub mod trainer;

pub use config::{Precision, TaskName, TrainConfig};
pub use error::{DataError, TrainError};
pub use model::{DropoutMasks, Model, ModelShape, ModelWorkspace};
pub use run_dir::{EpochRecord, RunDir, RunState, RunStatus, RunSummary, RunWriter};
pub use trainer::{resume, train, Control, Outcome, Silent, TrainObserver};

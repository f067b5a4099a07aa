//! The settings of a training run (written to `RUN_DIR/config.json`) and the data set they
//! select.

use crate::data::mocap::MocapSplit;
use crate::data::{self, Dataset, SpectrumInputSpec};
use crate::error::{DataError, TrainError};
use lyap_rnn::{Arch, LstmState};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The task (docs/DESIGN.md section 5) or a built-in synthetic one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskName {
    /// Character prediction on a text file (War and Peace in the paper); cross-entropy.
    #[serde(rename = "charrnn")]
    CharRnn,
    /// CMU motion capture next-frame prediction; MSE.
    #[serde(rename = "mocap")]
    Mocap,
    /// The built-in bracket grammar over 20 symbols; cross-entropy.
    #[serde(rename = "synthetic-text")]
    SyntheticText,
    /// The built-in 20-dimensional Lorenz-96 signal; MSE.
    #[serde(rename = "synthetic-signal")]
    SyntheticSignal,
    /// Forecasting Lorenz-63 trajectories (normalised), with the closed-loop valid prediction
    /// time per epoch; MSE.
    #[serde(rename = "lorenz63")]
    Lorenz63,
}

impl TaskName {
    pub const ALL: [TaskName; 5] = [
        TaskName::CharRnn,
        TaskName::Mocap,
        TaskName::SyntheticText,
        TaskName::SyntheticSignal,
        TaskName::Lorenz63,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TaskName::CharRnn => "charrnn",
            TaskName::Mocap => "mocap",
            TaskName::SyntheticText => "synthetic-text",
            TaskName::SyntheticSignal => "synthetic-signal",
            TaskName::Lorenz63 => "lorenz63",
        }
    }
}

impl std::str::FromStr for TaskName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskName::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                format!("unknown task '{s}': expected charrnn, mocap, synthetic-text, synthetic-signal or lorenz63")
            })
    }
}

/// Floating-point precision of the training arithmetic (`f32` or `f64` in the config JSON).
pub use lyap_core::Precision;

/// Everything that defines a run. Two runs with equal configs (and equal data) produce
/// bit-identical losses, weights and spectra.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub task: TaskName,
    /// Text file (charrnn) or Mocap root directory (mocap); unused by the synthetic tasks.
    pub data: Option<PathBuf>,
    #[serde(with = "arch_name")]
    pub arch: Arch,
    pub hidden: usize,
    pub layers: usize,
    /// Dropout probability after the top layer and between stacked layers.
    pub dropout: f64,
    /// Initial Adam learning rate (kept for 10 epochs, then x0.95 per epoch).
    pub lr: f64,
    /// Recurrent and input weights uniform on `[-init_scale, init_scale]` (the paper's `p`).
    pub init_scale: f64,
    /// Recurrent biases (`bias_ih`, `bias_hh`); the paper's CharRNN has none.
    pub bias: bool,
    pub epochs: usize,
    pub batch_size: usize,
    pub seq_len: usize,
    pub seed: u64,
    /// Global gradient-norm clipping threshold (none when absent).
    pub clip: Option<f64>,
    /// Text: use only the first `max_chars` characters. Synthetic tasks: stream length.
    /// `lorenz63`: steps per training and validation trajectory.
    pub max_chars: Option<usize>,
    /// `lorenz63`: the number of training trajectories (validation and held-out test
    /// trajectories follow from it, `data::lorenz63::split_counts`); unused by other tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajectories: Option<usize>,
    /// Spectrum every `le_every` epochs (and always at the last epoch); 0 never.
    pub le_every: usize,
    pub le_batch: usize,
    pub le_steps: usize,
    pub le_warmup: usize,
    #[serde(with = "lstm_state_name")]
    pub le_state: LstmState,
    /// Also write each measured epoch's running estimates (`spectra/trace_epoch_NNN.csv`).
    #[serde(default)]
    pub le_trace: bool,
    pub precision: Precision,
    /// Mocap only: what the 80/20 split of each category divides.
    #[serde(default)]
    pub mocap_split: MocapSplit,
}

impl TrainConfig {
    /// The paper's settings for `task` (docs/DESIGN.md section 5), small ones for the
    /// synthetic tasks, and for `lorenz63` a 64-unit GRU with biases, batch 8, 150 epochs.
    pub fn for_task(task: TaskName) -> Self {
        let (hidden, batch_size, seq_len, lr) = match task {
            TaskName::CharRnn => (512, 100, 100, 0.002),
            TaskName::Mocap => (256, 250, 25, 0.001),
            TaskName::SyntheticText => (64, 32, 50, 0.01),
            TaskName::SyntheticSignal => (64, 32, 25, 0.005),
            TaskName::Lorenz63 => (64, 8, 100, 0.01),
        };
        let mut config = Self {
            task,
            data: None,
            arch: Arch::Lstm,
            hidden,
            layers: 1,
            dropout: 0.0,
            lr,
            init_scale: 0.1,
            bias: false,
            epochs: 10,
            batch_size,
            seq_len,
            seed: 0,
            clip: None,
            max_chars: None,
            trajectories: None,
            le_every: 1,
            le_batch: 10,
            le_steps: 100,
            le_warmup: 0,
            le_state: LstmState::Full,
            le_trace: false,
            precision: Precision::F32,
            mocap_split: MocapSplit::default(),
        };
        if task == TaskName::Lorenz63 {
            // a regression GRU with biases, trained longer (docs/DESIGN.md section 5)
            config.arch = Arch::Gru;
            config.bias = true;
            config.epochs = 150;
        }
        config
    }

    /// Rejects settings that cannot work, with the flag at fault.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |msg: &str| Err(TrainError::Config(msg.to_string()));
        let positive = [
            (self.hidden, "--hidden must be at least 1"),
            (self.layers, "--layers must be at least 1"),
            (self.epochs, "--epochs must be at least 1"),
            (self.batch_size, "--batch-size must be at least 1"),
            (self.seq_len, "--seq-len must be at least 1"),
        ];
        if let Some((_, msg)) = positive.iter().find(|(v, _)| *v == 0) {
            return bad(msg);
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad("--dropout must be in [0, 1)");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("--lr must be a positive number");
        }
        if !(self.init_scale.is_finite() && self.init_scale >= 0.0) {
            return bad("--init-scale must be a non-negative number");
        }
        if self.trajectories == Some(0) {
            return bad("--trajectories must be at least 1");
        }
        if self.clip.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
            return bad("--clip must be a positive number");
        }
        if self.le_every > 0 && (self.le_batch == 0 || self.le_steps == 0) {
            return bad("--le-batch and --le-steps must be at least 1");
        }
        // the model (at least input and output size 1), its gradients and Adam's two moments
        let parameters =
            lyap_rnn::weights::parameter_count(self.arch, 1, self.hidden, self.layers, self.bias);
        let bytes = parameters
            .and_then(|p| p.checked_add(self.hidden as u128 + 1))
            .and_then(|p| p.checked_mul(4 * self.precision.size_of() as u128));
        lyap_core::memory::fits(bytes, "the model with its gradients and Adam state")?;
        let needs_path = matches!(self.task, TaskName::CharRnn | TaskName::Mocap);
        if needs_path && self.data.is_none() {
            return Err(DataError::MissingPath {
                task: self.task.name(),
            }
            .into());
        }
        Ok(())
    }

    /// How many spectrum sequences of which length the data must provide.
    pub fn spectrum_spec(&self) -> SpectrumInputSpec {
        SpectrumInputSpec {
            count: if self.le_every == 0 { 0 } else { self.le_batch },
            length: self.le_warmup + self.le_steps,
        }
    }

    /// Loads (or generates) the data set this config names.
    pub fn load_dataset(&self) -> Result<Dataset, DataError> {
        let spec = self.spectrum_spec();
        let path = || {
            self.data.as_deref().ok_or(DataError::MissingPath {
                task: self.task.name(),
            })
        };
        match self.task {
            TaskName::CharRnn => {
                data::text::load_text_file(path()?, self.seq_len, self.max_chars, spec)
            }
            TaskName::Mocap => {
                data::mocap::load_mocap(path()?, self.seq_len, spec, self.mocap_split)
            }
            TaskName::SyntheticText => data::synthetic::synthetic_text(
                self.max_chars
                    .unwrap_or(data::synthetic::DEFAULT_TEXT_LENGTH),
                self.seq_len,
                self.seed,
                spec,
            ),
            TaskName::SyntheticSignal => data::synthetic::synthetic_signal(
                self.max_chars
                    .unwrap_or(data::synthetic::DEFAULT_SIGNAL_LENGTH),
                self.seq_len,
                self.seed,
                spec,
            ),
            TaskName::Lorenz63 => data::lorenz63::lorenz63_dataset(
                self.trajectories
                    .unwrap_or(data::lorenz63::DEFAULT_TRAJECTORIES),
                self.max_chars
                    .unwrap_or(data::lorenz63::DEFAULT_TRAJECTORY_STEPS),
                self.seq_len,
                self.seed,
                spec,
            ),
        }
    }
}

/// `Arch` as its command-line name in JSON.
mod arch_name {
    use lyap_rnn::Arch;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(arch: &Arch, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(arch.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arch, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// `LstmState` as `"full"` / `"hidden"` in JSON.
mod lstm_state_name {
    use lyap_rnn::LstmState;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(state: &LstmState, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(state.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LstmState, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

//! Data sets of the paper's tasks (docs/DESIGN.md section 5) cut into training sequences.
//!
//! Every task yields a [`Dataset`]: training and validation [`SequenceSet`]s of windows of
//! `seq_len + 1` steps (the network reads steps `0..seq_len` and predicts steps
//! `1..=seq_len`, i.e. step `t + 1` from steps `<= t`), and the input sequences the per-epoch
//! spectrum is driven by, already embedded (one-hot for characters, identity for signals).
//!
//! Windows do not overlap: window `i` covers steps `i T ..= (i + 1) T` of its stream (its last
//! step is the first of the next window), so a stream of `L` steps gives `(L - 1) / T` windows.
//!
//! - [`text`]: character text (CharRNN, War and Peace).
//! - [`mocap`]: CMU motion capture, preprocessed as docs/DESIGN.md section 5 says.
//! - [`synthetic`]: built-in tasks generated in-process from a seed (no files needed).
//! - [`lorenz63`]: the built-in forecasting task on Lorenz-63 trajectories, with its
//!   [`normalisation`] stored in checkpoints and held-out trajectories for the closed-loop
//!   valid prediction time.

pub mod lorenz63;
pub mod mocap;
pub mod normalisation;
pub mod synthetic;
pub mod text;

use crate::error::DataError;
use lyap_core::Real;

/// What the network reads and predicts.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskKind {
    /// Symbols of a vocabulary (index order), one-hot encoded; cross-entropy loss.
    Text { vocab: Vec<char> },
    /// Real vectors of dimension `dim`, fed as they are; mean squared error.
    Signal { dim: usize },
}

impl TaskKind {
    /// Input size of the recurrent stack (= output size of the readout).
    pub fn width(&self) -> usize {
        match self {
            TaskKind::Text { vocab } => vocab.len(),
            TaskKind::Signal { dim } => *dim,
        }
    }

    /// The vocabulary as a JSON array of one-character strings (checkpoint metadata).
    pub fn vocab_json(&self) -> Option<String> {
        match self {
            TaskKind::Text { vocab } => {
                let strings: Vec<String> = vocab.iter().map(|c| c.to_string()).collect();
                serde_json::to_string(&strings).ok()
            }
            TaskKind::Signal { .. } => None,
        }
    }
}

/// Non-overlapping windows of `seq_len + 1` steps of one split.
#[derive(Clone, Debug, PartialEq)]
pub enum SequenceSet {
    /// Symbol indices, each window `seq_len + 1` long.
    Tokens {
        seq_len: usize,
        vocab_size: usize,
        windows: Vec<Vec<u32>>,
    },
    /// Signal frames, each window `(seq_len + 1) * dim` values, frame-major.
    Signals {
        seq_len: usize,
        dim: usize,
        windows: Vec<Vec<f64>>,
    },
}

/// A batch laid out time-major, as `lyap_rnn::train::forward_batch` wants it.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch<T: Real> {
    pub batch: usize,
    pub seq_len: usize,
    pub inputs: BatchInputs<T>,
    pub targets: Targets<T>,
}

/// The inputs of a batch, time-major (entry or vector `t * batch + b` is sequence `b` at
/// time `t`).
#[derive(Clone, Debug, PartialEq)]
pub enum BatchInputs<T: Real> {
    /// Characters as vocabulary indices `[seq_len][batch]`: the embedding is one-hot, which
    /// the stack applies as a column gather.
    Tokens(Vec<u32>),
    /// Signal vectors `[seq_len][batch][input_size]` (the identity embedding).
    Dense(Vec<T>),
}

/// Next-step targets of a batch, time-major (row `t * batch + b` is sequence `b` at time `t`,
/// the same row order as the top-layer outputs).
#[derive(Clone, Debug, PartialEq)]
pub enum Targets<T: Real> {
    /// Class indices `[seq_len][batch]`.
    Classes(Vec<u32>),
    /// Target vectors `[seq_len][batch][dim]`.
    Values(Vec<T>),
}

impl Targets<f64> {
    /// The same targets in precision `T`.
    pub fn cast<T: Real>(&self) -> Targets<T> {
        match self {
            Targets::Classes(c) => Targets::Classes(c.clone()),
            Targets::Values(v) => Targets::Values(v.iter().map(|&x| T::of_f64(x)).collect()),
        }
    }
}

impl SequenceSet {
    pub fn len(&self) -> usize {
        match self {
            SequenceSet::Tokens { windows, .. } => windows.len(),
            SequenceSet::Signals { windows, .. } => windows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn seq_len(&self) -> usize {
        match self {
            SequenceSet::Tokens { seq_len, .. } | SequenceSet::Signals { seq_len, .. } => *seq_len,
        }
    }

    /// Input size after embedding (vocabulary size or signal dimension).
    pub fn width(&self) -> usize {
        match self {
            SequenceSet::Tokens { vocab_size, .. } => *vocab_size,
            SequenceSet::Signals { dim, .. } => *dim,
        }
    }

    /// The batch made of windows `indices`, in that order: inputs are steps `0..seq_len` of
    /// each window (embedded), targets steps `1..=seq_len`.
    pub fn batch<T: Real>(&self, indices: &[usize]) -> Batch<T> {
        let (batch, seq_len, width) = (indices.len(), self.seq_len(), self.width());
        let (inputs, targets) = match self {
            SequenceSet::Tokens { windows, .. } => {
                let mut tokens = vec![0u32; seq_len * batch];
                let mut classes = vec![0u32; seq_len * batch];
                for (b, &i) in indices.iter().enumerate() {
                    let window = &windows[i];
                    for t in 0..seq_len {
                        let row = t * batch + b;
                        tokens[row] = window[t];
                        classes[row] = window[t + 1];
                    }
                }
                (BatchInputs::Tokens(tokens), Targets::Classes(classes))
            }
            SequenceSet::Signals { windows, .. } => {
                let mut inputs = vec![T::zero(); seq_len * batch * width];
                let mut values = vec![T::zero(); seq_len * batch * width];
                for (b, &i) in indices.iter().enumerate() {
                    let window = &windows[i];
                    for t in 0..seq_len {
                        let row = (t * batch + b) * width;
                        for d in 0..width {
                            inputs[row + d] = T::of_f64(window[t * width + d]);
                            values[row + d] = T::of_f64(window[(t + 1) * width + d]);
                        }
                    }
                }
                (BatchInputs::Dense(inputs), Targets::Values(values))
            }
        };
        Batch {
            batch,
            seq_len,
            inputs,
            targets,
        }
    }
}

/// A task's data, ready for training: splits, and the spectrum's driving inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub kind: TaskKind,
    pub train: SequenceSet,
    pub val: SequenceSet,
    /// Embedded input sequences `[time][width]` (row-major) for the per-epoch spectrum, each
    /// at least `warmup + steps` long.
    pub spectrum_inputs: Vec<Vec<f64>>,
    /// One line describing where the data came from and its sizes.
    pub description: String,
    /// Forecasting tasks (`lorenz63`): the normalisation and the held-out trajectories of the
    /// closed-loop evaluation; `None` for the other tasks.
    pub forecast: Option<lorenz63::ForecastData>,
}

/// How many spectrum input sequences to prepare and how long each must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpectrumInputSpec {
    pub count: usize,
    pub length: usize,
}

/// Cuts a stream of `len` steps into non-overlapping windows of `seq_len + 1` steps (see the
/// module documentation): the start index of each window.
pub fn window_starts(len: usize, seq_len: usize) -> impl Iterator<Item = usize> {
    let count = if len == 0 || seq_len == 0 {
        0
    } else {
        (len - 1) / seq_len
    };
    (0..count).map(move |i| i * seq_len)
}

/// Picks `spec.count` non-overlapping stretches of `spec.length` steps from `streams`
/// (each `[time][width]` row-major), taking one from each stream in turn (round robin) so
/// that every stream is represented, then embeds them with `embed`.
pub fn spectrum_stretches<S>(
    streams: &[S],
    steps_of: impl Fn(&S) -> usize,
    copy_out: impl Fn(&S, usize, usize) -> Vec<f64>,
    spec: SpectrumInputSpec,
    what: &str,
) -> Result<Vec<Vec<f64>>, DataError> {
    let per_stream: Vec<usize> = streams
        .iter()
        .map(|s| steps_of(s) / spec.length.max(1))
        .collect();
    let available: usize = per_stream.iter().sum();
    if available < spec.count {
        return Err(DataError::Invalid(format!(
            "{what} holds {available} non-overlapping stretches of {} steps (warm-up + steps) for the spectrum, but {} are asked for (--le-batch)",
            spec.length, spec.count
        )));
    }
    let mut out = Vec::with_capacity(spec.count);
    let mut taken = vec![0usize; streams.len()];
    while out.len() < spec.count {
        for (s, stream) in streams.iter().enumerate() {
            if out.len() < spec.count && taken[s] < per_stream[s] {
                out.push(copy_out(stream, taken[s] * spec.length, spec.length));
                taken[s] += 1;
            }
        }
    }
    Ok(out)
}

/// One-hot encoding of `tokens` over `vocab_size` symbols, `[time][vocab_size]` row-major.
pub fn one_hot(tokens: &[u32], vocab_size: usize) -> Vec<f64> {
    let mut out = vec![0.0; tokens.len() * vocab_size];
    for (t, &token) in tokens.iter().enumerate() {
        out[t * vocab_size + token as usize] = 1.0;
    }
    out
}

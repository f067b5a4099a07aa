//! Built-in tasks generated in-process from a seed, so that the demo and quick tests need no
//! files. Both produce one stream split 80/10/10 in order like the text task; the spectrum is
//! driven by a *fresh* stream generated from a derived seed.
//!
//! - [`bracket_text`] (`synthetic-text`): a stochastic grammar over 20 symbols with long-range
//!   structure: nested brackets `( [ { <` that must be closed by their matching partner,
//!   possibly many steps later, around runs of letters `a..j` that mostly count upwards
//!   (`a b c ...`), with spaces and sentence-ending dots. Predicting a closing bracket needs
//!   memory of what was opened; predicting letters needs only the last one.
//! - [`lorenz96`] (`synthetic-signal`): the 20-dimensional Lorenz-96 system
//!   `dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F` (indices mod 20) with `F = 8`, which
//!   is chaotic; integrated with RK4 at step 0.01, sampled every 0.05 time units after a
//!   burn-in, and normalised per dimension with the training part's mean and std.

use super::text::EncodedText;
use super::{one_hot, spectrum_stretches, window_starts, Dataset, SequenceSet, SpectrumInputSpec};
use super::{text, TaskKind};
use crate::error::DataError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Default stream length of `synthetic-text` (symbols).
pub const DEFAULT_TEXT_LENGTH: usize = 60_000;
/// Default stream length of `synthetic-signal` (samples).
pub const DEFAULT_SIGNAL_LENGTH: usize = 20_000;
/// Dimension of the Lorenz-96 signal.
pub const SIGNAL_DIM: usize = 20;
/// Lorenz-96 forcing.
pub const LORENZ_FORCING: f64 = 8.0;
/// Sampling interval and integration step of the Lorenz-96 signal.
pub const SAMPLE_DT: f64 = 0.05;
const RK4_STEP: f64 = 0.01;
const BURN_IN_SAMPLES: usize = 500;
/// Seed offset of the fresh stream that drives the spectrum.
const SPECTRUM_SEED_OFFSET: u64 = 0x0005_eed0_f1e5;

const OPEN: [char; 4] = ['(', '[', '{', '<'];
const CLOSE: [char; 4] = [')', ']', '}', '>'];
const LETTERS: usize = 10;
const MAX_DEPTH: usize = 4;

/// The 20 symbols of `synthetic-text`, sorted by code point.
pub fn synthetic_vocab() -> Vec<char> {
    let mut vocab: Vec<char> = OPEN.iter().chain(&CLOSE).copied().collect();
    vocab.extend((0..LETTERS as u8).map(|i| (b'a' + i) as char));
    vocab.extend([' ', '.']);
    vocab.sort_unstable();
    vocab
}

/// `length` symbols of the bracket grammar (see the module documentation).
pub fn bracket_text(length: usize, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut stack: Vec<usize> = Vec::new();
    let mut out = String::with_capacity(length);
    let mut letter = 0usize;
    let mut count = 0;
    while count < length {
        let roll: f64 = rng.random();
        let symbol = if !stack.is_empty() && roll < 0.08 {
            CLOSE[stack.pop().unwrap_or(0)]
        } else if stack.len() < MAX_DEPTH && roll < 0.16 {
            let kind = rng.random_range(0..OPEN.len());
            stack.push(kind);
            OPEN[kind]
        } else if roll < 0.24 {
            ' '
        } else if stack.is_empty() && roll < 0.27 {
            letter = 0;
            '.'
        } else {
            letter = if rng.random::<f64>() < 0.75 {
                (letter + 1) % LETTERS
            } else {
                rng.random_range(0..LETTERS)
            };
            (b'a' + letter as u8) as char
        };
        out.push(symbol);
        count += 1;
    }
    out
}

/// The `synthetic-text` data set: a bracket-grammar stream of `length` symbols.
pub fn synthetic_text(
    length: usize,
    seq_len: usize,
    seed: u64,
    spectrum: SpectrumInputSpec,
) -> Result<Dataset, DataError> {
    let vocab = synthetic_vocab();
    let chars: Vec<char> = bracket_text(length, seed).chars().collect();
    let encoded = EncodedText::encode(&chars, vocab.clone());
    let no_test_inputs = SpectrumInputSpec {
        count: 0,
        length: 1,
    };
    let mut dataset = text::text_dataset(encoded, "synthetic-text", seq_len, no_test_inputs)?;
    // Fresh sequences for the spectrum.
    let fresh: Vec<char> = bracket_text(
        spectrum.count * spectrum.length,
        seed.wrapping_add(SPECTRUM_SEED_OFFSET),
    )
    .chars()
    .collect();
    let tokens = EncodedText::encode(&fresh, vocab.clone()).tokens;
    dataset.spectrum_inputs = spectrum_stretches(
        &[tokens.as_slice()],
        |s| s.len(),
        |s, start, n| one_hot(&s[start..start + n], vocab.len()),
        spectrum,
        "the fresh synthetic-text stream",
    )?;
    dataset.description = format!(
        "synthetic-text (bracket grammar, seed {seed}): {length} symbols, vocabulary {}, {} training and {} validation sequences of {seq_len}",
        vocab.len(),
        dataset.train.len(),
        dataset.val.len()
    );
    Ok(dataset)
}

/// Lorenz-96 right-hand side `dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F`.
fn lorenz96_rate(x: &[f64], out: &mut [f64]) {
    let n = x.len();
    for i in 0..n {
        let (next, prev, prev2) = (x[(i + 1) % n], x[(i + n - 1) % n], x[(i + n - 2) % n]);
        out[i] = (next - prev2) * prev - x[i] + LORENZ_FORCING;
    }
}

/// `samples` raw (unnormalised) Lorenz-96 states `[time][20]` sampled every [`SAMPLE_DT`]
/// after a burn-in, from a random start near the fixed point `x_i = F`.
pub fn lorenz96(samples: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = SIGNAL_DIM;
    let mut x: Vec<f64> = (0..n)
        .map(|_| LORENZ_FORCING + rng.random_range(-1.0..1.0))
        .collect();
    let (mut k1, mut k2, mut k3, mut k4, mut tmp) = (
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
    );
    let substeps = (SAMPLE_DT / RK4_STEP).round() as usize;
    let h = RK4_STEP;
    let mut out = Vec::with_capacity(samples * n);
    for sample in 0..BURN_IN_SAMPLES + samples {
        for _ in 0..substeps {
            lorenz96_rate(&x, &mut k1);
            (0..n).for_each(|i| tmp[i] = x[i] + 0.5 * h * k1[i]);
            lorenz96_rate(&tmp, &mut k2);
            (0..n).for_each(|i| tmp[i] = x[i] + 0.5 * h * k2[i]);
            lorenz96_rate(&tmp, &mut k3);
            (0..n).for_each(|i| tmp[i] = x[i] + h * k3[i]);
            lorenz96_rate(&tmp, &mut k4);
            (0..n).for_each(|i| x[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]));
        }
        if sample >= BURN_IN_SAMPLES {
            out.extend_from_slice(&x);
        }
    }
    out
}

/// The `synthetic-signal` data set: a Lorenz-96 stream of `length` samples.
pub fn synthetic_signal(
    length: usize,
    seq_len: usize,
    seed: u64,
    spectrum: SpectrumInputSpec,
) -> Result<Dataset, DataError> {
    let dim = SIGNAL_DIM;
    let mut stream = lorenz96(length, seed);
    let (train_end, val_end) = (length * 8 / 10, length * 9 / 10);
    // Per-dimension mean and std over the training part.
    let train_frames = &stream[..train_end * dim];
    let count = train_end.max(1) as f64;
    let mean: Vec<f64> = (0..dim)
        .map(|d| train_frames.iter().skip(d).step_by(dim).sum::<f64>() / count)
        .collect();
    let std: Vec<f64> = (0..dim)
        .map(|d| {
            let m = mean[d];
            let var = train_frames
                .iter()
                .skip(d)
                .step_by(dim)
                .map(|x| (x - m) * (x - m))
                .sum::<f64>()
                / count;
            var.sqrt().max(f64::MIN_POSITIVE)
        })
        .collect();
    let normalise = |frames: &mut [f64]| {
        for frame in frames.chunks_exact_mut(dim) {
            for d in 0..dim {
                frame[d] = (frame[d] - mean[d]) / std[d];
            }
        }
    };
    normalise(&mut stream);
    let windows_of = |split: &str, frames: &[f64]| {
        let steps = frames.len() / dim;
        let windows: Vec<Vec<f64>> = window_starts(steps, seq_len)
            .map(|s| frames[s * dim..(s + seq_len + 1) * dim].to_vec())
            .collect();
        if windows.is_empty() {
            return Err(DataError::TooShort {
                what: format!("the {split} part of synthetic-signal"),
                available: steps,
                needed: seq_len + 1,
            });
        }
        Ok(SequenceSet::Signals {
            seq_len,
            dim,
            windows,
        })
    };
    let train = windows_of("training", &stream[..train_end * dim])?;
    let val = windows_of("validation", &stream[train_end * dim..val_end * dim])?;
    let mut fresh = lorenz96(
        spectrum.count * spectrum.length,
        seed.wrapping_add(SPECTRUM_SEED_OFFSET),
    );
    normalise(&mut fresh);
    let spectrum_inputs = spectrum_stretches(
        &[fresh.as_slice()],
        |s| s.len() / dim,
        |s, start, n| s[start * dim..(start + n) * dim].to_vec(),
        spectrum,
        "the fresh synthetic-signal stream",
    )?;
    let description = format!(
        "synthetic-signal (Lorenz-96, F = 8, dt = 0.05, seed {seed}): {length} samples of {dim} dimensions, {} training and {} validation sequences of {seq_len}",
        train.len(),
        val.len()
    );
    Ok(Dataset {
        kind: TaskKind::Signal { dim },
        train,
        val,
        spectrum_inputs,
        description,
        forecast: None,
    })
}

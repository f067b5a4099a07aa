//! Input sequences for a spectrum: float arrays, tokens (through the model's embedding or
//! one-hot), zeros or generated tokens.

use crate::cli::SpectrumArgs;
use crate::error::{CliError, CliResult};
use crate::formats::model::load_embedding;
use crate::formats::npy::{read_npy, NpyArray, NpyValues};
use lyap_rnn::pytorch::embedding::Embedding;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// Input sequences, each `length x input_size` values in row-major (`[t][d]`) order.
#[derive(Clone, Debug, PartialEq)]
pub struct Inputs {
    pub sequences: Vec<Vec<f64>>,
    /// Steps per sequence (`T`).
    pub length: usize,
    /// Where they came from, for messages (a path, or "generated").
    pub origin: String,
}

impl Inputs {
    /// Keeps the first `batch` sequences; more than available is an error.
    pub fn take(mut self, batch: usize) -> CliResult<Self> {
        if batch == 0 {
            return Err(CliError::bad("--batch must be at least 1"));
        }
        if batch > self.sequences.len() {
            return Err(CliError::bad(format!(
                "--batch {batch} but {} holds only {} sequences",
                self.origin,
                self.sequences.len()
            )));
        }
        self.sequences.truncate(batch);
        Ok(self)
    }
}

/// Float inputs from an `.npy` array `[B, T, D]` or `[T, D]`; `D` must equal `input_size` and
/// every value must be finite.
pub fn float_inputs(path: &Path, input_size: usize) -> CliResult<Inputs> {
    let shown = path.display().to_string();
    let NpyArray { shape, values } = read_npy(path)?;
    let values = match values {
        NpyValues::Float(v) => v,
        NpyValues::Int(_) => {
            return Err(CliError::bad(format!(
                "{shown}: --inputs needs a float32/float64 array, got integers (use --tokens for \
                 token ids)"
            )))
        }
    };
    let (batch, length, d) = match shape[..] {
        [b, t, d] => (b, t, d),
        [t, d] => (1, t, d),
        _ => {
            return Err(CliError::bad(format!(
                "{shown}: array of shape {shape:?} has rank {}; expected [B, T, D] or [T, D]",
                shape.len()
            )))
        }
    };
    if d != input_size {
        return Err(CliError::bad(format!(
            "{shown}: inputs have size D = {d} (shape {shape:?}) but the model's input size is \
             {input_size}"
        )));
    }
    check_nonempty(&shown, &shape, batch, length)?;
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        let (b, t, d) = (i / (length * d), (i / d) % length, i % d);
        return Err(CliError::bad(format!(
            "{shown}: non-finite input value {v} at [{b}, {t}, {d}]"
        )));
    }
    let sequences = values
        .chunks_exact(length * input_size)
        .map(<[f64]>::to_vec)
        .collect();
    Ok(Inputs {
        sequences,
        length,
        origin: shown,
    })
}

/// The `--tokens` of `lyap spectrum`: through the `--model` file's token embedding when it has
/// one (`--embedding KEY`, or found automatically), else one-hot encoded to `input_size`.
pub fn spectrum_tokens(args: &SpectrumArgs, path: &Path, input_size: usize) -> CliResult<Inputs> {
    let embedding = match &args.model {
        Some(model) => load_embedding(model, input_size, args.embedding.as_deref())?,
        None => None,
    };
    token_inputs(path, input_size, embedding.as_ref())
}

/// Integer tokens from an `.npy` array `[B, T]` or `[T]`: token `t` becomes row `t` of
/// `embedding` (`[V, input_size]`), or without one the one-hot vector of size `input_size`.
/// A token outside `[0, V)` (or `[0, input_size)`) is an error.
pub fn token_inputs(
    path: &Path,
    input_size: usize,
    embedding: Option<&Embedding>,
) -> CliResult<Inputs> {
    let shown = path.display().to_string();
    let NpyArray { shape, values } = read_npy(path)?;
    let tokens = match values {
        NpyValues::Int(v) => v,
        NpyValues::Float(_) => {
            return Err(CliError::bad(format!(
                "{shown}: --tokens needs an integer array, got floats (use --inputs for float \
                 inputs)"
            )))
        }
    };
    let (batch, length) = match shape[..] {
        [b, t] => (b, t),
        [t] => (1, t),
        _ => {
            return Err(CliError::bad(format!(
                "{shown}: token array of shape {shape:?} has rank {}; expected [B, T] or [T]",
                shape.len()
            )))
        }
    };
    check_nonempty(&shown, &shape, batch, length)?;
    let (limit, what) = match embedding {
        Some(e) => (
            e.vocab,
            format!("the vocabulary size V of embedding {}", e.key),
        ),
        None => (input_size, "the model's input size".to_string()),
    };
    let in_range = |t: i64| usize::try_from(t).is_ok_and(|t| t < limit);
    if let Some((i, &t)) = tokens.iter().enumerate().find(|(_, &t)| !in_range(t)) {
        return Err(CliError::bad(format!(
            "{shown}: token {t} at [{}, {}] is outside [0, {limit}) ({what})",
            i / length,
            i % length
        )));
    }
    let sequences = tokens
        .chunks_exact(length)
        .map(|seq| {
            let ids = seq.iter().map(|&t| t as usize);
            match embedding {
                Some(e) => embed(ids, e),
                None => one_hot(ids, input_size),
            }
        })
        .collect();
    let origin = match embedding {
        Some(e) => format!(
            "{shown} through embedding {} [{}, {}]",
            e.key, e.vocab, e.dim
        ),
        None => shown,
    };
    Ok(Inputs {
        sequences,
        length,
        origin,
    })
}

/// `batch` all-zero sequences of `length` steps.
pub fn zero_inputs(batch: usize, length: usize, input_size: usize) -> Inputs {
    Inputs {
        sequences: vec![vec![0.0; length * input_size]; batch],
        length,
        origin: "zero input".into(),
    }
}

/// `batch` sequences of `length` random tokens, uniform on `[0, input_size)`, one-hot
/// encoded, drawn from `seed` (offset so that they do not reuse the random weights' stream).
pub fn generated_tokens(batch: usize, length: usize, input_size: usize, seed: u64) -> Inputs {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    let sequences = (0..batch)
        .map(|_| {
            let tokens: Vec<usize> = (0..length)
                .map(|_| rng.random_range(0..input_size.max(1)))
                .collect();
            one_hot(tokens.into_iter(), input_size)
        })
        .collect();
    Inputs {
        sequences,
        length,
        origin: "generated tokens".into(),
    }
}

fn one_hot(tokens: impl Iterator<Item = usize>, size: usize) -> Vec<f64> {
    let mut out = Vec::new();
    for token in tokens {
        let start = out.len();
        out.resize(start + size, 0.0);
        if token < size {
            out[start + token] = 1.0;
        }
    }
    out
}

/// The embedding rows of `tokens` (all below `embedding.vocab`), one after another.
fn embed(tokens: impl Iterator<Item = usize>, embedding: &Embedding) -> Vec<f64> {
    tokens
        .flat_map(|t| embedding.row(t).unwrap_or_default())
        .copied()
        .collect()
}

fn check_nonempty(shown: &str, shape: &[usize], batch: usize, length: usize) -> CliResult<()> {
    if batch == 0 || length == 0 {
        return Err(CliError::bad(format!(
            "{shown}: array of shape {shape:?} holds no sequences or no steps"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_encodes_rows() {
        assert_eq!(
            one_hot([2, 0].into_iter(), 3),
            vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
        );
    }

    #[test]
    fn generated_tokens_are_one_hot_and_deterministic() {
        let a = generated_tokens(2, 5, 4, 3);
        assert_eq!(a, generated_tokens(2, 5, 4, 3));
        assert_ne!(a, generated_tokens(2, 5, 4, 4));
        for seq in &a.sequences {
            for row in seq.chunks(4) {
                assert_eq!(row.iter().sum::<f64>(), 1.0);
            }
        }
    }
}

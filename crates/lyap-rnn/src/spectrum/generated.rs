//! Inputs computed on demand ([`InputGenerator`]): a sequence can be extended for as long as
//! a run measured until converged needs it (docs/DESIGN.md section 2, "Error bars over time
//! and stopping when converged"). The values at a position never depend on how many were
//! asked for, or in which chunks.

use lyap_core::{InputSource, Real};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt;

/// Input sequences computed on demand, for [`InputBatch::Generated`](super::InputBatch).
pub trait InputGenerator: Sync + fmt::Debug {
    /// Values per input vector.
    fn input_size(&self) -> usize;
    /// Writes the input vectors of steps `start .. start + out.len() / input_size` of
    /// sequence `sequence` into `out` (row-major).
    fn fill(&self, sequence: usize, start: usize, out: &mut [f64]);
}

/// All-zero inputs (autonomous dynamics of a driven network).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZeroInputs {
    pub input_size: usize,
}

impl InputGenerator for ZeroInputs {
    fn input_size(&self) -> usize {
        self.input_size
    }
    fn fill(&self, _: usize, _: usize, out: &mut [f64]) {
        out.fill(0.0);
    }
}

/// Random tokens uniform on `[0, input_size)`, one-hot encoded: token `t` of sequence `b` is
/// `floor(w * input_size / 2^64)` for the 64-bit word `w` at position `t` of ChaCha8 stream
/// `b` seeded with `seed` (so any position is reached directly; the bias of this mapping is
/// below `input_size / 2^64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GeneratedTokens {
    pub input_size: usize,
    pub seed: u64,
}

impl GeneratedTokens {
    /// Tokens `start .. start + count` of sequence `sequence`.
    pub fn tokens(&self, sequence: usize, start: usize, count: usize) -> Vec<usize> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(sequence as u64);
        rng.set_word_pos(2 * start as u128);
        let size = self.input_size as u128;
        (0..count)
            .map(|_| ((rng.next_u64() as u128 * size) >> 64) as usize)
            .collect()
    }
}

impl InputGenerator for GeneratedTokens {
    fn input_size(&self) -> usize {
        self.input_size
    }
    fn fill(&self, sequence: usize, start: usize, out: &mut [f64]) {
        out.fill(0.0);
        let d = self.input_size.max(1);
        let tokens = self.tokens(sequence, start, out.len() / d);
        for (row, token) in out.chunks_exact_mut(d).zip(tokens) {
            if token < row.len() {
                row[token] = 1.0;
            }
        }
    }
}

/// The first `steps` input vectors of each of `batch` generated sequences.
pub(super) fn materialize(
    generator: &dyn InputGenerator,
    batch: usize,
    steps: usize,
) -> Vec<Vec<f64>> {
    (0..batch)
        .map(|b| {
            let mut values = vec![0.0; steps * generator.input_size()];
            generator.fill(b, 0, &mut values);
            values
        })
        .collect()
}

/// A generator as the engine's [`InputSource`] in precision `T` (never ends).
pub(super) struct GeneratedSource<'g> {
    pub generator: &'g dyn InputGenerator,
}

impl<T: Real> InputSource<T> for GeneratedSource<'_> {
    fn available(&self, _: usize) -> Option<usize> {
        None
    }
    fn inputs<'a>(
        &'a self,
        sequence: usize,
        start: usize,
        count: usize,
        scratch: &'a mut Vec<T>,
    ) -> &'a [T] {
        let mut values = vec![0.0; count * self.generator.input_size()];
        self.generator.fill(sequence, start, &mut values);
        scratch.clear();
        scratch.extend(values.iter().map(|&v| T::of_f64(v)));
        scratch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_do_not_depend_on_the_chunks_and_are_uniform() {
        let g = GeneratedTokens {
            input_size: 5,
            seed: 3,
        };
        let whole = g.tokens(2, 0, 1000);
        let mut pieces = g.tokens(2, 0, 333);
        pieces.extend(g.tokens(2, 333, 667));
        assert_eq!(whole, pieces);
        assert_ne!(whole, g.tokens(1, 0, 1000));
        let mut counts = [0usize; 5];
        whole.iter().for_each(|&t| counts[t] += 1);
        // 200 expected each; 5 sigma is about 63
        assert!(
            counts.iter().all(|&c| (140..260).contains(&c)),
            "{counts:?}"
        );
        let mut rows = vec![0.0; 15];
        g.fill(2, 10, &mut rows);
        for (row, token) in rows.chunks(5).zip(&whole[10..13]) {
            assert_eq!(row.iter().sum::<f64>(), 1.0);
            assert_eq!(row[*token], 1.0);
        }
    }
}

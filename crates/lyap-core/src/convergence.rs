//! Error bars over time and stopping when converged (docs/DESIGN.md section 2, "Error bars
//! over time and stopping when converged").
//!
//! **Batch means.** Along one trajectory the QR steps `j = 1..N` give log growths
//! `g_ij = ln|R_ii(j)|`, each covering `m_j` measured steps (`qr_every`, the last one possibly
//! fewer), and the exponent is the time average `lambda_i = sum_j g_ij / T`. The `N` QR steps
//! are cut into consecutive blocks of `b` QR steps (the last block possibly shorter); block
//! `c` holds `n_c` measured steps and has the mean `mu_ic = (sum_(j in c) g_ij) / n_c`. With
//! weights `w_c = n_c / T` the standard error of the time average is
//!
//! ```text
//! se_i^2 = sum_c w_c^2 (mu_ic - lambda_i)^2 / (1 - sum_c w_c^2)
//! ```
//!
//! (unbiased for independent block means whose variance falls as `1 / n_c`; with equal blocks
//! it is the familiar `s^2 / C` of `C` batch means). The block length `b` is
//! [`block_length`]`(N)`: the largest power of two not above `max(sqrt N, min(8, N / 2))`, so
//! blocks and their number both grow as `sqrt N` (Flegal and Jones, *Ann. Statist.* 38, 2010),
//! a block is at least 8 QR steps long whenever that still leaves two of them, and when `N`
//! grows the blocks only ever double, merging neighbours: [`BlockMeans`] keeps the block sums
//! (about `2 sqrt N` of them) instead of every `g_ij`. Over a batch of `B` sequences the
//! standard error of the reported mean is `sqrt(sum_b se_ib^2) / B`
//! ([`combine_standard_errors`]).
//!
//! **Until converged.** [`lyapunov_spectrum_until`] measures in chunks, keeping every
//! trajectory between them, until every exponent's combined standard error (in the reported
//! unit) is below a tolerance, the step limit is reached, or the inputs end.

use crate::spectrum::{validate_settings, Spectrum, SpectrumConfig, SpectrumError, WarmupStyle};
use crate::system::TangentSystem;
use crate::trajectory::Trajectory;
use crate::Real;
use rayon::prelude::*;

/// The shortest block, in QR steps, whenever the run has at least twice as many.
pub const MIN_BLOCK: usize = 8;

/// The block length (in QR steps) for `qr_steps` QR steps: the largest power of two `b` with
/// `b <= sqrt(qr_steps)` or `b <= min(MIN_BLOCK, qr_steps / 2)` (at least 1).
pub fn block_length(qr_steps: usize) -> usize {
    let mut b = 1usize;
    loop {
        let next = 2 * b;
        let by_root = next.saturating_mul(next) <= qr_steps;
        let by_floor = next <= MIN_BLOCK && 2 * next <= qr_steps;
        if !(by_root || by_floor) {
            return b;
        }
        b = next;
    }
}

/// The block sums of one trajectory's log growths (module docs): complete blocks of
/// [`block_length`]`(N)` QR steps and the block being filled.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockMeans {
    k: usize,
    qr_steps: usize,
    block_len: usize,
    /// Sums of the complete blocks, `k` values per block.
    sums: Vec<f64>,
    /// Measured steps of each complete block.
    steps: Vec<usize>,
    partial: Vec<f64>,
    partial_qr: usize,
    partial_steps: usize,
}

impl BlockMeans {
    /// No QR steps yet, for `k` exponents.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            qr_steps: 0,
            block_len: 1,
            sums: Vec::new(),
            steps: Vec::new(),
            partial: vec![0.0; k],
            partial_qr: 0,
            partial_steps: 0,
        }
    }

    /// Adds one QR step: `growth[i] = ln|R_ii|`, covering `steps` measured steps.
    pub fn push(&mut self, growth: &[f64], steps: usize) {
        self.qr_steps += 1;
        while block_length(self.qr_steps) > self.block_len {
            self.merge_pairs();
        }
        for (p, g) in self.partial.iter_mut().zip(growth) {
            *p += g;
        }
        self.partial_qr += 1;
        self.partial_steps += steps;
        if self.partial_qr == self.block_len {
            self.sums.extend_from_slice(&self.partial);
            self.steps.push(self.partial_steps);
            self.partial.fill(0.0);
            self.partial_qr = 0;
            self.partial_steps = 0;
        }
    }

    /// Doubles the block length: complete blocks merge in pairs; an unpaired last one joins
    /// the block being filled.
    fn merge_pairs(&mut self) {
        let (k, count) = (self.k, self.steps.len());
        for pair in 0..count / 2 {
            for i in 0..k {
                self.sums[pair * k + i] =
                    self.sums[2 * pair * k + i] + self.sums[(2 * pair + 1) * k + i];
            }
            self.steps[pair] = self.steps[2 * pair] + self.steps[2 * pair + 1];
        }
        if count % 2 == 1 {
            let last = (count - 1) * k;
            for i in 0..k {
                self.partial[i] += self.sums[last + i];
            }
            self.partial_qr += self.block_len;
            self.partial_steps += self.steps[count - 1];
        }
        self.sums.truncate(count / 2 * k);
        self.steps.truncate(count / 2);
        self.block_len *= 2;
    }

    /// QR steps pushed so far (`N`).
    pub fn qr_steps(&self) -> usize {
        self.qr_steps
    }

    /// Number of blocks (complete ones and the one being filled, when not empty).
    pub fn blocks(&self) -> usize {
        self.steps.len() + usize::from(self.partial_qr > 0)
    }

    /// The standard error `se_i` of each time average (module docs), nats per step: `NaN`
    /// with fewer than two blocks or when a block sum is not finite (a collapsed direction).
    pub fn standard_errors(&self) -> Vec<f64> {
        let mut blocks: Vec<(&[f64], usize)> = self
            .sums
            .chunks_exact(self.k.max(1))
            .zip(self.steps.iter().copied())
            .collect();
        if self.partial_qr > 0 {
            blocks.push((&self.partial, self.partial_steps));
        }
        let total = blocks.iter().map(|(_, n)| n).sum::<usize>() as f64;
        let weight_squares: f64 = blocks
            .iter()
            .map(|(_, n)| (*n as f64 / total).powi(2))
            .sum();
        (0..self.k)
            .map(|i| {
                if blocks.len() < 2 || blocks.iter().any(|(s, _)| !s[i].is_finite()) {
                    return f64::NAN;
                }
                let mean = blocks.iter().map(|(s, _)| s[i]).sum::<f64>() / total;
                let spread: f64 = blocks
                    .iter()
                    .map(|(s, n)| {
                        let w = *n as f64 / total;
                        (w * (s[i] / *n as f64 - mean)).powi(2)
                    })
                    .sum();
                (spread / (1.0 - weight_squares)).sqrt()
            })
            .collect()
    }
}

/// The standard error of the mean over `B` sequences from each sequence's standard error of
/// its time average: `sqrt(sum_b se_ib^2) / B` (`NaN` if any is).
pub fn combine_standard_errors(per_sequence: &[&[f64]]) -> Vec<f64> {
    let k = per_sequence.first().map_or(0, |s| s.len());
    let count = per_sequence.len() as f64;
    (0..k)
        .map(|i| per_sequence.iter().map(|s| s[i] * s[i]).sum::<f64>().sqrt() / count)
        .collect()
}

/// Input vectors by position in each sequence, for a run measured in chunks.
pub trait InputSource<T>: Sync {
    /// Input vectors sequence `sequence` holds (`None`: as many as asked for, e.g. generated
    /// or autonomous inputs).
    fn available(&self, sequence: usize) -> Option<usize>;
    /// The input vectors at positions `start .. start + count` of sequence `sequence`
    /// (row-major, within [`available`](Self::available)), borrowed or written into `scratch`.
    fn inputs<'a>(
        &'a self,
        sequence: usize,
        start: usize,
        count: usize,
        scratch: &'a mut Vec<T>,
    ) -> &'a [T];
}

/// Fixed sequences (row-major, `input_dim` values per step) as an [`InputSource`]; with
/// `input_dim == 0` (an autonomous system) they never end.
#[derive(Clone, Copy, Debug)]
pub struct FixedInputs<'s, T> {
    pub sequences: &'s [&'s [T]],
    pub input_dim: usize,
}

impl<T: Real> InputSource<T> for FixedInputs<'_, T> {
    fn available(&self, sequence: usize) -> Option<usize> {
        (self.input_dim > 0).then(|| self.sequences[sequence].len() / self.input_dim)
    }
    fn inputs<'a>(
        &'a self,
        sequence: usize,
        start: usize,
        count: usize,
        _: &'a mut Vec<T>,
    ) -> &'a [T] {
        let d = self.input_dim;
        &self.sequences[sequence][start * d..(start + count) * d]
    }
}

/// When [`lyapunov_spectrum_until`] stops.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UntilConverged {
    /// Stop once every exponent's standard error (combined over the batch, in the reported
    /// unit) is below this; exponents whose mean is `-inf` are exact and not waited for.
    pub tolerance: f64,
    /// Never measure more steps than this.
    pub max_steps: usize,
}

/// The result of [`lyapunov_spectrum_until`].
#[derive(Clone, Debug, PartialEq)]
pub struct ConvergedSpectrum {
    /// The spectrum of all measured steps (its [`Spectrum::block_sem`] the criterion's).
    pub spectrum: Spectrum,
    /// Measured steps.
    pub steps: usize,
    /// Every exponent's standard error fell below the tolerance.
    pub converged: bool,
    /// The run stopped because the input sequences ended (before converging and before
    /// `max_steps`).
    pub inputs_ended: bool,
}

/// The spectrum measured in chunks until converged: the first chunk is `config.steps`
/// (rounded up to a multiple of `qr_every`), then chunks aim at the step count at which the
/// largest standard error `s` would reach the tolerance `tol` (`T ((s / tol)^2 - 1)` more
/// steps, plus 10 %), at least a tenth of the steps so far and at most as many, rounded up
/// to a multiple of `qr_every`. `reported` converts a standard error in nats per step into
/// the reported unit (log base, time unit) before it is compared with the tolerance.
///
/// Each trajectory is kept between chunks, so the result equals, bit for bit,
/// [`lyapunov_spectrum`](crate::lyapunov_spectrum) run with the final number of steps on the
/// same inputs. `starts` as in [`lyapunov_spectrum_from`](crate::lyapunov_spectrum_from);
/// positions `0..W` of each sequence are the warm-up, and the measurement reads from
/// position `W` (from 0 again in the paper's warm-up style).
pub fn lyapunov_spectrum_until<T: Real, S: TangentSystem<T>, I: InputSource<T>>(
    system: &S,
    starts: Option<&[&[T]]>,
    sequences: usize,
    inputs: &I,
    config: &SpectrumConfig,
    rule: &UntilConverged,
    reported: &(dyn Fn(f64) -> f64 + Sync),
) -> Result<ConvergedSpectrum, SpectrumError> {
    validate_settings(system, sequences, config)?;
    let first_input = match config.warmup_style {
        WarmupStyle::Standard => config.warmup,
        WarmupStyle::Paper => 0,
    };
    let mut input_limit = usize::MAX;
    for sequence in 0..sequences {
        let Some(available) = inputs.available(sequence) else {
            continue;
        };
        let measurable = match config.warmup_style {
            WarmupStyle::Standard => available.saturating_sub(config.warmup),
            WarmupStyle::Paper if available >= config.warmup => available,
            WarmupStyle::Paper => 0,
        };
        if measurable == 0 {
            return Err(SpectrumError::SequenceTooShort {
                sequence,
                available,
                needed: config.inputs_needed().max(config.warmup + 1),
            });
        }
        input_limit = input_limit.min(measurable);
    }
    let limit = rule.max_steps.min(input_limit);
    let mut trajectories = (0..sequences)
        .into_par_iter()
        .map(|b| {
            let mut trajectory = Trajectory::new(system, starts.map(|s| s[b]), config)?;
            let mut scratch = Vec::new();
            let warmup_inputs = inputs.inputs(b, 0, config.warmup, &mut scratch);
            trajectory.warm_up(system, warmup_inputs, config.warmup, config.warmup_style);
            Ok(trajectory)
        })
        .collect::<Result<Vec<Trajectory<T, S>>, SpectrumError>>()?;
    let m = config.qr_every;
    let mut done = 0;
    let mut chunk = config.steps.div_ceil(m).saturating_mul(m).min(limit);
    let converged = loop {
        trajectories
            .par_iter_mut()
            .enumerate()
            .for_each(|(b, trajectory)| {
                let mut scratch = Vec::new();
                let x = inputs.inputs(b, first_input + done, chunk, &mut scratch);
                trajectory.measure(system, x, chunk);
            });
        done += chunk;
        for (b, trajectory) in trajectories.iter().enumerate() {
            trajectory.check_finite(b)?;
        }
        let ratio = worst_ratio(&trajectories, rule.tolerance, reported);
        if ratio < 1.0 {
            break true;
        }
        if done >= limit {
            break false;
        }
        chunk = next_chunk(done, ratio, m).min(limit - done);
    };
    debug_assert!(trajectories.iter().all(|t| t.measured() == done));
    let per_sequence = trajectories.into_iter().map(Trajectory::finish).collect();
    Ok(ConvergedSpectrum {
        spectrum: Spectrum::from_sequences(per_sequence),
        steps: done,
        converged,
        inputs_ended: !converged && done == input_limit && input_limit < rule.max_steps,
    })
}

/// The largest combined standard error over the tolerance, in the reported unit, among the
/// exponents that did not diverge to `-inf` (infinite when one is undefined, 0 when all
/// diverged).
fn worst_ratio<T: Real, S: TangentSystem<T>>(
    trajectories: &[Trajectory<T, S>],
    tolerance: f64,
    reported: &(dyn Fn(f64) -> f64 + Sync),
) -> f64 {
    let errors: Vec<Vec<f64>> = trajectories
        .iter()
        .map(Trajectory::block_standard_errors)
        .collect();
    let rows: Vec<&[f64]> = errors.iter().map(Vec::as_slice).collect();
    let combined = combine_standard_errors(&rows);
    let mut worst = 0.0f64;
    for (i, se) in combined.iter().enumerate() {
        if trajectories.iter().any(|t| t.diverged(i)) {
            continue;
        }
        let ratio = reported(*se).abs() / tolerance;
        if ratio.is_nan() || tolerance.is_nan() || tolerance <= 0.0 {
            return f64::INFINITY;
        }
        worst = worst.max(ratio);
    }
    worst
}

/// The next chunk after `done` steps when the largest standard error is `ratio` times the
/// tolerance ([`lyapunov_spectrum_until`]).
fn next_chunk(done: usize, ratio: f64, qr_every: usize) -> usize {
    let wanted = if ratio.is_finite() {
        (done as f64 * (ratio * ratio - 1.0) * 1.1).ceil()
    } else {
        done as f64
    };
    let lower = done.div_ceil(10).max(1) as f64;
    let steps = wanted.clamp(lower, done.max(1) as f64) as usize;
    steps.div_ceil(qr_every) * qr_every
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_length_grows_as_the_root_with_a_floor_and_only_doubles() {
        let expected = [
            (1, 1),
            (3, 1),
            (4, 2),
            (7, 2),
            (8, 4),
            (15, 4),
            (16, 8),
            (100, 8),
        ];
        for (n, b) in expected {
            assert_eq!(block_length(n), b, "N = {n}");
        }
        assert_eq!(block_length(255), 8);
        assert_eq!(block_length(256), 16);
        assert_eq!(block_length(100_000), 256);
        for n in 1..5000 {
            let (a, b) = (block_length(n), block_length(n + 1));
            assert!(b == a || b == 2 * a, "N = {n}: {a} -> {b}");
            // at least two blocks from N = 2 on
            assert!(n < 2 || n / block_length(n) >= 2, "N = {n}");
        }
    }

    /// Block sums kept by merging equal the sums over blocks of `block_length(N)` formed
    /// directly from the whole series, and the standard error equals the formula.
    #[test]
    fn merged_blocks_equal_blocks_formed_from_the_series() {
        let series: Vec<f64> = (0..1000)
            .map(|j| ((j * 37 % 101) as f64 - 50.0) / 7.0)
            .collect();
        let mut blocks = BlockMeans::new(1);
        for (j, g) in series.iter().enumerate() {
            let steps = if j % 5 == 4 { 2 } else { 3 };
            blocks.push(&[*g], steps);
            let n = j + 1;
            let b = block_length(n);
            assert_eq!(blocks.blocks(), n.div_ceil(b), "N = {n}");
            if n % 97 != 0 && n != 1000 {
                continue;
            }
            let steps_of = |j: usize| if j % 5 == 4 { 2.0 } else { 3.0 };
            let chunks: Vec<(f64, f64)> = (0..n)
                .collect::<Vec<_>>()
                .chunks(b)
                .map(|c| {
                    (
                        c.iter().map(|&j| series[j]).sum(),
                        c.iter().map(|&j| steps_of(j)).sum(),
                    )
                })
                .collect();
            let total: f64 = chunks.iter().map(|c| c.1).sum();
            let mean = chunks.iter().map(|c| c.0).sum::<f64>() / total;
            let w2: f64 = chunks.iter().map(|c| (c.1 / total).powi(2)).sum();
            let spread: f64 = chunks
                .iter()
                .map(|(s, m)| (m / total * (s / m - mean)).powi(2))
                .sum();
            let se = (spread / (1.0 - w2)).sqrt();
            let got = blocks.standard_errors()[0];
            assert!((got - se).abs() <= 1e-12 * se, "N = {n}: {got} vs {se}");
        }
    }

    #[test]
    fn equal_blocks_give_the_textbook_batch_means_error() {
        let mut blocks = BlockMeans::new(2);
        let values = [1.0, 3.0, 2.0, 6.0, 0.0, 4.0, 5.0, 3.0];
        for v in values {
            blocks.push(&[v, f64::NEG_INFINITY], 1);
        }
        // N = 8: b = 4, block means 3 and 3: se = 0
        let se = blocks.standard_errors();
        assert_eq!(se[0], 0.0);
        assert!(se[1].is_nan());
        blocks.push(&[10.0, 0.0], 1);
        // N = 9: b = 4, blocks [12, 12, 10] over steps [4, 4, 1]
        let total = 9.0;
        let mean = 34.0 / total;
        let w: [f64; 3] = [4.0 / total, 4.0 / total, 1.0 / total];
        let mu: [f64; 3] = [3.0, 3.0, 10.0];
        let spread: f64 = (0..3).map(|c| (w[c] * (mu[c] - mean)).powi(2)).sum();
        let w2: f64 = w.iter().map(|x| x * x).sum();
        assert!((blocks.standard_errors()[0] - (spread / (1.0 - w2)).sqrt()).abs() < 1e-14);
        let one = BlockMeans::new(1);
        assert!(one.standard_errors()[0].is_nan());
    }

    #[test]
    fn combined_error_is_the_root_sum_of_squares_over_the_batch() {
        let a = [0.3, 1.0];
        let b = [0.4, f64::NAN];
        let c = combine_standard_errors(&[&a, &b]);
        assert!((c[0] - 0.25).abs() < 1e-15);
        assert!(c[1].is_nan());
    }

    #[test]
    fn chunks_aim_at_the_tolerance_within_bounds() {
        assert_eq!(next_chunk(1000, 2.0, 1), 1000);
        assert_eq!(next_chunk(1000, 1.01, 1), 100);
        assert_eq!(next_chunk(1000, 1.25, 1), 619);
        assert_eq!(next_chunk(1000, f64::INFINITY, 3), 1002);
        assert_eq!(next_chunk(1, 5.0, 1), 1);
    }
}

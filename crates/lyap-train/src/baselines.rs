//! Baselines a trained network must beat, computed on the same windows as its losses.
//!
//! - Text: the unigram model. Its validation cross-entropy is
//!   `-(1/N) sum_val ln p(y)` with `p` the training split's symbol frequencies (add-one
//!   smoothed so an unseen symbol costs a finite amount), over the same target positions
//!   (steps `1..=seq_len` of every window) as the network's validation loss.
//! - Signals: predicting the last frame, `x_(t+1) ~ x_t`. Its validation MSE is
//!   `(1/(N D)) sum (x_(t+1) - x_t)^2` over the same positions and dimensions, the same mean
//!   as the training loss (PyTorch's `MSELoss()`).

use crate::data::SequenceSet;

/// The validation cross-entropy (nats per symbol) of the training split's unigram
/// distribution, or `None` for signal data.
pub fn unigram_cross_entropy(train: &SequenceSet, val: &SequenceSet) -> Option<f64> {
    let (
        SequenceSet::Tokens {
            windows: train_windows,
            vocab_size,
            ..
        },
        SequenceSet::Tokens {
            windows: val_windows,
            ..
        },
    ) = (train, val)
    else {
        return None;
    };
    let mut counts = vec![1.0f64; *vocab_size];
    for window in train_windows {
        for &token in &window[1..] {
            counts[token as usize] += 1.0;
        }
    }
    let total: f64 = counts.iter().sum();
    let (mut loss, mut positions) = (0.0, 0usize);
    for window in val_windows {
        for &token in &window[1..] {
            loss -= (counts[token as usize] / total).ln();
            positions += 1;
        }
    }
    Some(loss / positions.max(1) as f64)
}

/// The validation MSE of predicting each frame by the one before it, or `None` for text.
pub fn last_frame_mse(val: &SequenceSet) -> Option<f64> {
    let SequenceSet::Signals {
        windows,
        dim,
        seq_len,
    } = val
    else {
        return None;
    };
    let (mut sum, mut count) = (0.0, 0usize);
    for window in windows {
        for t in 0..*seq_len {
            for d in 0..*dim {
                let diff = window[(t + 1) * dim + d] - window[t * dim + d];
                sum += diff * diff;
                count += 1;
            }
        }
    }
    Some(sum / count.max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unigram_of_a_uniform_text_is_log_vocab() {
        // training symbols 0,1 equally often (plus add-one): p = 1/2 each
        let train = SequenceSet::Tokens {
            seq_len: 2,
            vocab_size: 2,
            windows: vec![vec![0, 0, 1], vec![1, 1, 0]],
        };
        let val = SequenceSet::Tokens {
            seq_len: 2,
            vocab_size: 2,
            windows: vec![vec![0, 1, 0]],
        };
        let h = unigram_cross_entropy(&train, &val).unwrap();
        assert!((h - 2f64.ln()).abs() < 1e-12, "{h}");
        assert_eq!(last_frame_mse(&val), None);
    }

    #[test]
    fn last_frame_mse_of_a_ramp() {
        // one dimension rising by 0.5 per step: every prediction is off by 0.5
        let val = SequenceSet::Signals {
            seq_len: 3,
            dim: 1,
            windows: vec![vec![0.0, 0.5, 1.0, 1.5]],
        };
        assert!((last_frame_mse(&val).unwrap() - 0.25).abs() < 1e-15);
    }
}

//! Character text for next-character prediction (CharRNN; docs/DESIGN.md section 5).
//!
//! - Vocabulary: the distinct characters of the text, sorted by code point; index = position.
//! - Split in order: the first 80 % of the characters train, the next 10 % validate, the last
//!   10 % test (the test part only drives the per-epoch spectrum).
//! - Training and validation windows: non-overlapping, `seq_len + 1` characters each (see
//!   [`super::window_starts`]); targets are the next characters.
//! - `max_chars` keeps only the first `max_chars` characters (vocabulary included) for quick
//!   runs.

use super::{
    one_hot, spectrum_stretches, window_starts, Dataset, SequenceSet, SpectrumInputSpec, TaskKind,
};
use crate::error::DataError;
use std::path::Path;

/// A text as symbol indices over its sorted vocabulary.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedText {
    pub vocab: Vec<char>,
    pub tokens: Vec<u32>,
}

impl EncodedText {
    /// Encodes `text` (at most `max_chars` characters of it) over its own vocabulary.
    pub fn new(text: &str, max_chars: Option<usize>) -> Self {
        let chars: Vec<char> = match max_chars {
            Some(limit) => text.chars().take(limit).collect(),
            None => text.chars().collect(),
        };
        let mut vocab = chars.clone();
        vocab.sort_unstable();
        vocab.dedup();
        Self::encode(&chars, vocab)
    }

    /// Encodes `chars` over a given sorted `vocab`; characters outside it are dropped.
    pub fn encode(chars: &[char], vocab: Vec<char>) -> Self {
        let tokens = chars
            .iter()
            .filter_map(|c| vocab.binary_search(c).ok().map(|i| i as u32))
            .collect();
        Self { vocab, tokens }
    }
}

/// Reads a UTF-8 text file and prepares the CharRNN data set.
pub fn load_text_file(
    path: &Path,
    seq_len: usize,
    max_chars: Option<usize>,
    spectrum: SpectrumInputSpec,
) -> Result<Dataset, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|source| DataError::NotUtf8 {
        path: path.to_path_buf(),
        source,
    })?;
    let encoded = EncodedText::new(&text, max_chars);
    text_dataset(encoded, &path.display().to_string(), seq_len, spectrum)
}

/// The CharRNN data set of an encoded text; `what` names it in messages. The spectrum inputs
/// come from the test part (none when `spectrum.count == 0`).
pub fn text_dataset(
    encoded: EncodedText,
    what: &str,
    seq_len: usize,
    spectrum: SpectrumInputSpec,
) -> Result<Dataset, DataError> {
    let len = encoded.tokens.len();
    if len == 0 {
        return Err(DataError::Empty { path: what.into() });
    }
    let (train_end, val_end) = (len * 8 / 10, len * 9 / 10);
    let vocab_size = encoded.vocab.len();
    let windows_of = |split: &str, stream: &[u32]| {
        let windows: Vec<Vec<u32>> = window_starts(stream.len(), seq_len)
            .map(|start| stream[start..=start + seq_len].to_vec())
            .collect();
        if windows.is_empty() {
            return Err(DataError::TooShort {
                what: format!("the {split} part of {what}"),
                available: stream.len(),
                needed: seq_len + 1,
            });
        }
        Ok(SequenceSet::Tokens {
            seq_len,
            vocab_size,
            windows,
        })
    };
    let train = windows_of("training", &encoded.tokens[..train_end])?;
    let val = windows_of("validation", &encoded.tokens[train_end..val_end])?;
    let test = &encoded.tokens[val_end..];
    let spectrum_inputs = spectrum_stretches(
        &[test],
        |s| s.len(),
        |s, start, n| one_hot(&s[start..start + n], vocab_size),
        spectrum,
        &format!("the test part of {what} ({} characters)", test.len()),
    )?;
    let description = format!(
        "{what}: {len} characters, vocabulary {vocab_size}, {} training and {} validation sequences of {seq_len}",
        train.len(),
        val.len()
    );
    Ok(Dataset {
        kind: TaskKind::Text {
            vocab: encoded.vocab,
        },
        train,
        val,
        spectrum_inputs,
        description,
        forecast: None,
    })
}

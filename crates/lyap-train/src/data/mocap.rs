//! CMU motion capture, prepared exactly as docs/DESIGN.md section 5 describes.
//!
//! Layout: `ROOT/{train,test}/{basketball,soccer,walking,jumping}/*.txt`, one frame per line,
//! comma-separated numbers (117 per frame in the provided data; any constant count works).
//!
//! 1. Every recording is downsampled by 2 (frames 0, 2, 4, ...).
//! 2. Windows of `seq_len + 1` frames (25 + 1 in the paper): predict frame `t + 1` from
//!    frames `<= t`.
//! 3. Train/validation split 80/20 within each category, then the categories are mixed.
//!    [`MocapSplit::Sequences`] (the default, the paper's setting) splits the category's
//!    windows: a fixed shuffle (the same for every run and seed, so all runs of a sweep share
//!    one validation set) gives the first `round(0.8 n)` windows to training.
//!    [`MocapSplit::Recordings`] splits whole recordings instead (natural file-name order,
//!    first `round(0.8 n)`, at least 1 and at most `n - 1`, to training): a harder test of
//!    generalisation, since neighbouring windows of one recording are strongly correlated and
//!    never sit on both sides of that split.
//! 4. Mean `mu_d` and standard deviation `sigma_d` (population, ddof 0) of every dimension
//!    over all frames of the training windows (recordings); dimensions with
//!    `sigma_d < 1e-4` are dropped; the first 20 remaining dimensions are kept and normalised,
//!    `x_d <- (x_d - mu_d) / sigma_d`, in every split with the training statistics.
//! 5. The `test/` recordings, normalised the same way, supply the spectrum's input sequences
//!    (one stretch from each recording in turn).

use super::{spectrum_stretches, window_starts, Dataset, SequenceSet, SpectrumInputSpec, TaskKind};
use crate::error::DataError;
use std::path::{Path, PathBuf};

/// What the 80/20 train/validation split of each category divides (module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MocapSplit {
    /// The category's windows, in a fixed shuffled order (the paper's setting).
    #[default]
    Sequences,
    /// The category's whole recordings, in file-name order.
    Recordings,
}

impl std::str::FromStr for MocapSplit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sequences" => Ok(MocapSplit::Sequences),
            "recordings" => Ok(MocapSplit::Recordings),
            _ => Err(format!(
                "unknown mocap split '{s}': expected sequences or recordings"
            )),
        }
    }
}

/// Seed of the fixed window shuffle of [`MocapSplit::Sequences`].
const SPLIT_SEED: u64 = 0x6d6f_6361_7073;

/// The four categories of the paper, in this order.
pub const CATEGORIES: [&str; 4] = ["basketball", "soccer", "walking", "jumping"];
/// Dimensions kept after dropping the constant ones.
pub const KEPT_DIMS: usize = 20;
/// Dimensions whose standard deviation is below this are dropped.
pub const MIN_STD: f64 = 1e-4;

/// One recording: frames `[time][columns]` row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    pub path: PathBuf,
    pub columns: usize,
    pub frames: Vec<f64>,
}

impl Recording {
    pub fn len(&self) -> usize {
        self.frames.len() / self.columns.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Every other frame, starting with the first.
    pub fn downsampled(&self) -> Recording {
        let c = self.columns;
        let frames = self
            .frames
            .chunks_exact(c)
            .step_by(2)
            .flatten()
            .copied()
            .collect();
        Recording {
            path: self.path.clone(),
            columns: c,
            frames,
        }
    }
}

/// Parses one recording: comma-separated numbers, one frame per line; blank lines are skipped.
pub fn parse_recording(path: &Path, text: &str) -> Result<Recording, DataError> {
    let mut columns = 0;
    let mut frames = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let start = frames.len();
        for (column, field) in line.split(',').enumerate() {
            let field = field.trim();
            match field.parse::<f64>() {
                Ok(value) if value.is_finite() => frames.push(value),
                parsed => {
                    return Err(DataError::NotANumber {
                        path: path.to_path_buf(),
                        line: index + 1,
                        column: column + 1,
                        text: field.to_string(),
                        source: parsed.err(),
                    })
                }
            }
        }
        let found = frames.len() - start;
        if columns == 0 {
            columns = found;
        } else if found != columns {
            return Err(DataError::RaggedRow {
                path: path.to_path_buf(),
                line: index + 1,
                found,
                expected: columns,
            });
        }
    }
    if frames.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(Recording {
        path: path.to_path_buf(),
        columns,
        frames,
    })
}

/// Natural order of file names: digit runs compare as numbers (`x_2 < x_10`).
fn natural_key(name: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for ch in name.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
        } else {
            if !digits.is_empty() {
                key.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(ch);
        }
    }
    key.push((text, digits.parse().unwrap_or(0)));
    key
}

/// The recordings (`*.txt`) of one category directory, in natural file-name order.
fn read_category(dir: &Path) -> Result<Vec<Recording>, DataError> {
    if !dir.is_dir() {
        return Err(DataError::MissingCategory {
            path: dir.to_path_buf(),
        });
    }
    let io = |source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?
        .into_iter()
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt") && p.is_file())
        .collect();
    if paths.is_empty() {
        return Err(DataError::NoRecordings {
            path: dir.to_path_buf(),
        });
    }
    paths.sort_by_key(|p| natural_key(&p.file_name().unwrap_or_default().to_string_lossy()));
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
                path: path.clone(),
                source,
            })?;
            Ok(parse_recording(path, &text)?.downsampled())
        })
        .collect()
}

/// The normalisation of step 3: kept column indices with their means and deviations.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalisation {
    pub columns: Vec<usize>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Normalisation {
    /// Statistics over every frame of `recordings` (step 3 of the module documentation).
    pub fn fit(recordings: &[&Recording]) -> Result<Self, DataError> {
        let columns = recordings.first().map_or(0, |r| r.columns);
        let count: usize = recordings.iter().map(|r| r.len()).sum();
        let mut sum = vec![0.0; columns];
        for frame in recordings
            .iter()
            .flat_map(|r| r.frames.chunks_exact(columns))
        {
            sum.iter_mut().zip(frame).for_each(|(s, x)| *s += x);
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / count as f64).collect();
        let mut squares = vec![0.0; columns];
        for frame in recordings
            .iter()
            .flat_map(|r| r.frames.chunks_exact(columns))
        {
            for ((q, x), m) in squares.iter_mut().zip(frame).zip(&mean) {
                *q += (x - m) * (x - m);
            }
        }
        let std: Vec<f64> = squares.iter().map(|q| (q / count as f64).sqrt()).collect();
        let kept: Vec<usize> = (0..columns)
            .filter(|&d| std[d] >= MIN_STD)
            .take(KEPT_DIMS)
            .collect();
        if kept.is_empty() {
            return Err(DataError::NoVaryingDimension);
        }
        Ok(Self {
            mean: kept.iter().map(|&d| mean[d]).collect(),
            std: kept.iter().map(|&d| std[d]).collect(),
            columns: kept,
        })
    }

    pub fn dim(&self) -> usize {
        self.columns.len()
    }

    /// The kept, normalised frames of `recording`, `[time][dim]` row-major.
    pub fn apply(&self, recording: &Recording) -> Vec<f64> {
        recording
            .frames
            .chunks_exact(recording.columns)
            .flat_map(|frame| {
                self.columns
                    .iter()
                    .zip(self.mean.iter().zip(&self.std))
                    .map(|(&d, (m, s))| (frame[d] - m) / s)
            })
            .collect()
    }
}

/// Loads `root` and prepares the Mocap data set (see the module documentation).
pub fn load_mocap(
    root: &Path,
    seq_len: usize,
    spectrum: SpectrumInputSpec,
    split: MocapSplit,
) -> Result<Dataset, DataError> {
    let mut train_recordings = Vec::new();
    let mut val_recordings = Vec::new();
    let mut test_recordings = Vec::new();
    for (index, category) in CATEGORIES.into_iter().enumerate() {
        let mut recordings = read_category(&root.join("train").join(category))?;
        let n = recordings.len();
        if split == MocapSplit::Recordings && n < 2 {
            return Err(DataError::TooFewRecordings {
                category: category.to_string(),
                count: n,
            });
        }
        match split {
            MocapSplit::Recordings => {
                let n_train = train_count(n).clamp(1, n - 1);
                val_recordings.extend(recordings.split_off(n_train));
                train_recordings.extend(recordings);
            }
            MocapSplit::Sequences => {
                let mut windows: Vec<Recording> = recordings
                    .iter()
                    .flat_map(|r| raw_windows(r, seq_len))
                    .collect();
                shuffle(&mut windows, SPLIT_SEED + index as u64);
                let n_train = train_count(windows.len());
                val_recordings.extend(windows.split_off(n_train));
                train_recordings.extend(windows);
            }
        }
        test_recordings.extend(read_category(&root.join("test").join(category))?);
    }
    let Some(first) = train_recordings.first() else {
        return Err(DataError::EmptySplit {
            split: "training",
            what: root.display().to_string(),
            seq_len,
        });
    };
    let columns = first.columns;
    let all = train_recordings
        .iter()
        .chain(&val_recordings)
        .chain(&test_recordings);
    if let Some(bad) = all.clone().find(|r| r.columns != columns) {
        return Err(DataError::ColumnCountMismatch {
            path: bad.path.clone(),
            found: bad.columns,
            expected: columns,
        });
    }
    let normalisation = Normalisation::fit(&train_recordings.iter().collect::<Vec<_>>())?;
    let dim = normalisation.dim();
    let windows_of = |split: &'static str, recordings: &[Recording]| {
        let windows: Vec<Vec<f64>> = recordings
            .iter()
            .flat_map(|r| {
                let frames = normalisation.apply(r);
                window_starts(r.len(), seq_len)
                    .map(|s| frames[s * dim..(s + seq_len + 1) * dim].to_vec())
                    .collect::<Vec<_>>()
            })
            .collect();
        if windows.is_empty() {
            return Err(DataError::EmptySplit {
                split,
                what: root.display().to_string(),
                seq_len,
            });
        }
        Ok(SequenceSet::Signals {
            seq_len,
            dim,
            windows,
        })
    };
    let train = windows_of("training", &train_recordings)?;
    let val = windows_of("validation", &val_recordings)?;
    let test_streams: Vec<Vec<f64>> = test_recordings
        .iter()
        .map(|r| normalisation.apply(r))
        .collect();
    let spectrum_inputs = spectrum_stretches(
        &test_streams,
        |s| s.len() / dim,
        |s, start, n| s[start * dim..(start + n) * dim].to_vec(),
        spectrum,
        &format!("{}/test", root.display()),
    )?;
    let description = format!(
        "{}: split by {}, {} test recordings, {dim} of {columns} dimensions kept, {} training and {} validation sequences of {seq_len}",
        root.display(),
        match split {
            MocapSplit::Sequences => "sequences",
            MocapSplit::Recordings => "recordings",
        },
        test_recordings.len(),
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

/// `round(0.8 n)`: the training share of an 80/20 split.
fn train_count(n: usize) -> usize {
    (0.8 * n as f64).round() as usize
}

/// The non-overlapping windows of `seq_len + 1` raw frames of `recording`, each as a
/// recording of its own.
fn raw_windows(recording: &Recording, seq_len: usize) -> Vec<Recording> {
    let c = recording.columns;
    window_starts(recording.len(), seq_len)
        .map(|start| Recording {
            path: recording.path.clone(),
            columns: c,
            frames: recording.frames[start * c..(start + seq_len + 1) * c].to_vec(),
        })
        .collect()
}

/// A deterministic Fisher-Yates shuffle.
fn shuffle<V>(items: &mut [V], seed: u64) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for i in (1..items.len()).rev() {
        items.swap(i, rng.random_range(0..=i));
    }
}

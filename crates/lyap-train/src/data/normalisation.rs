//! Per-coordinate normalisation of a signal, `z_d = (x_d - mean_d) / std_d`, and its record in a
//! checkpoint's metadata (docs/DESIGN.md sections 5 and 6), so that a forecast in normalised
//! coordinates can be mapped back to physical units, `x_d = mean_d + std_d z_d`.
//!
//! Writer and reader side by side: [`Normalisation::to_metadata`] gives the metadata entry
//! [`NORMALISATION_KEY`] (`{"mean": [...], "std": [...]}`, JSON), [`Normalisation::from_metadata`]
//! and [`read_normalisation`] read it back, refusing lengths that differ, non-finite values and
//! standard deviations that are not positive.

use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The checkpoint metadata key holding the normalisation.
pub const NORMALISATION_KEY: &str = "normalisation";

/// Mean and (population) standard deviation of every coordinate of the training data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

/// Why a normalisation cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum NormalisationError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a safetensors file: {source}")]
    Format {
        path: PathBuf,
        source: safetensors::SafeTensorError,
    },
    #[error("{path} has no metadata key `{NORMALISATION_KEY}` (not a forecasting checkpoint)")]
    Missing { path: PathBuf },
    #[error("metadata `{NORMALISATION_KEY}` is not {{\"mean\": [...], \"std\": [...]}}: {source}")]
    Json { source: serde_json::Error },
    #[error("metadata `{NORMALISATION_KEY}`: {reason}")]
    Invalid { reason: String },
}

impl Normalisation {
    /// The mean and population standard deviation of each of the `dim` coordinates over all
    /// `frames` (`[time][dim]` row-major, possibly several trajectories concatenated).
    pub fn fit(frames: &[f64], dim: usize) -> Self {
        let count = (frames.len() / dim.max(1)).max(1) as f64;
        let mut mean = vec![0.0; dim];
        for frame in frames.chunks_exact(dim) {
            mean.iter_mut().zip(frame).for_each(|(m, x)| *m += x);
        }
        mean.iter_mut().for_each(|m| *m /= count);
        let mut var = vec![0.0; dim];
        for frame in frames.chunks_exact(dim) {
            for d in 0..dim {
                var[d] += (frame[d] - mean[d]) * (frame[d] - mean[d]);
            }
        }
        let std = var
            .iter()
            .map(|v| (v / count).sqrt().max(f64::MIN_POSITIVE))
            .collect();
        Self { mean, std }
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// `z_d = (x_d - mean_d) / std_d` for every frame of `frames`, in place.
    pub fn normalise(&self, frames: &mut [f64]) {
        for frame in frames.chunks_exact_mut(self.dim()) {
            for (d, x) in frame.iter_mut().enumerate() {
                *x = (*x - self.mean[d]) / self.std[d];
            }
        }
    }

    /// `x_d = mean_d + std_d z_d` for every frame of `frames`, in place.
    pub fn denormalise(&self, frames: &mut [f64]) {
        for frame in frames.chunks_exact_mut(self.dim()) {
            for (d, z) in frame.iter_mut().enumerate() {
                *z = self.mean[d] + self.std[d] * *z;
            }
        }
    }

    /// The metadata entry (key [`NORMALISATION_KEY`]): `{"mean": [...], "std": [...]}`.
    pub fn to_metadata(&self) -> (String, String) {
        let json = serde_json::to_string(self).unwrap_or_default();
        (NORMALISATION_KEY.to_string(), json)
    }

    /// The normalisation recorded in `metadata`, `None` when there is none.
    pub fn from_metadata(
        metadata: &HashMap<String, String>,
    ) -> Result<Option<Self>, NormalisationError> {
        let Some(text) = metadata.get(NORMALISATION_KEY) else {
            return Ok(None);
        };
        let parsed: Self =
            serde_json::from_str(text).map_err(|source| NormalisationError::Json { source })?;
        parsed.validate()?;
        Ok(Some(parsed))
    }

    fn validate(&self) -> Result<(), NormalisationError> {
        let invalid = |reason: String| Err(NormalisationError::Invalid { reason });
        if self.mean.is_empty() || self.mean.len() != self.std.len() {
            return invalid(format!(
                "mean has {} values and std {}; they must agree and be at least 1",
                self.mean.len(),
                self.std.len()
            ));
        }
        if let Some(m) = self.mean.iter().find(|m| !m.is_finite()) {
            return invalid(format!("mean value {m} is not finite"));
        }
        if let Some(s) = self.std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return invalid(format!("std value {s} is not a positive number"));
        }
        Ok(())
    }
}

/// The normalisation stored in the checkpoint at `path` (a safetensors file written by
/// `lyap train --task lorenz63`).
pub fn read_normalisation(path: &Path) -> Result<Normalisation, NormalisationError> {
    let bytes = std::fs::read(path).map_err(|source| NormalisationError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (_, header) =
        SafeTensors::read_metadata(&bytes).map_err(|source| NormalisationError::Format {
            path: path.to_path_buf(),
            source,
        })?;
    let metadata = header.metadata().clone().unwrap_or_default();
    Normalisation::from_metadata(&metadata)?.ok_or_else(|| NormalisationError::Missing {
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_normalise_and_denormalise_round_trip() {
        let frames = vec![1.0, 10.0, 3.0, 20.0, 5.0, 60.0];
        let norm = Normalisation::fit(&frames, 2);
        assert_eq!(norm.mean, vec![3.0, 30.0]);
        assert!((norm.std[0] - (8.0f64 / 3.0).sqrt()).abs() < 1e-15);
        let mut z = frames.clone();
        norm.normalise(&mut z);
        let fitted = Normalisation::fit(&z, 2);
        for d in 0..2 {
            assert!(fitted.mean[d].abs() < 1e-15 && (fitted.std[d] - 1.0).abs() < 1e-15);
        }
        norm.denormalise(&mut z);
        for (a, b) in z.iter().zip(&frames) {
            assert!((a - b).abs() < 1e-13, "{a} vs {b}");
        }
    }

    #[test]
    fn metadata_round_trip_and_bad_entries() {
        let norm = Normalisation {
            mean: vec![-0.1, 0.25, 23.5],
            std: vec![7.9, 8.9, 8.6],
        };
        let metadata = HashMap::from([norm.to_metadata()]);
        assert_eq!(Normalisation::from_metadata(&metadata).unwrap(), Some(norm));
        assert!(Normalisation::from_metadata(&HashMap::new())
            .unwrap()
            .is_none());
        let bad = |json: &str| {
            let metadata = HashMap::from([(NORMALISATION_KEY.to_string(), json.to_string())]);
            Normalisation::from_metadata(&metadata)
                .unwrap_err()
                .to_string()
        };
        assert!(bad(r#"{"mean":[0,1],"std":[1]}"#).contains("mean has 2 values and std 1"));
        assert!(bad(r#"{"mean":[0],"std":[0]}"#).contains("std value 0 is not a positive"));
        assert!(bad(r#"{"mean":[0]}"#).contains("is not {\"mean\""));
    }
}

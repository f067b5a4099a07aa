//! The resume snapshot `RUN_DIR/state/snapshot.safetensors`, written after every epoch.
//!
//! One file (so it is replaced atomically as a whole) holding the parameters, Adam's first and
//! second moments (flat, in [`Model::for_each_chunk`] order, in the training precision, so a
//! resumed run continues bit-identically) and, in the metadata key `state`, a JSON
//! [`SnapshotState`]: epochs completed, Adam's step count, the best epoch so far and a
//! fingerprint of the data. Random numbers need no saved state: each epoch's shuffling and
//! dropout stream is derived from `(seed, epoch)` alone (see `crate::trainer`).

use crate::error::{SnapshotError, TrainError};
use crate::model::Model;
use crate::optim::Adam;
use lyap_core::Real;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The scalar part of a snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotState {
    pub epochs_completed: usize,
    pub adam_step: u64,
    pub best_epoch: Option<usize>,
    pub best_val_loss: Option<f64>,
    /// Describes the data the run was trained on; resuming on other data is refused.
    pub data_fingerprint: String,
}

const STATE_KEY: &str = "state";
const TENSORS: [&str; 3] = ["params", "adam_m", "adam_v"];

fn encode<T: Real>(values: &[T]) -> (Dtype, Vec<u8>) {
    if T::NAME == "f32" {
        let bytes = values
            .iter()
            .flat_map(|v| (v.as_f64() as f32).to_le_bytes())
            .collect();
        (Dtype::F32, bytes)
    } else {
        let bytes = values
            .iter()
            .flat_map(|v| v.as_f64().to_le_bytes())
            .collect();
        (Dtype::F64, bytes)
    }
}

fn decode<T: Real>(view: &TensorView<'_>) -> Option<Vec<T>> {
    let data = view.data();
    match view.dtype() {
        Dtype::F32 if T::NAME == "f32" => Some(
            data.chunks_exact(4)
                .map(|b| T::of_f64(f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64))
                .collect(),
        ),
        Dtype::F64 if T::NAME == "f64" => Some(
            data.chunks_exact(8)
                .map(|b| {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    T::of_f64(f64::from_le_bytes(a))
                })
                .collect(),
        ),
        _ => None,
    }
}

/// Writes the snapshot of `model`, `adam` and `state` to `path` atomically.
pub fn save_snapshot<T: Real>(
    path: &Path,
    model: &Model<T>,
    adam: &Adam<T>,
    state: &SnapshotState,
) -> Result<(), TrainError> {
    let params = model.flatten();
    let encoded: Vec<(Dtype, Vec<u8>)> = [&params, &adam.m, &adam.v]
        .into_iter()
        .map(|v| encode(v))
        .collect();
    let views = TENSORS
        .iter()
        .zip(&encoded)
        .map(|(name, (dtype, bytes))| {
            TensorView::new(*dtype, vec![params.len()], bytes)
                .map(|view| (name.to_string(), view))
                .map_err(|e| TrainError::Checkpoint(e.into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let state_json = serde_json::to_string(state).map_err(|e| TrainError::Checkpoint(e.into()))?;
    let metadata = HashMap::from([(STATE_KEY.to_string(), state_json)]);
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| TrainError::Checkpoint(e.into()))?;
    crate::run_dir::write_atomic(path, &bytes)
}

/// Restores `model` and `adam` (shapes already right) from the snapshot at `path`.
pub fn load_snapshot<T: Real>(
    path: &Path,
    model: &mut Model<T>,
    adam: &mut Adam<T>,
) -> Result<SnapshotState, TrainError> {
    let fail = |source: SnapshotError| TrainError::Snapshot {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(e.into()))?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| fail(e.into()))?;
    let state_json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(STATE_KEY))
        .ok_or_else(|| fail(SnapshotError::NoState))?;
    let state: SnapshotState = serde_json::from_str(state_json).map_err(|e| fail(e.into()))?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| fail(e.into()))?;
    let read = |name: &str| -> Result<Vec<T>, TrainError> {
        let view = tensors.tensor(name).map_err(|_| {
            fail(SnapshotError::MissingTensor {
                name: name.to_string(),
            })
        })?;
        decode(&view).ok_or_else(|| {
            fail(SnapshotError::WrongDtype {
                name: name.to_string(),
                dtype: format!("{:?}", view.dtype()),
                precision: T::NAME,
            })
        })
    };
    let params = read("params")?;
    let (m, v) = (read("adam_m")?, read("adam_v")?);
    let count = model.parameter_count();
    if !model.assign_flat(&params) || m.len() != count || v.len() != count {
        return Err(fail(SnapshotError::ParameterCount {
            found: params.len(),
            expected: count,
        }));
    }
    adam.m = m;
    adam.v = v;
    adam.step = state.adam_step;
    Ok(state)
}

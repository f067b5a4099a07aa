//! What a run records of its network each epoch: the Lyapunov spectrum (docs/DESIGN.md sections 2
//! and 5) and the PyTorch-compatible checkpoint (docs/DESIGN.md section 6).

use crate::config::{Precision, TrainConfig};
use crate::data::Dataset;
use crate::error::TrainError;
use crate::model::Model;
use lyap_core::Real;
use lyap_rnn::pytorch::{save_stack, ExtraTensor, SaveDtype};
use lyap_rnn::report::SpectrumReport;
use lyap_rnn::{
    compute_spectrum, ComputeError, InputBatch, LstmState, SpectrumOptions, StackWeights,
};
use std::collections::HashMap;

/// Key prefix of the recurrent weights in checkpoints (`rnn.weight_ih_l0`, ...).
pub const STACK_PREFIX: &str = "rnn.";

/// The spectrum of `weights` driven by `inputs` (embedded, `[time][input_size]` each, cut to
/// `warmup + steps` steps), with the run's `le_*` settings through
/// [`lyap_rnn::compute_spectrum`]: all `state_dim` exponents, QR every step, natural log,
/// computed in `f64` (like `lyap spectrum`'s default), so that reloading an `f32` checkpoint
/// into `lyap spectrum --model` reproduces it exactly. The report's timing is the wall-clock
/// time of the engine run. With `trace`, also the running estimates as the CSV of
/// `lyap spectrum --trace`.
pub fn spectrum_report<T: Real>(
    weights: &StackWeights<T>,
    inputs: &[Vec<f64>],
    warmup: usize,
    steps: usize,
    state: LstmState,
    trace: bool,
) -> Result<(SpectrumReport, Option<String>), ComputeError> {
    let length = (warmup + steps) * weights.input_size;
    let sequences = inputs.iter().map(|s| &s[..length.min(s.len())]).collect();
    let options = SpectrumOptions {
        warmup,
        steps: Some(steps),
        state: Some(state),
        precision: Precision::F64,
        trace,
        ..SpectrumOptions::default()
    };
    let result = compute_spectrum(weights, InputBatch::F64(sequences), &options)?;
    let trace = trace.then(|| result.trace_csv());
    Ok((result.report, trace))
}

/// The spectrum of a model at `epoch` with the run's settings (and its trace CSV with
/// `le_trace`).
pub fn epoch_spectrum<T: Real>(
    model: &Model<T>,
    inputs: &[Vec<f64>],
    config: &TrainConfig,
    epoch: usize,
) -> Result<(SpectrumReport, Option<String>), TrainError> {
    spectrum_report(
        &model.stack,
        inputs,
        config.le_warmup,
        config.le_steps,
        config.le_state,
        config.le_trace,
    )
    .map_err(|source| TrainError::Spectrum { epoch, source })
}

/// The safetensors bytes of a checkpoint: the stack under `rnn.` with PyTorch's names, the
/// readout as `fc.weight` (`[out, hidden]`) and `fc.bias`, metadata `arch` (+ `nonlinearity`
/// for vanilla RNNs, added by `save_stack`), `task`, `epoch`, for text tasks `vocab` (a
/// JSON array of one-character strings in index order), and for forecasting tasks `dt` (time
/// units per step) and `normalisation` (`{"mean": [...], "std": [...]}`, read back by
/// [`crate::data::normalisation::read_normalisation`]). Stored in the training precision.
pub fn checkpoint_bytes<T: Real>(
    model: &Model<T>,
    dataset: &Dataset,
    config: &TrainConfig,
    epoch: usize,
) -> Result<Vec<u8>, TrainError> {
    let (v, n) = (model.output_size(), model.hidden());
    let weight: Vec<f64> = (0..v)
        .flat_map(|r| (0..n).map(move |c| model.fc_weight[(r, c)].as_f64()))
        .collect();
    let extra = [
        ExtraTensor {
            name: "fc.weight".into(),
            shape: vec![v, n],
            values: weight,
        },
        ExtraTensor {
            name: "fc.bias".into(),
            shape: vec![v],
            values: model.fc_bias.iter().map(|x| x.as_f64()).collect(),
        },
    ];
    let mut metadata = HashMap::from([
        ("task".to_string(), config.task.name().to_string()),
        ("epoch".to_string(), epoch.to_string()),
        ("dropout".to_string(), config.dropout.to_string()),
    ]);
    if let Some(vocab) = dataset.kind.vocab_json() {
        metadata.insert("vocab".into(), vocab);
    }
    if let Some(forecast) = &dataset.forecast {
        let (key, value) = forecast.normalisation.to_metadata();
        metadata.insert(key, value);
        metadata.insert("dt".into(), forecast.dt.to_string());
    }
    let dtype = match config.precision {
        Precision::F32 => SaveDtype::F32,
        Precision::F64 => SaveDtype::F64,
    };
    save_stack(&model.stack, STACK_PREFIX, &extra, &metadata, dtype)
        .map_err(|e| TrainError::Checkpoint(e.into()))
}

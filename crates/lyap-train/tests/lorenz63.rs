//! The `lorenz63` forecasting task: data on the attractor, the normalisation stored with the
//! checkpoint, the valid prediction time of perfect and bad predictors, a tiny run end to end,
//! and bad settings.

mod common;

use common::tiny_config;
use lyap_core::systems::BuiltinSystem;
use lyap_core::TangentSystem;
use lyap_rnn::pytorch::{load_stack, read_tensor, LoadOptions};
use lyap_rnn::Arch;
use lyap_train::data::lorenz63::{
    lorenz63_dataset, lorenz63_system, trajectories, vpt_horizon_steps, ForecastData, DIM,
    LYAPUNOV_EXPONENT, VPT_WARMUP,
};
use lyap_train::data::normalisation::{read_normalisation, Normalisation, NormalisationError};
use lyap_train::data::{SequenceSet, SpectrumInputSpec};
use lyap_train::forecast::{
    closed_loop_forecast, nrmse, valid_prediction_time, valid_steps, ForecastError, Forecaster,
    NetworkForecaster, ValidPredictionTime,
};
use lyap_train::run_dir::read_metrics;
use lyap_train::{train, DataError, Model, ModelShape, Outcome, RunDir, Silent, TaskName};
use lyap_train::{TrainConfig, TrainError};
use std::sync::OnceLock;

const SPEC: SpectrumInputSpec = SpectrumInputSpec {
    count: 2,
    length: 50,
};

/// A small data set (2 training trajectories of 300 steps), generated once.
fn small_data() -> &'static lyap_train::data::Dataset {
    static DATA: OnceLock<lyap_train::data::Dataset> = OnceLock::new();
    DATA.get_or_init(|| lorenz63_dataset(2, 300, 10, 5, SPEC).unwrap())
}

fn forecast_data() -> &'static ForecastData {
    small_data()
        .forecast
        .as_ref()
        .expect("lorenz63 has forecast data")
}

#[test]
fn trajectories_lie_on_the_attractor_and_are_seeded() {
    let runs = trajectories(3, 2000, 11).unwrap();
    assert_eq!(runs.len(), 3);
    for frames in &runs {
        assert_eq!(frames.len(), 2000 * DIM);
        for s in frames.chunks_exact(DIM) {
            // the attractor's bounding box (|x| < 20, |y| < 27, 1 < z < 48 on long runs)
            assert!(s[0].abs() < 22.0 && s[1].abs() < 30.0, "{s:?}");
            assert!(s[2] > 0.0 && s[2] < 50.0, "{s:?}");
        }
        // both wings are visited within 20 time units
        assert!(frames.chunks_exact(DIM).any(|s| s[0] > 5.0));
        assert!(frames.chunks_exact(DIM).any(|s| s[0] < -5.0));
    }
    assert_ne!(runs[0], runs[1], "each trajectory starts at its own point");
    assert_eq!(runs, trajectories(3, 2000, 11).unwrap());
    assert_ne!(runs[0], trajectories(1, 2000, 12).unwrap()[0]);
    // consecutive samples are one RK4 step of the flow apart
    let system = lorenz63_system().unwrap();
    let mut workspace = TangentSystem::<f64>::workspace(&system, 1);
    assert!(system.set_state(&mut workspace, &runs[0][..DIM]));
    system.step(&mut workspace, &[]);
    assert_eq!(system.state(&workspace), &runs[0][DIM..2 * DIM]);
}

#[test]
fn data_are_normalised_with_the_training_statistics() {
    let data = small_data();
    let forecast = forecast_data();
    let SequenceSet::Signals { windows, dim, .. } = &data.train else {
        panic!("signals")
    };
    assert_eq!(*dim, DIM);
    // 2 trajectories of 300 steps, windows of 11 steps: 29 each
    assert_eq!(windows.len(), 58);
    // the training frames (windows share their end points) have mean 0 and std 1
    let frames: Vec<f64> = windows
        .iter()
        .flat_map(|w| w[..10 * DIM].iter().copied())
        .collect();
    let refit = Normalisation::fit(&frames, DIM);
    for d in 0..DIM {
        assert!(refit.mean[d].abs() < 0.05, "{refit:?}");
        assert!((refit.std[d] - 1.0).abs() < 0.05, "{refit:?}");
    }
    // physical units come back: z is the positive coordinate with mean near 23
    let norm = &forecast.normalisation;
    assert!(norm.mean[2] > 15.0 && norm.mean[2] < 30.0, "{norm:?}");
    let mut physical = forecast.test[0][..DIM * 10].to_vec();
    norm.denormalise(&mut physical);
    assert!(physical.chunks_exact(DIM).all(|s| s[2] > 0.0));
    norm.normalise(&mut physical);
    for (a, b) in physical.iter().zip(&forecast.test[0]) {
        assert!((a - b).abs() < 1e-12);
    }
    assert_eq!(forecast.test.len(), 2);
    assert_eq!(
        forecast.test[0].len(),
        (VPT_WARMUP + vpt_horizon_steps() + 1) * DIM
    );
    assert_eq!(data.spectrum_inputs.len(), 2);
    assert_eq!(data.spectrum_inputs[0].len(), 50 * DIM);
}

/// The true map: one RK4 step of Lorenz-63, in normalised coordinates.
#[derive(Clone)]
struct TrueStep {
    system: BuiltinSystem,
    norm: Normalisation,
}

impl Forecaster for TrueStep {
    fn dim(&self) -> usize {
        DIM
    }
    fn reset(&mut self) {}
    fn advance(&mut self, input: &[f64], out: &mut [f64]) {
        let mut x = input.to_vec();
        self.norm.denormalise(&mut x);
        let mut workspace = TangentSystem::<f64>::workspace(&self.system, 1);
        assert!(self.system.set_state(&mut workspace, &x));
        self.system.step(&mut workspace, &[]);
        out.copy_from_slice(self.system.state(&workspace));
        self.norm.normalise(out);
    }
}

/// Predicts the input shifted by `offset` in every normalised coordinate.
#[derive(Clone)]
struct Shifted(f64);

impl Forecaster for Shifted {
    fn dim(&self) -> usize {
        DIM
    }
    fn reset(&mut self) {}
    fn advance(&mut self, input: &[f64], out: &mut [f64]) {
        out.iter_mut().zip(input).for_each(|(o, x)| *o = x + self.0);
    }
}

#[test]
fn the_true_step_forecasts_the_whole_horizon_and_a_bad_one_nothing() {
    let data = forecast_data();
    let truth = TrueStep {
        system: lorenz63_system().unwrap(),
        norm: data.normalisation.clone(),
    };
    let horizon = vpt_horizon_steps() as f64 * 0.01 * LYAPUNOV_EXPONENT;
    assert!((horizon - 20.0).abs() < 0.01);
    let perfect = valid_prediction_time(&truth, data);
    assert_eq!(perfect.per_trajectory, vec![horizon; 2]);
    assert_eq!(
        (perfect.mean, perfect.median, perfect.horizon),
        (horizon, horizon, horizon)
    );
    // an error of 1 standard deviation in every coordinate fails at the first step
    let bad = valid_prediction_time(&Shifted(1.0), data);
    assert_eq!(bad.per_trajectory, vec![0.0; 2]);
    // persistence (x_(t+1) = x_t) drifts away: valid for a while, far from the horizon
    let persistence = valid_prediction_time(&Shifted(0.0), data);
    assert!(
        persistence.mean > 0.0 && persistence.mean < 0.5 * horizon,
        "{persistence:?}"
    );
    // the forecast is teacher-forced up to the warm-up: its first step is one true step
    let mut own = truth.clone();
    let forecast = closed_loop_forecast(&mut own, &data.test[0], VPT_WARMUP, 5);
    assert_eq!(forecast.len(), 5 * DIM);
    let expected = &data.test[0][VPT_WARMUP * DIM..(VPT_WARMUP + 5) * DIM];
    assert!(nrmse(&forecast, expected, DIM).iter().all(|&e| e < 1e-12));
}

#[test]
fn nrmse_valid_steps_and_statistics_by_hand() {
    let errors = nrmse(&[0.0, 0.0, 3.0, 4.0], &[0.0, 0.3, 0.0, 0.0], 2);
    assert!((errors[0] - (0.045f64).sqrt()).abs() < 1e-15);
    assert!((errors[1] - (12.5f64).sqrt()).abs() < 1e-15);
    assert_eq!(valid_steps(&[0.1, 0.4, 0.41, 0.1], 0.4), 2);
    assert_eq!(valid_steps(&[0.1, f64::NAN, 0.1], 0.4), 1);
    let stats = ValidPredictionTime::of(vec![4.0, 1.0, 2.0, 9.0], 10.0);
    assert_eq!((stats.mean, stats.median), (4.0, 3.0));
    assert_eq!(
        ValidPredictionTime::of(vec![5.0, 1.0, 2.0], 10.0).median,
        2.0
    );
}

fn tiny_lorenz63(arch: Arch, epochs: usize) -> TrainConfig {
    let mut config = tiny_config(TaskName::Lorenz63, arch, epochs);
    config.max_chars = Some(400);
    config.trajectories = Some(2);
    config.dropout = 0.0;
    config.bias = true;
    config.lr = 0.02;
    config
}

#[test]
fn tiny_run_learns_reports_vpt_and_stores_the_normalisation() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let config = tiny_lorenz63(Arch::Gru, 3);
    let Outcome::Completed(summary) = train(&config, &out, &mut Silent).unwrap() else {
        panic!("not completed")
    };
    let run = RunDir::new(&out);
    let records = read_metrics(&run.metrics()).unwrap();
    assert_eq!(records.len(), 3);
    let (first, last) = (&records[0], &records[2]);
    assert!(
        last.val_loss.unwrap() < first.val_loss.unwrap(),
        "{records:?}"
    );
    for record in &records {
        let (mean, median) = (record.vpt_mean.unwrap(), record.vpt_median.unwrap());
        assert!((0.0..=20.0).contains(&mean) && (0.0..=20.0).contains(&median));
    }
    let line = std::fs::read_to_string(run.metrics()).unwrap();
    assert!(line.contains("\"vpt_mean\":") && line.contains("\"vpt_median\":"));
    // the checkpoint: GRU stack, readout 3 x 8, and the normalisation of the data
    let best = run.best_checkpoint();
    let bytes = std::fs::read(&best).unwrap();
    let loaded = load_stack::<f32>(&bytes, &LoadOptions::default()).unwrap();
    assert_eq!(loaded.weights.arch, Arch::Gru);
    assert_eq!(loaded.weights.input_size, DIM);
    assert_eq!(read_tensor(&bytes, "fc.weight").unwrap().0, vec![DIM, 8]);
    assert_eq!(read_tensor(&bytes, "fc.bias").unwrap().0, vec![DIM]);
    assert_eq!(
        loaded.metadata.get("task").map(String::as_str),
        Some("lorenz63")
    );
    assert_eq!(loaded.metadata.get("dt").map(String::as_str), Some("0.01"));
    let dataset = config.load_dataset().unwrap();
    let stored = read_normalisation(&best).unwrap();
    assert_eq!(
        Some(&stored),
        dataset.forecast.as_ref().map(|f| &f.normalisation)
    );
    assert!(summary.best_epoch >= 1);
    // the recorded VPT is the one of the best checkpoint's network
    let model = Model::<f32>::random(
        &ModelShape {
            arch: Arch::Gru,
            input_size: DIM,
            hidden: 8,
            layers: 1,
            bias: true,
            output_size: DIM,
        },
        0.1,
        0,
    );
    let forecaster = NetworkForecaster::new(&model).unwrap();
    let untrained = valid_prediction_time(&forecaster, dataset.forecast.as_ref().unwrap());
    assert!(
        untrained.mean < 0.5,
        "an untrained network forecasts nothing: {untrained:?}"
    );
}

#[test]
fn bad_settings_and_files_are_one_line_errors() {
    let mut config = tiny_lorenz63(Arch::Lstm, 1);
    config.trajectories = Some(0);
    let error = config.validate().unwrap_err().to_string();
    assert!(
        error.contains("--trajectories must be at least 1"),
        "{error}"
    );
    let error = lorenz63_dataset(2, 8, 10, 0, SPEC).unwrap_err();
    assert!(matches!(error, DataError::TooShort { .. }), "{error}");
    assert!(error.to_string().contains("(--max-chars)"), "{error}");
    let asks_too_much = SpectrumInputSpec {
        count: 2,
        length: 5000,
    };
    let error = lorenz63_dataset(1, 50, 10, 0, asks_too_much).unwrap_err();
    assert!(error.to_string().contains("--le-batch"), "{error}");
    // a checkpoint without a normalisation, and a file that is not safetensors
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("text");
    let mut text = tiny_config(TaskName::SyntheticText, Arch::Lstm, 1);
    text.max_chars = Some(1500);
    train(&text, &out, &mut Silent).unwrap();
    let best = RunDir::new(&out).best_checkpoint();
    let error = read_normalisation(&best).unwrap_err();
    assert!(
        matches!(error, NormalisationError::Missing { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("best.safetensors"), "{error}");
    let error = read_normalisation(&RunDir::new(&out).config()).unwrap_err();
    assert!(
        matches!(error, NormalisationError::Format { .. }),
        "{error}"
    );
    // a classifier (20 symbols in, 20 out) forecasts; one with a 3-output readout cannot
    let mut model = Model::<f32>::random(
        &ModelShape {
            arch: Arch::Lstm,
            input_size: 20,
            hidden: 4,
            layers: 1,
            bias: false,
            output_size: 3,
        },
        0.1,
        0,
    );
    let error = NetworkForecaster::new(&model).err().unwrap();
    assert!(matches!(
        error,
        ForecastError::ReadoutSize {
            output: 3,
            input: 20
        }
    ));
    model.fc_bias = vec![0.0; 20];
    let error = NetworkForecaster::new(&model).err().unwrap();
    assert!(
        error
            .to_string()
            .contains("fc.weight is [3, 4], expected [20, 4]"),
        "{error}"
    );
    let error: TrainError = error.into();
    assert!(error.to_string().starts_with("closed-loop forecast: "));
}

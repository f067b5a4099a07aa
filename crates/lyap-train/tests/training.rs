//! Training runs end to end on tiny synthetic tasks: the loss falls, resume is bit-identical,
//! divergence fails cleanly, and checkpoints reproduce the recorded spectra.

mod common;

use common::tiny_config;
use lyap_rnn::pytorch::{load_stack, read_tensor, LoadOptions};
use lyap_rnn::report::SpectrumReport;
use lyap_rnn::Arch;
use lyap_train::measure::spectrum_report;
use lyap_train::run_dir::{read_json, read_metrics};
use lyap_train::{
    resume, train, Control, EpochRecord, Outcome, RunDir, RunState, RunStatus, Silent, TaskName,
    TrainError, TrainObserver,
};

/// The fields that must agree between two runs (everything but the timings).
fn comparable(records: &[EpochRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            format!(
                "{} {:?} {:?} {:?} {:?}",
                r.epoch, r.train_loss, r.val_loss, r.lr, r.spectrum
            )
        })
        .collect()
}

#[test]
fn short_synthetic_run_learns_and_writes_its_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut config = tiny_config(TaskName::SyntheticText, Arch::Lstm, 3);
    config.hidden = 16;
    config.lr = 0.02;
    let Outcome::Completed(summary) = train(&config, &out, &mut Silent).unwrap() else {
        panic!("not completed")
    };
    let run = RunDir::new(&out);
    let records = read_metrics(&run.metrics()).unwrap();
    assert_eq!(records.len(), 3);
    // uniform guessing over 20 symbols costs ln 20 = 3.0
    assert!(
        records[0].val_loss.unwrap() < 20f64.ln(),
        "{:?}",
        records[0]
    );
    assert!(
        records[2].val_loss.unwrap() < records[0].val_loss.unwrap() - 0.05,
        "{records:?}"
    );
    assert!(records
        .iter()
        .all(|r| r.spectrum.is_some() && r.le_seconds.unwrap() > 0.0));
    for epoch in 1..=3 {
        assert!(run.spectrum(epoch).exists() && run.checkpoint(epoch).exists());
    }
    assert!(run.best_checkpoint().exists() && run.summary().exists());
    let status: RunStatus = read_json(&run.status()).unwrap();
    assert_eq!(status.status, RunState::Completed);
    assert_eq!(summary.best_epoch, 3);
    let fraction = summary.le_fraction_to_best.unwrap();
    assert!(fraction > 0.0 && fraction.is_finite());
    // an existing run is not overwritten
    assert!(matches!(
        train(&config, &out, &mut Silent),
        Err(TrainError::RunExists { .. })
    ));
}

/// Stops the run after `batches` training batches of epoch `epoch`.
struct StopAt {
    epoch: usize,
    batches: usize,
}

impl TrainObserver for StopAt {
    fn batch_finished(&mut self, epoch: usize, batch: usize, _loss: f64) -> Control {
        if epoch == self.epoch && batch == self.batches {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

#[test]
fn interrupted_and_resumed_runs_equal_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = tiny_config(TaskName::SyntheticSignal, Arch::Gru, 4);
    config.max_chars = Some(2000);
    config.clip = Some(1.0);
    let straight = dir.path().join("straight");
    train(&config, &straight, &mut Silent).unwrap();
    let expected = comparable(&read_metrics(&RunDir::new(&straight).metrics()).unwrap());

    // killed in the middle of epoch 3, then resumed
    let killed = dir.path().join("killed");
    let outcome = train(
        &config,
        &killed,
        &mut StopAt {
            epoch: 3,
            batches: 2,
        },
    )
    .unwrap();
    assert_eq!(
        outcome,
        Outcome::Interrupted {
            epochs_completed: 2
        }
    );
    let status: RunStatus = read_json(&RunDir::new(&killed).status()).unwrap();
    assert_eq!(status.status, RunState::Interrupted);
    resume(&killed, None, &mut Silent).unwrap();
    let got = comparable(&read_metrics(&RunDir::new(&killed).metrics()).unwrap());
    assert_eq!(got, expected);

    // 2 epochs, then resumed to 4
    let extended = dir.path().join("extended");
    let mut short = config.clone();
    short.epochs = 2;
    train(&short, &extended, &mut Silent).unwrap();
    resume(&extended, Some(4), &mut Silent).unwrap();
    let got = comparable(&read_metrics(&RunDir::new(&extended).metrics()).unwrap());
    assert_eq!(got, expected);
    // the final weights are bit-identical (metadata order in the header may differ)
    let weights = |run: &std::path::Path| {
        let bytes = std::fs::read(RunDir::new(run).checkpoint(4)).unwrap();
        let stack = load_stack::<f64>(&bytes, &LoadOptions::default()).unwrap();
        (stack.weights, read_tensor(&bytes, "fc.weight").unwrap())
    };
    assert!(
        weights(&straight) == weights(&extended),
        "final checkpoints differ"
    );
}

#[test]
fn divergence_fails_the_run_and_keeps_earlier_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let config = tiny_config(TaskName::SyntheticText, Arch::RnnRelu, 1);
    train(&config, &out, &mut Silent).unwrap();
    let run = RunDir::new(&out);
    let before = std::fs::read(run.checkpoint(1)).unwrap();
    // a learning rate that blows a ReLU network up within a batch or two
    let mut stored: serde_json::Value = read_json(&run.config()).unwrap();
    stored["lr"] = serde_json::json!(1e30);
    std::fs::write(run.config(), stored.to_string()).unwrap();
    let err = resume(&out, Some(3), &mut Silent).unwrap_err();
    assert!(matches!(err, TrainError::Diverged { .. }), "{err}");
    assert!(err.to_string().contains("epoch 2"), "{err}");
    let status: RunStatus = read_json(&run.status()).unwrap();
    assert_eq!(status.status, RunState::Failed);
    assert!(status.reason.unwrap().contains("diverged"));
    assert_eq!(read_metrics(&run.metrics()).unwrap().len(), 1);
    assert_eq!(std::fs::read(run.checkpoint(1)).unwrap(), before);
    assert!(run.spectrum(1).exists() && !run.checkpoint(2).exists());
}

#[test]
fn a_checkpoint_reproduces_the_recorded_spectrum() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut config = tiny_config(TaskName::SyntheticText, Arch::Lstm, 2);
    config.layers = 2;
    config.bias = true;
    config.le_trace = true;
    train(&config, &out, &mut Silent).unwrap();
    let run = RunDir::new(&out);
    let bytes = std::fs::read(run.checkpoint(2)).unwrap();
    let loaded = load_stack::<f64>(&bytes, &LoadOptions::default()).unwrap();
    assert_eq!(loaded.prefix, "rnn.");
    assert_eq!(loaded.weights.arch, Arch::Lstm);
    assert_eq!(loaded.weights.num_layers(), 2);
    let vocab: Vec<String> = serde_json::from_str(&loaded.metadata["vocab"]).unwrap();
    assert_eq!(vocab.len(), 20);
    assert!(vocab.iter().all(|s| s.chars().count() == 1));
    let (shape, _) = read_tensor(&bytes, "fc.weight").unwrap();
    assert_eq!(shape, vec![20, 8]);
    assert_eq!(read_tensor(&bytes, "fc.bias").unwrap().0, vec![20]);

    let recorded =
        SpectrumReport::from_json(&std::fs::read_to_string(run.spectrum(2)).unwrap()).unwrap();
    let dataset = config.load_dataset().unwrap();
    let again = spectrum_report(
        &loaded.weights,
        &dataset.spectrum_inputs,
        config.le_warmup,
        config.le_steps,
        config.le_state,
        false,
    )
    .unwrap()
    .0;
    // compare through the same JSON round trip (the parser may differ in the last ulp)
    let again = SpectrumReport::from_json(&again.to_json()).unwrap();
    assert_eq!(again.exponents.mean, recorded.exponents.mean);
    assert_eq!(again.per_sequence, recorded.per_sequence);
    assert_eq!(recorded.model.state_dim, 2 * 2 * 8);

    // --le-trace: one trace per measured epoch, whose last row per sequence is that
    // sequence's recorded exponents
    for epoch in 1..=2 {
        assert!(run.trace(epoch).exists(), "trace of epoch {epoch}");
    }
    let trace = std::fs::read_to_string(run.trace(2)).unwrap();
    let rows: Vec<Vec<f64>> = trace
        .lines()
        .skip(1)
        .map(|line| line.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), recorded.per_sequence.len() * config.le_steps);
    for (b, exponents) in recorded.per_sequence.iter().enumerate() {
        let last = &rows[(b + 1) * config.le_steps - 1];
        assert_eq!((last[0], last[1]), (b as f64, config.le_steps as f64));
        for (traced, recorded) in last[2..].iter().zip(exponents) {
            assert!((traced - recorded).abs() <= 1e-12 * recorded.abs().max(1.0));
        }
    }
}

//! Training on the real data in `../shared/data` (skipped with a printed reason when absent,
//! a failure under `LYAP_REQUIRE_SHARED=1`): the networks must beat the obvious baselines.
//! The figures are recorded in the README ("Training on the paper's tasks").

mod common;

use lyap_train::baselines::{last_frame_mse, unigram_cross_entropy};
use lyap_train::{Outcome, Silent, TaskName, TrainConfig};

fn run(config: &TrainConfig) -> (f64, f64) {
    let dataset = config.load_dataset().expect("real data loads");
    let baseline = unigram_cross_entropy(&dataset.train, &dataset.val)
        .or_else(|| last_frame_mse(&dataset.val))
        .expect("a baseline for every task");
    let dir = tempfile::tempdir().expect("temp dir");
    let outcome =
        lyap_train::train(config, &dir.path().join("run"), &mut Silent).expect("training runs");
    let Outcome::Completed(summary) = outcome else {
        panic!("run was interrupted")
    };
    (summary.best_val_loss, baseline)
}

#[test]
fn charrnn_on_war_and_peace_beats_the_unigram_model() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut config = TrainConfig::for_task(TaskName::CharRnn);
    config.data = Some(shared.join("data/war_and_peace.txt"));
    config.max_chars = Some(300_000);
    config.hidden = 128;
    config.epochs = 3;
    config.batch_size = 50;
    config.lr = 0.01;
    config.le_steps = 50;
    let (val_loss, unigram) = run(&config);
    eprintln!(
        "charrnn LSTM 128, 3 epochs: best val loss {val_loss:.4} nats/char, unigram {unigram:.4}"
    );
    assert!(
        val_loss < unigram - 0.5,
        "val loss {val_loss} not well below the unigram entropy {unigram}"
    );
}

#[test]
fn mocap_beats_predicting_the_last_frame() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut config = TrainConfig::for_task(TaskName::Mocap);
    config.data = Some(shared.join("data/cmu_mocap"));
    // small data (156 training windows): a small network, small batches, biases
    config.hidden = 64;
    config.bias = true;
    config.epochs = 60;
    config.batch_size = 8;
    config.lr = 0.01;
    config.le_every = 20;
    config.le_steps = 50;
    let (val_mse, last_frame) = run(&config);
    eprintln!(
        "mocap LSTM 64, 60 epochs: best val MSE {val_mse:.4}, last-frame MSE {last_frame:.4}"
    );
    assert!(
        val_mse < last_frame,
        "val MSE {val_mse} not below the last-frame baseline {last_frame}"
    );
}

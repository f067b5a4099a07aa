//! `lyap train` through the binary: checkpoints reload in `lyap spectrum` with the recorded
//! spectrum, and a run killed with SIGKILL at any moment resumes to the metrics of an
//! uninterrupted run.

mod common;

use common::{lyap_ok, read_json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small synthetic-text run; `extra` adds or overrides flags.
fn train_args<'a>(out: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--task",
        "synthetic-text",
        "--hidden",
        "16",
        "--epochs",
        epochs,
        "--seq-len",
        "20",
        "--batch-size",
        "16",
        "--max-chars",
        "12000",
        "--le-batch",
        "3",
        "--le-steps",
        "30",
        "--le-warmup",
        "5",
        "--seed",
        "3",
        "--out",
        out,
    ]
}

#[test]
fn checkpoint_reloads_in_lyap_spectrum_with_the_recorded_spectrum() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    lyap_ok(&train_args(run.to_str().unwrap(), "2"));
    let out = dir.path().join("spectrum.json");
    lyap_ok(&[
        "spectrum",
        "--model",
        run.join("checkpoints/epoch_002.safetensors")
            .to_str()
            .unwrap(),
        "--inputs",
        run.join("spectrum_inputs.npy").to_str().unwrap(),
        "--warmup",
        "5",
        "--steps",
        "30",
        "--out",
        out.to_str().unwrap(),
    ]);
    let recorded = read_json(&run.join("spectra/epoch_002.json"));
    let reloaded = read_json(&out);
    assert_eq!(recorded["model"], reloaded["model"]);
    assert_eq!(recorded["exponents"]["mean"], reloaded["exponents"]["mean"]);
    assert_eq!(recorded["per_sequence"], reloaded["per_sequence"]);
}

/// The metrics without the wall-clock fields, which legitimately differ between runs.
fn metrics_without_timing(run: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    text.lines()
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
            let object = record.as_object_mut().unwrap();
            object.retain(|key, _| !key.ends_with("seconds"));
            record
        })
        .collect()
}

#[test]
fn run_killed_at_any_moment_resumes_to_the_uninterrupted_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let straight = dir.path().join("straight");
    lyap_ok(&train_args(straight.to_str().unwrap(), "6"));
    let expected = metrics_without_timing(&straight);
    assert_eq!(expected.len(), 6);

    let killed = dir.path().join("killed");
    let killed_str = killed.to_str().unwrap();
    // Kill at increasing delays until the run has finished by itself; every kill lands
    // somewhere: loading data, inside an epoch, writing a checkpoint, a snapshot or metrics.
    let (mut delay_ms, mut kills) = (10, 0);
    for round in 0.. {
        // a run killed before it wrote its config has not started: start it again
        let args = if killed.join("config.json").exists() {
            vec!["train", "--resume", killed_str]
        } else {
            train_args(killed_str, "6")
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_lyap"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(delay_ms) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            kills += 1;
        } else {
            let status = read_json(&killed.join("status.json"));
            assert_eq!(status["status"], "completed", "round {round}: {status}");
            break;
        }
        delay_ms += 15;
        assert!(round < 100, "the run never completed");
    }
    eprintln!("{kills} kills before the run completed");
    assert!(
        kills >= 3,
        "only {kills} kills: the run is too short to test resuming"
    );
    assert_eq!(metrics_without_timing(&killed), expected);
}

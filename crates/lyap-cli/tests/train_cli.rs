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
    // somewhere in an epoch, a checkpoint or a metrics write.
    let mut delay_ms = 150;
    for round in 0.. {
        let args = if round == 0 {
            train_args(killed_str, "6")
        } else {
            vec!["train", "--resume", killed_str]
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
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
        } else {
            let status = read_json(&killed.join("status.json"));
            if status["status"] == "completed" {
                break;
            }
        }
        delay_ms += 120;
        assert!(round < 60, "the run never completed");
    }
    assert_eq!(metrics_without_timing(&killed), expected);
}

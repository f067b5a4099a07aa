//! `lyap analyze` and `lyap report` on run directories written by other tools through
//! lyap-train's writer (as the Python `Recorder` does): a config with arbitrary keys, epochs
//! without a spectrum or without a validation loss, an `analysis/` directory from a previous
//! analysis and a subdirectory that is not a run; and the typed error for a directory
//! without runs.

use std::path::Path;

use lyap_core::summarize;
use lyap_experiments::analysis::AnalysisOptions;
use lyap_experiments::report::{analyze_sweep, run_report};
use lyap_experiments::spec::FlagValue;
use lyap_experiments::stats::Bootstrap;
use lyap_experiments::ExperimentError;
use lyap_rnn::report::SpectrumReport;
use lyap_train::run_dir::RunWriter;
use lyap_train::{EpochRecord, RunState};
use serde_json::json;

/// A spectrum report of two sequences with mean `exponents`, in the JSON `lyap spectrum`
/// writes (the summary from `lyap_core::summarize`).
fn report(exponents: &[f64]) -> SpectrumReport {
    let k = exponents.len();
    let document = json!({
        "model": {"arch": "lstm", "layers": 1, "hidden_size": k, "input_size": 2,
                  "state": "hidden", "state_dim": k},
        "config": {"batch": 2, "steps": 10, "warmup": 0, "qr_every": 1, "k": k,
                   "log_base": "e", "precision": "f64", "paper_compat": false},
        "exponents": {"mean": exponents, "std": vec![0.01; k], "sem": vec![0.005; k]},
        "per_sequence": [exponents, exponents],
        "summary": {"max": null, "mean": null, "min": null, "variance": null, "sum": null,
                    "n_positive": 0, "kaplan_yorke_dimension": null},
        "timing": {"seconds": 0.1},
        "warnings": []
    });
    let mut report = SpectrumReport::from_json(&document.to_string()).unwrap();
    report.summary = summarize(exponents);
    report
}

/// A Recorder-like run: epoch 1 with `val_loss` and no spectrum, epochs 2 and 3 with both,
/// except that epoch 2 of the second run has no `val_loss`.
fn write_run(root: &Path, config: serde_json::Value, shift: f64, second: bool) {
    let mut writer = RunWriter::create(root, &config, None).unwrap();
    writer.write_status(RunState::Running, None).unwrap();
    for epoch in 1..=3usize {
        let spectrum = (epoch > 1).then(|| report(&[0.1 * epoch as f64 + shift, -0.5, -1.0]));
        if let Some(report) = &spectrum {
            writer.dir().write_spectrum(epoch, report).unwrap();
        }
        let record = EpochRecord {
            epoch,
            train_loss: Some(3.0 - epoch as f64 * 0.5),
            val_loss: (!(second && epoch == 2)).then_some(3.2 - epoch as f64 * 0.5 + shift),
            spectrum: spectrum.map(|r| r.summary),
            ..EpochRecord::default()
        };
        writer.append_epoch(record).unwrap();
    }
    writer.write_status(RunState::Completed, None).unwrap();
}

fn options() -> AnalysisOptions {
    AnalysisOptions {
        bootstrap: Bootstrap {
            resamples: 20,
            ..Bootstrap::default()
        },
        ..AnalysisOptions::default()
    }
}

#[test]
fn analyze_a_directory_of_recorded_runs_twice() {
    let dir = tempfile::tempdir().unwrap();
    write_run(
        &dir.path().join("run_a"),
        json!({"lr": 0.01, "optimizer": "sgd", "layers": {"a": 1}}),
        0.0,
        false,
    );
    write_run(
        &dir.path().join("run_b"),
        json!({"lr": 0.1, "width": 32, "tied": true}),
        0.2,
        true,
    );
    std::fs::create_dir_all(dir.path().join("notes")).unwrap();
    std::fs::write(dir.path().join("notes/readme.txt"), "not a run").unwrap();
    for _ in 0..2 {
        let output = analyze_sweep(dir.path(), &options(), &["svg"]).unwrap();
        let data = &output.analysis.data;
        assert_eq!(data.completed.len(), 2);
        assert!(data.failed.is_empty() && data.incomplete.is_empty());
        assert_eq!(data.param_names, ["lr", "optimizer", "tied", "width"]);
        let (a, b) = (&data.completed[0], &data.completed[1]);
        assert_eq!((a.name.as_str(), b.name.as_str()), ("run_a", "run_b"));
        assert_eq!(a.params["lr"], FlagValue::Float(0.01));
        assert_eq!(b.params["width"], FlagValue::Int(32));
        assert_eq!(a.epochs.len(), 3);
        assert!(a.epochs[0].spectrum.is_none());
        assert!(b.epochs[1].val_loss.is_nan());
        assert_eq!(a.final_spectrum().unwrap().0, 3);
        assert!(output.report.is_file());
        assert!(output.out_dir.ends_with("analysis"));
    }
}

#[test]
fn report_on_a_recorded_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    write_run(&run, json!({"lr": 0.01}), 0.0, true);
    let output = run_report(&run, &["svg"]).unwrap();
    assert!(output.report.is_file());
    let html = std::fs::read_to_string(&output.report).unwrap();
    assert!(html.contains("Status: completed. Epochs: 3."), "{html}");
}

#[test]
fn a_directory_without_runs_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("analysis")).unwrap();
    let missing = dir.path().join("missing");
    for path in [dir.path(), missing.as_path()] {
        match analyze_sweep(path, &options(), &["svg"]) {
            Err(error @ ExperimentError::NoRuns { .. }) => {
                assert!(error.is_bad_input());
                assert!(!error.to_string().contains('\n'));
            }
            other => panic!("{path:?}: expected NoRuns, got {other:?}"),
        }
    }
}

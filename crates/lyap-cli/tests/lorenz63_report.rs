//! What `lyap train --task lorenz63` and `lyap report` write about the closed loop of the best
//! checkpoint (docs/DESIGN.md sections 5 and 6): `closed_loop.json` (the spectrum JSON, which
//! `lyap spectrum --closed-loop` reproduces), `lorenz63.json` with the true values, the printed
//! table, and the report's figures and section.

mod common;

use common::{lyap_ok, numbers, path_str, read_json};
use std::path::Path;
use std::time::Instant;

/// The report's figures of a lorenz63 run.
const FIGURES: [&str; 2] = ["lorenz63_attractor", "lorenz63_spectra"];

fn assert_true_values(comparison: &serde_json::Value) {
    let rows = comparison["rows"].as_array().unwrap();
    let field = |name: &str| -> Vec<&str> {
        rows.iter()
            .map(|r| r[name].as_str().unwrap_or_default())
            .collect()
    };
    assert_eq!(
        field("quantity"),
        ["lambda_1", "lambda_2", "lambda_3", "kaplan_yorke_dimension"]
    );
    let truth: Vec<f64> = rows.iter().map(|r| r["true"].as_f64().unwrap()).collect();
    assert_eq!(truth, [0.9056, 0.0, -14.5723, 2.062]);
    assert!(comparison["reference"].as_str().unwrap().contains("Sprott"));
    // lambda_2 is 0: a difference but no relative error
    assert!(rows[1]["relative_error"].is_null());
    for row in rows.iter().filter(|r| !r["closed_loop"].is_null()) {
        let (value, truth) = (
            row["closed_loop"].as_f64().unwrap(),
            row["true"].as_f64().unwrap(),
        );
        let difference = row["difference"].as_f64().unwrap();
        assert!((difference - (value - truth)).abs() < 1e-12, "{row}");
        if truth != 0.0 {
            let relative = row["relative_error"].as_f64().unwrap();
            assert!((relative - (value / truth - 1.0)).abs() < 1e-12, "{row}");
        }
    }
}

fn assert_figures_in_report(run: &Path) {
    let report = run.join("report");
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"lorenz63\">"), "{html}");
    assert!(html.contains("Sprott"), "{html}");
    for stem in FIGURES {
        for ext in ["svg", "png"] {
            let file = report.join(format!("{stem}.{ext}"));
            let size = std::fs::metadata(&file).map_or(0, |m| m.len());
            assert!(size > 0, "{} is missing or empty", file.display());
        }
        assert!(html.contains(&format!("src=\"{stem}.svg\"")), "{html}");
    }
}

#[test]
fn a_tiny_lorenz63_run_compares_its_closed_loop_with_lorenz63() {
    let start = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = lyap_ok(&[
        "train",
        "--task",
        "lorenz63",
        "--hidden",
        "8",
        "--epochs",
        "2",
        "--trajectories",
        "2",
        "--max-chars",
        "400",
        "--le-batch",
        "3",
        "--le-steps",
        "50",
        "--out",
        path_str(&run),
    ]);
    // the table after the best-epoch lines
    let best = out.find("best epoch").expect("the summary line");
    let table = &out[best..];
    for text in [
        "closed loop of checkpoints/best.safetensors",
        "lambda_3",
        "D_KY",
        "open loop",
    ] {
        assert!(table.contains(text), "{out}");
    }
    // closed_loop.json: the standard spectrum JSON of the closed loop, per time unit
    let closed = read_json(&run.join("closed_loop.json"));
    assert_eq!(closed["config"]["closed_loop"], true);
    assert_eq!(closed["config"]["dt"], 0.01);
    assert_eq!(closed["config"]["k"], 3);
    assert_eq!(closed["config"]["steps"], 100_000);
    assert_eq!(closed["config"]["warmup"], 2000);
    // lorenz63.json: the true values beside the closed loop's, and the open loop
    let comparison = read_json(&run.join("lorenz63.json"));
    assert_true_values(&comparison);
    let mean = numbers(&closed["exponents"]["mean"]);
    let rows = comparison["rows"].as_array().unwrap();
    for (i, value) in mean.iter().enumerate() {
        assert_eq!(rows[i]["closed_loop"].as_f64(), Some(*value));
    }
    let open = &comparison["open_loop"];
    assert_eq!(
        (open["batch"].as_u64(), open["steps"].as_u64()),
        (Some(3), Some(50))
    );
    assert!(open["lambda_1"].as_f64().unwrap().is_finite(), "{open}");
    // the command of the module documentation reproduces closed_loop.json
    let again = dir.path().join("again.json");
    lyap_ok(&[
        "spectrum",
        "--model",
        path_str(&run.join("checkpoints/best.safetensors")),
        "--closed-loop",
        "--dt",
        "0.01",
        "--k",
        "3",
        "--warmup",
        "2000",
        "--steps",
        "100000",
        "--out",
        path_str(&again),
    ]);
    assert_eq!(numbers(&read_json(&again)["exponents"]["mean"]), mean);
    // lyap report: the figures and the section; an absent evaluation is computed again
    std::fs::remove_file(run.join("lorenz63.json")).unwrap();
    std::fs::remove_file(run.join("closed_loop.json")).unwrap();
    let printed = lyap_ok(&["report", path_str(&run)]);
    assert!(printed.contains("lorenz63_attractor.svg"), "{printed}");
    assert_figures_in_report(&run);
    assert_eq!(
        numbers(&read_json(&run.join("closed_loop.json"))["exponents"]["mean"]),
        mean
    );
    assert_true_values(&read_json(&run.join("lorenz63.json")));
    let seconds = start.elapsed().as_secs_f64();
    assert!(seconds < 15.0, "took {seconds:.1} s");
}

#[test]
fn other_runs_have_no_lorenz63_section() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    lyap_ok(&[
        "train",
        "--task",
        "synthetic-signal",
        "--hidden",
        "4",
        "--epochs",
        "1",
        "--max-chars",
        "400",
        "--seq-len",
        "10",
        "--le-batch",
        "2",
        "--le-steps",
        "10",
        "--out",
        path_str(&run),
    ]);
    assert!(!run.join("lorenz63.json").exists() && !run.join("closed_loop.json").exists());
    lyap_ok(&["report", path_str(&run)]);
    let html = std::fs::read_to_string(run.join("report/report.html")).unwrap();
    assert!(html.contains("<section id=\"loss-curves\">"), "{html}");
    assert!(!html.contains("lorenz63"), "{html}");
    assert!(!run.join("report/lorenz63_attractor.svg").exists());
}

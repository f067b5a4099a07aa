//! The output files of `lyap spectrum`: the JSON result (docs/DESIGN.md section 6, `-inf` as null
//! with warnings), the trace CSV, SVG and PNG plots, and thread-count independence.

mod common;
use common::*;
use lyap_rnn::{Arch, StackWeights};
use std::path::Path;

/// Arguments of a small random GRU run writing into `dir`.
fn gru_run(dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "spectrum",
        "--random",
        "gru",
        "--hidden",
        "5",
        "--input-size",
        "3",
        "--layers",
        "2",
        "--init-scale",
        "0.8",
        "--bias",
        "--batch",
        "4",
        "--steps",
        "10",
        "--warmup",
        "3",
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.replace("{dir}", path_str(dir))));
    args
}

fn run_owned(args: &[String]) -> String {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    lyap_ok(&refs)
}

#[test]
fn json_has_the_design_fields_with_length_k() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = run_owned(&gru_run(dir.path(), &["--k", "6", "--out", "{dir}/r.json"]));
    let json = read_json(&dir.path().join("r.json"));
    let model = &json["model"];
    assert_eq!(model["arch"], "gru");
    assert_eq!(model["layers"], 2);
    assert_eq!(model["hidden_size"], 5);
    assert_eq!(model["input_size"], 3);
    assert_eq!(model["state"], "full");
    assert_eq!(model["state_dim"], 10);
    let config = &json["config"];
    for (key, value) in [
        ("batch", 4),
        ("steps", 10),
        ("warmup", 3),
        ("qr_every", 1),
        ("k", 6),
    ] {
        assert_eq!(config[key], value, "config.{key}");
    }
    assert_eq!(config["log_base"], "e");
    assert_eq!(config["precision"], "f64");
    assert_eq!(config["paper_compat"], false);
    for key in ["mean", "std", "sem"] {
        assert_eq!(numbers(&json["exponents"][key]).len(), 6, "exponents.{key}");
    }
    let per_sequence = json["per_sequence"].as_array().unwrap();
    assert_eq!(per_sequence.len(), 4);
    assert!(per_sequence.iter().all(|row| numbers(row).len() == 6));
    for key in ["max", "mean", "min", "variance", "sum", "n_positive"] {
        assert!(json["summary"][key].is_number(), "summary.{key}");
    }
    assert!(json["summary"]["kaplan_yorke_dimension"].is_number());
    assert!(json["timing"]["seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(json["warnings"].as_array().unwrap().len(), 0);
    // The stdout summary names the network, the state and the top exponent.
    assert!(
        stdout.contains("gru") && stdout.contains("full (dimension 10)"),
        "{stdout}"
    );
}

/// A ReLU RNN with `U = 0.5 I`, `W = 0`, bias `(1, 1, -1)` and zero input: units 1 and 2 sit
/// at `h = 2` with slope 1, unit 3 is dead. `J = diag(1, 1, 0) 0.5 I`, so the exponents are
/// `ln 0.5, ln 0.5, -inf`.
#[test]
fn diverged_exponents_are_null_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let mut weights = StackWeights::<f64>::random(Arch::RnnRelu, 1, 3, 1, true, 0.0, 0);
    let layer = &mut weights.layers[0];
    for i in 0..3 {
        layer.weight_hh[(i, i)] = 0.5;
    }
    layer.bias_ih = Some(vec![1.0, 1.0, -1.0]);
    let model = dir.path().join("relu.safetensors");
    write_model(&model, &weights, "", &[]);
    let out = dir.path().join("r.json");
    let args = [
        "spectrum",
        "--model",
        path_str(&model),
        "--zero-input",
        "--steps",
        "20",
        "--batch",
        "2",
        "--out",
        path_str(&out),
    ];
    let stdout = lyap_ok(&args);
    // Strict JSON (serde_json rejects NaN / Infinity tokens).
    let json = read_json(&out);
    assert_eq!(json["model"]["arch"], "rnn-relu");
    let mean = &json["exponents"]["mean"];
    let ln_half = 0.5f64.ln();
    for i in 0..2 {
        assert!(
            (mean[i].as_f64().unwrap() - ln_half).abs() < 1e-12,
            "{mean}"
        );
    }
    assert!(mean[2].is_null());
    assert!(json["exponents"]["std"][2].is_null());
    assert!(json["per_sequence"][1][2].is_null());
    assert!(json["summary"]["min"].is_null());
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .starts_with("exponents 3 diverged"));
    assert!(stdout.contains("warning"), "{stdout}");
}

#[test]
fn trace_rows_and_last_row_equals_final_exponents() {
    let dir = tempfile::tempdir().unwrap();
    let extra = [
        "--qr-every",
        "3",
        "--log-base",
        "2",
        "--trace",
        "{dir}/t.csv",
        "--out",
        "{dir}/r.json",
    ];
    run_owned(&gru_run(dir.path(), &extra));
    let csv = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let header: Vec<String> = ["sequence", "step"]
        .into_iter()
        .map(String::from)
        .chain((1..=10).map(|i| format!("exponent_{i}")))
        .collect();
    assert_eq!(rows[0], header);
    // QR at steps 3, 6, 9 and the last step 10: 4 rows for each of the 4 sequences.
    assert_eq!(rows.len(), 1 + 4 * 4);
    let steps: Vec<&str> = rows[1..5].iter().map(|r| r[1]).collect();
    assert_eq!(steps, ["3", "6", "9", "10"]);
    let json = read_json(&dir.path().join("r.json"));
    assert_eq!(json["config"]["log_base"], "2");
    for b in 0..4 {
        let last = &rows[4 * (b + 1)];
        assert_eq!(last[0], b.to_string());
        let values: Vec<f64> = last[2..].iter().map(|v| v.parse().unwrap()).collect();
        assert_eq!(values, numbers(&json["per_sequence"][b]), "sequence {b}");
    }
}

#[test]
fn svg_and_png_plots() {
    let dir = tempfile::tempdir().unwrap();
    run_owned(&gru_run(dir.path(), &["--plot", "{dir}/s.svg"]));
    run_owned(&gru_run(dir.path(), &["--plot", "{dir}/s.PNG"]));
    let svg = std::fs::read_to_string(dir.path().join("s.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(
        svg.contains("exponent index") && svg.contains("gru"),
        "labels missing"
    );
    let png = std::fs::read(dir.path().join("s.PNG")).unwrap();
    assert!(png.len() > 1000);
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // Nothing but the two figures is left in the directory (no temporary files).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn one_and_two_threads_give_identical_exponents() {
    let dir = tempfile::tempdir().unwrap();
    let mut texts = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("r{threads}.json"));
        let args = [
            "spectrum",
            "--random",
            "lstm",
            "--hidden",
            "8",
            "--input-size",
            "4",
            "--layers",
            "2",
            "--batch",
            "6",
            "--steps",
            "30",
            "--out",
            path_str(&out),
        ];
        let run = lyap_env(&args, &[("RAYON_NUM_THREADS", threads)]);
        assert!(run.status.success());
        let json = read_json(&out);
        texts.push((
            json["exponents"].to_string(),
            json["per_sequence"].to_string(),
        ));
    }
    assert_eq!(texts[0], texts[1]);
}

/// Integer tokens give exactly the spectrum of their one-hot float encoding.
#[test]
fn tokens_equal_their_one_hot_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let weights = StackWeights::<f64>::random(Arch::Lstm, 3, 4, 1, true, 0.7, 9);
    let model = dir.path().join("m.safetensors");
    write_model(&model, &weights, "rnn.", &[]);
    let tokens: Vec<i64> = vec![0, 2, 1, 1, 0, 2, 2, 2, 0, 1, 0, 1];
    let one_hot: Vec<f64> = tokens
        .iter()
        .flat_map(|&t| (0..3).map(move |d| f64::from(u8::from(d == t))))
        .collect();
    write_npy_i64(&dir.path().join("t.npy"), &[2, 6], &tokens);
    write_npy_f64(&dir.path().join("x.npy"), &[2, 6, 3], &one_hot);
    let mut results = Vec::new();
    for (flag, file) in [("--tokens", "t.npy"), ("--inputs", "x.npy")] {
        let out = dir.path().join(format!("{file}.json"));
        lyap_ok(&[
            "spectrum",
            "--model",
            path_str(&model),
            flag,
            path_str(&dir.path().join(file)),
            "--warmup",
            "2",
            "--out",
            path_str(&out),
        ]);
        let json = read_json(&out);
        assert_eq!(json["config"]["steps"], 4);
        results.push(json["per_sequence"].to_string());
    }
    assert_eq!(results[0], results[1]);
}

/// `--random` without inputs uses generated tokens: batch 10, 100 steps.
#[test]
fn random_network_with_generated_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let args = [
        "spectrum",
        "--random",
        "rnn-tanh",
        "--hidden",
        "6",
        "--input-size",
        "3",
        "--seed",
        "4",
        "--out",
        path_str(&out),
    ];
    lyap_ok(&args);
    let json = read_json(&out);
    assert_eq!(json["config"]["batch"], 10);
    assert_eq!(json["config"]["steps"], 100);
    assert_eq!(json["model"]["state_dim"], 6);
    assert_eq!(numbers(&json["exponents"]["mean"]).len(), 6);
}

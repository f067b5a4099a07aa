//! Every kind of bad input makes `lyap spectrum` exit with code 2 and print exactly one line
//! on stderr that names the culprit (file, key, shape or value), never a panic.

mod common;
use common::*;
use lyap_rnn::pytorch::ExtraTensor;
use lyap_rnn::{Arch, StackWeights};
use std::path::{Path, PathBuf};

/// A temp dir holding a good 1-layer LSTM (input size 3, hidden 4) and good inputs.
struct Setup {
    dir: tempfile::TempDir,
    model: PathBuf,
    inputs: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model.safetensors");
        let weights = StackWeights::<f64>::random(Arch::Lstm, 3, 4, 1, true, 0.5, 1);
        write_model(&model, &weights, "rnn.", &[]);
        let inputs = dir.path().join("inputs.npy");
        write_npy_f64(&inputs, &[2, 10, 3], &pseudo_random(60, 2));
        Self { dir, model, inputs }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// `spectrum --model MODEL --inputs INPUTS EXTRA`.
    fn run(&self, model: &Path, inputs: &Path, extra: &[&str]) -> std::process::Output {
        let mut args = vec![
            "spectrum",
            "--model",
            path_str(model),
            "--inputs",
            path_str(inputs),
        ];
        args.extend_from_slice(extra);
        lyap(&args)
    }
}

/// Exit code 2, one stderr line, mentions every `culprit`, no panic.
fn assert_bad(output: &std::process::Output, culprits: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for culprit in culprits {
        assert!(stderr.contains(culprit), "{culprit:?} not in {stderr:?}");
    }
}

#[test]
fn missing_and_malformed_model_files() {
    let s = Setup::new();
    let missing = s.path("nope.safetensors");
    assert_bad(&s.run(&missing, &s.inputs, &[]), &["nope.safetensors"]);

    let text = s.write("notes.safetensors", b"this is a text file, not tensors\n");
    assert_bad(
        &s.run(&text, &s.inputs, &[]),
        &["notes.safetensors", "safetensors"],
    );

    let good = std::fs::read(&s.model).unwrap();
    let truncated = s.write("cut.safetensors", &good[..good.len() - 17]);
    assert_bad(&s.run(&truncated, &s.inputs, &[]), &["cut.safetensors"]);
    let header_only = s.write("head.safetensors", &good[..5]);
    assert_bad(&s.run(&header_only, &s.inputs, &[]), &["head.safetensors"]);
}

#[test]
fn no_recognised_keys_and_two_prefixes() {
    let s = Setup::new();
    let weights = StackWeights::<f64>::random(Arch::Gru, 3, 4, 1, false, 0.5, 1);
    let fc = ExtraTensor {
        name: "fc.weight".into(),
        shape: vec![2, 2],
        values: vec![0.0; 4],
    };
    // A file holding a readout only: no recurrent keys.
    let only_fc = s.path("fc.safetensors");
    let bytes = {
        use safetensors::tensor::{Dtype, TensorView};
        let data: Vec<u8> = fc.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let view = TensorView::new(Dtype::F64, fc.shape.clone(), &data).unwrap();
        safetensors::serialize([("fc.weight", view)], None).unwrap()
    };
    std::fs::write(&only_fc, bytes).unwrap();
    assert_bad(
        &s.run(&only_fc, &s.inputs, &[]),
        &["fc.safetensors", "fc.weight"],
    );

    // Keys for two prefixes: "encoder." from the writer, "decoder." as extra tensors.
    let two = s.path("two.safetensors");
    let decoder = ["weight_ih_l0", "weight_hh_l0"].map(|key| {
        let m = if key == "weight_ih_l0" { 3 } else { 4 };
        ExtraTensor {
            name: format!("decoder.{key}"),
            shape: vec![12, m],
            values: vec![0.1; 12 * m],
        }
    });
    write_model(&two, &weights, "encoder.", &decoder);
    assert_bad(
        &s.run(&two, &s.inputs, &[]),
        &["two.safetensors", "decoder", "encoder"],
    );
    // Choosing one resolves it; a wrong one lists the candidates.
    lyap_ok(&[
        "spectrum",
        "--model",
        path_str(&two),
        "--prefix",
        "decoder",
        "--inputs",
        path_str(&s.inputs),
    ]);
    assert_bad(
        &s.run(&two, &s.inputs, &["--prefix", "rnn"]),
        &["rnn.weight_hh_l0", "encoder"],
    );
}

#[test]
fn non_finite_weights_and_inputs() {
    let s = Setup::new();
    let mut weights = StackWeights::<f64>::random(Arch::Lstm, 3, 4, 1, true, 0.5, 1);
    weights.layers[0].weight_hh[(2, 1)] = f64::NAN;
    let nan_model = s.path("nan.safetensors");
    write_model(&nan_model, &weights, "rnn.", &[]);
    assert_bad(
        &s.run(&nan_model, &s.inputs, &[]),
        &["rnn.weight_hh_l0", "NaN"],
    );

    let mut values = pseudo_random(60, 3);
    values[34] = f64::INFINITY;
    let inf_inputs = s.path("inf.npy");
    write_npy_f64(&inf_inputs, &[2, 10, 3], &values);
    assert_bad(
        &s.run(&s.model, &inf_inputs, &[]),
        &["inf.npy", "inf", "[1, 1, 1]"],
    );
}

#[test]
fn shape_and_range_errors() {
    let s = Setup::new();
    let wide = s.path("wide.npy");
    write_npy_f64(&wide, &[2, 10, 5], &pseudo_random(100, 4));
    assert_bad(&s.run(&s.model, &wide, &[]), &["wide.npy", "5", "3"]);

    assert_bad(&s.run(&s.model, &s.inputs, &["--k", "0"]), &["--k 0"]);
    // LSTM, 1 layer, hidden 4, full state: dimension 8.
    assert_bad(&s.run(&s.model, &s.inputs, &["--k", "9"]), &["--k 9", "8"]);
    assert_bad(
        &s.run(&s.model, &s.inputs, &["--warmup", "4", "--steps", "7"]),
        &["inputs.npy", "11", "10"],
    );
    assert_bad(
        &s.run(&s.model, &s.inputs, &["--warmup", "10"]),
        &["inputs.npy"],
    );
    assert_bad(
        &s.run(&s.model, &s.inputs, &["--batch", "3"]),
        &["--batch 3", "2"],
    );

    let tokens = s.path("tokens.npy");
    write_npy_i64(&tokens, &[2, 4], &[0, 1, 2, 1, 0, 3, 1, 2]);
    let out = lyap(&[
        "spectrum",
        "--model",
        path_str(&s.model),
        "--tokens",
        path_str(&tokens),
    ]);
    assert_bad(&out, &["tokens.npy", "token 3", "[1, 1]"]);
}

#[test]
fn unknown_architecture_names() {
    let s = Setup::new();
    assert_bad(
        &s.run(&s.model, &s.inputs, &["--arch", "transformer"]),
        &["transformer"],
    );
    let out = lyap(&[
        "spectrum",
        "--random",
        "mamba",
        "--hidden",
        "4",
        "--input-size",
        "2",
    ]);
    assert_bad(&out, &["mamba"]);
    // Flag values clap rejects are one line too.
    assert_bad(&s.run(&s.model, &s.inputs, &["--state", "both"]), &["both"]);
}

#[test]
fn unsupported_npy_dtypes_and_ranks() {
    let s = Setup::new();
    let complex = s.write("complex.npy", &npy_bytes("<c8", &[2, 10, 3], &[0; 480]));
    assert_bad(&s.run(&s.model, &complex, &[]), &["complex.npy", "<c8"]);
    let boolean = s.write("bool.npy", &npy_bytes("|b1", &[2, 10, 3], &[0; 60]));
    assert_bad(&s.run(&s.model, &boolean, &[]), &["bool.npy", "b1"]);
    let rank4 = s.path("rank4.npy");
    write_npy_f64(&rank4, &[1, 2, 10, 3], &pseudo_random(60, 5));
    assert_bad(&s.run(&s.model, &rank4, &[]), &["rank4.npy", "rank 4"]);
    let not_npy = s.write("text.npy", b"1,2,3\n");
    assert_bad(&s.run(&s.model, &not_npy, &[]), &["text.npy"]);
    let missing = s.path("absent.npy");
    assert_bad(&s.run(&s.model, &missing, &[]), &["absent.npy"]);
}

/// `lyap analyze` on a missing or empty directory and `lyap sweep` on a missing spec are the
/// user's mistakes: one line naming the path, exit code 2 (not "internal error", exit 1).
#[test]
fn analyze_and_sweep_on_missing_paths() {
    let s = Setup::new();
    let empty = s.path("empty");
    std::fs::create_dir(&empty).unwrap();
    let missing_dir = s.path("no-such-sweep");
    for dir in [&empty, &missing_dir] {
        let out = lyap(&["analyze", path_str(dir)]);
        assert_bad(&out, &[path_str(dir)]);
        assert!(!String::from_utf8_lossy(&out.stderr).contains("internal error"));
    }
    let spec = s.path("missing.toml");
    let out = lyap(&["sweep", path_str(&spec), "--out", path_str(&s.path("out"))]);
    assert_bad(&out, &["missing.toml"]);
    let broken = s.write("broken.toml", b"trials = [");
    let out = lyap(&[
        "sweep",
        path_str(&broken),
        "--out",
        path_str(&s.path("out")),
    ]);
    assert_bad(&out, &["broken.toml", "invalid TOML"]);
}

/// Requests larger than the machine's memory are refused before allocating, in one line
/// that names the size (the sizes assume less than 320 GB of memory).
#[test]
fn requests_larger_than_memory() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_lyap"))
            .args(args.split_whitespace())
            .current_dir(dir.path())
            .output()
            .expect("the lyap binary runs")
    };
    assert_bad(
        &run("spectrum --random lstm --hidden 100000 --input-size 10 --steps 10"),
        &["the random network needs 320.0 GB", "this machine has"],
    );
    assert_bad(
        &run("spectrum --random gru --hidden 8 --input-size 100000000000 --steps 10"),
        &["the random network needs 19.2 TB", "this machine has"],
    );
    assert_bad(
        // (`--out` is required; nothing is written)
        &run("train --task synthetic-text --hidden 200000 --out run"),
        &["needs 2.6 TB", "this machine has"],
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

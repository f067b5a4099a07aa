//! `lyap spectrum --tokens` with a model whose file holds a token embedding (`nn.Embedding`
//! in front of the recurrent stack), and the errors for PyTorch files lyap cannot read:
//! `torch.save` checkpoints and LSTMs with a projection (`proj_size`).

mod common;
use common::*;
use lyap_rnn::pytorch::ExtraTensor;
use lyap_rnn::{Arch, StackWeights};
use std::path::{Path, PathBuf};

/// Vocabulary size and input size (embedding dimension) of the test model.
const VOCAB: usize = 11;
const DIM: usize = 3;

/// A 2-layer LSTM (input size 3, hidden 4) with `emb.weight` [11, 3] and a readout
/// `fc.weight` [11, 4] + `fc.bias`, as a character model's state_dict has.
fn model_with_embedding(dir: &Path) -> (PathBuf, Vec<f64>) {
    let path = dir.join("charlstm.safetensors");
    let weights = StackWeights::<f64>::random(Arch::Lstm, DIM, 4, 2, true, 0.5, 3);
    let table = pseudo_random(VOCAB * DIM, 8);
    let tensor = |name: &str, shape: Vec<usize>, values: Vec<f64>| ExtraTensor {
        name: name.into(),
        shape,
        values,
    };
    let extra = [
        tensor("emb.weight", vec![VOCAB, DIM], table.clone()),
        tensor("fc.weight", vec![VOCAB, 4], pseudo_random(VOCAB * 4, 9)),
        tensor("fc.bias", vec![VOCAB], pseudo_random(VOCAB, 10)),
    ];
    write_model(&path, &weights, "lstm.", &extra);
    (path, table)
}

/// The mean exponents (from the JSON) of `lyap spectrum --model MODEL --tokens TOKENS` and of
/// `lyap spectrum --model MODEL --inputs INPUTS`, in that order.
fn tokens_and_inputs(dir: &Path, model: &Path, tokens: &Path, inputs: &Path) -> [Vec<f64>; 2] {
    [
        ("--tokens", tokens, "tokens.json"),
        ("--inputs", inputs, "inputs.json"),
    ]
    .map(|(flag, path, json)| {
        let out = dir.join(json);
        lyap_ok(&[
            "spectrum",
            "--model",
            path_str(model),
            flag,
            path_str(path),
            "--out",
            path_str(&out),
        ]);
        numbers(&read_json(&out)["exponents"]["mean"])
    })
}

/// Runs `lyap spectrum --model MODEL --tokens TOKENS EXTRA`.
fn spectrum_of_tokens(model: &Path, tokens: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "spectrum",
        "--model",
        path_str(model),
        "--tokens",
        path_str(tokens),
    ];
    args.extend_from_slice(extra);
    lyap(&args)
}

/// `DIR/inputs.npy`: one float sequence of 4 steps of size 3.
fn small_inputs(dir: &Path) -> PathBuf {
    let inputs = dir.join("inputs.npy");
    write_npy_f64(&inputs, &[1, 4, 3], &pseudo_random(12, 1));
    inputs
}

fn assert_bad(output: &std::process::Output, culprits: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    for culprit in culprits {
        assert!(stderr.contains(culprit), "{culprit:?} not in {stderr:?}");
    }
}

#[test]
fn tokens_go_through_the_embedding_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let (model, table) = model_with_embedding(dir.path());
    let (batch, steps) = (2, 12);
    let tokens: Vec<i64> = (0..batch * steps).map(|i| (i * 7 % VOCAB) as i64).collect();
    let token_path = dir.path().join("tokens.npy");
    write_npy_i64(&token_path, &[batch, steps], &tokens);
    // The same inputs, embedded by hand.
    let rows: Vec<f64> = tokens
        .iter()
        .flat_map(|&t| table[t as usize * DIM..(t as usize + 1) * DIM].to_vec())
        .collect();
    let input_path = dir.path().join("embedded.npy");
    write_npy_f64(&input_path, &[batch, steps, DIM], &rows);

    let [by_tokens, by_inputs] = tokens_and_inputs(dir.path(), &model, &token_path, &input_path);
    assert_eq!(by_tokens.len(), 16);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&by_tokens), bits(&by_inputs));
    // Naming the embedding gives the same; the summary says which tensor was used.
    let named = dir.path().join("named.json");
    let flags = ["--embedding", "emb.weight", "--out", path_str(&named)];
    let out = spectrum_of_tokens(&model, &token_path, &flags);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        bits(&numbers(&read_json(&named)["exponents"]["mean"])),
        bits(&by_inputs)
    );
    assert!(stdout.contains("emb.weight"), "{stdout}");
}

#[test]
fn embedding_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = model_with_embedding(dir.path());
    // A token id at or above V names the value and V.
    let token_path = dir.path().join("tokens.npy");
    write_npy_i64(&token_path, &[1, 4], &[0, 3, VOCAB as i64, 1]);
    let out = spectrum_of_tokens(&model, &token_path, &[]);
    assert_bad(&out, &["token 11", "[0, 11)", "emb.weight"]);
    // --embedding naming a missing key or a tensor of the wrong shape.
    write_npy_i64(&token_path, &[1, 4], &[0, 3, 2, 1]);
    let run = |key: &str| spectrum_of_tokens(&model, &token_path, &["--embedding", key]);
    assert_bad(&run("encoder.weight"), &["missing key encoder.weight"]);
    assert_bad(&run("fc.weight"), &["fc.weight", "[11, 4]", "[V, 3]"]);
    // --embedding needs --model and --tokens.
    let out = lyap(&[
        "spectrum",
        "--random",
        "lstm",
        "--hidden",
        "4",
        "--input-size",
        "3",
        "--embedding",
        "emb.weight",
    ]);
    assert_bad(&out, &["--model", "--tokens"]);
}

#[test]
fn one_hot_tokens_are_unchanged_without_an_embedding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.safetensors");
    let weights = StackWeights::<f64>::random(Arch::Gru, 5, 4, 1, true, 0.5, 4);
    write_model(&path, &weights, "rnn.", &[]);
    let token_path = dir.path().join("tokens.npy");
    write_npy_i64(&token_path, &[1, 6], &[0, 4, 2, 1, 3, 0]);
    let one_hot: Vec<f64> = [0, 4, 2, 1, 3, 0]
        .iter()
        .flat_map(|&t| (0..5).map(move |d| if d == t { 1.0 } else { 0.0 }))
        .collect();
    let input_path = dir.path().join("one_hot.npy");
    write_npy_f64(&input_path, &[1, 6, 5], &one_hot);
    let [a, b] = tokens_and_inputs(dir.path(), &path, &token_path, &input_path);
    assert_eq!(a, b);
    write_npy_i64(&token_path, &[1, 2], &[0, 5]);
    let out = spectrum_of_tokens(&path, &token_path, &[]);
    assert_bad(&out, &["token 5", "[0, 5)", "input size"]);
}

#[test]
fn torch_checkpoints_get_the_conversion_command() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = small_inputs(dir.path());
    // torch.save writes a zip archive (PyTorch >= 1.6) or a pickle (older, or a .pth).
    let cases: [(&str, &[u8]); 3] = [
        ("model.pt", b"PK\x03\x04\x14\x00\x00\x00archive/data.pkl"),
        ("weights.pth", b"\x80\x02\x8a\x0alegacy pickle"),
        (
            "checkpoint.bin",
            b"PK\x03\x04\x14\x00\x00\x00archive/data.pkl",
        ),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let shown = path_str(&path);
        let converted = path.with_extension("safetensors");
        let command = format!(
            "safetensors.torch.save_file(torch.load(\"{shown}\"), \"{}\")",
            converted.display()
        );
        let out = lyap(&["spectrum", "--model", shown, "--inputs", path_str(&inputs)]);
        assert_bad(&out, &[&command, "torch.save"]);
    }
    // Other garbage is still "not a valid safetensors file".
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"\x01\x02\x03").unwrap();
    let out = lyap(&[
        "spectrum",
        "--model",
        path_str(&junk),
        "--inputs",
        path_str(&inputs),
    ]);
    assert_bad(&out, &["junk.safetensors", "not a valid safetensors file"]);
}

#[test]
fn lstm_with_projection_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = small_inputs(dir.path());
    let path = dir.path().join("proj.safetensors");
    let weights = StackWeights::<f64>::random(Arch::Lstm, 3, 4, 1, true, 0.5, 5);
    let projection = ExtraTensor {
        name: "lstm.weight_hr_l0".into(),
        shape: vec![2, 4],
        values: pseudo_random(8, 6),
    };
    write_model(&path, &weights, "lstm.", &[projection]);
    let out = lyap(&[
        "spectrum",
        "--model",
        path_str(&path),
        "--inputs",
        path_str(&inputs),
    ]);
    assert_bad(
        &out,
        &["proj.safetensors", "lstm.weight_hr_l0", "proj_size"],
    );
}

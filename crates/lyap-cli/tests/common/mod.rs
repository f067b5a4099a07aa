//! Helpers shared by the integration tests: running the built `lyap` binary, locating the
//! shared PyTorch fixtures, writing `.npy` and safetensors files.
#![allow(dead_code)]

use lyap_rnn::pytorch::{save_stack, ExtraTensor, SaveDtype};
use lyap_rnn::StackWeights;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `lyap ARGS` with extra environment variables.
pub fn lyap_env(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lyap"));
    command.args(args);
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("the lyap binary runs")
}

/// Runs `lyap ARGS`.
pub fn lyap(args: &[&str]) -> Output {
    lyap_env(args, &[])
}

/// Runs `lyap ARGS` and asserts success, returning stdout.
pub fn lyap_ok(args: &[&str]) -> String {
    let out = lyap(args);
    assert!(
        out.status.success(),
        "lyap {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `../shared/fixtures` beside the workspace, or `None` (with a printed reason) when absent;
/// absence fails the test when `LYAP_REQUIRE_SHARED=1`.
pub fn shared_fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    if dir.join("inputs.npy").is_file() {
        return Some(dir);
    }
    let reason = format!("shared fixtures not found at {}", dir.display());
    if std::env::var("LYAP_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{reason} (LYAP_REQUIRE_SHARED=1)");
    }
    eprintln!("skipping: {reason}");
    None
}

/// `.npy` version 1.0 bytes of an array with numpy type string `descr` (e.g. `<f8`).
pub fn npy_bytes(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

/// A float64 `.npy` file at `path`.
pub fn write_npy_f64(path: &Path, shape: &[usize], values: &[f64]) {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, npy_bytes("<f8", shape, &data)).unwrap();
}

/// An int64 `.npy` file at `path`.
pub fn write_npy_i64(path: &Path, shape: &[usize], values: &[i64]) {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, npy_bytes("<i8", shape, &data)).unwrap();
}

/// Saves `weights` as F64 safetensors under `prefix`, with extra tensors.
pub fn write_model(path: &Path, weights: &StackWeights<f64>, prefix: &str, extra: &[ExtraTensor]) {
    let bytes = save_stack(weights, prefix, extra, &HashMap::new(), SaveDtype::F64).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Deterministic pseudo-random values in [-1, 1] (no RNG dependency needed).
pub fn pseudo_random(count: usize, seed: u64) -> Vec<f64> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// Parses a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A JSON array of numbers (`null` as `-inf`).
pub fn numbers(value: &serde_json::Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NEG_INFINITY))
        .collect()
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

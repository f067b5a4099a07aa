//! Output stability: every command's output files and numbers equal those recorded in
//! `tests/golden/` (written by the binary before the architecture refactor), apart from
//! timing fields and images.
//!
//! Each case runs a few `lyap` commands in a fresh directory; then every file the case wrote
//! is compared with its recorded twin, and the two sets of files must be the same. JSON and
//! JSON-lines files are compared as values with timing keys removed (`seconds`, `*_seconds*`,
//! `le_fraction_to_best`), safetensors files tensor by tensor and metadata key by key, CSV and
//! text exactly, `.npy` byte for byte. Images (`.svg`, `.png`), `report.html`, logs and locks
//! are not compared.
//!
//! The numbers are compared exactly on x86-64 machines with AVX-512 (the project's machines,
//! where the recordings were made); elsewhere the SIMD paths sum in another order, and numbers
//! are compared to a relative 1e-6 (said on stderr).
//!
//! To record anew (only when an output is meant to change, and say so in the commit):
//! `LYAP_GOLDEN_BLESS=1 cargo test -p lyap-cli --test golden`; `LYAP_GOLDEN_BIN=PATH` runs
//! another `lyap` binary (e.g. an older build) instead of this one.

mod common;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const SWEEP_SPEC: &str = r#"trials = 5
seed = 4
[train]
task = "synthetic-text"
arch = "lstm"
hidden = 8
epochs = 3
batch-size = 8
seq-len = 16
max-chars = 3000
le-batch = 2
le-steps = 16
le-trace = true
[sample.lr]
dist = "loguniform"
low = 1e-3
high = 3e-2
"#;

/// A case: commands (each `lyap` arguments) run in order in one directory. A command whose
/// first word is `@stdout:NAME` has its standard output (without its timing line) kept as the
/// file NAME.
struct Case {
    name: &'static str,
    commands: &'static [&'static [&'static str]],
}

const CASES: &[Case] = &[
    Case {
        name: "spectrum_lstm_two_layers",
        commands: &[&[
            "@stdout:summary.txt",
            "spectrum",
            "--random",
            "lstm",
            "--hidden",
            "12",
            "--input-size",
            "4",
            "--layers",
            "2",
            "--bias",
            "--warmup",
            "5",
            "--steps",
            "40",
            "--batch",
            "3",
            "--seed",
            "7",
            "--out",
            "a.json",
            "--trace",
            "a.csv",
        ]],
    },
    Case {
        name: "spectrum_gru_f32_k_qr_every_bits",
        commands: &[&[
            "@stdout:summary.txt",
            "spectrum",
            "--random",
            "gru",
            "--hidden",
            "10",
            "--input-size",
            "3",
            "--precision",
            "f32",
            "--k",
            "4",
            "--qr-every",
            "3",
            "--steps",
            "30",
            "--warmup",
            "4",
            "--log-base",
            "2",
            "--batch",
            "2",
            "--seed",
            "1",
            "--out",
            "b.json",
            "--trace",
            "b.csv",
        ]],
    },
    Case {
        name: "spectrum_paper_compat",
        commands: &[&[
            "@stdout:summary.txt",
            "spectrum",
            "--random",
            "lstm",
            "--hidden",
            "8",
            "--input-size",
            "5",
            "--paper-compat",
            "--warmup",
            "10",
            "--steps",
            "20",
            "--out",
            "c.json",
            "--trace",
            "c.csv",
        ]],
    },
    Case {
        name: "spectrum_rnn_relu_zero_input_hidden_state",
        commands: &[&[
            "@stdout:summary.txt",
            "spectrum",
            "--random",
            "rnn-relu",
            "--hidden",
            "16",
            "--input-size",
            "2",
            "--bias",
            "--zero-input",
            "--init-scale",
            "0.4",
            "--steps",
            "50",
            "--state",
            "hidden",
            "--out",
            "d.json",
        ]],
    },
    Case {
        name: "train_text_then_spectrum_of_checkpoint",
        commands: &[
            &[
                "train",
                "--task",
                "synthetic-text",
                "--hidden",
                "12",
                "--epochs",
                "2",
                "--batch-size",
                "8",
                "--seq-len",
                "20",
                "--max-chars",
                "3000",
                "--le-batch",
                "3",
                "--le-steps",
                "20",
                "--le-trace",
                "--seed",
                "3",
                "--out",
                "run",
            ],
            &[
                "@stdout:summary.txt",
                "spectrum",
                "--model",
                "run/checkpoints/epoch_002.safetensors",
                "--inputs",
                "run/spectrum_inputs.npy",
                "--state",
                "hidden",
                "--out",
                "e.json",
            ],
        ],
    },
    Case {
        name: "train_signal_gru_two_layers",
        commands: &[&[
            "train",
            "--task",
            "synthetic-signal",
            "--arch",
            "gru",
            "--hidden",
            "10",
            "--layers",
            "2",
            "--dropout",
            "0.1",
            "--bias",
            "--epochs",
            "2",
            "--batch-size",
            "4",
            "--seq-len",
            "15",
            "--max-chars",
            "2000",
            "--le-batch",
            "2",
            "--le-steps",
            "15",
            "--le-warmup",
            "3",
            "--seed",
            "5",
            "--out",
            "run",
        ]],
    },
    Case {
        name: "sweep_and_analyze",
        commands: &[
            &["sweep", "sweep.toml", "--out", "sw", "--workers", "2"],
            &["analyze", "sw"],
        ],
    },
];

fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn binary() -> PathBuf {
    std::env::var_os("LYAP_GOLDEN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_lyap")))
}

/// Runs a case's commands in `dir`.
fn run_case(case: &Case, dir: &Path) {
    std::fs::write(dir.join("sweep.toml"), SWEEP_SPEC).unwrap();
    for command in case.commands {
        let (keep, args) = match command[0].strip_prefix("@stdout:") {
            Some(name) => (Some(name), &command[1..]),
            None => (None, &command[..]),
        };
        let out = Command::new(binary())
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the lyap binary runs");
        assert!(
            out.status.success(),
            "{}: lyap {args:?} failed: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(name) = keep {
            let text: String = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.starts_with("time "))
                .map(|l| format!("{l}\n"))
                .collect();
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    std::fs::remove_file(dir.join("sweep.toml")).unwrap();
}

/// Files compared: everything but images, the HTML report, logs and locks.
fn compared_files(root: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let skipped = [".svg", ".png", ".html", ".log", ".lock"]
                .iter()
                .any(|ext| name.ends_with(ext))
                || name.starts_with('.');
            if !skipped {
                out.insert(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

fn is_timing_key(key: &str) -> bool {
    key == "seconds" || key.contains("_seconds") || key == "le_fraction_to_best"
}

fn strip_timing(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !is_timing_key(k));
            map.values_mut().for_each(strip_timing);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_timing),
        _ => {}
    }
}

/// Whether numbers must match exactly (see the module doc).
fn exact() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn numbers_equal(a: f64, b: f64) -> bool {
    a == b || (!exact() && (a - b).abs() <= 1e-6 * a.abs().max(b.abs()))
}

/// Keys added to the JSON outputs after the recording (new results, not changed ones): present
/// only in the new output they pass; every key of the recording must still match.
const ADDED_KEYS: &[&str] = &[
    "checks",
    "block_sem",
    "until_converged",
    "max_steps",
    "converged",
];

/// JSON values equal, numbers by [`numbers_equal`]; the first difference as an error.
fn json_equal(a: &Value, b: &Value, at: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if numbers_equal(x, y) {
                Ok(())
            } else {
                Err(format!("{at}: {x} != {y}"))
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .try_for_each(|(i, (p, q))| json_equal(p, q, &format!("{at}[{i}]"))),
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter()
                .try_for_each(|k| match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => json_equal(p, q, &format!("{at}.{k}")),
                    (None, Some(_)) if ADDED_KEYS.contains(&k.as_str()) => Ok(()),
                    _ => Err(format!("{at}.{k}: present on one side only")),
                })
        }
        _ if a == b => Ok(()),
        _ => Err(format!("{at}: {a} != {b}")),
    }
}

fn parse_json(text: &str) -> Value {
    let mut value: Value = serde_json::from_str(text).expect("valid JSON");
    strip_timing(&mut value);
    value
}

/// CSV with the columns whose header names a timing dropped; numbers by [`numbers_equal`].
fn csv_equal(a: &str, b: &str) -> Result<(), String> {
    let rows = |text: &str| -> Vec<Vec<String>> {
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
        let keep: Vec<bool> = header.iter().map(|h| !is_timing_key(h)).collect();
        std::iter::once(header.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .chain(lines.map(|l| l.split(',').map(str::to_string).collect()))
            .map(|row: Vec<String>| {
                row.into_iter()
                    .zip(keep.iter().chain(std::iter::repeat(&true)))
                    .filter(|(_, k)| **k)
                    .map(|(v, _)| v)
                    .collect()
            })
            .collect()
    };
    let (x, y) = (rows(a), rows(b));
    if x.len() != y.len() {
        return Err(format!("{} rows != {} rows", x.len(), y.len()));
    }
    for (r, (p, q)) in x.iter().zip(&y).enumerate() {
        let same = p.len() == q.len()
            && p.iter().zip(q).all(|(u, v)| {
                u == v
                    || matches!((u.parse::<f64>(), v.parse::<f64>()),
                        (Ok(s), Ok(t)) if numbers_equal(s, t))
            });
        if !same {
            return Err(format!("row {r}: {p:?} != {q:?}"));
        }
    }
    Ok(())
}

fn safetensors_equal(a: &[u8], b: &[u8]) -> Result<(), String> {
    use safetensors::SafeTensors;
    let (_, meta_a) = SafeTensors::read_metadata(a).map_err(|e| e.to_string())?;
    let (_, meta_b) = SafeTensors::read_metadata(b).map_err(|e| e.to_string())?;
    if meta_a.metadata() != meta_b.metadata() {
        return Err(format!(
            "metadata {:?} != {:?}",
            meta_a.metadata(),
            meta_b.metadata()
        ));
    }
    let (x, y) = (
        SafeTensors::deserialize(a).map_err(|e| e.to_string())?,
        SafeTensors::deserialize(b).map_err(|e| e.to_string())?,
    );
    let names = |t: &SafeTensors| -> BTreeSet<String> {
        t.names().into_iter().map(str::to_string).collect()
    };
    if names(&x) != names(&y) {
        return Err(format!("tensors {:?} != {:?}", names(&x), names(&y)));
    }
    for name in names(&x) {
        let (p, q) = (x.tensor(&name).unwrap(), y.tensor(&name).unwrap());
        if p.dtype() != q.dtype() || p.shape() != q.shape() {
            return Err(format!("{name}: dtype or shape differs"));
        }
        if p.data() != q.data() && exact() {
            return Err(format!("{name}: values differ"));
        }
    }
    Ok(())
}

fn file_equal(path: &Path, expected: &[u8], actual: &[u8]) -> Result<(), String> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let name = path.to_string_lossy();
    if name.ends_with(".json") {
        json_equal(&parse_json(&text(expected)), &parse_json(&text(actual)), "")
    } else if name.ends_with(".jsonl") {
        let (x, y) = (text(expected), text(actual));
        let (x, y): (Vec<&str>, Vec<&str>) = (x.lines().collect(), y.lines().collect());
        if x.len() != y.len() {
            return Err(format!("{} lines != {} lines", x.len(), y.len()));
        }
        x.iter().zip(&y).enumerate().try_for_each(|(i, (p, q))| {
            json_equal(&parse_json(p), &parse_json(q), &format!("line {}", i + 1))
        })
    } else if name.ends_with(".csv") {
        csv_equal(&text(expected), &text(actual))
    } else if name.ends_with(".safetensors") {
        safetensors_equal(expected, actual)
    } else if expected == actual {
        Ok(())
    } else if name.ends_with(".txt") {
        csv_equal(
            &text(expected).replace(' ', ","),
            &text(actual).replace(' ', ","),
        )
    } else {
        Err("bytes differ".into())
    }
}

fn copy_compared(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).unwrap();
    }
    for file in compared_files(from) {
        let target = to.join(&file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&file), target).unwrap();
    }
}

#[test]
fn outputs_equal_the_recorded_ones() {
    if !exact() {
        eprintln!("no AVX-512 here: numbers compared to a relative 1e-6, not exactly");
    }
    let bless = std::env::var("LYAP_GOLDEN_BLESS").as_deref() == Ok("1");
    let mut failures = Vec::new();
    for case in CASES {
        let work = tempfile::tempdir().unwrap();
        run_case(case, work.path());
        let recorded = golden_root().join(case.name);
        if bless {
            copy_compared(work.path(), &recorded);
            continue;
        }
        let (expected, actual) = (compared_files(&recorded), compared_files(work.path()));
        for missing in expected.symmetric_difference(&actual) {
            let side = if expected.contains(missing) {
                "recorded but not written"
            } else {
                "written but not recorded"
            };
            failures.push(format!("{}/{}: {side}", case.name, missing.display()));
        }
        for file in expected.intersection(&actual) {
            let (e, a) = (
                std::fs::read(recorded.join(file)).unwrap(),
                std::fs::read(work.path().join(file)).unwrap(),
            );
            if let Err(why) = file_equal(file, &e, &a) {
                failures.push(format!("{}/{}: {why}", case.name, file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "outputs differ from tests/golden:\n{}",
        failures.join("\n")
    );
}

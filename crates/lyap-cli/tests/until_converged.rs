//! `lyap spectrum --until-converged TOL [--max-steps N]` and `--plot-block-sem`
//! (docs/DESIGN.md section 2, "Error bars over time and stopping when converged"; section 6).

mod common;
use common::*;

const LSTM: &[&str] = &[
    "spectrum",
    "--random",
    "lstm",
    "--hidden",
    "6",
    "--input-size",
    "3",
    "--bias",
    "--batch",
    "3",
    "--warmup",
    "20",
    "--steps",
    "50",
];

fn with(extra: &[&str]) -> Vec<String> {
    LSTM.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn run(args: &[String]) -> std::process::Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    lyap(&refs)
}

#[test]
fn generated_inputs_are_extended_until_converged() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.json");
    let args = with(&["--until-converged", "0.02", "--out", path_str(&out)]);
    let output = run(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = read_json(&out);
    let steps = json["config"]["steps"].as_u64().unwrap();
    assert!(steps > 50, "{steps}");
    assert_eq!(json["config"]["until_converged"], 0.02);
    assert_eq!(json["config"]["max_steps"], 100_000);
    assert_eq!(json["config"]["converged"], true);
    let block_sem = numbers(&json["exponents"]["block_sem"]);
    assert_eq!(block_sem.len(), 12);
    assert!(block_sem.iter().all(|s| *s < 0.02), "{block_sem:?}");
    assert!(
        stdout.contains(&format!(
            "converged yes: every block_sem below 0.02 after {steps} steps"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("generated tokens (one stream per sequence)"));
    // the same seed gives the same run
    let again = dir.path().join("b.json");
    let args = with(&["--until-converged", "0.02", "--out", path_str(&again)]);
    assert!(run(&args).status.success());
    assert_eq!(read_json(&again)["per_sequence"], json["per_sequence"]);
}

#[test]
fn given_inputs_stop_where_they_end_and_the_limit_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("x.npy");
    write_npy_f64(&inputs, &[2, 90, 3], &pseudo_random(2 * 90 * 3, 4));
    let out = dir.path().join("a.json");
    let args = with(&[
        "--inputs",
        path_str(&inputs),
        "--until-converged",
        "1e-9",
        "--out",
        path_str(&out),
    ]);
    // without --batch 3: all (two) sequences of the file
    let args: Vec<String> = [&args[..8], &args[10..]].concat();
    let output = run(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = read_json(&out);
    assert_eq!(json["config"]["steps"], 70);
    assert_eq!(json["config"]["converged"], false);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("input sequences ended after 70"),
        "{stdout}"
    );
    assert!(stdout.contains("converged no"), "{stdout}");
    let capped = with(&[
        "--zero-input",
        "--until-converged",
        "1e-9",
        "--max-steps",
        "80",
    ]);
    let capped: Vec<String> = capped.into_iter().filter(|a| a != "--bias").collect();
    let output = run(&capped);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("80 steps after a warm-up"), "{stdout}");
}

#[test]
fn bad_tolerances_and_orphan_flags_are_one_line_errors() {
    for bad in ["0", "-0.1", "nan", "inf"] {
        let output = run(&with(&[&format!("--until-converged={bad}")]));
        assert_eq!(output.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--until-converged"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    let output = run(&with(&["--until-converged", "0.1", "--max-steps", "0"]));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(run(&with(&["--max-steps", "10"])).status.code(), Some(2));
    assert_eq!(run(&with(&["--plot-block-sem"])).status.code(), Some(2));
}

#[test]
fn the_plot_draws_block_sem_bars_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.svg");
    let bars = dir.path().join("bars.svg");
    assert!(run(&with(&["--plot", path_str(&plain)])).status.success());
    assert!(run(&with(&["--plot", path_str(&bars), "--plot-block-sem"]))
        .status
        .success());
    let plain = std::fs::read_to_string(plain).unwrap();
    let bars = std::fs::read_to_string(bars).unwrap();
    assert!(!plain.contains("block_sem"));
    assert!(bars.contains("block_sem (over time)"));
}

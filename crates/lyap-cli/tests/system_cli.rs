//! `lyap spectrum --system NAME` (docs/DESIGN.md sections 2.1 and 6): the built-in systems
//! from the command line, their JSON, trace and plot, and the mistakes refused with one line.

mod common;
use common::*;
use lyap_core::systems::SYSTEM_NAMES;

/// Exit code 2, one stderr line, mentions every `culprit`, no panic.
fn assert_bad(args: &[&str], culprits: &[&str]) {
    let output = lyap(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for culprit in culprits {
        assert!(stderr.contains(culprit), "{culprit:?} not in {stderr:?}");
    }
}

#[test]
fn lorenz63_prints_and_writes_its_exponents_per_time_unit() {
    let dir = tempfile::tempdir().unwrap();
    let (json, trace, plot) = (
        dir.path().join("lorenz.json"),
        dir.path().join("trace.csv"),
        dir.path().join("lorenz.svg"),
    );
    // 4 points x 200 time units (the acceptance run is 10 x 1000, EXPERIMENTS.md)
    let stdout = lyap_ok(&[
        "spectrum",
        "--system",
        "lorenz63",
        "--dt",
        "0.01",
        "--batch",
        "4",
        "--warmup",
        "500",
        "--steps",
        "20000",
        "--qr-every",
        "2",
        "--out",
        path_str(&json),
        "--trace",
        path_str(&trace),
        "--plot",
        path_str(&plot),
    ]);
    assert!(
        stdout.starts_with("system    lorenz63 (dimension 3), dt 0.01, k = 3\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("start     4 points on the attractor (seed 0): 20000 steps"),
        "{stdout}"
    );
    assert!(stdout.contains("exponents (nats/time unit"), "{stdout}");
    assert!(stdout.contains("Kaplan-Yorke dimension 2.06"), "{stdout}");

    let report = read_json(&json);
    assert_eq!(report["model"]["system"], "lorenz63");
    assert_eq!(report["model"]["state_dim"], 3);
    assert_eq!(report["config"]["dt"], 0.01);
    assert_eq!(report["config"]["batch"], 4);
    assert_eq!(report["config"]["steps"], 20000);
    let lambda = numbers(&report["exponents"]["mean"]);
    // Published 0.9056, 0, -14.5723 (Sprott 2003). Over 200 time units one trajectory's
    // exponents spread by 0.010, 0.0034 and 0.011 (std over 10 points, seed 0), so the mean of
    // 4 has a standard error of 0.005, 0.0017 and 0.0053: the tolerances are 4 of them plus
    // the bias of a finite run (the 10-point mean is 0.0018 off on lambda_1 and lambda_3;
    // this run gives 0.9035, -0.0011, -14.5689). The sum is exact to the integrator's
    // accuracy: trace Df = -(sigma + 1 + beta).
    assert!((lambda[0] - 0.9056).abs() < 0.025, "{lambda:?}");
    assert!(lambda[1].abs() < 0.007, "{lambda:?}");
    assert!((lambda[2] + 14.5723).abs() < 0.025, "{lambda:?}");
    let sum: f64 = lambda.iter().sum();
    assert!((sum + 41.0 / 3.0).abs() < 2e-4, "sum {sum}");
    let dimension = report["summary"]["kaplan_yorke_dimension"]
        .as_f64()
        .unwrap();
    // D = 2 + (lambda_1 + lambda_2) / |lambda_3| spreads by 0.0007 per point (0.00034 for 4;
    // this run: 2.0619)
    assert!((dimension - 2.062).abs() < 0.002, "{dimension}");
    assert!(
        report["checks"]["sum_rule"]["difference"]
            .as_f64()
            .unwrap()
            .abs()
            < 1e-9
    );

    let trace = std::fs::read_to_string(&trace).unwrap();
    assert!(trace.starts_with("sequence,step,exponent_1,exponent_2,exponent_3\n"));
    assert_eq!(trace.lines().count(), 1 + 4 * 10_000);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("lorenz63 (dimension 3), dt 0.01"));
    assert!(svg.contains("nats/time unit"));
}

#[test]
fn henon_is_per_step_without_dt() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("henon.json");
    let stdout = lyap_ok(&[
        "spectrum",
        "--system",
        "henon",
        "--batch",
        "2",
        "--seed",
        "3",
        "--out",
        path_str(&json),
    ]);
    assert!(stdout.starts_with("system    henon (dimension 2), a map, k = 2\n"));
    assert!(stdout.contains("exponents (nats/step"), "{stdout}");
    let report = read_json(&json);
    assert_eq!(report["model"]["system"], "henon");
    assert!(report["config"].get("dt").is_none(), "{}", report["config"]);
    assert_eq!(report["config"]["steps"], 100_000, "the default --steps");
    // the sum rule holds to the rounding of 100,000 steps' sums: no warning
    assert_eq!(report["warnings"], serde_json::json!([]));
    let lambda = numbers(&report["exponents"]["mean"]);
    // 0.41922, -1.62319 (Henon 1976; the sum is ln 0.3 exactly); 2 x 100,000 steps are within
    // the 3e-3 the engine's own test allows for 3 x 200,000 steps (the std over points is
    // 0.0012 at 100,000 steps)
    assert!((lambda[0] - 0.41922).abs() < 3e-3, "{lambda:?}");
    assert!((lambda[1] + 1.62319).abs() < 3e-3, "{lambda:?}");
    assert!((lambda[0] + lambda[1] - 0.3f64.ln()).abs() < 1e-9);
}

#[test]
fn system_mistakes_are_one_line_and_exit_2() {
    let names = SYSTEM_NAMES.join(", ");
    assert_bad(
        &["spectrum", "--system", "lorenz96"],
        &["lorenz96", names.as_str()],
    );
    assert_bad(
        &["spectrum", "--system", "lorenz63", "--dt", "0"],
        &["--dt 0"],
    );
    assert_bad(
        &["spectrum", "--system", "lorenz63", "--dt", "-0.01"],
        &["--dt -0.01"],
    );
    assert_bad(
        &["spectrum", "--system", "henon", "--dt", "0.01"],
        &["--dt 0.01", "henon is a map"],
    );
    assert_bad(
        &[
            "spectrum", "--system", "lorenz63", "--dt", "1", "--steps", "10",
        ],
        &["lorenz63 with --dt 1", "initial point 0"],
    );
    assert_bad(
        &[
            "spectrum",
            "--system",
            "lorenz63",
            "--model",
            "m.safetensors",
        ],
        &["--system", "--model"],
    );
    assert_bad(
        &[
            "spectrum",
            "--system",
            "lorenz63",
            "--zero-input",
            "--steps",
            "5",
        ],
        &["--system", "--zero-input"],
    );
    assert_bad(
        &["spectrum", "--system", "lorenz63", "--state", "hidden"],
        &["--system", "--state"],
    );
    assert_bad(
        &["spectrum", "--system", "lorenz63", "--paper-compat"],
        &["--paper-compat", "--system"],
    );
    assert_bad(
        &["spectrum", "--system", "rossler", "--batch", "0"],
        &["--batch"],
    );
    assert_bad(
        &["spectrum", "--system", "rossler", "--steps", "0"],
        &["--steps"],
    );
    assert_bad(
        &[
            "spectrum", "--system", "rossler", "--k", "4", "--steps", "10",
        ],
        &["--k 4"],
    );
    // neither a network nor a system
    assert_bad(&["spectrum", "--steps", "10"], &["--model"]);
}

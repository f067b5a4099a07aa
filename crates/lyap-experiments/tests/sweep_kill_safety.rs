//! Sweep scheduling with a fake trainer (tests/fake_trainer.sh): kill-and-restart safety,
//! exact-once completion, concurrent sweeps on one directory, shards, failed trials, and
//! that the analysis of an interrupted sweep equals that of an uninterrupted one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use lyap_experiments::analysis::AnalysisOptions;
use lyap_experiments::report::analyze_sweep;
use lyap_experiments::spec::SweepSpec;
use lyap_experiments::stats::Bootstrap;
use lyap_experiments::sweep::{run_sweep, Shard, SweepOptions, SweepSummary};
use rand::{Rng, SeedableRng};

const EPOCHS: usize = 3;
const SPEC: &str = r#"
trials = 8
seed = 5

[train]
task = "synthetic-text"
epochs = 3
hidden = 4

[sample.lr]
dist = "loguniform"
low = 1e-3
high = 1.0
"#;

/// Environment variable that turns `sweep_child_process` into a sweep run:
/// `SPEC_PATH|OUT_DIR|LEDGER|WORKERS`.
const CHILD_ENV: &str = "LYAP_TEST_SWEEP_CHILD";

fn fake_trainer() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake_trainer.sh")
}

/// The fake trainer run through `env` so that its ledger is per test (tests share the
/// process environment).
fn options(out: &Path, ledger: &Path, workers: usize, shard: Option<Shard>) -> SweepOptions {
    SweepOptions {
        trainer: vec![
            "env".into(),
            format!("FAKE_LEDGER={}", ledger.display()).into(),
            format!("FAKE_EPOCH_SECONDS={}", epoch_seconds()).into(),
            fake_trainer().into(),
            "train".into(),
        ],
        out_dir: out.to_path_buf(),
        workers,
        shard,
        cores: Some(2),
    }
}

/// Runs a sweep in this process with the fake trainer's ledger at `ledger`.
fn sweep_in_process(out: &Path, ledger: &Path, shard: Option<Shard>) -> SweepSummary {
    std::fs::create_dir_all(ledger).unwrap();
    let spec = SweepSpec::parse(SPEC).unwrap();
    run_sweep(&spec, &options(out, ledger, 2, shard), &|_| {}).unwrap()
}

/// When started by `kill_and_restart...` (environment set), runs a sweep; otherwise does
/// nothing.
#[test]
fn sweep_child_process() {
    let Ok(config) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = config.split('|').collect();
    let spec = SweepSpec::from_file(Path::new(parts[0])).unwrap();
    let workers = parts[3].parse().unwrap();
    let (out, ledger) = (Path::new(parts[1]), Path::new(parts[2]));
    run_sweep(&spec, &options(out, ledger, workers, None), &|_| {}).unwrap();
}

fn spawn_child_sweep(spec_path: &Path, out: &Path, ledger: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sweep_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!(
                "{}|{}|{}|2",
                spec_path.display(),
                out.display(),
                ledger.display()
            ),
        )
        .env("FAKE_EPOCH_SECONDS", "0.1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Seconds per fake epoch: slower in the child sweeps that get killed, so kills land in
/// the middle of trials.
fn epoch_seconds() -> String {
    std::env::var("FAKE_EPOCH_SECONDS").unwrap_or_else(|_| "0.02".into())
}

fn violations(ledger: &Path) -> String {
    std::fs::read_to_string(ledger.join("violations")).unwrap_or_default()
}

/// Every trial complete; each completed trial committed epochs 1..=EPOCHS exactly once (the
/// ledger's exclusive mkdir records any repeat as a violation).
fn assert_each_trial_once(out: &Path, ledger: &Path) {
    assert_eq!(violations(ledger), "", "trials ran more than once");
    let spec = SweepSpec::parse(SPEC).unwrap();
    for trial in spec.trials() {
        let status =
            std::fs::read_to_string(out.join("trials").join(&trial.name).join("status.json"))
                .unwrap_or_else(|_| panic!("{} has no status", trial.name));
        let epochs = std::fs::read_dir(ledger.join(&trial.name)).unwrap().count();
        let lr = trial.params["lr"].as_f64().unwrap();
        if lr > 0.5 {
            assert!(
                status.contains("failed") && status.contains("diverged"),
                "{status}"
            );
            assert_eq!(epochs, 1);
        } else {
            assert!(status.contains("completed"), "{}: {status}", trial.name);
            assert_eq!(epochs, EPOCHS, "{}", trial.name);
        }
    }
    // no lock left behind
    assert_eq!(std::fs::read_dir(out.join("locks")).unwrap().count(), 0);
}

fn fast_options() -> AnalysisOptions {
    AnalysisOptions {
        bootstrap: Bootstrap {
            resamples: 100,
            ..Bootstrap::default()
        },
        ..AnalysisOptions::default()
    }
}

/// The analysis CSV tables of a sweep directory, by file name.
fn analysis_tables(out: &Path, formats: &[&str]) -> Vec<(String, String)> {
    let output = analyze_sweep(out, &fast_options(), formats).unwrap();
    output
        .tables
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn spec_has_a_failing_trial() {
    let spec = SweepSpec::parse(SPEC).unwrap();
    let failing = spec
        .trials()
        .iter()
        .filter(|t| t.params["lr"].as_f64().unwrap() > 0.5)
        .count();
    assert!((1..4).contains(&failing), "{failing} failing trials");
}

#[test]
fn kill_and_restart_completes_every_trial_once_and_matches_uninterrupted_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.toml");
    std::fs::write(&spec_path, SPEC).unwrap();
    let (out, ledger) = (dir.path().join("killed"), dir.path().join("ledger_killed"));
    std::fs::create_dir_all(&ledger).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    for _ in 0..5 {
        let mut child = spawn_child_sweep(&spec_path, &out, &ledger);
        std::thread::sleep(Duration::from_millis(rng.random_range(50..900)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let mut child = spawn_child_sweep(&spec_path, &out, &ledger);
    assert!(child.wait().unwrap().success());
    assert_each_trial_once(&out, &ledger);
    // A further restart finds nothing to do.
    let again = sweep_in_process(&out, &ledger, None);
    assert_eq!(again.completed + again.failed, 0);
    assert_eq!(again.already_complete, 8);

    let (clean, clean_ledger) = (dir.path().join("clean"), dir.path().join("ledger_clean"));
    let summary = sweep_in_process(&clean, &clean_ledger, None);
    assert_eq!(summary.completed + summary.failed, 8);
    assert_each_trial_once(&clean, &clean_ledger);
    assert_eq!(
        analysis_tables(&out, &[]),
        analysis_tables(&clean, &["svg"])
    );
}

#[test]
fn shards_together_equal_the_unsharded_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let (sharded, ledger) = (dir.path().join("sharded"), dir.path().join("ledger_a"));
    let first = sweep_in_process(&sharded, &ledger, Some("1/2".parse().unwrap()));
    assert_eq!(first.completed + first.failed, 4);
    let second = sweep_in_process(&sharded, &ledger, Some("2/2".parse().unwrap()));
    assert_eq!(second.completed + second.failed, 4);
    assert_eq!(second.already_complete, 0, "shards are disjoint");
    assert_each_trial_once(&sharded, &ledger);

    let (whole, whole_ledger) = (dir.path().join("whole"), dir.path().join("ledger_b"));
    sweep_in_process(&whole, &whole_ledger, None);
    let tables = analysis_tables(&sharded, &[]);
    assert_eq!(tables, analysis_tables(&whole, &[]));
    let failed = &tables.iter().find(|(n, _)| n == "failed.csv").unwrap().1;
    assert!(failed.contains("diverged"), "{failed}");
}

#[test]
fn concurrent_sweeps_on_one_directory_never_share_a_trial() {
    let dir = tempfile::tempdir().unwrap();
    let (out, ledger) = (dir.path().join("shared"), dir.path().join("ledger"));
    let summaries: Vec<SweepSummary> = std::thread::scope(|s| {
        let a = s.spawn(|| sweep_in_process(&out, &ledger, None));
        let b = s.spawn(|| sweep_in_process(&out, &ledger, None));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    let ran: usize = summaries.iter().map(|s| s.completed + s.failed).sum();
    assert_eq!(ran, 8, "{summaries:?}");
    assert_each_trial_once(&out, &ledger);
}

#[test]
fn a_different_spec_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    sweep_in_process(
        &out,
        &dir.path().join("ledger"),
        Some("1/8".parse().unwrap()),
    );
    let other = SweepSpec::parse(&SPEC.replace("seed = 5", "seed = 6")).unwrap();
    let err = run_sweep(&other, &options(&out, dir.path(), 1, None), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("different sweep"), "{err}");
}

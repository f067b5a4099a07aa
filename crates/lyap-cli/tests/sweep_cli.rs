//! End-to-end: `lyap sweep` of a small built-in-task sweep (8 trials x 3 epochs, tiny LSTM),
//! `lyap analyze` and `lyap report` through the real binary.

use std::path::Path;
use std::process::Command;

const SPEC: &str = r#"
trials = 8
seed = 3

[train]
task = "synthetic-text"
hidden = 8
epochs = 3
batch-size = 16
seq-len = 20
le-batch = 2
le-steps = 20

[sample.lr]
dist = "loguniform"
low = 1e-3
high = 5e-2

[sample.init-scale]
dist = "uniform"
low = 0.05
high = 0.5
"#;

fn lyap(args: &[&str], cwd: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_lyap"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run lyap");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "lyap {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn small_builtin_sweep_then_analyze_and_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.toml"), SPEC).unwrap();
    lyap(
        &["sweep", "spec.toml", "--out", "sweep", "--workers", "2"],
        dir.path(),
    );
    let sweep = dir.path().join("sweep");
    for i in 0..8 {
        let status =
            std::fs::read_to_string(sweep.join(format!("trials/trial_{i:04}/status.json")))
                .unwrap();
        assert!(
            status.contains("completed") || status.contains("failed"),
            "{status}"
        );
    }
    // a second run has nothing left to do
    let again = lyap(&["sweep", "spec.toml", "--out", "sweep"], dir.path());
    assert!(again.contains("0 completed"), "{again}");
    let analysis = lyap(&["analyze", "sweep"], dir.path());
    assert!(analysis.contains("report:"), "{analysis}");
    for file in [
        "correlations.csv",
        "early_readout.csv",
        "convergence.csv",
        "trials.csv",
        "failed.csv",
        "report.html",
        "fig4_spectra_by_final_loss.svg",
        "fig3_convergence_msd.png",
    ] {
        assert!(sweep.join("analysis").join(file).exists(), "{file}");
    }
    let readout = std::fs::read_to_string(sweep.join("analysis/early_readout.csv")).unwrap();
    assert!(
        readout.contains(",ridge,") && readout.contains(",val_loss,"),
        "{readout}"
    );
    lyap(&["report", "sweep/trials/trial_0000"], dir.path());
    assert!(sweep
        .join("trials/trial_0000/report/spectrum_per_epoch.svg")
        .exists());
    // Slurm script
    lyap(
        &[
            "sweep",
            "spec.toml",
            "--out",
            "sweep",
            "--emit",
            "slurm",
            "--shards",
            "3",
        ],
        dir.path(),
    );
    let script = std::fs::read_to_string(sweep.join("sweep.slurm")).unwrap();
    assert!(script.contains("#SBATCH --array=1-3"), "{script}");
}

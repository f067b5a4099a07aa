//! `lyap demo`: the paper's experiment in miniature on built-in data (docs/DESIGN.md section
//! 5, "The demo"): a sweep of [`DEMO_SPEC`] (12 LSTMs on the `synthetic-text` bracket grammar,
//! a grid of learning rates and initial weight scales, a spectrum with running estimates
//! every epoch), then `lyap analyze`'s analysis, a verdict in words and `report.html`.
//!
//! Output: `--out DIR` (default `lyap-demo`), built in a hidden sibling `.NAME.tmp-PID` and
//! renamed into place at the end, so a second run replaces the first cleanly. An existing
//! `DIR` is replaced only when it is recognisably a demo output (it holds [`MARKER`]) or
//! empty; any other directory or file is refused (exit code 2) and never touched.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lyap_experiments::analysis::AnalysisOptions;
use lyap_experiments::report::{analyze_sweep, DEFAULT_FORMATS};
use lyap_experiments::spec::SweepSpec;
use lyap_experiments::sweep::{run_sweep, SweepEvent, SweepOptions};
use lyap_experiments::verdict::verdict;
use std::io::IsTerminal;

use crate::error::{CliError, CliResult};

/// The demo's sweep: 12 trials, learning rate (3 values) x initial weight scale (4 values),
/// an LSTM of 32 units on the built-in bracket grammar, all 64 exponents of the full state on
/// 4 sequences x 100 steps (after 20 warm-up steps) every epoch, with running estimates.
pub const DEMO_SPEC: &str = r#"# The sweep of `lyap demo` (rerun it with: lyap sweep demo.toml --out DIR)
trials = 1
seed = 0

[train]
task = "synthetic-text"
arch = "lstm"
hidden = 32
epochs = 10
batch-size = 32
seq-len = 50
max-chars = 200000
le-batch = 4
le-steps = 100
le-warmup = 20
le-trace = true

[sample.lr]
dist = "grid"
values = [0.0005, 0.002, 0.008]

[sample.init-scale]
dist = "grid"
values = [0.05, 0.3, 1.0, 2.0]
"#;

/// The file that marks a directory as the output of `lyap demo`.
pub const MARKER: &str = "lyap-demo.json";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output directory; a previous demo output there is replaced, anything else is refused
    #[arg(long, value_name = "DIR", default_value = "lyap-demo")]
    pub out: PathBuf,
    /// Trials trained at the same time (the machine's cores are shared among them)
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub workers: usize,
}

/// What is at the output path before the demo runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    Nothing,
    EmptyDir,
    /// A directory holding [`MARKER`].
    Demo,
}

/// Classifies `out`; anything that is neither absent, an empty directory nor a demo output
/// is an error naming it.
pub fn existing_output(out: &Path) -> CliResult<Existing> {
    let Ok(meta) = std::fs::symlink_metadata(out) else {
        return Ok(Existing::Nothing);
    };
    let refuse = |what: &str| {
        Err(CliError::bad(format!(
            "--out {}: {what}; lyap demo replaces only its own output (a directory with {MARKER}): \
             remove it or choose another --out",
            out.display()
        )))
    };
    if !meta.is_dir() {
        return refuse("exists and is not a directory");
    }
    if out.join(MARKER).is_file() {
        return Ok(Existing::Demo);
    }
    let mut entries = std::fs::read_dir(out).map_err(|e| CliError::input_at(out.display(), e))?;
    if entries.next().is_none() {
        return Ok(Existing::EmptyDir);
    }
    refuse("is a directory that is not a lyap demo output")
}

/// The hidden sibling `.NAME.KIND-PID` of `out`.
fn sibling(out: &Path, kind: &str) -> CliResult<PathBuf> {
    let name = out
        .file_name()
        .ok_or_else(|| CliError::bad(format!("--out {}: needs a directory name", out.display())))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut hidden = OsString::from(".");
    hidden.push(name);
    hidden.push(format!(".{kind}-{}", std::process::id()));
    Ok(parent.join(hidden))
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |e| CliError::input_at(path.display(), e)
}

/// Moves the finished output `built` to `out`, replacing what [`existing_output`] found there
/// (a previous demo output is renamed aside first and deleted after the swap).
pub fn install_output(built: &Path, out: &Path, existing: Existing) -> CliResult<()> {
    match existing {
        Existing::Nothing => {}
        Existing::EmptyDir => std::fs::remove_dir(out).map_err(io_error(out))?,
        Existing::Demo => {
            let old = sibling(out, "old")?;
            std::fs::rename(out, &old).map_err(io_error(out))?;
            std::fs::rename(built, out).map_err(io_error(built))?;
            return std::fs::remove_dir_all(&old).map_err(io_error(&old));
        }
    }
    std::fs::rename(built, out).map_err(io_error(built))
}

/// Runs `lyap demo`.
pub fn run(args: &DemoArgs) -> CliResult<()> {
    if args.workers == 0 {
        return Err(CliError::bad("--workers must be at least 1"));
    }
    let existing = existing_output(&args.out)?;
    let spec = SweepSpec::parse(DEMO_SPEC)?;
    let build = sibling(&args.out, "tmp")?;
    if build.exists() {
        return Err(CliError::bad(format!(
            "{} exists (left by another lyap demo?): remove it",
            build.display()
        )));
    }
    println!(
        "lyap demo: {} LSTMs (32 units) on the built-in bracket grammar, learning rate x initial \
         weight scale, 10 epochs, all 64 exponents every epoch; then: do early spectra predict \
         the final loss better than the early validation loss?",
        spec.trial_count()
    );
    let result = build_output(&spec, &build, args.workers);
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&build);
            return Err(e);
        }
    };
    install_output(&build, &args.out, existing)?;
    print!("{summary}");
    println!(
        "report: {}",
        args.out.join("analysis").join("report.html").display()
    );
    Ok(())
}

/// Runs the sweep and the analysis into `dir`; returns the verdict's text.
fn build_output(spec: &SweepSpec, dir: &Path, workers: usize) -> CliResult<String> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let marker = format!(
        "{{\"lyap_demo\": \"{}\", \"spec\": \"demo.toml\"}}\n",
        env!("CARGO_PKG_VERSION")
    );
    lyap_experiments::write_atomic(&dir.join(MARKER), marker.as_bytes())?;
    lyap_experiments::write_atomic(&dir.join("demo.toml"), DEMO_SPEC.as_bytes())?;
    let exe = std::env::current_exe().map_err(CliError::internal)?;
    let options = SweepOptions {
        trainer: vec![exe.into_os_string(), "train".into()],
        out_dir: dir.to_path_buf(),
        workers,
        shard: None,
        cores: None,
    };
    let bar = sweep_bar(spec.trial_count() as u64);
    let observer = |event: &SweepEvent| match event {
        SweepEvent::Completed { .. } => bar.inc(1),
        SweepEvent::Failed { trial, reason } => {
            bar.inc(1);
            bar.println(format!("trial {trial} failed: {reason}"));
        }
        _ => {}
    };
    let outcome = run_sweep(spec, &options, &observer);
    bar.finish_and_clear();
    let summary = outcome?;
    if summary.completed < 3 {
        return Err(CliError::internal(format!(
            "only {} trials completed (see {}/logs)",
            summary.completed,
            dir.display()
        )));
    }
    let output = analyze_sweep(dir, &AnalysisOptions::default(), DEFAULT_FORMATS)?;
    Ok(verdict(&output.analysis).to_string())
}

/// One bar over the trials, drawn only when stdout is a terminal.
fn sweep_bar(trials: u64) -> ProgressBar {
    let bar = ProgressBar::new(trials);
    if std::io::stdout().is_terminal() {
        let style = ProgressStyle::with_template(
            "trials [{bar:30}] {pos}/{len} elapsed {elapsed} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(std::time::Duration::from_millis(500));
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_spec_parses_to_a_grid_of_at_least_eight_trials() {
        let spec = SweepSpec::parse(DEMO_SPEC).unwrap();
        assert_eq!(spec.trial_count(), 12);
        let lrs: std::collections::BTreeSet<String> = spec
            .trials()
            .iter()
            .map(|t| t.params["lr"].to_string())
            .collect();
        assert_eq!(lrs.len(), 3);
    }

    #[test]
    fn classifies_and_refuses_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo");
        assert_eq!(existing_output(&out).unwrap(), Existing::Nothing);
        std::fs::create_dir(&out).unwrap();
        assert_eq!(existing_output(&out).unwrap(), Existing::EmptyDir);
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let err = existing_output(&out).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("not a lyap demo output"), "{err}");
        std::fs::write(out.join(MARKER), "{}").unwrap();
        assert_eq!(existing_output(&out).unwrap(), Existing::Demo);
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(existing_output(&file).unwrap_err().exit_code(), 2);
        assert!(std::fs::read_to_string(out.join("notes.txt")).unwrap() == "mine");
    }

    #[test]
    fn install_replaces_a_previous_demo_without_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("lyap-demo");
        for (run, stale) in [("first", Some("stale.txt")), ("second", None)] {
            let built = sibling(&out, "tmp").unwrap();
            std::fs::create_dir(&built).unwrap();
            std::fs::write(built.join(MARKER), "{}").unwrap();
            std::fs::write(built.join("run.txt"), run).unwrap();
            if let Some(name) = stale {
                std::fs::write(built.join(name), "old").unwrap();
            }
            let existing = existing_output(&out).unwrap();
            install_output(&built, &out, existing).unwrap();
            assert!(!built.exists());
        }
        assert_eq!(
            std::fs::read_to_string(out.join("run.txt")).unwrap(),
            "second"
        );
        assert!(!out.join("stale.txt").exists());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the output is left: {names:?}");
    }
}

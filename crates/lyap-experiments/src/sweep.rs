//! Running a sweep: every trial of a [`SweepSpec`] as a `lyap train` subprocess.
//!
//! Layout of a sweep directory:
//! ```text
//! DIR/sweep.json                 the resolved spec and the trial table (index, name, params, args)
//! DIR/trials/trial_NNNN/         each trial's `lyap train` run directory
//! DIR/locks/trial_NNNN.lock      held while a process runs the trial (see `lock`)
//! DIR/logs/trial_NNNN.log        the trainer's stdout and stderr (appended)
//! ```
//!
//! **Kill-safety.** A trial is complete iff its `status.json` says `completed` or `failed`.
//! A sweep (re)started on a directory skips complete trials, resumes a started one
//! (`config.json` present) with `--resume`, and starts afresh one that never wrote its
//! `config.json` (its partial directory is removed first). Only the holder of a trial's lock
//! touches its directory, and a trainer dies with the sweep process that started it (Linux
//! `PR_SET_PDEATHSIG`), so a killed sweep never leaves an orphan trainer that a restart
//! would race. All files are written atomically (by the trainer, and here by
//! [`crate::write_atomic`]). A trainer that exits without a final status (bad arguments,
//! crash) has its trial marked `failed` with the exit code and last log line as the reason;
//! one killed by a signal is left to be resumed later.
//!
//! **Cores.** With `W` workers on a machine of `C` cores each trainer gets
//! `RAYON_NUM_THREADS = max(1, C / W)`. `C` is [`SweepOptions::cores`], by default the CPUs
//! Slurm allotted the task (`SLURM_CPUS_PER_TASK`, since a node without CPU binding shows
//! the task all of its cores), otherwise the CPUs this process may run on.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::lock::{try_lock, LockAttempt};
use crate::spec::{SweepSpec, Trial};
use crate::{create_dir, read_json, write_atomic, ExperimentError, Result};

/// `--shard I/N`: the trials with `index % N == I - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn contains(&self, trial_index: usize) -> bool {
        trial_index % self.count == self.index - 1
    }
}

impl std::str::FromStr for Shard {
    type Err = ExperimentError;
    fn from_str(text: &str) -> Result<Self> {
        let bad = || {
            ExperimentError::Sweep(format!(
                "--shard {text}: expected I/N with 1 <= I <= N (e.g. 2/4)"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// The trainer program and its leading arguments, e.g. `[current_exe, "train"]`.
    pub trainer: Vec<OsString>,
    pub out_dir: PathBuf,
    /// Trials run at the same time (at least 1).
    pub workers: usize,
    pub shard: Option<Shard>,
    /// Cores to share among workers (default: the machine's available parallelism).
    pub cores: Option<usize>,
}

/// What happened to one trial in this sweep process.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepEvent {
    Started {
        trial: usize,
        resumed: bool,
    },
    Completed {
        trial: usize,
    },
    Failed {
        trial: usize,
        reason: String,
    },
    /// The trainer was killed by a signal before finishing; a later sweep resumes it.
    Interrupted {
        trial: usize,
    },
    AlreadyComplete {
        trial: usize,
    },
    /// Another live process holds the trial's lock.
    Locked {
        trial: usize,
        holder: String,
    },
}

/// Counts of [`SweepEvent`]s at the end of [`run_sweep`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepSummary {
    pub completed: usize,
    pub failed: usize,
    pub interrupted: usize,
    pub already_complete: usize,
    pub locked_elsewhere: usize,
}

/// The content of `DIR/sweep.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepManifest {
    pub spec: SweepSpec,
    pub trials: Vec<Trial>,
}

/// Paths inside a sweep directory.
#[derive(Clone, Debug)]
pub struct SweepDir {
    pub root: PathBuf,
}

impl SweepDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn manifest(&self) -> PathBuf {
        self.root.join("sweep.json")
    }
    pub fn trials(&self) -> PathBuf {
        self.root.join("trials")
    }
    pub fn trial(&self, name: &str) -> PathBuf {
        self.trials().join(name)
    }
    pub fn lock(&self, name: &str) -> PathBuf {
        self.root.join("locks").join(format!("{name}.lock"))
    }
    pub fn log(&self, name: &str) -> PathBuf {
        self.root.join("logs").join(format!("{name}.log"))
    }
    pub fn analysis(&self) -> PathBuf {
        self.root.join("analysis")
    }

    /// Reads `sweep.json`.
    pub fn read_manifest(&self) -> Result<SweepManifest> {
        let path = self.manifest();
        serde_json::from_value(read_json(&path)?).map_err(|e| ExperimentError::format(&path, e))
    }
}

/// A run directory's final state according to its `status.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Completed,
    Failed(String),
    /// Absent, `running` or `interrupted`.
    Incomplete,
}

/// Reads `RUN_DIR/status.json` (absent or unreadable: incomplete).
pub fn run_status(run_dir: &Path) -> RunStatus {
    let Ok(value) = read_json(&run_dir.join("status.json")) else {
        return RunStatus::Incomplete;
    };
    match value.get("status").and_then(|s| s.as_str()) {
        Some("completed") => RunStatus::Completed,
        Some("failed") => RunStatus::Failed(
            value
                .get("reason")
                .and_then(|r| r.as_str())
                .unwrap_or("no reason given")
                .to_string(),
        ),
        _ => RunStatus::Incomplete,
    }
}

/// Creates the directory layout and writes `sweep.json`, or checks that an existing one
/// describes the same trials (restarts and other shards of one sweep).
pub fn prepare_sweep_dir(spec: &SweepSpec, dir: &SweepDir) -> Result<SweepManifest> {
    for sub in ["trials", "locks", "logs"] {
        create_dir(&dir.root.join(sub))?;
    }
    let manifest = SweepManifest {
        spec: spec.clone(),
        trials: spec.trials(),
    };
    if dir.manifest().exists() {
        let existing = dir.read_manifest()?;
        // Compare the argument lists (exact text); parsed floats may differ in the last bit.
        let arguments = |m: &SweepManifest| -> Vec<(String, Vec<String>)> {
            m.trials
                .iter()
                .map(|t| (t.name.clone(), t.args.clone()))
                .collect()
        };
        if arguments(&existing) != arguments(&manifest) {
            return Err(ExperimentError::Sweep(format!(
                "{} describes a different sweep; use a new --out directory",
                dir.manifest().display()
            )));
        }
        return Ok(existing);
    }
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| ExperimentError::format(&dir.manifest(), e))?;
    write_atomic(&dir.manifest(), format!("{text}\n").as_bytes())?;
    Ok(manifest)
}

/// Runs every trial of `spec` in `options.shard` that is not complete yet, with
/// `options.workers` trainers at a time; `observer` is told about every trial.
pub fn run_sweep(
    spec: &SweepSpec,
    options: &SweepOptions,
    observer: &(dyn Fn(&SweepEvent) + Sync),
) -> Result<SweepSummary> {
    if options.trainer.is_empty() {
        return Err(ExperimentError::Sweep("no trainer program given".into()));
    }
    let dir = SweepDir::new(&options.out_dir);
    let manifest = prepare_sweep_dir(spec, &dir)?;
    let queue: VecDeque<Trial> = manifest
        .trials
        .into_iter()
        .filter(|t| options.shard.is_none_or(|s| s.contains(t.index)))
        .collect();
    let workers = options.workers.max(1);
    let cores = options
        .cores
        .or_else(slurm_cpus_per_task)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let threads_per_trainer = (cores / workers).max(1);
    let queue = Mutex::new(queue);
    let summary = Mutex::new(SweepSummary::default());
    let first_error: Mutex<Option<ExperimentError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some(trial) = next else { break };
                let report = |event: SweepEvent| {
                    if let Ok(mut s) = summary.lock() {
                        s.count(&event);
                    }
                    observer(&event);
                };
                let runner = TrialRunner {
                    dir: &dir,
                    trainer: &options.trainer,
                    threads: threads_per_trainer,
                };
                if let Err(e) = runner.run(&trial, &report) {
                    if let Ok(mut slot) = first_error.lock() {
                        slot.get_or_insert(e);
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok(summary.into_inner().unwrap_or_default())
}

impl SweepSummary {
    fn count(&mut self, event: &SweepEvent) {
        match event {
            SweepEvent::Started { .. } => {}
            SweepEvent::Completed { .. } => self.completed += 1,
            SweepEvent::Failed { .. } => self.failed += 1,
            SweepEvent::Interrupted { .. } => self.interrupted += 1,
            SweepEvent::AlreadyComplete { .. } => self.already_complete += 1,
            SweepEvent::Locked { .. } => self.locked_elsewhere += 1,
        }
    }
}

/// Runs single trials of one sweep directory.
struct TrialRunner<'a> {
    dir: &'a SweepDir,
    trainer: &'a [OsString],
    threads: usize,
}

impl TrialRunner<'_> {
    fn run(&self, trial: &Trial, report: &dyn Fn(SweepEvent)) -> Result<()> {
        let index = trial.index;
        let run_dir = self.dir.trial(&trial.name);
        if run_status(&run_dir) != RunStatus::Incomplete {
            report(SweepEvent::AlreadyComplete { trial: index });
            return Ok(());
        }
        let lock_path = self.dir.lock(&trial.name);
        let _lock = match try_lock(&lock_path).map_err(|e| ExperimentError::io(&lock_path, e))? {
            LockAttempt::Acquired(lock) => lock,
            LockAttempt::HeldBy(holder) => {
                report(SweepEvent::Locked {
                    trial: index,
                    holder,
                });
                return Ok(());
            }
        };
        // Re-check under the lock: another process may have finished it meanwhile.
        if run_status(&run_dir) != RunStatus::Incomplete {
            report(SweepEvent::AlreadyComplete { trial: index });
            return Ok(());
        }
        let resumed = run_dir.join("config.json").exists();
        let mut args: Vec<OsString> = vec![];
        if resumed {
            args.push("--resume".into());
            args.push(run_dir.clone().into_os_string());
        } else {
            if run_dir.exists() {
                std::fs::remove_dir_all(&run_dir).map_err(|e| ExperimentError::io(&run_dir, e))?;
            }
            args.extend(trial.args.iter().map(OsString::from));
            args.push("--out".into());
            args.push(run_dir.clone().into_os_string());
        }
        report(SweepEvent::Started {
            trial: index,
            resumed,
        });
        let log_path = self.dir.log(&trial.name);
        let exit = self.spawn_and_wait(&args, &log_path)?;
        let event = match run_status(&run_dir) {
            RunStatus::Completed => SweepEvent::Completed { trial: index },
            RunStatus::Failed(reason) => SweepEvent::Failed {
                trial: index,
                reason,
            },
            RunStatus::Incomplete if exit.code().is_none() || was_interrupted(&run_dir) => {
                SweepEvent::Interrupted { trial: index }
            }
            RunStatus::Incomplete => {
                let reason = format!(
                    "trainer exited with {exit} without a final status: {}",
                    last_line(&log_path)
                );
                mark_failed(&run_dir, &reason)?;
                SweepEvent::Failed {
                    trial: index,
                    reason,
                }
            }
        };
        report(event);
        Ok(())
    }

    fn spawn_and_wait(&self, args: &[OsString], log_path: &Path) -> Result<ExitStatus> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .map_err(|e| ExperimentError::io(log_path, e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| ExperimentError::io(log_path, e))?;
        let mut command = Command::new(&self.trainer[0]);
        command
            .args(&self.trainer[1..])
            .args(args)
            .env("RAYON_NUM_THREADS", self.threads.to_string())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        die_with_parent(&mut command);
        let program = PathBuf::from(&self.trainer[0]);
        let mut child = command
            .spawn()
            .map_err(|e| ExperimentError::io(&program, e))?;
        child.wait().map_err(|e| ExperimentError::io(&program, e))
    }
}

/// Linux: the child receives SIGKILL when the thread that spawned it exits (the spawning
/// worker thread waits for the child, so this is when the sweep process dies).
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the parent's pid is read before spawning; prctl, getppid and _exit are
    // async-signal-safe and allocate nothing, as required between fork and exec.
    let parent = unsafe { libc::getpid() };
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

fn was_interrupted(run_dir: &Path) -> bool {
    read_json(&run_dir.join("status.json"))
        .ok()
        .and_then(|v| {
            v.get("status")
                .and_then(|s| s.as_str())
                .map(|s| s == "interrupted")
        })
        .unwrap_or(false)
}

/// The last non-empty line of a log file (for failure reasons).
fn last_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| {
            text.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "(no output)".into())
}

/// Writes a `failed` status with `reason` into `run_dir` (created if needed).
fn mark_failed(run_dir: &Path, reason: &str) -> Result<()> {
    create_dir(run_dir)?;
    let status =
        serde_json::json!({"status": "failed", "reason": reason, "written_by": "lyap sweep"});
    write_atomic(
        &run_dir.join("status.json"),
        format!("{status}\n").as_bytes(),
    )
}

/// The CPUs Slurm allotted this task, if it runs under Slurm with `--cpus-per-task`.
fn slurm_cpus_per_task() -> Option<usize> {
    let value = std::env::var("SLURM_CPUS_PER_TASK").ok()?;
    value.trim().parse().ok().filter(|&cpus| cpus > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parsing_and_partition() {
        let a: Shard = "1/2".parse().unwrap();
        let b: Shard = "2/2".parse().unwrap();
        let all: Vec<usize> = (0..11).collect();
        let in_a: Vec<usize> = all.iter().copied().filter(|&i| a.contains(i)).collect();
        let in_b: Vec<usize> = all.iter().copied().filter(|&i| b.contains(i)).collect();
        assert!(in_a.iter().all(|i| !in_b.contains(i)), "disjoint");
        let mut union = [in_a, in_b].concat();
        union.sort();
        assert_eq!(union, all);
        for bad in ["0/2", "3/2", "x/2", "2", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(a.to_string(), "1/2");
    }
}

//! One trial as a `lyap train` subprocess: its arguments (fresh or `--resume`), the worker's
//! thread count, the log file, a trainer that dies with the sweep, and the failure status
//! of a trainer that exited without a final one (see the kill-safety notes in
//! [`super`]).

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use lyap_train::run_dir::RunDir;
use lyap_train::{RunState, RunStatus, TaskName, TrainConfig};

use super::status::{is_final, trial_status, was_interrupted};
use super::{SweepDir, SweepEvent};
use crate::lock::{try_lock, LockAttempt};
use crate::spec::Trial;
use crate::{create_dir, ExperimentError, Result};

/// Runs single trials of one sweep directory.
pub(super) struct TrialRunner<'a> {
    pub(super) dir: &'a SweepDir,
    pub(super) trainer: &'a [OsString],
    pub(super) threads: usize,
}

impl TrialRunner<'_> {
    pub(super) fn run(&self, trial: &Trial, report: &dyn Fn(SweepEvent)) -> Result<()> {
        let index = trial.index;
        let run_dir = self.dir.trial(&trial.name);
        if is_final(&run_dir) {
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
        if is_final(&run_dir) {
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
        let status = trial_status(&run_dir);
        let event = match status.as_ref().map(|s| s.status) {
            Some(RunState::Completed) => SweepEvent::Completed { trial: index },
            Some(RunState::Failed) => SweepEvent::Failed {
                trial: index,
                reason: status
                    .as_ref()
                    .and_then(|s| s.failure())
                    .unwrap_or_default()
                    .to_string(),
            },
            _ if exit.code().is_none() || was_interrupted(&run_dir) => {
                SweepEvent::Interrupted { trial: index }
            }
            _ => {
                let reason = format!(
                    "trainer exited with {exit} without a final status: {}",
                    last_line(&log_path)
                );
                mark_failed(&run_dir, trial, &reason)?;
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

/// Writes a `failed` status with `reason` into `run_dir` (created if needed) through
/// lyap-train's writer: `epochs_completed` counts the records of its `metrics.jsonl`,
/// `epochs_planned` is the trial's `--epochs` (from its `config.json` when the trainer wrote
/// one, else from its arguments, else the trainer's default, the same for every task).
pub(super) fn mark_failed(run_dir: &Path, trial: &Trial, reason: &str) -> Result<()> {
    create_dir(run_dir)?;
    let dir = RunDir::new(run_dir);
    let planned = dir
        .read_config::<TrainConfig>()
        .map(|c| c.epochs)
        .ok()
        .or_else(|| epochs_argument(&trial.args))
        .unwrap_or_else(|| TrainConfig::for_task(TaskName::SyntheticText).epochs);
    dir.write_status(&RunStatus {
        status: RunState::Failed,
        reason: Some(reason.to_string()),
        epochs_completed: dir.records().map_or(0, |r| r.len()),
        epochs_planned: Some(planned),
    })?;
    Ok(())
}

/// The value of `--epochs N` or `--epochs=N` in a trainer's arguments.
fn epochs_argument(args: &[String]) -> Option<usize> {
    args.iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.as_str() {
            "--epochs" => args.get(i + 1)?.parse().ok(),
            _ => arg.strip_prefix("--epochs=")?.parse().ok(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn trial(args: &[&str]) -> Trial {
        Trial {
            index: 0,
            name: "trial_0000".into(),
            params: BTreeMap::new(),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn mark_failed_writes_a_status_lyap_train_reads() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("trial_0000");
        mark_failed(&run, &trial(&["--hidden", "8", "--epochs", "7"]), "exit 2").unwrap();
        let status = RunDir::new(&run).read_status().unwrap().unwrap();
        assert_eq!(status.status, RunState::Failed);
        assert_eq!(status.failure(), Some("exit 2"));
        assert_eq!(
            (status.epochs_completed, status.epochs_planned),
            (0, Some(7))
        );
        let text = std::fs::read_to_string(RunDir::new(&run).status()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["epochs_planned"], 7);
        assert_eq!(value["epochs_completed"], 0);
        assert_eq!(epochs_argument(&["--epochs=3".into()]), Some(3));
        assert_eq!(epochs_argument(&["--lr".into(), "0.1".into()]), None);
    }
}

//! Running a sweep: every trial of a [`SweepSpec`] as a `lyap train` subprocess.
//!
//! - [`layout`]: the sweep directory (paths, `sweep.json`);
//! - `runner`: one trial as a subprocess, and the failure status of a trainer that exited
//!   without one;
//! - [`status`]: a trial's `status.json`, read through `lyap_train::run_dir`;
//! - Slurm's CPU count: [`crate::slurm::slurm_cpus_per_task`].
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
use std::path::PathBuf;
use std::sync::Mutex;

use crate::slurm::slurm_cpus_per_task;
use crate::spec::{SweepSpec, Trial};
use crate::{ExperimentError, Result};

pub mod layout;
mod runner;
pub mod status;

pub use layout::{prepare_sweep_dir, SweepDir, SweepManifest};
use runner::TrialRunner;
pub use status::trial_status;

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

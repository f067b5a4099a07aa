//! A trial's `status.json`, read through lyap-train's reader (`lyap_train::run_dir`), the
//! contract between the trainer and the sweep.

use std::path::Path;

use lyap_train::run_dir::RunDir;
use lyap_train::{RunState, RunStatus};

/// The status of the run in `run_dir`; `None` when it has none yet or it cannot be read
/// (a trial that is then run again or resumed).
pub fn trial_status(run_dir: &Path) -> Option<RunStatus> {
    RunDir::new(run_dir).read_status().ok().flatten()
}

/// Whether the run in `run_dir` is over for good (completed or failed).
pub fn is_final(run_dir: &Path) -> bool {
    trial_status(run_dir).is_some_and(|s| s.is_final())
}

/// Whether the run in `run_dir` was stopped on request (`interrupted`).
pub fn was_interrupted(run_dir: &Path) -> bool {
    trial_status(run_dir).is_some_and(|s| s.status == RunState::Interrupted)
}

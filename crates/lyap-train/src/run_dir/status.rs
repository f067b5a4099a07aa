//! `status.json`: where a run stands (docs/DESIGN.md section 6).

use serde::{Deserialize, Serialize};

/// The state named in `status.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Running,
    Completed,
    Failed,
    /// Stopped on request (e.g. Ctrl-C); `--resume` continues it.
    Interrupted,
}

/// The content of `status.json`, e.g.
/// `{"status": "failed", "reason": "..", "epochs_completed": 2, "epochs_planned": 10}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    pub status: RunState,
    /// Why the run failed or stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Epochs whose results are on disk (the records of `metrics.jsonl`).
    #[serde(default)]
    pub epochs_completed: usize,
    /// Epochs the run was set up for; absent when the producer does not know (a Python
    /// `Recorder`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs_planned: Option<usize>,
}

impl RunStatus {
    /// Whether the run is over for good: completed or failed (running and interrupted runs
    /// may go on).
    pub fn is_final(&self) -> bool {
        matches!(self.status, RunState::Completed | RunState::Failed)
    }

    /// For a failed run, its reason (`"no reason given"` when the file has none).
    pub fn failure(&self) -> Option<&str> {
        (self.status == RunState::Failed)
            .then(|| self.reason.as_deref().unwrap_or("no reason given"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_skips_unknown_planned_epochs() {
        let status = RunStatus {
            status: RunState::Failed,
            reason: Some("trainer exited".into()),
            epochs_completed: 2,
            epochs_planned: Some(5),
        };
        let text = serde_json::to_string(&status).unwrap();
        assert_eq!(
            text,
            r#"{"status":"failed","reason":"trainer exited","epochs_completed":2,"epochs_planned":5}"#
        );
        assert_eq!(serde_json::from_str::<RunStatus>(&text).unwrap(), status);
        assert_eq!(status.failure(), Some("trainer exited"));
        assert!(status.is_final());
        let recorder = RunStatus {
            status: RunState::Running,
            reason: None,
            epochs_completed: 0,
            epochs_planned: None,
        };
        let text = serde_json::to_string(&recorder).unwrap();
        assert_eq!(text, r#"{"status":"running","epochs_completed":0}"#);
        assert_eq!(serde_json::from_str::<RunStatus>(&text).unwrap(), recorder);
        assert!(!recorder.is_final() && recorder.failure().is_none());
    }
}

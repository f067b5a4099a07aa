//! The layout of a sweep directory (docs/DESIGN.md section 6), its one owner:
//! ```text
//! DIR/sweep.json                 the resolved spec and the trial table (index, name, params, args)
//! DIR/trials/trial_NNNN/         each trial's `lyap train` run directory (`lyap_train::run_dir`)
//! DIR/locks/trial_NNNN.lock      held while a process runs the trial (see `lock`)
//! DIR/logs/trial_NNNN.log        the trainer's stdout and stderr (appended)
//! DIR/analysis/                  written by `lyap analyze`
//! ```

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::spec::{SweepSpec, Trial};
use crate::{create_dir, read_json, write_atomic, ExperimentError, Result};

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
        serde_json::from_value(read_json(&path)?).map_err(|e| ExperimentError::json(&path, e))
    }

    /// Writes `sweep.json` (pretty JSON and a newline), atomically.
    pub fn write_manifest(&self, manifest: &SweepManifest) -> Result<()> {
        let path = self.manifest();
        let text =
            serde_json::to_string_pretty(manifest).map_err(|e| ExperimentError::json(&path, e))?;
        write_atomic(&path, format!("{text}\n").as_bytes())
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
    dir.write_manifest(&manifest)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_and_a_different_sweep_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sweep = SweepDir::new(dir.path());
        let spec = SweepSpec::parse(
            "trials = 3\nseed = 1\n[train]\nepochs = 2\n[sample.lr]\ndist = \"uniform\"\nlow = 0.001\nhigh = 0.01\n",
        )
        .unwrap();
        let written = prepare_sweep_dir(&spec, &sweep).unwrap();
        assert_eq!(written.trials.len(), 3);
        assert_eq!(sweep.read_manifest().unwrap(), written);
        assert_eq!(prepare_sweep_dir(&spec, &sweep).unwrap(), written);
        let other = SweepSpec::parse(
            "trials = 2\nseed = 1\n[train]\nepochs = 2\n[sample.lr]\ndist = \"uniform\"\nlow = 0.001\nhigh = 0.01\n",
        )
        .unwrap();
        assert!(matches!(
            prepare_sweep_dir(&other, &sweep),
            Err(ExperimentError::Sweep(_))
        ));
        for sub in ["trials", "locks", "logs"] {
            assert!(sweep.root.join(sub).is_dir(), "{sub}");
        }
    }
}

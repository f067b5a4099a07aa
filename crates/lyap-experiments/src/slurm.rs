//! Slurm job-array scripts for a sweep: task `I` of `N` runs `lyap sweep SPEC --out DIR
//! --shard I/N`, so the array covers every trial once; restarting a task (or the whole
//! array) is safe because sweeps skip complete trials and resume interrupted ones.

use std::path::Path;

/// Settings of the emitted script.
#[derive(Clone, Debug)]
pub struct SlurmOptions {
    /// The `lyap` executable the tasks run.
    pub lyap: std::path::PathBuf,
    /// Working directory of the tasks (relative paths in the spec resolve from here).
    pub workdir: std::path::PathBuf,
    pub job_name: String,
    /// Workers per array task (`--workers`).
    pub workers_per_task: usize,
    /// `#SBATCH --cpus-per-task`.
    pub cpus_per_task: usize,
    /// `#SBATCH --time`, e.g. `02:00:00`.
    pub time_limit: Option<String>,
    pub partition: Option<String>,
}

/// Quotes `text` for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn quote_path(path: &Path) -> String {
    shell_quote(&path.to_string_lossy())
}

/// A bash script submitting the sweep as a job array of `n_shards` tasks (`sbatch FILE`).
/// Task output goes to `OUT/logs/slurm-%A_%a.out` (the directory must exist at submission).
pub fn emit_slurm(
    spec_path: &Path,
    out_dir: &Path,
    n_shards: usize,
    options: &SlurmOptions,
) -> String {
    let n = n_shards.max(1);
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        format!("#SBATCH --job-name={}", options.job_name),
        format!("#SBATCH --array=1-{n}"),
        "#SBATCH --ntasks=1".to_string(),
        format!("#SBATCH --cpus-per-task={}", options.cpus_per_task.max(1)),
        // sbatch reads double-quoted values on #SBATCH lines (paths with spaces)
        format!(
            "#SBATCH --output=\"{}\"",
            out_dir.join("logs").join("slurm-%A_%a.out").display()
        ),
        format!("#SBATCH --chdir=\"{}\"", options.workdir.display()),
    ];
    if let Some(time) = &options.time_limit {
        lines.push(format!("#SBATCH --time={time}"));
    }
    if let Some(partition) = &options.partition {
        lines.push(format!("#SBATCH --partition={partition}"));
    }
    lines.push(String::new());
    lines.push("set -euo pipefail".into());
    lines.push(format!(
        "exec {} sweep {} --out {} --workers {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{n}\"",
        quote_path(&options.lyap),
        quote_path(spec_path),
        quote_path(out_dir),
        options.workers_per_task.max(1),
    ));
    lines.join("\n") + "\n"
}

/// The CPUs Slurm allotted this task, if it runs under Slurm with `--cpus-per-task`.
pub fn slurm_cpus_per_task() -> Option<usize> {
    let value = std::env::var("SLURM_CPUS_PER_TASK").ok()?;
    value.trim().parse().ok().filter(|&cpus| cpus > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_array_runs_every_shard() {
        let options = SlurmOptions {
            lyap: "/opt/lyap dir/lyap".into(),
            workdir: "/home/u".into(),
            job_name: "lyap-sweep".into(),
            workers_per_task: 2,
            cpus_per_task: 4,
            time_limit: Some("01:00:00".into()),
            partition: None,
        };
        let script = emit_slurm(Path::new("s.toml"), Path::new("/data/sw"), 3, &options);
        assert!(script.starts_with("#!/bin/bash\n"));
        assert!(script.contains("#SBATCH --array=1-3\n"));
        assert!(script.contains("#SBATCH --cpus-per-task=4\n"));
        assert!(script.contains("#SBATCH --time=01:00:00\n"));
        assert!(script.contains("#SBATCH --output=\"/data/sw/logs/slurm-%A_%a.out\"\n"));
        assert!(script.contains("#SBATCH --chdir=\"/home/u\"\n"));
        assert!(script.contains(
            "exec '/opt/lyap dir/lyap' sweep 's.toml' --out '/data/sw' --workers 2 --shard \"${SLURM_ARRAY_TASK_ID}/3\""
        ));
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }
}

//! `lyap sweep SPEC --out DIR [--workers N] [--shard I/N] [--emit slurm]`: runs every trial
//! of a TOML sweep spec as a `lyap train` subprocess (see `lyap_experiments::sweep`), or
//! writes a Slurm job-array script that runs the shards.

use crate::error::{CliError, CliResult};
use clap::{Args, ValueEnum};
use lyap_experiments::slurm::{emit_slurm, SlurmOptions};
use lyap_experiments::spec::SweepSpec;
use lyap_experiments::sweep::{run_sweep, Shard, SweepEvent, SweepOptions};
use std::path::PathBuf;

/// Script formats of `--emit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EmitFormat {
    /// A Slurm job array (`sbatch DIR/sweep.slurm`), one task per shard.
    Slurm,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Each trial is a lyap train run directory DIR/trials/trial_NNNN/. \
A sweep killed at any moment and started again with the same arguments resumes interrupted \
trials and skips complete ones; concurrent sweeps on one DIR never run the same trial."
)]
pub struct SweepArgs {
    /// The sweep specification (TOML: trials, seed, [train], [sample.NAME]).
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,
    /// The sweep directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Trials trained at the same time; the machine's cores are shared among them.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub workers: usize,
    /// Run only shard I of N (trials with index % N == I - 1).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Instead of running, write a job script for a scheduler to DIR/sweep.slurm.
    #[arg(long, value_name = "FORMAT")]
    pub emit: Option<EmitFormat>,
    /// With --emit: number of array tasks (shards).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub shards: usize,
    /// With --emit: CPUs per array task.
    #[arg(long, value_name = "C", default_value_t = 1)]
    pub cpus_per_task: usize,
    /// With --emit: time limit per array task (Slurm format, e.g. 02:00:00).
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// With --emit: Slurm partition.
    #[arg(long, value_name = "NAME")]
    pub partition: Option<String>,
}

fn absolute(path: &std::path::Path) -> CliResult<PathBuf> {
    std::path::absolute(path).map_err(|e| CliError::input_at(path.display(), e))
}

/// Runs `lyap sweep`.
pub fn run(args: &SweepArgs) -> CliResult<()> {
    let spec = SweepSpec::from_file(&args.spec)?;
    let shard: Option<Shard> = match &args.shard {
        Some(text) => Some(text.parse()?),
        None => None,
    };
    if args.workers == 0 {
        return Err(CliError::bad("--workers must be at least 1"));
    }
    let exe = std::env::current_exe().map_err(CliError::internal)?;
    if let Some(EmitFormat::Slurm) = args.emit {
        let out = absolute(&args.out)?;
        lyap_experiments::sweep::prepare_sweep_dir(
            &spec,
            &lyap_experiments::sweep::SweepDir::new(&out),
        )?;
        let options = SlurmOptions {
            lyap: exe,
            workdir: std::env::current_dir().map_err(CliError::internal)?,
            job_name: "lyap-sweep".into(),
            workers_per_task: args.workers,
            cpus_per_task: args.cpus_per_task,
            time_limit: args.time.clone(),
            partition: args.partition.clone(),
        };
        let script = emit_slurm(&absolute(&args.spec)?, &out, args.shards, &options);
        let path = out.join("sweep.slurm");
        lyap_experiments::write_atomic(&path, script.as_bytes())?;
        println!("{}", path.display());
        return Ok(());
    }
    let total = spec.trial_count();
    println!(
        "sweep of {total} trials into {}{}",
        args.out.display(),
        shard.map_or(String::new(), |s| format!(" (shard {s})"))
    );
    let options = SweepOptions {
        trainer: vec![exe.into_os_string(), "train".into()],
        out_dir: args.out.clone(),
        workers: args.workers,
        shard,
        cores: None,
    };
    let summary = run_sweep(&spec, &options, &|event| print_event(event))?;
    println!(
        "done: {} completed, {} failed, {} already complete, {} interrupted, {} running elsewhere",
        summary.completed,
        summary.failed,
        summary.already_complete,
        summary.interrupted,
        summary.locked_elsewhere
    );
    Ok(())
}

fn print_event(event: &SweepEvent) {
    match event {
        SweepEvent::Started { trial, resumed } => {
            println!(
                "trial {trial}: {}",
                if *resumed { "resumed" } else { "started" }
            )
        }
        SweepEvent::Completed { trial } => println!("trial {trial}: completed"),
        SweepEvent::Failed { trial, reason } => println!("trial {trial}: failed: {reason}"),
        SweepEvent::Interrupted { trial } => println!("trial {trial}: interrupted"),
        SweepEvent::AlreadyComplete { .. } => {}
        SweepEvent::Locked { trial, holder } => {
            println!("trial {trial}: running elsewhere (lock held by {holder})")
        }
    }
}

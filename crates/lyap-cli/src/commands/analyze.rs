//! `lyap analyze DIR`: correlations of spectrum features with the final loss, the early
//! readout and convergence of a sweep or of a directory of runs (see
//! `lyap_experiments::analysis`), written to
//! DIR/analysis/ as CSV tables, figures and report.html.

use crate::error::CliResult;
use clap::Args;
use lyap_experiments::analysis::AnalysisOptions;
use lyap_experiments::report::{analyze_sweep, DEFAULT_FORMATS};
use lyap_experiments::stats::Bootstrap;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// A sweep directory (written by lyap sweep), or a directory whose subdirectories are
    /// run directories (lyap train, the Python Recorder).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Bootstrap resamples for the 95% intervals.
    #[arg(long, value_name = "B", default_value_t = 2000)]
    pub resamples: usize,
    /// Bootstrap seed.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
}

/// Runs `lyap analyze`.
pub fn run(args: &AnalyzeArgs) -> CliResult<()> {
    let options = AnalysisOptions {
        bootstrap: Bootstrap {
            resamples: args.resamples,
            seed: args.seed,
            ..Bootstrap::default()
        },
        ..AnalysisOptions::default()
    };
    let output = analyze_sweep(&args.dir, &options, DEFAULT_FORMATS)?;
    let data = &output.analysis.data;
    println!(
        "{} completed, {} failed, {} incomplete trials",
        data.completed.len(),
        data.failed.len(),
        data.incomplete.len()
    );
    for run in &data.failed {
        if let Some(reason) = run.failure() {
            let params: Vec<String> = run.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!("  failed {} ({}): {reason}", run.name, params.join(" "));
        }
    }
    if let Some(first) = output.analysis.epochs.first() {
        println!("early readout at epoch {first} (Spearman with final loss, best-20% found):");
        for row in output.analysis.readout.iter().filter(|r| r.epoch == *first) {
            println!(
                "  {:<32} {:>7.3} {:>6.2}",
                row.predictor, row.spearman, row.top_fraction
            );
        }
    }
    println!("report: {}", output.report.display());
    Ok(())
}

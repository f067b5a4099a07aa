//! `lyap report RUN_DIR`: a single run's figures (loss curves, spectrum per epoch, max and
//! mean exponent over epochs, final spectrum, running estimates) in RUN_DIR/report/.

use crate::error::CliResult;
use clap::Args;
use lyap_experiments::report::{run_report, DEFAULT_FORMATS};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run directory written by lyap train.
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,
}

/// Runs `lyap report`.
pub fn run(args: &ReportArgs) -> CliResult<()> {
    let output = run_report(&args.run_dir, DEFAULT_FORMATS)?;
    for figure in &output.figures {
        for file in &figure.files {
            println!("{}", file.display());
        }
    }
    println!("report: {}", output.report.display());
    Ok(())
}

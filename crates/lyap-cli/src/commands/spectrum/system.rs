//! `lyap spectrum --system NAME`: the spectrum of a built-in dynamical system (docs/DESIGN.md
//! sections 2.1 and 6) through the library's [`compute_system_spectrum`], with the same
//! options, summary and output files as a network.

use super::{check_output_paths, compute_error, options, write_outputs};
use crate::cli::SpectrumArgs;
use crate::error::{CliError, CliResult};
use lyap_core::systems::DEFAULT_INITIAL_POINTS;
use lyap_rnn::{compute_system_spectrum, system_named};

/// Runs `lyap spectrum --system NAME`: `--batch` initial points on the attractor (default 10)
/// drawn with `--seed` (default 0), `--steps` measured steps (the library's default, 100,000,
/// when not given), exponents per time unit of `--dt` for a flow.
pub fn run(args: &SpectrumArgs, name: &str) -> CliResult<()> {
    check_output_paths(args)?;
    let system = system_named(name, args.dt).map_err(CliError::input)?;
    let batch = args.batch.unwrap_or(DEFAULT_INITIAL_POINTS);
    if batch == 0 {
        return Err(CliError::bad("--batch must be at least 1"));
    }
    if args.steps == Some(0) {
        return Err(CliError::bad("--steps must be at least 1"));
    }
    let seed = args.seed.unwrap_or(0);
    let options = lyap_rnn::SpectrumOptions {
        steps: args.steps,
        ..options(args)
    };
    let result = compute_system_spectrum(&system, batch, seed, &options)
        .map_err(|error| compute_error(error, ""))?;
    let origin = format!("{batch} points on the attractor (seed {seed})");
    write_outputs(args, &result, system.name(), &origin)
}

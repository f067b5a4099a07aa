//! `lyap spectrum --closed-loop`: the readout the network feeds back and the sequences that
//! prime its state (docs/DESIGN.md section 2.2; section 6 for the flags).

use crate::cli::SpectrumArgs;
use crate::commands::inputs::{self, Inputs};
use crate::error::{CliError, CliResult};
use crate::formats::model::load_readout;
use lyap_rnn::{Readout, StackWeights};

/// The readout of `--model` (`--readout PREFIX`, or found) and the priming sequences: the
/// first `--batch` of `--inputs` (all their steps), or one zero input vector (the zero state
/// and a zero first input).
pub fn setup(args: &SpectrumArgs, weights: &StackWeights<f64>) -> CliResult<(Readout, Inputs)> {
    let Some(path) = &args.model else {
        return Err(CliError::bad("--closed-loop needs --model"));
    };
    let (n, d) = (weights.hidden_size, weights.input_size);
    let readout = load_readout(path, n, d, args.readout.as_deref())?;
    let priming = match &args.inputs {
        Some(file) => {
            let given = inputs::float_inputs(file, d)?;
            let batch = args.batch.unwrap_or(given.sequences.len());
            let mut given = given.take(batch)?;
            given.origin = format!(
                "closed loop through {}, primed by {} ({} steps open loop)",
                readout.name, given.origin, given.length
            );
            given
        }
        None => {
            if args.batch.is_some_and(|b| b != 1) {
                return Err(CliError::bad(
                    "--closed-loop without --inputs runs one sequence from the zero state: \
                     --batch must be 1 (or give --inputs to prime several)",
                ));
            }
            Inputs {
                sequences: vec![vec![0.0; d]],
                length: 1,
                origin: format!(
                    "closed loop through {}, from the zero state and a zero first input",
                    readout.name
                ),
            }
        }
    };
    Ok((readout, priming))
}

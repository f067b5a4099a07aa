//! `lyap spectrum --until-converged`: generated inputs that grow with the run, and the first
//! chunk of given inputs (docs/DESIGN.md section 2, "Error bars over time and stopping when
//! converged"; section 6).

use crate::cli::SpectrumArgs;
use crate::error::{CliError, CliResult};
use lyap_core::WarmupStyle;
use lyap_rnn::{GeneratedTokens, InputGenerator, StackWeights, ZeroInputs, GENERATED_STEPS};

/// Generated inputs of a run until converged, computed as the run asks for them.
pub struct Generated {
    pub generator: Box<dyn InputGenerator>,
    pub batch: usize,
    /// The first chunk (`--steps`, default 100).
    pub steps: usize,
    /// For the summary and messages.
    pub origin: String,
}

/// With `--until-converged` and no input file: zeros (`--zero-input`) or random tokens from
/// `--seed`, one ChaCha8 stream per sequence (a fixed-length run draws its tokens from one
/// stream, sequence after sequence, so the two see different tokens). `None` otherwise.
pub fn generated(args: &SpectrumArgs, weights: &StackWeights<f64>) -> CliResult<Option<Generated>> {
    if args.until_converged.is_none() || args.inputs.is_some() || args.tokens.is_some() {
        return Ok(None);
    }
    if !args.zero_input && args.random.is_none() {
        return Ok(None);
    }
    let batch = args.batch.unwrap_or(10);
    if batch == 0 {
        return Err(CliError::bad("--batch must be at least 1"));
    }
    let steps = args.steps.unwrap_or(GENERATED_STEPS);
    if steps == 0 {
        return Err(CliError::bad("--steps must be at least 1"));
    }
    let input_size = weights.input_size;
    let (generator, origin): (Box<dyn InputGenerator>, &str) = if args.zero_input {
        (Box::new(ZeroInputs { input_size }), "zero input")
    } else {
        let seed = args.seed.unwrap_or(0) ^ 0x9e37_79b9_7f4a_7c15;
        let tokens = GeneratedTokens { input_size, seed };
        (
            Box::new(tokens),
            "generated tokens (one stream per sequence)",
        )
    };
    Ok(Some(Generated {
        generator,
        batch,
        steps,
        origin: origin.to_string(),
    }))
}

/// The first chunk of a run until converged on given inputs without `--steps`: 100 steps, or
/// all the inputs hold after the warm-up when that is fewer.
pub fn first_chunk(available: usize, warmup: usize, style: WarmupStyle) -> usize {
    let measurable = match style {
        WarmupStyle::Paper => available,
        WarmupStyle::Standard => available.saturating_sub(warmup),
    };
    measurable.min(GENERATED_STEPS)
}

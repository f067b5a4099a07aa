//! `lyap spectrum`: the Lyapunov spectrum of a network driven by input sequences, or of a
//! built-in dynamical system (`--system`, [`system`]).
//!
//! Resolves the flags into a network (loaded or random), input sequences and
//! [`SpectrumOptions`], calls [`compute_spectrum`] (the library's front door) and writes the
//! human summary and the requested output files.

use crate::cli::{LogBaseArg, PrecisionArg, SpectrumArgs, StateArg};
use crate::commands::closed_loop;
use crate::commands::inputs::{self, Inputs};
use crate::commands::until;
use crate::error::{CliError, CliResult};
use crate::formats::model::load_model;
use crate::output;
use lyap_core::memory::{checked_product, fits};
use lyap_core::{CheckConfig, Precision, WarmupStyle};
use lyap_rnn::report::LogBase;
use lyap_rnn::weights::parameter_count;
use lyap_rnn::{
    compute_spectrum, Arch, ComputeError, Culprit, InputBatch, LstmState, SpectrumOptions,
    SpectrumResult, StackWeights,
};

mod system;

/// Batch and steps of generated inputs (zeros or random tokens) when not given.
const GENERATED_BATCH: usize = 10;
const GENERATED_STEPS: usize = 100;

/// Runs the command; all user errors come back as [`CliError::BadInput`].
pub fn run(args: &SpectrumArgs) -> CliResult<()> {
    if let Some(name) = &args.system {
        return system::run(args, name);
    }
    let mut options = options(args);
    let method = options.method().map_err(|e| compute_error(e, ""))?;
    check_output_paths(args)?;
    if args.readout.is_some() && !args.closed_loop {
        return Err(CliError::bad(
            "--readout chooses the readout of --closed-loop; add it",
        ));
    }
    let (weights, source) = network(args)?;
    let generated = until::generated(args, &weights)?;
    let file_inputs;
    let (batch, origin) = match &generated {
        None if args.closed_loop => {
            let (readout, priming) = closed_loop::setup(args, &weights)?;
            options.closed_loop = Some(readout);
            options.steps = Some(args.steps.unwrap_or(GENERATED_STEPS));
            file_inputs = priming;
            let batch = InputBatch::F64(file_inputs.sequences.iter().map(Vec::as_slice).collect());
            (batch, file_inputs.origin.as_str())
        }
        Some(g) => {
            options.steps = Some(g.steps);
            let batch = InputBatch::Generated {
                batch: g.batch,
                generator: g.generator.as_ref(),
            };
            (batch, g.origin.as_str())
        }
        None => {
            let (inputs, steps) = input_sequences(args, &weights, &options, method.warmup_style)?;
            options.steps = Some(steps);
            file_inputs = inputs;
            let batch = InputBatch::F64(file_inputs.sequences.iter().map(Vec::as_slice).collect());
            (batch, file_inputs.origin.as_str())
        }
    };
    let result =
        compute_spectrum(&weights, batch, &options).map_err(|e| compute_error(e, origin))?;
    write_outputs(args, &result, &source, origin)
}

/// Prints the summary (`source`: where the network came from, `origin`: where the inputs
/// did) and writes the files asked for: `--out`, `--trace`, `--plot`.
fn write_outputs(
    args: &SpectrumArgs,
    result: &SpectrumResult,
    source: &str,
    origin: &str,
) -> CliResult<()> {
    let report = &result.report;
    print!("{}", output::summary::render(report, source, origin));
    if let Some(path) = &args.out {
        output::json::write(path, report)?;
    }
    if let Some(path) = &args.trace {
        output::trace::write(path, &result.spectrum, report.config.log_base)?;
    }
    if let Some(path) = &args.plot {
        output::plot::write(path, report, args.plot_block_sem)?;
    }
    Ok(())
}

/// The library options of the flags (`steps` is set once the inputs are known).
fn options(args: &SpectrumArgs) -> SpectrumOptions {
    SpectrumOptions {
        k: args.k,
        warmup: args.warmup,
        steps: None,
        qr_every: args.qr_every,
        state: args.state.map(|s| match s {
            StateArg::Hidden => LstmState::Hidden,
            StateArg::Full => LstmState::Full,
        }),
        precision: match args.precision {
            PrecisionArg::F64 => Precision::F64,
            PrecisionArg::F32 => Precision::F32,
        },
        log_base: args.log_base.map(|b| match b {
            LogBaseArg::Two => LogBase::Two,
            LogBaseArg::E => LogBase::E,
        }),
        paper_compat: args.paper_compat,
        trace: args.trace.is_some(),
        threads: None,
        checks: CheckConfig {
            sum_rule: !args.no_sum_rule,
            max_by_perturbation: args.check_max,
        },
        until_converged: args.until_converged,
        max_steps: args.max_steps,
        closed_loop: None,
        dt: args.dt,
    }
}

/// A failed computation as a CLI error: the user's mistake (exit 2) with the input file's
/// name in front of a bad input value, or an internal fault (no thread pool, exit 1).
fn compute_error(error: ComputeError, origin: &str) -> CliError {
    match &error {
        ComputeError::ThreadPool(_) => CliError::internal(error),
        ComputeError::NonFinite {
            culprit: Culprit::Input { .. },
            ..
        }
        | ComputeError::Overflow {
            culprit: Culprit::Input { .. },
            ..
        } => CliError::input_at(origin, error),
        _ => CliError::input(error),
    }
}

/// Fails early (before any computation) when an output file cannot be written: its
/// directory does not exist, or the plot extension is neither `.svg` nor `.png`.
fn check_output_paths(args: &SpectrumArgs) -> CliResult<()> {
    for path in [&args.out, &args.trace, &args.plot].into_iter().flatten() {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) {
            return Err(CliError::bad(format!(
                "cannot write {}: directory does not exist",
                path.display()
            )));
        }
    }
    if let Some(path) = &args.plot {
        output::plot::check_extension(path)?;
    }
    Ok(())
}

/// The network (weights in `f64`) and a one-line description of where it came from.
fn network(args: &SpectrumArgs) -> CliResult<(StackWeights<f64>, String)> {
    let parse_arch = |name: &str| name.parse::<Arch>().map_err(CliError::bad);
    if let Some(path) = &args.model {
        let arch = args.arch.as_deref().map(parse_arch).transpose()?;
        let loaded = load_model(path, args.prefix.as_deref(), arch)?;
        let prefix = match loaded.prefix.as_str() {
            "" => "no prefix".to_string(),
            p => format!("prefix '{p}'"),
        };
        return Ok((loaded.weights, format!("{} ({prefix})", path.display())));
    }
    let arch = parse_arch(args.random.as_deref().unwrap_or_default())?;
    let positive = |value: Option<usize>, flag: &str| match value {
        Some(v) if v > 0 => Ok(v),
        Some(_) => Err(CliError::bad(format!("{flag} must be at least 1"))),
        None => Err(CliError::bad(format!("--random needs {flag}"))),
    };
    let hidden = positive(args.hidden, "--hidden")?;
    let input_size = positive(args.input_size, "--input-size")?;
    let layers = positive(Some(args.layers.unwrap_or(1)), "--layers")?;
    let scale = args.init_scale.unwrap_or(1.0 / (hidden as f64).sqrt());
    if !scale.is_finite() || scale < 0.0 {
        return Err(CliError::bad(format!(
            "--init-scale {scale} must be finite and non-negative"
        )));
    }
    let seed = args.seed.unwrap_or(0);
    let parameters = parameter_count(arch, input_size, hidden, layers, args.bias);
    let bytes = parameters.and_then(|p| p.checked_mul(std::mem::size_of::<f64>() as u128));
    fits(bytes, "the random network").map_err(CliError::bad)?;
    let weights = StackWeights::random(arch, input_size, hidden, layers, args.bias, scale, seed);
    let bias = if args.bias { "with" } else { "without" };
    let source =
        format!("random (uniform on [-{scale:.6}, {scale:.6}], seed {seed}, {bias} biases)");
    Ok((weights, source))
}

/// The input sequences (first `--batch` of them) and the number of measured steps.
fn input_sequences(
    args: &SpectrumArgs,
    weights: &StackWeights<f64>,
    options: &SpectrumOptions,
    style: WarmupStyle,
) -> CliResult<(Inputs, usize)> {
    let d = weights.input_size;
    let needed = |steps: usize| options.inputs_needed(style, steps);
    if let Some(steps) = args.steps {
        if steps == 0 {
            return Err(CliError::bad("--steps must be at least 1"));
        }
    }
    let file = match (&args.inputs, &args.tokens) {
        (Some(path), _) => Some(inputs::float_inputs(path, d)?),
        (None, Some(path)) => Some(inputs::spectrum_tokens(args, path, d)?),
        (None, None) => None,
    };
    let Some(file) = file else {
        if !args.zero_input && args.random.is_none() {
            return Err(CliError::bad(
                "no inputs: give --inputs, --tokens or --zero-input with --model",
            ));
        }
        let batch = args.batch.unwrap_or(GENERATED_BATCH);
        let steps = args.steps.unwrap_or(GENERATED_STEPS);
        if batch == 0 {
            return Err(CliError::bad("--batch must be at least 1"));
        }
        let length = needed(steps);
        let bytes = checked_product(&[batch, length, d, std::mem::size_of::<f64>()]);
        fits(bytes, "the generated input batch").map_err(CliError::bad)?;
        let seed = args.seed.unwrap_or(0);
        let inputs = if args.zero_input {
            inputs::zero_inputs(batch, length, d)
        } else {
            inputs::generated_tokens(batch, length, d, seed)
        };
        return Ok((inputs, steps));
    };
    let available = file.length;
    let steps = match (args.steps, style) {
        (Some(steps), _) => steps,
        (None, _) if args.until_converged.is_some() => {
            until::first_chunk(available, args.warmup, style)
        }
        (None, WarmupStyle::Paper) => available,
        (None, WarmupStyle::Standard) => available.saturating_sub(args.warmup),
    };
    if steps == 0 {
        return Err(CliError::bad(format!(
            "{}: --warmup {} leaves none of its {available} steps to measure",
            file.origin, args.warmup
        )));
    }
    if needed(steps) > available {
        return Err(CliError::bad(format!(
            "{}: --warmup {} and --steps {steps} need {} input steps but the sequences have \
             {available}",
            file.origin,
            args.warmup,
            needed(steps)
        )));
    }
    let batch = args.batch.unwrap_or(file.sequences.len());
    Ok((file.take(batch)?, steps))
}

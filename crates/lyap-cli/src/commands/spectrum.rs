//! `lyap spectrum`: the Lyapunov spectrum of a network driven by input sequences.
//!
//! Resolves the flags into a network (loaded or random), input sequences and a
//! [`SpectrumConfig`], runs [`lyapunov_spectrum`] in the requested precision and writes the
//! human summary and the requested output files.

use crate::cli::{LogBaseArg, PrecisionArg, SpectrumArgs, StateArg};
use crate::commands::inputs::{self, Inputs};
use crate::error::{CliError, CliResult};
use crate::formats::model::load_model;
use crate::output;
use lyap_core::WarmupStyle;
use lyap_core::{lyapunov_spectrum, Real, Spectrum, SpectrumConfig, Tangent, TangentSystem};
use lyap_rnn::report::{ConfigInfo, LogBase, ModelInfo, SpectrumReport};
use lyap_rnn::{Arch, LstmState, RecurrentStack, StackWeights};
use std::time::Instant;

/// Batch and steps of generated inputs (zeros or random tokens) when not given.
const GENERATED_BATCH: usize = 10;
const GENERATED_STEPS: usize = 100;

/// The method settings after applying `--paper-compat` (DESIGN.md section 4).
#[derive(Clone, Copy, Debug)]
struct Method {
    state: LstmState,
    log_base: LogBase,
    tangent: Tangent,
    warmup_style: WarmupStyle,
}

/// Runs the command; all user errors come back as [`CliError::BadInput`].
pub fn run(args: &SpectrumArgs) -> CliResult<()> {
    let method = method(args)?;
    check_output_paths(args)?;
    let (weights, source) = network(args)?;
    let (inputs, steps) = input_sequences(args, &weights, method.warmup_style)?;
    let config = SpectrumConfig {
        k: 0, // resolved by `compute` once the state dimension is known
        warmup: args.warmup,
        steps,
        qr_every: args.qr_every,
        tangent: method.tangent,
        warmup_style: method.warmup_style,
        record_trace: args.trace.is_some(),
    };
    let outcome = match args.precision {
        PrecisionArg::F64 => compute::<f64>(&weights, &inputs, method.state, config, args.k)?,
        PrecisionArg::F32 => compute::<f32>(&weights, &inputs, method.state, config, args.k)?,
    };
    let config_info = ConfigInfo {
        batch: inputs.sequences.len(),
        steps,
        warmup: args.warmup,
        qr_every: args.qr_every,
        k: outcome.k,
        log_base: method.log_base,
        precision: outcome.precision.to_string(),
        paper_compat: args.paper_compat,
    };
    let report = SpectrumReport::new(
        &outcome.spectrum,
        outcome.model,
        config_info,
        outcome.seconds,
    );
    print!(
        "{}",
        output::summary::render(&report, &source, &inputs.origin)
    );
    if let Some(path) = &args.out {
        output::json::write(path, &report)?;
    }
    if let Some(path) = &args.trace {
        output::trace::write(path, &outcome.spectrum, method.log_base)?;
    }
    if let Some(path) = &args.plot {
        output::plot::write(path, &report)?;
    }
    Ok(())
}

/// State, log base, tangent map and warm-up style; `--paper-compat` fixes all four and
/// conflicts with an explicit `--state full` or `--log-base e`.
fn method(args: &SpectrumArgs) -> CliResult<Method> {
    if args.paper_compat {
        if args.state == Some(StateArg::Full) {
            return Err(CliError::bad(
                "--paper-compat uses the hidden state only; drop --state full",
            ));
        }
        if args.log_base == Some(LogBaseArg::E) {
            return Err(CliError::bad(
                "--paper-compat uses log base 2; drop --log-base e",
            ));
        }
        return Ok(Method {
            state: LstmState::Hidden,
            log_base: LogBase::Two,
            tangent: Tangent::Transposed,
            warmup_style: WarmupStyle::Paper,
        });
    }
    Ok(Method {
        state: match args.state {
            Some(StateArg::Hidden) => LstmState::Hidden,
            Some(StateArg::Full) | None => LstmState::Full,
        },
        log_base: match args.log_base {
            Some(LogBaseArg::Two) => LogBase::Two,
            Some(LogBaseArg::E) | None => LogBase::E,
        },
        tangent: Tangent::Jacobian,
        warmup_style: WarmupStyle::Standard,
    })
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
    style: WarmupStyle,
) -> CliResult<(Inputs, usize)> {
    let d = weights.input_size;
    let needed = |steps: usize| {
        let mut config = SpectrumConfig::new(1, steps);
        config.warmup = args.warmup;
        config.warmup_style = style;
        config.inputs_needed()
    };
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

/// What a computation in one precision returns.
struct Outcome {
    spectrum: Spectrum,
    model: ModelInfo,
    k: usize,
    precision: &'static str,
    seconds: f64,
}

/// Builds the stack in precision `T`, resolves `k` (default: the state dimension) and runs
/// the QR method over the sequences, timing the run.
fn compute<T: Real>(
    weights: &StackWeights<f64>,
    inputs: &Inputs,
    state: LstmState,
    mut config: SpectrumConfig,
    k: Option<usize>,
) -> CliResult<Outcome> {
    let cast = weights.cast::<T>();
    check_representable(&cast)?;
    let stack = RecurrentStack::new(cast, state).map_err(CliError::bad)?;
    let state_dim = stack.state_dim();
    config.k = k.unwrap_or(state_dim);
    if config.k == 0 || config.k > state_dim {
        return Err(CliError::bad(format!(
            "--k {} is out of range: it must be between 1 and the state dimension {state_dim}",
            config.k
        )));
    }
    let sequences = inputs
        .sequences
        .iter()
        .map(|s| to_precision::<T>(s, &inputs.origin))
        .collect::<CliResult<Vec<Vec<T>>>>()?;
    let refs: Vec<&[T]> = sequences.iter().map(Vec::as_slice).collect();
    let start = Instant::now();
    let spectrum = lyapunov_spectrum(&stack, &refs, &config).map_err(CliError::bad)?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(Outcome {
        spectrum,
        model: ModelInfo::new(weights, state, state_dim),
        k: config.k,
        precision: T::NAME,
        seconds,
    })
}

/// Input values in precision `T`; a value that overflows it (f32) is an error.
fn to_precision<T: Real>(values: &[f64], origin: &str) -> CliResult<Vec<T>> {
    values
        .iter()
        .map(|&v| {
            let x = T::of_f64(v);
            if x.as_f64().is_finite() {
                Ok(x)
            } else {
                Err(CliError::bad(format!(
                    "{origin}: input value {v} overflows {}",
                    T::NAME
                )))
            }
        })
        .collect()
}

/// Weights that overflowed when cast to `T` (f64 files read in f32) are an error.
fn check_representable<T: Real>(weights: &StackWeights<T>) -> CliResult<()> {
    for (l, layer) in weights.layers.iter().enumerate() {
        let finite = |m: &faer::Mat<T>| {
            (0..m.ncols()).all(|c| m.col(c).iter().all(|x| x.as_f64().is_finite()))
        };
        let bias_finite = |b: &Option<Vec<T>>| b.iter().flatten().all(|x| x.as_f64().is_finite());
        let checks = [
            ("weight_ih", finite(&layer.weight_ih)),
            ("weight_hh", finite(&layer.weight_hh)),
            ("bias_ih", bias_finite(&layer.bias_ih)),
            ("bias_hh", bias_finite(&layer.bias_hh)),
        ];
        if let Some((name, _)) = checks.iter().find(|(_, ok)| !ok) {
            return Err(CliError::bad(format!(
                "{name}_l{l} has values that overflow {}",
                T::NAME
            )));
        }
    }
    Ok(())
}

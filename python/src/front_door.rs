//! TEMPORARY stand-in for `lyap_rnn::compute_spectrum` (helper H1's front door, same API), so
//! the bindings build and their tests run before that lands. Deleted when h1 is merged.

use lyap_core::{
    lyapunov_spectrum, Real, Spectrum, SpectrumConfig, Tangent, TangentSystem, WarmupStyle,
};
use lyap_rnn::report::{trace_csv, ConfigInfo, LogBase, ModelInfo, SpectrumReport};
use lyap_rnn::{LstmState, RecurrentStack, ShapeError, StackWeights};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Precision {
    F32,
    #[default]
    F64,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct SpectrumOptions {
    pub k: Option<usize>,
    pub warmup: usize,
    pub steps: Option<usize>,
    pub qr_every: usize,
    pub state: Option<LstmState>,
    pub precision: Precision,
    pub log_base: Option<LogBase>,
    pub paper_compat: bool,
    pub trace: bool,
    pub threads: Option<usize>,
}

pub enum InputBatch<'a> {
    F32(Vec<&'a [f32]>),
    F64(Vec<&'a [f64]>),
}

pub struct SpectrumResult {
    pub report: SpectrumReport,
    pub spectrum: Spectrum,
}

impl SpectrumResult {
    pub fn trace_csv(&self) -> String {
        trace_csv(&self.spectrum, self.report.config.log_base)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    #[error(transparent)]
    Shape(#[from] ShapeError),
    #[error(transparent)]
    Engine(#[from] lyap_core::SpectrumError),
    #[error("--k {k} is out of range: it must be between 1 and the state dimension {state_dim}")]
    BadK { k: usize, state_dim: usize },
    #[error("{0}")]
    PaperCompatConflict(&'static str),
    #[error("{0}")]
    Other(String),
    #[error(transparent)]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
}

pub fn compute_spectrum<W: Real>(
    weights: &StackWeights<W>,
    inputs: InputBatch<'_>,
    options: &SpectrumOptions,
) -> Result<SpectrumResult, ComputeError> {
    let (state, log_base, tangent, style) = if options.paper_compat {
        if options.state == Some(LstmState::Full) {
            return Err(ComputeError::PaperCompatConflict(
                "--paper-compat uses the hidden state only; drop --state full",
            ));
        }
        if options.log_base == Some(LogBase::E) {
            return Err(ComputeError::PaperCompatConflict(
                "--paper-compat uses log base 2; drop --log-base e",
            ));
        }
        (
            LstmState::Hidden,
            LogBase::Two,
            Tangent::Transposed,
            WarmupStyle::Paper,
        )
    } else {
        (
            options.state.unwrap_or_default(),
            options.log_base.unwrap_or_default(),
            Tangent::Jacobian,
            WarmupStyle::Standard,
        )
    };
    let d = weights.input_size;
    let (batch, length) = match &inputs {
        InputBatch::F32(s) => (s.len(), s.first().map_or(0, |x| x.len() / d.max(1))),
        InputBatch::F64(s) => (s.len(), s.first().map_or(0, |x| x.len() / d.max(1))),
    };
    let steps = options.steps.unwrap_or(match style {
        WarmupStyle::Paper => length,
        WarmupStyle::Standard => length.saturating_sub(options.warmup),
    });
    let mut config = SpectrumConfig {
        k: 0,
        warmup: options.warmup,
        steps,
        qr_every: options.qr_every,
        tangent,
        warmup_style: style,
        record_trace: options.trace,
    };
    let w64 = weights.cast::<f64>();
    let run = |config: &mut SpectrumConfig| -> Result<(Spectrum, usize, &'static str, f64), ComputeError> {
        match options.precision {
            Precision::F64 => run_in::<f64>(&w64, &inputs, state, config, options.k),
            Precision::F32 => run_in::<f32>(&w64, &inputs, state, config, options.k),
        }
    };
    let (spectrum, state_dim, precision, seconds) = match options.threads {
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build()?;
            pool.install(|| run(&mut config))?
        }
        None => run(&mut config)?,
    };
    let config_info = ConfigInfo {
        batch,
        steps,
        warmup: options.warmup,
        qr_every: options.qr_every,
        k: config.k,
        log_base,
        precision: precision.to_string(),
        paper_compat: options.paper_compat,
    };
    let report = SpectrumReport::new(
        &spectrum,
        ModelInfo::new(&w64, state, state_dim),
        config_info,
        seconds,
    );
    Ok(SpectrumResult { report, spectrum })
}

fn run_in<T: Real>(
    weights: &StackWeights<f64>,
    inputs: &InputBatch<'_>,
    state: LstmState,
    config: &mut SpectrumConfig,
    k: Option<usize>,
) -> Result<(Spectrum, usize, &'static str, f64), ComputeError> {
    let stack = RecurrentStack::new(weights.cast::<T>(), state)?;
    let state_dim = stack.state_dim();
    config.k = k.unwrap_or(state_dim);
    if config.k == 0 || config.k > state_dim {
        return Err(ComputeError::BadK {
            k: config.k,
            state_dim,
        });
    }
    let converted: Vec<Vec<T>> = match inputs {
        InputBatch::F32(s) => s
            .iter()
            .map(|x| x.iter().map(|&v| T::of_f64(v as f64)).collect())
            .collect(),
        InputBatch::F64(s) => s
            .iter()
            .map(|x| x.iter().map(|&v| T::of_f64(v)).collect())
            .collect(),
    };
    if let Some(v) = converted.iter().flatten().find(|v| !v.as_f64().is_finite()) {
        return Err(ComputeError::Other(format!("non-finite input value {v:?}")));
    }
    let refs: Vec<&[T]> = converted.iter().map(Vec::as_slice).collect();
    let start = Instant::now();
    let spectrum = lyapunov_spectrum(&stack, &refs, config)?;
    let seconds = start.elapsed().as_secs_f64();
    Ok((spectrum, state_dim, T::NAME, seconds))
}

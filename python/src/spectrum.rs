//! `_lyap.spectrum`: the Lyapunov spectrum of a network driven by a batch of input sequences,
//! computed by the library's front door (`compute_spectrum`, docs/DESIGN.md section 2) with
//! the GIL released. Returns the raw pieces `lyap.Spectrum` is built from: the report's JSON
//! text (exactly what `lyap spectrum --out` writes) and its vectors as numpy arrays.

use crate::errors::{guard, BindingError};
use crate::inputs;
use crate::weights;
use lyap_core::{CheckConfig, Precision};
use lyap_rnn::report::{Checks, LogBase, SpectrumReport};
use lyap_rnn::{compute_spectrum, InputBatch, SpectrumOptions, SpectrumResult, ZeroInputs};
use lyap_rnn::{LstmState, StackWeights};
use numpy::ndarray::{Array2, Array3};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Options as Python passes them (strings resolved here so messages are the library's).
pub struct RawOptions<'a> {
    pub warmup: usize,
    pub steps: Option<usize>,
    pub k: Option<usize>,
    pub qr_every: usize,
    pub state: Option<&'a str>,
    pub precision: &'a str,
    pub log_base: Option<&'a str>,
    pub paper_compat: bool,
    pub trace: bool,
    pub threads: Option<usize>,
    pub until_converged: Option<f64>,
    pub max_steps: usize,
    pub check_max: bool,
    pub sum_rule: bool,
    pub dt: Option<f64>,
    /// Run the network on its own readout (docs/DESIGN.md section 2.2).
    pub closed_loop: bool,
}

/// Where the network comes from: `source` (a path or a dict of names to numpy arrays) with
/// its `arch` and `prefix`, and for a closed loop the `readout` (`None`: found in `source`; a
/// string: its prefix there; a tuple `(weight, bias or None)` of float64 arrays).
pub struct Network<'a, 'py> {
    pub source: &'a Bound<'py, PyAny>,
    pub arch: Option<&'a str>,
    pub prefix: Option<&'a str>,
    pub readout: Option<&'a Bound<'py, PyAny>>,
}

/// The front door's options from the Python arguments.
pub fn options(raw: &RawOptions<'_>) -> Result<SpectrumOptions, BindingError> {
    let state = raw
        .state
        .map(str::parse::<LstmState>)
        .transpose()
        .map_err(BindingError::Value)?;
    let log_base = raw
        .log_base
        .map(str::parse::<LogBase>)
        .transpose()
        .map_err(BindingError::Value)?;
    let precision = match raw.precision {
        "float64" | "f64" => Precision::F64,
        "float32" | "f32" => Precision::F32,
        other => {
            return Err(BindingError::value(format!(
                "unknown precision '{other}': expected float64 or float32"
            )))
        }
    };
    if raw.threads == Some(0) {
        return Err(BindingError::value("threads must be at least 1"));
    }
    // The front door's checks of `--until-converged`, `--max-steps` and `--dt`, worded with
    // the keyword names (as inputs.rs words the CLI's input checks).
    if let Some(tolerance) = raw.until_converged {
        if !(tolerance.is_finite() && tolerance > 0.0) {
            return Err(BindingError::value(format!(
                "until_converged {tolerance} must be a positive finite tolerance"
            )));
        }
    }
    if raw.max_steps == 0 {
        return Err(BindingError::value("max_steps must be at least 1"));
    }
    if let Some(dt) = raw.dt {
        if !(dt.is_finite() && dt > 0.0) {
            return Err(BindingError::value(format!(
                "dt {dt} must be a positive finite time step"
            )));
        }
    }
    Ok(SpectrumOptions {
        k: raw.k,
        warmup: raw.warmup,
        steps: raw.steps,
        qr_every: raw.qr_every,
        state,
        precision,
        log_base,
        paper_compat: raw.paper_compat,
        trace: raw.trace,
        threads: raw.threads,
        checks: CheckConfig {
            sum_rule: raw.sum_rule,
            max_by_perturbation: raw.check_max,
        },
        until_converged: raw.until_converged,
        max_steps: raw.max_steps,
        dt: raw.dt,
        closed_loop: None,
    })
}

/// Loads the network, borrows the inputs and computes the spectrum without the GIL.
pub fn run<'py>(
    py: Python<'py>,
    network: &Network<'_, 'py>,
    inputs: &Bound<'py, PyAny>,
    raw: &RawOptions<'_>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut options = options(raw)?;
    if network.readout.is_some() && !raw.closed_loop {
        return Err(BindingError::value(
            "readout= chooses the readout of closed_loop=True; add closed_loop=True",
        )
        .into());
    }
    let (weights, prefix) = weights::load(network.source, network.arch, network.prefix)?;
    check_max_state(&weights, &options)?;
    let mut input_address = None;
    let result = if raw.closed_loop {
        options.closed_loop = Some(weights::readout(network.source, &weights, network.readout)?);
        if inputs.is_none() {
            // the zero state and a zero first input, one sequence (as the CLI)
            let zero = vec![0.0; weights.input_size];
            let batch = InputBatch::F64(vec![zero.as_slice()]);
            without_gil(py, &weights, batch, &options)?
        } else {
            let (borrowed, shape) = inputs::borrow(inputs, weights.input_size)?;
            let (batch, address) = borrowed.batch(shape)?;
            input_address = Some(address);
            without_gil(py, &weights, batch, &options)?
        }
    } else if inputs.is_none() {
        let zeros = ZeroInputs {
            input_size: weights.input_size,
        };
        let batch = inputs::zero_batch(&zeros, raw.steps)?;
        without_gil(py, &weights, batch, &options)?
    } else {
        let (borrowed, shape) = inputs::borrow(inputs, weights.input_size)?;
        let until = raw.until_converged.is_some();
        options.steps = Some(inputs::check_steps(
            shape.length,
            raw.warmup,
            raw.steps,
            raw.paper_compat,
            until,
        )?);
        let (batch, address) = borrowed.batch(shape)?;
        input_address = Some(address);
        without_gil(py, &weights, batch, &options)?
    };
    let out = PyDict::new(py);
    fill(py, &out, &result)?;
    out.set_item("prefix", prefix)?;
    out.set_item("input_address", input_address)?;
    Ok(out)
}

/// `check_max` needs a state every layer's `set_state` can perturb: the front door refuses a
/// hidden-state LSTM (`ComputeError::CheckMaxHiddenState`); this is its message in the
/// keyword names, checked before the run.
fn check_max_state(
    weights: &StackWeights<f64>,
    options: &SpectrumOptions,
) -> Result<(), BindingError> {
    let hidden = options.method()?.state == LstmState::Hidden;
    if options.checks.max_by_perturbation && weights.arch.has_cell_state() && hidden {
        return Err(BindingError::value(
            "check_max needs the full LSTM state (state=\"full\"): with the hidden state the \
             perturbation of c is held at zero, which no pair of trajectories can do",
        ));
    }
    Ok(())
}

/// [`compute_spectrum`] with the GIL released (other Python threads run meanwhile) and a panic
/// caught.
fn without_gil(
    py: Python<'_>,
    weights: &StackWeights<f64>,
    batch: InputBatch<'_>,
    options: &SpectrumOptions,
) -> Result<SpectrumResult, BindingError> {
    py.detach(|| guard(|| Ok(compute_spectrum(weights, batch, options)?)))
}

/// The report's pieces: `json`, `exponents`, `std`, `sem`, `block_sem`, `per_sequence`,
/// `summary`, `seconds`, `warnings`, `checks` (a dict, or `None` when nothing was checked), and `trace` / `trace_steps` / `trace_csv` when recorded (else `None`).
fn fill<'py>(py: Python<'py>, out: &Bound<'py, PyDict>, result: &SpectrumResult) -> PyResult<()> {
    let report: &SpectrumReport = &result.report;
    let vector = |v: &[f64]| PyArray1::from_slice(py, v);
    out.set_item("json", report.to_json())?;
    out.set_item("exponents", vector(&report.exponents.mean))?;
    out.set_item("std", vector(&report.exponents.std))?;
    out.set_item("sem", vector(&report.exponents.sem))?;
    out.set_item("block_sem", vector(&report.exponents.block_sem))?;
    out.set_item("checks", checks(py, report.checks.as_ref())?)?;
    let k = report.config.k;
    let rows: Vec<f64> = report.per_sequence.iter().flatten().copied().collect();
    let per_sequence = Array2::from_shape_vec((report.per_sequence.len(), k), rows)
        .map_err(|e| BindingError::Internal(e.to_string()))?;
    out.set_item("per_sequence", per_sequence.into_pyarray(py))?;
    let summary = PyDict::new(py);
    let s = &report.summary;
    summary.set_item("max", s.max)?;
    summary.set_item("mean", s.mean)?;
    summary.set_item("min", s.min)?;
    summary.set_item("variance", s.variance)?;
    summary.set_item("sum", s.sum)?;
    summary.set_item("n_positive", s.n_positive)?;
    summary.set_item("kaplan_yorke_dimension", s.kaplan_yorke_dimension)?;
    out.set_item("summary", summary)?;
    out.set_item("seconds", report.timing.seconds)?;
    out.set_item("warnings", report.warnings.clone())?;
    let sequences = &result.spectrum.per_sequence;
    let points = sequences.first().map_or(0, |s| s.trace.len());
    if points == 0 {
        out.set_item("trace", py.None())?;
        out.set_item("trace_steps", py.None())?;
        out.set_item("trace_csv", py.None())?;
        return Ok(());
    }
    let base = report.config.log_base;
    let values: Vec<f64> = sequences
        .iter()
        .flat_map(|s| s.trace.iter().flat_map(|p| p.estimate.iter()))
        .map(|&x| base.convert(x))
        .collect();
    let trace = Array3::from_shape_vec((sequences.len(), points, k), values)
        .map_err(|e| BindingError::Internal(e.to_string()))?;
    out.set_item("trace", trace.into_pyarray(py))?;
    let steps: Vec<u64> = sequences[0].trace.iter().map(|p| p.step as u64).collect();
    out.set_item("trace_steps", PyArray1::from_vec(py, steps))?;
    out.set_item("trace_csv", result.trace_csv())?;
    Ok(())
}

/// `checks` of the report as a dict with the JSON's keys (non-finite values kept as floats),
/// or `None` when nothing was checked.
fn checks<'py>(py: Python<'py>, checks: Option<&Checks>) -> PyResult<Option<Bound<'py, PyDict>>> {
    let Some(checks) = checks else {
        return Ok(None);
    };
    let out = PyDict::new(py);
    if let Some(rule) = &checks.sum_rule {
        let part = PyDict::new(py);
        part.set_item("sum", rule.sum)?;
        part.set_item("mean_log_abs_det", rule.mean_log_abs_det)?;
        part.set_item("difference", rule.difference)?;
        out.set_item("sum_rule", part)?;
    }
    if let Some(max) = &checks.max_by_perturbation {
        let part = PyDict::new(py);
        part.set_item("estimate", max.estimate)?;
        part.set_item("difference", max.difference)?;
        out.set_item("max_by_perturbation", part)?;
    }
    Ok(Some(out))
}

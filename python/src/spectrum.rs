//! `_lyap.spectrum`: the Lyapunov spectrum of a network driven by a batch of input sequences,
//! computed by the library's front door (`compute_spectrum`, docs/DESIGN.md section 2) with
//! the GIL released. Returns the raw pieces `lyap.Spectrum` is built from: the report's JSON
//! text (exactly what `lyap spectrum --out` writes) and its vectors as numpy arrays.

use crate::errors::{guard, BindingError};
use crate::inputs;
use crate::weights;
use lyap_core::Precision;
use lyap_rnn::report::{LogBase, SpectrumReport};
use lyap_rnn::{compute_spectrum, InputBatch, SpectrumOptions, SpectrumResult};
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
        ..SpectrumOptions::default()
    })
}

/// Loads the network, borrows the inputs and computes the spectrum without the GIL.
pub fn run<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    inputs: &Bound<'py, PyAny>,
    arch: Option<&str>,
    prefix: Option<&str>,
    raw: &RawOptions<'_>,
) -> PyResult<Bound<'py, PyDict>> {
    let options = options(raw)?;
    let (weights, prefix) = weights::load(source, arch, prefix)?;
    let mut input_address = None;
    let result = if inputs.is_none() {
        let zeros = inputs::zero_sequences(weights.input_size, raw)?;
        let batch = InputBatch::F64(zeros.iter().map(Vec::as_slice).collect());
        without_gil(py, &weights, batch, &options)?
    } else {
        let (borrowed, shape) = inputs::borrow(inputs, weights.input_size)?;
        inputs::check_steps(shape.length, raw.warmup, raw.steps, raw.paper_compat)?;
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

/// The report's pieces: `json`, `exponents`, `std`, `sem`, `per_sequence`, `summary`,
/// `seconds`, `warnings`, and `trace` / `trace_steps` / `trace_csv` when recorded (else `None`).
fn fill<'py>(py: Python<'py>, out: &Bound<'py, PyDict>, result: &SpectrumResult) -> PyResult<()> {
    let report: &SpectrumReport = &result.report;
    let vector = |v: &[f64]| PyArray1::from_slice(py, v);
    out.set_item("json", report.to_json())?;
    out.set_item("exponents", vector(&report.exponents.mean))?;
    out.set_item("std", vector(&report.exponents.std))?;
    out.set_item("sem", vector(&report.exponents.sem))?;
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

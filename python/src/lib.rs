//! `lyap._lyap`: the Rust side of the Python package `lyap` (issue 12). It holds no numerics:
//! spectra come from the library's front door (docs/DESIGN.md section 2), weights are read by
//! `lyap_rnn::pytorch` and run directories are written by `lyap_train::run_dir` (section 6).
//! The Python layer (`python/lyap/`) turns torch modules and tensors into the numpy arrays
//! these functions take.

mod errors;
mod inputs;
mod run;
mod spectrum;
mod weights;

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The spectrum of `source` (a path or a dict of names to numpy arrays) driven by `inputs`
/// (a C-contiguous float32/float64 numpy array `[B, T, D]`). See `lyap.spectrum`.
#[pyfunction]
#[pyo3(name = "spectrum", signature = (source, inputs, *, arch=None, prefix=None, warmup=0, steps=None, k=None,
    qr_every=1, state=None, precision="float64", log_base=None, paper_compat=false,
    trace=false, threads=None, until_converged=None, max_steps=lyap_rnn::DEFAULT_MAX_STEPS,
    check_max=false, sum_rule=true, dt=None, closed_loop=false, readout=None))]
#[allow(clippy::too_many_arguments)]
fn compute<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    inputs: &Bound<'py, PyAny>,
    arch: Option<&str>,
    prefix: Option<&str>,
    warmup: usize,
    steps: Option<usize>,
    k: Option<usize>,
    qr_every: usize,
    state: Option<&str>,
    precision: &str,
    log_base: Option<&str>,
    paper_compat: bool,
    trace: bool,
    threads: Option<usize>,
    until_converged: Option<f64>,
    max_steps: usize,
    check_max: bool,
    sum_rule: bool,
    dt: Option<f64>,
    closed_loop: bool,
    readout: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let raw = spectrum::RawOptions {
        warmup,
        steps,
        k,
        qr_every,
        state,
        precision,
        log_base,
        paper_compat,
        trace,
        threads,
        until_converged,
        max_steps,
        check_max,
        sum_rule,
        dt,
        closed_loop,
    };
    let network = spectrum::Network {
        source,
        arch,
        prefix,
        readout,
    };
    errors::guard(|| spectrum::run(py, &network, inputs, &raw))
}

/// Raises a Rust panic inside the extension (tests check it becomes a `RuntimeError`).
#[pyfunction]
fn _panic_for_test() -> PyResult<()> {
    Ok(errors::guard(|| -> Result<(), errors::BindingError> {
        panic!("deliberate panic for the test suite")
    })?)
}

#[pymodule]
fn _lyap(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compute, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(run::imported_spectrum_json, m)?)?;
    m.add_class::<run::RunWriter>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

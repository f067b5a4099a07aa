//! How errors cross into Python: a user's mistake is a `ValueError` (or a `TypeError` for a
//! wrong type) with the one-line message the CLI prints for it; a Rust panic is caught at the
//! boundary and becomes a `RuntimeError`, so it never aborts the interpreter.

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::PyErr;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A failure of the bindings, kept typed until it becomes a Python exception.
#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    /// A value the user gave is wrong (shape, size, range, non-finite, conflict).
    #[error("{0}")]
    Value(String),
    /// An argument of the wrong type (integer arrays where floats are needed, ...).
    #[error("{0}")]
    Type(String),
    /// The weights do not form a recurrent stack (see `lyap_rnn::pytorch`).
    #[error("{context}{source}")]
    Weights {
        context: String,
        #[source]
        source: lyap_rnn::pytorch::PytorchError,
    },
    /// The spectrum computation refused its inputs or options.
    #[error(transparent)]
    Compute(#[from] lyap_rnn::ComputeError),
    /// Writing or reading a run directory failed.
    #[error(transparent)]
    Run(#[from] lyap_train::error::TrainError),
    /// A fault inside the library (a caught panic).
    #[error("internal error in lyap (please report): {0}")]
    Internal(String),
}

impl BindingError {
    pub fn value(message: impl Into<String>) -> Self {
        Self::Value(message.into())
    }
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::Type(message.into())
    }
}

impl From<BindingError> for PyErr {
    fn from(error: BindingError) -> Self {
        let message = error.to_string();
        match error {
            BindingError::Type(_) => PyTypeError::new_err(message),
            BindingError::Weights {
                source: lyap_rnn::pytorch::PytorchError::UnsupportedDtype { .. },
                ..
            } => PyTypeError::new_err(message),
            BindingError::Internal(_) => PyRuntimeError::new_err(message),
            BindingError::Compute(lyap_rnn::ComputeError::ThreadPool(_)) => {
                PyRuntimeError::new_err(message)
            }
            BindingError::Run(_) => PyValueError::new_err(message),
            _ => PyValueError::new_err(message),
        }
    }
}

/// Runs `f`, turning a panic into [`BindingError::Internal`] with the panic's message.
pub fn guard<R, E: From<BindingError>>(f: impl FnOnce() -> Result<R, E>) -> Result<R, E> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic without a message".to_string());
            Err(BindingError::Internal(message).into())
        }
    }
}

/// `value` as a numpy array, or a `TypeError` naming `what` and the type it has.
pub fn as_array<'a, 'py>(
    value: &'a pyo3::Bound<'py, pyo3::PyAny>,
    what: &str,
) -> Result<&'a pyo3::Bound<'py, numpy::PyUntypedArray>, BindingError> {
    use pyo3::types::{PyAnyMethods, PyTypeMethods};
    value.cast::<numpy::PyUntypedArray>().map_err(|_| {
        let type_name = value
            .get_type()
            .name()
            .map_or_else(|_| "?".into(), |n| n.to_string());
        BindingError::type_error(format!(
            "{what}: expected a numpy array or torch tensor, got {type_name}"
        ))
    })
}

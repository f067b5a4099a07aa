//! The two kinds of failure of a command: the user's input is wrong (exit code 2), or the
//! program itself failed (exit code 1). Both print one line on stderr; an error that comes
//! from a library keeps it as its [`std::error::Error::source`].

use lyap_experiments::ExperimentError;
use std::fmt;

/// A library error kept as the source of a [`CliError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A command's failure, mapped to an exit code by `main`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input described by the CLI itself: inconsistent flags or shapes, bad values.
    #[error("error: {}", one_line(.0))]
    BadInput(String),
    /// Bad input found by a library (a missing or malformed file, an invalid spec...):
    /// printed as `context: source`, or the source alone.
    #[error("error: {}", with_context(.context.as_deref(), .source))]
    BadSource {
        context: Option<String>,
        #[source]
        source: BoxError,
    },
    /// A failure that is not the user's fault, described by the CLI.
    #[error("internal error: {}", one_line(.0))]
    Internal(String),
    /// A failure that is not the user's fault, reported by a library or the system.
    #[error("internal error: {}", with_context(.context.as_deref(), .source))]
    InternalSource {
        context: Option<String>,
        #[source]
        source: BoxError,
    },
}

impl CliError {
    /// A bad-input error with the given message.
    pub fn bad(message: impl fmt::Display) -> Self {
        CliError::BadInput(one_line(&message.to_string()))
    }

    /// Bad input reported by a library error, printed as that error's message.
    pub fn input(source: impl Into<BoxError>) -> Self {
        CliError::BadSource {
            context: None,
            source: source.into(),
        }
    }

    /// Bad input reported by a library error, printed as `context: source`.
    pub fn input_at(context: impl fmt::Display, source: impl Into<BoxError>) -> Self {
        CliError::BadSource {
            context: Some(context.to_string()),
            source: source.into(),
        }
    }

    /// An internal failure reported by a library or system error.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        CliError::InternalSource {
            context: None,
            source: source.into(),
        }
    }

    /// The process exit code: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BadInput(_) | CliError::BadSource { .. } => 2,
            CliError::Internal(_) | CliError::InternalSource { .. } => 1,
        }
    }
}

/// A sweep or analysis failure: bad input (exit 2) when it is the user's (a spec, a missing or
/// unreadable sweep directory, a malformed file), internal (exit 1) otherwise.
impl From<ExperimentError> for CliError {
    fn from(error: ExperimentError) -> Self {
        if error.is_bad_input() {
            CliError::input(error)
        } else {
            CliError::internal(error)
        }
    }
}

/// Joins the non-empty lines of `text` with "; " so that every error is one stderr line.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// `context: source` (or `source` alone) on one line. The source's message is turned into
/// text here, at the boundary where the CLI prints it; the error itself stays the source.
fn with_context(context: Option<&str>, source: &BoxError) -> String {
    match context {
        Some(context) => one_line(&format!("{context}: {source}")),
        None => one_line(&source.to_string()),
    }
}

pub type CliResult<T> = Result<T, CliError>;

//! The two kinds of failure of a command: the user's input is wrong (exit code 2), or the
//! program itself failed (exit code 1). Both carry one line of text for stderr.

use std::fmt;

/// A command's failure, mapped to an exit code by `main`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// Bad input: a missing or malformed file, inconsistent flags or shapes, bad values.
    BadInput(String),
    /// A failure that is not the user's fault.
    Internal(String),
}

impl CliError {
    /// A bad-input error with the given message.
    pub fn bad(message: impl fmt::Display) -> Self {
        CliError::BadInput(one_line(&message.to_string()))
    }

    /// The process exit code: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BadInput(_) => 2,
            CliError::Internal(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::BadInput(m) => write!(f, "error: {m}"),
            CliError::Internal(m) => write!(f, "internal error: {m}"),
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

pub type CliResult<T> = Result<T, CliError>;

//! `lyap`: Lyapunov spectra of recurrent neural networks (docs/DESIGN.md section 6).
//!
//! Parses the command line, runs the subcommand and maps failures to exit codes: 0 success,
//! 2 bad input (one line on stderr naming the file, key, shape or value), 1 internal error.

// The argument structs' doc comments are clap's --help texts, written for a terminal:
// brackets there ([B, T], [train]) are shapes and TOML tables, not rustdoc links.
#![allow(rustdoc::broken_intra_doc_links)]

mod cli;
mod commands;
mod error;
mod formats;
mod output;

use clap::Parser;
use cli::{Cli, Command};
use error::{one_line, CliError};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Mutex;

fn main() -> ExitCode {
    restore_default_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help / --version: clap prints to stdout and succeeds.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // Usage errors are bad input: one line, exit code 2.
            return fail(&CliError::BadInput(clap_message(&e.render().to_string())));
        }
    };
    let result = catch_internal(|| match &cli.command {
        Command::Spectrum(args) => commands::spectrum::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Bench(args) => commands::bench_train::run(args),
        Command::Sweep(args) => commands::sweep::run(args),
        Command::Analyze(args) => commands::analyze::run(args),
        Command::Report(args) => commands::report::run(args),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Rust ignores SIGPIPE, so `lyap ... | head` would make every later `println!` panic; like
/// other Unix filters, end quietly when the reader goes away.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Clap's multi-line usage error as one line, without the usage and help hints.
fn clap_message(rendered: &str) -> String {
    let lines: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more"))
        .collect();
    lines.join(" ").trim_start_matches("error: ").to_string()
}

fn fail(error: &CliError) -> ExitCode {
    eprintln!("{error}");
    ExitCode::from(error.exit_code())
}

/// The message and location of the last panic, captured by the hook installed in
/// [`catch_internal`].
static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);

/// Runs `command`, turning a panic (a bug, never expected on user data) into
/// [`CliError::Internal`] with a one-line message instead of a backtrace.
fn catch_internal(command: impl FnOnce() -> error::CliResult<()>) -> error::CliResult<()> {
    panic::set_hook(Box::new(|info| {
        let message = one_line(&info.to_string());
        if let Ok(mut slot) = PANIC_MESSAGE.lock() {
            *slot = Some(message);
        }
    }));
    panic::catch_unwind(AssertUnwindSafe(command)).unwrap_or_else(|_| {
        let message = PANIC_MESSAGE
            .lock()
            .ok()
            .and_then(|mut slot| slot.take())
            .unwrap_or_else(|| "unknown failure".into());
        Err(CliError::Internal(format!(
            "{message} (this is a bug in lyap)"
        )))
    })
}

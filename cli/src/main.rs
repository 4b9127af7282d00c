//! The `celador` binary: a thin shell over `celador-engine`.

mod args;
mod commands;
mod packs;
mod progress;

use clap::Parser;

/// glibc's allocator spends most of a parallel scan in arena growth and consolidation (measured
/// with perf on the 2,000-file corpus); mimalloc removes that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::io::Write;
use std::process::ExitCode;

/// How a run ended; the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// No findings at or above the threshold.
    Success,
    /// Findings at or above the threshold.
    Failure,
    /// Usage error, unreadable or malformed input, or an invalid pack.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitStatus::Error.into() } else { ExitStatus::Success.into() };
        }
    };
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(e) => {
            // A closed pipe (`celador check | head`) is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitStatus::Success.into();
            }
            let message = format!("celador: error: {e:#}");
            let _ = writeln!(std::io::stderr(), "{}", celador_engine::report::escape_controls(&message));
            ExitStatus::Error.into()
        }
    }
}

//! Subcommands.

mod baseline;
mod check;
mod explain;
mod rules;
#[cfg(feature = "webhook")]
mod serve;
mod test;

use crate::ExitStatus;
use crate::args::{Cli, Command};
use std::io::Write;

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Baseline(command) => baseline::run(&command),
        #[cfg(feature = "webhook")]
        Command::Serve(args) => serve::run(&args),
    }
}

/// Reports problems that stop a command (an invalid pack), located as `check` locates them,
/// without a check summary, as JSON when `json`; returns the error status.
pub(crate) fn emit_problems(
    sources: &celador_engine::source::SourceMap,
    problems: &[celador_engine::diagnostic::Problem],
    json: bool,
) -> anyhow::Result<ExitStatus> {
    use celador_engine::report::{Report, Summary, render_json_errors, render_problems};
    let mut problems = problems.to_vec();
    let sources = &celador_engine::secrets::MaskedSources::without_secrets(sources, &mut problems);
    let problems = &problems;
    let report = Report { sources, rules: &[], diagnostics: &[], problems, summary: Summary::default(), files: &[] };
    emit(&if json { render_json_errors(&report) } else { render_problems(&report, Default::default()) })?;
    Ok(ExitStatus::Error)
}

/// Writes to stdout, all at once.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

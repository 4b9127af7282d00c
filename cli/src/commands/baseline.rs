//! `celador baseline create`.

use super::check::scan;
use crate::ExitStatus;
use crate::args::{BaselineCommand, BaselineCreateArgs};
use anyhow::Context as _;
use celador_engine::baseline::Baseline;
use celador_engine::report::escape_controls;
use std::io::Write as _;

pub fn run(command: &BaselineCommand) -> anyhow::Result<ExitStatus> {
    match command {
        BaselineCommand::Create(args) => create(args),
    }
}

fn create(args: &BaselineCreateArgs) -> anyhow::Result<ExitStatus> {
    // A baseline records rules, files and logical paths: no text.
    let mut scan = scan(&args.scan, false)?;
    // The baseline records messages: never a secret's value.
    scan.secrets.scrub_messages(&mut scan.diagnostics, &mut scan.problems);
    if !scan.problems.is_empty() {
        for p in &scan.problems {
            let line = format!("celador: error: {}: {}", p.file.as_deref().unwrap_or("input"), p.message);
            let _ = writeln!(std::io::stderr(), "{}", escape_controls(&line));
        }
        return Ok(ExitStatus::Error);
    }
    let baseline = Baseline::create(&scan.diagnostics, &scan.sources);
    let json = serde_json::to_string_pretty(&baseline)? + "\n";
    std::fs::write(&args.output, json).with_context(|| format!("cannot write {}", args.output.display()))?;
    let _ = writeln!(
        std::io::stderr(),
        "celador: recorded {} findings in {}",
        baseline.findings.len(),
        args.output.display()
    );
    Ok(ExitStatus::Success)
}

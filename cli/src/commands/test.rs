//! `celador test [PACK...]`.

use super::{emit, emit_problems};
use crate::ExitStatus;
use crate::args::{PackArgs, TestArgs};
use crate::packs::load_packs;
use celador_engine::fixtures::run_fixtures;
use celador_engine::report::escape_controls;
use celador_engine::source::SourceMap;
use std::fmt::Write as _;

pub fn run(args: &TestArgs) -> anyhow::Result<ExitStatus> {
    let sources = SourceMap::new();
    let pack_args = PackArgs { packs: args.packs.clone(), no_builtin: !args.packs.is_empty() };
    let (packs, problems) = load_packs(&pack_args, &sources);
    if !problems.is_empty() {
        return emit_problems(&sources, &problems, false);
    }
    let mut out = String::new();
    let (mut passed, mut failed) = (0, 0);
    for pack in &packs {
        for outcome in run_fixtures(pack) {
            if outcome.passed() {
                passed += 1;
                let _ = writeln!(
                    out,
                    "ok   {} {} ({} finding{})",
                    outcome.rule,
                    outcome.fixture,
                    outcome.matched,
                    if outcome.matched == 1 { "" } else { "s" }
                );
                continue;
            }
            failed += 1;
            let _ = writeln!(out, "FAIL {} {}", outcome.rule, outcome.fixture);
            for (line, column) in &outcome.missing {
                let _ = writeln!(out, "     expected a finding at {line}:{column}, none was reported");
            }
            for (position, message) in &outcome.unexpected {
                let _ = writeln!(
                    out,
                    "     unexpected finding at {}:{}:{}: {}",
                    escape_controls(&position.file),
                    position.line,
                    position.column,
                    escape_controls(message)
                );
            }
            for error in &outcome.errors {
                let _ = writeln!(out, "     error: {}", escape_controls(error));
            }
        }
    }
    let _ = writeln!(out, "\n{passed} passed, {failed} failed");
    emit(&out)?;
    Ok(if failed > 0 { ExitStatus::Failure } else { ExitStatus::Success })
}

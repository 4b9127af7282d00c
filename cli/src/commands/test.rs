//! `celador test [--update] [PACK...]`.

use super::{emit, emit_problems};
use crate::ExitStatus;
use crate::args::{PackArgs, TestArgs};
use crate::packs::{Builtin, load_packs};
use celador_engine::fixture_snapshots::{SnapshotMismatch, update_snapshots};
use celador_engine::fixtures::{FixtureOutcome, run_fixtures};
use celador_engine::report::escape_controls;
use celador_engine::source::SourceMap;
use std::fmt::Write as _;

pub fn run(args: &TestArgs) -> anyhow::Result<ExitStatus> {
    let sources = SourceMap::new();
    let pack_args = PackArgs { packs: args.packs.clone(), no_builtin: !args.packs.is_empty() };
    let (packs, problems) = load_packs(&pack_args, &[], &sources, Builtin::WithFixtures);
    if !problems.is_empty() {
        return emit_problems(&sources, &problems, false);
    }
    let mut out = String::new();
    let (mut passed, mut failed, mut stale) = (0, 0, 0);
    for pack in &packs {
        let mut run = run_fixtures(pack);
        if args.update {
            // What the fixtures produce now is the snapshot: only locations and errors can fail.
            let written = match update_snapshots(pack, &run) {
                Ok(written) => written,
                Err(e) => {
                    emit(&out)?;
                    return Err(anyhow::Error::new(e).context("cannot update the snapshots"));
                }
            };
            for file in written {
                let _ = writeln!(out, "updated {file}");
            }
            run.stale.clear();
            for outcome in &mut run.outcomes {
                outcome.snapshot = None;
            }
        }
        for outcome in &run.outcomes {
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
            } else {
                failed += 1;
                write_failure(&mut out, outcome);
            }
        }
        for snapshot in &run.stale {
            stale += 1;
            let _ = writeln!(out, "STALE {snapshot} (`celador test --update` deletes it)");
        }
    }
    let _ = write!(out, "\n{passed} passed, {failed} failed");
    if stale > 0 {
        let _ = write!(out, ", {stale} stale snapshot{}", if stale == 1 { "" } else { "s" });
    }
    out.push('\n');
    emit(&out)?;
    Ok(if failed > 0 || stale > 0 { ExitStatus::Failure } else { ExitStatus::Success })
}

fn write_failure(out: &mut String, outcome: &FixtureOutcome) {
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
    match &outcome.snapshot {
        None => {}
        Some(SnapshotMismatch::Missing { snapshot }) => {
            let _ = writeln!(
                out,
                "     no snapshot of `{}` in {snapshot}: run `celador test --update PACK` and review it",
                outcome.section
            );
        }
        Some(SnapshotMismatch::Changed { snapshot, diff }) => {
            let _ = writeln!(
                out,
                "     findings differ from `{}` in {snapshot} (-snapshot +now; accept with `celador test --update PACK`):",
                outcome.section
            );
            for line in diff {
                let _ = writeln!(out, "     {line}");
            }
        }
    }
}

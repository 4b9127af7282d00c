//! `celador rules`.

use super::{emit, emit_problems};
use crate::ExitStatus;
use crate::args::{ListFormat, RulesArgs};
use crate::packs::{Builtin, load_packs};
use celador_engine::pack::reference_markdown;
use celador_engine::source::SourceMap;
use std::fmt::Write as _;

pub fn run(args: &RulesArgs) -> anyhow::Result<ExitStatus> {
    let sources = SourceMap::new();
    let (packs, problems) = load_packs(&args.packs, &[], &sources, Builtin::RulesWhenUsed);
    if !problems.is_empty() {
        return emit_problems(&sources, &problems, args.format == ListFormat::Json);
    }
    let rules = packs.iter().flat_map(|p| p.rules.iter());
    let out = match args.format {
        ListFormat::Json => {
            let list: Vec<_> = rules
                .map(|r| {
                    serde_json::json!({
                        "id": &*r.id, "severity": r.severity.as_str(), "title": &*r.title, "pack": r.pack,
                        "kinds": r.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(), "tags": r.tags,
                        "docs": r.docs_url.as_deref(),
                    })
                })
                .collect();
            serde_json::to_string_pretty(&list)? + "\n"
        }
        ListFormat::Markdown => {
            packs.iter().map(|p| reference_markdown(&p.meta, &p.rules)).collect::<Vec<_>>().join("\n")
        }
        ListFormat::Human => {
            let mut out = String::new();
            for r in rules {
                let _ = writeln!(out, "{:<13} {:<9} {}", r.id, r.severity.as_str(), r.title);
            }
            out
        }
    };
    emit(&out)?;
    Ok(ExitStatus::Success)
}

//! `celador explain RULE`.

use super::emit;
use crate::ExitStatus;
use crate::args::ExplainArgs;
use crate::packs::load_packs;
use celador_engine::pack::Rule;
use celador_engine::source::SourceMap;
use std::fmt::Write as _;

pub fn run(args: &ExplainArgs) -> anyhow::Result<ExitStatus> {
    let sources = SourceMap::new();
    let (packs, problems) = load_packs(&args.packs, &sources);
    if let Some(p) = problems.first() {
        anyhow::bail!("cannot load rule packs: {}", p.message);
    }
    let wanted = args.rule.to_ascii_uppercase();
    let Some(rule) = packs.iter().flat_map(|p| p.rules.iter()).find(|r| r.id.to_ascii_uppercase() == wanted) else {
        anyhow::bail!("no rule `{}` (run `celador rules` to list them)", args.rule);
    };
    emit(&explain(rule))?;
    Ok(ExitStatus::Success)
}

/// The full documentation of a rule as Markdown: the same text SARIF help and the rule
/// reference are built from.
pub fn explain(rule: &Rule) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}\n", rule.id, rule.title);
    let _ = writeln!(out, "Severity: {}", rule.severity);
    let _ = writeln!(out, "Applies to: {}", rule.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "));
    if let Some(guide) = &rule.docs.guide {
        let _ = writeln!(out, "Hardening guide: {guide}");
    }
    if let Some(url) = &rule.docs_url {
        let _ = writeln!(out, "Docs: {url}");
    }
    for (heading, body) in
        [("What it checks", &rule.docs.what), ("Why it matters", &rule.docs.why), ("How to fix it", &rule.docs.fix)]
    {
        if !body.trim().is_empty() {
            let _ = writeln!(out, "\n## {heading}\n\n{}", body.trim());
        }
    }
    if !rule.docs.references.is_empty() {
        let _ = writeln!(out, "\n## References\n");
        for r in &rule.docs.references {
            let _ = writeln!(out, "- {r}");
        }
    }
    out
}

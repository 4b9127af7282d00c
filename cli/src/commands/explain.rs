//! `celador explain RULE`.

use super::{emit, emit_problems};
use crate::ExitStatus;
use crate::args::ExplainArgs;
use crate::packs::{Builtin, load_packs};
use celador_engine::pack::{compile_rules, rule_markdown};
use celador_engine::source::SourceMap;

pub fn run(args: &ExplainArgs) -> anyhow::Result<ExitStatus> {
    let sources = SourceMap::new();
    let (packs, problems) = load_packs(&args.packs, &[], &sources, Builtin::RulesWhenUsed);
    if !problems.is_empty() {
        return emit_problems(&sources, &problems, false);
    }
    let wanted = args.rule.to_ascii_uppercase();
    let Some(rule) = packs.iter().flat_map(|p| p.rules.iter()).find(|r| r.id.to_ascii_uppercase() == wanted) else {
        anyhow::bail!("no rule `{}` (run `celador rules` to list them)", args.rule);
    };
    let problems = compile_rules(std::slice::from_ref(rule));
    if !problems.is_empty() {
        return emit_problems(&sources, &problems, false);
    }
    // The estimate follows the header lines (severity, inputs, guide, docs).
    let markdown = rule_markdown(rule);
    let header_end = markdown.find("\n\n## ").map_or(markdown.len(), |i| i + 1);
    let cost = format!("Cost: {}\n", rule.cost.describe(rule.scope));
    emit(&format!("{}{cost}{}", &markdown[..header_end], &markdown[header_end..]))?;
    Ok(ExitStatus::Success)
}

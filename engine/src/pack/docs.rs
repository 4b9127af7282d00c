//! Rule documentation, rendered from the one source every output uses: `celador explain`,
//! SARIF `help`, and the generated rule reference.

use super::Rule;
use std::fmt::Write as _;

/// The full documentation of a rule as Markdown: the same text SARIF help and the rule
/// reference are built from.
pub fn rule_markdown(rule: &Rule) -> String {
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

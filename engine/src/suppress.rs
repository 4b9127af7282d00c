//! Suppressions: inline comments and `[[ignore]]` entries of `celador.toml`.
//!
//! An inline suppression is a comment in any format that has comments (YAML, `.env`, TOML):
//!
//! ```yaml
//! # celador:ignore PSH-TLS-006 reason="lab cluster, self-signed certs" until=2027-03-31
//! - {name: ALLOW_INVALID_CERTS, value: "true"}
//! image: pulumi/console:latest  # celador:ignore PSH-APP-006 reason="pinned by the platform"
//! ```
//!
//! A comment on a line of its own covers the next line; a trailing comment its own line.
//! Several rule ids may be listed (space- or comma-separated); a reason is required. Like
//! ruff's unused-`noqa`, a suppression that matched nothing is reported, and so is one past its
//! `until` date — which no longer suppresses anything.

use crate::config::{Config, parse_date};
use crate::diagnostic::{Diagnostic, EXPIRED_SUPPRESSION, INVALID_SUPPRESSION, Label, Severity, UNUSED_SUPPRESSION};
use crate::source::{FileId, SourceMap, Span};
use std::sync::Arc;

/// The marker inline suppressions start with.
pub const MARKER: &str = "celador:ignore";

/// A suppression written in a file.
#[derive(Debug, Clone)]
pub struct InlineSuppression {
    /// The comment.
    pub span: Span,
    /// The line whose findings it covers.
    pub line: usize,
    /// Rule ids.
    pub rules: Vec<String>,
    /// Why (may be empty: then it is invalid).
    pub reason: String,
    /// Expiry.
    pub until: Option<(i32, u32, u32)>,
    /// A problem with the comment itself.
    pub error: Option<String>,
}

/// Finds the inline suppressions of a file.
pub fn inline_suppressions(sources: &SourceMap, file: FileId) -> Vec<InlineSuppression> {
    let source = sources.get(file);
    let text = &source.text;
    let mut out = Vec::new();
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let line_start = offset;
        offset += line.len();
        let Some(at) = line.find(MARKER) else { continue };
        let before = &line[..at];
        let Some(hash) = before.rfind('#') else { continue };
        if !before[hash + 1..].trim().is_empty() || (hash > 0 && !before[..hash].ends_with([' ', '\t'])) {
            continue;
        }
        let standalone = before[..hash].trim().is_empty();
        let content = line[at + MARKER.len()..].trim_end_matches(['\n', '\r']);
        let span = Span::new(file, line_start + hash, line_start + at + MARKER.len() + content.len());
        let mut suppression = parse_comment(content);
        suppression.span = span;
        suppression.line = index + 1 + usize::from(standalone);
        out.push(suppression);
    }
    out
}

fn parse_comment(content: &str) -> InlineSuppression {
    let mut s = InlineSuppression {
        span: Span::default(),
        line: 0,
        rules: Vec::new(),
        reason: String::new(),
        until: None,
        error: None,
    };
    let mut rest = content.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("reason=") {
            let (value, tail) = quoted(after);
            s.reason = value.trim().to_owned();
            rest = tail.trim_start();
        } else if let Some(after) = rest.strip_prefix("until=") {
            let (value, tail) = quoted(after);
            s.until = parse_date(&value);
            if s.until.is_none() {
                s.error = Some(format!("invalid date `{value}` in suppression (expected YYYY-MM-DD)"));
            }
            rest = tail.trim_start();
        } else {
            let end = rest.find([' ', '\t', ',']).unwrap_or(rest.len());
            let token = &rest[..end];
            if token.contains('=') {
                s.error =
                    Some(format!("unknown suppression option `{token}` (expected reason=\"…\" or until=YYYY-MM-DD)"));
            } else if !token.is_empty() {
                s.rules.push(token.to_owned());
            }
            rest = rest[end..].trim_start_matches([' ', '\t', ',']);
        }
    }
    if s.error.is_none() && s.rules.is_empty() {
        s.error = Some("suppression names no rule (write `celador:ignore RULE-ID reason=\"…\"`)".to_owned());
    }
    if s.error.is_none() && s.reason.is_empty() {
        s.error = Some("suppression has no reason (add reason=\"…\")".to_owned());
    }
    s
}

/// A value after `key=`: `"quoted"`, `'quoted'` or a bare word. Returns it and the rest.
fn quoted(text: &str) -> (String, &str) {
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote) {
            return match inner.find(quote) {
                Some(end) => (inner[..end].to_owned(), &inner[end + 1..]),
                None => (inner.to_owned(), ""),
            };
        }
    }
    let end = text.find([' ', '\t']).unwrap_or(text.len());
    (text[..end].to_owned(), &text[end..])
}

/// What applying suppressions did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings still reported.
    pub kept: Vec<Diagnostic>,
    /// Findings suppressed, with the reason.
    pub suppressed: Vec<(Diagnostic, String)>,
}

fn notice(rule: &str, title: &str, severity: Severity, span: Span, message: String, help: &str) -> Diagnostic {
    Diagnostic {
        rule: Arc::from(rule),
        severity,
        title: Arc::from(title),
        message,
        primary: Label { span, message: title.to_owned() },
        related: Vec::new(),
        help: Some(Arc::from(help)),
        docs: None,
        masked: Vec::new(),
        logical_path: format!("{rule}@{}", span.start),
        origin: None,
    }
}

fn expired(until: Option<(i32, u32, u32)>, today: (i32, u32, u32)) -> bool {
    until.is_some_and(|u| today > u)
}

/// The inline suppressions of the files of a run, found while their text was at hand.
#[derive(Debug, Default)]
pub struct Found {
    /// Every suppression comment of `scanned`, in file order.
    pub inline: Vec<InlineSuppression>,
    /// The names of the files searched for comments: an `[[ignore]]` entry whose `path`
    /// matches none of them is not reported as unused.
    pub scanned: Vec<String>,
}

impl Found {
    /// The suppressions of `commented_files`.
    pub fn in_files(sources: &SourceMap, commented_files: &[FileId]) -> Self {
        Self {
            inline: commented_files.iter().flat_map(|&f| inline_suppressions(sources, f)).collect(),
            scanned: commented_files.iter().map(|&f| sources.get(f).name.clone()).collect(),
        }
    }

    /// Adds what `other` found.
    pub fn extend(&mut self, other: Found) {
        self.inline.extend(other.inline);
        self.scanned.extend(other.scanned);
    }
}

/// Applies inline suppressions (`found`, [`Found::in_files`]: a run that drops the text of
/// its files as it goes finds them batch by batch) and the configuration's `[[ignore]]`
/// entries. Invalid, expired and unused suppressions are added to the kept findings; so is a
/// comment naming a rule that is not among `known_rules` (the ids of every loaded pack, and
/// the pseudo-rules), which would otherwise never match and silently suppress nothing.
/// `sources` places the findings on their lines.
pub fn apply(
    diagnostics: Vec<Diagnostic>,
    sources: &SourceMap,
    found: Found,
    config: &Config,
    today: (i32, u32, u32),
    known_rules: &[&str],
) -> Outcome {
    let Found { inline, scanned } = found;
    let mut inline: Vec<(InlineSuppression, Vec<bool>)> = inline
        .into_iter()
        .map(|mut s| {
            if s.error.is_none()
                && let Some(unknown) = s.rules.iter().find(|r| !known_rules.iter().any(|k| k.eq_ignore_ascii_case(r)))
            {
                s.error = Some(format!(
                    "suppression names unknown rule `{unknown}`{} (`celador rules` lists them)",
                    crate::suggest::hint(unknown, known_rules.iter().copied())
                ));
            }
            let used = vec![false; s.rules.len()];
            (s, used)
        })
        .collect();
    let mut ignore_used = vec![false; config.ignores.len()];
    let mut outcome = Outcome::default();
    for diagnostic in diagnostics {
        let file = diagnostic.primary.span.file;
        let line = sources.start(diagnostic.primary.span).line;
        let mut reason = None;
        for (s, used) in &mut inline {
            if s.span.file != file || s.line != line || s.error.is_some() || expired(s.until, today) {
                continue;
            }
            if let Some(i) = s.rules.iter().position(|r| r.eq_ignore_ascii_case(&diagnostic.rule)) {
                used[i] = true;
                reason.get_or_insert_with(|| s.reason.clone());
            }
        }
        let name = sources.get(file).name.clone();
        for (i, ignore) in config.ignores.iter().enumerate() {
            let rule_matches = ignore.rules.iter().any(|r| r == "*" || r.eq_ignore_ascii_case(&diagnostic.rule));
            let path_matches = ignore.path.as_ref().is_none_or(|g| g.is_match(&name));
            let logical_matches = ignore.logical_path.as_ref().is_none_or(|g| g.is_match(&diagnostic.logical_path));
            if rule_matches && path_matches && logical_matches && !expired(ignore.until, today) {
                ignore_used[i] = true;
                reason.get_or_insert_with(|| ignore.reason.clone());
            }
        }
        match reason {
            Some(reason) => outcome.suppressed.push((diagnostic, reason)),
            None => outcome.kept.push(diagnostic),
        }
    }
    for (s, used) in inline {
        if let Some(error) = s.error {
            outcome.kept.push(notice(
                INVALID_SUPPRESSION,
                "Invalid suppression comment",
                Severity::Medium,
                s.span,
                error,
                "Write `# celador:ignore RULE-ID reason=\"why\" [until=YYYY-MM-DD]`.",
            ));
            continue;
        }
        if expired(s.until, today) {
            let (y, m, d) = s.until.unwrap_or_default();
            outcome.kept.push(notice(
                EXPIRED_SUPPRESSION,
                "Suppression has expired",
                Severity::Low,
                s.span,
                format!("suppression of {} expired on {y:04}-{m:02}-{d:02} and no longer applies", s.rules.join(", ")),
                "Fix the finding, or renew the suppression with a new `until` date and reason.",
            ));
            continue;
        }
        let unused: Vec<&str> = s.rules.iter().zip(&used).filter(|(_, u)| !**u).map(|(r, _)| r.as_str()).collect();
        if !unused.is_empty() {
            outcome.kept.push(notice(
                UNUSED_SUPPRESSION,
                "Suppression matches no finding",
                Severity::Low,
                s.span,
                format!("suppression of {} matches no finding on line {}", unused.join(", "), s.line),
                "Remove the suppression, or move it onto (or just above) the line the finding points at.",
            ));
        }
    }
    for (ignore, used) in config.ignores.iter().zip(ignore_used) {
        let rules = ignore.rules.join(", ");
        if expired(ignore.until, today) {
            let (y, m, d) = ignore.until.unwrap_or_default();
            outcome.kept.push(notice(
                EXPIRED_SUPPRESSION,
                "Suppression has expired",
                Severity::Low,
                ignore.span,
                format!("[[ignore]] of {rules} expired on {y:04}-{m:02}-{d:02} and no longer applies"),
                "Fix the findings, or renew the entry with a new `until` date and reason.",
            ));
        } else if !used && ignore.path.as_ref().is_none_or(|g| scanned.iter().any(|n| g.is_match(n))) {
            // Entries for files outside this run (a pre-commit hook sees a few files) are not
            // reported as unused.
            outcome.kept.push(notice(
                UNUSED_SUPPRESSION,
                "Suppression matches no finding",
                Severity::Low,
                ignore.span,
                format!("[[ignore]] of {rules} matches no finding"),
                "Remove the entry from celador.toml, or fix its `path`/`logical_path`.",
            ));
        }
    }
    outcome.kept.sort_by_cached_key(|d| {
        (sources.get(d.primary.span.file).name.clone(), d.primary.span.start, d.primary.span.end, d.rule.clone())
    });
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn comments_are_parsed_and_placed() {
        let sources = SourceMap::new();
        let text = "a: 1\n# celador:ignore PSH-TLS-006, PSH-APP-006 reason=\"lab cluster\" until=2027-03-31\nb: 2  # celador:ignore PSH-X reason=x\nc: \"# celador:ignore in a string\"\n# celador:ignore PSH-Y\n";
        let file = sources.add(SourceFile::new("v.yaml", None, text));
        let found = inline_suppressions(&sources, file);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].rules, ["PSH-TLS-006", "PSH-APP-006"]);
        assert_eq!(found[0].reason, "lab cluster");
        assert_eq!(found[0].until, Some((2027, 3, 31)));
        assert_eq!(found[0].line, 3);
        assert_eq!(found[1].line, 3);
        assert_eq!(found[1].reason, "x");
        assert!(found[2].error.as_deref().unwrap().contains("no reason"));
    }
}

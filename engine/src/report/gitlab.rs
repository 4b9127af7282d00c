//! `--format gitlab`: a GitLab Code Quality report (the CodeClimate subset GitLab reads).
//!
//! A JSON array, without a byte-order mark. GitLab's merge request widget compares
//! fingerprints between the base and head pipelines and shows findings with one fingerprint
//! as one, so each fingerprint is [`Diagnostic::fingerprint`] (SHA-256 of rule, file name and
//! logical path; no line numbers), made unique within the report by
//! [`super::unique_fingerprints`]: a repeated one is re-hashed with its occurrence number.
//! Problems with a file become `celador-error` issues of severity `blocker`, so a file that
//! could not be checked is not mistaken for a clean one; problems of the whole run (no file)
//! cannot be placed and are left to the exit code.
//!
//! [`Diagnostic::fingerprint`]: crate::diagnostic::Diagnostic::fingerprint

use super::{Position, Report, hex32, unique_fingerprints};
use crate::diagnostic::Severity;
use serde::Serialize;

#[derive(Serialize)]
struct Issue<'a> {
    description: &'a str,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: Location,
    categories: [&'static str; 1],
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
    end: usize,
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Low => "minor",
        Severity::Medium => "major",
        Severity::High => "critical",
        Severity::Critical => "blocker",
    }
}

/// Renders the report as a Code Quality JSON array followed by a newline.
pub fn render_gitlab(report: &Report) -> String {
    let mut issues: Vec<Issue> = report
        .diagnostics
        .iter()
        .zip(unique_fingerprints(report))
        .map(|(d, fingerprint)| {
            let pos = Position::of(report.sources, d.primary.span);
            Issue {
                description: &d.message,
                check_name: &d.rule,
                fingerprint,
                severity: severity(d.severity),
                location: Location { path: pos.file, lines: Lines { begin: pos.line, end: pos.end_line } },
                // A rule error is a fault of the tool, not a finding about the input.
                categories: [
                    if [crate::diagnostic::RULE_ERROR, crate::diagnostic::EVALUATION_LIMIT].contains(&&*d.rule) {
                        "Bug Risk"
                    } else {
                        "Security"
                    },
                ],
            }
        })
        .collect();
    for p in report.problems {
        let (path, lines) = match (p.span, &p.file) {
            (Some(span), _) => {
                let pos = Position::of(report.sources, span);
                (pos.file, Lines { begin: pos.line, end: pos.end_line })
            }
            (None, Some(file)) => (file.clone(), Lines { begin: 1, end: 1 }),
            (None, None) => continue,
        };
        issues.push(Issue {
            description: &p.message,
            check_name: "celador-error",
            fingerprint: hex32(&[b"celador-error\0", path.as_bytes(), b"\0", p.message.as_bytes()]),
            severity: "blocker",
            location: Location { path, lines },
            categories: ["Bug Risk"],
        });
    }
    let mut out = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".to_owned());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, APP, SECRET, fixture};
    use super::*;
    use crate::source::{SourceFile, SourceMap};
    use serde_json::Value;
    use std::collections::HashSet;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render_gitlab(&fixture().report()));
    }

    fn fingerprints(out: &str) -> Vec<String> {
        let json: Value = serde_json::from_str(out).unwrap();
        json.as_array().unwrap().iter().map(|i| i["fingerprint"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn is_an_array_without_bom_with_the_required_fields() {
        let out = render_gitlab(&fixture().report());
        assert!(out.starts_with('['));
        let json: Value = serde_json::from_str(&out).unwrap();
        let issues = json.as_array().unwrap();
        // 6 findings and 2 problems with a file.
        assert_eq!(issues.len(), 8);
        for issue in issues {
            for key in ["description", "check_name", "fingerprint", "severity"] {
                assert!(!issue[key].as_str().unwrap().is_empty(), "{key}");
            }
            assert!(!issue["location"]["path"].as_str().unwrap().starts_with('/'));
            assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        }
        let severities: Vec<_> = issues.iter().map(|i| i["severity"].as_str().unwrap()).collect();
        assert_eq!(severities, ["info", "major", "critical", "critical", "blocker", "critical", "blocker", "blocker"]);
    }

    #[test]
    fn fingerprints_are_unique_and_stable() {
        let f = fixture();
        let first = fingerprints(&render_gitlab(&f.report()));
        assert_eq!(first.iter().collect::<HashSet<_>>().len(), first.len(), "{first:?}");
        assert_eq!(first, fingerprints(&render_gitlab(&fixture().report())));
        // The first of the two findings sharing rule, file and logical path keeps the plain one.
        assert_eq!(first[2], f.diagnostics[2].fingerprint("deploy/app.yaml"));
        assert_ne!(first[3], first[2]);
    }

    #[test]
    fn fingerprints_do_not_depend_on_line_numbers() {
        let render = |text: &str| {
            let sources = SourceMap::new();
            let rules = fixture::rules(&sources);
            let file = sources.add(SourceFile::new("deploy/app.yaml", None, text));
            let rule = rules.iter().find(|r| &*r.id == "DEMO-TLS-001").unwrap();
            let d = fixture::finding(rule, fixture::span_of(&sources, file, "true"), "m", "spec/tls");
            let report = Report {
                sources: &crate::secrets::MaskedSources::for_test(&sources, std::slice::from_ref(&d)),
                rules: &rules,
                diagnostics: std::slice::from_ref(&d),
                problems: &[],
                summary: super::super::Summary::default(),
                files: &[],
            };
            serde_json::from_str::<Value>(&render_gitlab(&report)).unwrap()[0].clone()
        };
        let before = render(APP);
        let after = render(&APP.replacen("metadata:", "\nmetadata:", 1));
        assert_eq!(before["location"]["lines"]["begin"], 4);
        assert_eq!(after["location"]["lines"]["begin"], 5);
        assert_eq!(before["fingerprint"], after["fingerprint"]);
    }

    #[test]
    fn never_shows_a_masked_value() {
        assert!(!render_gitlab(&fixture().report()).contains(SECRET));
    }
}

//! Fixture snapshots: the findings each fixture of a rule produces — location and message —
//! recorded in one file beside the rule (`tls/PSH-TLS-008.snap` beside `tls/PSH-TLS-008.toml`),
//! so a changed message fails `celador test` until `celador test --update` accepts it, the way
//! ruff and oxc snapshot their diagnostics.
//!
//! ```text
//! # PSH-TLS-008: the findings of each fixture, checked by `celador test`.
//! # Accept changes with `celador test --update PACK`, then review the diff.
//!
//! ## fail/deployment.yaml
//! deployment.yaml:16:9: API container `pulumi-api` connects to MySQL without TLS: …
//!   related deployment.yaml:40:9: the env file is also configured here
//!
//! ## pass/deployment.yaml
//! (no findings)
//! ```
//!
//! A section is named by the fixture's `file` as the rule writes it; each finding is the file
//! (relative to the fixture's directory), line and column, and message, with its related
//! locations below it. Continuation lines of a message are indented, so no body line starts a
//! section.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The extension of snapshot files.
pub const EXTENSION: &str = ".snap";

/// Written for a fixture that produces nothing.
const NO_FINDINGS: &str = "(no findings)";

/// A location of a fixture finding, as a snapshot shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotLocation {
    /// The file, relative to the directory holding the fixture.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// One finding of a fixture, as a snapshot records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotFinding {
    /// Where it points.
    pub at: SnapshotLocation,
    /// Its message.
    pub message: String,
    /// Its related locations and their labels.
    pub related: Vec<(SnapshotLocation, String)>,
}

/// Why a fixture's findings do not match its snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotMismatch {
    /// The snapshot file (pack-relative path) has no section for the fixture, or does not exist.
    Missing {
        /// The snapshot file, relative to the pack.
        snapshot: String,
    },
    /// The recorded findings differ: lines of a diff, `-` expected, `+` actual, ` ` both.
    Changed {
        /// The snapshot file, relative to the pack.
        snapshot: String,
        /// The diff.
        diff: Vec<String>,
    },
}

/// The snapshot file of rule `id` whose file is in `rule_dir` (relative to the pack).
pub fn snapshot_path(rule_dir: &str, id: &str) -> String {
    if rule_dir.is_empty() { format!("{id}{EXTENSION}") } else { format!("{rule_dir}/{id}{EXTENSION}") }
}

/// The body of a section: one line per finding and related location.
pub fn render_section(findings: &[SnapshotFinding]) -> Vec<String> {
    if findings.is_empty() {
        return vec![NO_FINDINGS.to_owned()];
    }
    let location = |at: &SnapshotLocation| format!("{}:{}:{}", at.file, at.line, at.column);
    let text = |message: &str| message.lines().collect::<Vec<_>>().join("\n  | ");
    let mut lines = Vec::new();
    for finding in findings {
        lines.extend(format!("{}: {}", location(&finding.at), text(&finding.message)).lines().map(str::to_owned));
        for (at, label) in &finding.related {
            lines.extend(format!("  related {}: {}", location(at), text(label)).lines().map(str::to_owned));
        }
    }
    lines
}

/// A whole snapshot file: the sections in the order the rule declares its fixtures.
pub fn render_file(id: &str, sections: &[(String, Vec<String>)]) -> String {
    let mut out = format!(
        "# {id}: the findings of each fixture, checked by `celador test`.\n# Accept changes with `celador test --update PACK`, then review the diff.\n"
    );
    for (name, body) in sections {
        let _ = write!(out, "\n## {name}\n");
        for line in body {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// The sections of a snapshot file, by name; blank lines between sections are not part of them.
pub fn parse_file(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            if let Some((name, body)) = current.take() {
                sections.insert(name, body);
            }
            current = Some((name.trim_end().to_owned(), Vec::new()));
        } else if let Some((_, body)) = &mut current
            && !line.trim().is_empty()
        {
            body.push(line.trim_end().to_owned());
        }
    }
    if let Some((name, body)) = current {
        sections.insert(name, body);
    }
    sections
}

/// A line diff of `expected` and `actual` (longest common subsequence): `-` lines only
/// expected, `+` lines only produced, ` ` lines in both.
pub fn diff(expected: &[String], actual: &[String]) -> Vec<String> {
    let (n, m) = (expected.len(), actual.len());
    // common[i][j]: the longest common subsequence of expected[i..] and actual[j..].
    let mut common = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            common[i][j] = if expected[i] == actual[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            out.push(format!(" {}", expected[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || common[i + 1][j] >= common[i][j + 1]) {
            out.push(format!("-{}", expected[i]));
            i += 1;
        } else {
            out.push(format!("+{}", actual[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, line: usize, column: usize) -> SnapshotLocation {
        SnapshotLocation { file: file.to_owned(), line, column }
    }

    #[test]
    fn sections_render_and_parse_back() {
        let findings = vec![SnapshotFinding {
            at: at("d.yaml", 16, 9),
            message: "first line\n## not a section".to_owned(),
            related: vec![(at("d.yaml", 3, 1), "the env block".to_owned())],
        }];
        let body = render_section(&findings);
        assert_eq!(body, ["d.yaml:16:9: first line", "  | ## not a section", "  related d.yaml:3:1: the env block"]);
        let file =
            render_file("R-1", &[("fail/d.yaml".to_owned(), body.clone()), ("pass".to_owned(), render_section(&[]))]);
        let parsed = parse_file(&file);
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed["fail/d.yaml"], body);
        assert_eq!(parsed["pass"], [NO_FINDINGS]);
    }

    #[test]
    fn diffs_show_what_changed() {
        let lines = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            diff(&lines(&["a:1:1: old", "a:2:1: same"]), &lines(&["a:1:1: new", "a:2:1: same"])),
            ["-a:1:1: old", "+a:1:1: new", " a:2:1: same"]
        );
        assert_eq!(diff(&lines(&["x"]), &lines(&[])), ["-x"]);
    }
}

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

use crate::fixtures::{FixtureOutcome, FixtureRun};
use crate::limits::MAX_FILE_SIZE;
use crate::pack::Pack;
use crate::read::read_regular;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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

/// A snapshot nothing reads any more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaleSnapshot {
    /// A snapshot file (relative to the pack) of no rule with fixtures.
    File(String),
    /// A section of a rule's snapshot file that names none of its fixtures.
    Section {
        /// The snapshot file, relative to the pack.
        file: String,
        /// The section.
        section: String,
    },
}

impl std::fmt::Display for StaleSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(file) => write!(f, "{file}: no rule with fixtures reads it"),
            Self::Section { file, section } => write!(f, "{file}: section `{section}` names no fixture of the rule"),
        }
    }
}

/// Writing snapshots failed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The pack was not read from disk (the built-in pack is embedded in the binary).
    #[error(
        "the pack `{0}` is embedded in the binary: update the snapshots of its source directory (`celador test --update rules/{0}`)"
    )]
    NotOnDisk(String),
    /// A rule id would put its snapshot outside the pack (`../x`).
    #[error("the snapshot `{0}` would be outside the pack: rename the rule")]
    OutsidePack(String),
    /// A file could not be written or removed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Sets each outcome's snapshot verdict; returns the stale files and sections.
pub(crate) fn compare(pack: &Pack, outcomes: &mut [FixtureOutcome]) -> Vec<StaleSnapshot> {
    let mut stale = Vec::new();
    // A fixture without a snapshot file (a ValidatingAdmissionPolicy's, whose expectations name
    // the validation in `# expect:` comments) is checked by position only.
    let mut files: Vec<String> = outcomes.iter().map(|o| o.snapshot_file.clone()).filter(|f| !f.is_empty()).collect();
    files.dedup();
    for file in &files {
        let recorded = snapshot_text(pack, file).map(|text| parse_file(&text));
        let mut seen = Vec::new();
        for outcome in outcomes.iter_mut().filter(|o| &o.snapshot_file == file) {
            seen.push(outcome.section.clone());
            let actual = render_section(&outcome.findings);
            outcome.snapshot = match recorded.as_ref().and_then(|sections| sections.get(&outcome.section)) {
                None => Some(SnapshotMismatch::Missing { snapshot: file.clone() }),
                Some(expected) if *expected == actual => None,
                Some(expected) => {
                    Some(SnapshotMismatch::Changed { snapshot: file.clone(), diff: diff(expected, &actual) })
                }
            };
        }
        for section in recorded.iter().flat_map(|sections| sections.keys()) {
            if !seen.contains(section) {
                stale.push(StaleSnapshot::Section { file: file.clone(), section: section.clone() });
            }
        }
    }
    for file in snapshot_files(pack) {
        if !files.contains(&file) {
            stale.push(StaleSnapshot::File(file));
        }
    }
    stale
}

/// The text of a snapshot file of the pack: among its files, or beside a single-file pack.
fn snapshot_text(pack: &Pack, relative: &str) -> Option<String> {
    if let Some(file) = pack.files.iter().find(|f| f.relative == relative) {
        return Some(file.text.to_string());
    }
    let dir = single_file_dir(pack).filter(|_| inside_pack(relative))?;
    let bytes = read_regular(&dir.join(relative), MAX_FILE_SIZE).ok()?;
    String::from_utf8(bytes).ok()
}

/// Whether a pack-relative path stays inside the pack: snapshots are read and written there only.
fn inside_pack(relative: &str) -> bool {
    Path::new(relative).components().all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// The snapshot files a pack directory holds (relative to it), fixtures' own files excepted.
/// The directory of a single-file pack may hold anything: its `.snap` files are not listed, so
/// none is called stale or deleted.
fn snapshot_files(pack: &Pack) -> Vec<String> {
    let fixture_dirs: Vec<String> =
        pack.files.iter().filter_map(|f| f.relative.strip_suffix(".toml")).map(|stem| format!("{stem}/")).collect();
    let mut out: Vec<String> = pack
        .files
        .iter()
        .map(|f| f.relative.clone())
        .filter(|r| r.ends_with(EXTENSION) && !fixture_dirs.iter().any(|d| r.starts_with(d.as_str())))
        .collect();
    out.sort();
    out
}

/// The directory of a single-file pack read from disk.
fn single_file_dir(pack: &Pack) -> Option<PathBuf> {
    let [file] = pack.files.as_slice() else { return None };
    file.path.as_deref().and_then(Path::parent).map(Path::to_path_buf)
}

/// Rewrites the snapshot of every rule with fixtures from `run`, and deletes stale snapshot
/// files and sections. Returns the files written or deleted, relative to the pack.
///
/// # Errors
/// The pack is not on disk, or a file cannot be written.
pub fn update_snapshots(pack: &Pack, run: &FixtureRun) -> Result<Vec<String>, SnapshotError> {
    let Some(dir) = single_file_dir(pack).or_else(|| crate::fixtures::pack_dir(pack)) else {
        return Err(SnapshotError::NotOnDisk(pack.meta.id.clone()));
    };
    let mut changed = Vec::new();
    let mut files: Vec<&str> =
        run.outcomes.iter().map(|o| o.snapshot_file.as_str()).filter(|f| !f.is_empty()).collect();
    files.dedup();
    for file in files {
        let outcomes: Vec<&FixtureOutcome> = run.outcomes.iter().filter(|o| o.snapshot_file == file).collect();
        let sections: Vec<(String, Vec<String>)> =
            outcomes.iter().map(|o| (o.section.clone(), render_section(&o.findings))).collect();
        if !inside_pack(file) {
            return Err(SnapshotError::OutsidePack(file.to_owned()));
        }
        let text = render_file(&outcomes[0].rule, &sections);
        if snapshot_text(pack, file).as_deref() == Some(text.as_str()) {
            continue;
        }
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(|source| SnapshotError::Write { path: file.to_owned(), source })?;
        changed.push(file.to_owned());
    }
    for stale in &run.stale {
        if let StaleSnapshot::File(file) = stale {
            std::fs::remove_file(dir.join(file))
                .map_err(|source| SnapshotError::Write { path: file.clone(), source })?;
            changed.push(file.clone());
        }
    }
    Ok(changed)
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

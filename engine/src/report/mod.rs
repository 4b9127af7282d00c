//! Renderers: one per output format, all reading the same [`Report`].

#[cfg(test)]
mod fixture;
mod github;
mod gitlab;
mod human;
mod json;
mod junit;
mod sarif;

pub use github::render_github;
pub use gitlab::render_gitlab;
pub use human::{HumanOptions, render_human, render_problems};
pub use json::{render_json, render_json_errors, write_json};
pub use junit::render_junit;
pub use sarif::render_sarif;

use crate::diagnostic::{Diagnostic, Problem};
use crate::secrets::MaskedSources;
use crate::source::{FileId, SourceMap, Span};
use std::collections::{HashMap, HashSet};

/// Counts shown at the end of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Files found: `checked + skipped`.
    pub files: usize,
    /// Files of a known kind, checked (malformed ones included: their errors are reported).
    pub checked: usize,
    /// Documents checked.
    pub documents: usize,
    /// Files skipped as not of a known kind.
    pub skipped: usize,
    /// Skipped files that look like deployment configuration all the same.
    pub configuration_like: usize,
    /// Findings reported.
    pub findings: usize,
    /// Findings suppressed by comments or configuration.
    pub suppressed: usize,
    /// Findings left out because the baseline records them.
    pub baselined: usize,
}

/// Everything a renderer needs.
pub struct Report<'a> {
    /// The files spans point into, their secrets masked: renderers never see a secret.
    pub sources: &'a MaskedSources,
    /// The rules of the run, for formats that describe them (SARIF).
    pub rules: &'a [std::sync::Arc<crate::pack::Rule>],
    /// Findings, sorted by location.
    pub diagnostics: &'a [Diagnostic],
    /// Problems with inputs or packs.
    pub problems: &'a [Problem],
    /// Counts.
    pub summary: Summary,
    /// The names of the files checked, as [`crate::source::SourceFile::name`] shows them, for
    /// formats that list the files that passed (JUnit). Empty when not known.
    pub files: &'a [String],
}

/// A location resolved for display: file name and 1-based line/column range, end exclusive.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    /// File name as reports show it.
    pub file: String,
    /// 1-based start line.
    pub line: usize,
    /// 1-based start column, in characters.
    pub column: usize,
    /// 1-based end line.
    pub end_line: usize,
    /// 1-based column just past the end, in characters.
    pub end_column: usize,
}

/// Where the files of a run are named and how their lines run: what a [`Position`] is
/// resolved from, whether the text is masked or not.
pub trait Lines {
    /// The name a file is reported by.
    fn name(&self, id: FileId) -> String;
    /// Line and column of a byte offset of a file.
    fn line_col(&self, id: FileId, offset: usize) -> crate::source::LineCol;
}

impl Lines for SourceMap {
    fn name(&self, id: FileId) -> String {
        self.get(id).name.clone()
    }

    fn line_col(&self, id: FileId, offset: usize) -> crate::source::LineCol {
        self.get(id).line_col(offset)
    }
}

impl Lines for MaskedSources {
    fn name(&self, id: FileId) -> String {
        MaskedSources::name(self, id).to_owned()
    }

    fn line_col(&self, id: FileId, offset: usize) -> crate::source::LineCol {
        MaskedSources::line_col(self, id, offset)
    }
}

impl Position {
    /// Resolves a span.
    pub fn of(sources: &impl Lines, span: Span) -> Self {
        let start = sources.line_col(span.file, span.start as usize);
        let end = sources.line_col(span.file, span.end as usize);
        Self {
            file: sources.name(span.file),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }
}

/// `text` with the characters that would control a terminal or reorder what it shows made
/// visible: C0 controls but tab and newline become their Unicode control pictures (ESC →
/// `␛`, BEL → `␇`, a lone CR → `␍`), DEL becomes `␡`, and C1 controls and bidirectional
/// overrides become `�`. One character for one, so columns stay where they were.
///
/// Document content reaches reports in snippets, messages (rules quote values) and file
/// names; a human terminal or a CI log must show it, not obey it.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| escape_control(c) != c) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.chars().map(escape_control).collect())
}

/// One character of [`escape_controls`].
pub(crate) fn escape_control(c: char) -> char {
    match c {
        '\t' | '\n' => c,
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => '\u{fffd}',
        _ => c,
    }
}

/// One fingerprint per diagnostic, in report order, unique within the report.
///
/// The first finding with a given [`Diagnostic::fingerprint`] (rule, file name, logical path;
/// never line numbers) keeps it. A later finding whose fingerprint is already taken (the same
/// rule at the same logical path of the same file) gets SHA-256 of the fingerprint, a NUL and
/// its occurrence number (2, 3, …), as 32 hex digits: stable for as long as the findings sharing
/// that key keep their relative order, which is their order in the file.
pub(crate) fn unique_fingerprints(report: &Report) -> Vec<String> {
    let mut names: HashMap<FileId, String> = HashMap::new();
    let mut seen = HashSet::new();
    report
        .diagnostics
        .iter()
        .map(|d| {
            let file = d.primary.span.file;
            let name = names.entry(file).or_insert_with(|| report.sources.get(file).name.clone());
            let base = d.fingerprint(name);
            let mut fingerprint = base.clone();
            let mut occurrence = 1u32;
            while !seen.insert(fingerprint.clone()) {
                occurrence += 1;
                fingerprint = hex32(&[base.as_bytes(), &[0], occurrence.to_string().as_bytes()]);
            }
            fingerprint
        })
        .collect()
}

/// SHA-256 of the parts, concatenated, as 32 hex digits.
pub(crate) fn hex32(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

//! Renderers: one per output format, all reading the same [`Report`].

#[cfg(test)]
mod mask_tests {
    #[test]
    fn likely_secrets_are_masked_byte_for_byte() {
        let text = "a: 1\nsmtpPassword: hunter2\nAWS_SECRET_ACCESS_KEY=abc\n  \"masterPassword\": \"pw\",\nname: x\n";
        let masked = super::mask_likely_secrets(text);
        assert_eq!(masked.len(), text.len());
        assert!(!masked.contains("hunter2") && !masked.contains("abc") && !masked.contains("pw\""), "{masked}");
        assert!(masked.contains("name: x") && masked.contains("a: 1"));
    }

    /// A switch about a password is not a secret: neither by its key nor by a boolean value.
    #[test]
    fn switches_about_secrets_are_not_masked() {
        let text = "MYSQL_ALLOW_EMPTY_PASSWORD: \"true\"\nMYSQL_RANDOM_ROOT_PASSWORD=yes\nMARIADB_ALLOW_EMPTY_ROOT_PASSWORD: anything\nsmtpPasswordEnabled: false\nMYSQL_ROOT_PASSWORD: hunter2\n";
        let masked = super::mask_likely_secrets(text);
        assert_eq!(
            masked,
            "MYSQL_ALLOW_EMPTY_PASSWORD: \"true\"\nMYSQL_RANDOM_ROOT_PASSWORD=yes\nMARIADB_ALLOW_EMPTY_ROOT_PASSWORD: anything\nsmtpPasswordEnabled: false\nMYSQL_ROOT_PASSWORD: *******\n"
        );
    }
}

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
pub use json::{render_json, render_json_errors};
pub use junit::render_junit;
pub use sarif::render_sarif;

use crate::diagnostic::{Diagnostic, Problem};
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
    /// The files spans point into.
    pub sources: &'a SourceMap,
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

impl Position {
    /// Resolves a span.
    pub fn of(sources: &SourceMap, span: Span) -> Self {
        let file = sources.get(span.file);
        let start = file.line_col(span.start as usize);
        let end = file.line_col(span.end as usize);
        Self {
            file: file.name.clone(),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }
}

/// Words that make a key's value a likely secret.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "license",
    "private",
    "credential",
    "apikey",
    "api_key",
    "accesskey",
    "access_key",
];

/// Words that make a key a switch about a secret rather than a secret, although it names one
/// (`MYSQL_ALLOW_EMPTY_PASSWORD`, `MYSQL_RANDOM_ROOT_PASSWORD`, `MARIADB_ALLOW_EMPTY_ROOT_PASSWORD`).
const SWITCH_WORDS: &[&str] = &["allow_empty", "allowempty", "empty_password", "emptypassword", "random_root"];

/// Whether a value reads as a boolean (`true`, `"no"`, `1`, `off`…): a switch, not a secret.
fn is_booleanish(value: &str) -> bool {
    let value = value.trim().trim_end_matches(',').trim().trim_matches(['"', '\'']).trim().to_ascii_lowercase();
    matches!(&*value, "true" | "false" | "yes" | "no" | "on" | "off" | "1" | "0")
}

/// Where the value of a likely-secret key (`smtpPassword: …`, `AWS_SECRET_ACCESS_KEY=…`,
/// `"masterPassword": "…"`) starts in `line`, if the line sets one: the byte after the `:` or
/// `=`. Its characters but blanks, quotes and commas are then masked. A key that switches
/// something about a secret (`MYSQL_ALLOW_EMPTY_PASSWORD`) or a boolean value is no secret.
pub(crate) fn likely_secret_value(line: &str) -> Option<usize> {
    let separator =
        line.find(": ").or_else(|| line.find('=')).or_else(|| line.trim_end().ends_with(':').then_some(line.len()));
    let at = separator.filter(|&at| at < line.len())?;
    let key = line[..at].to_ascii_lowercase();
    let switch = SWITCH_WORDS.iter().any(|w| key.contains(w)) || is_booleanish(&line[at + 1..]);
    (SECRET_WORDS.iter().any(|w| key.contains(w)) && !switch).then_some(at + 1)
}

/// Whether `c`, inside a likely secret's value, stays visible.
pub(crate) fn shown_in_likely_secret(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | ',')
}

/// The text of a file with the values of likely-secret keys replaced by `*`, byte for byte
/// (see [`likely_secret_value`]).
///
/// Used for snippets of files that could not be parsed: no rule ran on them, so nothing knows
/// which values are secrets, and a context line must not print one.
#[cfg(test)]
pub(crate) fn mask_likely_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let Some(at) = likely_secret_value(line) else {
            out.push_str(line);
            continue;
        };
        out.push_str(&line[..at]);
        for c in line[at..].chars() {
            if shown_in_likely_secret(c) {
                out.push(c);
            } else {
                out.extend(std::iter::repeat_n('*', c.len_utf8()));
            }
        }
    }
    out
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

/// The masked spans of a report, per file, merged and sorted: built once per rendering, so
/// masking a snippet costs a binary search, not a pass over every finding.
#[derive(Debug, Default)]
pub(crate) struct MaskIndex {
    by_file: HashMap<FileId, Vec<(usize, usize)>>,
}

impl MaskIndex {
    /// Every masked span of every finding of the report.
    pub(crate) fn new(report: &Report) -> Self {
        let mut by_file: HashMap<FileId, Vec<(usize, usize)>> = HashMap::new();
        for mask in report.diagnostics.iter().flat_map(|d| &d.masked) {
            by_file.entry(mask.file).or_default().push((mask.start as usize, mask.end as usize));
        }
        for ranges in by_file.values_mut() {
            ranges.sort_unstable();
            let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
            for &(start, end) in ranges.iter() {
                match merged.last_mut() {
                    Some(last) if start <= last.1 => last.1 = last.1.max(end),
                    _ => merged.push((start, end)),
                }
            }
            *ranges = merged;
        }
        Self { by_file }
    }

    /// The masked byte ranges of `file` that overlap `range`, in order.
    pub(crate) fn overlapping(&self, file: FileId, range: std::ops::Range<usize>) -> &[(usize, usize)] {
        let Some(ranges) = self.by_file.get(&file) else { return &[] };
        let first = ranges.partition_point(|&(_, end)| end <= range.start);
        let last = ranges.partition_point(|&(start, _)| start < range.end);
        &ranges[first..last.max(first)]
    }

    /// The text of `span`, every masked character replaced by `*` byte for byte (spaces and
    /// line breaks kept), so offsets stay valid.
    pub(crate) fn masked_slice(&self, text: &str, span: Span) -> String {
        let range = span.range();
        let Some(slice) = text.get(range.clone()) else { return String::new() };
        let masks = self.overlapping(span.file, range.clone());
        if masks.is_empty() {
            return slice.to_owned();
        }
        let mut out = String::with_capacity(slice.len());
        let mut cursor = MaskCursor::new(masks);
        for (i, c) in slice.char_indices() {
            if cursor.covers(range.start + i) && !c.is_whitespace() {
                out.extend(std::iter::repeat_n('*', c.len_utf8()));
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// Walks sorted, disjoint masked ranges along increasing offsets.
pub(crate) struct MaskCursor<'m> {
    masks: &'m [(usize, usize)],
}

impl<'m> MaskCursor<'m> {
    pub(crate) fn new(masks: &'m [(usize, usize)]) -> Self {
        Self { masks }
    }

    /// Whether byte `at` is masked; `at` must not decrease from one call to the next.
    pub(crate) fn covers(&mut self, at: usize) -> bool {
        while let Some(&(_, end)) = self.masks.first()
            && end <= at
        {
            self.masks = &self.masks[1..];
        }
        self.masks.first().is_some_and(|&(start, _)| start <= at)
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

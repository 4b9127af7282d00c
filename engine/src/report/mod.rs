//! Renderers: one per output format, all reading the same [`Report`].

mod human;
mod json;

pub use human::{HumanOptions, render_human};
pub use json::render_json;

use crate::diagnostic::{Diagnostic, Problem};
use crate::source::{SourceMap, Span};

/// Counts shown at the end of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Documents checked.
    pub documents: usize,
    /// Files and documents skipped as not of a known kind.
    pub skipped: usize,
    /// Findings reported.
    pub findings: usize,
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

/// The text of a file with every masked span replaced by `*`, byte for byte, so offsets stay valid.
pub(crate) fn masked_text(text: &str, masks: &[Span]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for mask in masks {
        let range = mask.range();
        let Some(slice) = text.get(range.clone()) else { continue };
        let mut offset = range.start;
        for c in slice.chars() {
            let len = c.len_utf8();
            if !c.is_whitespace() || c == ' ' {
                let fill = if c == ' ' { b' ' } else { b'*' };
                bytes[offset..offset + len].fill(fill);
            }
            offset += len;
        }
    }
    String::from_utf8(bytes).unwrap_or_default()
}

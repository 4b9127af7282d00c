//! `--format json`: the machine contract other tools and tests depend on (version 1).
//!
//! Extend it, never break it: fields are only ever added.

use super::{Position, Report};
use serde::Serialize;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Findings<'a>,
    errors: Vec<JsonError>,
    summary: super::Summary,
}

/// The findings, each resolved as it is written: a report of tens of thousands of findings is
/// never held twice.
struct Findings<'a>(&'a Report<'a>);

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        serializer.collect_seq(report.diagnostics.iter().map(|d| {
            JsonFinding {
                rule: &d.rule,
                severity: d.severity.as_str(),
                title: &d.title,
                message: &d.message,
                position: Position::of(report.sources, d.primary.span),
                related: d
                    .related
                    .iter()
                    .map(|r| {
                        let p = Position::of(report.sources, r.span);
                        JsonRelated { file: p.file, line: p.line, column: p.column, message: r.message.clone() }
                    })
                    .collect(),
                help: d.help.as_deref(),
                docs: d.docs.as_deref(),
                source: d.origin.as_deref(),
            }
        }))
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: &'static str,
    title: &'a str,
    message: &'a str,
    #[serde(flatten)]
    position: Position,
    related: Vec<JsonRelated>,
    help: Option<&'a str>,
    docs: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRelated {
    file: String,
    line: usize,
    column: usize,
    message: String,
}

#[derive(Serialize)]
struct JsonError {
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
}

/// Renders only the report's problems, `{"version": 1, "errors": […]}` with each error shaped
/// as in [`render_json`]: what `rules --format json` prints for an invalid pack.
pub fn render_json_errors(report: &Report) -> String {
    #[derive(Serialize)]
    struct JsonErrors {
        version: u32,
        errors: Vec<JsonError>,
    }
    let json = JsonErrors { version: 1, errors: json_errors(report) };
    let mut out = serde_json::to_string_pretty(&json).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}

fn json_errors(report: &Report) -> Vec<JsonError> {
    report
        .problems
        .iter()
        .map(|p| match p.span {
            Some(span) => {
                let pos = Position::of(report.sources, span);
                JsonError {
                    file: Some(pos.file),
                    line: Some(pos.line),
                    column: Some(pos.column),
                    message: p.message.clone(),
                }
            }
            None => JsonError { file: p.file.clone(), line: None, column: None, message: p.message.clone() },
        })
        .collect()
}

/// Renders the report as pretty JSON followed by a newline.
pub fn render_json(report: &Report) -> String {
    let mut out = Vec::new();
    if let Err(e) = write_json(report, &mut out) {
        return format!("{{\"error\": \"{e}\"}}\n");
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Writes [`render_json`]'s text to `out` as it is made, for a report too large to hold as one
/// string beside the findings it is made of.
///
/// # Errors
/// What writing to `out` fails with.
pub fn write_json(report: &Report, mut out: impl std::io::Write) -> std::io::Result<()> {
    let json =
        JsonReport { version: 1, findings: Findings(report), errors: json_errors(report), summary: report.summary };
    serde_json::to_writer_pretty(&mut out, &json)?;
    out.write_all(b"\n")
}

//! Human output: miette snippets with labels and help, then a one-line summary.
//!
//! miette is confined to this module, behind our own diagnostic model, so it can be replaced
//! without touching rules or other renderers.

use super::{Report, masked_text};
use crate::diagnostic::{Diagnostic, Problem, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use std::fmt::{self, Write as _};

/// How to render for a human.
#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    /// Use ANSI colours.
    pub color: bool,
    /// Terminal width.
    pub width: usize,
}

impl Default for HumanOptions {
    fn default() -> Self {
        Self { color: false, width: 100 }
    }
}

#[derive(Debug)]
struct Rendered {
    code: String,
    message: String,
    severity: miette::Severity,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    url: Option<String>,
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.url.as_ref().map(|u| Box::new(u) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

fn handler(options: HumanOptions) -> GraphicalReportHandler {
    let theme = if options.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    GraphicalReportHandler::new_themed(theme).with_width(options.width).with_links(false).with_context_lines(1)
}

fn miette_severity(severity: Severity) -> miette::Severity {
    match severity {
        Severity::Critical | Severity::High => miette::Severity::Error,
        Severity::Medium | Severity::Low => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

fn render_finding(report: &Report, d: &Diagnostic) -> Rendered {
    let file = report.sources.get(d.primary.span.file);
    // Every secret of the file is masked, not only this finding's: context lines show neighbours.
    let masks: Vec<_> =
        report.diagnostics.iter().flat_map(|d| &d.masked).filter(|m| m.file == d.primary.span.file).copied().collect();
    let text = if masks.is_empty() { file.text.to_string() } else { masked_text(&file.text, &masks) };
    let mut labels = vec![LabeledSpan::new_primary_with_span(Some(d.primary.message.clone()), d.primary.span.range())];
    let mut related_elsewhere = Vec::new();
    for r in &d.related {
        if r.span.file == d.primary.span.file {
            labels.push(LabeledSpan::new_with_span(Some(r.message.clone()), r.span.range()));
        } else {
            related_elsewhere.push(r);
        }
    }
    let mut help = d.help.as_deref().map(str::to_owned);
    if let Some(origin) = &d.origin {
        let note = format!("rendered from {origin}");
        help = Some(help.map_or(note.clone(), |h| format!("{h}\n{note}")));
    }
    for r in related_elsewhere {
        let pos = super::Position::of(report.sources, r.span);
        let note = format!(
            "see also {}:{}:{}{}",
            pos.file,
            pos.line,
            pos.column,
            if r.message.is_empty() { String::new() } else { format!(" ({})", r.message) }
        );
        help = Some(match help {
            Some(h) => format!("{h}\n{note}"),
            None => note,
        });
    }
    Rendered {
        code: format!("{}[{}]", d.rule, d.severity),
        message: d.message.clone(),
        severity: miette_severity(d.severity),
        source: NamedSource::new(file.name.clone(), text).with_language("yaml"),
        labels,
        help,
        url: d.docs.as_deref().map(str::to_owned),
    }
}

fn render_problem(report: &Report, p: &Problem) -> Option<Rendered> {
    let span = p.span?;
    let file = report.sources.get(span.file);
    Some(Rendered {
        code: "error".to_owned(),
        message: p.message.clone(),
        severity: miette::Severity::Error,
        source: NamedSource::new(file.name.clone(), super::mask_likely_secrets(&file.text)),
        labels: vec![LabeledSpan::new_primary_with_span(Some("here".to_owned()), span.range())],
        help: None,
        url: None,
    })
}

/// Renders problems first (they make the run fail), then findings, then the summary.
pub fn render_human(report: &Report, options: HumanOptions) -> String {
    let mut out = render_problems(report, options);
    let handler = handler(options);
    for d in report.diagnostics {
        let _ = handler.render_report(&mut out, &render_finding(report, d));
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary_line(&report.summary, report.problems.len()));
    out
}

/// Renders only the report's problems, each located with a snippet when it has a span: what
/// `rules`, `explain` and `test` show for an invalid pack, exactly as `check` shows it.
pub fn render_problems(report: &Report, options: HumanOptions) -> String {
    let handler = handler(options);
    let mut out = String::new();
    for p in report.problems {
        match render_problem(report, p) {
            Some(rendered) => {
                let _ = handler.render_report(&mut out, &rendered);
            }
            None => {
                let _ = writeln!(out, "  × {}: {}", p.file.as_deref().unwrap_or("celador"), p.message);
            }
        }
        out.push('\n');
    }
    out
}

/// `3 findings in 2 documents of 2 files (4 skipped: not a known kind); 1 suppressed; 1 error`.
fn summary_line(s: &super::Summary, problems: usize) -> String {
    let mut line = if s.checked == 0 && s.files > 0 {
        format!("{}; nothing checked", plural(s.findings, "finding"))
    } else {
        format!(
            "{} in {} of {}",
            plural(s.findings, "finding"),
            plural(s.documents, "document"),
            plural(s.checked, "file")
        )
    };
    if s.skipped > 0 {
        let _ = write!(line, " ({} skipped: not a known kind", s.skipped);
        match s.configuration_like {
            0 => {}
            1 => line.push_str(", 1 looks like configuration"),
            n => {
                let _ = write!(line, ", {n} look like configuration");
            }
        }
        line.push(')');
    }
    for (count, what) in [(s.suppressed, "suppressed"), (s.baselined, "baselined")] {
        if count > 0 {
            let _ = write!(line, "; {count} {what}");
        }
    }
    if problems > 0 {
        let _ = write!(line, "; {}", plural(problems, "error"));
    }
    line
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

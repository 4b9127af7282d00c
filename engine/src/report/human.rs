//! Human output: miette snippets with labels and help, then a one-line summary.
//!
//! miette is confined to this module, behind our own diagnostic model, so it can be replaced
//! without touching rules or other renderers.
//!
//! A snippet never shows a whole file: miette reads a [`Window`], the lines around the labels
//! (one of context, as many as a label spans up to [`SNIPPET_MAX_LINES`]), each cut to
//! [`SNIPPET_CONTEXT_CHARS`] either side of what it points at, with `…` for the rest. So the
//! output grows with the number of findings, not with the size of the files they are in; a
//! column past 65,535 renders (miette's underline is padded by the column it sees, which is
//! the column in the window), while the header shows the true `line:column`. The text is the
//! report's, secrets already masked ([`crate::secrets`]); control characters are made visible
//! ([`escape_controls`]) as the window is built.

use super::{Report, escape_control, escape_controls};
use crate::diagnostic::{Diagnostic, Problem, Severity};
use crate::limits::{SNIPPET_CONTEXT_CHARS, SNIPPET_MAX_LINES};
use crate::source::{SourceFile, Span};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::ops::Range;

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
    source: Window,
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

/// One line of a [`Window`].
#[derive(Debug)]
struct WindowLine {
    /// Where the line is in the window's text, without its line break.
    range: Range<usize>,
    /// The 0-based line number in the file.
    line: usize,
}

/// Consecutive lines of the file.
#[derive(Debug)]
struct Group {
    /// Where the group is in the window's text, line breaks included.
    range: Range<usize>,
    lines: Vec<WindowLine>,
}

/// The part of a file a snippet shows, as miette reads it: the window's own text (masked,
/// escaped, long lines cut) and where each of its lines is in the file.
#[derive(Debug)]
struct Window {
    name: String,
    text: String,
    groups: Vec<Group>,
    /// The true 0-based column of each label's start, by its offset in `text`.
    columns: HashMap<usize, usize>,
}

/// A label to place in a [`Window`]: its span in the file, and what to say.
struct Label {
    span: Span,
    message: String,
    primary: bool,
}

impl Window {
    /// The window of `file` for `labels` (all in `file`, the primary one first), and the
    /// labels placed in it.
    fn build(file: &SourceFile, labels: &[Label]) -> (Self, Vec<LabeledSpan>) {
        // Each label as a byte range in the file, and its lines (1-based, inclusive).
        let mut placed: Vec<(Range<usize>, usize, usize)> = Vec::new();
        for label in labels {
            let start = label.span.start as usize;
            let mut end = (label.span.end as usize).max(start);
            let start_line = file.line_col(start).line;
            let mut end_line = if end > start { file.line_col(end - 1).line } else { start_line };
            if end_line - start_line >= SNIPPET_MAX_LINES {
                end = file.line_range(start_line).end.max(start);
                end_line = start_line;
            }
            placed.push((start..end, start_line, end_line));
        }
        // The lines to show, in runs of consecutive lines: a label's, with one line of context
        // either side; labels a few lines apart share a run, gap included.
        let line_count = match file.line_count() {
            // The empty "line" after a final line break is not shown.
            n if n > 1 && file.text.ends_with('\n') => n - 1,
            n => n,
        };
        let mut runs: Vec<Range<usize>> = placed
            .iter()
            .map(|&(_, first, last)| first.saturating_sub(1).max(1)..(last + 1).min(line_count).max(first) + 1)
            .collect();
        runs.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::new();
        for run in runs {
            match merged.last_mut() {
                Some(last) if run.start <= last.end + SNIPPET_MAX_LINES => last.end = last.end.max(run.end),
                _ => merged.push(run),
            }
        }
        let mut window = Window {
            name: escape_controls(&file.name).into_owned(),
            text: String::new(),
            groups: Vec::new(),
            columns: HashMap::new(),
        };
        // Offsets of interest in the file → offsets in the window.
        let mut positions: HashMap<usize, usize> = HashMap::new();
        for run in merged {
            let group_start = window.text.len();
            let mut lines = Vec::new();
            for line in run {
                let range = file.line_range(line);
                let points: Vec<usize> = placed
                    .iter()
                    .flat_map(|(r, first, last)| {
                        let start = (*first == line).then_some(r.start);
                        let end = (*last == line).then_some(r.end);
                        start.into_iter().chain(end)
                    })
                    .collect();
                let line_start = window.text.len();
                let starts = first_start_on_line(&placed, labels, line);
                window.push_line(file, range, &points, starts, &mut positions);
                lines.push(WindowLine { range: line_start..window.text.len(), line: line - 1 });
                window.text.push('\n');
            }
            window.groups.push(Group { range: group_start..window.text.len(), lines });
        }
        let spans = placed
            .iter()
            .zip(labels)
            .map(|((range, ..), label)| {
                let start = positions.get(&range.start).copied().unwrap_or(0);
                let end = positions.get(&range.end).copied().unwrap_or(start).max(start);
                window.columns.insert(start, file.line_col(range.start).column - 1);
                let message = Some(escape_controls(&label.message).into_owned());
                if label.primary {
                    LabeledSpan::new_primary_with_span(message, start..end)
                } else {
                    LabeledSpan::new_with_span(message, start..end)
                }
            })
            .collect();
        (window, spans)
    }

    /// Appends the visible part of the file's `line` (a byte range without its line break):
    /// around the first label start on it, else the last label end, else its beginning.
    /// Records where each of `points` lands in the window.
    fn push_line(
        &mut self,
        file: &SourceFile,
        line: Range<usize>,
        points: &[usize],
        starts: Option<usize>,
        positions: &mut HashMap<usize, usize>,
    ) {
        let text = &*file.text;
        let focus = starts.or_else(|| points.iter().copied().max()).map(|p| p.clamp(line.start, line.end));
        let (from, to) = match focus {
            Some(at) => {
                let from = back_chars(text, at, SNIPPET_CONTEXT_CHARS).max(line.start);
                // A long label shows its first characters; then the context after it.
                let label_end = points.iter().copied().filter(|&p| p >= at).max().unwrap_or(at).min(line.end);
                let shown_end = forward_chars(text, at, SNIPPET_CONTEXT_CHARS).min(label_end);
                (from, forward_chars(text, shown_end, SNIPPET_CONTEXT_CHARS).min(line.end))
            }
            None => (line.start, forward_chars(text, line.start, 2 * SNIPPET_CONTEXT_CHARS).min(line.end)),
        };
        let content_start = if from > line.start {
            self.text.push('…');
            self.text.len()
        } else {
            self.text.len()
        };
        for &p in points {
            if p <= from {
                positions.insert(p, content_start);
            }
        }
        for (i, c) in text[from..to].char_indices() {
            let at = from + i;
            for &p in points {
                if p == at {
                    positions.insert(p, self.text.len());
                }
            }
            self.text.push(escape_control(c));
        }
        let content_end = self.text.len();
        if to < line.end {
            self.text.push('…');
        }
        for &p in points {
            if p >= to && !positions.contains_key(&p) {
                // Past what is shown: the label runs on into the `…`.
                positions.insert(p, if to < line.end { self.text.len() } else { content_end });
            }
        }
    }

    /// The group holding window offsets `range`.
    fn group(&self, range: Range<usize>) -> Option<&Group> {
        self.groups.iter().find(|g| g.range.start <= range.start && range.end <= g.range.end)
    }
}

/// The start of the first label (primary first) that starts on `line`, if any.
fn first_start_on_line(placed: &[(Range<usize>, usize, usize)], labels: &[Label], line: usize) -> Option<usize> {
    let starting = placed.iter().zip(labels).filter(|((_, first, _), _)| *first == line);
    starting
        .clone()
        .find(|(_, l)| l.primary)
        .or_else(|| starting.min_by_key(|((r, ..), _)| r.start))
        .map(|((r, ..), _)| r.start)
}

/// The offset `n` characters before `at` (or the text's start).
fn back_chars(text: &str, at: usize, n: usize) -> usize {
    text[..at].char_indices().rev().take(n).last().map_or(at, |(i, _)| i)
}

/// The offset `n` characters after `at` (or the text's end).
fn forward_chars(text: &str, at: usize, n: usize) -> usize {
    text[at..].char_indices().nth(n).map_or(text.len(), |(i, _)| at + i)
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let start = span.offset();
        let end = start + span.len();
        let group = self.group(start..end).ok_or(MietteError::OutOfBounds)?;
        let line_of = |offset: usize| group.lines.iter().rposition(|l| l.range.start <= offset).unwrap_or(0);
        let first_label_line = line_of(start);
        let last_label_line = line_of(end.saturating_sub(1).max(start));
        let first = first_label_line.saturating_sub(context_lines_before);
        let last = (last_label_line + context_lines_after).min(group.lines.len() - 1);
        let data_start = group.lines[first].range.start;
        let data_end = (group.lines[last].range.end + 1).min(group.range.end);
        // miette shows two labels in one snippet when the first one's lines reach the second:
        // every label of a group does, counting to the group's end.
        let line_count = group.lines.len() - first;
        let column = if context_lines_before == 0 {
            self.columns
                .get(&start)
                .copied()
                .unwrap_or_else(|| self.text[group.lines[first_label_line].range.start..start].chars().count())
        } else {
            0
        };
        Ok(Box::new(
            MietteSpanContents::new_named(
                self.name.clone(),
                &self.text.as_bytes()[data_start..data_end],
                (data_start, data_end - data_start).into(),
                group.lines[first].line,
                column,
                line_count,
            )
            .with_language("yaml"),
        ))
    }
}

fn render_finding(report: &Report, d: &Diagnostic) -> Rendered {
    let file = report.sources.get(d.primary.span.file);
    let mut labels = vec![Label { span: d.primary.span, message: d.primary.message.clone(), primary: true }];
    let mut related_elsewhere = Vec::new();
    for r in &d.related {
        if r.span.file == d.primary.span.file {
            labels.push(Label { span: r.span, message: r.message.clone(), primary: false });
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
    let (source, labels) = Window::build(&file, &labels);
    Rendered {
        code: escape_controls(&format!("{}[{}]", d.rule, d.severity)).into_owned(),
        message: escape_controls(&d.message).into_owned(),
        severity: miette_severity(d.severity),
        source,
        labels,
        help: help.map(|h| escape_controls(&h).into_owned()),
        url: d.docs.as_deref().map(|u| escape_controls(u).into_owned()),
    }
}

fn render_problem(report: &Report, p: &Problem) -> Option<Rendered> {
    let span = p.span?;
    let file = report.sources.get(span.file);
    let labels = [Label { span, message: "here".to_owned(), primary: true }];
    let (source, labels) = Window::build(&file, &labels);
    Some(Rendered {
        code: "error".to_owned(),
        message: escape_controls(&p.message).into_owned(),
        severity: miette::Severity::Error,
        source,
        labels,
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
                let file = escape_controls(p.file.as_deref().unwrap_or("celador"));
                let _ = writeln!(out, "  × {file}: {}", escape_controls(&p.message));
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

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, SECRET, fixture};
    use super::*;
    use crate::diagnostic::Label as DiagnosticLabel;
    use crate::report::Summary;
    use crate::source::{SourceFile, SourceMap};

    fn render(sources: &SourceMap, diagnostics: &[Diagnostic], problems: &[Problem]) -> String {
        let sources = &crate::secrets::MaskedSources::for_test(sources, diagnostics);
        let report = Report { sources, rules: &[], diagnostics, problems, summary: Summary::default(), files: &[] };
        render_human(&report, HumanOptions::default())
    }

    fn finding(span: Span, message: &str) -> Diagnostic {
        let rules = fixture::rules(&SourceMap::new());
        let rule = rules.iter().find(|r| &*r.id == "DEMO-TLS-001").unwrap();
        fixture::finding(rule, span, message, "x")
    }

    #[test]
    fn the_fixture_never_shows_its_secret() {
        let f = fixture();
        let out = render_human(&f.report(), HumanOptions::default());
        assert!(!out.contains(SECRET), "{out}");
    }

    /// miette pads a label's underline by its column, and Rust's formatter refuses a width past
    /// 65,535: the window keeps the column miette sees small, the header keeps the true one.
    #[test]
    fn a_column_past_65535_renders_with_its_true_position() {
        let sources = SourceMap::new();
        let text = format!("kind: ConfigMap\ndata: {{k: {} ]\nnext: line\n", "a".repeat(70_000));
        let file = sources.add(SourceFile::new("wide.yaml", None, &text));
        let at = text.find(" ]").unwrap() + 1;
        let problems = [Problem::at(Span::new(file, at, at + 1), "invalid YAML")];
        let out = render(&sources, &[], &problems);
        let column = 70_000 + "data: {k: ".len() + 2;
        assert!(out.contains(&format!("[wide.yaml:2:{column}]")), "{out}");
        assert!(out.contains("2 │ …aaaa"), "{out}");
        assert!(out.contains("next: line"), "{out}");
        assert!(out.len() < 2_000, "{} bytes", out.len());
    }

    /// Every finding on a 50 MB value shows a window of it, not all of it.
    #[test]
    fn output_grows_with_findings_not_with_the_values_they_point_at() {
        let sources = SourceMap::new();
        let value = "v".repeat(50 << 20);
        let text = format!("A=1\nHUGE={value}\nB=2\n");
        let file = sources.add(SourceFile::new("big.env", None, &text));
        let start = text.find("HUGE=").unwrap() + 5;
        let span = Span::new(file, start, start + value.len());
        let diagnostics: Vec<Diagnostic> = (0..20).map(|i| finding(span, &format!("finding {i}"))).collect();
        let started = std::time::Instant::now();
        let out = render(&sources, &diagnostics, &[]);
        assert!(out.len() < 20 * 2_000, "{} bytes", out.len());
        assert!(out.contains("big.env:2:6"), "{out}");
        assert!(out.contains("…"), "{out}");
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
    }

    #[test]
    fn control_characters_of_documents_are_shown_not_obeyed() {
        let sources = SourceMap::new();
        let text = "name: \"\u{1b}[31mred\u{7}\"\nx: \u{202e}evil\n";
        let file = sources.add(SourceFile::new("ctl\u{1b}.yaml", None, text));
        let at = text.find("red").unwrap();
        let mut d = finding(Span::new(file, at, at + 3), "value `\u{1b}[31mred\u{7}` is odd\rover");
        d.primary.message = "label \u{1b}]8;;".into();
        let out = render(&sources, &[d], &[Problem::file(Some("f\u{1b}".into()), "bad \u{7}")]);
        for c in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
            assert!(!out.contains(c), "{c:?} in {out:?}");
        }
        assert!(out.contains("␛[31mred␇"), "{out}");
        assert!(out.contains("ctl␛.yaml:1:13"), "{out}");
    }

    #[test]
    fn a_label_over_many_lines_is_shown_by_its_first() {
        let sources = SourceMap::new();
        let text = format!("spec:\n{}end: 1\n", "  k: v\n".repeat(10_000));
        let file = sources.add(SourceFile::new("long.yaml", None, &text));
        let d = finding(Span::new(file, 0, text.len() - 1), "whole document");
        let out = render(&sources, &[d], &[]);
        assert!(out.lines().count() < 20, "{out}");
    }

    #[test]
    fn labels_far_apart_get_a_snippet_each() {
        let sources = SourceMap::new();
        let text = format!("first: 1\n{}last: 2\n", "k: v\n".repeat(1_000));
        let file = sources.add(SourceFile::new("far.yaml", None, &text));
        let mut d = finding(Span::new(file, 0, 5), "first");
        let last = text.find("last").unwrap();
        d.related.push(DiagnosticLabel { span: Span::new(file, last, last + 4), message: "and here".into() });
        let out = render(&sources, &[d], &[]);
        assert!(out.lines().count() < 25, "{out}");
        assert!(out.contains("1002 │ last: 2"), "{out}");
    }
}

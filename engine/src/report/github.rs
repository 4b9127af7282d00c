//! `--format github`: GitHub Actions workflow commands, one annotation per finding.
//!
//! GitHub annotates at most 10 errors, 10 warnings and 10 notices per step (and 50 per job);
//! the rest stay in the log only. So problems come first, then errors, warnings and notices,
//! and a closing plain line counts what there is and, past the limits, how many lines were
//! not annotated. Each message starts with `file:line:col: RULE`, because a line past the
//! limits is seen only in the log, which does not show the command's parameters.

use super::{Position, Report, escape_controls};
use crate::diagnostic::{Diagnostic, Problem, Severity};
use std::fmt::Write as _;

/// Annotations GitHub shows per step, for each of error, warning and notice.
const PER_STEP: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Command {
    Error,
    Warning,
    Notice,
}

impl Command {
    fn of(severity: Severity) -> Self {
        match severity {
            Severity::Critical | Severity::High => Self::Error,
            Severity::Medium | Severity::Low => Self::Warning,
            Severity::Info => Self::Notice,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Notice => "notice",
        }
    }
}

/// Escapes a command's message, as `@actions/core` does, after making control characters
/// visible ([`escape_controls`]): a document's ESC or BEL must not reach the log as one.
fn escape_data(text: &str) -> String {
    let text = text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    escape_controls(&text).into_owned()
}

/// Escapes a command's property value, as `@actions/core` does.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `file=…,line=…,col=…,endLine=…,endColumn=…`; columns only for a one-line range, the only
/// kind GitHub draws them for.
fn location_properties(pos: &Position) -> String {
    let mut out = format!("file={},line={}", escape_property(&pos.file), pos.line);
    if pos.line == pos.end_line {
        let _ = write!(out, ",col={},endLine={},endColumn={}", pos.column, pos.end_line, pos.end_column);
    } else {
        let _ = write!(out, ",endLine={}", pos.end_line);
    }
    out
}

fn finding_line(report: &Report, d: &Diagnostic) -> (Command, String) {
    let pos = Position::of(report.sources, d.primary.span);
    let mut message = format!("{}:{}:{}: {} {}", pos.file, pos.line, pos.column, d.rule, d.message);
    if let Some(help) = &d.help {
        let _ = write!(message, "\nhelp: {help}");
    }
    if let Some(docs) = &d.docs {
        let _ = write!(message, "\ndocs: {docs}");
    }
    let command = Command::of(d.severity);
    let line = format!(
        "::{} {},title={}::{}",
        command.as_str(),
        location_properties(&pos),
        escape_property(&format!("{}: {}", d.rule, d.title)),
        escape_data(&message)
    );
    (command, line)
}

fn problem_line(report: &Report, p: &Problem) -> String {
    let title = escape_property("celador: error");
    match (p.span, &p.file) {
        (Some(span), _) => {
            let pos = Position::of(report.sources, span);
            let message = format!("{}:{}:{}: {}", pos.file, pos.line, pos.column, p.message);
            format!("::error {},title={title}::{}", location_properties(&pos), escape_data(&message))
        }
        (None, Some(file)) => {
            format!(
                "::error file={},title={title}::{}",
                escape_property(file),
                escape_data(&format!("{file}: {}", p.message))
            )
        }
        (None, None) => format!("::error title={title}::{}", escape_data(&p.message)),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// Renders one workflow command per problem and finding, errors first, then a summary line.
pub fn render_github(report: &Report) -> String {
    let mut lines: Vec<(Command, String)> =
        report.problems.iter().map(|p| (Command::Error, problem_line(report, p))).collect();
    lines.extend(report.diagnostics.iter().map(|d| finding_line(report, d)));
    // Stable: problems stay before error findings, and each group keeps the report's order.
    lines.sort_by_key(|(command, _)| *command);

    let mut out = String::new();
    for (_, line) in &lines {
        out.push_str(line);
        out.push('\n');
    }
    let count = |c: Command| lines.iter().filter(|(command, _)| *command == c).count();
    let (errors, warnings, notices) = (count(Command::Error), count(Command::Warning), count(Command::Notice));
    let hidden = errors.saturating_sub(PER_STEP) + warnings.saturating_sub(PER_STEP) + notices.saturating_sub(PER_STEP);
    let findings = report.diagnostics.len();
    let _ = write!(out, "celador: {}", plural(findings, "finding"));
    if !report.problems.is_empty() {
        let _ =
            write!(out, " and {} (inputs or packs that could not be checked)", plural(report.problems.len(), "error"));
    }
    if hidden > 0 {
        let _ = write!(
            out,
            "; GitHub shows at most {PER_STEP} error, {PER_STEP} warning and {PER_STEP} notice annotations per step \
             — {hidden} {} listed above but not annotated; use --format sarif for all",
            if hidden == 1 { "is" } else { "are" }
        );
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, SECRET, fixture};
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render_github(&fixture().report()));
    }

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(escape_data("100%, a:b\r\nc"), "100%25, a:b%0D%0Ac");
        assert_eq!(escape_property("100%, a:b\r\nc"), "100%25%2C a%3Ab%0D%0Ac");
        let out = render_github(&fixture().report());
        let missing = out.lines().find(|l| l.contains("DEMO-NET-001")).unwrap();
        assert!(missing.contains("title=DEMO-NET-001%3A No network policy::"), "{missing}");
        assert!(
            missing.contains("is missing: 100%25 of pods accept traffic, from anywhere,%0Aso add one"),
            "{missing}"
        );
        // Every command is one line: no raw newline survives inside a message.
        assert_eq!(out.lines().filter(|l| l.starts_with("::")).count(), 8);
    }

    #[test]
    fn file_names_are_escaped() {
        let sources = crate::source::SourceMap::new();
        let rules = fixture::rules(&sources);
        let file = sources.add(SourceFile::new("a,b:c%.yaml", None, "a: 1\n"));
        let rule = rules.iter().find(|r| &*r.id == "DEMO-LOW-001").unwrap();
        let d = fixture::finding(rule, crate::source::Span::new(file, 3, 4), "m", "a");
        let report = Report {
            sources: &crate::secrets::MaskedSources::for_test(&sources, std::slice::from_ref(&d)),
            rules: &rules,
            diagnostics: std::slice::from_ref(&d),
            problems: &[],
            summary: super::super::Summary::default(),
            files: &[],
        };
        let out = render_github(&report);
        assert!(out.starts_with("::warning file=a%2Cb%3Ac%25.yaml,line=1,col=4,endLine=1,endColumn=5,"), "{out}");
    }

    #[test]
    fn control_characters_are_made_visible() {
        let sources = crate::source::SourceMap::new();
        let rules = fixture::rules(&sources);
        let file = sources.add(SourceFile::new("x\u{1b}.yaml", None, "a: 1\n"));
        let rule = rules.iter().find(|r| &*r.id == "DEMO-LOW-001").unwrap();
        let d = fixture::finding(rule, crate::source::Span::new(file, 3, 4), "value `\u{1b}[2J\u{7}`", "a");
        let problems = [crate::diagnostic::Problem::file(Some("y\u{1b}".into()), "bad \u{9b}")];
        let report = Report {
            sources: &crate::secrets::MaskedSources::for_test(&sources, std::slice::from_ref(&d)),
            rules: &rules,
            diagnostics: std::slice::from_ref(&d),
            problems: &problems,
            summary: super::super::Summary::default(),
            files: &[],
        };
        let out = render_github(&report);
        assert!(!out.contains(['\u{1b}', '\u{7}', '\u{9b}']), "{out:?}");
        assert!(out.contains("value `␛[2J␇`"), "{out}");
    }

    #[test]
    fn never_shows_a_masked_value() {
        assert!(!render_github(&fixture().report()).contains(SECRET));
    }

    #[test]
    fn columns_count_characters() {
        let out = render_github(&fixture().report());
        let name = out.lines().find(|l| l.contains("DEMO-INFO-001")).unwrap();
        assert!(name.starts_with("::notice file=deploy/app.yaml,line=2,col=14,endLine=2,endColumn=21,"), "{name}");
    }

    #[test]
    fn errors_come_first_and_the_summary_counts_what_is_not_annotated() {
        let sources = crate::source::SourceMap::new();
        let rules = fixture::rules(&sources);
        let rule = rules.iter().find(|r| &*r.id == "DEMO-TLS-001").unwrap();
        let text: String = (1..=40).map(|i| format!("k{i}: v\n")).collect();
        let file = sources.add(SourceFile::new("many.yaml", None, &text));
        let severities = [(Severity::Info, 3), (Severity::Low, 7), (Severity::Medium, 5), (Severity::High, 15)];
        let mut diagnostics = Vec::new();
        let mut line = 0;
        for (severity, n) in severities {
            for _ in 0..n {
                line += 1;
                diagnostics.push(fixture::at_line(rule, &sources, file, line, severity));
            }
        }
        let problems = [crate::diagnostic::Problem::file(None, "a pack could not be read")];
        let report = Report {
            sources: &crate::secrets::MaskedSources::for_test(&sources, &diagnostics),
            rules: &rules,
            diagnostics: &diagnostics,
            problems: &problems,
            summary: super::super::Summary::default(),
            files: &[],
        };
        let out = render_github(&report);
        let kinds: Vec<&str> =
            out.lines().filter_map(|l| l.strip_prefix("::")).map(|l| l.split([' ', ':']).next().unwrap()).collect();
        assert_eq!(kinds.len(), 31);
        assert!(kinds[..16].iter().all(|k| *k == "error"));
        assert!(kinds[16..28].iter().all(|k| *k == "warning"));
        assert!(kinds[28..].iter().all(|k| *k == "notice"));
        assert!(out.starts_with("::error title=celador%3A error::a pack could not be read\n"));
        // 16 errors (6 over), 12 warnings (2 over), 3 notices.
        assert_eq!(
            out.lines().last().unwrap(),
            "celador: 30 findings and 1 error (inputs or packs that could not be checked); GitHub shows at most 10 \
             error, 10 warning and 10 notice annotations per step — 8 are listed above but not annotated; use \
             --format sarif for all"
        );
    }
}

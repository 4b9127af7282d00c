//! `--format junit`: JUnit XML as GitLab, Jenkins and Azure read it.
//!
//! One `testsuite` named `celador`. Each finding is a failed testcase named
//! `RULE @ file:line:col` (classname: the file, which GitLab shows as the suite), each problem
//! an errored testcase, and each checked file without findings or problems a passing testcase
//! `no findings @ file`. GitLab keeps only the first of several testcases with one name, so a
//! name already used gets ` (2)`, ` (3)`, … appended.

use super::{Position, Report};
use crate::diagnostic::{Diagnostic, Problem};
use std::collections::HashSet;
use std::fmt::Write as _;

/// Escapes text for an attribute value. Characters XML 1.0 cannot hold at all (most C0
/// controls) become U+FFFD; tab, newline and carriage return are written as references, so
/// attribute-value normalization keeps them.
fn escape(text: &str) -> String {
    escape_xml(text, true)
}

/// Escapes element content; newlines and quotes stay as they are.
fn escape_content(text: &str) -> String {
    escape_xml(text, false)
}

fn escape_xml(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

struct Names(HashSet<String>);

impl Names {
    /// `name`, or `name (N)` with the first N that is still free.
    fn unique(&mut self, name: String) -> String {
        if self.0.insert(name.clone()) {
            return name;
        }
        (2..).map(|n| format!("{name} ({n})")).find(|candidate| self.0.insert(candidate.clone())).unwrap_or(name)
    }
}

fn failure(report: &Report, d: &Diagnostic, names: &mut Names) -> String {
    let pos = Position::of(report.sources, d.primary.span);
    let name = names.unique(format!("{} @ {}:{}:{}", d.rule, pos.file, pos.line, pos.column));
    let mut body = format!(
        "{}\nrule: {} ({})\nseverity: {}\nat: {}:{}:{}",
        d.message, d.rule, d.title, d.severity, pos.file, pos.line, pos.column
    );
    if let Some(help) = &d.help {
        let _ = write!(body, "\nhelp: {help}");
    }
    if let Some(docs) = &d.docs {
        let _ = write!(body, "\ndocs: {docs}");
    }
    format!(
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
        escape(&name),
        escape(&pos.file),
        escape(&pos.file),
        pos.line,
        escape(&d.message),
        escape(&d.rule),
        escape_content(&body),
    )
}

fn error(report: &Report, p: &Problem, names: &mut Names) -> String {
    let (file, line, at) = match (p.span, &p.file) {
        (Some(span), _) => {
            let pos = Position::of(report.sources, span);
            let at = format!("{}:{}:{}", pos.file, pos.line, pos.column);
            (Some(pos.file), Some(pos.line), at)
        }
        (None, Some(file)) => (Some(file.clone()), None, file.clone()),
        (None, None) => (None, None, "celador".to_owned()),
    };
    let name = names.unique(format!("error @ {at}"));
    let mut attributes =
        format!("name=\"{}\" classname=\"{}\"", escape(&name), escape(file.as_deref().unwrap_or("celador")));
    if let Some(file) = &file {
        let _ = write!(attributes, " file=\"{}\"", escape(file));
    }
    if let Some(line) = line {
        let _ = write!(attributes, " line=\"{line}\"");
    }
    format!(
        "    <testcase {attributes}>\n      <error message=\"{}\" type=\"error\">{}</error>\n    </testcase>\n",
        escape(&p.message),
        escape_content(&format!("{}\nat: {at}", p.message)),
    )
}

/// Renders the report as a JUnit XML document.
pub fn render_junit(report: &Report) -> String {
    let mut names = Names(HashSet::new());
    let mut cases = String::new();
    for p in report.problems {
        cases.push_str(&error(report, p, &mut names));
    }
    for d in report.diagnostics {
        cases.push_str(&failure(report, d, &mut names));
    }
    let mut troubled: HashSet<String> =
        report.diagnostics.iter().map(|d| report.sources.get(d.primary.span.file).name.clone()).collect();
    for p in report.problems {
        match (p.span, &p.file) {
            (Some(span), _) => troubled.insert(report.sources.get(span.file).name.clone()),
            (None, Some(file)) => troubled.insert(file.clone()),
            (None, None) => false,
        };
    }
    let mut passed = 0;
    for file in report.files.iter().filter(|f| !troubled.contains(*f)) {
        let name = names.unique(format!("no findings @ {file}"));
        let _ = writeln!(
            cases,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"/>",
            escape(&name),
            escape(file),
            escape(file)
        );
        passed += 1;
    }
    let failures = report.diagnostics.len();
    let errors = report.problems.len();
    let counts = format!("tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\"", failures + errors + passed);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"celador\" {counts}>");
    let _ = writeln!(out, "  <testsuite name=\"celador\" {counts} skipped=\"0\">");
    out.push_str(&cases);
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{SECRET, fixture};
    use super::*;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render_junit(&fixture().report()));
    }

    fn attribute<'a>(line: &'a str, name: &str) -> Option<&'a str> {
        let start = line.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(&line[start..start + line[start..].find('"')?])
    }

    #[test]
    fn testcase_names_are_unique_and_counts_add_up() {
        let out = render_junit(&fixture().report());
        let names: Vec<&str> = out
            .lines()
            .filter(|l| l.trim_start().starts_with("<testcase "))
            .filter_map(|l| attribute(l, "name"))
            .collect();
        // 6 findings (two of one rule at one place), 2 problems, 1 clean file.
        assert_eq!(names.len(), 9);
        assert_eq!(names.iter().collect::<HashSet<_>>().len(), names.len(), "{names:?}");
        assert!(names.contains(&"DEMO-TLS-001 @ deploy/app.yaml:4:29"));
        assert!(names.contains(&"DEMO-TLS-001 @ deploy/app.yaml:4:29 (2)"));
        assert!(names.contains(&"no findings @ clean.yaml"));
        let suite = out.lines().find(|l| l.contains("<testsuite ")).unwrap();
        assert_eq!(attribute(suite, "tests"), Some("9"));
        assert_eq!(attribute(suite, "failures"), Some("6"));
        assert_eq!(attribute(suite, "errors"), Some("2"));
        assert_eq!(out.matches("<failure ").count(), 6);
        assert_eq!(out.matches("<error ").count(), 2);
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(escape("a<b>&\"c'\n\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;&#10;\u{fffd}");
        assert_eq!(escape_content("a<b>&\"c'\n\r\u{1}"), "a&lt;b&gt;&amp;\"c'\n&#13;\u{fffd}");
        let out = render_junit(&fixture().report());
        assert!(out.contains("message=\"invalid YAML: did not find expected &apos;,&apos; or &apos;]&apos;\""));
        assert!(out.contains("from anywhere,&#10;so add one\" type=\"DEMO-NET-001\">"));
    }

    #[test]
    fn never_shows_a_masked_value() {
        assert!(!render_junit(&fixture().report()).contains(SECRET));
    }
}

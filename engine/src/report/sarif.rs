//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One run. The driver describes every rule of the run (so code scanning shows the docs of
//! any rule an alert comes from), plus a synthetic descriptor for each finding whose rule is
//! not among them, such as `rule-error`. Columns count Unicode code points (the run says so
//! with `columnKind`), end columns are exclusive, and `byteOffset` counts a dropped
//! byte-order mark. Paths are the names reports show, relative to `%SRCROOT%` (the directory
//! celador ran in); an absolute name becomes a `file://` URI. Text of a secret is never
//! included: a finding that masks a span has no snippet, and any other snippet comes from the
//! report's masked text. Problems are tool execution notifications.

use super::{Position, Report, unique_fingerprints};
use crate::diagnostic::{Diagnostic, Problem, Severity};
use crate::pack::{Rule, rule_markdown};
use crate::source::Span;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
/// The workspace's `repository` (the engine's manifest does not inherit it).
const INFORMATION_URI: &str = "https://github.com/celador-dev/celador";
/// GitHub rejects a file with more than 20 tags on a rule and shows only the first 10.
const MAX_TAGS: usize = 10;
/// GitHub's (and the schema's intent for) `shortDescription` and `fullDescription`.
const MAX_DESCRIPTION: usize = 1024;
/// Snippets longer than this (the parent map of a missing key, say) are left out, not cut:
/// a snippet must be the region's whole text.
const MAX_SNIPPET_BYTES: usize = 2048;

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation; 1],
    original_uri_base_ids: BTreeMap<&'static str, BaseUri>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
    properties: DescriptorProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

impl Text {
    fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct DescriptorProperties {
    tags: Vec<String>,
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    precision: Option<&'static str>,
}

#[derive(Serialize)]
struct BaseUri {
    description: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    byte_offset: usize,
    byte_length: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
}

/// The SARIF level of a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium | Severity::Low => "warning",
        Severity::Info => "note",
    }
}

/// GitHub's `security-severity` score: >9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// `Title of a rule` → `TitleOfARule`: SARIF's suggested form for `reportingDescriptor.name`.
fn pascal_case(title: &str) -> String {
    let mut name: String = title
        .split(|c: char| !c.is_alphanumeric())
        .flat_map(|word| {
            let mut chars = word.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars)).into_iter().flatten()
        })
        .collect();
    truncate(&mut name, 255, "");
    name
}

/// Cuts `text` to at most `max` characters, ending it with `ellipsis` when cut.
fn truncate(text: &mut String, max: usize, ellipsis: &str) {
    if text.chars().count() <= max {
        return;
    }
    let keep = max - ellipsis.chars().count();
    let cut = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
    text.truncate(cut);
    text.push_str(ellipsis);
}

fn description(text: &str, fallback: &str) -> Text {
    let text = text.trim();
    let mut text = if text.is_empty() { fallback.trim().to_owned() } else { text.to_owned() };
    if text.is_empty() {
        text = "(no description)".to_owned();
    }
    truncate(&mut text, MAX_DESCRIPTION, "…");
    Text { text }
}

/// The plain-text form of rule docs: the Markdown without heading marks and code fences, so
/// both forms come from the one source of rule docs.
fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for line in markdown.lines().filter(|l| !l.trim_start().starts_with("```")) {
        out.push_str(line.trim_start_matches('#').strip_prefix(' ').filter(|_| line.starts_with('#')).unwrap_or(line));
        out.push('\n');
    }
    out
}

fn tags(rule_tags: &[String]) -> Vec<String> {
    let mut tags = vec!["security".to_owned()];
    for tag in rule_tags {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    tags.truncate(MAX_TAGS);
    tags
}

fn rule_descriptor(rule: &Rule) -> Descriptor {
    let markdown = rule_markdown(rule);
    Descriptor {
        id: rule.id.to_string(),
        name: pascal_case(&rule.title),
        short_description: description(&rule.title, &rule.id),
        full_description: description(&rule.docs.what, &rule.title),
        help: Help { text: plain_text(&markdown), markdown },
        help_uri: rule.docs_url.as_deref().map(str::to_owned),
        default_configuration: Configuration { level: level(rule.severity) },
        properties: DescriptorProperties {
            tags: tags(&rule.tags),
            security_severity: Some(security_severity(rule.severity)),
            precision: Some("high"),
        },
    }
}

/// A descriptor for a finding whose rule the report does not list: `rule-error`, or a rule
/// of a run that did not pass its rules. Built from what the finding carries.
fn synthetic_descriptor(d: &Diagnostic) -> Descriptor {
    let rule_error = [crate::diagnostic::RULE_ERROR, crate::diagnostic::EVALUATION_LIMIT].contains(&&*d.rule);
    let what = if &*d.rule == crate::diagnostic::RULE_ERROR {
        "A rule's CEL expression raised an error on this input, so the rule could not decide whether the input \
         complies: the input is not known to be safe. Fix the rule, or report it if it is built in."
    } else if &*d.rule == crate::diagnostic::EVALUATION_LIMIT {
        "A rule went past its evaluation budget on this input (steps or memory), or was cancelled, so it could \
         not decide whether the input complies: the input is not known to be safe."
    } else {
        ""
    };
    let mut markdown = format!("# {}: {}\n", d.rule, d.title);
    if !what.is_empty() {
        markdown.push_str(&format!("\n{what}\n"));
    }
    if let Some(help) = &d.help {
        markdown.push_str(&format!("\n## How to fix it\n\n{help}\n"));
    }
    if let Some(docs) = &d.docs {
        markdown.push_str(&format!("\nDocs: {docs}\n"));
    }
    Descriptor {
        id: d.rule.to_string(),
        name: pascal_case(&d.title),
        short_description: description(&d.title, &d.rule),
        full_description: description(what, &d.title),
        help: Help { text: plain_text(&markdown), markdown },
        help_uri: d.docs.as_deref().map(str::to_owned),
        default_configuration: Configuration { level: level(d.severity) },
        // A rule error is a fault of the tool, not a vulnerability: no security severity, so
        // code scanning files it as an ordinary alert.
        properties: if rule_error {
            DescriptorProperties { tags: vec!["celador".to_owned()], security_severity: None, precision: None }
        } else {
            DescriptorProperties {
                tags: tags(&[]),
                security_severity: Some(security_severity(d.severity)),
                precision: Some("high"),
            }
        },
    }
}

/// Whether a file name is an absolute path (POSIX, or a Windows drive path).
fn is_absolute(name: &str) -> bool {
    let bytes = name.as_bytes();
    name.starts_with('/') || (bytes.len() > 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/')
}

/// Percent-encodes a path for a URI reference; `/` stays, and `:` stays only when asked (a
/// `:` in the first segment of a relative reference would read as a scheme).
fn encode_path(path: &str, keep_colon: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')')
            || matches!(b, b'*' | b'+' | b',' | b';' | b'=' | b'@')
            || (keep_colon && b == b':');
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn artifact(name: &str) -> ArtifactLocation {
    if is_absolute(name) {
        let path = if name.starts_with('/') { name.to_owned() } else { format!("/{name}") };
        return ArtifactLocation { uri: format!("file://{}", encode_path(&path, true)), uri_base_id: None };
    }
    let relative = name.strip_prefix("./").unwrap_or(name);
    ArtifactLocation { uri: encode_path(relative, false), uri_base_id: Some(SRCROOT) }
}

fn physical(report: &Report, span: Span, snippet: Option<String>) -> PhysicalLocation {
    let file = report.sources.get(span.file);
    let pos = Position::of(report.sources, span);
    let bom = if file.had_bom { 3 } else { 0 };
    PhysicalLocation {
        artifact_location: artifact(&file.name),
        region: Some(Region {
            start_line: pos.line,
            start_column: pos.column,
            end_line: pos.end_line,
            end_column: pos.end_column,
            byte_offset: span.start as usize + bom,
            byte_length: span.len(),
            snippet: snippet.map(Text::new),
        }),
    }
}

fn location(report: &Report, span: Span) -> Location {
    Location { id: None, physical_location: physical(report, span, None), logical_locations: Vec::new(), message: None }
}

fn snippet(report: &Report, d: &Diagnostic) -> Option<String> {
    let span = d.primary.span;
    if !d.masked.is_empty() || span.is_empty() || span.len() > MAX_SNIPPET_BYTES {
        return None;
    }
    Some(report.sources.slice(span))
}

fn result<'a>(report: &Report, d: &'a Diagnostic, rule_index: usize, fingerprint: String) -> SarifResult<'a> {
    let primary = Location {
        id: None,
        physical_location: physical(report, d.primary.span, snippet(report, d)),
        logical_locations: if d.logical_path.is_empty() {
            Vec::new()
        } else {
            vec![LogicalLocation { fully_qualified_name: d.logical_path.clone() }]
        },
        message: None,
    };
    let related_locations = d
        .related
        .iter()
        .enumerate()
        .map(|(i, r)| Location {
            id: Some(i + 1),
            physical_location: physical(report, r.span, None),
            logical_locations: Vec::new(),
            message: (!r.message.is_empty()).then(|| Text::new(r.message.clone())),
        })
        .collect();
    SarifResult {
        rule_id: &d.rule,
        rule_index,
        level: level(d.severity),
        message: Text::new(d.message.clone()),
        locations: [primary],
        related_locations,
        partial_fingerprints: BTreeMap::from([("celador/v1", fingerprint)]),
    }
}

fn notification(report: &Report, p: &Problem) -> Notification {
    let locations = match (p.span, &p.file) {
        (Some(span), _) => vec![location(report, span)],
        (None, Some(file)) => vec![Location {
            id: None,
            physical_location: PhysicalLocation { artifact_location: artifact(file), region: None },
            logical_locations: Vec::new(),
            message: None,
        }],
        (None, None) => Vec::new(),
    };
    Notification { level: "error", message: Text::new(p.message.clone()), locations }
}

/// Renders the report as a SARIF 2.1.0 log (pretty JSON followed by a newline).
pub fn render_sarif(report: &Report) -> String {
    let mut descriptors: Vec<Descriptor> = report.rules.iter().map(|r| rule_descriptor(r)).collect();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, rule) in report.rules.iter().enumerate() {
        index.entry(rule.id.to_string()).or_insert(i);
    }
    for d in report.diagnostics {
        if !index.contains_key(&*d.rule) {
            index.insert(d.rule.to_string(), descriptors.len());
            descriptors.push(synthetic_descriptor(d));
        }
    }
    let results = report
        .diagnostics
        .iter()
        .zip(unique_fingerprints(report))
        .map(|(d, fingerprint)| result(report, d, index[&*d.rule], fingerprint))
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "celador",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules: descriptors,
                },
            },
            invocations: [Invocation {
                execution_successful: report.problems.is_empty(),
                tool_execution_notifications: report.problems.iter().map(|p| notification(report, p)).collect(),
            }],
            original_uri_base_ids: BTreeMap::from([(
                SRCROOT,
                BaseUri {
                    description: Text::new(
                        "The directory celador ran in; relative artifact URIs are resolved against it.",
                    ),
                },
            )]),
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, APP, SECRET, fixture};
    use super::*;
    use crate::source::SourceFile;
    use serde_json::Value;

    const SARIF_SCHEMA: &str = include_str!("../../../schemas/sarif-schema-2.1.0.json");

    fn render(f: &fixture::Fixture) -> (String, Value) {
        let out = render_sarif(&f.report());
        let json = serde_json::from_str(&out).expect("SARIF is JSON");
        (out, json)
    }

    fn schema_errors(instance: &Value) -> Vec<String> {
        let schema: Value = serde_json::from_str(SARIF_SCHEMA).expect("schema is JSON");
        let validator = jsonschema::options().should_validate_formats(true).build(&schema).expect("schema compiles");
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    #[test]
    fn snapshot() {
        let f = fixture();
        let out = render_sarif(&f.report());
        let version = format!("\"{}\"", env!("CARGO_PKG_VERSION"));
        insta::assert_snapshot!(out.replace(&version, "\"[VERSION]\""));
    }

    #[test]
    fn validates_against_the_oasis_schema() {
        let f = fixture();
        let (_, json) = render(&f);
        assert_eq!(schema_errors(&json), Vec::<String>::new());
        // The validator does reject what the schema forbids.
        let mut bad = json.clone();
        bad["runs"][0]["results"][0]["level"] = Value::from("critical");
        assert!(!schema_errors(&bad).is_empty());
    }

    #[test]
    fn empty_report_is_valid_and_successful() {
        let sources = crate::source::SourceMap::new();
        let report = Report {
            sources: &crate::secrets::MaskedSources::for_test(&sources, &[]),
            rules: &[],
            diagnostics: &[],
            problems: &[],
            summary: super::super::Summary::default(),
            files: &[],
        };
        let json: Value = serde_json::from_str(&render_sarif(&report)).unwrap();
        assert_eq!(schema_errors(&json), Vec::<String>::new());
        assert_eq!(json["runs"][0]["results"], Value::Array(Vec::new()));
        assert_eq!(json["runs"][0]["invocations"][0]["executionSuccessful"], Value::Bool(true));
    }

    #[test]
    fn describes_every_rule_and_indexes_results() {
        let f = fixture();
        let (_, json) = render(&f);
        let run = &json["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        // Five pack rules (one without findings) and the synthetic `rule-error`.
        assert_eq!(rules.len(), 6);
        for rule in rules {
            for key in ["shortDescription", "fullDescription"] {
                let text = rule[key]["text"].as_str().unwrap();
                assert!(!text.is_empty() && text.chars().count() <= 1024, "{key} of {}", rule["id"]);
            }
            assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
        }
        let tls = rules.iter().find(|r| r["id"] == "DEMO-TLS-001").unwrap();
        assert!(tls["help"]["markdown"].as_str().unwrap().contains("Docs: https://example.com/rules/DEMO-TLS-001"));
        assert_eq!(tls["properties"]["security-severity"], "8.0");
        assert_eq!(tls["properties"]["tags"], serde_json::json!(["security", "tls"]));
        for result in run["results"].as_array().unwrap() {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            assert!(!result["partialFingerprints"]["celador/v1"].as_str().unwrap().is_empty());
        }
        let levels: Vec<_> = run["results"].as_array().unwrap().iter().map(|r| r["level"].clone()).collect();
        assert_eq!(levels, ["note", "warning", "error", "error", "error", "error"]);
        assert_eq!(run["invocations"][0]["executionSuccessful"], Value::Bool(false));
        assert_eq!(run["invocations"][0]["toolExecutionNotifications"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn never_shows_a_masked_value() {
        let f = fixture();
        let (out, json) = render(&f);
        assert!(!out.contains(SECRET));
        let results = json["runs"][0]["results"].as_array().unwrap();
        let secret = results.iter().find(|r| r["ruleId"] == "DEMO-SEC-001").unwrap();
        assert!(secret["locations"][0]["physicalLocation"]["region"].get("snippet").is_none());
        // Another finding's snippet that covers the secret shows it masked.
        let net = results.iter().find(|r| r["ruleId"] == "DEMO-NET-001").unwrap();
        let snippet = net["locations"][0]["physicalLocation"]["region"]["snippet"]["text"].as_str().unwrap();
        assert!(snippet.contains("DB_PASSWORD: ********************"), "{snippet}");
    }

    #[test]
    fn columns_count_code_points_and_byte_offsets_count_the_bom() {
        let f = fixture();
        let (_, json) = render(&f);
        assert_eq!(json["runs"][0]["columnKind"], "unicodeCodePoints");
        let result = &json["runs"][0]["results"][0];
        assert_eq!(result["ruleId"], "DEMO-INFO-001");
        let region = &result["locations"][0]["physicalLocation"]["region"];
        // `  name: café-ünïcødé`: 13 characters (14 bytes) before `ünïcødé`.
        assert_eq!((region["startLine"].as_u64(), region["startColumn"].as_u64()), (Some(2), Some(14)));
        assert_eq!((region["endLine"].as_u64(), region["endColumn"].as_u64()), (Some(2), Some(21)));
        let offset = region["byteOffset"].as_u64().unwrap() as usize;
        let length = region["byteLength"].as_u64().unwrap() as usize;
        // The file on disk starts with the BOM that `SourceFile` dropped.
        assert_eq!(&APP.as_bytes()[offset..offset + length], "ünïcødé".as_bytes());
        assert_eq!(region["snippet"]["text"], "ünïcødé");
    }

    #[test]
    fn uris_are_relative_encoded_and_absolute_only_when_the_name_is() {
        assert_eq!(artifact("deploy/app.yaml").uri, "deploy/app.yaml");
        assert_eq!(artifact("./a b/ü:x.yaml").uri, "a%20b/%C3%BC%3Ax.yaml");
        assert_eq!(artifact("<stdin>").uri, "%3Cstdin%3E");
        let abs = artifact("/home/me/app.yaml");
        assert_eq!((abs.uri.as_str(), abs.uri_base_id), ("file:///home/me/app.yaml", None));
        assert_eq!(artifact("C:/work/app.yaml").uri, "file:///C:/work/app.yaml");
        let sources = crate::source::SourceMap::new();
        let file = sources.add(SourceFile::new("odd name #1.yaml", None, "a: 1\n"));
        let rules = fixture::rules(&sources);
        let rule = rules.iter().find(|r| &*r.id == "DEMO-LOW-001").unwrap();
        let d = fixture::finding(rule, Span::new(file, 3, 4), "m", "a");
        let report = Report {
            sources: &crate::secrets::MaskedSources::for_test(&sources, std::slice::from_ref(&d)),
            rules: &rules,
            diagnostics: std::slice::from_ref(&d),
            problems: &[],
            summary: super::super::Summary::default(),
            files: &[],
        };
        let json: Value = serde_json::from_str(&render_sarif(&report)).unwrap();
        assert_eq!(schema_errors(&json), Vec::<String>::new());
    }

    #[test]
    fn names_and_descriptions() {
        assert_eq!(pascal_case("TLS verification disabled"), "TLSVerificationDisabled");
        assert_eq!(pascal_case("Sensitive stack config stored in plaintext"), "SensitiveStackConfigStoredInPlaintext");
        let long = "x".repeat(2000);
        let d = description(&long, "t");
        assert_eq!(d.text.chars().count(), 1024);
        assert!(d.text.ends_with('…'));
        assert_eq!(description("  ", "Title").text, "Title");
        assert_eq!(plain_text("# A: b\n\n## Fix\n\n```yaml\nk: v\n```\n#x\n"), "A: b\n\nFix\n\nk: v\n#x\n");
    }
}

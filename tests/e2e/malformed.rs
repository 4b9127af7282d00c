//! Malformed inputs: each is a located error (JSON `errors` and a human snippet), exit 2, and
//! never a panic (every run is checked for one by the support module).

use crate::support::{Project, line_col_of};
use serde_json::json;

/// Checks `name` (written with `contents`) in JSON and human formats and asserts exactly one
/// error at `line:column` whose message contains `message`, and no document checked.
#[track_caller]
fn assert_located_error(name: &str, contents: &[u8], line: u64, column: u64, message: &str) {
    let p = Project::new();
    p.file(name, contents);
    let run = p.run(&["check", "--format", "json", name]);
    run.assert_code(2);
    let report = run.report();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report:#}");
    let e = &errors[0];
    assert_eq!(e["file"], name, "{report:#}");
    assert_eq!((e["line"].as_u64(), e["column"].as_u64()), (Some(line), Some(column)), "position of {report:#}");
    let text = e["message"].as_str().unwrap();
    assert!(text.contains(message), "message {text:?} should contain {message:?}");
    assert_eq!(report["findings"], json!([]));
    assert_eq!(report["summary"]["documents"], 0);

    // The same error for a human: a snippet headed `name:line:column`, with the message.
    let human = p.run(&["check", "--color", "never", name]);
    human.assert_code(2).assert_stdout_contains(&format!("{name}:{line}:{column}"));
    assert!(human.stdout.contains(message), "human output lacks {message:?}:\n{}", human.stdout);
    assert!(human.stdout.contains("1 error"), "{}", human.stdout);

    // And the same when reached through a directory walk.
    let walked = p.run(&["check", "--format", "json", "."]);
    walked.assert_code(2);
    let report = walked.report();
    assert_eq!(report["errors"].as_array().unwrap().len(), 1, "{report:#}");
    assert_eq!(report["errors"][0]["line"].as_u64(), Some(line));
    assert_eq!(report["errors"][0]["column"].as_u64(), Some(column));
}

#[test]
fn yaml_syntax_error() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app: web\ndata: {}\n";
    // The second `:` on line 4 starts a mapping where none is allowed.
    let (line, column) = line_col_of(text, ": web");
    assert_eq!((line, column), (4, 12));
    assert_located_error("cm.yaml", text.as_bytes(), 4, 12, "invalid YAML");
}

#[test]
fn yaml_syntax_error_in_a_later_document_is_located_in_the_file() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n bad: indentation\n";
    assert_located_error("multi.yaml", text.as_bytes(), 10, 2, "invalid YAML");
}

#[test]
fn yaml_duplicate_key() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {}\n  name: b\n";
    // The second `name`, not the first.
    assert_located_error("dup.yaml", text.as_bytes(), 6, 3, "duplicate key `name`");
}

#[test]
fn yaml_duplicate_key_in_a_flow_mapping() {
    let text = "apiVersion: v1\nkind: ConfigMap\ndata: {a: 1, b: 2, a: 3}\n";
    let (line, _) = line_col_of(text, "a: 3");
    assert_located_error("flow.yaml", text.as_bytes(), line, 20, "duplicate key `a`");
}

#[test]
fn unrendered_helm_template() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.x }}\n";
    assert_located_error("cm.yaml", text.as_bytes(), 4, 9, "unrendered Helm template");
}

#[test]
fn unrendered_helm_template_control_line() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n{{- range .Values.items }}\n  k: v\n{{- end }}\n";
    assert_located_error("cm.yaml", text.as_bytes(), 6, 1, "unrendered Helm template");
}

#[test]
fn json_trailing_comma() {
    let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n}\n";
    let (line, column) = line_col_of(text, ",\n}");
    assert_eq!((line, column), (3, 22));
    assert_located_error("cm.json", text.as_bytes(), 3, 22, "trailing comma");
}

#[test]
fn json_comment() {
    let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\" // the kind\n}\n";
    let (line, column) = line_col_of(text, "//");
    assert_eq!((line, column), (3, 23));
    assert_located_error("cm.json", text.as_bytes(), 3, 23, "comments are not allowed");
}

#[test]
fn dotenv_line_without_equals() {
    let text = "PULUMI_DATABASE_ENDPOINT=db:3306\n# a comment\nJUST_A_WORD\nOTHER=1\n";
    assert_located_error("api.env", text.as_bytes(), 3, 1, "expected `KEY=value`");
}

#[test]
fn dotenv_unterminated_quote() {
    let text = "PULUMI_DATABASE_ENDPOINT=db:3306\nSMTP_SERVER=\"smtp.example.net:587\nOTHER=1\n";
    // At the opening quote.
    assert_located_error(".env", text.as_bytes(), 2, 13, "unterminated quoted value");
}

#[test]
fn binary_file_of_a_known_kind_is_an_error_without_position() {
    let p = Project::new();
    let elf = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00";
    p.file("values.yaml", elf);
    let run = p.run(&["check", "--format", "json", "."]);
    run.assert_code(2);
    let report = run.report();
    assert_eq!(
        report["errors"],
        json!([{"file": "values.yaml", "line": null, "column": null, "message": "not a text file (binary content)"}])
    );
    let human = p.run(&["check", "--color", "never", "."]);
    human.assert_code(2).assert_stdout_contains("values.yaml: not a text file");
}

#[test]
fn binary_file_of_no_known_kind_is_skipped() {
    let p = Project::new();
    p.file("x.yaml", b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00");
    let report = p.run(&["check", "--format", "json", "."]).assert_code(0).report();
    assert_eq!(report["errors"], json!([]));
    assert_eq!(report["summary"]["skipped"], 1);
}

#[test]
fn non_utf8_text_file_is_located_at_its_first_invalid_byte() {
    let text = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n";
    assert_located_error("latin1.yaml", text, 4, 12, "UTF-8");
}

#[test]
fn empty_and_comment_only_files_are_not_errors() {
    let p = Project::new();
    p.file("empty.yaml", "");
    p.file("comments.yaml", "# nothing here\n---\n# nor here\n");
    p.file("blank.env", "\n\n# comment\n");
    let run = p.run(&["check", "--format", "json", "."]);
    run.assert_code(0);
    let report = run.report();
    assert_eq!(report["errors"], json!([]), "{report:#}");
    assert_eq!(report["summary"]["files"], 3);
}

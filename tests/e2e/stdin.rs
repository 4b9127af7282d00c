//! stdin (`-`): named with `--stdin-filename`, or `helm template` output with `# Source:`.

use crate::support::{Project, at, counts, findings_of, line_col_of, positions_of};
use serde_json::json;

const STACK: &str = "config:\n  aws:region: us-west-2\n  selfhosted:licenseKey: eyJplain.license.value\n";

#[test]
fn stdin_filename_decides_kind_and_name() {
    let p = Project::new();
    let run = p.run_stdin(&["check", "--format", "json", "-", "--stdin-filename", "Pulumi.prod.yaml"], STACK);
    run.assert_code(1);
    let report = run.report();
    let (line, column) = line_col_of(STACK, "eyJplain");
    assert_eq!((line, column), (3, 26));
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-SEC-001", "Pulumi.prod.yaml", 3, 26)]);
    let f = findings_of(&report, "PSH-SEC-001")[0];
    assert_eq!((f["end_line"].as_u64(), f["end_column"].as_u64()), (Some(3), Some(48)));
    assert_eq!(counts(&report), (1, 1, 0), "files, documents, skipped: {report:#}");
    assert!(f.get("source").is_none(), "{f:#}");
}

#[test]
fn stdin_filename_may_have_directories() {
    let p = Project::new();
    let run =
        p.run_stdin(&["check", "--format", "json", "--stdin-filename", "deploy/prod/Pulumi.prod.yaml", "-"], STACK);
    let report = run.assert_code(1).report();
    assert_eq!(
        positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]),
        [at("PSH-SEC-001", "deploy/prod/Pulumi.prod.yaml", 3, 26)]
    );
}

#[test]
fn stdin_without_a_name_is_classified_by_content() {
    let p = Project::new();
    let text = crate::support::api_deployment("pulumi-api", None);
    let report = p.run_stdin(&["check", "--format", "json", "-"], &text).assert_code(1).report();
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "<stdin>", 9, 9)]);
    // Content of no known kind on stdin is named explicitly: skipped, with a note.
    let run = p.run_stdin(&["check", "--format", "json", "-"], "just: some\nyaml: here\n");
    run.assert_code(0);
    assert_eq!(run.report()["summary"]["skipped"], 1);
    assert!(run.stderr.starts_with("celador: skipped <stdin>: not a known kind"), "{}", run.stderr);
}

#[test]
fn stdin_env_file() {
    let p = Project::new();
    let text = "PULUMI_DATABASE_ENDPOINT=db:3306\nDATABASE_CA_CERTIFICATE=\n";
    let report =
        p.run_stdin(&["check", "--format", "json", "-", "--stdin-filename", "api.env"], text).assert_code(1).report();
    // The empty variable, where it is set (the end of line 2).
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "api.env", 2, 25)]);
}

#[test]
fn stdin_and_files_together() {
    let p = Project::new();
    p.file("api.env", "PULUMI_DATABASE_ENDPOINT=db:3306\n");
    let report = p
        .run_stdin(&["check", "--format", "json", "api.env", "-", "--stdin-filename", "Pulumi.prod.yaml"], STACK)
        .assert_code(1)
        .report();
    assert_eq!(
        positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]),
        [at("PSH-SEC-001", "Pulumi.prod.yaml", 3, 26), at("PSH-TLS-008", "api.env", 1, 1)]
    );
    assert_eq!(report["summary"]["files"], 2);
}

const HELM_OUTPUT: &str = "\
---
# Source: chart/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: pulumi-api
spec:
  ports:
    - port: 80
---
# Source: chart/templates/api.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pulumi-api
spec:
  template:
    spec:
      containers:
        - name: api
          image: pulumi/service:20260801-1234
          env:
            - name: DATABASE_MIN_TLS_VERSION
              value: \"1.2\"
---
# Source: chart/templates/console.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pulumi-console
spec:
  template:
    spec:
      containers:
        - name: console
          image: pulumi/console:20260801-1234
";

#[test]
fn helm_template_output_on_stdin_carries_the_template_source() {
    let p = Project::new();
    let run = p.run_stdin(&["check", "--format", "json", "-"], HELM_OUTPUT);
    run.assert_code(1);
    let report = run.report();
    let (line, column) = line_col_of(HELM_OUTPUT, "env:");
    assert_eq!((line, column), (22, 11));
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "<stdin>", 22, 11)]);
    let f = findings_of(&report, "PSH-TLS-008")[0];
    assert_eq!(f["source"], "chart/templates/api.yaml", "{f:#}");
    assert_eq!((f["end_line"].as_u64(), f["end_column"].as_u64()), (Some(22), Some(14)));
    assert_eq!(f["message"], "API container `api` connects to MySQL without TLS: DATABASE_CA_CERTIFICATE not set");
    assert_eq!(counts(&report), (1, 3, 0), "files, documents, skipped: {report:#}");
    // Every finding (of any built-in rule) lies within stdin.
    let lines = HELM_OUTPUT.lines().count() as u64;
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(f["file"], "<stdin>", "{f:#}");
        assert!(f["line"].as_u64().unwrap() <= lines && f["end_line"].as_u64().unwrap() <= lines, "{f:#}");
    }

    let human = p.run_stdin(&["check", "--color", "never", "-"], HELM_OUTPUT);
    human
        .assert_code(1)
        .assert_stdout_contains("<stdin>:22:11")
        .assert_stdout_contains("rendered from chart/templates/api.yaml");
}

#[test]
fn helm_template_output_named_with_stdin_filename() {
    let p = Project::new();
    let report = p
        .run_stdin(&["check", "--format", "json", "-", "--stdin-filename", "rendered.yaml"], HELM_OUTPUT)
        .assert_code(1)
        .report();
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "rendered.yaml", 22, 11)]);
    assert_eq!(findings_of(&report, "PSH-TLS-008")[0]["source"], "chart/templates/api.yaml");
}

#[test]
fn malformed_stdin_is_located_in_stdin() {
    let p = Project::new();
    let run = p.run_stdin(&["check", "--format", "json", "-", "--stdin-filename", "api.env"], "A=1\nNOEQUALS\n");
    run.assert_code(2);
    assert_eq!(
        run.report()["errors"],
        json!([{"file": "api.env", "line": 2, "column": 1, "message": "expected `KEY=value`"}])
    );
}

/// A deployment-scoped rule reporting how many documents its deployment holds.
const DEPLOYMENT_PACK: &str = "\
[pack]
id = \"e2e\"
version = \"0.1.0\"
title = \"t\"

[[rule]]
id = \"DEP-1\"
title = \"counts the documents of a deployment\"
severity = \"low\"
kinds = [\"kubernetes\"]
scope = \"deployment\"
assert = 'false'
message = '{{ size(docs) }} documents'
";

#[test]
fn stdin_is_its_own_deployment() {
    let p = Project::new();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n";
    p.file("pack.toml", DEPLOYMENT_PACK);
    p.file("cm.yaml", cm);
    p.file("sub/cm.yaml", cm);
    let report = p
        .run_stdin(&["check", "--format", "json", "--no-builtin", "--pack", "pack.toml", "cm.yaml", "sub", "-"], cm)
        .assert_code(1)
        .report();
    let got: Vec<(String, u64, u64, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let one = |file: &str| (file.to_owned(), 1, 1, "1 documents".to_owned());
    assert_eq!(got, [one("<stdin>"), one("cm.yaml"), one("sub/cm.yaml")]);
}

/// One document-scoped and one deployment-scoped rule, each reporting every document.
const EVERY_DOCUMENT_PACK: &str = "\
[pack]
id = \"e2e\"
version = \"0.1.0\"
title = \"t\"

[[rule]]
id = \"DOC-1\"
title = \"every document\"
severity = \"low\"
kinds = [\"kubernetes\"]
assert = 'false'
message = '{{ doc.kind }}'

[[rule]]
id = \"DEP-1\"
title = \"every document of the deployment\"
severity = \"low\"
kinds = [\"kubernetes\"]
scope = \"deployment\"
each = 'docs'
as = 'd'
assert = 'false'
message = '{{ d.kind }}'
";

#[test]
fn findings_of_deployment_rules_carry_the_template_source_too() {
    let p = Project::new();
    p.file("pack.toml", EVERY_DOCUMENT_PACK);
    let stdin = "---\n# Source: chart/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# Source: chart/templates/b.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n";
    let report = p
        .run_stdin(&["check", "--format", "json", "--no-builtin", "--pack", "pack.toml", "-"], stdin)
        .assert_code(1)
        .report();
    let got: Vec<(&str, u64, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["line"].as_u64().unwrap(), f["source"].as_str().unwrap_or("<none>")))
        .collect();
    assert_eq!(
        got,
        [
            ("DOC-1", 3, "chart/templates/a.yaml"),
            ("DEP-1", 3, "chart/templates/a.yaml"),
            ("DOC-1", 9, "chart/templates/b.yaml"),
            ("DEP-1", 9, "chart/templates/b.yaml"),
        ],
        "{report:#}"
    );
}

/// Unnamed stdin is a deployment of its own whose other objects are unknown
/// (`deployment.complete == false`): an API without TLS variables may sit behind an Ingress
/// that is not in sight, so only what the object itself shows is reported. Named, it belongs to
/// its directory, which is complete.
#[test]
fn unnamed_stdin_is_an_incomplete_deployment() {
    let p = Project::new();
    let text = crate::support::api_deployment("pulumi-api", None);
    let unnamed = p.run_stdin(&["check", "--format", "json", "-"], &text).report();
    assert_eq!(positions_of(&unnamed, &["PSH-TLS-003"]), []);
    let named = p.run_stdin(&["check", "--format", "json", "--stdin-filename", "deploy/api.yaml", "-"], &text).report();
    assert_eq!(positions_of(&named, &["PSH-TLS-003"]).len(), 1, "{named:#}");

    // Partly configured TLS is wrong wherever the object is.
    let partial =
        crate::support::api_deployment("pulumi-api", Some("        - {name: API_TLS_CERTIFICATE, value: cert}\n"));
    let report = p.run_stdin(&["check", "--format", "json", "-"], &partial).report();
    assert_eq!(positions_of(&report, &["PSH-TLS-003"]).len(), 1, "{report:#}");
}

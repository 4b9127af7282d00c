//! The JSON report (`--format json`, version 1): exactly the contract's fields, exact positions.

use crate::support::{
    CONFIGMAP, Project, SEC_001, TLS_008, TLS_ENV_OK, api_deployment, builtin_rules_pack, counts, findings_of, keys,
    line_col_of, summary,
};
use serde_json::json;

/// The API container sets only the CA; `env:` is the nearest existing parent of the missing
/// DATABASE_MIN_TLS_VERSION.
const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pulumi-api
  namespace: pulumi
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: api
          image: pulumi/service:20260801-1234
          ports:
            - containerPort: 8080
          env:
            - name: PULUMI_DATABASE_ENDPOINT
              value: mysql.pulumi.svc:3306
            - name: DATABASE_CA_CERTIFICATE
              valueFrom:
                secretKeyRef: {name: pulumi-db-ca, key: ca.pem}
        - name: nginx
          image: nginx:1.27
";

#[test]
fn missing_tls_variable_is_reported_with_exactly_the_contract_fields() {
    let p = Project::new();
    p.file("deploy/base/api.yaml", DEPLOYMENT);
    let run = p.run(&["check", "--format", "json", "deploy"]);
    run.assert_code(1);
    let report = run.report();

    assert_eq!(keys(&report), ["errors", "findings", "summary", "version"]);
    assert_eq!(report["version"], json!(1));
    assert_eq!(report["errors"], json!([]));
    assert_eq!(counts(&report), (1, 1, 0), "files, documents, skipped");
    assert_eq!(
        keys(&report["summary"]),
        ["baselined", "checked", "configuration_like", "documents", "files", "findings", "skipped", "suppressed"]
    );
    // `summary.findings` counts the findings (checked by `report()`); other built-in rules may
    // report on this input too: this test is about PSH-TLS-008.
    let tls = findings_of(&report, "PSH-TLS-008");
    assert_eq!(tls.len(), 1, "{report:#}");
    let f = tls[0];
    assert_eq!(
        keys(f),
        [
            "column",
            "docs",
            "end_column",
            "end_line",
            "file",
            "help",
            "line",
            "message",
            "related",
            "rule",
            "severity",
            "title"
        ],
        "no `source` outside helm template output: {f:#}"
    );
    assert_eq!(f["rule"], "PSH-TLS-008");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["title"], "API connects to MySQL without TLS");
    assert_eq!(f["message"], "API container `api` connects to MySQL without TLS: DATABASE_MIN_TLS_VERSION not set");
    // Relative to the argument as given, `/`-separated.
    assert_eq!(f["file"], "deploy/base/api.yaml");
    // The `env:` key of the container (line 15, column 11), spanning `env`.
    let (line, column) = line_col_of(DEPLOYMENT, "env:");
    assert_eq!((line, column), (15, 11));
    assert_eq!(f["line"], json!(15));
    assert_eq!(f["column"], json!(11));
    assert_eq!(f["end_line"], json!(15));
    assert_eq!(f["end_column"], json!(14));
    assert_eq!(f["related"], json!([]));
    let help = f["help"].as_str().expect("help is a string");
    assert!(help.contains("DATABASE_MIN_TLS_VERSION"), "{help}");
    assert_eq!(
        f["docs"],
        "https://www.pulumi.com/docs/administration/self-hosting/operations/security-hardening/#hop-3-api--mysql"
    );
}

#[test]
fn the_whole_report_is_exactly_the_contract() {
    // With PSH-TLS-008 and PSH-SEC-001 only (as in the repository), the report is known in full.
    let p = Project::new();
    p.file("deploy/base/api.yaml", DEPLOYMENT);
    p.file("psh.toml", builtin_rules_pack(&[TLS_008, SEC_001]));
    let run = p.run(&["check", "--format", "json", "--no-builtin", "--pack", "psh.toml", "deploy"]);
    run.assert_code(1);
    assert_eq!(
        run.json(),
        json!({
            "version": 1,
            "findings": [{
                "rule": "PSH-TLS-008",
                "severity": "high",
                "title": "API connects to MySQL without TLS",
                "message": "API container `api` connects to MySQL without TLS: DATABASE_MIN_TLS_VERSION not set",
                "file": "deploy/base/api.yaml",
                "line": 15,
                "column": 11,
                "end_line": 15,
                "end_column": 14,
                "related": [],
                "help": "Set both DATABASE_CA_CERTIFICATE (the CA's PEM value) and DATABASE_MIN_TLS_VERSION (1.2 or 1.3) on the API container; with either missing the service connects without TLS.",
                "docs": "https://www.pulumi.com/docs/administration/self-hosting/operations/security-hardening/#hop-3-api--mysql"
            }],
            "errors": [],
            // `suppressed` and `baselined` were added to version 1 after the first four.
            "summary": {
                "files": 1, "checked": 1, "documents": 1, "skipped": 0, "configuration_like": 0,
                "findings": 1, "suppressed": 0, "baselined": 0
            }
        })
    );
    // Pretty-printed, one trailing newline.
    assert!(run.stdout.starts_with("{\n  \"version\": 1,\n"), "{}", run.stdout);
    assert!(run.stdout.ends_with("}\n") && !run.stdout.ends_with("\n\n"));
}

#[test]
fn file_names_follow_the_argument_as_given() {
    let p = Project::new();
    p.file("deploy/base/api.yaml", DEPLOYMENT);
    for (arg, expected) in [
        ("./deploy", "deploy/base/api.yaml"),
        ("deploy/", "deploy/base/api.yaml"),
        ("deploy/base", "deploy/base/api.yaml"),
        ("deploy/base/api.yaml", "deploy/base/api.yaml"),
        (".", "deploy/base/api.yaml"),
    ] {
        let report = p.run(&["check", "--format", "json", arg]).assert_code(1).report();
        assert_eq!(findings_of(&report, "PSH-TLS-008")[0]["file"], expected, "for argument {arg}: {report:#}");
    }
    // An absolute path under the working directory is shown relative to it.
    let abs = p.path("deploy").display().to_string();
    let report = p.run(&["check", "--format", "json", &abs]).assert_code(1).report();
    assert_eq!(findings_of(&report, "PSH-TLS-008")[0]["file"], "deploy/base/api.yaml", "{report:#}");
}

#[test]
fn clean_input_gives_an_empty_report() {
    let p = Project::new();
    p.file("cm.yaml", CONFIGMAP);
    let report = p.run(&["check", "--format", "json", "."]).assert_code(0).report();
    assert_eq!(report["findings"], json!([]));
    assert_eq!(report["errors"], json!([]));
    assert_eq!(summary(&report), json!({"files": 1, "documents": 1, "skipped": 0, "findings": 0}));
}

#[test]
fn api_with_both_tls_variables_has_no_tls_finding() {
    let p = Project::new();
    p.file("api.yaml", api_deployment("pulumi-api", Some(TLS_ENV_OK)));
    let report = p.run(&["check", "--format", "json", "."]).report();
    assert_eq!(findings_of(&report, "PSH-TLS-008"), Vec::<&serde_json::Value>::new(), "{report:#}");
    assert_eq!(report["errors"], json!([]));
}

#[test]
fn output_flag_writes_the_same_report_to_a_file() {
    let p = Project::new();
    p.file("in/deploy.yaml", DEPLOYMENT);
    let to_stdout = p.run(&["check", "--format", "json", "in"]).assert_code(1).report();
    let run = p.run(&["check", "--format", "json", "--output", "report.json", "in"]);
    run.assert_code(1);
    assert_eq!(run.stdout, "", "the report goes to the file, not stdout");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("report.json")).unwrap()).unwrap();
    assert_eq!(written, to_stdout);
}

#[test]
fn columns_are_counted_in_characters() {
    let p = Project::new();
    let stack = "config:\n  prój:licenseKey: välue-plain\n";
    p.file("Pulumi.dev.yaml", stack);
    let report = p.run(&["check", "--format", "json", "."]).assert_code(1).report();
    let f = findings_of(&report, "PSH-SEC-001")[0];
    // `é` is two bytes; columns count it once.
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(2), Some(20)), "{f:#}");
    assert_eq!((f["end_line"].as_u64(), f["end_column"].as_u64()), (Some(2), Some(31)), "{f:#}");
}

#[test]
fn crlf_line_endings_do_not_shift_positions() {
    let p = Project::new();
    p.file("deploy.yaml", DEPLOYMENT.replace('\n', "\r\n"));
    let report = p.run(&["check", "--format", "json", "."]).assert_code(1).report();
    let f = findings_of(&report, "PSH-TLS-008")[0];
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64(), f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(15), Some(11), Some(15), Some(14)),
        "{f:#}"
    );
}

#[test]
fn unwritable_output_file_exits_2() {
    let p = Project::new();
    p.file("api.env", "PULUMI_DATABASE_ENDPOINT=db:3306\n");
    p.run(&["check", "--format", "json", "--output", "no/such/dir/report.json", "api.env"])
        .assert_code(2)
        .assert_stderr_contains("no/such/dir/report.json");
}

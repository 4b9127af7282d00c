//! The shipped examples: every hardened deployment is clean, and every insecure one produces
//! exactly the findings recorded in its snapshot, at the recorded lines and columns.

use crate::support::repo_root;
use std::process::Command;

fn findings(dir: &str) -> (serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_celador"))
        .args(["check", "--format", "json", dir])
        .current_dir(repo_root())
        .env("CELADOR_NO_PROGRESS", "1")
        .output()
        .expect("celador runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let lines: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!("{} {}:{}:{}", f["rule"].as_str().unwrap(), f["file"].as_str().unwrap(), f["line"], f["column"])
        })
        .collect();
    (report, lines.join("\n"))
}

#[test]
fn hardened_examples_have_no_findings() {
    let (report, listed) = findings("examples/hardened");
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(report["summary"]["findings"], 0, "hardened examples produced findings:\n{listed}");
    assert_eq!(report["summary"]["files"], 10);
}

#[test]
fn insecure_examples_produce_exactly_the_recorded_findings() {
    let (report, listed) = findings("examples/insecure");
    assert_eq!(report["errors"], serde_json::json!([]));
    insta::assert_snapshot!("insecure_examples", listed);
}

/// The insecure examples hold literal secrets; no output format may print one.
#[test]
fn no_secret_of_the_insecure_examples_is_printed() {
    let secrets = [
        "eyJhbGciOiJSUzI1NiJ9.example-license.signature",
        "eyJhbGciOiJSUzI1NiJ9.fake.fake",
        "eyJfake.license",
        "hunter2",
        "kX8Q~exampleclientsecretvalue",
        "c3RvcmFnZS1rZXktZXhhbXBsZQ==",
        "Pa55w0rd_",
    ];
    for format in ["human", "json", "sarif", "github", "junit", "gitlab"] {
        let out = Command::new(env!("CARGO_BIN_EXE_celador"))
            .args(["check", "--color", "never", "--format", format, "examples/insecure"])
            .current_dir(repo_root())
            .env("CELADOR_NO_PROGRESS", "1")
            .output()
            .expect("celador runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        for secret in secrets {
            assert!(!text.contains(secret), "{format} output prints the secret {secret}");
        }
    }
}

/// Every output format, rendered for the insecure stack and compose examples (snapshots), and
/// the SARIF validated against the OASIS 2.1.0 schema.
#[test]
fn every_format_renders_the_insecure_examples() {
    for format in ["human", "json", "sarif", "github", "junit", "gitlab"] {
        let out = Command::new(env!("CARGO_BIN_EXE_celador"))
            .args([
                "check",
                "--color",
                "never",
                "--format",
                format,
                "examples/insecure/stack",
                "examples/insecure/compose",
            ])
            .current_dir(repo_root())
            .env("CELADOR_NO_PROGRESS", "1")
            .env("COLUMNS", "100")
            .output()
            .expect("celador runs");
        assert_eq!(out.status.code(), Some(1), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).expect("UTF-8 output");
        if format == "sarif" {
            let schema: serde_json::Value =
                serde_json::from_str(include_str!("../../schemas/sarif-schema-2.1.0.json")).expect("schema");
            let validator = jsonschema::validator_for(&schema).expect("schema compiles");
            let sarif: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
            let errors: Vec<String> =
                validator.iter_errors(&sarif).map(|e| format!("{} at {}", e, e.instance_path())).collect();
            assert!(errors.is_empty(), "SARIF is not valid 2.1.0:\n{}", errors.join("\n"));
        }
        insta::assert_snapshot!(format!("insecure_examples_{format}"), text);
    }
}

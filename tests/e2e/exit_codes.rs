//! Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 errors (which win over findings).

use crate::support::{CONFIGMAP, Project, api_deployment, at, positions_of};

fn insecure(p: &Project) {
    // No env at all: both TLS variables missing; reported at the container (`- name: api`).
    p.file("insecure.yaml", api_deployment("pulumi-api", None));
}

/// A pack with one rule of `severity` flagging objects named `flagged`.
fn severity_pack(severity: &str) -> String {
    format!(
        "[pack]\nid = \"sev\"\nversion = \"1\"\ntitle = \"t\"\n\n[[rule]]\nid = \"SEV-1\"\ntitle = \"flagged\"\nseverity = \"{severity}\"\nkinds = [\"kubernetes\"]\nassert = \"doc.metadata.name != 'flagged'\"\nlocate = 'doc.metadata.name'\nmessage = 'flagged'\n"
    )
}

#[test]
fn clean_input_exits_0() {
    let p = Project::new();
    p.file("cm.yaml", CONFIGMAP);
    let run = p.run(&["check", "--color", "never", "."]);
    run.assert_code(0).assert_stdout_contains("0 findings in 1 document of 1 file");
}

#[test]
fn findings_exit_1() {
    let p = Project::new();
    insecure(&p);
    p.run(&["check", "--color", "never", "."]).assert_code(1);
    let report = p.run(&["check", "--format", "json", "."]).assert_code(1).report();
    assert_eq!(positions_of(&report, &["PSH-TLS-008"]), [at("PSH-TLS-008", "insecure.yaml", 9, 9)]);
}

#[test]
fn malformed_input_exits_2_even_when_other_files_have_findings() {
    let p = Project::new();
    insecure(&p);
    p.file("broken.json", "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n}\n");
    let run = p.run(&["check", "--format", "json", "."]);
    run.assert_code(2);
    let report = run.report();
    // Both are reported: the error and the finding of the other file.
    assert_eq!(positions_of(&report, &["PSH-TLS-008"]), [at("PSH-TLS-008", "insecure.yaml", 9, 9)]);
    assert_eq!(
        report["errors"],
        serde_json::json!([{
            "file": "broken.json", "line": 3, "column": 22, "message": "trailing commas are not allowed"
        }])
    );
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["summary"]["documents"], 1);

    let human = p.run(&["check", "--color", "never", "."]);
    human.assert_code(2).assert_stdout_contains("broken.json:3:22").assert_stdout_contains("insecure.yaml:9:9");
}

#[test]
fn fail_on_critical_lets_high_findings_pass() {
    // A `high` rule, like the built-in PSH-TLS-008.
    let p = Project::new();
    p.file("pack.toml", severity_pack("high"));
    p.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flagged\n");
    let base = ["check", "--format", "json", "--no-builtin", "--pack", "pack.toml"];
    for (threshold, code) in [("critical", 0), ("high", 1), ("medium", 1), ("low", 1), ("info", 1)] {
        let args: Vec<&str> = base.iter().copied().chain(["--fail-on", threshold, "cm.yaml"]).collect();
        let run = p.run(&args);
        run.assert_code(code);
        // The finding is reported either way; only the exit code changes.
        assert_eq!(positions_of(&run.report(), &["SEV-1"]), [at("SEV-1", "cm.yaml", 4, 9)], "--fail-on {threshold}");
    }
    // Without --fail-on, the threshold is `low`.
    let args: Vec<&str> = base.iter().copied().chain(["cm.yaml"]).collect();
    p.run(&args).assert_code(1);
}

#[test]
fn fail_on_with_the_built_in_pack() {
    let p = Project::new();
    insecure(&p);
    let run = p.run(&["check", "--format", "json", "--fail-on", "critical", "."]);
    let report = run.report();
    let critical = report["findings"].as_array().unwrap().iter().any(|f| f["severity"] == "critical");
    run.assert_code(if critical { 1 } else { 0 });
    assert_eq!(positions_of(&report, &["PSH-TLS-008"]), [at("PSH-TLS-008", "insecure.yaml", 9, 9)]);
    p.run(&["check", "--fail-on", "high", "."]).assert_code(1);
}

#[test]
fn info_findings_pass_the_default_threshold() {
    let p = Project::new();
    p.file("pack.toml", severity_pack("info"));
    p.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flagged\n");
    let run = p.run(&["check", "--format", "json", "--no-builtin", "--pack", "pack.toml", "cm.yaml"]);
    run.assert_code(0);
    assert_eq!(run.report()["summary"]["findings"], 1);
    p.run(&["check", "--no-builtin", "--pack", "pack.toml", "--fail-on", "info", "cm.yaml"]).assert_code(1);
}

#[test]
fn critical_findings_fail_fail_on_critical() {
    let p = Project::new();
    p.file("pack.toml", severity_pack("critical"));
    p.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flagged\n");
    p.run(&["check", "--no-builtin", "--pack", "pack.toml", "--fail-on", "critical", "cm.yaml"]).assert_code(1);
}

#[test]
fn fail_on_does_not_hide_errors() {
    let p = Project::new();
    p.file("broken.env", "JUSTAWORD\n");
    p.run(&["check", "--fail-on", "critical", "."]).assert_code(2);
}

#[test]
fn usage_errors_exit_2() {
    let p = Project::new();
    insecure(&p);
    p.run(&["check", "--no-such-flag", "."]).assert_code(2).assert_stderr_contains("--no-such-flag");
    p.run(&["check", "--fail-on", "severe", "."]).assert_code(2).assert_stderr_contains("severe");
    p.run(&["check", "--format", "xml", "."]).assert_code(2).assert_stderr_contains("xml");
    p.run(&["check", "--kind", "dockerfile", "."]).assert_code(2).assert_stderr_contains("dockerfile");
    p.run(&["frobnicate"]).assert_code(2);
    p.run(&[]).assert_code(2);
}

#[test]
fn help_and_version_exit_0() {
    let p = Project::new();
    p.run(&["--help"]).assert_code(0).assert_stdout_contains("check");
    p.run(&["check", "--help"]).assert_code(0).assert_stdout_contains("--fail-on");
    p.run(&["--version"]).assert_code(0).assert_stdout_contains("celador");
}

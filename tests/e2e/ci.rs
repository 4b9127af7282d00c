//! Pull-request and pre-commit behaviour: output formats written together, suppressions
//! (inline and in celador.toml) with expiry and unused reports, baselines, changed files.

use crate::support::*;
use std::process::Command;

const STACK: &str =
    "config:\n  proj:licenseKey: eyJsecret-license\n  proj:smtpPassword: hunter2\n  proj:apiDomain: api.example.com\n";

fn project() -> Project {
    let p = Project::new();
    p.file("pack.toml", builtin_rules_pack(&[TLS_008, SEC_001]));
    p
}

fn check(p: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["check", "--no-builtin", "--pack", "pack.toml", "--format", "json"];
    args.extend_from_slice(extra);
    p.run(&args)
}

#[test]
fn several_formats_come_from_one_scan() {
    let p = project();
    p.file("deploy/Pulumi.prod.yaml", STACK);
    let run = p.run(&[
        "check",
        "--no-builtin",
        "--pack",
        "pack.toml",
        "deploy",
        "--format",
        "sarif",
        "--output",
        "out.sarif",
        "--format",
        "junit",
        "--output",
        "out.xml",
        "--format",
        "gitlab",
        "--output",
        "gl.json",
        "--format",
        "json",
    ]);
    run.assert_code(1);
    let report = run.report();
    assert_eq!(report["summary"]["findings"], 2);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("out.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "deploy/Pulumi.prod.yaml"
    );
    let junit = std::fs::read_to_string(p.path("out.xml")).unwrap();
    assert!(junit.contains("PSH-SEC-001 @ deploy/Pulumi.prod.yaml:2:20"), "{junit}");
    let gitlab: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p.path("gl.json")).unwrap()).unwrap();
    assert_eq!(gitlab.as_array().unwrap().len(), 2);
    assert_eq!(gitlab[0]["location"]["lines"]["begin"], 2);
}

#[test]
fn two_reports_cannot_both_go_to_stdout() {
    let p = project();
    p.file("Pulumi.prod.yaml", STACK);
    p.run(&["check", "--no-builtin", "--pack", "pack.toml", "--format", "json", "--format", "sarif"]).assert_code(2);
}

#[test]
fn inline_comment_suppresses_on_its_line_and_the_next() {
    let p = project();
    p.file(
        "Pulumi.prod.yaml",
        "config:\n  # celador:ignore PSH-SEC-001 reason=\"rotated, placeholder only\"\n  proj:licenseKey: eyJsecret-license\n  proj:smtpPassword: hunter2  # celador:ignore PSH-SEC-001 reason='lab'\n",
    );
    let run = check(&p, &["--show-suppressed", "Pulumi.prod.yaml"]);
    run.assert_code(0);
    let report = run.report();
    assert_eq!(report["summary"]["findings"], 0);
    assert_eq!(report["summary"]["suppressed"], 2);
    let human = p.run(&[
        "check",
        "--no-builtin",
        "--pack",
        "pack.toml",
        "--color",
        "never",
        "--show-suppressed",
        "Pulumi.prod.yaml",
    ]);
    human
        .assert_code(0)
        .assert_stdout_contains("PSH-SEC-001 Pulumi.prod.yaml:3:20")
        .assert_stdout_contains("(reason: rotated, placeholder only)");
}

#[test]
fn a_suppression_without_reason_is_reported_and_does_not_suppress() {
    let p = project();
    p.file("Pulumi.prod.yaml", "config:\n  proj:licenseKey: eyJsecret-license  # celador:ignore PSH-SEC-001\n");
    let report = check(&p, &["Pulumi.prod.yaml"]).report();
    assert_eq!(
        positions_of(&report, &["PSH-SEC-001", "invalid-suppression"]),
        vec![at("PSH-SEC-001", "Pulumi.prod.yaml", 2, 20), at("invalid-suppression", "Pulumi.prod.yaml", 2, 39)]
    );
}

#[test]
fn an_expired_suppression_no_longer_suppresses_and_is_reported() {
    let p = project();
    p.file("Pulumi.prod.yaml", "config:\n  # celador:ignore PSH-SEC-001 reason=\"until rotation\" until=2020-01-31\n  proj:licenseKey: eyJsecret-license\n");
    let report = check(&p, &["Pulumi.prod.yaml"]).report();
    assert_eq!(
        positions_of(&report, &["PSH-SEC-001", "expired-suppression"]),
        vec![at("expired-suppression", "Pulumi.prod.yaml", 2, 3), at("PSH-SEC-001", "Pulumi.prod.yaml", 3, 20)]
    );
    let expired = &findings_of(&report, "expired-suppression")[0];
    assert!(expired["message"].as_str().unwrap().contains("expired on 2020-01-31"), "{expired}");
}

#[test]
fn a_suppression_that_matches_nothing_is_reported() {
    let p = project();
    p.file(
        "Pulumi.prod.yaml",
        "config:\n  # celador:ignore PSH-TLS-008 reason=\"wrong rule\"\n  proj:licenseKey:\n    secure: v1:abc:def\n",
    );
    let run = check(&p, &["Pulumi.prod.yaml"]);
    run.assert_code(1);
    assert_eq!(
        positions_of(&run.report(), &["unused-suppression"]),
        vec![at("unused-suppression", "Pulumi.prod.yaml", 2, 3)]
    );
}

#[test]
fn config_ignores_suppress_json_inputs_and_report_their_own_expiry() {
    let p = project();
    p.file("state/state.json", "{\"version\": 3, \"deployment\": {\"resources\": []}}\n");
    p.file("Pulumi.prod.yaml", STACK);
    p.file(
        "celador.toml",
        "[[ignore]]\nrule = \"PSH-SEC-001\"\npath = \"Pulumi.*.yaml\"\nlogical_path = \"*licenseKey*\"\nreason = \"placeholder stack\"\n\n[[ignore]]\nrules = [\"PSH-SEC-001\"]\npath = \"Pulumi.*.yaml\"\nreason = \"old\"\nuntil = 2021-01-01\n",
    );
    let report = check(&p, &["."]).report();
    assert_eq!(report["summary"]["suppressed"], 1);
    assert_eq!(
        positions_of(&report, &["PSH-SEC-001", "expired-suppression"]),
        vec![at("PSH-SEC-001", "Pulumi.prod.yaml", 3, 22), at("expired-suppression", "celador.toml", 7, 1)]
    );
}

#[test]
fn config_disables_rules_overrides_severity_and_parameters() {
    let p = project();
    p.file("Pulumi.prod.yaml", STACK);
    p.file("celador.toml", "[rules]\nseverity = { \"PSH-SEC-001\" = \"info\" }\n\n[params.\"PSH-SEC-001\"]\nsensitive_keys = [\"smtpPassword\"]\nsensitive_patterns = []\n");
    let report = check(&p, &["Pulumi.prod.yaml"]).report();
    let found = findings_of(&report, "PSH-SEC-001");
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0]["severity"], "info");
    check(&p, &["Pulumi.prod.yaml"]).assert_code(0);
    p.file("other.toml", "[rules]\ndisable = [\"PSH-SEC-001\"]\n");
    let report = check(&p, &["--config", "other.toml", "Pulumi.prod.yaml"]).report();
    assert_eq!(report["summary"]["findings"], 0);
}

#[test]
fn invalid_config_is_a_located_error() {
    let p = project();
    p.file("Pulumi.prod.yaml", STACK);
    p.file("celador.toml", "[rules]\nseverity = { \"PSH-SEC-001\" = \"urgent\" }\n");
    let run = check(&p, &["Pulumi.prod.yaml"]);
    run.assert_code(2);
    let errors = &run.report()["errors"];
    assert_eq!((errors[0]["file"].as_str(), errors[0]["line"].as_u64()), (Some("celador.toml"), Some(2)));
}

#[test]
fn a_baseline_hides_known_findings_and_survives_moved_lines() {
    let p = project();
    p.file("Pulumi.prod.yaml", STACK);
    p.run(&["baseline", "create", "-o", "baseline.json", "--no-builtin", "--pack", "pack.toml", "Pulumi.prod.yaml"])
        .assert_code(0);
    let baseline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("baseline.json")).unwrap()).unwrap();
    assert_eq!(baseline["findings"].as_array().unwrap().len(), 2);
    // Reformat: comments and blank lines move every finding down; the baseline still holds.
    p.file("Pulumi.prod.yaml", format!("# production\n\n{STACK}"));
    let run = check(&p, &["--baseline", "baseline.json", "Pulumi.prod.yaml"]);
    run.assert_code(0);
    assert_eq!(run.report()["summary"]["baselined"], 2);
    // A new finding is reported.
    p.file("Pulumi.prod.yaml", format!("{STACK}  proj:dbPassword: new-secret\n"));
    let report = check(&p, &["--baseline", "baseline.json", "Pulumi.prod.yaml"]).report();
    assert_eq!(positions_of(&report, &["PSH-SEC-001"]), vec![at("PSH-SEC-001", "Pulumi.prod.yaml", 5, 20)]);
}

fn git(p: &Project, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(p.root())
        .output()
        .expect("git runs");
    assert!(status.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&status.stderr));
}

#[test]
fn changed_since_checks_only_changed_and_new_files() {
    let p = project();
    p.file("old/Pulumi.prod.yaml", STACK);
    p.file("changed/Pulumi.prod.yaml", "config:\n  proj:apiDomain: x\n");
    git(&p, &["init", "-q", "-b", "main"]);
    git(&p, &["add", "."]);
    git(&p, &["commit", "-q", "-m", "init"]);
    p.file("changed/Pulumi.prod.yaml", STACK);
    p.file("new/Pulumi.dev.yaml", STACK);
    p.file("notes.md", "not checked\n");
    let report = check(&p, &["--changed-since", "HEAD"]).report();
    let files: std::collections::BTreeSet<String> =
        finding_positions(&report).into_iter().map(|(_, file, ..)| file).collect();
    assert_eq!(files.into_iter().collect::<Vec<_>>(), vec!["changed/Pulumi.prod.yaml", "new/Pulumi.dev.yaml"]);
    assert_eq!(report["errors"], serde_json::json!([]));
}

#[test]
fn an_env_file_checked_alone_is_attributed_to_its_compose_service() {
    let p = Project::new();
    p.file("pack.toml", builtin_rules_pack(&[TLS_008]));
    p.file(
        "deploy/docker-compose.yml",
        "services:\n  api:\n    image: pulumi/service:20260801\n    env_file: [api.env]\n    environment:\n      DATABASE_MIN_TLS_VERSION: \"1.2\"\n",
    );
    p.file("deploy/api.env", "PULUMI_DATABASE_ENDPOINT=db:3306\nDATABASE_CA_CERTIFICATE=${DB_CA}\n");
    // As pre-commit would call it with only the env file staged: the compose file supplies the
    // rest of the service's environment, so nothing is missing.
    let run = check(&p, &["deploy/api.env"]);
    run.assert_code(0);
    assert_eq!(run.report()["summary"]["files"], 1);
}

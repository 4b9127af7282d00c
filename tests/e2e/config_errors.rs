//! Mistakes in `celador.toml` and in suppression comments are located errors found before
//! anything runs; the CLI's own conveniences (`-o` by extension, `--help` values, summaries)
//! say exactly what happened.

use crate::support::{Project, api_deployment};
use serde_json::json;

/// Runs `check` with `config` as celador.toml over a harmless input and returns the errors.
#[track_caller]
fn config_errors(config: &str) -> serde_json::Value {
    let p = Project::new();
    p.file("celador.toml", config);
    p.file("api.env", "PULUMI_DATABASE_ENDPOINT=db:3306\n");
    let run = p.run(&["check", "--format", "json", "api.env"]);
    run.assert_code(2);
    let report = run.report();
    assert_eq!(report["findings"], json!([]), "nothing runs with a broken configuration: {report:#}");
    report["errors"].clone()
}

/// `(line, column, message)` of each error.
fn located(errors: &serde_json::Value) -> Vec<(u64, u64, String)> {
    errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["file"], "celador.toml", "{e:#}");
            (e["line"].as_u64().unwrap(), e["column"].as_u64().unwrap(), e["message"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn unknown_rule_ids_are_located_with_a_suggestion() {
    let errors = config_errors(
        "[rules]\ndisable = [\"PSH-TLS-08\", \"PSH-APP-006\"]\nseverity = { \"PSH-NET-01\" = \"low\" }\n\n[params.\"PSH-TLS-0099\"]\nmin_tls_version = \"1.3\"\n\n[[ignore]]\nrules = [\"*\", \"NOPE-1\"]\npath = \"x/**\"\nreason = \"r\"\n",
    );
    assert_eq!(
        located(&errors),
        [
            (2, 12, "unknown rule `PSH-TLS-08` (did you mean `PSH-TLS-008`?) (`celador rules` lists them)".to_owned()),
            (3, 14, "unknown rule `PSH-NET-01` (did you mean `PSH-NET-001`?) (`celador rules` lists them)".to_owned()),
            (5, 9, "unknown rule `PSH-TLS-0099` (did you mean `PSH-TLS-009`?) (`celador rules` lists them)".to_owned()),
            (9, 15, "unknown rule `NOPE-1` (`celador rules` lists them)".to_owned()),
        ]
    );
}

#[test]
fn unknown_parameters_and_wrong_types_are_located() {
    let errors = config_errors(
        "[params.\"PSH-TLS-009\"]\nmin_tls_verison = \"1.3\"\n\n[params.\"PSH-TLS-003\"]\ntls_terminated_upstream = \"yes\"\n",
    );
    let located = located(&errors);
    assert_eq!(located.len(), 2, "{errors:#}");
    assert_eq!((located[0].0, located[0].1), (2, 1));
    assert_eq!(
        located[0].2,
        "rule PSH-TLS-009 has no parameter `min_tls_verison` (did you mean `min_tls_version`?); it has `min_tls_version`"
    );
    assert_eq!((located[1].0, located[1].1), (5, 27));
    assert_eq!(located[1].2, "parameter `tls_terminated_upstream` of PSH-TLS-003 is a bool, not a string");
}

#[test]
fn an_unknown_severity_is_located_with_the_choices() {
    let errors = config_errors("[rules]\nseverity = { \"PSH-TLS-008\" = \"hihg\" }\n");
    assert_eq!(
        located(&errors),
        [(
            2,
            30,
            "unknown severity `hihg` (did you mean `high`?) (expected critical, high, medium, low or info)".to_owned()
        )]
    );
}

#[test]
fn a_suppression_naming_an_unknown_rule_says_so() {
    let p = Project::new();
    p.file(
        "deploy.yaml",
        api_deployment("pulumi-api", None)
            .replace("      - name: api\n", "      # celador:ignore PSH-TLS-08 reason=\"lab\"\n      - name: api\n"),
    );
    let report = p.run(&["check", "--format", "json", "deploy.yaml"]).assert_code(1).report();
    let invalid: Vec<&serde_json::Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "invalid-suppression").collect();
    assert_eq!(invalid.len(), 1, "{report:#}");
    assert_eq!(
        invalid[0]["message"],
        "suppression names unknown rule `PSH-TLS-08` (did you mean `PSH-TLS-008`?) (`celador rules` lists them)"
    );
}

#[test]
fn report_format_follows_the_output_file_name() {
    let p = Project::new();
    p.file("api.env", "PULUMI_DATABASE_ENDPOINT=db:3306\n");
    p.run(&["check", "-o", "report.json", "-o", "report.sarif", "-o", "junit.xml", "api.env"]).assert_code(1);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(p.path("report.json")).unwrap()).unwrap();
    assert_eq!(json["version"], 1);
    let sarif: serde_json::Value = serde_json::from_slice(&std::fs::read(p.path("report.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(std::fs::read_to_string(p.path("junit.xml")).unwrap().starts_with("<?xml"));

    let run = p.run(&["check", "-o", "report.out", "api.env"]);
    run.assert_code(2);
    assert_eq!(
        run.stderr,
        "celador: error: cannot tell the format of `report.out` from its name: add --format (human, json, sarif, github, junit or gitlab)\n"
    );
    assert!(!p.path("report.out").exists());
}

#[test]
fn human_summary_shows_suppressed_and_baselined_counts() {
    let p = Project::new();
    p.file(
        "pack.toml",
        "[pack]\nid = \"e2e\"\nversion = \"1\"\ntitle = \"t\"\n\n[[rule]]\nid = \"ENV-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"env\"]\nassert = 'false'\nmessage = 'm'\n",
    );
    let pack = ["--no-builtin", "--pack", "pack.toml"];
    p.file("a/api.env", "# celador:ignore ENV-1 reason=\"lab\"\nPULUMI_DATABASE_ENDPOINT=db:3306\n");
    p.file("b/api.env", "PULUMI_DATABASE_ENDPOINT=db:3306\n");
    p.run(&[&["baseline", "create", "-o", "baseline.json"][..], &pack, &["b"]].concat()).assert_code(0);
    p.file("c/api.env", "PULUMI_DATABASE_ENDPOINT=db:3306\n");
    let run =
        p.run(&[&["check", "--color", "never", "--baseline", "baseline.json"][..], &pack, &["a", "b", "c"]].concat());
    run.assert_code(1);
    assert_eq!(
        run.stdout.lines().last(),
        Some("1 finding in 3 documents of 3 files; 1 suppressed; 1 baselined"),
        "{}",
        run.stdout
    );
}

#[test]
fn changed_since_outside_a_git_repository_is_a_one_line_error() {
    let p = Project::new();
    p.file("api.env", "PULUMI_DATABASE_ENDPOINT=db:3306\n");
    let run = p.run(&["check", "--changed-since", "main", "."]);
    run.assert_code(2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("celador: error: --changed-since needs a git repository"), "{}", run.stderr);
    // An option smuggled in as a ref is never passed to git.
    let run = p.run(&["check", "--changed-since=--output=x", "."]);
    run.assert_code(2);
    assert!(run.stderr.contains("takes a git ref, not an option"), "{}", run.stderr);
    assert!(!p.path("x").exists());
}

#[test]
fn check_help_lists_severities_and_kinds() {
    let run = Project::new().run(&["check", "--help"]);
    run.assert_code(0);
    assert!(run.stdout.contains("[possible values: critical, high, medium, low, info]"), "{}", run.stdout);
    let help = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("[possible values: kubernetes, helm-values, compose, pulumi-stack-config, pulumi-project, pulumi-state, terraform-state, terraform-plan, env]"),
        "{}",
        run.stdout
    );
}

//! Kubernetes ValidatingAdmissionPolicies as packs (`examples/vap`): every failure at its
//! file:line:column, in every format, with suppressions and baselines; `celador test` on the
//! fixtures beside the policies; load errors located in the YAML, inside expressions too.

use crate::support::{Project, at, finding_positions, repo_root};
use std::process::Command;

const FAILING: &str = "examples/vap/tests/failing/workloads.yaml";

/// Runs the binary in the repository's root.
fn celador(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_celador"))
        .args(args)
        .current_dir(repo_root())
        .env("CELADOR_NO_PROGRESS", "1")
        .output()
        .expect("celador runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn check_example(dir: &str, format: &str) -> (i32, String) {
    celador(&["check", "--format", format, "--no-builtin", "--pack", "examples/vap", dir])
}

/// A copy of the example pack in a scratch project, under `policies/`.
fn project() -> Project {
    let p = Project::new();
    for file in [
        "replica-limit.yaml",
        "required-labels.yaml",
        "image-registry.yaml",
        "params/replica-limit.yaml",
        "tests/failing/namespaces.yaml",
        "tests/failing/workloads.yaml",
    ] {
        let text = std::fs::read_to_string(repo_root().join("examples/vap").join(file)).unwrap();
        p.file(&format!("policies/{file}"), text);
    }
    p
}

#[test]
fn every_failing_manifest_is_reported_at_the_field_its_policy_read() {
    let (code, out) = check_example("examples/vap/tests/failing", "json");
    assert_eq!(code, 1, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(
        finding_positions(&report),
        [
            at("required-labels.example.com/1", FAILING, 8, 5),
            at("replica-limit.example.com/Invalid", FAILING, 10, 3),
            at("image-registry.example.com/Forbidden", FAILING, 19, 9),
            at("required-labels.example.com/0", FAILING, 26, 1),
            at("image-registry.example.com/Forbidden", FAILING, 39, 9),
            at("image-registry.example.com/Forbidden", FAILING, 51, 5),
        ]
    );
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings[1]["message"], "replicas must be no greater than 5", "the messageExpression, with params");
    assert_eq!(findings[1]["severity"], "high", "Deny");
    assert_eq!(findings[0]["severity"], "medium", "Warn");
    assert_eq!(findings[0]["message"], "cost-center of web must be four digits");
    assert_eq!(findings[3]["message"], "production workloads must carry a `team` label");
    let related = &findings[1]["related"][0];
    assert_eq!(
        (related["file"].as_str(), related["line"].as_u64(), related["column"].as_u64()),
        (Some("examples/vap/replica-limit.yaml"), Some(18), Some(17))
    );

    let (code, out) = check_example("examples/vap/tests/passing", "json");
    assert_eq!(code, 0, "{out}");
}

#[test]
fn every_format_reports_policy_findings() {
    for format in ["human", "json", "sarif", "github", "junit", "gitlab"] {
        let (code, out) = check_example("examples/vap/tests/failing", format);
        assert_eq!(code, 1, "{format}: {out}");
        assert!(out.contains("replica-limit.example.com/Invalid"), "{format}: {out}");
    }
    let (_, github) = check_example("examples/vap/tests/failing", "github");
    assert!(github.contains(&format!("file={FAILING},line=10,col=3")), "{github}");
}

#[test]
fn the_fixtures_beside_the_policies_pass() {
    let (code, out) = celador(&["test", "examples/vap"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok   replica-limit.example.com/Invalid tests/failing (1 finding)"), "{out}");
    assert!(out.contains("8 passed, 0 failed"), "{out}");
}

#[test]
fn a_wrong_expectation_fails_its_fixture() {
    let p = project();
    let file = p.path("policies/tests/failing/workloads.yaml");
    let text = std::fs::read_to_string(&file).unwrap().replace("# expect: 10:3 replica", "# expect: 11:3 replica");
    p.file("policies/tests/failing/workloads.yaml", text);
    let run = p.run(&["test", "policies"]);
    run.assert_code(1).assert_stdout_contains("expected a finding at 11:3, none was reported");
}

#[test]
fn suppressions_and_baselines_apply_to_policy_findings() {
    let p = project();
    let workloads = "policies/tests/failing/workloads.yaml";
    let text = std::fs::read_to_string(p.path(workloads)).unwrap();
    let suppressed = text.replace(
        "  replicas: 12\n",
        "  replicas: 12  # celador:ignore replica-limit.example.com/Invalid reason=\"load test\"\n",
    );
    p.file(workloads, suppressed);
    let args = ["check", "--format", "json", "--no-builtin", "--pack", "policies", "policies/tests/failing"];
    let report = p.run(&args).assert_code(1).report();
    assert_eq!(report["summary"]["suppressed"], 1, "{report:#}");
    assert!(!finding_positions(&report).iter().any(|f| f.0 == "replica-limit.example.com/Invalid"));

    p.run(&[
        "baseline",
        "create",
        "-o",
        "baseline.json",
        "--no-builtin",
        "--pack",
        "policies",
        "policies/tests/failing",
    ])
    .assert_code(0);
    let mut with_baseline = args.to_vec();
    with_baseline.extend(["--baseline", "baseline.json"]);
    let report = p.run(&with_baseline).assert_code(0).report();
    assert_eq!(report["summary"]["baselined"], 5, "{report:#}");
}

#[test]
fn packs_named_in_the_configuration_are_loaded() {
    let p = project();
    p.file("celador.toml", "packs = [\"policies\"]\n");
    let report =
        p.run(&["check", "--format", "json", "--no-builtin", "policies/tests/failing"]).assert_code(1).report();
    assert_eq!(finding_positions(&report).len(), 6, "{report:#}");
    p.file("celador.toml", "packs = [\"missing\"]\n");
    let run = p.run(&["check", "--no-builtin", "--color", "never", "policies/tests/failing"]);
    run.assert_code(2).assert_stdout_contains("celador.toml:1:10").assert_stdout_contains("no such pack");
}

/// Errors in a policy are located in its YAML, inside the expression string too.
#[test]
fn errors_in_policies_are_located_in_the_yaml() {
    let p = project();
    let policy = "policies/replica-limit.yaml";
    let text = std::fs::read_to_string(p.path(policy)).unwrap();
    let assert_error = |text: String, line: u64, column: u64, message: &str| {
        p.file(policy, text);
        let run = p.run(&["check", "--format", "json", "--no-builtin", "--pack", "policies", "policies/tests/failing"]);
        let report = run.assert_code(2).report();
        let errors = report["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{report:#}");
        assert_eq!(errors[0]["file"], policy, "{report:#}");
        assert_eq!(
            (errors[0]["line"].as_u64(), errors[0]["column"].as_u64()),
            (Some(line), Some(column)),
            "{report:#}"
        );
        assert!(errors[0]["message"].as_str().unwrap().contains(message), "{report:#}");
    };
    // A CEL syntax error inside the quoted expression: at the `)`.
    assert_error(text.replace("<= int(params", "<= )int(params"), 18, 42, "CEL syntax error");
    // An unknown function: at its name.
    assert_error(
        text.replace("int(params.data.maxReplicas)", "integer(params.data.maxReplicas)"),
        18,
        42,
        "unknown function `integer`",
    );
    // An unknown field, with the right one suggested.
    assert_error(text.replace("messageExpression:", "mesageExpression:"), 19, 5, "did you mean `messageExpression`");
    // A binding naming a policy that is not in the pack.
    assert_error(
        text.replace("policyName: replica-limit.example.com", "policyName: replica-limits.example.com"),
        27,
        15,
        "names policy `replica-limits.example.com`, which is not in the pack",
    );
}

/// What celador leaves out of a policy is said, not silently dropped.
#[test]
fn ignored_audit_annotations_and_unbound_policies_are_noted() {
    let p = project();
    let policy = "policies/replica-limit.yaml";
    let text = std::fs::read_to_string(p.path(policy)).unwrap().replace(
        "  validations:\n",
        "  auditAnnotations:\n  - key: replicas\n    valueExpression: string(object.spec.replicas)\n  validations:\n",
    );
    p.file(policy, text);
    let unbound = std::fs::read_to_string(p.path("policies/required-labels.yaml")).unwrap();
    p.file("policies/required-labels.yaml", unbound.split("---").next().unwrap());
    let run = p.run(&["check", "--no-builtin", "--pack", "policies", "policies/tests/failing"]);
    run.assert_code(1)
        .assert_stderr_contains("policies/replica-limit.yaml:17:3: the auditAnnotations of ValidatingAdmissionPolicy `replica-limit.example.com` are ignored")
        .assert_stderr_contains("policies/required-labels.yaml:6:9: ValidatingAdmissionPolicy `required-labels.example.com` has no binding");
}

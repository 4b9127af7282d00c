//! Components declared by packs (`[[component]]`): the example Grafana pack checks Grafana on
//! Kubernetes, compose and Helm values, and each pack's rules see the components it declares.

use crate::support::{Project, at, finding_positions, findings_of, positions_of, repo_root};
use std::process::Command;

fn check_in_repo(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_celador"))
        .args(args)
        .current_dir(repo_root())
        .env("CELADOR_NO_PROGRESS", "1")
        .output()
        .expect("celador runs");
    let report = serde_json::from_slice(&out.stdout).expect("a JSON report");
    (out.status.code().unwrap_or(-1), report)
}

#[test]
fn the_grafana_pack_finds_grafana_in_kubernetes_compose_and_helm_values() {
    // The built-in pack runs too: it declares no Grafana, so only the example pack reports.
    let (code, report) =
        check_in_repo(&["check", "--format", "json", "--pack", "examples/packs/grafana", "examples/grafana"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    assert_eq!(
        finding_positions(&report),
        [
            at("GF-002", "examples/grafana/compose/docker-compose.yml", 8, 34),
            at("GF-001", "examples/grafana/compose/grafana.env", 3, 28),
            at("GF-001", "examples/grafana/helm/values.yaml", 9, 33),
            at("GF-002", "examples/grafana/helm/values.yaml", 10, 32),
            at("GF-001", "examples/grafana/kubernetes/grafana.yaml", 23, 18),
            at("GF-002", "examples/grafana/kubernetes/grafana.yaml", 25, 18),
        ]
    );
    let messages: Vec<&str> =
        report["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert_eq!(messages[0], "Grafana `grafana` lets anonymous users in as Admin");
    // The password is a secret: masked in the snippet, never printed.
    assert!(!report.to_string().contains("grafana-admin-2024"), "{report:#}");
}

#[test]
fn the_grafana_pack_fixtures_pass() {
    let (code, out) = {
        let out = Command::new(env!("CARGO_BIN_EXE_celador"))
            .args(["test", "examples/packs/grafana"])
            .current_dir(repo_root())
            .output()
            .expect("celador runs");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert_eq!(code, Some(0), "{out}");
    assert!(out.ends_with("\n9 passed, 0 failed\n"), "{out}");
}

/// Two packs that both call a component `api`: each rule reads its own pack's.
const OTHER_API_PACK: &str = r#"[pack]
id = "other"
version = "0.1.0"
title = "Another service called api"

[[component]]
role = "api"
images = ["acme/api"]

[[rule]]
id = "OTHER-1"
title = "every api is reported"
severity = "low"
kinds = ["kubernetes"]
each = '''components.filter(c, c.role == 'api')'''
as = "c"
assert = 'false'
locate = 'c.image'
message = '''api `{{ c.name }}` of {{ c.image }}'''
"#;

const TWO_APIS: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: both
spec:
  containers:
  - name: pulumi
    image: pulumi/service:latest
  - name: acme
    image: acme/api:latest
";

#[test]
fn each_pack_sees_the_components_it_declares() {
    let p = Project::new();
    p.file("other.toml", OTHER_API_PACK);
    p.file("in/pod.yaml", TWO_APIS);
    let report = p.run(&["check", "--format", "json", "--pack", "other.toml", "in"]).report();
    // The built-in pack's moving-tag rule sees the Pulumi API only; the other pack's rule sees
    // the acme API only, though both call their component `api`.
    assert_eq!(
        positions_of(&report, &["PSH-APP-006", "OTHER-1"]),
        [at("PSH-APP-006", "in/pod.yaml", 8, 12), at("OTHER-1", "in/pod.yaml", 10, 12)],
        "{report:#}"
    );
    let on_acme: Vec<_> = finding_positions(&report)
        .into_iter()
        .filter(|(rule, _, line, _)| rule.starts_with("PSH-") && *line >= 9)
        .collect();
    assert_eq!(on_acme, [], "no built-in rule sees the acme container");
    assert_eq!(findings_of(&report, "OTHER-1")[0]["message"], "api `acme` of acme/api:latest");
}

#[test]
fn a_pack_without_components_sees_none() {
    let p = Project::new();
    p.file("other.toml", OTHER_API_PACK.replace("[[component]]\nrole = \"api\"\nimages = [\"acme/api\"]\n", ""));
    p.file("in/pod.yaml", TWO_APIS);
    let report =
        p.run(&["check", "--format", "json", "--no-builtin", "--pack", "other.toml", "in"]).assert_code(0).report();
    assert_eq!(finding_positions(&report), []);
}

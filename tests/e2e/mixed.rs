//! A directory with every kind of input: everything classified, each rule once per element.

use crate::support::{
    Project, SEC_001, TLS_008, assert_no_duplicate_findings, at, builtin_rules_pack, counts, finding_positions,
    line_col_at, line_col_of, positions_of, summary,
};

/// The rules this test is about (the built-in pack has more; their findings are not counted here).
const RULES: [&str; 2] = ["PSH-TLS-008", "PSH-SEC-001"];
use serde_json::json;

/// Three documents: the API (CA empty), its Service, the Console (not the API: no finding).
const K8S: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pulumi-api
spec:
  template:
    spec:
      containers:
        - name: pulumi-api
          image: pulumi/service:20260801-1234
          env:
            - name: DATABASE_CA_CERTIFICATE
              value: \"\"
            - name: DATABASE_MIN_TLS_VERSION
              value: \"1.2\"
---
apiVersion: v1
kind: Service
metadata:
  name: pulumi-api
spec:
  ports:
    - port: 80
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pulumi-console
spec:
  template:
    spec:
      containers:
        - name: pulumi-console
          image: pulumi/console:20260801-1234
";

/// An API env file with only the minimum version.
const DOTENV: &str = "PULUMI_DATABASE_ENDPOINT=db:3306\nDATABASE_MIN_TLS_VERSION=1.2\n";

const STACK: &str = "config:\n  aws:region: us-west-2\n  selfhosted:dbPassword: plain-db-password\n  selfhosted:apiDomain: api.example.com\n";

const COMPOSE: &str = "\
services:
  api:
    image: pulumi/service:20260801-1234
    environment:
      PULUMI_DATABASE_ENDPOINT: db:3306
  db:
    image: mysql:8.0
";

const TFSTATE: &str = r#"{
  "version": 4,
  "terraform_version": "1.9.0",
  "serial": 1,
  "resources": [
    {
      "mode": "managed",
      "type": "aws_ecs_task_definition",
      "name": "api",
      "instances": [
        {
          "attributes": {
            "family": "pulumi-api",
            "container_definitions": "[{\"name\":\"pulumi-api\",\"image\":\"pulumi/service:20260801-1234\",\"environment\":[{\"name\":\"PULUMI_DATABASE_ENDPOINT\",\"value\":\"db:3306\"}]}]"
          }
        }
      ]
    }
  ]
}
"#;

const PULUMI_STATE: &str = r#"{
  "version": 3,
  "deployment": {
    "manifest": {"time": "2026-08-01T00:00:00Z"},
    "resources": [
      {
        "urn": "urn:pulumi:prod::selfhosted::aws:ecs/taskDefinition:TaskDefinition::api",
        "type": "aws:ecs/taskDefinition:TaskDefinition",
        "outputs": {
          "family": "pulumi-api",
          "containerDefinitions": "[{\"name\":\"pulumi-api\",\"image\":\"pulumi/service:20260801-1234\",\"environment\":[{\"name\":\"DATABASE_CA_CERTIFICATE\",\"value\":\"pem\"}]}]"
        }
      }
    ]
  }
}
"#;

fn mixed_project() -> Project {
    let p = Project::new();
    p.file("deploy/k8s.yaml", K8S);
    p.file("deploy/.env", DOTENV);
    p.file("deploy/Pulumi.prod.yaml", STACK);
    p.file("deploy/docker-compose.yml", COMPOSE);
    p.file("deploy/terraform.tfstate", TFSTATE);
    p.file("deploy/stack-export.json", PULUMI_STATE);
    // The two rules as they are in the repository (outside the checked directory).
    p.file("psh.toml", builtin_rules_pack(&[TLS_008, SEC_001]));
    p
}

/// Checks `deploy` with only PSH-TLS-008 and PSH-SEC-001.
const WITH_TWO_RULES: [&str; 7] = ["check", "--format", "json", "--no-builtin", "--pack", "psh.toml", "deploy"];

/// The position of the `"environment"` key inside a JSON-encoded string (at its `\"`).
fn embedded_environment_key(text: &str) -> (u64, u64) {
    line_col_at(text, text.find(r#"\"environment\""#).expect("environment key"))
}

#[test]
fn every_document_is_classified_and_every_rule_runs_once_per_element() {
    let p = mixed_project();
    let run = p.run(&WITH_TWO_RULES);
    run.assert_code(1);
    let report = run.report();
    assert_eq!(report["errors"], json!([]), "{report:#}");
    // 3 Kubernetes objects + env + stack config + compose + Terraform state + Pulumi state.
    assert_eq!(summary(&report), json!({"files": 6, "documents": 8, "skipped": 0, "findings": 6}), "{report:#}");

    // Expected positions, computed from the texts.
    let k8s = line_col_of(K8S, "\"\"");
    assert_eq!(k8s, (13, 22), "the empty CA value");
    let compose = line_col_of(COMPOSE, "environment:");
    assert_eq!(compose, (4, 5));
    let stack = line_col_of(STACK, "plain-db-password");
    assert_eq!(stack, (3, 26));
    let tf = embedded_environment_key(TFSTATE);
    let state = embedded_environment_key(PULUMI_STATE);

    assert_eq!(
        finding_positions(&report),
        [
            // Sorted by file name, then position.
            at("PSH-TLS-008", "deploy/.env", 1, 1),
            at("PSH-SEC-001", "deploy/Pulumi.prod.yaml", stack.0, stack.1),
            at("PSH-TLS-008", "deploy/docker-compose.yml", compose.0, compose.1),
            at("PSH-TLS-008", "deploy/k8s.yaml", k8s.0, k8s.1),
            at("PSH-TLS-008", "deploy/stack-export.json", state.0, state.1),
            at("PSH-TLS-008", "deploy/terraform.tfstate", tf.0, tf.1),
        ],
        "{report:#}"
    );

    let messages: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["file"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        messages,
        [
            ("deploy/.env", "API env file connects to MySQL without TLS: DATABASE_CA_CERTIFICATE not set"),
            (
                "deploy/Pulumi.prod.yaml",
                "`selfhosted:dbPassword` is stored in plaintext in the stack file; store it with `pulumi config set --secret dbPassword`"
            ),
            (
                "deploy/docker-compose.yml",
                "API container `api` connects to MySQL without TLS: DATABASE_CA_CERTIFICATE and DATABASE_MIN_TLS_VERSION not set"
            ),
            (
                "deploy/k8s.yaml",
                "API container `pulumi-api` connects to MySQL without TLS: DATABASE_CA_CERTIFICATE not set"
            ),
            (
                "deploy/stack-export.json",
                "API container `pulumi-api` connects to MySQL without TLS: DATABASE_MIN_TLS_VERSION not set"
            ),
            (
                "deploy/terraform.tfstate",
                "API container `pulumi-api` connects to MySQL without TLS: DATABASE_CA_CERTIFICATE and DATABASE_MIN_TLS_VERSION not set"
            ),
        ]
    );
}

#[test]
fn with_the_whole_built_in_pack_the_same_documents_and_no_duplicates() {
    let p = mixed_project();
    let two = p.run(&WITH_TWO_RULES).report();
    let run = p.run(&["check", "--format", "json", "deploy"]);
    run.assert_code(1);
    let all = run.report();
    assert_eq!(all["errors"], json!([]), "{all:#}");
    assert_eq!(counts(&all), (6, 8, 0), "files, documents, skipped: {all:#}");
    // No rule reports the same thing twice (every built-in rule, document- or deployment-scoped).
    assert_no_duplicate_findings(&all);
    // The two rules find the same things alongside the others.
    assert_eq!(positions_of(&all, &RULES), finding_positions(&two));
}

#[test]
fn checking_files_one_by_one_gives_the_same_findings() {
    let p = mixed_project();
    let together = p.run(&["check", "--format", "json", "deploy"]).report();
    let mut one_by_one = Vec::new();
    for name in [".env", "Pulumi.prod.yaml", "docker-compose.yml", "k8s.yaml", "stack-export.json", "terraform.tfstate"]
    {
        let report = p.run(&["check", "--format", "json", &format!("deploy/{name}")]).assert_code(1).report();
        one_by_one.extend(positions_of(&report, &RULES));
    }
    // Document-scoped rules do not depend on what else is checked.
    assert_eq!(positions_of(&together, &RULES), one_by_one);
}

#[test]
fn the_same_directory_given_twice_is_checked_once() {
    let p = mixed_project();
    let once = p.run(&["check", "--format", "json", "deploy"]).report();
    let twice = p.run(&["check", "--format", "json", "deploy", "deploy", "deploy/k8s.yaml"]).report();
    assert_eq!(finding_positions(&once), finding_positions(&twice));
    assert_eq!(once["summary"], twice["summary"]);
}

#[test]
fn the_same_directory_spelled_two_ways_is_checked_once() {
    let p = mixed_project();
    let once = p.run(&["check", "--format", "json", "deploy"]).report();
    let twice = p.run(&["check", "--format", "json", "deploy", "./deploy"]).report();
    assert_eq!(finding_positions(&once), finding_positions(&twice));
    assert_eq!(once["summary"], twice["summary"]);
}

//! A property: whatever secrets the inputs hold, no output shows one.
//!
//! Each case plants unique random secrets in every input kind (Kubernetes env values and
//! Secret `stringData`/`data`, Helm values, compose `environment` and its `.env`, Pulumi stack
//! `secure:` and plaintext values, Pulumi state envelopes and outputs, Terraform state and
//! plan) and in every position (a value, a URL credential, a `user:password@host:port`
//! credential, a line whose finding is suppressed, the neighbour of a finding's line), then
//! greps all six formats, the suppressed list, the baseline and stderr for each of them.

use crate::support::Project;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Names of the planted secrets; each case gives every one a random value.
const PLANTED: &[&str] = &[
    "k8sValue",
    "k8sHostPort",
    "k8sUrl",
    "k8sSuppressed",
    "k8sNeighbour",
    "k8sStringData",
    "k8sData",
    "helmValue",
    "helmHostPort",
    "helmUrl",
    "helmNeighbour",
    "composeHostPort",
    "composeList",
    "composeNeighbour",
    "envValue",
    "envUrl",
    "envHostPort",
    "envSuppressed",
    "stackPlain",
    "stackSecure",
    "stackHostPort",
    "stackUrl",
    "stateEnvelope",
    "stateOutput",
    "stateUrl",
    "stateHostPort",
    "tfstatePassword",
    "tfstateSensitive",
    "tfstateUrl",
    "planPassword",
    "planSensitive",
    "planHostPort",
];

/// The secret planted as `name` in this case.
fn secret<'s>(secrets: &'s [(String, String)], name: &str) -> &'s str {
    &secrets.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no secret {name}")).1
}

/// Writes every input kind with the secrets planted.
fn plant(p: &Project, secrets: &[(String, String)]) {
    let s = |name: &str| secret(secrets, name).to_owned();
    p.file(
        "k8s/deploy.yaml",
        format!(
            "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pulumi-api
spec:
  template:
    spec:
      containers:
        - name: api
          image: pulumi/service:latest
          env:
            - name: PULUMI_LICENSE_KEY
              value: {}
            - name: SMTP_SERVER
              value: \"pulumi:{}@smtp.example.net:25\"
            - name: DATABASE_URL
              value: \"mysql://pulumi:{}@db:3306/pulumi\"
            - name: PULUMI_SEARCH_PASSWORD
              value: {}  # celador:ignore PSH-SEC-003 reason=\"planted\"
            - name: API_MIN_TLS_VERSION
              value: \"1.0\"
            - {{name: PULUMI_API_TOKEN, value: {}}}
---
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: {}
data:
  token: {}
",
            s("k8sValue"),
            s("k8sHostPort"),
            s("k8sUrl"),
            s("k8sSuppressed"),
            s("k8sNeighbour"),
            s("k8sStringData"),
            s("k8sData"),
        ),
    );
    p.file(
        "helm/values.yaml",
        format!(
            "\
app:
  api:
    image: pulumi/service:latest
    env:
      PULUMI_LICENSE_KEY: \"{}\"
      SMTP_SERVER: \"pulumi:{}@smtp.example.net:25\"
      DATABASE_URL: \"mysql://pulumi:{}@db:3306/pulumi\"
  console:
    image: pulumi/console:latest
    env:
      CONSOLE_SESSION_TOKEN: {}
      ALLOW_INVALID_CERTS: \"true\"
",
            s("helmValue"),
            s("helmHostPort"),
            s("helmUrl"),
            s("helmNeighbour"),
        ),
    );
    p.file(
        "compose/docker-compose.yml",
        format!(
            "\
services:
  api:
    image: pulumi/service:latest
    ports: [\"8080:8080\"]
    env_file: [api.env]
    environment:
      - SMTP_SERVER=pulumi:{}@smtp.example.net:25
      - PULUMI_SEARCH_PASSWORD={}
      - API_MIN_TLS_VERSION=1.0
  console:
    image: pulumi/console:latest
    ports: [\"3000:3000\"]
    environment:
      CONSOLE_SESSION_TOKEN: {}
      ALLOW_INVALID_CERTS: \"true\"
",
            s("composeHostPort"),
            s("composeList"),
            s("composeNeighbour"),
        ),
    );
    p.file(
        "compose/api.env",
        format!(
            "\
PULUMI_LICENSE_KEY={}
DATABASE_URL=mysql://pulumi:{}@db:3306/pulumi
SMTP_SERVER=pulumi:{}@smtp.example.net:25
# celador:ignore PSH-SEC-004 reason=\"planted\"
PULUMI_SEARCH_PASSWORD={}
",
            s("envValue"),
            s("envUrl"),
            s("envHostPort"),
            s("envSuppressed"),
        ),
    );
    p.file(
        "stack/Pulumi.prod.yaml",
        format!(
            "\
config:
  app:licenseKey: {}
  app:smtpPassword:
    secure: v1:{}
  app:smtpServer: pulumi:{}@smtp.example.net:25
  app:ingressAllowList: 0.0.0.0/0
  app:databaseUrl: mysql://pulumi:{}@db:3306/pulumi
",
            s("stackPlain"),
            s("stackSecure"),
            s("stackHostPort"),
            s("stackUrl"),
        ),
    );
    let example = |path: &str| -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("example JSON")
    };
    let mut state = example("examples/insecure/pulumi-state/state.json");
    let outputs = &mut state["deployment"]["resources"][1]["outputs"];
    outputs["rootPassword"] = json!({
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "plaintext": format!("\"{}\"", s("stateEnvelope")),
    });
    outputs["apiToken"] = json!(s("stateOutput"));
    outputs["connectionUrl"] = json!(format!("postgres://admin:{}@10.0.0.3:5432/pulumi", s("stateUrl")));
    outputs["smtpServer"] = json!(format!("pulumi:{}@smtp.example.net:25", s("stateHostPort")));
    p.file("state/stack.json", serde_json::to_string_pretty(&state).unwrap());

    let mut tfstate = example("examples/insecure/terraform-state/terraform.tfstate");
    let instance = &mut tfstate["resources"][0]["instances"][0];
    instance["attributes"]["root_password"] = json!(s("tfstatePassword"));
    instance["attributes"]["blob"] = json!(s("tfstateSensitive"));
    instance["attributes"]["connection"] = json!(format!("mysql://admin:{}@10.0.0.4/pulumi", s("tfstateUrl")));
    instance["sensitive_attributes"] = json!([[{"type": "get_attr", "value": "blob"}]]);
    p.file("tfstate/terraform.tfstate", serde_json::to_string_pretty(&tfstate).unwrap());

    let mut plan = example("examples/insecure/terraform-plan/plan.json");
    let change = &mut plan["resource_changes"][0]["change"];
    change["after"]["master_password"] = json!(s("planPassword"));
    change["after"]["opaque"] = json!(s("planSensitive"));
    change["after"]["relay"] = json!(format!("pulumi:{}@smtp.example.net:25", s("planHostPort")));
    change["after_sensitive"]["opaque"] = json!(true);
    p.file("plan/plan.json", serde_json::to_string_pretty(&plan).unwrap());
}

/// Runs every output of `celador check` (and `baseline create`) and returns what each printed
/// or wrote, by name.
fn outputs(p: &Project) -> Vec<(String, String)> {
    let files = ["report.txt", "report.json", "report.sarif", "report.xml", "gl-code-quality.json"];
    let mut args = vec!["check", "--color", "never", "--show-suppressed"];
    for file in files {
        args.extend(["--output", file]);
    }
    args.push(".");
    let mut out = Vec::new();
    let run = p.run(&args);
    assert_eq!(run.code, Some(1), "findings expected:\n{}", run.all_output());
    out.push(("check stdout+stderr".to_owned(), run.all_output()));
    for file in files {
        out.push((file.to_owned(), std::fs::read_to_string(p.path(file)).expect("report written")));
    }
    for format in ["github", "human"] {
        let run = p.run(&["check", "--color", "never", "--show-suppressed", "--format", format, "."]);
        out.push((format!("--format {format}"), run.all_output()));
    }
    let run = p.run(&["baseline", "create", "--output", "baseline.json", "."]);
    out.push(("baseline stdout+stderr".to_owned(), run.all_output()));
    out.push(("baseline.json".to_owned(), std::fs::read_to_string(p.path("baseline.json")).expect("baseline")));
    out
}

/// Findings of the JSON report: (file, line).
fn finding_lines(report: &str) -> Vec<(String, u64)> {
    let report: Value = serde_json::from_str(report).expect("JSON report");
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["file"].as_str().unwrap().to_owned(), f["line"].as_u64().unwrap()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, max_shrink_iters: 0, ..ProptestConfig::default() })]

    #[test]
    fn no_planted_secret_appears_in_any_output(suffixes in proptest::collection::vec("[A-Za-z0-9]{10,16}", PLANTED.len())) {
        let secrets: Vec<(String, String)> = PLANTED
            .iter()
            .zip(&suffixes)
            .enumerate()
            .map(|(i, (name, suffix))| ((*name).to_owned(), format!("Zq{i}x{suffix}")))
            .collect();
        let p = Project::new();
        plant(&p, &secrets);
        let outputs = outputs(&p);
        for (output, text) in &outputs {
            for (name, value) in &secrets {
                prop_assert!(!text.contains(value.as_str()), "secret `{name}` ({value}) appears in {output}:\n{text}");
            }
        }
        // The positions are real: findings in every file, suppressed ones, and a finding on
        // the line next to a planted secret (the neighbour a snippet shows as context).
        let json = &outputs.iter().find(|(n, _)| n == "report.json").unwrap().1;
        let lines = finding_lines(json);
        for file in ["k8s/deploy.yaml", "helm/values.yaml", "compose/docker-compose.yml", "compose/api.env",
                     "stack/Pulumi.prod.yaml", "state/stack.json", "tfstate/terraform.tfstate", "plan/plan.json"] {
            prop_assert!(lines.iter().any(|(f, _)| f == file), "no finding in {file}: {lines:?}");
        }
        let summary: Value = serde_json::from_str::<Value>(json).unwrap()["summary"].clone();
        prop_assert!(summary["suppressed"].as_u64() >= Some(2), "{summary}");
        let neighbour = p.path("k8s/deploy.yaml");
        let text = std::fs::read_to_string(neighbour).unwrap();
        let line = text.lines().position(|l| l.contains(secret(&secrets, "k8sNeighbour"))).unwrap() as u64 + 1;
        prop_assert!(lines.contains(&("k8s/deploy.yaml".to_owned(), line - 1)), "{lines:?}");
    }
}

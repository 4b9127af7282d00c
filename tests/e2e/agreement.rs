//! Findings that agree with each other and with the files: two findings about one container
//! never contradict each other, and every place a finding points to says what it is.

use crate::support::{Project, findings_of, repo_root};
use serde_json::Value;
use std::process::Command;

/// The JSON report of `celador check` on paths of the repository (the shipped examples).
fn check_repo(paths: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_celador"))
        .args(["check", "--format", "json"])
        .args(paths)
        .current_dir(repo_root())
        .env("CELADOR_NO_PROGRESS", "1")
        .output()
        .expect("celador runs");
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// The JSON report of `celador check` in a scratch project.
fn check(p: &Project, paths: &[&str]) -> Value {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(paths);
    p.run(&args).report()
}

/// `(file, line, column, message)` of the findings of `rule`.
fn of(report: &Value, rule: &str) -> Vec<(String, u64, u64, String)> {
    findings_of(report, rule)
        .into_iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn one(file: &str, line: u64, column: u64, message: &str) -> Vec<(String, u64, u64, String)> {
    vec![(file.to_owned(), line, column, message.to_owned())]
}

/// The insecure compose example: the API sets DATABASE_CA_CERTIFICATE but not
/// DATABASE_MIN_TLS_VERSION, so it does not use TLS, and the Console calls it over plain HTTP.
/// No finding may say otherwise.
#[test]
fn findings_about_the_compose_example_agree() {
    let report = check_repo(&["examples/insecure/compose"]);
    let compose = "examples/insecure/compose/docker-compose.yml";
    assert_eq!(
        of(&report, "PSH-TLS-008"),
        // In the env file that sets DATABASE_CA_CERTIFICATE (its first assignment).
        one(
            "examples/insecure/compose/service_vars.env",
            2,
            1,
            "API container `api` connects to MySQL without TLS: DATABASE_MIN_TLS_VERSION not set"
        )
    );
    assert_eq!(
        of(&report, "PSH-TLS-010"),
        one(
            compose,
            13,
            3,
            "Migrations container `migration` does not set DATABASE_CA_CERTIFICATE, which API `api` sets (without DATABASE_MIN_TLS_VERSION the API does not use TLS either): the migrations (run with the MySQL admin credentials) connect without TLS"
        )
    );
    assert_eq!(
        of(&report, "PSH-TLS-006"),
        one(
            compose,
            28,
            28,
            "Console container `console` sets ALLOW_INVALID_CERTS=true: it calls the API over plain HTTP (PULUMI_API_INTERNAL_ENDPOINT=http://api:8080) and, once that hop uses TLS, will accept any certificate, so anyone on that network path can impersonate the API and read session tokens"
        )
    );
    for f in report["findings"].as_array().unwrap() {
        let message = f["message"].as_str().unwrap();
        assert!(!message.contains("over TLS:") && !message.contains("accepts any certificate"), "{message}");
    }
}

/// The insecure Kubernetes example: its Ingress has neither TLS nor an allowlist, so the
/// LoadBalancer Service is not said to bypass an ingress that has them.
#[test]
fn findings_about_the_kubernetes_example_agree() {
    let report = check_repo(&["examples/insecure/kubernetes"]);
    let file = "examples/insecure/kubernetes/pulumi.yaml";
    assert_eq!(
        of(&report, "PSH-NET-003"),
        one(
            file,
            40,
            9,
            "Service `pulumi-api` exposes the Pulumi API through an internet-facing load balancer, bypassing the ingress that should terminate TLS and enforce the allowlist"
        )
    );
    assert_eq!(of(&report, "PSH-TLS-013").len(), 2, "the Ingress covers no host with TLS");
    assert!(of(&report, "PSH-NET-004").iter().any(|(_, line, ..)| *line == 14), "the Ingress has no allowlist");
}

/// An API with a weak API_MIN_TLS_VERSION but no certificate serves plain HTTP (PSH-TLS-003):
/// PSH-TLS-004 does not say clients negotiate TLS with it today. Once the migrations' API does
/// use TLS, PSH-TLS-010 says so, naming it.
#[test]
fn tls_version_and_migration_findings_follow_whether_tls_is_on() {
    let p = Project::new();
    let compose = "services:\n  api:\n    image: pulumi/service:20260801-1234\n    environment:\n      API_MIN_TLS_VERSION: \"1.0\"\n      DATABASE_CA_CERTIFICATE: ${DB_CA}\n      DATABASE_MIN_TLS_VERSION: \"1.2\"\n  migration:\n    image: pulumi/migrations:20260801-1234\n    environment:\n      PULUMI_DATABASE_ENDPOINT: db:3306\n";
    p.file("d/docker-compose.yml", compose);
    let report = check(&p, &["d"]);
    assert_eq!(
        of(&report, "PSH-TLS-004"),
        one(
            "d/docker-compose.yml",
            5,
            28,
            "API container `api` sets API_MIN_TLS_VERSION=1.0, below the required minimum 1.2: once API_TLS_CERTIFICATE and API_TLS_PRIVATE_KEY are set and the API serves HTTPS, clients can negotiate deprecated TLS versions"
        )
    );
    assert!(
        of(&report, "PSH-TLS-003")[0].3.starts_with("API container `api` sets API_MIN_TLS_VERSION but not"),
        "{report:#}"
    );
    assert_eq!(
        of(&report, "PSH-TLS-010"),
        one(
            "d/docker-compose.yml",
            10,
            5,
            "Migrations container `migration` does not set DATABASE_CA_CERTIFICATE although API `api` connects to MySQL over TLS: the migrations (run with the MySQL admin credentials) connect without TLS"
        )
    );
    assert!(of(&report, "PSH-TLS-008").is_empty());
}

/// Every related location of every finding on the insecure examples has a label saying what
/// is there (rules write `related` as `{'at': …, 'message': '…'}`).
#[test]
fn every_related_location_on_the_examples_has_a_label() {
    let report = check_repo(&["examples/insecure"]);
    let mut related = 0;
    for f in report["findings"].as_array().unwrap() {
        for r in f["related"].as_array().unwrap() {
            related += 1;
            assert!(
                !r["message"].as_str().unwrap_or_default().trim().is_empty(),
                "unlabelled related location in {f:#}"
            );
        }
    }
    assert!(related >= 3, "{related} related locations");
    // One of them, exactly: the Console that lacks the other half of the CAPTCHA.
    let captcha = findings_of(&report, "PSH-APP-003")
        .into_iter()
        .find(|f| f["file"] == "examples/insecure/compose/docker-compose.yml")
        .expect("PSH-APP-003 on the compose example");
    assert_eq!((captcha["line"].as_u64(), captcha["column"].as_u64()), (Some(20), Some(5)));
    assert_eq!(
        captcha["related"],
        serde_json::json!([{
            "file": "examples/insecure/compose/docker-compose.yml", "line": 27, "column": 5,
            "message": "Console `console` has no RECAPTCHA_SITE_KEY"
        }])
    );
}

/// The compose example configures no domain of its own (`localhost:3000`, the default, and
/// `http://localhost:8080`): the TLS findings do not ask for TLS "for localhost".
#[test]
fn a_default_localhost_domain_is_not_named_as_the_host_to_cover() {
    let report = check_repo(&["examples/insecure"]);
    let compose = "examples/insecure/compose/docker-compose.yml";
    let tail = " (looked for Ingress spec.tls, HTTPS load-balancer listeners and TLS proxies on 443); if TLS ends at a load balancer defined elsewhere, set the rule parameter tls_terminated_upstream = true";
    let tls_001: Vec<_> = of(&report, "PSH-TLS-001").into_iter().filter(|f| f.0 == compose).collect();
    assert_eq!(
        tls_001,
        one(
            compose,
            27,
            5,
            &format!(
                "Console container `console` serves plain HTTP (CONSOLE_TLS_CERTIFICATE and CONSOLE_TLS_PRIVATE_KEY are not set) and nothing in this deployment terminates TLS in front of it{tail}"
            )
        )
    );
    let tls_003: Vec<_> = of(&report, "PSH-TLS-003").into_iter().filter(|f| f.0 == compose).collect();
    assert_eq!(
        tls_003,
        one(
            compose,
            20,
            5,
            &format!(
                "API container `api` serves plain HTTP (API_TLS_CERTIFICATE, API_TLS_PRIVATE_KEY and API_MIN_TLS_VERSION are not set) and nothing in this deployment terminates TLS in front of it{tail}"
            )
        )
    );
    // A real domain is still named.
    let kubernetes: Vec<_> =
        of(&report, "PSH-TLS-001").into_iter().filter(|f| f.0 == "examples/insecure/kubernetes/pulumi.yaml").collect();
    assert_eq!((kubernetes[0].1, kubernetes[0].2), (119, 9));
    assert!(kubernetes[0].3.contains(" in front of it for app.pulumi.example.com (looked"), "{}", kubernetes[0].3);
    for f in report["findings"].as_array().unwrap() {
        assert!(!f["message"].as_str().unwrap().contains("for localhost"), "{f:#}");
    }
}

/// `MYSQL_ALLOW_EMPTY_PASSWORD: "true"` is a switch, not a secret: PSH-SEC-004 reports it at
/// its value, which every format shows, while the real secrets beside it stay masked.
#[test]
fn an_empty_password_switch_is_not_masked() {
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_celador"))
            .args(["check", "--color", "never", "--format", format, "examples/insecure/compose"])
            .current_dir(repo_root())
            .env("CELADOR_NO_PROGRESS", "1")
            .env("COLUMNS", "100")
            .output()
            .expect("celador runs");
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let report = check_repo(&["examples/insecure/compose"]);
    let compose = "examples/insecure/compose/docker-compose.yml";
    let switch: Vec<_> = of(&report, "PSH-SEC-004").into_iter().filter(|f| f.1 == 8).collect();
    assert_eq!(
        switch,
        one(
            compose,
            8,
            35,
            "`MYSQL_ALLOW_EMPTY_PASSWORD` of service `db` lets MySQL run with an empty root password (the image treats any non-empty value as yes); set MYSQL_ROOT_PASSWORD from the environment (or MYSQL_RANDOM_ROOT_PASSWORD)"
        )
    );
    let human = run("human");
    assert!(human.contains(" 8 │       MYSQL_ALLOW_EMPTY_PASSWORD: \"true\"\n"), "{human}");
    assert!(human.contains("22 │       PULUMI_SEARCH_PASSWORD: *****\n"), "{human}");
    let sarif: Value = serde_json::from_str(&run("sarif")).expect("SARIF");
    let regions: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "PSH-SEC-004")
        .map(|r| &r["locations"][0]["physicalLocation"]["region"])
        .collect();
    assert_eq!(regions[0]["startLine"], 8);
    assert_eq!(regions[0]["snippet"]["text"], "\"true\"");
    assert!(regions[1..].iter().all(|r| r.get("snippet").is_none()), "{regions:?}");
}

/// The quickstart's override turns TLS on (the API then serves HTTPS on 8443), but the base file
/// still publishes the plain-HTTP 8080 on every interface: PSH-NET-003 reports that mapping,
/// and not the TLS port the override publishes.
#[test]
fn an_override_turning_tls_on_does_not_excuse_the_plain_http_port() {
    let p = Project::new();
    p.file(
        "d/docker-compose.yml",
        "services:\n  api:\n    image: pulumi/service:20260801-1234\n    ports:\n      - \"8080:8080\"\n",
    );
    p.file(
        "d/docker-compose.override.yml",
        "services:\n  api:\n    ports:\n      - \"8443:8443\"\n    environment:\n      API_TLS_CERTIFICATE: ${API_TLS_CERTIFICATE}\n      API_TLS_PRIVATE_KEY: ${API_TLS_PRIVATE_KEY}\n      API_MIN_TLS_VERSION: \"1.2\"\n",
    );
    let report = check(&p, &["d"]);
    assert_eq!(
        of(&report, "PSH-NET-003"),
        one(
            "d/docker-compose.yml",
            5,
            9,
            "Service `api` publishes port 8080 of the Pulumi API on every interface of the host (8080 is its plain-HTTP port: with API_TLS_* set the API serves HTTPS on 8443, so anything answering there is plain HTTP); bind it to 127.0.0.1 behind a TLS reverse proxy"
        )
    );
}

/// The quickstart's override turns TLS on for the Console without CONSOLE_MIN_TLS_VERSION: the
/// missing variable is reported in the override's `environment:` of the Console, which made the
/// setting, with the base file's block related.
#[test]
fn a_variable_missing_beside_an_override_setting_is_reported_in_the_override() {
    let p = Project::new();
    let base = "services:\n  console:\n    image: pulumi/console:20260801-1234\n    ports: [\"127.0.0.1:3000:3000\"]\n    environment:\n      PULUMI_API: https://api.example.com\n";
    let overrides = "services:\n  console:\n    ports: [\"3443:3443\"]\n    environment:\n      CONSOLE_TLS_CERTIFICATE: ${CONSOLE_TLS_CERTIFICATE}\n      CONSOLE_TLS_PRIVATE_KEY: ${CONSOLE_TLS_PRIVATE_KEY}\n";
    p.file("d/docker-compose.yml", base);
    p.file("d/docker-compose.override.yml", overrides);
    let report = check(&p, &["d"]);
    assert_eq!(
        of(&report, "PSH-TLS-002"),
        one(
            "d/docker-compose.override.yml",
            4,
            5,
            "Console container `console` serves HTTPS without CONSOLE_MIN_TLS_VERSION: the Console then enforces no minimum TLS version"
        )
    );
    let finding = findings_of(&report, "PSH-TLS-002")[0];
    assert_eq!(
        finding["related"],
        serde_json::json!([{
            "file": "d/docker-compose.yml", "line": 5, "column": 5,
            "message": "service `console` is also configured here"
        }])
    );
    // The same in an env file the service reads: reported in that file (its first assignment).
    let p = Project::new();
    p.file(
        "d/docker-compose.yml",
        "services:\n  api:\n    image: pulumi/service:20260801-1234\n    env_file: [api.env]\n    environment:\n      PULUMI_LICENSE_KEY: ${PULUMI_LICENSE_KEY}\n",
    );
    p.file("d/api.env", "# database\nPULUMI_DATABASE_ENDPOINT=db:3306\nDATABASE_CA_CERTIFICATE=${DB_CA}\n");
    let report = check(&p, &["d"]);
    assert_eq!(
        of(&report, "PSH-TLS-008"),
        one("d/api.env", 2, 1, "API container `api` connects to MySQL without TLS: DATABASE_MIN_TLS_VERSION not set")
    );
    assert_eq!(findings_of(&report, "PSH-TLS-008")[0]["related"][0]["line"], 5);
}

/// `celador check docker-compose.yml` alone (as pre-commit calls it) reports the findings in the
/// env files that compose file reads; an env file checked alone still loads its compose file and
/// that file's other env files as context only.
#[test]
fn a_compose_file_checked_alone_reports_its_env_files() {
    let p = Project::new();
    p.file(
        "d/docker-compose.yml",
        "services:\n  api:\n    image: pulumi/service:20260801-1234\n    env_file: [api.env]\n    environment:\n      DATABASE_MIN_TLS_VERSION: \"1.2\"\n  console:\n    image: pulumi/console:20260801-1234\n    env_file: [console.env]\n",
    );
    p.file("d/api.env", "PULUMI_LICENSE_KEY=eyJ.plain.license\nDATABASE_CA_CERTIFICATE=/etc/ca.pem\n");
    p.file("d/console.env", "PULUMI_API=http://api:8080\nALLOW_INVALID_CERTS=true\n");
    let report = check(&p, &["d/docker-compose.yml"]);
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(
        of(&report, "PSH-SEC-004"),
        one(
            "d/api.env",
            1,
            20,
            "`PULUMI_LICENSE_KEY` is set to a literal value; keep the value out of the file: set it in the deploying shell or a secret store and pass it with `${PULUMI_LICENSE_KEY}`"
        )
    );
    assert_eq!(
        of(&report, "PSH-TLS-009"),
        one(
            "d/api.env",
            2,
            25,
            "API container `api` sets DATABASE_CA_CERTIFICATE to `/etc/ca.pem`, which is not a PEM certificate: the variable must hold the CA certificate text itself (-----BEGIN CERTIFICATE-----), not a file path"
        )
    );
    assert_eq!(of(&report, "PSH-TLS-006").len(), 1);
    assert_eq!(of(&report, "PSH-TLS-006")[0].0, "d/console.env");
    assert_eq!((of(&report, "PSH-TLS-006")[0].1, of(&report, "PSH-TLS-006")[0].2), (2, 21));
    assert_eq!(report["summary"]["files"], 3, "the compose file and the two env files it reads");

    // The env file alone: its own findings only; the compose file and console.env are context.
    let report = check(&p, &["d/api.env"]);
    let files: std::collections::BTreeSet<String> =
        report["findings"].as_array().unwrap().iter().map(|f| f["file"].as_str().unwrap().to_owned()).collect();
    assert_eq!(files.into_iter().collect::<Vec<_>>(), ["d/api.env"]);
    assert_eq!(of(&report, "PSH-SEC-004").len(), 1);
    assert_eq!(report["summary"]["files"], 1);
}

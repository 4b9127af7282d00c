//! What celador checks in a real repository: files of known kinds by name, by content and by
//! `[[kinds]]`; everything else (application code, tool configuration, JSON with comments,
//! TOML of any shape) skipped and counted, never an error — also when named explicitly.

use crate::support::{Project, assert_files_add_up, at, positions_of, summary};
use serde_json::json;

/// Helm values configuring the API with a literal license key and no TLS or database TLS.
const VALUES: &str = "api:\n  image: pulumi/service:20260801-4521\n  env:\n    PULUMI_LICENSE_KEY: eyJlicense\n    PULUMI_DATABASE_ENDPOINT: db:3306\n";

/// An insecure stack file: a plaintext license key.
const STACK: &str = "config:\n  proj:licenseKey: eyJplaintext-license\n";

/// The application side of a repository: none of it is deployment configuration.
fn application(p: &Project) {
    p.file("package.json", "{\"name\": \"app\", \"version\": \"1.0.0\", \"config\": {\"port\": 8080}}\n");
    p.file(
        "tsconfig.json",
        "{\n  // compiler options\n  \"compilerOptions\": {\"strict\": true, /* why */ \"target\": \"es2022\",},\n}\n",
    );
    p.file("Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\nserde = \"1\"\n");
    p.file("pyproject.toml", "[project]\nname = \"app\"\n\n[tool.ruff]\nline-length = 100\n");
    p.file(".pre-commit-config.yaml", "repos:\n- repo: local\n  hooks: []\n");
    p.file(
        ".github/workflows/ci.yml",
        "on: [push]\nenv:\n  CI: true\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container:\n      image: node:20\n    steps:\n    - run: npm test\n",
    );
    p.file(".vscode/settings.json", "{\n  // editor\n  \"editor.tabSize\": 2\n}\n");
    p.file("src/index.ts", "export const x = 1;\n");
}

const APPLICATION_FILES: [&str; 7] = [
    ".github/workflows/ci.yml",
    ".pre-commit-config.yaml",
    ".vscode/settings.json",
    "Cargo.toml",
    "package.json",
    "pyproject.toml",
    "tsconfig.json",
];

#[test]
fn an_application_repository_with_one_stack_file_reports_only_its_finding() {
    let p = Project::new();
    application(&p);
    p.file("infra/Pulumi.prod.yaml", STACK);
    let run = p.run(&["check", "--format", "json", "."]);
    run.assert_code(1);
    let report = run.report();
    assert_eq!(report["errors"], json!([]), "{report:#}");
    assert_eq!(positions_of(&report, &["PSH-SEC-001"]), [at("PSH-SEC-001", "infra/Pulumi.prod.yaml", 2, 20)]);
    for finding in report["findings"].as_array().unwrap() {
        assert_eq!(finding["file"], "infra/Pulumi.prod.yaml", "{report:#}");
    }
    // 8 application files, 1 stack file.
    assert_eq!(summary(&report)["files"], 9);
    assert_eq!((report["summary"]["checked"].as_u64(), report["summary"]["skipped"].as_u64()), (Some(1), Some(8)));
    assert_eq!(run.stderr, "", "nothing skipped looks like deployment configuration:\n{}", run.stderr);
}

#[test]
fn explicitly_named_application_files_are_skipped_with_one_note_each() {
    let p = Project::new();
    application(&p);
    p.file("Pulumi.prod.yaml", STACK);
    let mut args = vec!["check", "--format", "json"];
    args.extend(APPLICATION_FILES);
    args.push("Pulumi.prod.yaml");
    let run = p.run(&args);
    run.assert_code(1);
    let report = run.report();
    assert_eq!(report["errors"], json!([]), "{report:#}");
    assert_eq!(positions_of(&report, &["PSH-SEC-001"]), [at("PSH-SEC-001", "Pulumi.prod.yaml", 2, 20)]);
    let notes: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(notes.len(), APPLICATION_FILES.len(), "{}", run.stderr);
    for (note, file) in notes.iter().zip(APPLICATION_FILES) {
        assert!(note.starts_with(&format!("celador: skipped {file}: not a known kind of input")), "{note}");
    }

    // Only application files: exit 0, as ruff does for files it does not lint.
    let run = p.run(&["check", "tsconfig.json", "pyproject.toml", "Cargo.toml"]);
    run.assert_code(0);
    assert_eq!(run.stderr.lines().count(), 3, "{}", run.stderr);
}

#[test]
fn malformed_files_of_a_known_kind_are_still_located_errors() {
    let p = Project::new();
    // Known by name: a stack file with a YAML error.
    p.file("Pulumi.prod.yaml", "config:\n  proj:a: [1, 2\n");
    // Known by --kind: JSON with comments checked as Kubernetes.
    p.file("object.json", "{\n  // why\n  \"apiVersion\": \"v1\"\n}\n");
    // Known by configuration.
    p.file("celador.toml", "[[kinds]]\npath = \"deploy/*.conf\"\nkind = \"env\"\n");
    p.file("deploy/api.conf", "PULUMI_DATABASE_ENDPOINT=db:3306\nJUST_A_WORD\n");
    let run = p.run(&["check", "--format", "json", "Pulumi.prod.yaml", "deploy"]);
    run.assert_code(2);
    let errors = run.report()["errors"].clone();
    assert_eq!(errors.as_array().unwrap().len(), 2, "{errors:#}");
    assert_eq!((errors[0]["file"].as_str(), errors[0]["line"].as_u64()), (Some("Pulumi.prod.yaml"), Some(3)));
    assert_eq!((errors[1]["file"].as_str(), errors[1]["line"].as_u64()), (Some("deploy/api.conf"), Some(2)));

    let run = p.run(&["check", "--format", "json", "--kind", "kubernetes", "object.json"]);
    run.assert_code(2);
    let errors = run.report()["errors"].clone();
    assert_eq!((errors[0]["line"].as_u64(), errors[0]["column"].as_u64()), (Some(2), Some(3)), "{errors:#}");
    assert!(errors[0]["message"].as_str().unwrap().contains("comments are not allowed"), "{errors:#}");
}

#[test]
fn toml_is_parsed_as_toml_whatever_its_first_line() {
    let p = Project::new();
    // A stack configuration written as TOML (`--kind` decides the kind, the name the syntax).
    p.file("stack.toml", "# exported\n[config]\n\"proj:licenseKey\" = \"eyJplaintext\"\n");
    let run = p.run(&["check", "--format", "json", "--kind", "pulumi-stack-config", "stack.toml"]);
    let report = run.assert_code(1).report();
    assert_eq!(positions_of(&report, &["PSH-SEC-001"]), [at("PSH-SEC-001", "stack.toml", 3, 21)]);
}

#[test]
fn helm_values_are_recognised_by_every_naming_convention() {
    let p = Project::new();
    let names = [
        "values.yaml",
        "values-prod.yaml",
        "values.prod.yaml",
        "prod-values.yaml",
        "prod_values.yaml",
        "prod.values.yaml",
        "deploy/values/prod.yaml",
    ];
    for name in names {
        p.file(name, VALUES);
    }
    let report = p.run(&["check", "--format", "json", "."]).assert_code(1).report();
    let mut found: Vec<String> = positions_of(&report, &["PSH-SEC-003"]).into_iter().map(|f| f.1).collect();
    found.sort();
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected, "{report:#}");
    for (_, file, line, column) in positions_of(&report, &["PSH-SEC-003"]) {
        assert_eq!((line, column), (4, 25), "{file}");
    }
}

#[test]
fn yaml_that_configures_a_pulumi_image_is_helm_values_whatever_its_name() {
    let p = Project::new();
    p.file("deploy/pulumi-settings.yaml", VALUES);
    // An image given as {repository, tag}, deeper down.
    p.file(
        "deploy/platform.yaml",
        "services:\n  - name: console\n    image:\n      repository: pulumi/console\n      tag: latest\n",
    );
    let report = p.run(&["check", "--format", "json", "deploy"]).assert_code(1).report();
    assert_eq!(
        positions_of(&report, &["PSH-SEC-003", "PSH-APP-006"]),
        [at("PSH-APP-006", "deploy/platform.yaml", 5, 12), at("PSH-SEC-003", "deploy/pulumi-settings.yaml", 4, 25)]
    );
    assert_eq!(report["summary"]["checked"], 2, "{report:#}");
    // A Kubernetes object that names the image is still Kubernetes, not values.
    let object = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: api\n    image: pulumi/service:latest\n";
    p.file("pod.yaml", object);
    let report = p.run(&["check", "--format", "json", "pod.yaml"]).assert_code(1).report();
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["file"] == "pod.yaml"));
}

#[test]
fn kinds_in_the_configuration_name_files_no_convention_covers() {
    let p = Project::new();
    p.file("celador.toml", "[[kinds]]\npath = \"ops/*.cfg.yaml\"\nkind = \"helm-values\"\n\n[[kinds]]\npath = \"ops/**/*.vars\"\nkind = \"env\"\n");
    p.file("ops/api.cfg.yaml", VALUES);
    p.file("ops/nested/api.vars", "PULUMI_LICENSE_KEY=eyJlicense\nPULUMI_DATABASE_ENDPOINT=db:3306\n");
    p.file("ops/other.yaml", "x: 1\n");
    let run = p.run(&["check", "--format", "json", "ops"]);
    let report = run.assert_code(1).report();
    let files: std::collections::BTreeSet<String> =
        report["findings"].as_array().unwrap().iter().map(|f| f["file"].as_str().unwrap().to_owned()).collect();
    assert_eq!(files.into_iter().collect::<Vec<_>>(), ["ops/api.cfg.yaml", "ops/nested/api.vars"]);
    assert_eq!(
        summary(&report),
        json!({"files": 3, "documents": 2, "skipped": 1, "findings": report["summary"]["findings"]})
    );

    // The same from a subdirectory: globs are relative to celador.toml's directory too.
    let sub = p.run_in("ops", &["check", "--format", "json", "."]);
    let report = sub.assert_code(1).report();
    assert_eq!(report["summary"]["checked"], 2, "{report:#}");

    // A wrong kind is a located configuration error, with a suggestion.
    p.file("celador.toml", "[[kinds]]\npath = \"ops/*.cfg.yaml\"\nkind = \"helm-value\"\n");
    let run = p.run(&["check", "--format", "json", "ops"]);
    let errors = run.assert_code(2).report()["errors"].clone();
    assert_eq!((errors[0]["line"].as_u64(), errors[0]["column"].as_u64()), (Some(3), Some(8)), "{errors:#}");
    assert!(errors[0]["message"].as_str().unwrap().contains("did you mean `helm-values`?"), "{errors:#}");
}

#[test]
fn skipped_files_that_look_like_configuration_are_mentioned() {
    let p = Project::new();
    p.file("deploy/app.yaml", "web:\n  image: nginx:1.27\n  env:\n    LOG: info\n");
    p.file("deploy/stack-prod.yaml", "config:\n  proj:domain: example.com\n");
    p.file("deploy/notes.yaml", "title: notes\n");
    let run = p.run(&["check", "--format", "json", "deploy"]);
    let report = run.assert_code(0).report();
    assert_files_add_up(&report);
    assert_eq!(report["summary"]["configuration_like"], 2, "{report:#}");
    assert!(
        run.stderr.contains(
            "celador: skipped 2 files that look like deployment configuration but are of no known kind: deploy/app.yaml, deploy/stack-prod.yaml"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("celador: nothing was checked: none of the 3 files found is of a known kind"));
    let human = p.run(&["check", "--color", "never", "deploy"]);
    human
        .assert_stdout_contains("0 findings; nothing checked (3 skipped: not a known kind, 2 look like configuration)");
}

#[test]
fn an_empty_scan_says_so() {
    let p = Project::new();
    p.dir("empty");
    let run = p.run(&["check", "empty"]);
    run.assert_code(0);
    assert_eq!(run.stderr, "celador: nothing was checked: no files were found\n");
}

#[test]
fn one_skipped_configuration_file_is_named_in_the_singular() {
    let p = Project::new();
    p.file("deploy/app.yaml", "web:\n  image: nginx:1.27\n");
    p.file("deploy/values.yaml", VALUES);
    let run = p.run(&["check", "--format", "json", "deploy"]);
    assert!(
        run.stderr.starts_with(
            "celador: skipped 1 file that looks like deployment configuration but is of no known kind: deploy/app.yaml"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn ci_pipelines_are_not_taken_for_deployment_configuration() {
    let p = Project::new();
    p.file(".gitlab-ci.yml", "stages: [test]\ntest:\n  image: node:20\n  script: [npm test]\n");
    p.file("ci/job.yml", "build:\n  image: rust:1\n  script: [cargo build]\n");
    p.file(".circleci/config.yml", "version: 2.1\njobs:\n  build:\n    docker: [{image: cimg/base:stable}]\n");
    let run = p.run(&["check", "--format", "json", "."]);
    let report = run.assert_code(0).report();
    assert_eq!(report["summary"]["configuration_like"], 0, "{report:#}");
    assert!(!run.stderr.contains("look"), "{}", run.stderr);
}

/// A pack whose rules read only Kubernetes documents leaves unread the files found by walking
/// that can only be of other kinds (a Terraform state and plan beside the manifests), while the
/// built-in pack, which reads them, loads all three; named on the command line, a file is read
/// whatever the pack.
#[test]
fn files_only_of_kinds_no_rule_reads_are_not_parsed() {
    let p = Project::new();
    p.file(
        "pack.toml",
        "[pack]\nid = \"k\"\nversion = \"0\"\ntitle = \"k\"\n[[rule]]\nid = \"K-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nassert = 'doc.kind != \"Pod\"'\nmessage = 'a Pod'\n",
    );
    p.file("deploy/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
    p.file("deploy/terraform.tfstate", "{\"version\": 4, \"terraform_version\": \"1.9.0\", \"resources\": []}\n");
    p.file("deploy/plan.json", "{\"format_version\": \"1.2\", \"resource_changes\": []}\n");
    let kubernetes_only = p.run(&["check", "--format", "json", "--no-builtin", "--pack", "pack.toml", "deploy"]);
    kubernetes_only.assert_code(1);
    let report = kubernetes_only.report();
    assert_eq!(report["errors"], json!([]), "{report:#}");
    assert_eq!(positions_of(&report, &["K-1"]), [at("K-1", "deploy/pod.yaml", 1, 1)]);
    assert_eq!(summary(&report)["documents"], 1, "{report:#}");
    let built_in = p.run(&["check", "--format", "json", "deploy"]);
    assert_eq!(summary(&built_in.report())["documents"], 3, "{}", built_in.stdout);
    let named =
        p.run(&["check", "--format", "json", "--no-builtin", "--pack", "pack.toml", "deploy/terraform.tfstate"]);
    named.assert_code(0);
    assert_eq!(summary(&named.report())["documents"], 1, "{}", named.stdout);
}

//! Discovery: what a directory walk checks, skips and counts; explicit paths.

use crate::support::{CONFIGMAP, Project, api_deployment, at, counts, positions_of, summary};
use serde_json::json;

/// An env file the API reads, without the TLS variables: one PSH-TLS-008 finding at 1:1.
const API_ENV: &str = "PULUMI_DATABASE_ENDPOINT=db:3306\n";

#[test]
fn dotfiles_are_checked_and_vcs_dependency_and_build_directories_are_not() {
    let p = Project::new();
    p.file("app/.env", API_ENV);
    p.file("app/.git/api.env", API_ENV);
    p.file("app/.git/config.yaml", api_deployment("in-git", None));
    p.file("app/node_modules/pkg/api.env", API_ENV);
    p.file("app/sub/node_modules/pkg/deploy.yaml", api_deployment("in-node-modules", None));
    p.file("app/target/api.env", API_ENV);
    p.file("app/target/debug/deploy.yaml", api_deployment("in-target", None));
    let report = p.run(&["check", "--format", "json", "app"]).assert_code(1).report();
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "app/.env", 1, 1)]);
    assert_eq!(counts(&report), (1, 1, 0), "files, documents, skipped: {report:#}");
}

#[test]
fn gitignore_excludes_files_without_a_git_repository() {
    let p = Project::new();
    p.file("app/api.env", API_ENV);
    p.file("app/secret.env", API_ENV);
    p.file("app/generated/deploy.yaml", api_deployment("generated", None));
    p.file("app/.gitignore", "secret.env\ngenerated/\n");
    assert!(!p.path(".git").exists() && !p.path("app/.git").exists());
    let report = p.run(&["check", "--format", "json", "app"]).assert_code(1).report();
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "app/api.env", 1, 1)]);
    // `.gitignore` itself is a file of no known kind: found, skipped without being read.
    assert_eq!(counts(&report), (2, 1, 1), "files, documents, skipped: {report:#}");
}

#[test]
fn celadorignore_excludes_files_like_gitignore() {
    let p = Project::new();
    p.file("repo/api.env", API_ENV);
    p.file("repo/fixtures/insecure/api.env", API_ENV);
    p.file(
        "repo/.celadorignore",
        "fixtures/
",
    );
    let report = p.run(&["check", "--format", "json", "repo"]).assert_code(1).report();
    assert_eq!(positions_of(&report, &["PSH-TLS-008"]), [at("PSH-TLS-008", "repo/api.env", 1, 1)]);
}

#[test]
fn unknown_files_and_unknown_yaml_documents_are_skipped_and_counted() {
    let p = Project::new();
    p.file("repo/README.md", "# readme\n");
    p.file("repo/random.txt", "DATABASE_CA_CERTIFICATE=\n");
    p.file("repo/Dockerfile", "FROM pulumi/service:latest\n");
    // YAML of no known kind: a GitHub workflow.
    p.file(
        "repo/.github/workflows/ci.yml",
        "name: CI\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n",
    );
    p.file("repo/deploy/cm.yaml", CONFIGMAP);
    let run = p.run(&["check", "--format", "json", "repo"]);
    run.assert_code(0);
    let report = run.report();
    assert_eq!(report["errors"], json!([]), "a skipped file found by walking is not an error: {report:#}");
    // README.md, random.txt, Dockerfile (by name, unread) + the workflow (read, of no known
    // kind); the ConfigMap is checked.
    assert_eq!(summary(&report), json!({"files": 5, "documents": 1, "skipped": 4, "findings": 0}));
    assert_eq!(report["summary"]["checked"], 1);
    assert_eq!(report["summary"]["configuration_like"], 0, "a workflow is not deployment configuration");

    let human = p.run(&["check", "--color", "never", "repo"]);
    human.assert_code(0).assert_stdout_contains("0 findings in 1 document of 1 file (4 skipped: not a known kind)");
    assert_eq!(human.stderr, "", "nothing worth a note was skipped");
}

#[test]
fn unknown_documents_among_known_ones_are_skipped() {
    let p = Project::new();
    p.file(
        "multi.yaml",
        format!(
            "{}---\nfoo: bar\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n",
            api_deployment("pulumi-api", None)
        ),
    );
    let report = p.run(&["check", "--format", "json", "multi.yaml"]).assert_code(1).report();
    // The file is checked; its document of no known kind is left out, not counted as a file.
    assert_eq!(counts(&report), (1, 2, 0), "files, documents, skipped: {report:#}");
    assert_eq!(positions_of(&report, &["PSH-TLS-008"]), [at("PSH-TLS-008", "multi.yaml", 9, 9)]);
    assert_eq!(report["errors"], json!([]));
}

#[test]
fn explicitly_named_file_of_unknown_kind_is_skipped_with_a_note_unless_kind_is_given() {
    let p = Project::new();
    p.file("notes.yaml", "title: notes\nitems: [1, 2]\n");
    let run = p.run(&["check", "--format", "json", "notes.yaml"]);
    run.assert_code(0);
    let report = run.report();
    assert_eq!(report["errors"], json!([]), "{report:#}");
    assert_eq!(summary(&report), json!({"files": 1, "documents": 0, "skipped": 1, "findings": 0}));
    // One line on stderr, as ruff does for a file it does not lint.
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("celador: skipped notes.yaml: not a known kind of input"), "{}", run.stderr);
    assert!(run.stderr.contains("--kind"), "{}", run.stderr);
    let human = p.run(&["check", "--color", "never", "notes.yaml"]);
    human.assert_code(0).assert_stdout_contains("0 findings; nothing checked (1 skipped: not a known kind)");

    for kind in ["kubernetes", "helm-values", "compose"] {
        let run = p.run(&["check", "--format", "json", "--kind", kind, "notes.yaml"]);
        run.assert_code(0);
        assert_eq!(
            summary(&run.report()),
            json!({"files": 1, "documents": 1, "skipped": 0, "findings": 0}),
            "--kind {kind}"
        );
        assert_eq!(run.stderr, "", "--kind {kind}");
    }
}

#[test]
fn explicitly_named_unknown_file_in_a_directory_walk_is_not_an_error() {
    let p = Project::new();
    p.file("dir/notes.yaml", "title: notes\n");
    let report = p.run(&["check", "--format", "json", "dir"]).assert_code(0).report();
    assert_eq!(summary(&report), json!({"files": 1, "documents": 0, "skipped": 1, "findings": 0}));
}

#[test]
fn nonexistent_path_is_an_error() {
    let p = Project::new();
    p.file("api.env", API_ENV);
    let run = p.run(&["check", "--format", "json", "does/not/exist.yaml", "api.env"]);
    run.assert_code(2);
    let report = run.report();
    assert_eq!(
        report["errors"],
        json!([{"file": "does/not/exist.yaml", "line": null, "column": null, "message": "no such file or directory"}])
    );
    // The other path is still checked.
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "api.env", 1, 1)]);
    p.run(&["check", "--color", "never", "does/not/exist.yaml"])
        .assert_code(2)
        .assert_stdout_contains("does/not/exist.yaml: no such file or directory");
}

#[test]
fn a_file_reached_twice_is_checked_once() {
    let p = Project::new();
    p.file("d/api.env", API_ENV);
    let report = p.run(&["check", "--format", "json", "d", "d/api.env", "d/"]).assert_code(1).report();
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "d/api.env", 1, 1)]);
    assert_eq!(report["summary"]["files"], 1, "{report:#}");
}

#[test]
fn the_same_file_spelled_two_ways_is_checked_once() {
    let p = Project::new();
    p.file("d/api.env", API_ENV);
    let report = p.run(&["check", "--format", "json", "d/api.env", "./d/api.env"]).assert_code(1).report();
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "d/api.env", 1, 1)]);
    assert_eq!(report["summary"]["files"], 1, "{report:#}");
}

/// A walk resolves the files it reaches from the directory it walks: a directory and a link
/// to it, both walked, reach each file once, under the name it was first reached by.
#[cfg(unix)]
#[test]
fn a_directory_walked_also_through_a_link_to_it_is_checked_once() {
    let p = Project::new();
    p.dir(".git");
    p.file("d/api.env", API_ENV);
    std::os::unix::fs::symlink(p.path("d"), p.path("link")).expect("create a symbolic link");
    let report = p.run(&["check", "--format", "json", "d", "link"]).assert_code(1).report();
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "d/api.env", 1, 1)]);
    assert_eq!(report["summary"]["files"], 1, "{report:#}");
    let report = p.run(&["check", "--format", "json", "link", "d"]).assert_code(1).report();
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "link/api.env", 1, 1)]);
    assert_eq!(report["summary"]["files"], 1, "{report:#}");
}

#[test]
fn default_path_is_the_working_directory() {
    let p = Project::new();
    p.file("sub/api.env", API_ENV);
    let report = p.run(&["check", "--format", "json"]).assert_code(1).report();
    assert_eq!(positions_of(&report, &["PSH-TLS-008", "PSH-SEC-001"]), [at("PSH-TLS-008", "sub/api.env", 1, 1)]);
}

#[test]
fn helm_chart_templates_are_not_walked_but_values_are_classified() {
    let p = Project::new();
    p.file("chart/Chart.yaml", "apiVersion: v2\nname: pulumi\nversion: 0.1.0\n");
    p.file("chart/values.yaml", "replicaCount: 2\n");
    p.file(
        "chart/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
    );
    let report = p.run(&["check", "--format", "json", "chart"]).assert_code(0).report();
    assert_eq!(report["errors"], json!([]), "templates are not checked unrendered: {report:#}");
    // Chart.yaml (unknown content) is skipped; values.yaml is helm values.
    assert_eq!(summary(&report), json!({"files": 2, "documents": 1, "skipped": 1, "findings": 0}));
}

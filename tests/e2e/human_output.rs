//! Human output: snippets with labels, help and a summary (snapshot).

use crate::support::{Project, SEC_001, TLS_008, builtin_rules_pack};

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pulumi-api
spec:
  template:
    spec:
      containers:
        - name: api
          image: pulumi/service:20260801-1234
          env:
            - name: DATABASE_CA_CERTIFICATE
              valueFrom:
                secretKeyRef: {name: pulumi-db-ca, key: ca.pem}
";

const STACK: &str =
    "config:\n  aws:region: us-west-2\n  selfhosted:smtpPassword: hunter2\n  selfhosted:smtpUsername: pulumi\n";

#[test]
fn human_report_snapshot() {
    let p = Project::new();
    p.file("deploy/api.yaml", DEPLOYMENT);
    p.file("deploy/Pulumi.prod.yaml", STACK);
    p.file("deploy/README.md", "not checked\n");
    // PSH-TLS-008 and PSH-SEC-001 as they are in the repository, without the rules added since,
    // so the snapshot changes only when these rules or the renderer do.
    p.file("psh.toml", builtin_rules_pack(&[TLS_008, SEC_001]));
    let run = p.run_with(
        &["check", "--color", "never", "--no-builtin", "--pack", "psh.toml", "deploy"],
        None,
        &[("COLUMNS", "100")],
    );
    run.assert_code(1);
    assert_eq!(run.stderr, "");
    assert!(!run.stdout.contains('\u{1b}'), "no escape codes with --color never");

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    // Paths are relative (the binary runs in the temporary directory); filter it anyway.
    let root = p.root().display().to_string();
    settings.add_filter(&regex_escape(&root), "[TMP]");
    settings.bind(|| insta::assert_snapshot!("human_report", run.stdout));
}

#[test]
fn human_error_snapshot() {
    let p = Project::new();
    p.file("broken.env", "PULUMI_DATABASE_ENDPOINT=db:3306\nSMTP_SERVER=\"smtp.example.net:587\nOTHER=1\n");
    let run = p.run_with(&["check", "--color", "never", "."], None, &[("COLUMNS", "100")]);
    run.assert_code(2);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("human_error", run.stdout));
}

#[test]
fn color_always_uses_escape_codes_and_never_does_not() {
    let p = Project::new();
    p.file("api.env", "PULUMI_DATABASE_ENDPOINT=db:3306\n");
    let always = p.run(&["check", "--color", "always", "."]);
    always.assert_code(1);
    assert!(always.stdout.contains('\u{1b}'), "{}", always.stdout);
    let never = p.run(&["check", "--color", "never", "."]);
    assert!(!never.stdout.contains('\u{1b}'), "{}", never.stdout);
    // `auto` writing to a pipe: no colour.
    let auto = p.run(&["check", "."]);
    assert!(!auto.stdout.contains('\u{1b}'), "{}", auto.stdout);
}

#[test]
fn summary_line_counts() {
    let p = Project::new();
    p.file(
        "pack.toml",
        "[pack]\nid = \"e2e\"\nversion = \"1\"\ntitle = \"t\"\n\n[[rule]]\nid = \"ENV-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"env\", \"kubernetes\"]\nassert = 'false'\nmessage = 'm'\n",
    );
    p.file("in/a.env", "PULUMI_DATABASE_ENDPOINT=db:3306\n");
    p.file("in/b.env", "PULUMI_DATABASE_ENDPOINT=db:3306\n");
    p.file("in/notes.txt", "x\n");
    // A Kubernetes object by its keys, malformed: checked (the pack reads Kubernetes), and an error.
    p.file("in/bad.json", "{\"apiVersion\": \"v1\", \"kind\": ,}\n");
    let run = p.run(&["check", "--color", "never", "--no-builtin", "--pack", "pack.toml", "in"]);
    run.assert_code(2);
    assert!(
        run.stdout.ends_with("2 findings in 2 documents of 3 files (1 skipped: not a known kind); 1 error\n"),
        "{}",
        run.stdout
    );
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The progress line is drawn on a terminal only: never when stderr is piped, never in CI.
#[test]
fn progress_is_shown_on_a_terminal_only() {
    use std::process::Command;
    let p = Project::new();
    p.file("Pulumi.prod.yaml", "config:\n  proj:apiDomain: api.example.com\n");
    let binary = env!("CARGO_BIN_EXE_celador");
    // `script` gives the command a terminal; a zero delay draws the line at once.
    let on_terminal = |ci: bool| {
        let mut command = Command::new("script");
        command
            .args(["-qec", &format!("{binary} check --no-builtin --pack pack.toml ."), "/dev/null"])
            .current_dir(p.root())
            .env("CELADOR_PROGRESS_DELAY_MS", "0")
            .env_remove("CELADOR_NO_PROGRESS")
            .env_remove("CI");
        if ci {
            command.env("CI", "true");
        }
        let out = command.output().expect("script runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    p.file("pack.toml", builtin_rules_pack(&[SEC_001]));
    assert!(on_terminal(false).contains("celador: "), "no progress line on a terminal");
    assert!(!on_terminal(true).contains("celador: "), "a progress line in CI");
    let piped =
        p.run_with(&["check", "--no-builtin", "--pack", "pack.toml", "."], None, &[("CELADOR_PROGRESS_DELAY_MS", "0")]);
    assert!(!piped.all_output().contains("celador: "), "a progress line in a pipe");
}

//! Secret values are never printed, in any format.

use crate::support::{Project, Run, at, positions_of};

const SECRETS: [&str; 2] = ["eyJsecret-value-123", "hunter2"];

const STACK: &str = "\
encryptionsalt: v1:c2FsdA==:v1:bm9uY2U=:Y2lwaGVy
config:
  aws:region: us-west-2
  selfhosted:licenseKey: eyJsecret-value-123
  selfhosted:smtpPassword: hunter2
  selfhosted:smtpUsername: pulumi
";

#[track_caller]
fn assert_no_secret(run: &Run) {
    for secret in SECRETS {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "`{secret}` was printed by celador {}:\n--- stdout\n{}\n--- stderr\n{}",
            run.args.join(" "),
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn plaintext_secrets_are_reported_but_never_printed() {
    let p = Project::new();
    p.file("Pulumi.prod.yaml", STACK);

    let json = p.run(&["check", "--format", "json", "."]);
    json.assert_code(1);
    assert_no_secret(&json);
    // Both are found (so the masking is tested on real findings).
    assert_eq!(
        positions_of(&json.report(), &["PSH-SEC-001"]),
        [at("PSH-SEC-001", "Pulumi.prod.yaml", 4, 26), at("PSH-SEC-001", "Pulumi.prod.yaml", 5, 28)]
    );

    for args in [
        &["check", "--format", "human", "--color", "never", "."][..],
        &["check", "--format", "human", "--color", "always", "."][..],
        &["check", "--color", "never", "Pulumi.prod.yaml"][..],
    ] {
        let run = p.run(args);
        run.assert_code(1)
            .assert_stdout_contains("Pulumi.prod.yaml:4:26")
            .assert_stdout_contains("Pulumi.prod.yaml:5:28");
        assert_no_secret(&run);
    }
    // Narrow and wide terminals wrap differently; the values stay hidden.
    for columns in ["40", "300"] {
        let run = p.run_with(&["check", "--color", "never", "."], None, &[("COLUMNS", columns)]);
        run.assert_code(1);
        assert_no_secret(&run);
    }
    // Written to a file: same rule.
    let run = p.run(&["check", "--format", "human", "--color", "never", "--output", "report.txt", "Pulumi.prod.yaml"]);
    run.assert_code(1);
    assert_no_secret(&run);
    let written = std::fs::read_to_string(p.path("report.txt")).unwrap();
    for secret in SECRETS {
        assert!(!written.contains(secret), "{secret} written to the report file:\n{written}");
    }
    // The non-secret neighbour is still shown as context: masking is targeted.
    let human = p.run(&["check", "--color", "never", "."]);
    human.assert_stdout_contains("selfhosted:smtpUsername: pulumi");
}

#[test]
fn plaintext_secrets_on_stdin_are_never_printed() {
    let p = Project::new();
    for format in ["human", "json"] {
        let run = p.run_stdin(
            &["check", "--format", format, "--color", "never", "-", "--stdin-filename", "Pulumi.prod.yaml"],
            STACK,
        );
        run.assert_code(1);
        assert_no_secret(&run);
    }
}

#[test]
fn secrets_are_not_printed_in_the_snippet_of_a_malformed_stack_file() {
    let p = Project::new();
    p.file(
        "Pulumi.prod.yaml",
        "config:\n  selfhosted:licenseKey: eyJsecret-value-123\n  selfhosted:smtpPassword: hunter2\n  selfhosted:smtpPassword: hunter2\n",
    );
    for format in ["human", "json"] {
        let run = p.run(&["check", "--format", format, "--color", "never", "."]);
        run.assert_code(2);
        assert_no_secret(&run);
    }
}

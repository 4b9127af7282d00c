//! `celador test`: the fixtures rules ship with.

use crate::support::Project;

/// `N passed, M failed` from the last line.
fn counts(stdout: &str) -> (usize, usize) {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).expect("a summary line");
    let words: Vec<&str> = last.split_whitespace().collect();
    match words[..] {
        [passed, "passed,", failed, "failed"] => (passed.parse().unwrap(), failed.parse().unwrap()),
        _ => panic!("unexpected summary line {last:?} in\n{stdout}"),
    }
}

#[test]
fn built_in_fixtures_pass() {
    let p = Project::new();
    let run = p.run(&["test"]);
    run.assert_code(0);
    let (passed, failed) = counts(&run.stdout);
    assert_eq!(failed, 0, "{}", run.stdout);
    let ok_lines = run.stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(passed, ok_lines, "{}", run.stdout);
    assert!(passed >= 7, "the built-in pack ships at least 7 fixtures:\n{}", run.stdout);
    assert!(run.stdout.contains(&format!("\n{passed} passed, 0 failed\n")), "{}", run.stdout);
    for rule in ["PSH-TLS-008", "PSH-SEC-001"] {
        assert!(run.stdout.lines().any(|l| l.starts_with("ok ") && l.contains(rule)), "{rule}:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("FAIL"), "{}", run.stdout);
}

const PACK: &str = "[pack]\nid = \"mine\"\nversion = \"0.1.0\"\ntitle = \"Mine\"\n";

const RULE: &str = "\
[[rule]]
id = \"NAME-001\"
title = \"Objects must not be called bad\"
severity = \"medium\"
kinds = [\"kubernetes\"]
assert = \"doc.metadata.name != 'bad'\"
locate = 'doc.metadata.name'
message = '{{ doc.kind }} is called `bad`'

[[rule.tests]]
file = \"NAME-001/fail/cm.yaml\"
expect = [\"EXPECT\"]

[[rule.tests]]
file = \"NAME-001/pass/cm.yaml\"
";

fn pack_project(expect: &str) -> Project {
    let p = Project::new();
    p.file("mypack/pack.toml", PACK);
    p.file("mypack/k8s/NAME-001.toml", RULE.replace("EXPECT", expect));
    p.file("mypack/k8s/NAME-001/fail/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n");
    p.file("mypack/k8s/NAME-001/pass/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n");
    p
}

#[test]
fn a_correct_pack_passes() {
    let p = pack_project("4:9");
    let run = p.run(&["test", "mypack"]);
    run.assert_code(0);
    assert_eq!(counts(&run.stdout), (2, 0), "{}", run.stdout);
    run.assert_stdout_contains("ok   NAME-001 k8s/NAME-001/fail/cm.yaml (1 finding)");
    // Only the given pack is tested, not the built-in one.
    assert!(!run.stdout.contains("PSH-"), "{}", run.stdout);
}

#[test]
fn a_wrong_expectation_fails_with_the_located_difference() {
    let p = pack_project("3:9");
    let run = p.run(&["test", "mypack"]);
    run.assert_code(1);
    assert_eq!(counts(&run.stdout), (1, 1), "{}", run.stdout);
    run.assert_stdout_contains("FAIL NAME-001 k8s/NAME-001/fail/cm.yaml")
        .assert_stdout_contains("expected a finding at 3:9, none was reported")
        .assert_stdout_contains(
            "unexpected finding at mypack/k8s/NAME-001/fail/cm.yaml:4:9: ConfigMap is called `bad`",
        );
}

#[test]
fn a_missing_fixture_fails() {
    let p = pack_project("4:9");
    std::fs::remove_file(p.path("mypack/k8s/NAME-001/pass/cm.yaml")).unwrap();
    let run = p.run(&["test", "mypack"]);
    run.assert_code(1);
    run.assert_stdout_contains("FAIL NAME-001 k8s/NAME-001/pass/cm.yaml");
}

#[test]
fn an_invalid_pack_exits_2_with_its_location() {
    let p = pack_project("4:9");
    p.file("mypack/k8s/NAME-001.toml", RULE.replace("EXPECT", "4:9").replace("medium", "urgent"));
    let run = p.run(&["test", "mypack"]);
    run.assert_code(2)
        .assert_stdout_contains("mypack/k8s/NAME-001.toml:4:12")
        .assert_stdout_contains("unknown severity `urgent`");
}

#[test]
fn a_single_file_pack_runs_the_fixtures_beside_it() {
    let p = Project::new();
    p.file(
        "policy/pack.toml",
        "[pack]\nid = \"mine\"\nversion = \"1\"\ntitle = \"t\"\n\n[[rule]]\nid = \"MY-1\"\ntitle = \"no latest\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nassert = '''!doc.spec.image.endsWith(\":latest\")'''\nlocate = 'doc.spec.image'\nmessage = \"latest\"\n\n[[rule.tests]]\nfile = \"fixtures/bad.yaml\"\nexpect = [\"4:10\"]\n\n[[rule.tests]]\nfile = \"fixtures/good\"\nexpect = []\n\n[[rule.tests]]\nfile = \"../outside.yaml\"\nexpect = []\n",
    );
    p.file("policy/fixtures/bad.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  image: x:latest\n");
    p.file("policy/fixtures/good/pod.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  image: x:1.2\n");
    p.file("outside.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  image: x:latest\n");
    let run = p.run(&["test", "policy/pack.toml"]);
    run.assert_code(1);
    assert!(run.stdout.contains("ok   MY-1 fixtures/bad.yaml (1 finding)"), "{}", run.stdout);
    assert!(run.stdout.contains("ok   MY-1 fixtures/good (0 findings)"), "{}", run.stdout);
    // Nothing outside the pack's directory is read.
    assert!(run.stdout.contains("FAIL MY-1 ../outside.yaml"), "{}", run.stdout);
    assert_eq!(counts(&run.stdout), (2, 1));
}

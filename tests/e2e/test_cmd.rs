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

/// NAME-001's snapshot: the message and location of each fixture's findings.
const SNAPSHOT: &str = "\
# NAME-001: the findings of each fixture, checked by `celador test`.
# Accept changes with `celador test --update PACK`, then review the diff.

## NAME-001/fail/cm.yaml
cm.yaml:4:9: ConfigMap is called `bad`

## NAME-001/pass/cm.yaml
(no findings)
";

fn pack_project(expect: &str) -> Project {
    let p = Project::new();
    p.file("mypack/pack.toml", PACK);
    p.file("mypack/k8s/NAME-001.toml", RULE.replace("EXPECT", expect));
    p.file("mypack/k8s/NAME-001.snap", SNAPSHOT);
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
    p.file(
        "policy/MY-1.snap",
        "## fixtures/bad.yaml\nbad.yaml:4:10: latest\n\n## fixtures/good\n(no findings)\n\n## ../outside.yaml\n(no findings)\n",
    );
    let run = p.run(&["test", "policy/pack.toml"]);
    run.assert_code(1);
    assert!(run.stdout.contains("ok   MY-1 fixtures/bad.yaml (1 finding)"), "{}", run.stdout);
    assert!(run.stdout.contains("ok   MY-1 fixtures/good (0 findings)"), "{}", run.stdout);
    // Nothing outside the pack's directory is read.
    assert!(run.stdout.contains("FAIL MY-1 ../outside.yaml"), "{}", run.stdout);
    assert_eq!(counts(&run.stdout), (2, 1));
}

/// `N passed, M failed, K stale snapshots` from the last line.
fn summary(stdout: &str) -> &str {
    stdout.lines().rev().find(|l| !l.trim().is_empty()).expect("a summary line")
}

#[test]
fn a_changed_message_fails_with_a_diff_until_updated() {
    let p = pack_project("4:9");
    p.file(
        "mypack/k8s/NAME-001.toml",
        RULE.replace("EXPECT", "4:9")
            .replace("{{ doc.kind }} is called `bad`", "{{ doc.kind }} `bad` needs a better name"),
    );
    let run = p.run(&["test", "mypack"]);
    run.assert_code(1);
    assert_eq!(summary(&run.stdout), "1 passed, 1 failed", "{}", run.stdout);
    run.assert_stdout_contains("FAIL NAME-001 k8s/NAME-001/fail/cm.yaml\n")
        .assert_stdout_contains(
            "     findings differ from `NAME-001/fail/cm.yaml` in k8s/NAME-001.snap (-snapshot +now; accept with `celador test --update PACK`):\n     -cm.yaml:4:9: ConfigMap is called `bad`\n     +cm.yaml:4:9: ConfigMap `bad` needs a better name\n",
        );

    let update = p.run(&["test", "--update", "mypack"]);
    update.assert_code(0).assert_stdout_contains("updated k8s/NAME-001.snap\n");
    assert_eq!(summary(&update.stdout), "2 passed, 0 failed");
    let written = std::fs::read_to_string(p.path("mypack/k8s/NAME-001.snap")).unwrap();
    assert_eq!(written, SNAPSHOT.replace("ConfigMap is called `bad`", "ConfigMap `bad` needs a better name"));
    let again = p.run(&["test", "mypack"]);
    again.assert_code(0);
    assert_eq!(summary(&again.stdout), "2 passed, 0 failed", "{}", again.stdout);
    // Nothing changed: nothing is written.
    assert!(!p.run(&["test", "--update", "mypack"]).stdout.contains("updated"));
}

#[test]
fn a_missing_snapshot_fails_and_says_to_update() {
    let p = pack_project("4:9");
    std::fs::remove_file(p.path("mypack/k8s/NAME-001.snap")).unwrap();
    let run = p.run(&["test", "mypack"]);
    run.assert_code(1);
    assert_eq!(summary(&run.stdout), "0 passed, 2 failed", "{}", run.stdout);
    run.assert_stdout_contains(
        "FAIL NAME-001 k8s/NAME-001/fail/cm.yaml\n     no snapshot of `NAME-001/fail/cm.yaml` in k8s/NAME-001.snap: run `celador test --update PACK` and review it\n",
    );
    p.run(&["test", "--update", "mypack"]).assert_code(0);
    assert_eq!(std::fs::read_to_string(p.path("mypack/k8s/NAME-001.snap")).unwrap(), SNAPSHOT);
}

#[test]
fn stale_snapshots_are_reported_and_deleted_by_update() {
    let p = pack_project("4:9");
    p.file("mypack/k8s/OLD-001.snap", "## OLD-001/fail/cm.yaml\n(no findings)\n");
    p.file("mypack/k8s/NAME-001.snap", format!("{SNAPSHOT}\n## NAME-001/fail/removed.yaml\n(no findings)\n"));
    let run = p.run(&["test", "mypack"]);
    run.assert_code(1)
        .assert_stdout_contains(
            "STALE k8s/NAME-001.snap: section `NAME-001/fail/removed.yaml` names no fixture of the rule",
        )
        .assert_stdout_contains(
            "STALE k8s/OLD-001.snap: no rule with fixtures reads it (`celador test --update` deletes it)",
        );
    assert_eq!(summary(&run.stdout), "2 passed, 0 failed, 2 stale snapshots", "{}", run.stdout);
    p.run(&["test", "--update", "mypack"]).assert_code(0);
    assert!(!p.path("mypack/k8s/OLD-001.snap").exists());
    assert_eq!(std::fs::read_to_string(p.path("mypack/k8s/NAME-001.snap")).unwrap(), SNAPSHOT);
}

#[test]
fn the_embedded_pack_cannot_be_updated() {
    let p = Project::new();
    let run = p.run(&["test", "--update"]);
    run.assert_code(2);
    assert!(run.all_output().contains("update the snapshots of its source"), "{}", run.all_output());
}

/// A file tested twice (say, with other parameters) has a section for each test.
#[test]
fn a_fixture_tested_twice_has_two_sections() {
    let p = pack_project("4:9");
    let twice = format!(
        "{}\n[[rule.tests]]\nfile = \"NAME-001/fail/cm.yaml\"\nexpect = [\"4:9\"]\n",
        RULE.replace("EXPECT", "4:9")
    );
    p.file("mypack/k8s/NAME-001.toml", twice);
    let run = p.run(&["test", "mypack"]);
    run.assert_code(1).assert_stdout_contains("no snapshot of `NAME-001/fail/cm.yaml #2` in k8s/NAME-001.snap");
    p.run(&["test", "--update", "mypack"]).assert_code(0);
    let written = std::fs::read_to_string(p.path("mypack/k8s/NAME-001.snap")).unwrap();
    assert_eq!(written, format!("{SNAPSHOT}\n## NAME-001/fail/cm.yaml #2\ncm.yaml:4:9: ConfigMap is called `bad`\n"));
    p.run(&["test", "mypack"]).assert_code(0);
}

/// A rule id never puts a snapshot outside the pack.
#[test]
fn snapshots_are_never_written_outside_the_pack() {
    let p = Project::new();
    p.file(
        "deep/policy/pack.toml",
        "[pack]\nid = \"x\"\nversion = \"0\"\ntitle = \"t\"\n[[rule]]\nid = \"../../escape\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nassert = 'true'\nmessage = 'm'\n[[rule.tests]]\nfile = \"f.yaml\"\n",
    );
    p.file("deep/policy/f.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
    let run = p.run(&["test", "--update", "deep/policy/pack.toml"]);
    run.assert_code(2);
    assert!(
        run.all_output().contains("the snapshot `../../escape.snap` would be outside the pack"),
        "{}",
        run.all_output()
    );
    assert!(!p.path("escape.snap").exists() && !p.path("deep/escape.snap").exists());
}

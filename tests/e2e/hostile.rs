//! Hostile input cannot hurt the user (issue #12): whatever a file, a reference or a rule
//! holds, a run ends quickly, in bounded memory, with located errors (exit 2), and never
//! reads or shows a file outside the repository.
//!
//! Every run is bounded in time by the support module (60 s) and checked for panics and
//! deaths by signal; runs that used to exhaust memory or the stack also get a limited address
//! space ([`Project::run_limited`]), so a regression fails instead of swapping.

use crate::support::{Project, Run};
use serde_json::Value;

/// Address space for a run: far above what any of these inputs needs once bounded, far below
/// what they took before (an alias bomb took more than 16 GiB).
const MEMORY_MIB: u64 = 1024;

/// The errors of a JSON report, asserting the run ended with exit 2.
#[track_caller]
fn errors_of(run: &Run) -> Vec<Value> {
    run.assert_code(2);
    run.report()["errors"].as_array().expect("errors").clone()
}

/// `(line, column, message)` of an error.
fn at(error: &Value) -> (u64, u64, String) {
    (
        error["line"].as_u64().unwrap_or(0),
        error["column"].as_u64().unwrap_or(0),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

// ------------------------------------------------------------------------------------------
// Bounded parsing
// ------------------------------------------------------------------------------------------

/// The "billion laughs": `a7` would be 10⁸ nodes, more than 16 GiB when aliases were copied.
fn alias_bomb() -> String {
    let mut lines = vec![format!("a0: &a0 [{}]", ["lol"; 10].join(","))];
    for i in 1..8 {
        lines.push(format!("a{i}: &a{i} [{}]", vec![format!("*a{}", i - 1); 10].join(",")));
    }
    lines.push("data: *a7".to_owned());
    lines.join("\n") + "\n"
}

#[test]
fn an_alias_bomb_is_an_error_at_the_alias_that_exceeds_the_budget() {
    let p = Project::new();
    p.file("bomb.yaml", alias_bomb());
    let run =
        p.run_limited(MEMORY_MIB, &["check", "--no-builtin", "--kind", "kubernetes", "--format", "json", "bomb.yaml"]);
    let errors = errors_of(&run);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let (line, column, message) = at(&errors[0]);
    assert_eq!((line, column), (6, 38), "{message}");
    assert!(message.contains("alias `*a4`") && message.contains("1000000"), "{message}");

    let human =
        p.run_limited(MEMORY_MIB, &["check", "--no-builtin", "--kind", "kubernetes", "--color", "never", "bomb.yaml"]);
    human.assert_code(2).assert_stdout_contains("bomb.yaml:6:38");
}

#[test]
fn aliases_within_the_budget_are_shared_not_copied() {
    // 10 + 110 + 1,110 + 11,110 + 111,110 nodes through aliases, each level ten times the
    // one below: copied, the last level alone would be 111,111 nodes per alias.
    let p = Project::new();
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
    text.push_str(&format!("a0: &a0 [{}]\n", ["lol"; 10].join(",")));
    for i in 1..5 {
        text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(",")));
    }
    p.file("ok.yaml", text);
    let run = p.run_limited(MEMORY_MIB, &["check", "--format", "json", "ok.yaml"]);
    assert_eq!(run.report()["errors"], serde_json::json!([]), "{}", run.stdout);
}

#[test]
fn nesting_past_the_limit_is_a_located_error_in_every_syntax() {
    let p = Project::new();
    p.file("deep.yaml", format!("apiVersion: v1\nkind: ConfigMap\ndata:\n{}x\n", "- ".repeat(150_000)));
    p.file("flow.yaml", format!("apiVersion: v1\nkind: ConfigMap\ndata: {}\n", "[".repeat(150_000)));
    p.file(
        "deep.json",
        format!(
            "{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"data\": {}1{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    );
    p.file("deep.toml", format!("a = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000)));
    for (file, line) in [("deep.yaml", 4), ("flow.yaml", 3), ("deep.json", 1), ("deep.toml", 1)] {
        let run = p.run_limited(MEMORY_MIB, &["check", "--kind", "helm-values", "--format", "json", file]);
        let errors = errors_of(&run);
        assert_eq!(errors.len(), 1, "{file}: {errors:#?}");
        let (found, _, message) = at(&errors[0]);
        assert_eq!(found, line, "{file}: {message}");
        assert!(message.contains("nested") && message.contains("deep"), "{file}: {message}");
    }
    // The reproducer of the issue, as a human runs it.
    let run = p.run_limited(MEMORY_MIB, &["check", "--color", "never", "deep.yaml"]);
    run.assert_code(2).assert_stdout_contains("deep.yaml:4:509");
    assert!(run.stdout.len() < 4_000, "{}", run.stdout);
}

#[test]
fn aliases_cannot_build_a_deeper_tree_than_the_text() {
    let p = Project::new();
    let deep = |inner: &str| format!("{}{inner}{}", "[".repeat(200), "]".repeat(200));
    p.file("a.yaml", format!("apiVersion: v1\nkind: ConfigMap\na: &a {}\nb: {}\n", deep("x"), deep("*a")));
    let run = p.run_limited(MEMORY_MIB, &["check", "--format", "json", "a.yaml"]);
    let errors = errors_of(&run);
    let (line, _, message) = at(&errors[0]);
    assert_eq!(line, 4, "{message}");
    assert!(message.contains("alias `*a` nests its value more than 255 levels"), "{message}");
}

#[test]
fn files_over_the_size_limit_are_errors_and_are_not_read() {
    let p = Project::new();
    p.file("small.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n");
    let run = p.run(&["check", "--max-file-size", "16", "--format", "json", "small.yaml"]);
    let errors = errors_of(&run);
    assert!(at(&errors[0]).2.contains("larger than the limit of 16 bytes"), "{errors:#?}");

    // 65 MiB of nothing: over the default limit, refused from its size alone.
    let big = std::fs::File::create(p.path("big.json")).unwrap();
    big.set_len(65 << 20).unwrap();
    drop(big);
    let run = p.run_limited(MEMORY_MIB, &["check", "--format", "json", "."]);
    let errors = errors_of(&run);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["file"], "big.json");
    assert!(at(&errors[0]).2.contains("65 MiB is larger than the limit of 64 MiB"), "{errors:#?}");

    // The same limit for baselines.
    let run = p.run(&["baseline", "create", "-o", "b.json", "--max-file-size", "16", "small.yaml"]);
    run.assert_code(2).assert_stderr_contains("larger than the limit");
}

#[test]
fn stdin_is_read_up_to_the_size_limit() {
    let p = Project::new();
    let manifest = "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n".repeat(100);
    let run = p.run_stdin(&["check", "--max-file-size", "1KiB", "--format", "json", "-"], &manifest);
    let errors = errors_of(&run);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["file"], "<stdin>");
    assert!(at(&errors[0]).2.contains("larger than the limit of 1 KiB"), "{errors:#?}");
}

#[test]
fn fifos_and_devices_are_never_opened() {
    let p = Project::new();
    p.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n");
    let made = std::process::Command::new("mkfifo").arg(p.path("pipe.yaml")).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    // Walking passes over it (opening it would block until the test's timeout).
    let run = p.run(&["check", "--format", "json", "."]);
    run.assert_code(0);
    // Named, it is an error.
    let run = p.run(&["check", "--format", "json", "pipe.yaml"]);
    assert!(at(&errors_of(&run)[0]).2.contains("not a regular file"), "{}", run.stdout);
    // So is a device, which would never end.
    let run = p.run_limited(MEMORY_MIB, &["check", "--kind", "env", "--format", "json", "/dev/zero"]);
    assert!(at(&errors_of(&run)[0]).2.contains("not a regular file"), "{}", run.stdout);
}

// ------------------------------------------------------------------------------------------
// Never outside the tree
// ------------------------------------------------------------------------------------------

/// A file outside the project whose content must never appear anywhere.
struct Canary {
    dir: tempfile::TempDir,
}

const CANARY: &str = "CANARY_SECRET=celador-must-never-print-this-4b1d";

impl Canary {
    fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("celador-canary-").tempdir().unwrap();
        std::fs::write(dir.path().join("secret.env"), format!("{CANARY}\n")).unwrap();
        std::fs::write(dir.path().join("celador.toml"), "[rules]\ndisable = [\"PSH-APP-001\"]\n").unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Asserts that nothing of the canary's content was printed.
    #[track_caller]
    fn assert_unseen(&self, run: &Run) {
        assert!(!run.all_output().contains("celador-must-never-print-this"), "{}", run.all_output());
    }

    /// Asserts that not even where it is was printed: what a link leads to is not shown.
    #[track_caller]
    fn assert_unnamed(&self, run: &Run) {
        self.assert_unseen(run);
        assert!(!run.all_output().contains(&*self.dir.path().to_string_lossy()), "{}", run.all_output());
    }
}

#[cfg(unix)]
fn symlink(target: &std::path::Path, link: &std::path::Path) {
    std::os::unix::fs::symlink(target, link).expect("create a symbolic link");
}

#[cfg(unix)]
#[test]
fn env_files_outside_the_repository_are_located_errors_and_never_read() {
    let canary = Canary::new();
    let p = Project::new();
    p.dir("repo/.git");
    // As many `..` as it takes to reach `/`, then down to the canary.
    let depth = p.path("repo/deploy").components().count();
    let climb =
        format!("{}{}", "../".repeat(depth), canary.path("secret.env").to_string_lossy().trim_start_matches('/'));
    let absolute = canary.path("secret.env").to_string_lossy().into_owned();
    let compose = format!(
        "services:\n  api:\n    image: pulumi/service:1\n    env_file: {climb}\n  console:\n    image: pulumi/console:1\n    env_file: [{absolute}, linked.env, /etc/passwd]\n"
    );
    p.file("repo/deploy/docker-compose.yml", &compose);
    symlink(&canary.path("secret.env"), &p.path("repo/deploy/linked.env"));

    for args in [
        vec!["check", "--format", "json", "deploy"],
        vec!["check", "--format", "json", "deploy/docker-compose.yml"],
        vec!["check", "--format", "json", "."],
    ] {
        let run = p.run_in("repo", &args);
        canary.assert_unseen(&run);
        assert!(!run.all_output().contains("root:"), "{}", run.all_output());
        let errors = errors_of(&run);
        let located: Vec<(u64, u64)> =
            errors.iter().filter(|e| e["line"].is_u64()).map(|e| (at(e).0, at(e).1)).collect();
        // Where each value starts: after `env_file: `, `[` or `, `.
        let value = |needle: &str| {
            let start = [": ", "[", ", "]
                .iter()
                .find_map(|before| compose.find(&format!("{before}{needle}")).map(|i| i + before.len()));
            crate::support::line_col_at(&compose, start.expect("the reference is in the compose file"))
        };
        for reference in [climb.as_str(), absolute.as_str(), "linked.env", "/etc/passwd"] {
            assert!(located.contains(&value(reference)), "{reference} in {errors:#?}");
            let error = errors.iter().find(|e| (at(e).0, at(e).1) == value(reference)).unwrap();
            assert!(at(error).2.contains(&format!("env_file `{reference}`")), "{error:#}");
            assert!(at(error).2.contains("outside"), "{error:#}");
        }
        let human = p.run_in("repo", &[&args[..1], &["--color", "never"], &args[3..]].concat());
        canary.assert_unseen(&human);
    }
}

#[cfg(unix)]
#[test]
fn symbolic_links_out_of_the_repository_are_not_followed() {
    let canary = Canary::new();
    let p = Project::new();
    p.dir("repo/.git");
    p.file("repo/cm.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n");
    symlink(&canary.path("secret.env"), &p.path("repo/x.env"));
    symlink(canary.dir.path(), &p.path("repo/outside"));
    // Walked, named (as pre-commit names staged files), or a linked directory named.
    for args in [
        &["check", "--format", "json", "."][..],
        &["check", "--format", "json", "x.env"],
        &["check", "--format", "json", "outside"],
    ] {
        let run = p.run_in("repo", args);
        canary.assert_unnamed(&run);
        let errors = errors_of(&run);
        assert_eq!(errors.len(), 1, "{args:?}: {errors:#?}");
        assert!(at(&errors[0]).2.contains("resolves outside"), "{errors:#?}");
    }
    // A link inside the repository is followed.
    symlink(&p.path("repo/cm.yaml"), &p.path("repo/inside.yaml"));
    std::fs::remove_file(p.path("repo/x.env")).unwrap();
    let run = p.run_in("repo", &["check", "--format", "json", "inside.yaml"]);
    run.assert_code(0);
}

#[cfg(unix)]
#[test]
fn configuration_above_the_repository_is_not_obeyed() {
    let p = Project::new();
    // Above the repository, a celador.toml that would disable every rule.
    p.file("celador.toml", "[[ignore]]\nrule = \"*\"\nreason = \"planted\"\n");
    p.dir("repo/.git");
    p.file("repo/Pulumi.prod.yaml", "config:\n  pulumi-service:smtpPassword: hunter2\n");
    let run = p.run_in("repo", &["check", "--format", "json", "."]);
    assert!(run.report()["summary"]["findings"].as_u64() > Some(0), "{}", run.stdout);
    assert_eq!(run.report()["summary"]["suppressed"], 0, "{}", run.stdout);
    // Without a repository in between, it is the configuration of the directory below it.
    std::fs::remove_dir(p.path("repo/.git")).unwrap();
    let run = p.run_in("repo", &["check", "--format", "json", "."]);
    assert_eq!(run.report()["summary"]["findings"], 0, "{}", run.stdout);

    // A celador.toml that is a link out of the repository is an error, not read.
    let canary = Canary::new();
    p.dir("repo/.git");
    symlink(&canary.path("celador.toml"), &p.path("repo/celador.toml"));
    let run = p.run_in("repo", &["check", "--format", "json", "."]);
    canary.assert_unnamed(&run);
    let errors = errors_of(&run);
    assert_eq!(errors[0]["file"], "celador.toml", "{errors:#?}");
    assert!(at(&errors[0]).2.contains("resolves outside"), "{errors:#?}");
}

// ------------------------------------------------------------------------------------------
// Bounded output, no crash in rendering
// ------------------------------------------------------------------------------------------

/// miette panicked with "Formatting argument out of range" past column 65,535.
#[test]
fn a_column_past_65535_renders() {
    let p = Project::new();
    p.file("wide.yaml", format!("apiVersion: v1\nkind: ConfigMap\ndata: {{k: {} ]\n", "a".repeat(70_000)));
    let run = p.run_limited(MEMORY_MIB, &["check", "--color", "never", "wide.yaml"]);
    run.assert_code(2).assert_stdout_contains("wide.yaml:3:70012").assert_stdout_contains("…aaa");
    assert!(run.stdout.len() < 2_000, "{}", run.stdout.len());
    let run = p.run(&["check", "--format", "json", "wide.yaml"]);
    assert_eq!(at(&errors_of(&run)[0]).1, 70_012);
}

/// A pack of `n` rules that each flag `doc.HUGE` of an env file, quoting what they saw.
fn flagging_pack(n: usize) -> String {
    let mut pack = String::from("[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n");
    for i in 0..n {
        pack.push_str(&format!(
            "[[rule]]\nid = \"T-{i}\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"env\"]\nassert = 'false'\nlocate = 'doc.HUGE'\nmessage = 'value starts with {{{{ doc.HUGE.substring(0, 10) }}}}'\n"
        ));
    }
    pack
}

#[test]
fn output_grows_with_findings_not_with_the_values_they_point_at() {
    let p = Project::new();
    p.file("p.toml", flagging_pack(5));
    p.file("big.env", format!("A=1\nHUGE={}\nB=2\n", "v".repeat(50 << 20)));
    let started = std::time::Instant::now();
    let run =
        p.run_limited(2 * MEMORY_MIB, &["check", "--no-builtin", "--pack", "p.toml", "--color", "never", "big.env"]);
    run.assert_code(1).assert_stdout_contains("big.env:2:6").assert_stdout_contains("5 findings");
    assert!(run.stdout.len() < 5 * 2_000, "{} bytes of output", run.stdout.len());
    assert!(started.elapsed() < std::time::Duration::from_secs(50), "{:?}", started.elapsed());
}

#[test]
fn control_characters_from_documents_are_shown_not_obeyed() {
    let p = Project::new();
    p.file("p.toml", flagging_pack(1));
    p.file(
        "ctl.env",
        "HUGE=\"\\u{1b}]0;owned\\u{7}\\u{1b}[2J\"\n".replace("\\u{1b}", "\u{1b}").replace("\\u{7}", "\u{7}"),
    );
    for format in ["human", "github"] {
        let run =
            p.run(&["check", "--no-builtin", "--pack", "p.toml", "--color", "never", "--format", format, "ctl.env"]);
        run.assert_code(1);
        assert!(!run.all_output().contains(['\u{1b}', '\u{7}']), "{format}: {:?}", run.all_output());
        assert!(run.stdout.contains("␛]0;owned␇"), "{format}: {}", run.stdout);
    }
}

// ------------------------------------------------------------------------------------------
// Rules nested too deep
// ------------------------------------------------------------------------------------------

/// `1 + 1 + … + 1` with 5,000 terms overflowed the stack in the CEL parser.
#[test]
fn a_rule_nested_too_deep_is_a_located_pack_error() {
    let p = Project::new();
    let terms = vec!["1"; 5000].join(" + ");
    p.file(
        "p.toml",
        format!("[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n[[rule]]\nid = \"T-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nassert = '{terms} == 0'\nmessage = 'x'\n"),
    );
    p.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n");
    let run = p.run_limited(MEMORY_MIB, &["check", "--no-builtin", "--pack", "p.toml", "--format", "json", "cm.yaml"]);
    let errors = errors_of(&run);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["file"], "p.toml");
    let (line, column, message) = at(&errors[0]);
    assert_eq!(line, 10);
    assert!(column > 10 && message.contains("nested too deep"), "{column}: {message}");
    // The same in `rules`, `explain` and `test`, which load packs too.
    for command in [&["rules"][..], &["explain", "T-1"], &["test"]] {
        let mut args = command.to_vec();
        if command[0] == "test" {
            args.push("p.toml");
        } else {
            args.extend(["--no-builtin", "--pack", "p.toml"]);
        }
        p.run_limited(MEMORY_MIB, &args).assert_code(2);
    }
}

// ------------------------------------------------------------------------------------------
// Bounded evaluation
// ------------------------------------------------------------------------------------------

/// A pack of one rule per `(id, assert)` over Kubernetes objects; `variables.r` is a list of
/// 100,000 numbers, built once.
fn costly_pack(rules: &[(&str, &str)]) -> String {
    let mut pack = String::from("[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n");
    for (id, assert) in rules {
        pack.push_str(&format!(
            "[[rule]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nassert = '''{assert}'''\nmessage = 'm'\n[[rule.variables]]\nname = \"r\"\nexpression = 'lists.range(100000)'\n"
        ));
    }
    pack
}

/// Rules that used to hang the run (a nested comprehension), abort it out of memory
/// (`lists.range(1e6).map(i, lists.range(1e6))`) or build a string of gigabytes stop at their
/// budget: one located error each, naming the rule, exit 2; the other rules still report.
#[test]
fn rules_past_their_evaluation_budget_are_located_errors_and_the_others_still_run() {
    let p = Project::new();
    p.file(
        "p.toml",
        costly_pack(&[
            ("T-NESTED", "lists.range(100000).all(i, lists.range(100000).all(j, true))"),
            ("T-PAIRS", "variables.r.all(i, variables.r.all(j, true))"),
            ("T-ALLOC", "size(lists.range(1000000).map(i, lists.range(1000000))) > 0"),
            ("T-JOIN", "size(variables.r.map(i, variables.r.map(j, string(j)).join(','))) > 0"),
            ("T-FINE", "false"),
        ]),
    );
    p.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n");
    let run = p.run_limited(MEMORY_MIB, &["check", "--no-builtin", "--pack", "p.toml", "--format", "json", "cm.yaml"]);
    let mut errors: Vec<(u64, u64, String)> = errors_of(&run).iter().map(at).collect();
    errors.sort_by(|a, b| a.2.cmp(&b.2));
    let rules: Vec<&str> = errors.iter().map(|(_, _, m)| m.split(' ').nth(1).unwrap_or_default()).collect();
    assert_eq!(rules, ["T-ALLOC", "T-JOIN", "T-NESTED", "T-PAIRS"], "{errors:#?}");
    for (line, column, message) in &errors {
        assert_eq!((*line, *column), (1, 1), "{message}");
        assert!(message.contains(" stopped in its `assert` expression while checking this: it "), "{message}");
    }
    // 20,000,000 steps, and 64 per byte of the ConfigMap's text.
    assert!(errors[3].2.contains("more than 2000"), "{}", errors[3].2);
    assert!(errors[3].2.contains(" evaluation steps, the limit for one rule on this input"), "{}", errors[3].2);
    assert!(errors[0].2.contains("built more than 64 MiB"), "{}", errors[0].2);
    let findings = run.report()["findings"].as_array().unwrap().clone();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["rule"], "T-FINE");

    let human =
        p.run_limited(MEMORY_MIB, &["check", "--no-builtin", "--pack", "p.toml", "--color", "never", "cm.yaml"]);
    human.assert_code(2).assert_stdout_contains("cm.yaml:1:1").assert_stdout_contains("rule T-PAIRS stopped");
}

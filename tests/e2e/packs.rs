//! Rule packs given with `--pack FILE --no-builtin`: every problem located inside the pack
//! file, exit 2; rules that fail at run time are errors too (exit 2), located at the document.

use crate::support::{Project, api_deployment, at, finding_positions, line_col_of, positions_of};
use serde_json::json;

const HEADER: &str = "[pack]\nid = \"e2e\"\nversion = \"0.1.0\"\ntitle = \"End-to-end test pack\"\n\n";

/// A project with one Kubernetes document to check and the pack `pack.toml`.
fn project_with_pack(pack: &str) -> Project {
    let p = Project::new();
    p.file("pack.toml", pack);
    p.file("in/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: \"1\"\n");
    p
}

/// Runs the pack over `in/` and asserts exactly one error at `line:column` of `pack.toml`.
#[track_caller]
fn assert_pack_error(pack: &str, line: u64, column: u64, message: &str) {
    let p = project_with_pack(pack);
    let run = p.run(&["check", "--format", "json", "--no-builtin", "--pack", "pack.toml", "in"]);
    run.assert_code(2);
    let report = run.report();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report:#}");
    let e = &errors[0];
    assert_eq!(e["file"], "pack.toml", "{report:#}");
    assert_eq!((e["line"].as_u64(), e["column"].as_u64()), (Some(line), Some(column)), "position of {report:#}");
    let text = e["message"].as_str().unwrap();
    assert!(text.contains(message), "message {text:?} should contain {message:?}");
    assert_eq!(report["findings"], json!([]), "an invalid pack checks nothing: {report:#}");

    let human = p.run(&["check", "--color", "never", "--no-builtin", "--pack", "pack.toml", "in"]);
    human.assert_code(2).assert_stdout_contains(&format!("pack.toml:{line}:{column}"));
    assert!(human.stdout.contains(message), "{}", human.stdout);

    // `rules`, `explain` and `test` refuse an invalid pack too, located exactly as `check`
    // locates it, and print no check summary.
    for args in [
        &["rules", "--no-builtin", "--pack", "pack.toml"][..],
        &["explain", "E2E-1", "--no-builtin", "--pack", "pack.toml"],
        &["test", "pack.toml"],
    ] {
        let run = p.run(args);
        run.assert_code(2).assert_stdout_contains(&format!("pack.toml:{line}:{column}"));
        assert!(run.stdout.contains(message), "{args:?}: {}", run.stdout);
        assert!(!run.stdout.contains("findings in") && !run.stdout.contains("0 findings"), "{args:?}: {}", run.stdout);
    }
    // `rules --format json` reports them as JSON, shaped like `check`'s errors.
    let json = p.run(&["rules", "--format", "json", "--no-builtin", "--pack", "pack.toml"]).assert_code(2).json();
    assert_eq!(json["version"], 1);
    assert_eq!(json["errors"], report["errors"], "{json:#}");
}

#[test]
fn toml_syntax_error() {
    let pack = format!(
        "{HEADER}[[rule]]\nid = \"E2E-1\"\ntitle = \"unterminated\nseverity = \"high\"\nkinds = [\"kubernetes\"]\nassert = 'true'\nmessage = 'm'\n"
    );
    // `title = "unterminated` ends at the end of line 8: the closing quote is expected there.
    let (line, column) = line_col_of(&pack, "\"unterminated\n");
    assert_eq!(line, 8);
    let expected_column = column + "\"unterminated".len() as u64;
    assert_eq!(expected_column, 22);
    assert_pack_error(&pack, 8, 22, "invalid rule pack");
}

/// A name the environment does not declare is a pack error in `check`, `rules`, `explain` and
/// `test` alike (not a `rule-error` on every document), with a suggestion.
#[test]
fn unknown_function_is_a_located_pack_error_with_a_suggestion() {
    let pack = format!(
        "{HEADER}[[rule]]\nid = \"E2E-1\"\ntitle = \"t\"\nseverity = \"high\"\nkinds = [\"kubernetes\"]\neach = 'components'\nas = 'c'\nassert = 'imageRepo(c.image) == \"x\"'\nmessage = 'm'\n"
    );
    let (line, column) = line_col_of(&pack, "imageRepo");
    assert_eq!((line, column), (13, 11));
    assert_pack_error(&pack, line, column, "unknown function `imageRepo` (did you mean `imageRepository`?)");
}

#[test]
fn unknown_identifier_in_a_pack_variable_is_a_located_pack_error() {
    let pack = format!(
        "{HEADER}[[variables]]\nname = \"kind\"\nexpression = 'dco.kind'\n\n[[rule]]\nid = \"E2E-1\"\ntitle = \"t\"\nseverity = \"high\"\nkinds = [\"kubernetes\"]\nassert = 'variables.kind != \"Secret\"'\nmessage = 'm'\n"
    );
    let (line, column) = line_col_of(&pack, "dco");
    assert_eq!((line, column), (8, 15));
    assert_pack_error(&pack, line, column, "unknown identifier `dco` (did you mean `doc`?)");
}

#[test]
fn unknown_key_in_a_rule() {
    let pack = format!(
        "{HEADER}[[rule]]\nid = \"E2E-1\"\ntitle = \"t\"\nseverity = \"high\"\nkinds = [\"kubernetes\"]\nexrp = 'true'\nmessage = 'm'\n"
    );
    let (line, column) = line_col_of(&pack, "exrp");
    assert_eq!((line, column), (11, 1));
    assert_pack_error(&pack, line, column, "unknown field `exrp`");
}

#[test]
fn unknown_severity() {
    let pack = format!(
        "{HEADER}[[rule]]\nid = \"E2E-1\"\ntitle = \"t\"\nseverity = \"severe\"\nkinds = [\"kubernetes\"]\nassert = 'true'\nmessage = 'm'\n"
    );
    let (line, column) = line_col_of(&pack, "\"severe\"");
    assert_eq!((line, column), (9, 12));
    assert_pack_error(&pack, line, column, "unknown severity `severe`");
}

#[test]
fn unknown_kind() {
    let pack = format!(
        "{HEADER}[[rule]]\nid = \"E2E-1\"\ntitle = \"t\"\nseverity = \"high\"\nkinds = [\"kubernetes\", \"helm-chart\"]\nassert = 'true'\nmessage = 'm'\n"
    );
    let (line, column) = line_col_of(&pack, "\"helm-chart\"");
    assert_eq!((line, column), (10, 24));
    assert_pack_error(&pack, line, column, "unknown input kind `helm-chart`");
}

#[test]
fn cel_syntax_error_on_the_second_line_of_a_multiline_literal_string() {
    let pack = format!(
        "{HEADER}[[rule]]\nid = \"E2E-1\"\ntitle = \"t\"\nseverity = \"high\"\nkinds = [\"kubernetes\"]\nassert = '''\nhas(doc.metadata) &&\n  (doc.metadata.name == 'web' ||)\n'''\nmessage = 'm'\n"
    );
    // The `)` that closes a `||` with no right operand.
    let (line, column) = line_col_of(&pack, "||)");
    let (line, column) = (line, column + 2);
    assert_eq!((line, column), (13, 33));
    assert_pack_error(&pack, line, column, "CEL syntax error");
}

#[test]
fn cel_syntax_error_in_a_single_line_literal_string() {
    let pack = format!(
        "{HEADER}[[rule]]\nid = \"E2E-1\"\ntitle = \"t\"\nseverity = \"high\"\nkinds = [\"kubernetes\"]\nassert = 'doc.kind == ]'\nmessage = 'm'\n"
    );
    let (line, column) = line_col_of(&pack, "]'");
    assert_eq!((line, column), (11, 23));
    assert_pack_error(&pack, line, column, "CEL syntax error");
}

#[test]
fn every_problem_of_a_pack_is_reported() {
    let pack = format!(
        "{HEADER}[[rule]]\nid = \"E2E-1\"\ntitle = \"t\"\nseverity = \"severe\"\nkinds = [\"kubernetes\"]\nassert = 'true'\nmessage = 'm'\n\n[[rule]]\nid = \"E2E-2\"\ntitle = \"t\"\nseverity = \"high\"\nkinds = [\"kubernetes\", \"nope\"]\nassert = 'true'\nmessage = 'm'\n"
    );
    let p = project_with_pack(&pack);
    let report =
        p.run(&["check", "--format", "json", "--no-builtin", "--pack", "pack.toml", "in"]).assert_code(2).report();
    let positions: Vec<_> =
        report["errors"].as_array().unwrap().iter().map(|e| (e["line"].as_u64(), e["column"].as_u64())).collect();
    let sev = line_col_of(&pack, "\"severe\"");
    let kind = line_col_of(&pack, "\"nope\"");
    assert_eq!(positions, [(Some(sev.0), Some(sev.1)), (Some(kind.0), Some(kind.1))], "{report:#}");
}

#[test]
fn missing_pack_file_is_an_error() {
    let p = project_with_pack(HEADER);
    let run = p.run(&["check", "--format", "json", "--no-builtin", "--pack", "nope.toml", "in"]);
    run.assert_code(2);
    let report = run.report();
    assert_eq!(report["errors"][0]["file"], "nope.toml", "{report:#}");
}

const RUNTIME_PACK_RULES: &str = "\
[[rule]]
id = \"RT-MISSING\"
title = \"reads a field the document lacks\"
severity = \"low\"
kinds = [\"kubernetes\"]
assert = 'doc.nope == 1'
message = 'never rendered'

[[rule]]
id = \"RT-DIV\"
title = \"divides by zero\"
severity = \"low\"
kinds = [\"kubernetes\"]
assert = '1 / 0 == 1'
message = 'never rendered'

[[rule]]
id = \"E2E-NAME\"
title = \"ConfigMaps must not be called web\"
severity = \"medium\"
kinds = [\"kubernetes\"]
assert = \"doc.metadata.name != 'web'\"
locate = 'doc.metadata.name'
message = '{{ doc.kind }} is called `{{ doc.metadata.name }}`'
";

#[test]
fn rules_failing_at_run_time_are_errors_and_other_rules_still_run() {
    let p = project_with_pack(&format!("{HEADER}{RUNTIME_PACK_RULES}"));
    let run = p.run(&["check", "--format", "json", "--no-builtin", "--pack", "pack.toml", "in"]);
    // A broken rule is an error of the run, whatever --fail-on says: exit 2.
    run.assert_code(2);
    let report = run.report();
    let findings = report["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["E2E-NAME"], "the other rules still run: {report:#}");

    let name = &findings[0];
    assert_eq!(
        (name["file"].as_str(), name["line"].as_u64(), name["column"].as_u64()),
        (Some("in/cm.yaml"), Some(4), Some(9))
    );
    assert_eq!((name["end_line"].as_u64(), name["end_column"].as_u64()), (Some(4), Some(12)));
    assert_eq!(name["message"], "ConfigMap is called `web`");
    assert_eq!(name["severity"], "medium");

    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{report:#}");
    let messages: Vec<&str> = errors.iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert!(messages.iter().any(|m| m.contains("RT-MISSING")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("RT-DIV")), "{messages:?}");
    for e in errors {
        assert_eq!(e["file"], "in/cm.yaml");
        // A rule error on a whole document points at its first line.
        assert_eq!((e["line"].as_u64(), e["column"].as_u64()), (Some(1), Some(1)), "{e:#}");
    }
    // --fail-on critical and --exit-zero do not hide it.
    for extra in [&["--fail-on", "critical"][..], &["--exit-zero"]] {
        let args = [&["check", "--no-builtin", "--pack", "pack.toml"][..], extra, &["in"]].concat();
        p.run(&args).assert_code(2);
    }
}

#[test]
fn a_pack_directory_with_rule_files() {
    let p = Project::new();
    p.file("mypack/pack.toml", HEADER);
    p.file(
        "mypack/k8s/E2E-NAME.toml",
        "[[rule]]\nid = \"E2E-NAME\"\ntitle = \"t\"\nseverity = \"medium\"\nkinds = [\"kubernetes\"]\nassert = \"doc.metadata.name != 'web'\"\nlocate = 'doc.metadata.name'\nmessage = 'called web'\n",
    );
    p.file("in/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n");
    p.file("in/api.yaml", api_deployment("web", None));
    // With the built-in pack too: both packs' rules run.
    let report = p.run(&["check", "--format", "json", "--pack", "mypack", "in"]).assert_code(1).report();
    assert_eq!(
        positions_of(&report, &["E2E-NAME", "PSH-TLS-008"]),
        [
            at("E2E-NAME", "in/api.yaml", 4, 9),
            at("PSH-TLS-008", "in/api.yaml", 9, 9),
            at("E2E-NAME", "in/cm.yaml", 4, 9),
        ]
    );
    // Without it, only the pack's.
    let report =
        p.run(&["check", "--format", "json", "--no-builtin", "--pack", "mypack", "in"]).assert_code(1).report();
    assert_eq!(finding_positions(&report), [at("E2E-NAME", "in/api.yaml", 4, 9), at("E2E-NAME", "in/cm.yaml", 4, 9)]);
}

/// `[[component]]` mistakes are pack errors at their place in the file.
#[test]
fn component_declaration_mistakes_are_located() {
    let rule = "[[rule]]\nid = \"E2E-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nassert = 'true'\nmessage = 'm'\n";
    let cases = [
        ("[[component]]\nrole = \"web\"\nimage = [\"nginx\"]\n", "image = ", "unknown field `image`"),
        ("[[component]]\nrole = \"web\"\nimages = [\"nginx:1.27\"]\n", "\"nginx:1.27\"", "not an image repository"),
        ("[[component]]\nrole = \"web\"\nvariables = [\"A\"]\n", "\"web\"", "needs `images` or `names`"),
        ("[[component]]\nrole = \"web app\"\nnames = [\"web\"]\n", "\"web app\"", "invalid component role"),
        (
            "[[component]]\nrole = \"web\"\nnames = [\"a\"]\n[[component]]\nrole = \"web\"\nnames = [\"b\"]\n",
            "\"web\"\nnames = [\"b\"]",
            "declared twice",
        ),
        (
            "[[component]]\nrole = \"web\"\nimages = [\"acme/web\"]\n[[component]]\nrole = \"api\"\nimages = [\"acme/web\"]\n",
            "\"acme/web\"]\n[[rule]]",
            "image `acme/web` is already component `web`'s",
        ),
        (
            "[[component]]\nrole = \"web\"\nnames = [\"a\"]\nvariables = [\"PORT\"]\n[[component]]\nrole = \"api\"\nnames = [\"b\"]\nvariables = [\"PORT\"]\n",
            "\"PORT\"]\n[[rule]]",
            "variable `PORT` is also component `web`'s",
        ),
    ];
    for (components, needle, message) in cases {
        let pack = format!("{HEADER}{components}{rule}");
        let (line, column) = line_col_of(&pack, needle);
        assert_pack_error(&pack, line, column, message);
    }
}

/// Components belong beside `[pack]`: in a rule file of a pack directory they are an error.
#[test]
fn components_outside_pack_toml_are_located_errors() {
    let p = Project::new();
    p.file("mine/pack.toml", "[pack]\nid = \"m\"\nversion = \"0\"\ntitle = \"m\"\n");
    p.file(
        "mine/r.toml",
        "[[component]]\nrole = \"web\"\nnames = [\"web\"]\n[[rule]]\nid = \"M-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nassert = 'true'\nmessage = 'm'\n",
    );
    p.file("in/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n");
    let run = p.run(&["check", "--color", "never", "--no-builtin", "--pack", "mine", "in"]);
    run.assert_code(2)
        .assert_stdout_contains("mine/r.toml:2:8")
        .assert_stdout_contains("belongs in the pack's file with `[pack]`");
}

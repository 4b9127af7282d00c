//! `celador rules` and `celador explain`.

use crate::support::Project;
use serde_json::json;

#[test]
fn rules_json_lists_the_built_in_rules_with_severity_and_kinds() {
    let p = Project::new();
    let run = p.run(&["rules", "--format", "json"]);
    run.assert_code(0);
    let rules = run.json();
    let rules = rules.as_array().expect("an array of rules");
    let find = |id: &str| {
        rules.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("{id} not listed: {rules:#?}")).clone()
    };
    let tls = find("PSH-TLS-008");
    assert_eq!(tls["severity"], "high");
    assert_eq!(tls["pack"], "pulumi-hardening");
    assert_eq!(tls["title"], "API connects to MySQL without TLS");
    assert_eq!(
        tls["kinds"],
        json!(["kubernetes", "env", "compose", "helm-values", "pulumi-state", "terraform-state", "terraform-plan"])
    );
    let sec = find("PSH-SEC-001");
    assert_eq!(sec["severity"], "high");
    assert_eq!(sec["kinds"], json!(["pulumi-stack-config"]));
    assert_eq!(sec["title"], "Sensitive stack configuration stored in plaintext");
    for r in rules {
        for field in ["id", "severity", "title", "pack", "kinds", "tags", "docs"] {
            assert!(r.get(field).is_some(), "rule {r:#} lacks {field}");
        }
    }
    // Ids are unique.
    let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate rule ids");
}

#[test]
fn rules_human_is_a_table() {
    let p = Project::new();
    let run = p.run(&["rules"]);
    run.assert_code(0);
    let line = run.stdout.lines().find(|l| l.starts_with("PSH-TLS-008")).expect("PSH-TLS-008 listed");
    assert!(line.contains("high") && line.contains("API connects to MySQL without TLS"), "{line}");
    assert!(run.stdout.lines().any(|l| l.starts_with("PSH-SEC-001")), "{}", run.stdout);
}

#[test]
fn rules_no_builtin_lists_only_the_given_packs() {
    let p = Project::new();
    let run = p.run(&["rules", "--format", "json", "--no-builtin"]);
    run.assert_code(0);
    assert_eq!(run.json(), json!([]));
}

#[test]
fn explain_prints_what_why_fix_and_the_guide_section() {
    let p = Project::new();
    let run = p.run(&["explain", "PSH-TLS-008"]);
    run.assert_code(0);
    let out = &run.stdout;
    assert!(out.starts_with("# PSH-TLS-008: API connects to MySQL without TLS\n"), "{out}");
    for needle in [
        "Severity: high",
        "Hardening guide: Encryption in transit — Hop 3: API → MySQL",
        "\n## What it checks\n",
        "\n## Why it matters\n",
        "\n## How to fix it\n",
        "DATABASE_MIN_TLS_VERSION",
        "https://www.pulumi.com/docs/administration/self-hosting/operations/security-hardening/#hop-3-api--mysql",
    ] {
        assert!(out.contains(needle), "explain output lacks {needle:?}:\n{out}");
    }
    // The sections come in order.
    let what = out.find("## What it checks").unwrap();
    let why = out.find("## Why it matters").unwrap();
    let fix = out.find("## How to fix it").unwrap();
    assert!(what < why && why < fix, "{out}");
    // Ids are matched case-insensitively.
    p.run(&["explain", "psh-tls-008"]).assert_code(0).assert_stdout_contains("# PSH-TLS-008:");
}

#[test]
fn explain_secret_rule() {
    let p = Project::new();
    let run = p.run(&["explain", "PSH-SEC-001"]);
    run.assert_code(0)
        .assert_stdout_contains("Hardening guide: Encryption — Secrets")
        .assert_stdout_contains("## How to fix it");
}

#[test]
fn explain_unknown_rule_exits_2() {
    let p = Project::new();
    let run = p.run(&["explain", "NOPE"]);
    run.assert_code(2).assert_stderr_contains("NOPE");
    assert_eq!(run.stdout, "");
}

#[test]
fn explain_a_rule_of_a_custom_pack() {
    let p = Project::new();
    p.file(
        "pack.toml",
        "[pack]\nid = \"e2e\"\nversion = \"1\"\ntitle = \"t\"\n\n[[rule]]\nid = \"E2E-1\"\ntitle = \"Custom\"\nseverity = \"low\"\nkinds = [\"env\"]\nassert = 'true'\nmessage = 'm'\n\n[rule.docs]\nguide = \"Section 9\"\nwhat = \"Checks nothing.\"\n",
    );
    let run = p.run(&["explain", "E2E-1", "--pack", "pack.toml"]);
    run.assert_code(0)
        .assert_stdout_contains("# E2E-1: Custom")
        .assert_stdout_contains("Hardening guide: Section 9")
        .assert_stdout_contains("## What it checks\n\nChecks nothing.");
    // Built-in rules are still there alongside.
    p.run(&["explain", "PSH-SEC-001", "--pack", "pack.toml"]).assert_code(0);
    p.run(&["explain", "PSH-SEC-001", "--pack", "pack.toml", "--no-builtin"]).assert_code(2);
}

/// A deployment rule comparing every pair of objects, with its docs.
const PAIRS_PACK: &str = r#"[pack]
id = "pairs"
version = "1"
title = "Pairs"

[[rule]]
id = "PAIRS-001"
title = "Two objects share a name"
severity = "low"
kinds = ["kubernetes"]
scope = "deployment"
each = "docs"
as = "d"
assert = "!docs.exists(o, o != d && o.metadata.name == d.metadata.name)"
message = "another object is named {{ d.metadata.name }}"

[rule.docs]
what = "Objects of a deployment must have distinct names."
"#;

#[test]
fn explain_shows_the_estimated_cost_of_the_costliest_expression() {
    let p = Project::new();
    p.file("pairs.toml", PAIRS_PACK);
    let run = p.run(&["explain", "--no-builtin", "--pack", "pairs.toml", "PAIRS-001"]);
    run.assert_code(0);
    insta::assert_snapshot!("explain_cost", run.stdout);
    // A built-in rule walking each component's environment once is linear.
    p.run(&["explain", "PSH-TLS-008"]).assert_code(0).assert_stdout_contains("\nCost: O(n) in the");
}

//! The built-in pack's fixtures: every rule's failing and passing files must produce exactly
//! the findings its `[[rule.tests]]` expect, at the expected line and column.

use celador_engine::fixture_snapshots::SnapshotMismatch;
use celador_engine::fixtures::run_fixtures;
use celador_engine::pack::load_pack;
use celador_engine::source::SourceMap;
use std::fmt::Write as _;

#[test]
fn builtin_pack_fixtures_produce_exactly_the_expected_findings() {
    let sources = SourceMap::new();
    let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("the built-in pack is embedded");
    let pack = load_pack(files, &sources).unwrap_or_else(|problems| {
        let listed: Vec<String> = problems.iter().map(|p| format!("{p:?}")).collect();
        panic!("the built-in pack does not compile:\n{}", listed.join("\n"));
    });
    let run = run_fixtures(&pack);
    let outcomes = &run.outcomes;
    let mut failures = String::new();
    for stale in &run.stale {
        let _ = writeln!(failures, "stale snapshot {stale}");
    }
    for outcome in outcomes.iter().filter(|o| !o.passed()) {
        let _ = writeln!(failures, "{} {}", outcome.rule, outcome.fixture);
        for (line, column) in &outcome.missing {
            let _ = writeln!(failures, "    expected a finding at {line}:{column}");
        }
        for (p, message) in &outcome.unexpected {
            let _ = writeln!(failures, "    unexpected finding at {}:{}:{}: {message}", p.file, p.line, p.column);
        }
        for error in &outcome.errors {
            let _ = writeln!(failures, "    error: {error}");
        }
        match &outcome.snapshot {
            None => {}
            Some(SnapshotMismatch::Missing { snapshot }) => {
                let _ = writeln!(failures, "    no snapshot of `{}` in {snapshot}", outcome.section);
            }
            Some(SnapshotMismatch::Changed { snapshot, diff }) => {
                let _ = writeln!(failures, "    findings differ from `{}` in {snapshot}:", outcome.section);
                for line in diff {
                    let _ = writeln!(failures, "    {line}");
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fixtures failed (accept intended message changes with `celador test --update rules/pulumi-hardening`):\n{failures}"
    );
    assert!(outcomes.len() >= 300, "only {} fixtures ran", outcomes.len());
}

/// Every related location a built-in rule reports on its fixtures says what it is
/// (`related` entries written as `{'at': …, 'message': '…'}`), in every format.
#[test]
fn every_related_location_of_the_fixtures_has_a_label() {
    use celador_engine::check::{Checker, Input, load_inputs};
    let sources = SourceMap::new();
    let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("embedded");
    let pack = load_pack(files, &sources).expect("compiles");
    let mut unlabelled = String::new();
    let mut related = 0;
    for rule in &pack.rules {
        let checker = Checker::new(vec![rule.clone()]);
        for fixture in &rule.fixtures {
            let prefix = format!("{}/", fixture.path);
            let inputs: Vec<Input> = pack
                .files
                .iter()
                .filter(|f| f.relative == fixture.path || f.relative.starts_with(&prefix))
                .map(|f| Input {
                    name: f.display.clone(),
                    path: None,
                    bytes: f.text.as_bytes().to_vec(),
                    explicit: true,
                    kind: fixture.kind,
                })
                .collect();
            let loaded =
                load_inputs(inputs, &sources, None, &celador_engine::read::ReadScope::nothing(), &pack.components);
            for d in checker.check(&loaded.documents, &sources) {
                for label in &d.related {
                    related += 1;
                    if label.message.trim().is_empty() {
                        let _ = writeln!(unlabelled, "{} {}: {}", d.rule, fixture.path, d.message);
                    }
                }
            }
        }
    }
    assert!(unlabelled.is_empty(), "related locations without a label:\n{unlabelled}");
    assert!(related > 30, "only {related} related locations");
}

#[test]
fn every_rule_has_failing_and_passing_fixtures_and_docs() {
    let sources = SourceMap::new();
    let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("embedded");
    let pack = load_pack(files, &sources).expect("compiles");
    for rule in &pack.rules {
        let failing = rule.fixtures.iter().filter(|f| !f.expect.is_empty()).count();
        let passing = rule.fixtures.iter().filter(|f| f.expect.is_empty()).count();
        assert!(failing > 0 && passing > 0, "{} has {failing} failing and {passing} passing fixtures", rule.id);
        assert!(
            !rule.docs.what.trim().is_empty() && !rule.docs.why.trim().is_empty() && !rule.docs.fix.trim().is_empty(),
            "{} lacks docs",
            rule.id
        );
        assert!(rule.docs_url.is_some(), "{} has no docs URL", rule.id);
    }
}

/// Every check of the specification's section 2 exists in the built-in pack.
#[test]
fn every_specified_check_is_in_the_pack() {
    let sources = SourceMap::new();
    let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("embedded");
    let pack = load_pack(files, &sources).expect("compiles");
    let ids: Vec<&str> = pack.rules.iter().map(|r| &*r.id).collect();
    let expected = [
        (1..=8).map(|n| format!("PSH-NET-{n:03}")).collect::<Vec<_>>(),
        (1..=5).map(|n| format!("PSH-ENC-{n:03}")).collect(),
        (1..=13).map(|n| format!("PSH-TLS-{n:03}")).collect(),
        (1..=7).map(|n| format!("PSH-SEC-{n:03}")).collect(),
        (1..=6).map(|n| format!("PSH-APP-{n:03}")).collect(),
    ];
    for id in expected.iter().flatten() {
        assert!(ids.contains(&id.as_str()), "{id} is missing from the built-in pack");
    }
}

/// `docs/rules.md` is generated from the rules' own docs; regenerate it with
/// `celador rules --format markdown > docs/rules.md` when a rule changes.
#[test]
fn the_rule_reference_is_current() {
    let sources = SourceMap::new();
    let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("embedded");
    let pack = load_pack(files, &sources).expect("compiles");
    let generated = celador_engine::pack::reference_markdown(&pack.meta, &pack.rules);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/rules.md is out of date: run `celador rules --format markdown > docs/rules.md`"
    );
}

/// Truncated and corrupted copies of every fixture go through loading and every rule without
/// a panic: each is either checked or reported as a located problem. `CELADOR_FUZZ=1` cuts
/// every fixture at every seventh byte instead of three points (about 20 s in release).
#[test]
fn damaged_inputs_never_panic() {
    use celador_engine::check::{Checker, Input, load_inputs};
    let sources = SourceMap::new();
    let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("embedded");
    let pack = load_pack(files.clone(), &sources).expect("compiles");
    let checker = Checker::new(pack.rules.clone());
    let fixtures: Vec<_> =
        files.iter().filter(|f| [".toml", ".py", ".snap"].iter().all(|ext| !f.relative.ends_with(ext))).collect();
    assert!(fixtures.len() > 200, "{} fixture files", fixtures.len());
    let mut inputs = Vec::new();
    for file in fixtures {
        let bytes = file.text.as_bytes();
        let name = file.relative.rsplit('/').next().unwrap_or("x.yaml");
        let cuts: Vec<usize> = if std::env::var_os("CELADOR_FUZZ").is_some() {
            (0..bytes.len()).step_by(7).collect()
        } else {
            vec![bytes.len() / 3, bytes.len() / 2, bytes.len() * 5 / 6]
        };
        for cut in cuts {
            let mut damaged = bytes[..cut].to_vec();
            inputs.push(Input {
                name: format!("cut-{cut}/{name}"),
                path: None,
                bytes: damaged.clone(),
                explicit: true,
                kind: None,
            });
            // Swap a structural character for another one in the middle.
            if let Some(at) = damaged.iter().rposition(|b| matches!(b, b':' | b'"' | b'{' | b'-' | b'=')) {
                damaged[at] = match damaged[at] {
                    b':' => b'"',
                    b'"' => b'{',
                    b'{' => b'[',
                    b'-' => b':',
                    _ => b'\'',
                };
                inputs.push(Input {
                    name: format!("swap-{cut}/{name}"),
                    path: None,
                    bytes: damaged,
                    explicit: true,
                    kind: None,
                });
            }
        }
    }
    let loaded = load_inputs(inputs, &sources, None, &celador_engine::read::ReadScope::nothing(), &pack.components);
    assert!(!loaded.problems.is_empty() && !loaded.documents.is_empty());
    for problem in &loaded.problems {
        assert!(problem.span.is_some() || problem.file.is_some(), "unplaced problem {problem:?}");
    }
    let diagnostics = checker.check(&loaded.documents, &sources);
    assert!(!diagnostics.is_empty());
}

/// `celador check` loads the built-in pack with its rules compiled when used: each compiles to
/// what a load compiling every rule makes (its variables in the same order, what it reads, its
/// cost), from the files `celador check` embeds.
#[test]
fn builtin_rules_compiled_when_used_are_those_compiled_at_load() {
    use celador_engine::pack::{Compile, compile_rules, load_pack_compiling};
    let sources = SourceMap::new();
    let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("embedded");
    let at_load = load_pack(files, &sources).expect("compiles");
    let files = celador_rules::builtin_rule_files(celador_rules::DEFAULT_PACK).expect("embedded");
    let when_used = load_pack_compiling(files, &sources, Compile::WhenUsed).expect("loads");
    assert!(compile_rules(&when_used.rules).is_empty());
    assert_eq!(at_load.rules.len(), when_used.rules.len());
    for (eager, lazy) in at_load.rules.iter().zip(&when_used.rules) {
        assert_eq!(eager.id, lazy.id);
        let variables = |r: &celador_engine::pack::Rule| {
            r.variables.iter().map(|v| (v.name.to_string(), v.per_element)).collect::<Vec<_>>()
        };
        assert_eq!(variables(eager), variables(lazy), "{}", eager.id);
        assert_eq!(eager.uses, lazy.uses, "{}", eager.id);
        assert_eq!(eager.when_reads_element, lazy.when_reads_element, "{}", eager.id);
        assert_eq!(eager.cost.describe(eager.scope), lazy.cost.describe(lazy.scope), "{}", eager.id);
        assert_eq!(eager.fixtures.len(), lazy.fixtures.len(), "{}", eager.id);
        assert_eq!(eager.pack, lazy.pack);
    }
}

//! The whole of `celador check` on one arbitrary file: classification, loading, the built-in
//! pack's CEL rules, suppressions and every renderer. The first byte picks the file's name
//! (which decides its kind, as on disk); the rest is its content.
#![no_main]

use celador_engine::check::{Checker, Input, load_inputs, take_rule_errors};
use celador_engine::config::Config;
use celador_engine::pack::{Rule, load_pack};
use celador_engine::read::ReadScope;
use celador_engine::report::{self, HumanOptions, Report, Summary};
use celador_engine::secrets::Secrets;
use celador_engine::source::SourceMap;
use celador_engine::suppress;
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

/// Names that select each input kind the way discovery does, plus ones classified by content.
const NAMES: &[&str] = &[
    "deploy.yaml",
    "values.yaml",
    "docker-compose.yml",
    "Pulumi.prod.yaml",
    "Pulumi.yaml",
    "stack.json",
    "terraform.tfstate",
    "plan.json",
    ".env",
    "manifest.json",
    "config.toml",
];

fn rules() -> &'static [Arc<Rule>] {
    static RULES: OnceLock<Vec<Arc<Rule>>> = OnceLock::new();
    RULES.get_or_init(|| {
        let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("the built-in pack");
        load_pack(files, &SourceMap::new()).expect("the built-in pack compiles").rules
    })
}

fn checker() -> &'static Checker {
    static CHECKER: OnceLock<Checker> = OnceLock::new();
    CHECKER.get_or_init(|| Checker::new(rules().to_vec()))
}

// Compiling the built-in pack takes seconds under the sanitizer: done before the first input,
// so it does not count against libFuzzer's per-input timeout.
fuzz_target!(init: { checker(); }, |data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let name = NAMES[usize::from(selector) % NAMES.len()];
    let sources = SourceMap::new();
    let input = Input { name: name.to_owned(), path: None, bytes: bytes.to_vec(), explicit: true, kind: None };
    let loaded = load_inputs(vec![input], &sources, None, &ReadScope::nothing());
    let mut problems = loaded.problems.clone();
    let mut diagnostics = checker().check(&loaded.documents, &sources);
    problems.extend(take_rule_errors(&mut diagnostics));
    let secrets = Secrets::collect(&sources, &loaded.documents, &diagnostics);
    let files: Vec<_> =
        loaded.documents.iter().map(|d| d.file).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let known: Vec<&str> = rules().iter().map(|r| &*r.id).collect();
    let mut outcome = suppress::apply(diagnostics, &sources, &files, &Config::default(), (2026, 1, 1), &known);
    let masked = secrets.mask(&sources, &mut outcome.kept, &mut problems);
    let names = vec![name.to_owned()];
    let report = Report {
        sources: &masked,
        rules: rules(),
        diagnostics: &outcome.kept,
        problems: &problems,
        summary: Summary { findings: outcome.kept.len(), ..Summary::default() },
        files: &names,
    };
    let _ = report::render_human(&report, HumanOptions::default());
    let _ = report::render_problems(&report, HumanOptions::default());
    let _ = report::render_json(&report);
    let _ = report::render_json_errors(&report);
    let _ = report::render_sarif(&report);
    let _ = report::render_github(&report);
    let _ = report::render_junit(&report);
    let _ = report::render_gitlab(&report);
});

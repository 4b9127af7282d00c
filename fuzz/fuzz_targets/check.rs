//! The whole of `celador check` on one arbitrary file: classification, loading, the built-in
//! pack's CEL rules, suppressions and every renderer. The first byte picks the file's name
//! (which decides its kind, as on disk); the rest is its content.
#![no_main]

use celador_engine::check::Input;
use celador_engine::config::Config;
use celador_engine::pack::{Rule, load_pack};
use celador_engine::pipeline::Pipeline;
use celador_engine::read::ReadScope;
use celador_engine::report::{self, HumanOptions, Report, Summary};
use celador_engine::source::SourceMap;
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

/// The pipeline `celador check` runs: load, check, collect secrets, suppress.
fn pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        let known = rules().iter().map(|r| r.id.clone()).collect();
        Pipeline::new(rules().to_vec(), Config::default(), known)
    })
}

// Compiling the built-in pack takes seconds under the sanitizer: done before the first input,
// so it does not count against libFuzzer's per-input timeout.
fuzz_target!(init: { pipeline(); }, |data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let name = NAMES[usize::from(selector) % NAMES.len()];
    let sources = SourceMap::new();
    let input = Input { name: name.to_owned(), path: None, bytes: bytes.to_vec(), explicit: true, kind: None };
    let mut outcome = pipeline().run(vec![input], &sources, &ReadScope::nothing());
    let masked = outcome.secrets.mask(&sources, &mut outcome.kept, &mut outcome.problems);
    let names = vec![name.to_owned()];
    let report = Report {
        sources: &masked,
        rules: rules(),
        diagnostics: &outcome.kept,
        problems: &outcome.problems,
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

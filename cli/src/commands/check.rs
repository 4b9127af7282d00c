//! `celador check`.

use super::emit;
use crate::ExitStatus;
use crate::args::{CheckArgs, ColorChoice, Format};
use crate::packs::load_packs;
use anyhow::Context as _;
use celador_engine::check::{Checker, Input, discover, load_inputs};
use celador_engine::diagnostic::Problem;
use celador_engine::report::{HumanOptions, Report, Summary, render_human, render_json};
use celador_engine::source::SourceMap;
use std::io::{IsTerminal, Read};

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let sources = SourceMap::new();
    let (packs, mut problems) = load_packs(&args.packs, &sources);

    let (stdin_args, paths): (Vec<_>, Vec<_>) = args.paths.iter().cloned().partition(|p| p.as_os_str() == "-");
    let mut discovered = discover(&paths, &cwd);
    if !stdin_args.is_empty() {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context("cannot read stdin")?;
        let name = args.stdin_filename.clone().unwrap_or_else(|| "<stdin>".to_owned());
        discovered.inputs.push(Input { name, path: None, bytes, explicit: true, kind: None });
    }
    problems.append(&mut discovered.problems);
    let loaded = load_inputs(discovered.inputs, &sources, args.kind);
    problems.extend(loaded.problems);

    let rules = packs.iter().flat_map(|p| p.rules.iter().cloned()).collect();
    let checker = Checker::new(rules);
    let diagnostics = checker.check(&loaded.documents, &sources);
    let summary = Summary {
        files: loaded.files,
        documents: loaded.documents.len(),
        skipped: loaded.skipped + discovered.skipped,
        findings: diagnostics.len(),
    };
    sort_problems(&mut problems, &sources);
    let report = Report { sources: &sources, rules: checker.rules(), diagnostics: &diagnostics, problems: &problems, summary };
    let rendered = match args.format {
        Format::Json => render_json(&report),
        Format::Human => render_human(&report, HumanOptions { color: use_color(args), width: terminal_width() }),
    };
    match &args.output {
        Some(path) => std::fs::write(path, rendered).with_context(|| format!("cannot write {}", path.display()))?,
        None => emit(&rendered)?,
    }
    Ok(if !problems.is_empty() {
        ExitStatus::Error
    } else if diagnostics.iter().any(|d| d.severity >= args.fail_on) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn sort_problems(problems: &mut [Problem], sources: &SourceMap) {
    problems.sort_by_cached_key(|p| match p.span {
        Some(s) => (sources.get(s.file).name.clone(), s.start),
        None => (p.file.clone().unwrap_or_default(), 0),
    });
}

fn use_color(args: &CheckArgs) -> bool {
    match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none() && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100)
}

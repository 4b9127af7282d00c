//! `celador check`, and the scan it shares with `celador baseline create`.

use super::emit;
use crate::ExitStatus;
use crate::args::{CheckArgs, ColorChoice, Format, ScanArgs};
use crate::packs::load_packs;
use crate::progress::Progress;
use anyhow::Context as _;
use celador_engine::baseline::Baseline;
use celador_engine::check::{Checker, Input, discover, display_name, load_inputs};
use celador_engine::config::{self, Config};
use celador_engine::diagnostic::{Diagnostic, Problem};
use celador_engine::kind::{Syntax, classify_name};
use celador_engine::pack::Rule;
use celador_engine::report::{HumanOptions, Position, Report, Summary, render_human, render_json};
use celador_engine::report::{render_github, render_gitlab, render_junit, render_sarif};
use celador_engine::source::SourceMap;
use celador_engine::suppress;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The result of one scan, before rendering.
pub struct Scan {
    pub sources: SourceMap,
    pub rules: Vec<Arc<Rule>>,
    pub diagnostics: Vec<Diagnostic>,
    pub suppressed: Vec<(Diagnostic, String)>,
    pub problems: Vec<Problem>,
    pub summary: Summary,
    /// The files checked (not those loaded only as context).
    pub files: Vec<String>,
}

/// Discovers, loads, checks and applies suppressions.
pub fn scan(args: &ScanArgs) -> anyhow::Result<Scan> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let progress = Progress::start();
    let sources = SourceMap::new();
    let (packs, mut problems) = load_packs(&args.packs, &sources);
    let config = match &args.config {
        Some(path) => Some((path.clone(), true)),
        None => config::discover(&cwd).map(|p| (p, false)),
    };
    let config = match config {
        Some((path, _)) => match config::load(&path, &display_name(&path, &cwd), &sources) {
            Ok(c) => c,
            Err(mut errs) => {
                problems.append(&mut errs);
                Config::default()
            }
        },
        None => Config::default(),
    };

    let (stdin_args, mut paths): (Vec<_>, Vec<_>) = args.paths.iter().cloned().partition(|p| p.as_os_str() == "-");
    if let Some(reference) = &args.changed_since {
        paths = changed_files(reference, &paths, &cwd)?;
    }
    progress.phase("reading");
    let mut discovered =
        if args.changed_since.is_some() && paths.is_empty() { Default::default() } else { discover(&paths, &cwd) };
    if !stdin_args.is_empty() {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context("cannot read stdin")?;
        let name = args.stdin_filename.clone().unwrap_or_else(|| "<stdin>".to_owned());
        discovered.inputs.push(Input { name, path: None, bytes, explicit: true, kind: None });
    }
    problems.append(&mut discovered.problems);
    let loaded = load_inputs(discovered.inputs, &sources, args.kind);
    problems.extend(loaded.problems.iter().cloned());

    progress.phase("checking");
    let rules = config.apply(packs.iter().flat_map(|p| p.rules.iter().cloned()).collect());
    let checker = Checker::new(rules.clone());
    let mut diagnostics = checker.check(&loaded.documents, &sources);
    loaded.retain_requested(&mut diagnostics);

    let mut commented: Vec<_> = loaded
        .documents
        .iter()
        .map(|d| d.file)
        .filter(|f| !loaded.context.contains(f))
        .filter(|&f| has_comments(&sources.get(f).name))
        .collect();
    commented.dedup();
    let files: Vec<String> = commented_or_all(&loaded, &sources);
    let outcome = suppress::apply(diagnostics, &sources, &commented, &config, config::today());
    progress.finish();
    let summary = Summary {
        files: loaded.files,
        documents: loaded.documents.len(),
        skipped: loaded.skipped + discovered.skipped,
        findings: outcome.kept.len(),
        suppressed: outcome.suppressed.len(),
        baselined: 0,
    };
    Ok(Scan { sources, rules, diagnostics: outcome.kept, suppressed: outcome.suppressed, problems, summary, files })
}

/// Names of the files checked, in order (context files excluded).
fn commented_or_all(loaded: &celador_engine::check::Loaded, sources: &SourceMap) -> Vec<String> {
    let mut files: Vec<String> = loaded
        .documents
        .iter()
        .filter(|d| !loaded.context.contains(&d.file))
        .map(|d| sources.get(d.file).name.clone())
        .collect();
    files.dedup();
    files
}

/// Whether a file's format has comments that can carry suppressions.
fn has_comments(name: &str) -> bool {
    !matches!(classify_name(Path::new(name)), Some((Syntax::Json, _))) && !name.ends_with(".json")
}

/// The files changed against `reference` (committed, staged, unstaged and untracked), limited
/// to `within` (the PATH arguments), that celador can check.
fn changed_files(reference: &str, within: &[PathBuf], cwd: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let git = |args: &[&str]| -> anyhow::Result<String> {
        let out = std::process::Command::new("git").args(args).current_dir(cwd).output().context("cannot run git")?;
        if !out.status.success() {
            anyhow::bail!("git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let mut names: Vec<String> =
        git(&["diff", "--name-only", "--relative", "-z", reference, "--"])?.split('\0').map(str::to_owned).collect();
    names.extend(git(&["ls-files", "--others", "--exclude-standard", "-z"])?.split('\0').map(str::to_owned));
    let within: Vec<PathBuf> = within.iter().map(|p| p.strip_prefix("./").unwrap_or(p).to_path_buf()).collect();
    let mut files: Vec<PathBuf> = names
        .into_iter()
        .filter(|n| !n.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_file() && classify_name(p).is_some())
        .filter(|p| within.iter().any(|w| w.as_os_str() == "." || p.starts_with(w)))
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    let mut scan = scan(&args.scan)?;
    if let Some(path) = &args.baseline {
        let cwd = std::env::current_dir().unwrap_or_default();
        match Baseline::read(path, &display_name(path, &cwd)) {
            Ok(baseline) => {
                let (kept, baselined) = baseline.filter(std::mem::take(&mut scan.diagnostics), &scan.sources);
                scan.diagnostics = kept;
                scan.summary.baselined = baselined;
                scan.summary.findings = scan.diagnostics.len();
            }
            Err(p) => scan.problems.push(p),
        }
    }
    sort_problems(&mut scan.problems, &scan.sources);
    let report = Report {
        sources: &scan.sources,
        rules: &scan.rules,
        diagnostics: &scan.diagnostics,
        problems: &scan.problems,
        summary: scan.summary,
        files: &scan.files,
    };
    let formats = if args.format.is_empty() { vec![Format::Human] } else { args.format.clone() };
    if args.output.len() > formats.len() {
        anyhow::bail!("more --output files ({}) than --format options ({})", args.output.len(), formats.len());
    }
    if formats.len() - args.output.len() > 1 {
        anyhow::bail!("only one report can go to stdout: give an --output for every --format but one");
    }
    for (i, format) in formats.iter().enumerate() {
        let output = args.output.get(i);
        let mut rendered = match format {
            Format::Json => render_json(&report),
            Format::Sarif => render_sarif(&report),
            Format::Github => render_github(&report),
            Format::Junit => render_junit(&report),
            Format::Gitlab => render_gitlab(&report),
            Format::Human => {
                render_human(&report, HumanOptions { color: use_color(args.color, output), width: terminal_width() })
            }
        };
        if *format == Format::Human && args.show_suppressed {
            rendered.push_str(&suppressed_list(&scan));
        }
        match output {
            Some(path) => std::fs::write(path, rendered).with_context(|| format!("cannot write {}", path.display()))?,
            None => emit(&rendered)?,
        }
    }
    Ok(if !scan.problems.is_empty() {
        ExitStatus::Error
    } else if !args.exit_zero && scan.diagnostics.iter().any(|d| d.severity >= args.fail_on) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn suppressed_list(scan: &Scan) -> String {
    let mut out = String::new();
    if scan.suppressed.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nSuppressed:");
    for (d, reason) in &scan.suppressed {
        let p = Position::of(&scan.sources, d.primary.span);
        let _ = writeln!(out, "  {} {}:{}:{}: {} (reason: {reason})", d.rule, p.file, p.line, p.column, d.message);
    }
    out
}

fn sort_problems(problems: &mut [Problem], sources: &SourceMap) {
    problems.sort_by_cached_key(|p| match p.span {
        Some(s) => (sources.get(s.file).name.clone(), s.start),
        None => (p.file.clone().unwrap_or_default(), 0),
    });
}

fn use_color(choice: ColorChoice, output: Option<&PathBuf>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            output.is_none() && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100)
}

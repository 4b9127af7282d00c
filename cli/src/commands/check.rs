//! `celador check`, and the scan it shares with `celador baseline create`.

use super::emit;
use crate::ExitStatus;
use crate::args::{CheckArgs, ColorChoice, Format, ScanArgs};
use crate::packs::{Builtin, load_packs};
use crate::progress::Progress;
use anyhow::Context as _;
use celador_engine::baseline::Baseline;
use celador_engine::check::{Input, SkippedFile, discover, display_name};
use celador_engine::components::ComponentCatalog;
use celador_engine::config::{self, Config};
use celador_engine::diagnostic::{Diagnostic, Problem};
use celador_engine::kind::{KindGlobs, classify_name};
use celador_engine::limits::MAX_FILE_SIZE;
use celador_engine::pack::Rule;
use celador_engine::pipeline::Pipeline;
use celador_engine::read::{ReadError, ReadScope, read_bounded};
use celador_engine::report::{HumanOptions, Position, Report, Summary, escape_controls, render_human, write_json};
use celador_engine::report::{render_github, render_gitlab, render_junit, render_sarif};
use celador_engine::secrets::Secrets;
use celador_engine::source::SourceMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
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
    /// One-line notes for stderr: files skipped although named, or looking like configuration.
    pub notes: Vec<String>,
    /// The secrets of the inputs, found before suppressions: what every output masks.
    pub secrets: Secrets,
}

impl Scan {
    /// A scan stopped by `problems` before any input was checked.
    fn stopped(sources: SourceMap, problems: Vec<Problem>) -> Scan {
        let secrets = Secrets::collect(&sources, &[], &[]);
        Scan {
            sources,
            rules: Vec::new(),
            diagnostics: Vec::new(),
            suppressed: Vec::new(),
            problems,
            summary: Summary::default(),
            files: Vec::new(),
            notes: Vec::new(),
            secrets,
        }
    }
}

/// Discovers, loads, checks and applies suppressions. Mistakes in the packs or the
/// configuration stop the scan before any input is read. Unless `quoting`, no report of the
/// scan quotes the inputs' text, and only their lines are kept.
pub fn scan(args: &ScanArgs, quoting: bool) -> anyhow::Result<Scan> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let progress = Progress::start();
    let sources = SourceMap::new();
    let mut problems = Vec::new();
    let config = match &args.config {
        Some(path) => Some(path.clone()),
        None => config::discover(&cwd).unwrap_or_else(|problem| {
            problems.push(problem);
            None
        }),
    };
    let config = match config {
        Some(path) => match config::load(&path, &display_name(&path, &cwd), &sources) {
            Ok(c) => c,
            Err(mut errs) => {
                problems.append(&mut errs);
                Config::default()
            }
        },
        None => Config::default(),
    };
    let (packs, mut pack_problems) = load_packs(&args.packs, &config.packs, &sources, Builtin::RulesWhenUsed);
    problems.append(&mut pack_problems);
    let all_rules: Vec<Arc<Rule>> = packs.iter().flat_map(|p| p.rules.iter().cloned()).collect();
    if problems.is_empty() {
        problems = config.validate(&all_rules);
    }
    if !problems.is_empty() {
        progress.finish();
        return Ok(Scan::stopped(sources, problems));
    }

    let mut notes_after = Vec::new();
    let (stdin_args, mut paths): (Vec<_>, Vec<_>) = args.paths.iter().cloned().partition(|p| p.as_os_str() == "-");
    if let Some(reference) = &args.changed_since {
        paths = changed_files(reference, &paths, &cwd, &config.kinds)?;
    }
    progress.phase("reading");
    let max_file_size = args.max_file_size.unwrap_or(MAX_FILE_SIZE);
    let scope = ReadScope::new(&cwd, &paths, max_file_size);
    let mut discovered = if args.changed_since.is_some() && paths.is_empty() {
        Default::default()
    } else {
        discover(&paths, &cwd, &config.kinds, &scope)
    };
    if !stdin_args.is_empty() {
        let name = args.stdin_filename.clone().unwrap_or_else(|| "<stdin>".to_owned());
        match read_bounded(std::io::stdin().lock(), max_file_size) {
            Ok(bytes) => {
                let kind = config.kinds.kind_of(&name, Path::new(&name));
                discovered.inputs.push(Input { name, path: None, bytes, explicit: true, kind }.into());
            }
            Err(ReadError::Io(e)) => return Err(e).context("cannot read stdin"),
            Err(e) => discovered.problems.push(Problem::file(Some(name), format!("stdin: {e}"))),
        }
    }
    problems.append(&mut discovered.problems);

    progress.phase("checking");
    let rules = config.apply(all_rules.clone());
    let known: Vec<Arc<str>> = all_rules.iter().map(|r| r.id.clone()).collect();
    // Every pack's components, enabled rules or not: they decide what a file is.
    let declared = ComponentCatalog::union(packs.iter().map(|p| &*p.components));
    let mut pipeline = Pipeline::new(rules.clone(), config, known).reading_as(args.kind).declaring(declared);
    if args.timings {
        pipeline = pipeline.with_timings();
    }
    if !quoting {
        pipeline = pipeline.quoting_no_text();
    }
    let outcome = pipeline.run(discovered.inputs, &sources, &scope);
    problems.extend(outcome.problems);
    if args.timings {
        notes_after.push(timings_table(&pipeline.timings()));
    }
    let counts = outcome.counts;
    let files = outcome.files;
    let secrets = outcome.secrets;
    progress.finish();
    let files_seen = counts.files + discovered.skipped;
    let configuration_like = counts.skipped_files.iter().filter(|f| f.looks_like_configuration).count();
    let summary = Summary {
        files: files_seen,
        checked: counts.checked,
        documents: counts.documents,
        skipped: files_seen - counts.checked,
        configuration_like,
        findings: outcome.kept.len(),
        suppressed: outcome.suppressed.len(),
        baselined: 0,
    };
    let mut notes: Vec<String> = packs.iter().flat_map(|p| p.notes.iter().cloned()).collect();
    notes.extend(skip_notes(&counts.skipped_files, &summary, problems.is_empty()));
    notes.append(&mut notes_after);
    Ok(Scan {
        sources,
        rules,
        diagnostics: outcome.kept,
        suppressed: outcome.suppressed,
        problems,
        summary,
        files,
        notes,
        secrets,
    })
}

/// `--timings`: one line per rule, slowest first, like ESLint's `TIMING=1` or OPA's `--profile`.
fn timings_table(timings: &[celador_engine::check::RuleTiming]) -> String {
    let total: std::time::Duration = timings.iter().map(|t| t.total).sum();
    let mut out = format!("rule timings (evaluation time summed over threads; total {:.1} ms):\n", ms(total));
    let _ =
        writeln!(out, "  {:<22} {:>10} {:>7} {:>12} {:>9}", "rule", "time (ms)", "share", "evaluations", "findings");
    for t in timings {
        let share = if total.is_zero() { 0.0 } else { t.total.as_secs_f64() / total.as_secs_f64() * 100.0 };
        let _ = writeln!(
            out,
            "  {:<22} {:>10.1} {:>6.1}% {:>12} {:>9}",
            t.rule,
            ms(t.total),
            share,
            t.evaluations,
            t.findings
        );
    }
    out.trim_end().to_owned()
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What a user should hear about files left out: each one they named (as ruff does for a
/// non-Python file), those that look like configuration, and a run that checked nothing.
fn skip_notes(skipped: &[SkippedFile], summary: &Summary, clean: bool) -> Vec<String> {
    const HOW: &str = "--kind or a [[kinds]] entry in celador.toml makes celador check it";
    let mut notes: Vec<String> = skipped
        .iter()
        .filter(|f| f.explicit)
        .map(|f| format!("skipped {}: not a known kind of input ({HOW})", f.name))
        .collect();
    let walked: Vec<&str> =
        skipped.iter().filter(|f| !f.explicit && f.looks_like_configuration).map(|f| f.name.as_str()).collect();
    if !walked.is_empty() {
        let shown = walked.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        let more = if walked.len() > 5 { format!(" and {} more", walked.len() - 5) } else { String::new() };
        let (files, verbs) = match walked.len() {
            1 => ("1 file".to_owned(), ("looks", "is")),
            n => (format!("{n} files"), ("look", "are")),
        };
        notes.push(format!(
            "skipped {files} that {} like deployment configuration but {} of no known kind: {shown}{more} ({HOW})",
            verbs.0, verbs.1
        ));
    }
    if summary.checked == 0 && clean && skipped.iter().all(|f| !f.explicit) {
        notes.push(match summary.files {
            0 => "nothing was checked: no files were found".to_owned(),
            1 => "nothing was checked: the one file found is of no known kind".to_owned(),
            n => format!("nothing was checked: none of the {n} files found is of a known kind"),
        });
    }
    notes
}

/// The files changed against `reference` (committed, staged, unstaged and untracked), limited
/// to `within` (the PATH arguments), that celador can check.
fn changed_files(reference: &str, within: &[PathBuf], cwd: &Path, kinds: &KindGlobs) -> anyhow::Result<Vec<PathBuf>> {
    let git = |args: &[&str]| -> anyhow::Result<std::process::Output> {
        std::process::Command::new("git").args(args).current_dir(cwd).output().context("cannot run git")
    };
    if reference.starts_with('-') {
        anyhow::bail!("--changed-since takes a git ref, not an option (`{reference}`)");
    }
    if !git(&["rev-parse", "--is-inside-work-tree"])?.status.success() {
        anyhow::bail!("--changed-since needs a git repository, and {} is not inside one", cwd.display());
    }
    let commit = format!("{reference}^{{commit}}");
    if !git(&["rev-parse", "--verify", "--quiet", "--end-of-options", &commit])?.status.success() {
        anyhow::bail!("--changed-since: `{reference}` is not a commit of this repository");
    }
    let lines = |args: &[&str]| -> anyhow::Result<Vec<String>> {
        let out = git(args)?;
        if !out.status.success() {
            anyhow::bail!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or("")
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).split('\0').filter(|n| !n.is_empty()).map(str::to_owned).collect())
    };
    let mut names = lines(&["diff", "--name-only", "--relative", "-z", "--end-of-options", reference, "--"])?;
    names.extend(lines(&["ls-files", "--others", "--exclude-standard", "-z"])?);
    let within: Vec<PathBuf> = within.iter().map(|p| p.strip_prefix("./").unwrap_or(p).to_path_buf()).collect();
    let mut files: Vec<PathBuf> = names
        .into_iter()
        .map(PathBuf::from)
        .filter(|p| p.is_file() && (classify_name(p).is_some() || kinds.kind_of(&p.to_string_lossy(), p).is_some()))
        .filter(|p| within.iter().any(|w| w.as_os_str() == "." || p.starts_with(w)))
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    // Huge pages only add memory here (the heap grows and shrinks in 64 KiB pieces): medium
    // corpus 160 -> 126 MB peak, the 50 MiB manifest 895 -> 850 MB, no slower.
    celador_webhook::disable_transparent_huge_pages();
    let formats = match (args.format.is_empty(), args.output.is_empty()) {
        (true, true) => vec![Format::Human],
        (true, false) => args.output.iter().map(|path| format_of_output(path)).collect::<anyhow::Result<_>>()?,
        (false, _) => args.format.clone(),
    };
    if args.output.len() > formats.len() {
        anyhow::bail!("more --output files ({}) than --format options ({})", args.output.len(), formats.len());
    }
    if formats.len() - args.output.len() > 1 {
        anyhow::bail!("only one report can go to stdout: give an --output for every --format but one");
    }
    // Only human and SARIF reports quote the inputs' text.
    let quoting = formats.iter().any(|f| matches!(f, Format::Human | Format::Sarif));
    let mut scan = scan(&args.scan, quoting)?;
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
    let masked = scan.secrets.mask(&scan.sources, &mut scan.diagnostics, &mut scan.problems);
    for (d, _) in &mut scan.suppressed {
        scan.secrets.scrub_in_place(&mut d.message);
    }
    let mut stderr = std::io::stderr().lock();
    for note in &scan.notes {
        let _ = writeln!(stderr, "celador: {}", escape_controls(note));
    }
    drop(stderr);
    let report = Report {
        sources: &masked,
        rules: &scan.rules,
        diagnostics: &scan.diagnostics,
        problems: &scan.problems,
        summary: scan.summary,
        files: &scan.files,
    };
    for (i, format) in formats.iter().enumerate() {
        let output = args.output.get(i);
        let mut rendered = match format {
            Format::Json => {
                // Written as it is made: a report of tens of thousands of findings is never
                // held whole beside them.
                write_report(output, |out| write_json(&report, out))?;
                continue;
            }
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
    let status = if !scan.problems.is_empty() {
        ExitStatus::Error
    } else if !args.exit_zero && scan.diagnostics.iter().any(|d| d.severity >= args.fail_on) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    // The process ends after the report: freeing every compiled expression of the packs one
    // node at a time (a tenth of a cold run on one file) would be work for nothing.
    std::mem::forget(masked);
    std::mem::forget(scan);
    Ok(status)
}

/// Writes a report to `output`, or to stdout, through a buffer.
fn write_report(
    output: Option<&PathBuf>,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let cannot = || format!("cannot write {}", path.display());
            let file = std::fs::File::create(path).with_context(cannot)?;
            let mut out = std::io::BufWriter::new(file);
            write(&mut out).and_then(|()| out.flush()).with_context(cannot)
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write(&mut out).and_then(|()| out.flush())?;
            Ok(())
        }
    }
}

/// The format of a report written to `path` without `--format`, from its extension.
fn format_of_output(path: &Path) -> anyhow::Result<Format> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let format = if name.ends_with(".sarif") || name.ends_with(".sarif.json") {
        Format::Sarif
    } else if name.contains("code-quality") || name.contains("codequality") || name.ends_with(".gitlab.json") {
        Format::Gitlab
    } else if name.ends_with(".json") {
        Format::Json
    } else if name.ends_with(".xml") {
        Format::Junit
    } else if name.ends_with(".txt") || name.ends_with(".log") {
        Format::Human
    } else {
        anyhow::bail!(
            "cannot tell the format of `{}` from its name: add --format (human, json, sarif, github, junit or gitlab)",
            path.display()
        );
    };
    Ok(format)
}

fn suppressed_list(scan: &Scan) -> String {
    let mut out = String::new();
    if scan.suppressed.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nSuppressed:");
    for (d, reason) in &scan.suppressed {
        let p = Position::of(&scan.sources, d.primary.span);
        let line = format!("  {} {}:{}:{}: {} (reason: {reason})", d.rule, p.file, p.line, p.column, d.message);
        let _ = writeln!(out, "{}", escape_controls(&line));
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

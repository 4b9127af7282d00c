//! Running the fixtures rules ship with (`celador test`, and the built-in pack's `cargo test`).
//!
//! A fixture is a file or a directory of the pack. Its files are checked with the one rule
//! that declares it, and the rule's findings must be exactly the expected `line:column`s —
//! a passing fixture expects none — and match, message and related locations included, the
//! rule's snapshot ([`crate::fixture_snapshots`]). Rule errors and input problems always fail
//! the fixture.

use crate::check::{Checker, Input, load_inputs};
use crate::fixture_snapshots::{
    EXTENSION, SnapshotFinding, SnapshotLocation, SnapshotMismatch, diff, parse_file, render_file, render_section,
};
use crate::limits::MAX_FILE_SIZE;
use crate::pack::{Fixture, Pack, Rule};
use crate::read::{ReadScope, read_regular};
use crate::report::Position;
use crate::source::SourceMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The result of one fixture.
#[derive(Debug)]
pub struct FixtureOutcome {
    /// The rule under test.
    pub rule: Arc<str>,
    /// The fixture path, relative to the pack.
    pub fixture: String,
    /// Expected findings that were not produced, as `(line, column)`.
    pub missing: Vec<(usize, usize)>,
    /// Findings that were not expected: position and message.
    pub unexpected: Vec<(Position, String)>,
    /// Problems loading the fixture, or rule errors.
    pub errors: Vec<String>,
    /// Number of findings that matched.
    pub matched: usize,
    /// Every finding of the rule, as its snapshot records them.
    pub findings: Vec<SnapshotFinding>,
    /// The rule's snapshot file, relative to the pack.
    pub snapshot_file: String,
    /// The fixture's section in it.
    pub section: String,
    /// How the findings differ from the snapshot; `None` when they match it.
    pub snapshot: Option<SnapshotMismatch>,
}

impl FixtureOutcome {
    /// Whether the fixture passed.
    pub fn passed(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.errors.is_empty() && self.snapshot.is_none()
    }
}

/// Every fixture of a pack, and the snapshots no fixture reads.
#[derive(Debug)]
pub struct FixtureRun {
    /// One per fixture, in pack order.
    pub outcomes: Vec<FixtureOutcome>,
    /// Snapshot files and sections no fixture reads: `--update` deletes them.
    pub stale: Vec<StaleSnapshot>,
}

/// A snapshot nothing reads any more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaleSnapshot {
    /// A snapshot file (relative to the pack) of no rule with fixtures.
    File(String),
    /// A section of a rule's snapshot file that names none of its fixtures.
    Section {
        /// The snapshot file, relative to the pack.
        file: String,
        /// The section.
        section: String,
    },
}

impl std::fmt::Display for StaleSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(file) => write!(f, "{file}: no rule with fixtures reads it"),
            Self::Section { file, section } => write!(f, "{file}: section `{section}` names no fixture of the rule"),
        }
    }
}

impl FixtureRun {
    /// Whether every fixture passed and no snapshot is stale.
    pub fn passed(&self) -> bool {
        self.stale.is_empty() && self.outcomes.iter().all(FixtureOutcome::passed)
    }
}

/// Writing snapshots failed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The pack was not read from disk (the built-in pack is embedded in the binary).
    #[error(
        "the pack `{0}` is not a directory or file on disk: update the snapshots of its source (`celador test --update rules/pulumi-hardening`)"
    )]
    NotOnDisk(String),
    /// A file could not be written or removed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Runs every fixture of every rule of `pack`, and compares each one's findings with its
/// rule's snapshot.
pub fn run_fixtures(pack: &Pack) -> FixtureRun {
    let mut outcomes = Vec::new();
    for rule in &pack.rules {
        for (index, fixture) in rule.fixtures.iter().enumerate() {
            let mut outcome = run_fixture(pack, rule, fixture);
            // The same file tested twice (other parameters) gets a section of each: `file #2`.
            let earlier = rule.fixtures[..index].iter().filter(|f| f.written == fixture.written).count();
            if earlier > 0 {
                outcome.section = format!("{} #{}", fixture.written, earlier + 1);
            }
            outcomes.push(outcome);
        }
    }
    let stale = compare_snapshots(pack, &mut outcomes);
    FixtureRun { outcomes, stale }
}

/// Sets each outcome's snapshot verdict; returns the stale files and sections.
fn compare_snapshots(pack: &Pack, outcomes: &mut [FixtureOutcome]) -> Vec<StaleSnapshot> {
    let mut stale = Vec::new();
    let mut files: Vec<String> = outcomes.iter().map(|o| o.snapshot_file.clone()).collect();
    files.dedup();
    for file in &files {
        let recorded = snapshot_text(pack, file).map(|text| parse_file(&text));
        let mut seen = Vec::new();
        for outcome in outcomes.iter_mut().filter(|o| &o.snapshot_file == file) {
            seen.push(outcome.section.clone());
            let actual = render_section(&outcome.findings);
            outcome.snapshot = match recorded.as_ref().and_then(|sections| sections.get(&outcome.section)) {
                None => Some(SnapshotMismatch::Missing { snapshot: file.clone() }),
                Some(expected) if *expected == actual => None,
                Some(expected) => {
                    Some(SnapshotMismatch::Changed { snapshot: file.clone(), diff: diff(expected, &actual) })
                }
            };
        }
        for section in recorded.iter().flat_map(|sections| sections.keys()) {
            if !seen.contains(section) {
                stale.push(StaleSnapshot::Section { file: file.clone(), section: section.clone() });
            }
        }
    }
    for file in snapshot_files(pack) {
        if !files.contains(&file) {
            stale.push(StaleSnapshot::File(file));
        }
    }
    stale
}

/// The text of a snapshot file of the pack: among its files, or beside a single-file pack.
fn snapshot_text(pack: &Pack, relative: &str) -> Option<String> {
    if let Some(file) = pack.files.iter().find(|f| f.relative == relative) {
        return Some(file.text.to_string());
    }
    let dir = single_file_dir(pack)?;
    let bytes = read_regular(&dir.join(relative), MAX_FILE_SIZE).ok()?;
    String::from_utf8(bytes).ok()
}

/// The snapshot files a pack directory holds (relative to it), fixtures' own files excepted.
/// The directory of a single-file pack may hold anything: its `.snap` files are not listed, so
/// none is called stale or deleted.
fn snapshot_files(pack: &Pack) -> Vec<String> {
    let fixture_dirs: Vec<String> =
        pack.files.iter().filter_map(|f| f.relative.strip_suffix(".toml")).map(|stem| format!("{stem}/")).collect();
    let mut out: Vec<String> = pack
        .files
        .iter()
        .map(|f| f.relative.clone())
        .filter(|r| r.ends_with(EXTENSION) && !fixture_dirs.iter().any(|d| r.starts_with(d.as_str())))
        .collect();
    out.sort();
    out
}

/// The directory of a single-file pack read from disk.
fn single_file_dir(pack: &Pack) -> Option<PathBuf> {
    let [file] = pack.files.as_slice() else { return None };
    file.path.as_deref().and_then(Path::parent).map(Path::to_path_buf)
}

/// Rewrites the snapshot of every rule with fixtures from `run`, and deletes stale snapshot
/// files and sections. Returns the files written or deleted, relative to the pack.
///
/// # Errors
/// The pack is not on disk, or a file cannot be written.
pub fn update_snapshots(pack: &Pack, run: &FixtureRun) -> Result<Vec<String>, SnapshotError> {
    let Some(dir) = single_file_dir(pack).or_else(|| pack_dir(pack)) else {
        return Err(SnapshotError::NotOnDisk(pack.meta.id.clone()));
    };
    let mut changed = Vec::new();
    let mut files: Vec<&str> = run.outcomes.iter().map(|o| o.snapshot_file.as_str()).collect();
    files.dedup();
    for file in files {
        let outcomes: Vec<&FixtureOutcome> = run.outcomes.iter().filter(|o| o.snapshot_file == file).collect();
        let sections: Vec<(String, Vec<String>)> =
            outcomes.iter().map(|o| (o.section.clone(), render_section(&o.findings))).collect();
        let text = render_file(&outcomes[0].rule, &sections);
        if snapshot_text(pack, file).as_deref() == Some(text.as_str()) {
            continue;
        }
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(|source| SnapshotError::Write { path: file.to_owned(), source })?;
        changed.push(file.to_owned());
    }
    for stale in &run.stale {
        if let StaleSnapshot::File(file) = stale {
            std::fs::remove_file(dir.join(file))
                .map_err(|source| SnapshotError::Write { path: file.clone(), source })?;
            changed.push(file.clone());
        }
    }
    Ok(changed)
}

/// How a snapshot names a file of a fixture: relative to the directory holding the fixture
/// (`deployment.yaml`, `compose/docker-compose.yml`), whatever path the pack was read by.
fn shown_in_fixture(name: &str, pack: &Pack, fixture: &Fixture) -> String {
    let prefix = pack.files.first().and_then(|f| f.display.strip_suffix(f.relative.as_str())).unwrap_or_default();
    let in_pack = name.strip_prefix(prefix).unwrap_or(name);
    let parent = fixture.path.rsplit_once('/').map_or(String::new(), |(dir, _)| format!("{dir}/"));
    in_pack.strip_prefix(parent.as_str()).unwrap_or(in_pack).to_owned()
}

/// The fixture files of a single-file pack, read from beside it on disk: a directory pack
/// holds its fixtures, a lone `pack.toml` names files next to it. Only paths inside the pack
/// file's directory are read.
fn beside_single_file_pack(pack: &Pack, fixture: &Fixture) -> Vec<Input> {
    let [file] = pack.files.as_slice() else { return Vec::new() };
    let Some(dir) = file.path.as_deref().and_then(Path::parent) else { return Vec::new() };
    let relative = Path::new(&fixture.path);
    if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Vec::new();
    }
    let shown_dir = file.display.rsplit_once('/').map_or(String::new(), |(d, _)| format!("{d}/"));
    let root = dir.join(relative);
    let mut found = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if meta.is_file() {
            found.push(path);
        }
    }
    found.sort();
    found
        .into_iter()
        .filter_map(|path| {
            let bytes = read_regular(&path, MAX_FILE_SIZE).ok()?;
            let inner = path.strip_prefix(dir).ok()?.to_string_lossy().replace('\\', "/");
            Some(Input {
                name: format!("{shown_dir}{inner}"),
                explicit: path == root,
                path: Some(path),
                bytes,
                kind: fixture.kind,
            })
        })
        .collect()
}

/// The directory a pack on disk was read from.
fn pack_dir(pack: &Pack) -> Option<PathBuf> {
    pack.files.iter().find_map(|f| {
        let path = f.path.as_deref()?;
        path.ancestors().nth(f.relative.split('/').count()).map(Path::to_path_buf)
    })
}

fn run_fixture(pack: &Pack, rule: &Arc<Rule>, fixture: &Fixture) -> FixtureOutcome {
    let mut outcome = FixtureOutcome {
        rule: rule.id.clone(),
        fixture: fixture.path.clone(),
        missing: Vec::new(),
        unexpected: Vec::new(),
        errors: Vec::new(),
        matched: 0,
        findings: Vec::new(),
        snapshot_file: fixture.snapshot.clone(),
        section: fixture.written.clone(),
        snapshot: None,
    };
    let prefix = format!("{}/", fixture.path);
    let mut inputs: Vec<Input> = pack
        .files
        .iter()
        .filter(|f| f.relative == fixture.path || f.relative.starts_with(&prefix))
        .map(|f| Input {
            name: f.display.clone(),
            path: f.path.clone(),
            bytes: f.text.as_bytes().to_vec(),
            explicit: f.relative == fixture.path,
            kind: fixture.kind,
        })
        .collect();
    if inputs.is_empty() {
        inputs = beside_single_file_pack(pack, fixture);
    }
    if inputs.is_empty() {
        outcome.errors.push(format!("fixture `{}` does not exist in the pack", fixture.path));
        return outcome;
    }
    let sources = SourceMap::new();
    // Files a fixture refers to (a compose file's env files) are read from the pack only.
    let scope = match pack_dir(pack) {
        Some(dir) => ReadScope::within(&std::env::current_dir().unwrap_or_default(), vec![dir], MAX_FILE_SIZE),
        None => ReadScope::nothing(),
    };
    let loaded = load_inputs(inputs, &sources, None, &scope, &pack.components);
    for problem in &loaded.problems {
        let at = problem.span.map(|s| Position::of(&sources, s));
        outcome.errors.push(match at {
            Some(p) => format!("{}:{}:{}: {}", p.file, p.line, p.column, problem.message),
            None => format!("{}: {}", problem.file.as_deref().unwrap_or(&fixture.path), problem.message),
        });
    }
    let rule = match &fixture.params {
        Some(overrides) => {
            let mut changed = Rule::clone_with(rule);
            changed.params = crate::config::merge_params(&rule.params, overrides, rule.span);
            Arc::new(changed)
        }
        None => rule.clone(),
    };
    let checker = Checker::new(vec![rule.clone()]);
    let mut expected = fixture.expect.clone();
    for diagnostic in checker.check(&loaded.documents, &sources) {
        let position = Position::of(&sources, diagnostic.primary.span);
        if *diagnostic.rule != *rule.id {
            outcome
                .errors
                .push(format!("{}:{}:{}: {}", position.file, position.line, position.column, diagnostic.message));
            continue;
        }
        let location = |span| {
            let p = Position::of(&sources, span);
            SnapshotLocation { file: shown_in_fixture(&p.file, pack, fixture), line: p.line, column: p.column }
        };
        outcome.findings.push(SnapshotFinding {
            at: location(diagnostic.primary.span),
            message: diagnostic.message.clone(),
            related: diagnostic.related.iter().map(|label| (location(label.span), label.message.clone())).collect(),
        });
        match expected.iter().position(|&(l, c)| l == position.line && c == position.column) {
            Some(i) => {
                expected.swap_remove(i);
                outcome.matched += 1;
            }
            None => outcome.unexpected.push((position, diagnostic.message)),
        }
    }
    outcome.missing = expected;
    outcome
}

//! Running the fixtures rules ship with (`celador test`, and the built-in pack's `cargo test`).
//!
//! A fixture is a file or a directory of the pack. Its files are checked with the one rule
//! that declares it, and the rule's findings must be exactly the expected `line:column`s —
//! a passing fixture expects none — and match, message and related locations included, the
//! rule's snapshot ([`crate::fixture_snapshots`]). Rule errors and input problems always fail
//! the fixture.

use crate::check::Input;
use crate::config::Config;
use crate::fixture_snapshots::{SnapshotFinding, SnapshotLocation, SnapshotMismatch, StaleSnapshot};
use crate::limits::MAX_FILE_SIZE;
use crate::pack::{Fixture, Pack, Rule};
use crate::pipeline::Pipeline;
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

impl FixtureRun {
    /// Whether every fixture passed and no snapshot is stale.
    pub fn passed(&self) -> bool {
        self.stale.is_empty() && self.outcomes.iter().all(FixtureOutcome::passed)
    }
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
    let stale = crate::fixture_snapshots::compare(pack, &mut outcomes);
    FixtureRun { outcomes, stale }
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
pub(crate) fn pack_dir(pack: &Pack) -> Option<PathBuf> {
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
    let rule = match &fixture.params {
        Some(overrides) => {
            let mut changed = Rule::clone_with(rule);
            changed.params = crate::config::merge_params(&rule.params, overrides, rule.span);
            Arc::new(changed)
        }
        None => rule.clone(),
    };
    let pipeline = Pipeline::new(vec![rule.clone()], Config::default(), vec![rule.id.clone()]);
    let run = pipeline.run(inputs, &sources, &scope);
    for problem in &run.problems {
        let at = problem.span.map(|s| Position::of(&sources, s));
        outcome.errors.push(match at {
            Some(p) => format!("{}:{}:{}: {}", p.file, p.line, p.column, problem.message),
            None => format!("{}: {}", problem.file.as_deref().unwrap_or(&fixture.path), problem.message),
        });
    }
    let mut expected = fixture.expect.clone();
    for diagnostic in run.kept {
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
            // A fixture without a snapshot (a ValidatingAdmissionPolicy's) records no related
            // locations: they point into the policy, loaded in the pack's own source map.
            related: if fixture.snapshot.is_empty() {
                Vec::new()
            } else {
                diagnostic.related.iter().map(|label| (location(label.span), label.message.clone())).collect()
            },
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

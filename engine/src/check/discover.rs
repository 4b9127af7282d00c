//! Discovery: the files of the paths given, as inputs to load.

use crate::diagnostic::Problem;
use crate::kind::{InputKind, KindGlobs, classifies_by_content, classify_name};
use crate::read::{ReadError, ReadScope};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// One input to check: a file's content with the name reports show.
#[derive(Clone, Debug, Default)]
pub struct Input {
    /// Name shown in reports (relative to the working directory when under it, `/`-separated).
    pub name: String,
    /// Where it was read from; `None` for stdin and embedded fixtures.
    pub path: Option<PathBuf>,
    /// The raw content.
    pub bytes: Vec<u8>,
    /// Whether the user named this input explicitly (then an unknown kind is an error).
    pub explicit: bool,
    /// A kind that overrides classification.
    pub kind: Option<InputKind>,
}

/// A file discovery found, inside the run's scope and within its size limit, not read yet: it
/// is read when the batch holding its directory is loaded, so the text of a tree is never in
/// memory all at once.
#[derive(Clone, Debug)]
pub struct FoundFile {
    /// Name shown in reports (as [`Input::name`]).
    pub name: String,
    /// Where it is read from.
    pub path: PathBuf,
    /// Where it is with every link resolved, when the walk that found it knew that without
    /// asking the file system (it is then read without resolving it again).
    pub resolved: Option<PathBuf>,
    /// Its size in bytes when it was found, which batches are measured by.
    pub size: u64,
    /// Whether the user named this file explicitly (then an unknown kind is an error).
    pub explicit: bool,
    /// A kind that overrides classification.
    pub kind: Option<InputKind>,
}

/// An input to load: content already read (stdin, a fixture, the webhook's object), or a file
/// read when its turn comes.
#[derive(Clone, Debug)]
pub enum Pending {
    /// Read already.
    Read(Input),
    /// To be read through the run's scope.
    File(FoundFile),
}

impl Pending {
    /// The name reports show.
    pub fn name(&self) -> &str {
        match self {
            Self::Read(input) => &input.name,
            Self::File(file) => &file.name,
        }
    }

    /// Its size in bytes (as found, for a file not read yet).
    pub fn size(&self) -> u64 {
        match self {
            Self::Read(input) => input.bytes.len() as u64,
            Self::File(file) => file.size,
        }
    }

    /// The kind it was given (`[[kinds]]`, the webhook's), if any.
    pub fn kind(&self) -> Option<InputKind> {
        match self {
            Self::Read(input) => input.kind,
            Self::File(file) => file.kind,
        }
    }

    /// Reads it, if it was not: a file that cannot be read any more (removed, grown past the
    /// limit since it was found) is a problem of the run, named like discovery's.
    pub fn read(self, scope: &ReadScope) -> Result<Input, Problem> {
        match self {
            Self::Read(input) => Ok(input),
            Self::File(file) => {
                match file.resolved.as_deref().map_or_else(|| scope.read(&file.path), |r| scope.read_resolved(r)) {
                    Ok(bytes) => Ok(Input {
                        name: file.name,
                        path: Some(file.path),
                        bytes,
                        explicit: file.explicit,
                        kind: file.kind,
                    }),
                    Err(e) => Err(Problem::file(Some(file.name), e.to_string())),
                }
            }
        }
    }
}

impl From<Input> for Pending {
    fn from(input: Input) -> Self {
        Self::Read(input)
    }
}

impl From<FoundFile> for Pending {
    fn from(file: FoundFile) -> Self {
        Self::File(file)
    }
}

/// What discovery found: inputs, problems, and files skipped as not ours.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Inputs to load: files not read yet.
    pub inputs: Vec<Pending>,
    /// Unreadable paths.
    pub problems: Vec<Problem>,
    /// Files found while walking directories whose name marks nothing celador reads; not read.
    pub skipped: usize,
}

/// The name a path is shown by: relative to `cwd` when under it, with `/` separators.
pub fn display_name(path: &Path, cwd: &Path) -> String {
    let shown = if path.is_absolute() { path.strip_prefix(cwd).unwrap_or(path) } else { path };
    let text = shown.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_owned).unwrap_or(text)
}

/// A gitignore-syntax file of paths celador does not walk into (beside `.gitignore`, which is
/// honoured too): for deliberately insecure test fixtures, vendored charts, and the like.
pub const IGNORE_FILE: &str = ".celadorignore";

/// Walks the given paths (files and directories; `.gitignore`- and `.celadorignore`-aware,
/// dotfiles included, `.git`, `node_modules`, `target` and Helm chart `templates/` skipped) and
/// keeps every candidate file: one whose name marks a kind or a syntax that can be classified
/// by content, or that a `[[kinds]]` glob of the configuration names.
///
/// Candidates are measured through `scope`, not read (the pipeline reads each when its batch
/// is loaded): one that is a symbolic link resolving outside it, is larger than its size limit
/// or (when named explicitly) is not a regular file is a problem, and is never opened. A walk
/// passes over FIFOs, sockets and devices.
pub fn discover(paths: &[PathBuf], cwd: &Path, kinds: &KindGlobs, scope: &ReadScope) -> Discovered {
    // Each file found, whether it was named, and where it is with every link resolved when the
    // walk knows that without asking the file system.
    let mut found: Vec<(PathBuf, bool, Option<PathBuf>)> = Vec::new();
    let mut discovered = Discovered::default();
    for path in paths {
        if path.is_dir() {
            // A directory that is a link leading out of the scope is not walked: even the names
            // of what it holds are not ours to list.
            let root = match scope.resolve(path) {
                Ok(root) => Some(root),
                Err(e @ ReadError::Outside) => {
                    discovered.problems.push(Problem::file(Some(display_name(path, cwd)), e.to_string()));
                    continue;
                }
                Err(_) => None,
            };
            let mut builder = ignore::WalkBuilder::new(path);
            builder
                .hidden(false)
                .require_git(false)
                .git_global(false)
                .add_custom_ignore_filename(IGNORE_FILE)
                .filter_entry(|entry| {
                    let name = entry.file_name().to_string_lossy();
                    let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                    !(is_dir
                        && (matches!(&*name, ".git" | "node_modules" | "target") || is_chart_templates(entry.path())))
                });
            let (tx, rx) = std::sync::mpsc::channel();
            builder.build_parallel().run(|| {
                let tx = tx.clone();
                Box::new(move |entry| {
                    let _ = tx.send(entry.map(|e| {
                        let regular = !e.path_is_symlink() && e.file_type().is_some_and(|t| t.is_file());
                        (regular, e.into_path())
                    }));
                    ignore::WalkState::Continue
                })
            });
            drop(tx);
            for entry in rx {
                match entry {
                    // The walk follows no link: a regular file it reached that is no link itself
                    // is where the resolved directory and the path below it say (resolving each
                    // file found cost ten `readlink`s, a tenth of a run on 100 small files).
                    Ok((true, p)) => {
                        let resolved = root.as_ref().zip(p.strip_prefix(path).ok()).map(|(r, below)| r.join(below));
                        found.push((p, false, resolved));
                    }
                    Ok((false, p)) if p.is_file() => found.push((p, false, None)),
                    Ok(_) => {}
                    Err(e) => discovered
                        .problems
                        .push(Problem::file(Some(display_name(path, cwd)), format!("cannot walk directory: {e}"))),
                }
            }
        } else if path.exists() {
            found.push((path.clone(), true, None));
        } else {
            discovered.problems.push(Problem::file(Some(display_name(path, cwd)), "no such file or directory"));
        }
    }
    // One file reached twice (`d/x` and `./d/x`, or a directory and a file in it) is read once,
    // under the first name it was reached by.
    let mut seen = std::collections::HashSet::new();
    found.retain(|(p, _, resolved)| {
        seen.insert(resolved.clone().unwrap_or_else(|| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())))
    });
    found.sort();
    let candidates: Vec<Candidate> = found
        .into_iter()
        .filter_map(|(path, explicit, resolved)| {
            let name = display_name(&path, cwd);
            let configured = kinds.kind_of(&name, &path);
            let readable = match classify_name(&path) {
                Some((_, Some(_))) => true,
                Some((syntax, None)) => classifies_by_content(syntax),
                None => false,
            };
            if explicit || configured.is_some() || readable {
                Some(Candidate { path, resolved, name, explicit, kind: configured })
            } else {
                discovered.skipped += 1;
                None
            }
        })
        .collect();
    // On the threads that load and check afterwards, not on a pool of their own.
    let measured: Vec<Result<FoundFile, Problem>> = super::on_pool(|| {
        candidates
            .into_par_iter()
            .map(|Candidate { path, resolved, name, explicit, kind }| {
                let size = match &resolved {
                    Some(resolved) => scope.measure_resolved(resolved),
                    None => scope.measure(&path),
                };
                match size {
                    Ok(size) => Ok(FoundFile { name, path, resolved, size, explicit, kind }),
                    Err(e) => Err(Problem::file(Some(name), e.to_string())),
                }
            })
            .collect()
    });
    for r in measured {
        match r {
            Ok(file) => discovered.inputs.push(Pending::File(file)),
            Err(p) => discovered.problems.push(p),
        }
    }
    discovered
}

/// A file discovery reads.
struct Candidate {
    path: PathBuf,
    /// Where it is with every link resolved, when the walk knows it.
    resolved: Option<PathBuf>,
    name: String,
    explicit: bool,
    kind: Option<InputKind>,
}

fn is_chart_templates(dir: &Path) -> bool {
    dir.file_name().is_some_and(|n| n == "templates") && dir.parent().is_some_and(|p| p.join("Chart.yaml").is_file())
}

//! Batches: the inputs of a run cut into groups of whole directories, loaded, checked and
//! dropped one after the other, so a run's memory follows a batch, not the tree.
//!
//! A deployment never crosses a directory ([`crate::deployment`]), and what loading joins to a
//! file is in its directory (compose overrides, the compose files beside an env file) or named
//! by a compose file's `env_file`. So a batch is a set of directories, where a compose file's
//! directory and the directories of the env files it references are always together (a
//! service's environment from `../base/common.env`), filled up to [`BATCH_BYTES`] of input.
//! A directory larger than that is a batch of its own: memory follows the largest deployment.

use crate::check::{Pending, deployment_of, on_pool};
use crate::components::referenced_env_files;
use crate::document::Document;
use crate::kind::{InputKind, classify_name};
use crate::load::load_yaml;
use crate::read::ReadScope;
use crate::source::{SourceFile, SourceMap};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Input bytes a batch is filled up to (whole directories: a larger directory is a batch of
/// its own). Large enough that a batch keeps both cores busy, small enough that a batch's
/// documents and CEL values (several times its text) stay a small part of a run's memory.
pub const BATCH_BYTES: u64 = 8 << 20;

/// Cuts `inputs` into batches of whole directories filled up to `bytes` (see the module
/// documentation; [`BATCH_BYTES`] for a run), in order of their first directory's name. `kind`
/// is the run's `--kind`: a file it makes compose has its `env_file` references followed like
/// a `docker-compose.yml`'s. Compose files are read here (through `scope`) to find their
/// references, and kept read.
pub fn plan(inputs: Vec<Pending>, bytes: u64, kind: Option<InputKind>, scope: &ReadScope) -> Vec<Vec<Pending>> {
    let mut by_dir: BTreeMap<String, Vec<Pending>> = BTreeMap::new();
    for input in inputs {
        by_dir.entry(deployment_of(input.name())).or_default().push(input);
    }
    // References into the compose file's own directory join nothing.
    let references: Vec<(String, String)> = on_pool(|| {
        by_dir
            .par_iter_mut()
            .flat_map_iter(|(dir, inputs)| {
                let referenced = inputs.iter_mut().flat_map(|input| compose_references(input, kind, scope));
                let elsewhere = referenced.map(|r| deployment_of(&r)).filter(|r| r != dir);
                elsewhere.map(|r| (dir.clone(), r)).collect::<Vec<_>>()
            })
            .collect()
    });
    // Directories with inputs first, in name order; then those only referenced (an env file
    // outside the inputs that two compose files share is read once, in one batch).
    let mut ids: BTreeMap<String, usize> = by_dir.keys().enumerate().map(|(i, d)| (d.clone(), i)).collect();
    for (_, referenced) in &references {
        let next = ids.len();
        ids.entry(referenced.clone()).or_insert(next);
    }
    let mut joined = Joined::new(ids.len());
    for (dir, referenced) in &references {
        joined.union(ids[dir], ids[referenced]);
    }
    let mut groups: BTreeMap<usize, Vec<Pending>> = BTreeMap::new();
    for (d, inputs) in by_dir.into_values().enumerate() {
        groups.entry(joined.find(d)).or_default().extend(inputs);
    }
    let mut batches: Vec<Vec<Pending>> = Vec::new();
    let mut filled = 0;
    for group in groups.into_values() {
        let size: u64 = group.iter().map(Pending::size).sum();
        match batches.last_mut() {
            Some(batch) if filled + size <= bytes => {
                batch.extend(group);
                filled += size;
            }
            _ => {
                batches.push(group);
                filled = size;
            }
        }
    }
    batches
}

/// The names of the env files `input` references, if its name, its configured kind or `kind`
/// makes it a compose file; it is read (and stays read) to find them. Nothing when it cannot
/// be read or parsed: loading reports that.
fn compose_references(input: &mut Pending, kind: Option<InputKind>, scope: &ReadScope) -> Vec<String> {
    let by_name = classify_name(Path::new(input.name())).and_then(|(_, k)| k);
    if input.kind().or(kind).or(by_name) != Some(InputKind::Compose) {
        return Vec::new();
    }
    let read = match std::mem::replace(input, Pending::Read(crate::check::Input::default())).read(scope) {
        Ok(read) => read,
        Err(_) => return Vec::new(),
    };
    let references = match std::str::from_utf8(&read.bytes) {
        Ok(text) if memchr::memmem::find(text.as_bytes(), b"env_file").is_some() => {
            let sources = SourceMap::new();
            let file = sources.add(SourceFile::new(read.name.clone(), read.path.clone(), text));
            let text = sources.get(file).text.clone();
            load_yaml(file, &text)
                .map(|docs| {
                    docs.into_iter()
                        .map(|d| Document::new(file, d.index, InputKind::Compose, d.root, None))
                        .flat_map(|doc| referenced_env_files(&doc, &sources))
                        .map(|r| r.name)
                        .collect()
                })
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    *input = Pending::Read(read);
    references
}

/// Directories joined by references (union–find over their indices).
struct Joined {
    parent: Vec<usize>,
}

impl Joined {
    fn new(len: usize) -> Self {
        Self { parent: (0..len).collect() }
    }

    fn find(&mut self, mut at: usize) -> usize {
        while self.parent[at] != at {
            self.parent[at] = self.parent[self.parent[at]];
            at = self.parent[at];
        }
        at
    }

    /// Joins the groups of `a` and `b`; a group is named by its first directory.
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        self.parent[a.max(b)] = a.min(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Input;

    fn input(name: &str, text: &str) -> Pending {
        Pending::Read(Input { name: name.into(), path: None, bytes: text.into(), explicit: true, kind: None })
    }

    fn names(batches: &[Vec<Pending>]) -> Vec<Vec<&str>> {
        batches.iter().map(|b| b.iter().map(Pending::name).collect()).collect()
    }

    #[test]
    fn directories_fill_batches_and_are_never_split() {
        let big = "x".repeat((BATCH_BYTES / 2) as usize);
        let batches = plan(
            vec![
                input("a/1.yaml", &big),
                input("b/1.yaml", &big),
                input("a/2.yaml", "k: v"),
                input("c/1.yaml", &big),
                input("c/2.yaml", &big),
            ],
            BATCH_BYTES,
            None,
            &ReadScope::nothing(),
        );
        assert_eq!(names(&batches), [vec!["a/1.yaml", "a/2.yaml"], vec!["b/1.yaml"], vec!["c/1.yaml", "c/2.yaml"]]);
    }

    /// A compose file and the env files it references in other directories are loaded
    /// together, whatever lies between them in name order.
    #[test]
    fn compose_files_join_the_directories_of_their_env_files() {
        let big = "x".repeat(BATCH_BYTES as usize);
        let batches = plan(
            vec![
                input("a/shared/common.env", "A=1\n"),
                input("b/filler.yaml", &big),
                input("c/docker-compose.yml", "services:\n  api:\n    env_file: ../a/shared/common.env\n"),
            ],
            BATCH_BYTES,
            None,
            &ReadScope::nothing(),
        );
        assert_eq!(names(&batches), [vec!["a/shared/common.env", "c/docker-compose.yml"], vec!["b/filler.yaml"]]);
    }
}

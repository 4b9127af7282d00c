//! Loading: each input parsed into located documents and classified, and the files inputs
//! refer to (env files, compose files beside an env file) read within the scan's scope.

use super::{Input, Pending, display_name, on_pool};
use crate::components::{ComponentCatalog, referenced_env_files};
use crate::diagnostic::{Diagnostic, Problem};
use crate::document::Document;
use crate::kind::{
    InputKind, KindSet, Syntax, classify_content, classify_name, evident_kind, looks_like_configuration, sniff_syntax,
    syntax_for,
};
use crate::load::{ParseError, load_env, load_json, load_toml, load_yaml};
use crate::read::{ReadError, ReadScope};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::tree::{Node, Value};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Loaded, classified documents of a run.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Documents of a known kind.
    pub documents: Vec<Document>,
    /// Malformed inputs of a known kind.
    pub problems: Vec<Problem>,
    /// Number of files read (context files excluded).
    pub files: usize,
    /// Files of a known kind (by name, `--kind`, configuration or content), malformed ones
    /// included; the other files read were skipped.
    pub checked: usize,
    /// Skipped files worth a word to the user: named explicitly, or looking like
    /// configuration although of no known kind.
    pub skipped_files: Vec<SkippedFile>,
    /// Files loaded only as context (compose files beside an env file checked alone, and the
    /// env files only those reference): their findings are not reported. Env files a checked
    /// compose file references are checked with it.
    pub context: Vec<FileId>,
}

/// What loading counted: what a run's summary shows, kept when the documents are dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Number of files read (context files excluded).
    pub files: usize,
    /// Files of a known kind (see [`Loaded::checked`]).
    pub checked: usize,
    /// Documents loaded, those of context files included.
    pub documents: usize,
    /// Skipped files worth a word to the user (see [`Loaded::skipped_files`]).
    pub skipped_files: Vec<SkippedFile>,
}

impl Counts {
    /// Adds what another batch of the run counted.
    pub fn add(&mut self, other: Counts) {
        self.files += other.files;
        self.checked += other.checked;
        self.documents += other.documents;
        self.skipped_files.extend(other.skipped_files);
    }
}

/// A file left out because it is of no known kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedFile {
    /// Its name as reports show it.
    pub name: String,
    /// The user named it on the command line (or pre-commit passed it).
    pub explicit: bool,
    /// It parsed, and holds what deployment configuration holds (`image`, `config:`, `env:`).
    pub looks_like_configuration: bool,
}

impl Loaded {
    /// What was counted, without the documents.
    pub fn counts(&self) -> Counts {
        Counts {
            files: self.files,
            checked: self.checked,
            documents: self.documents.len(),
            skipped_files: self.skipped_files.clone(),
        }
    }

    /// Drops the findings located in context files.
    pub fn retain_requested(&self, diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.retain(|d| !self.context.contains(&d.primary.span.file));
    }
}

/// What loading one input gave.
struct LoadedInput {
    documents: Vec<Document>,
    problems: Vec<Problem>,
    /// `None` when the input is of a known kind; else why it was skipped.
    skipped: Option<SkippedFile>,
}

/// Parses and classifies inputs in parallel. `kind` overrides every input's kind; YAML of no
/// known name that configures an image `declared` names is Helm values. Files not read yet,
/// and files the inputs lead to (env files, compose files), are read through `scope`.
pub fn load_inputs(
    inputs: Vec<impl Into<Pending>>,
    sources: &SourceMap,
    kind: Option<InputKind>,
    scope: &ReadScope,
    declared: &ComponentCatalog,
) -> Loaded {
    load_inputs_reading(inputs, sources, kind, scope, declared, KindSet::ALL)
}

/// [`load_inputs`], skipping unread the files found by walking (not named, not given a kind)
/// that can only be of a kind outside `read`: a pack of Kubernetes rules does not parse the
/// Terraform plans beside the manifests.
pub fn load_inputs_reading(
    inputs: Vec<impl Into<Pending>>,
    sources: &SourceMap,
    kind: Option<InputKind>,
    scope: &ReadScope,
    declared: &ComponentCatalog,
    read: KindSet,
) -> Loaded {
    load_batch(inputs, sources, kind, scope, declared, read, &HashSet::new())
}

/// [`load_inputs_reading`] for one batch of a run whose other batches load the files named
/// `elsewhere`: an env file among them that a compose file of this batch references is loaded
/// here as context only (for the service's environment), so it is neither counted nor
/// reported twice.
pub(crate) fn load_batch(
    inputs: Vec<impl Into<Pending>>,
    sources: &SourceMap,
    kind: Option<InputKind>,
    scope: &ReadScope,
    declared: &ComponentCatalog,
    read: KindSet,
    elsewhere: &HashSet<String>,
) -> Loaded {
    let inputs: Vec<Pending> = inputs.into_iter().map(Into::into).collect();
    let results: Vec<Result<LoadedInput, Problem>> = on_pool(|| {
        inputs
            .into_par_iter()
            .map(|pending| {
                if let Some(skipped) = skipped_by_name(&pending, kind, read) {
                    return Ok(skipped);
                }
                Ok(load_input(pending.read(scope)?, sources, kind, declared, read))
            })
            .collect()
    });
    let mut loaded = Loaded::default();
    for result in results {
        let result = match result {
            Ok(result) => result,
            Err(unreadable) => {
                loaded.problems.push(unreadable);
                continue;
            }
        };
        loaded.files += 1;
        loaded.documents.extend(result.documents);
        loaded.problems.extend(result.problems);
        match result.skipped {
            None => loaded.checked += 1,
            Some(skipped) if skipped.explicit || skipped.looks_like_configuration => {
                loaded.skipped_files.push(skipped);
            }
            Some(_) => {}
        }
    }
    load_referenced(&mut loaded, sources, scope, elsewhere);
    // The documents stay in input order, then the files the inputs led to, not in the order
    // the threads added their files: a deployment lists its documents, and a rule its related
    // places, in an order that does not depend on timing.
    loaded
}

/// A file found by walking whose name alone says it is of a kind no rule reads: skipped
/// without reading it.
fn skipped_by_name(pending: &Pending, kind_override: Option<InputKind>, read: KindSet) -> Option<LoadedInput> {
    let Pending::File(file) = pending else { return None };
    if file.explicit || file.kind.is_some() || kind_override.is_some() {
        return None;
    }
    let by_name = classify_name(Path::new(&file.name)).or_else(|| classify_name(&file.path));
    let kind = by_name.and_then(|(_, k)| k)?;
    (!read.contains(kind)).then(|| LoadedInput {
        documents: Vec::new(),
        problems: Vec::new(),
        skipped: Some(SkippedFile { name: file.name.clone(), explicit: false, looks_like_configuration: false }),
    })
}

/// Loads the env files compose files reference that were not among the inputs, so a compose
/// file checked alone (a pre-commit hook passes only changed files) still sees its variables,
/// and reports their findings too: they are part of what was checked. Env files only context
/// compose files reference stay context, and so do env files among `elsewhere` (the inputs of
/// other batches, which check and count them). A referenced file that does not exist is not an
/// error: it is often a git-ignored `.env`.
///
/// A reference outside `scope` (`../../../../etc/passwd`, `/etc/passwd`, a link leading out)
/// is an error at the `env_file` value, naming the reference as written; the target is
/// neither read nor shown.
fn load_referenced(loaded: &mut Loaded, sources: &SourceMap, scope: &ReadScope, elsewhere: &HashSet<String>) {
    load_referencing_compose_files(loaded, sources, scope);
    let known: HashSet<String> = loaded.documents.iter().map(|d| sources.get(d.file).name.clone()).collect();
    let requested: HashSet<String> = loaded
        .documents
        .iter()
        .filter(|d| !loaded.context.contains(&d.file))
        .flat_map(|d| referenced_env_files(d, sources))
        .map(|r| r.name)
        .collect();
    let mut wanted: Vec<_> = loaded
        .documents
        .iter()
        .flat_map(|d| referenced_env_files(d, sources))
        .filter(|r| r.path.is_some() && !known.contains(&r.name))
        .collect();
    wanted.sort_by(|a, b| (&a.name, a.span.start).cmp(&(&b.name, b.span.start)));
    // One read (and at most one error) per file, at its first reference.
    wanted.dedup_by(|a, b| a.name == b.name);
    for reference in wanted {
        let Some(path) = reference.path else { continue };
        let refused =
            |problem: String| Problem::at(reference.span, format!("env_file `{}` {problem}", reference.written));
        if !scope.contains_lexically(&path) {
            loaded.problems.push(refused(ReadError::Outside.to_string()));
            continue;
        }
        match scope.read(&path) {
            Ok(bytes) => {
                let checked = requested.contains(&reference.name) && !elsewhere.contains(&reference.name);
                let input = Input {
                    name: reference.name,
                    path: Some(path),
                    bytes,
                    explicit: false,
                    kind: Some(InputKind::Env),
                };
                let result = load_input(input, sources, None, &ComponentCatalog::default(), KindSet::ALL);
                if checked {
                    loaded.files += 1;
                    loaded.checked += 1;
                } else {
                    loaded.context.extend(result.documents.iter().map(|d| d.file));
                }
                loaded.documents.extend(result.documents);
                loaded.problems.extend(result.problems);
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => loaded.problems.push(refused(e.to_string())),
        }
    }
}

/// Reads one input: its kind comes from `--kind`, the configuration, its name or its content,
/// in that order. An input of a known kind that cannot be read is a located error; any other
/// input that cannot be read or classified is skipped, like every file that is not ours.
fn load_input(
    input: Input,
    sources: &SourceMap,
    kind_override: Option<InputKind>,
    declared: &ComponentCatalog,
    read: KindSet,
) -> LoadedInput {
    let by_name = classify_name(Path::new(&input.name)).or_else(|| input.path.as_deref().and_then(classify_name));
    let name_kind = input.kind.or(kind_override).or(by_name.and_then(|(_, k)| k));
    let skip = |looks_like_configuration: bool| LoadedInput {
        documents: Vec::new(),
        problems: Vec::new(),
        skipped: Some(SkippedFile { name: input.name.clone(), explicit: input.explicit, looks_like_configuration }),
    };
    let chosen = input.explicit || input.kind.is_some() || kind_override.is_some();
    let unread = match (name_kind, by_name) {
        (Some(kind), _) => !read.contains(kind),
        (None, Some((Syntax::Json, _))) => !read.may_hold(&input.bytes),
        _ => false,
    };
    if unread && !chosen {
        return skip(false);
    }
    let fail = |problem: Problem| LoadedInput { documents: Vec::new(), problems: vec![problem], skipped: None };
    if input.bytes.contains(&0) {
        return match name_kind {
            Some(_) => fail(Problem::file(Some(input.name.clone()), "not a text file (binary content)")),
            None => skip(false),
        };
    }
    let text: &str = match std::str::from_utf8(&input.bytes) {
        Ok(text) => text,
        Err(e) => {
            // Locate the first invalid byte in a lossy copy: everything before it is unchanged.
            let lossy = String::from_utf8_lossy(&input.bytes).into_owned();
            let syntax = by_name.map_or_else(|| sniff_syntax(&lossy), |(syntax, _)| syntax);
            if name_kind.is_none() && evident_kind(syntax, &lossy).is_none() {
                return skip(false);
            }
            let at = e.valid_up_to() - if lossy.starts_with('\u{feff}') { 3 } else { 0 };
            let file = sources.add(SourceFile::new(input.name.clone(), input.path.clone(), &lossy));
            let span = Span::new(file, at, at + lossy[at..].chars().next().map_or(0, char::len_utf8));
            return fail(Problem::at(span, "not valid UTF-8 (save the file as UTF-8)"));
        }
    };
    let syntax = match (name_kind, by_name) {
        (Some(kind), by_name) => syntax_for(kind, by_name.map(|(syntax, _)| syntax), text),
        (None, Some((syntax, _))) => syntax,
        (None, None) => sniff_syntax(text),
    };
    let file = sources.add(SourceFile::new(input.name.clone(), input.path.clone(), text));
    // The source map holds the text now: the bytes read would double what a large file costs
    // while it is parsed.
    drop(input.bytes);
    let source = sources.get(file);
    let text = &*source.text;
    let parsed: Result<Vec<(Node, Option<String>)>, ParseError> = match syntax {
        Syntax::Yaml => {
            load_yaml(file, &source.text).map(|docs| docs.into_iter().map(|d| (d.root, d.helm_source)).collect())
        }
        Syntax::Json => load_json(file, &source.text).map(|n| vec![(n, None)]),
        Syntax::Toml => load_toml(file, &source.text).map(|n| vec![(n, None)]),
        Syntax::Env => load_env(file, &source.text).map(|n| vec![(n, None)]),
    };
    let roots = match parsed {
        Ok(roots) => roots,
        Err(e) if name_kind.is_some() || evident_kind(syntax, text).is_some() => {
            return fail(Problem::at(e.span, e.message));
        }
        Err(_) => return skip(false),
    };
    let mut documents = Vec::new();
    let mut configuration_like = false;
    for (index, (root, helm_source)) in roots.into_iter().enumerate() {
        if root.value == Value::Null && syntax == Syntax::Yaml {
            continue;
        }
        match name_kind.or_else(|| classify_content(&root, syntax, declared)) {
            Some(kind) => documents.push(Document::new(file, index, kind, root, helm_source)),
            None => configuration_like |= looks_like_configuration(&root),
        }
    }
    if documents.is_empty() && name_kind.is_none() {
        return skip(configuration_like);
    }
    LoadedInput { documents, problems: Vec::new(), skipped: None }
}

/// Loads, as context, the compose files beside an env file that no loaded compose file
/// references: an env file checked alone (pre-commit passes only changed files) is then still
/// attributed to its service instead of being judged as a complete configuration.
///
/// A neighbour that is a link leading outside `scope` is an error, and is not read.
fn load_referencing_compose_files(loaded: &mut Loaded, sources: &SourceMap, scope: &ReadScope) {
    let loaded_names: HashSet<String> = loaded.documents.iter().map(|d| sources.get(d.file).name.clone()).collect();
    let mut dirs: Vec<PathBuf> = loaded
        .documents
        .iter()
        .filter(|d| d.kind == InputKind::Env)
        .filter_map(|d| sources.get(d.file).path.as_ref().and_then(|p| p.parent().map(Path::to_path_buf)))
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut candidates: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && matches!(classify_name(p), Some((_, Some(InputKind::Compose)))))
            .collect();
        candidates.sort();
        for path in candidates {
            let cwd = std::env::current_dir().unwrap_or_default();
            let name = display_name(&path, &cwd);
            if loaded_names.contains(&name) {
                continue;
            }
            let bytes = match scope.read(&path) {
                Ok(bytes) => bytes,
                Err(ReadError::Outside) => {
                    loaded.problems.push(Problem::file(Some(name), ReadError::Outside.to_string()));
                    continue;
                }
                Err(_) => continue,
            };
            let input = Input { name, path: Some(path), bytes, explicit: false, kind: Some(InputKind::Compose) };
            let result = load_input(input, sources, None, &ComponentCatalog::default(), KindSet::ALL);
            // A broken neighbour is the user's business only when they check it.
            if result.problems.is_empty() {
                loaded.context.extend(result.documents.iter().map(|d| d.file));
                loaded.documents.extend(result.documents);
            }
        }
    }
}

//! Rule packs: TOML files whose rules are CEL expressions.
//!
//! A pack is either one TOML file (`[pack]` plus `[[rule]]`s) or a directory holding
//! `pack.toml` and any number of rule files (`[[rule]]`s), each rule's fixtures in a directory
//! named like its file (`tls/PSH-TLS-008.toml` → `tls/PSH-TLS-008/`). Every problem in a pack
//! (TOML syntax, an unknown key, a CEL syntax error, an expression the declared environment
//! rejects: [`environment`], [`typecheck`]) is reported at its line and column in the pack
//! file; a CEL error is mapped from the expression into the TOML string holding it.
//!
//! A pack of YAML files holding Kubernetes ValidatingAdmissionPolicies is loaded by
//! [`crate::vap`] into the same rules.

mod components;
pub mod cost;
mod docs;
pub mod environment;
mod expr;
mod schema;
mod template;
pub mod typecheck;
mod verify;

pub use docs::{reference_markdown, rule_markdown};
pub(crate) use expr::{CompileError, compile as compile_cel};
pub use schema::toml_to_node as toml_value_to_node;
pub use template::Template;

use crate::components::ComponentCatalog;
use crate::diagnostic::{Problem, Severity};
use crate::eval::functions::cel_env;
use crate::kind::InputKind;
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::tree::Node;
use cel::Program;
use schema::{PackFileToml, RuleToml};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// A file of a pack, read into memory (from disk or embedded in the binary).
#[derive(Clone, Debug)]
pub struct PackFile {
    /// Path relative to the pack root, with `/` separators.
    pub relative: String,
    /// The name shown in messages.
    pub display: String,
    /// Where it was read from on disk, if it was.
    pub path: Option<PathBuf>,
    /// The content.
    pub text: Arc<str>,
}

/// A loaded pack: metadata, compiled rules, and the files behind it (for fixtures).
#[derive(Debug)]
pub struct Pack {
    /// Metadata from `[pack]`.
    pub meta: PackMeta,
    /// The rules, in file order.
    pub rules: Vec<Arc<Rule>>,
    /// The components the pack declares (`[[component]]`), which its rules read.
    pub components: Arc<ComponentCatalog>,
    /// Every file of the pack, for fixtures.
    pub files: Vec<PackFile>,
    /// Remarks about the pack that are not errors (parts of a ValidatingAdmissionPolicy
    /// celador ignores), for the front end to show.
    pub notes: Vec<String>,
}

/// `[pack]`.
#[derive(Clone, Debug, Default)]
pub struct PackMeta {
    /// Stable identifier.
    pub id: String,
    /// Version of the pack.
    pub version: String,
    /// Human title.
    pub title: String,
    /// Where the pack is documented.
    pub docs: Option<String>,
}

/// Whether a finding's located value is a secret, masked in every output.
#[derive(Clone, Debug)]
pub enum Secret {
    /// Never.
    Never,
    /// Always.
    Always,
    /// When this expression (evaluated with the element bound) is true.
    When(Arc<Program>),
}

/// Where a rule's elements come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Once per document: `doc`, `kind`, `file` and the document's `components` are bound.
    Document,
    /// Once per deployment (the documents of one directory, or of stdin): `components` and
    /// `docs` from all of them, for checks that span files.
    Deployment,
}

/// The prose of a rule: what `celador explain`, SARIF help and the rule reference show.
#[derive(Clone, Debug, Default)]
pub struct RuleDocs {
    /// What the rule checks.
    pub what: String,
    /// Why it matters.
    pub why: String,
    /// How to fix it, usually with a snippet.
    pub fix: String,
    /// The hardening guide section the rule encodes.
    pub guide: Option<String>,
    /// Further reading.
    pub references: Vec<String>,
}

/// A fixture a rule ships with: a file or directory and the findings it must produce.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// Path relative to the pack root.
    pub path: String,
    /// The path as the rule writes it (relative to the rule file's directory): the fixture's
    /// section in the snapshot.
    pub written: String,
    /// The rule's snapshot file, relative to the pack root: `<ID>.snap` beside the rule file.
    pub snapshot: String,
    /// Expected `(line, column)` of each finding of this rule, in any order.
    pub expect: Vec<(usize, usize)>,
    /// Kind override for the fixture's files.
    pub kind: Option<InputKind>,
    /// Parameter overrides for this fixture.
    pub params: Option<toml::Table>,
    /// Where the fixture is declared, for messages.
    pub span: Span,
}

/// One rule of a pack: what it is, and its compiled expressions ([`CompiledRule`], which a rule
/// dereferences to).
#[derive(Debug)]
pub struct Rule {
    /// Rule id, e.g. `PSH-TLS-008`.
    pub id: Arc<str>,
    /// One-line title.
    pub title: Arc<str>,
    /// Severity.
    pub severity: Severity,
    /// Input kinds the rule applies to.
    pub kinds: Vec<InputKind>,
    /// Per document or per deployment.
    pub scope: Scope,
    /// The name the element is bound to.
    pub bind: Arc<str>,
    /// Short remediation shown with each finding.
    pub help: Option<Arc<str>>,
    /// Documentation URL.
    pub docs_url: Option<Arc<str>>,
    /// Long-form docs.
    pub docs: RuleDocs,
    /// Tags (e.g. `security`, `tls`).
    pub tags: Vec<String>,
    /// Default parameters, bound as `params`.
    pub params: Node,
    /// Fixtures.
    pub fixtures: Vec<Fixture>,
    /// Pack the rule belongs to.
    pub pack: String,
    /// The components its pack declares: what `components` (and `k8s.services[].roles`) hold
    /// for this rule.
    pub components: Arc<ComponentCatalog>,
    /// The span of the rule's `id` in its pack file.
    pub span: Span,
    /// For a rule compiled from a Kubernetes ValidatingAdmissionPolicy: the binding's scope,
    /// params and actions (see [`crate::vap`]).
    pub admission: Option<Arc<crate::vap::Admission>>,
    /// Its expressions, compiled at load or when first used; shared by its copies
    /// ([`Rule::clone_with`]).
    pub(crate) programs: Programs,
}

/// A rule's compiled expressions and what is derived from them.
#[derive(Clone, Debug)]
pub struct CompiledRule {
    /// Precondition, evaluated with the element bound; the element is skipped when false.
    pub when: Option<Arc<Program>>,
    /// Whether `when` may read the element (`as`, `key`, or a variable that reads it). When it
    /// cannot (`deployment.complete`), it is evaluated once per unit, before `each`: a rule
    /// that does not apply to the admission webhook's one object never selects its elements.
    pub when_reads_element: bool,
    /// Selector of the elements to check; `None` checks the scope once.
    pub each: Option<Arc<Program>>,
    /// Must hold for every element.
    pub assert: Arc<Program>,
    /// Where to report a failure; defaults to the element.
    pub locate: Option<Arc<Program>>,
    /// Places reported as `related`: a list of values.
    pub related: Option<Arc<Program>>,
    /// Named expressions read as `variables.NAME`: the pack's `[[variables]]` the rule reads
    /// (directly or through others), then its `[[rule.variables]]`, each after those it reads.
    pub variables: Vec<Variable>,
    /// The finding's message.
    pub message: Template,
    /// Whether the located value is a secret that must never be shown.
    pub secret: Secret,
    /// Which of the expensive variables the rule's expressions read, so a document only
    /// prepares those.
    pub uses: Uses,
    /// Its estimated cost on one unit, as a degree in the unit's size ([`cost`]).
    pub cost: cost::RuleCost,
}

/// When a pack's rules are compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compile {
    /// At load, every rule: each problem of every expression is reported by [`load_pack`].
    /// What a pack a user wrote needs.
    AtLoad,
    /// Each rule when first used ([`Rule::compiled`], [`compile_rules`]); loading reports only
    /// the problems of the TOML itself. For the built-in pack, which the test suite compiles
    /// and checks whole: a run compiles only the rules of the kinds it reads (on one stack
    /// file, 11 of 39), where compiling every rule was most of a cold `celador check`.
    WhenUsed,
}

/// A rule's expressions: compiled, or what to compile them from.
#[derive(Clone)]
pub(crate) struct Programs(Arc<ProgramsCell>);

struct ProgramsCell {
    compiled: OnceLock<Result<CompiledRule, Vec<Problem>>>,
    /// The rule's TOML, for [`Compile::WhenUsed`].
    pending: Option<(RuleToml, RuleContext)>,
}

impl Programs {
    pub(crate) fn compiled(compiled: CompiledRule) -> Programs {
        Programs(Arc::new(ProgramsCell { compiled: OnceLock::from(Ok(compiled)), pending: None }))
    }

    fn pending(rule: &RuleToml, context: &RuleContext) -> Programs {
        Programs(Arc::new(ProgramsCell { compiled: OnceLock::new(), pending: Some((rule.clone(), context.clone())) }))
    }

    /// Compiles the expressions on this thread, unless they are already.
    fn compile_here(&self) -> Result<&CompiledRule, &[Problem]> {
        let cell = &*self.0;
        let compiled = cell.compiled.get_or_init(|| match &cell.pending {
            Some((rule, context)) => compile_rule(rule, context, Compile::AtLoad)
                .and_then(|rule| rule.compiled().cloned().map_err(<[Problem]>::to_vec)),
            // Never: a rule's programs are made compiled or pending.
            None => Err(Vec::new()),
        });
        compiled.as_ref().map_err(Vec::as_slice)
    }

    /// Whether the expressions were compiled (or failed to), not left for later.
    pub(crate) fn is_compiled(&self) -> bool {
        self.0.compiled.get().is_some()
    }
}

impl std::fmt::Debug for Programs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.compiled.get() {
            Some(Ok(compiled)) => compiled.fmt(f),
            Some(Err(problems)) => f.debug_tuple("Failed").field(problems).finish(),
            None => f.write_str("NotYetCompiled"),
        }
    }
}

impl Rule {
    /// Its compiled expressions, compiling them first if they are not yet
    /// ([`Compile::WhenUsed`]), on a thread with the compiler's stack.
    ///
    /// # Errors
    /// The problems of its expressions (syntax, types, cost), located in its pack file; the
    /// same ones each time.
    pub fn compiled(&self) -> Result<&CompiledRule, &[Problem]> {
        if self.programs.is_compiled() {
            return self.programs.compile_here();
        }
        on_compiler_stack(|| {
            // Compiles and leaves the result in the rule, read below.
            let _ = self.programs.compile_here();
        });
        self.programs.compile_here()
    }
}

/// A rule reads as its compiled expressions: evaluation reads `rule.assert`, `rule.uses`, …
///
/// # Panics
/// When its expressions do not compile. Only a rule loaded with [`Compile::WhenUsed`] can get
/// there (one loaded with [`Compile::AtLoad`] failed to load instead), and only the built-in
/// pack is, which `cargo test -p celador-rules` compiles and checks whole; front ends compile
/// the rules they run with [`compile_rules`] first, which reports the problems.
impl std::ops::Deref for Rule {
    type Target = CompiledRule;

    fn deref(&self) -> &CompiledRule {
        match self.compiled() {
            Ok(compiled) => compiled,
            Err(problems) => panic!(
                "rule {} does not compile (compile_rules reports why): {:?}",
                self.id,
                problems.iter().map(|p| &p.message).collect::<Vec<_>>()
            ),
        }
    }
}

/// Compiles the rules not compiled yet (loaded with [`Compile::WhenUsed`]), on two threads with
/// the compiler's stack; returns the problems of those that do not compile, in rule order.
pub fn compile_rules(rules: &[Arc<Rule>]) -> Vec<Problem> {
    let pending: Vec<&Rule> = rules.iter().map(|r| &**r).filter(|r| !r.programs.is_compiled()).collect();
    // Rules alternate between the threads (sizes vary along a pack).
    let halves: [Vec<&Rule>; 2] =
        [pending.iter().step_by(2).copied().collect(), pending.iter().skip(1).step_by(2).copied().collect()];
    std::thread::scope(|scope| {
        for half in halves.into_iter().filter(|h| !h.is_empty()) {
            // A thread that cannot start leaves its rules to be compiled below, on this one.
            let _ = std::thread::Builder::new()
                .name("celador-pack".into())
                .stack_size(crate::limits::COMPILER_STACK)
                .spawn_scoped(scope, move || {
                    for rule in half {
                        let _ = rule.programs.compile_here();
                    }
                });
        }
    });
    pending.iter().flat_map(|rule| rule.programs.compile_here().err().unwrap_or_default().to_vec()).collect()
}

/// Runs `f` on a thread with [`crate::limits::COMPILER_STACK`]: the CEL parser recurses, up to
/// the nesting [`crate::limits::MAX_EXPRESSION_NESTING`] allows. When no thread can be started,
/// `f` does not run (the caller then compiles on its own thread).
fn on_compiler_stack(f: impl FnOnce() + Send) {
    std::thread::scope(|scope| {
        let started = std::thread::Builder::new()
            .name("celador-pack".into())
            .stack_size(crate::limits::COMPILER_STACK)
            .spawn_scoped(scope, f);
        if let Ok(thread) = started {
            thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
    });
}

/// A named expression of a pack (`[[variables]]`) or a rule (`[[rule.variables]]`), the shape of
/// a Kubernetes ValidatingAdmissionPolicy's `spec.variables`: read as `variables.NAME`, and
/// evaluated when first read, at most once per unit, or once per element when it reads the
/// element ([`crate::eval::variables`]).
#[derive(Clone, Debug)]
pub struct Variable {
    /// The name after `variables.`.
    pub name: Arc<str>,
    /// The compiled expression.
    pub program: Arc<Program>,
    /// Whether it reads the element (`as`, `key`) or a variable that does.
    pub per_element: bool,
}

/// The unit variables a rule reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Uses {
    /// `doc`.
    pub doc: bool,
    /// `components`.
    pub components: bool,
    /// `resources`.
    pub resources: bool,
    /// `docs` (deployment scope).
    pub docs: bool,
    /// `documents` (deployment scope).
    pub documents: bool,
    /// `oldDoc` (document scope).
    pub old_doc: bool,
    /// `k8s`, the Kubernetes relations of a deployment (deployment scope).
    pub k8s: bool,
    /// `deployment`, what is known about the deployment itself (deployment scope).
    pub deployment: bool,
}

impl Uses {
    /// Both sets.
    pub fn union(self, other: Uses) -> Uses {
        Uses {
            doc: self.doc || other.doc,
            components: self.components || other.components,
            resources: self.resources || other.resources,
            docs: self.docs || other.docs,
            documents: self.documents || other.documents,
            old_doc: self.old_doc || other.old_doc,
            k8s: self.k8s || other.k8s,
            deployment: self.deployment || other.deployment,
        }
    }
}

impl Rule {
    /// A copy of the rule, for configuration overrides; it shares the rule's expressions
    /// (compiled once for both).
    pub fn clone_with(rule: &Rule) -> Rule {
        Rule {
            id: rule.id.clone(),
            title: rule.title.clone(),
            severity: rule.severity,
            kinds: rule.kinds.clone(),
            scope: rule.scope,
            bind: rule.bind.clone(),
            help: rule.help.clone(),
            docs_url: rule.docs_url.clone(),
            docs: rule.docs.clone(),
            tags: rule.tags.clone(),
            params: rule.params.clone(),
            fixtures: rule.fixtures.clone(),
            pack: rule.pack.clone(),
            components: rule.components.clone(),
            span: rule.span,
            admission: rule.admission.clone(),
            programs: rule.programs.clone(),
        }
    }
}

/// Reads a pack from a file or a directory on disk.
///
/// # Errors
/// Unreadable files, as problems.
pub fn read_pack_files(path: &Path, display: &str) -> Result<Vec<PackFile>, Problem> {
    let read = |file: &Path, relative: String, shown: String| -> Result<PackFile, Problem> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Problem::file(Some(shown.clone()), format!("cannot read pack file: {e}")))?;
        Ok(PackFile { relative, display: shown, path: Some(file.to_path_buf()), text: Arc::from(text) })
    };
    if path.is_file() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("pack.toml").to_owned();
        return Ok(vec![read(path, name, display.to_owned())?]);
    }
    if !path.is_dir() {
        return Err(Problem::file(Some(display.to_owned()), "no such pack file or directory"));
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Problem::file(Some(display.to_owned()), format!("cannot read pack directory: {e}")))?;
        for entry in entries.flatten() {
            let child = entry.path();
            if child.is_dir() {
                stack.push(child);
                continue;
            }
            let relative = child.strip_prefix(path).unwrap_or(&child).to_string_lossy().replace('\\', "/");
            let shown = format!("{}/{relative}", display.trim_end_matches('/'));
            files.push(read(&child, relative, shown)?);
        }
    }
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(files)
}

/// Whether `relative` is a rule file of the pack rather than a fixture: a `.toml` file that no
/// rule file's fixture directory contains. `tomls` are the `.toml` files of the pack.
fn is_rule_file(relative: &str, tomls: &std::collections::HashSet<&str>) -> bool {
    if !relative.ends_with(".toml") {
        return false;
    }
    let mut dir = relative;
    while let Some((parent, _)) = dir.rsplit_once('/') {
        if tomls.contains(format!("{parent}.toml").as_str()) {
            return false;
        }
        dir = parent;
    }
    true
}

/// Parses and compiles a pack. Every problem is collected, so one run reports them all.
///
/// Compiling runs on a thread of its own with a large stack ([`crate::limits::COMPILER_STACK`]): the
/// CEL parser recurses, up to the nesting [`crate::limits::MAX_EXPRESSION_NESTING`] allows.
///
/// # Errors
/// Syntax errors, unknown keys, invalid values, CEL compile errors and CEL expressions nested
/// too deep, located in `sources`.
pub fn load_pack(files: Vec<PackFile>, sources: &SourceMap) -> Result<Pack, Vec<Problem>> {
    load_pack_compiling(files, sources, Compile::AtLoad)
}

/// [`load_pack`], compiling its rules' expressions at load or when first used ([`Compile`]).
///
/// # Errors
/// As [`load_pack`]; with [`Compile::WhenUsed`], the problems of the rules' expressions are
/// left to [`compile_rules`] (the pack's own `[[variables]]` are still compiled here).
pub fn load_pack_compiling(files: Vec<PackFile>, sources: &SourceMap, when: Compile) -> Result<Pack, Vec<Problem>> {
    std::thread::scope(|scope| {
        let compiler = std::thread::Builder::new()
            .name("celador-pack".into())
            .stack_size(crate::limits::COMPILER_STACK)
            .spawn_scoped(scope, || load_pack_here(files, sources, when));
        match compiler {
            Ok(thread) => thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => Err(vec![Problem::file(None, "cannot start a thread to compile the rule packs")]),
        }
    })
}

/// A rule to read: its TOML, its file, the pack's id and the rule file's directory.
type CompileJob = (RuleToml, FileId, Arc<SourceFile>, String, String);

fn load_pack_here(files: Vec<PackFile>, sources: &SourceMap, when: Compile) -> Result<Pack, Vec<Problem>> {
    if crate::vap::is_admission_pack(&files) {
        return crate::vap::load_pack(files, sources);
    }
    let env = cel_env();
    let mut problems = Vec::new();
    let mut meta: Option<PackMeta> = None;
    let mut rules: Vec<Arc<Rule>> = Vec::new();
    let mut jobs: Vec<CompileJob> = Vec::new();
    let mut declared = Vec::new();
    let mut pack_variables: Vec<(schema::VariableToml, FileId, Arc<SourceFile>)> = Vec::new();
    let single_file = files.len() == 1;
    // A set: the built-in pack has hundreds of files, most of them fixtures.
    let tomls: std::collections::HashSet<&str> =
        files.iter().map(|f| f.relative.as_str()).filter(|r| r.ends_with(".toml")).collect();
    let rule_files: Vec<(&PackFile, FileId)> = files
        .iter()
        .filter(|f| is_rule_file(&f.relative, &tomls))
        .map(|file| (file, sources.add(SourceFile::new(file.display.clone(), file.path.clone(), &file.text))))
        .collect();
    let parsed_files = parse_rule_files(&rule_files, sources);
    for ((file, id), parsed) in rule_files.into_iter().zip(parsed_files) {
        let source = sources.get(id);
        let parsed: PackFileToml = match parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                let span = e.span().map_or(Span::new(id, 0, 0), |r| Span::new(id, r.start, r.end));
                problems.push(Problem::at(span, format!("invalid rule pack: {}", e.message().trim())));
                continue;
            }
        };
        let declares_pack = parsed.pack.is_some();
        if parsed.pack.is_none()
            && let Some(first) = parsed.variables.first()
        {
            problems.push(Problem::at(
                Span::new(id, first.name.span().start, first.name.span().end),
                "pack variables (`[[variables]]`) belong beside `[pack]`, in pack.toml; a rule's own are `[[rule.variables]]`",
            ));
        }
        if let Some(pack) = parsed.pack {
            meta = Some(PackMeta { id: pack.id, version: pack.version, title: pack.title, docs: pack.docs });
            pack_variables.extend(parsed.variables.into_iter().map(|v| (v, id, source.clone())));
        }
        components::declare(parsed.component, id, declares_pack, &mut declared, &mut problems);
        let pack_id = meta.as_ref().map(|m| m.id.clone()).unwrap_or_default();
        let base_dir = file.relative.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
        jobs.extend(parsed.rule.into_iter().map(|rule| (rule, id, source.clone(), pack_id.clone(), base_dir.clone())));
    }
    let pack_variables = Arc::new(compile_pack_variables(pack_variables, &env, &mut problems));
    type Read = (usize, Result<Rule, Vec<Problem>>);
    let compile = |jobs: Vec<(usize, CompileJob)>| -> Vec<Read> {
        jobs.into_iter()
            .map(|(i, (rule, file, source, pack, base_dir))| {
                let context = RuleContext {
                    file,
                    source,
                    pack,
                    base_dir,
                    env: Arc::clone(&env),
                    variables: Arc::clone(&pack_variables),
                };
                (i, compile_rule(&rule, &context, when))
            })
            .collect()
    };
    let jobs: Vec<(usize, CompileJob)> = jobs.into_iter().enumerate().collect();
    let mut compiled: Vec<Read> = if when == Compile::WhenUsed {
        compile(jobs)
    } else {
        // Compiling CEL is most of loading a pack: the rules are compiled on two threads, both
        // on the compiler's large stack. Rules alternate between the threads (sizes vary along
        // a pack), then return to pack order.
        let (mine, theirs): (Vec<_>, Vec<_>) = jobs.into_iter().partition(|(i, _)| i % 2 == 0);
        std::thread::scope(|scope| {
            let other = std::thread::Builder::new()
                .name("celador-pack".into())
                .stack_size(crate::limits::COMPILER_STACK)
                .spawn_scoped(scope, || compile(theirs));
            let mut compiled = compile(mine);
            match other {
                Ok(thread) => compiled.extend(thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))),
                Err(_) => compiled.push((
                    usize::MAX,
                    Err(vec![Problem::file(None, "cannot start a thread to compile the rule packs")]),
                )),
            }
            compiled
        })
    };
    compiled.sort_by_key(|(i, _)| *i);
    for (_, result) in compiled {
        match result {
            Ok(rule) => {
                if let Some(first) = rules.iter().find(|r| r.id == rule.id) {
                    let line = sources.start(first.span).line;
                    problems.push(Problem::at(
                        rule.span,
                        format!(
                            "rule `{}` is defined twice (first in {} line {line})",
                            rule.id,
                            sources.get(first.span.file).name
                        ),
                    ));
                }
                rules.push(Arc::new(rule));
            }
            Err(mut errs) => problems.append(&mut errs),
        }
    }
    if meta.is_none() && problems.is_empty() {
        let shown = files.first().map(|f| f.display.clone());
        problems.push(Problem::file(
            shown,
            if single_file {
                "rule pack has no [pack] table"
            } else {
                "rule pack directory has no pack.toml with a [pack] table"
            },
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let meta = meta.unwrap_or_default();
    let components = Arc::new(ComponentCatalog::new(declared));
    for rule in &mut rules {
        if let Some(rule) = Arc::get_mut(rule) {
            rule.pack.clone_from(&meta.id);
            rule.components = components.clone();
        }
    }
    Ok(Pack { meta, rules, files, notes: Vec::new(), components })
}

/// Parses the TOML of rule files, in their order, on two threads (the built-in pack's 400 KB of
/// TOML took a few milliseconds on one).
fn parse_rule_files(files: &[(&PackFile, FileId)], sources: &SourceMap) -> Vec<Result<PackFileToml, toml::de::Error>> {
    let parse = |files: &[(&PackFile, FileId)]| -> Vec<Result<PackFileToml, toml::de::Error>> {
        files.iter().map(|(_, id)| toml::from_str(&sources.get(*id).text)).collect()
    };
    // Halves of equal bytes rather than of equal counts: rule files differ a lot in size.
    let total: usize = files.iter().map(|(f, _)| f.text.len()).sum();
    let mut bytes = 0;
    let half = files
        .iter()
        .position(|(f, _)| {
            bytes += f.text.len();
            bytes * 2 >= total
        })
        .map_or(files.len(), |i| i + 1);
    let (first, second) = files.split_at(half);
    if second.is_empty() {
        return parse(first);
    }
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("celador-pack".into())
            .stack_size(crate::limits::COMPILER_STACK)
            .spawn_scoped(scope, || parse(second));
        let mut parsed = parse(first);
        match other {
            Ok(thread) => parsed.extend(thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))),
            Err(_) => parsed.extend(parse(second)),
        }
        parsed
    })
}

/// Compiles one expression, reporting syntax errors and expressions nested too deep at their
/// place in the pack file.
fn compile_expression(
    env: &cel::Env,
    source: &SourceFile,
    file: FileId,
    expr: &toml::Spanned<String>,
    problems: &mut Vec<Problem>,
) -> Option<Program> {
    match expr::compile(env, expr.get_ref()) {
        Ok(program) => Some(program),
        Err(expr::CompileError::TooDeep { offset }) => {
            let at = cel_position(source, expr.span(), template::position_in(expr.get_ref(), offset));
            problems.push(Problem::at(
                Span::new(file, at, (at + 1).min(source.text.len())),
                expr::CompileError::too_deep_message(),
            ));
            None
        }
        Err(expr::CompileError::TooCostly { offset }) => {
            let at = cel_position(source, expr.span(), template::position_in(expr.get_ref(), offset));
            problems.push(Problem::at(
                Span::new(file, at, (at + 1).min(source.text.len())),
                expr::CompileError::too_costly_message(),
            ));
            None
        }
        Err(expr::CompileError::Syntax(errors)) => {
            // The first error only: what the parser reports after recovering from it is mostly a
            // consequence of it (an `unexpected token`, then a missing `)`).
            for error in errors.errors.into_iter().take(1) {
                let at = cel_position(source, expr.span(), error.pos);
                let message = error.msg.trim().to_owned();
                problems.push(Problem::at(
                    Span::new(file, at, (at + 1).min(source.text.len())),
                    format!("CEL syntax error: {message}"),
                ));
            }
            None
        }
    }
}

/// Whether `name` may name a variable: letters, digits and `_`, not starting with a digit.
fn valid_variable_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A pack's `[[variables]]`, compiled and checked: every rule may read them.
#[derive(Default)]
struct PackVariables {
    /// In an order where each follows those it reads.
    compiled: Vec<Variable>,
    /// What each is known to be.
    types: std::collections::BTreeMap<String, verify::NamedType>,
    /// Where each is named, for messages.
    spans: std::collections::BTreeMap<String, Span>,
}

fn compile_pack_variables(
    declared: Vec<(schema::VariableToml, FileId, Arc<SourceFile>)>,
    env: &cel::Env,
    problems: &mut Vec<Problem>,
) -> PackVariables {
    let mut found = Vec::new();
    let mut compiled = Vec::new();
    let mut spans = std::collections::BTreeMap::new();
    for (variable, file, source) in &declared {
        let name = variable.name.get_ref();
        let span = Span::new(*file, variable.name.span().start, variable.name.span().end);
        if !valid_variable_name(name) {
            found.push(Problem::at(
                span,
                format!("invalid variable name `{name}` (letters, digits and `_`, not starting with a digit)"),
            ));
        } else if spans.insert(name.clone(), span).is_some() {
            found.push(Problem::at(span, format!("variable `{name}` is defined twice")));
        }
        if let Some(program) = compile_expression(env, source, *file, &variable.expression, &mut found) {
            compiled.push((name.as_str(), Arc::new(program), variable, *file, source.clone()));
        }
    }
    if !found.is_empty() {
        problems.append(&mut found);
        return PackVariables::default();
    }
    let named: Vec<verify::Named<'_>> = compiled
        .iter()
        .map(|(name, program, variable, file, source)| verify::Named {
            name,
            program,
            place: verify::Place { source, file: *file, token: &variable.expression, offset: 0 },
        })
        .collect();
    let (order, types) = verify::check_named(&verify::pack_environment(), &named, &Default::default(), &[], problems);
    let mut sources = cost::VariableSources::default();
    for &i in &order {
        let growth = sources.add_unit_variable(named[i].name, named[i].program);
        if growth.degree > crate::limits::MAX_COST_DEGREE {
            let start = growth.at.and_then(|id| named[i].program.source_info().offset_for(id)).map_or(0, |(s, _)| s);
            problems.push(Problem::at(
                named[i].place.span(start as usize, start as usize + 1),
                cost::too_costly_message(growth),
            ));
        }
    }
    let compiled = order
        .into_iter()
        .map(|i| Variable { name: Arc::from(compiled[i].0), program: compiled[i].1.clone(), per_element: false })
        .collect();
    PackVariables { compiled, types, spans }
}

/// What compiling a rule needs besides its TOML: its file and what its pack declares.
#[derive(Clone)]
struct RuleContext {
    file: FileId,
    source: Arc<SourceFile>,
    /// The pack's id as known when the rule was read (the rule gets the final one at load).
    pack: String,
    /// The rule file's directory, relative to the pack root: where its fixtures are.
    base_dir: String,
    env: Arc<cel::Env>,
    variables: Arc<PackVariables>,
}

/// Reads a rule: its metadata, and with [`Compile::AtLoad`] its expressions, compiled and
/// checked against its scope's environment, with their estimated cost. With
/// [`Compile::WhenUsed`] the expressions are left to [`Rule::compiled`], and only problems of
/// the TOML itself are found here.
fn compile_rule(rule: &RuleToml, context: &RuleContext, when: Compile) -> Result<Rule, Vec<Problem>> {
    let RuleContext { file, source, pack, base_dir, env, variables: pack_variables } = context;
    let (file, source, env) = (*file, &**source, &**env);
    let now = when == Compile::AtLoad;
    let mut problems = Vec::new();
    let span = |r: std::ops::Range<usize>| Span::new(file, r.start, r.end);
    let mut compile = |expr: &toml::Spanned<String>| {
        if now { compile_expression(env, source, file, expr, &mut problems) } else { None }
    };
    let mut variables: Vec<(&str, Arc<Program>, &toml::Spanned<String>)> = Vec::new();
    let mut variable_problems = Vec::new();
    let bind = rule.bind.clone().unwrap_or_else(|| "it".to_owned());
    let mut names = std::collections::BTreeSet::new();
    for variable in &rule.variables {
        let name = variable.name.get_ref();
        if !valid_variable_name(name) {
            variable_problems.push(Problem::at(
                span(variable.name.span()),
                format!("invalid variable name `{name}` (letters, digits and `_`, not starting with a digit)"),
            ));
        } else if !names.insert(name.as_str()) {
            variable_problems
                .push(Problem::at(span(variable.name.span()), format!("variable `{name}` is defined twice")));
        } else if pack_variables.spans.contains_key(name) {
            variable_problems.push(Problem::at(
                span(variable.name.span()),
                format!("variable `{name}` is already a variable of the pack: rename this one"),
            ));
        }
        if let Some(program) = compile(&variable.expression) {
            variables.push((name.as_str(), Arc::new(program), &variable.expression));
        }
    }
    let when = rule.when.as_ref().map(&mut compile);
    let each = rule.each.as_ref().map(&mut compile);
    let assert = compile(&rule.assert);
    let locate = rule.locate.as_ref().map(&mut compile);
    let related = rule.related.as_ref().map(&mut compile);
    let mut bad_secret = None;
    let mut secret_token = None;
    let secret = match rule.secret.as_ref().map(|s| (s, s.get_ref())) {
        None | Some((_, toml::Value::Boolean(false))) => Some(Secret::Never),
        Some((_, toml::Value::Boolean(true))) => Some(Secret::Always),
        Some((spanned, toml::Value::String(expr))) => {
            let token = toml::Spanned::new(spanned.span(), expr.clone());
            let compiled = compile(&token).map(|p| Secret::When(Arc::new(p)));
            secret_token = Some(token);
            compiled
        }
        Some((spanned, _)) => {
            bad_secret = Some(spanned.span());
            None
        }
    };
    problems.append(&mut variable_problems);
    if let Some(at) = bad_secret {
        problems.push(Problem::at(span(at), "`secret` must be true, false or a CEL expression"));
    }
    let message = now.then(|| Template::compile(&rule.message, source, file, env));

    let severity = Severity::parse(rule.severity.get_ref()).ok_or_else(|| {
        Problem::at(
            span(rule.severity.span()),
            format!(
                "unknown severity `{}` (expected one of critical, high, medium, low, info)",
                rule.severity.get_ref()
            ),
        )
    });
    let mut kinds = Vec::new();
    for kind in rule.kinds.get_ref() {
        match InputKind::parse(kind.get_ref()) {
            Some(k) => kinds.push(k),
            None => problems.push(Problem::at(
                span(kind.span()),
                format!(
                    "unknown input kind `{}` (expected one of {})",
                    kind.get_ref(),
                    InputKind::ALL.map(InputKind::as_str).join(", ")
                ),
            )),
        }
    }
    if kinds.is_empty() && problems.is_empty() {
        problems.push(Problem::at(span(rule.kinds.span()), "a rule needs at least one input kind"));
    }
    let scope = match rule.scope.as_ref().map(|s| s.get_ref().as_str()) {
        None | Some("document") => Scope::Document,
        Some("deployment") => Scope::Deployment,
        Some(other) => {
            let s = rule.scope.as_ref().map_or(0..0, toml::Spanned::span);
            problems
                .push(Problem::at(span(s), format!("unknown scope `{other}` (expected `document` or `deployment`)")));
            Scope::Document
        }
    };
    let id_span = span(rule.id.span());
    let mut fixtures = Vec::new();
    for test in &rule.tests {
        let mut expect = Vec::new();
        for e in test.expect.get_ref() {
            match parse_line_col(e) {
                Some(lc) => expect.push(lc),
                None => {
                    problems.push(Problem::at(span(test.expect.span()), format!("expected `LINE:COLUMN`, found `{e}`")))
                }
            }
        }
        let kind = match test.kind.as_deref() {
            None => None,
            Some(k) => {
                let parsed = InputKind::parse(k);
                if parsed.is_none() {
                    problems.push(Problem::at(span(test.expect.span()), format!("unknown input kind `{k}`")));
                }
                parsed
            }
        };
        let path = if base_dir.is_empty() {
            test.file.get_ref().clone()
        } else {
            format!("{base_dir}/{}", test.file.get_ref())
        };
        fixtures.push(Fixture {
            path,
            written: test.file.get_ref().clone(),
            snapshot: crate::fixture_snapshots::snapshot_path(base_dir, rule.id.get_ref()),
            expect,
            kind,
            params: test.params.clone(),
            span: span(test.file.span()),
        });
    }
    let severity = match severity {
        Ok(s) => Some(s),
        Err(p) => {
            problems.push(p);
            None
        }
    };
    let message = match message {
        Some(Ok(m)) => Some(m),
        Some(Err(mut errs)) => {
            problems.append(&mut errs);
            None
        }
        None => None,
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let Some(severity) = severity else {
        return Err(problems);
    };
    let docs = rule.docs.clone().unwrap_or_default();
    let params = rule.params.as_ref().map_or_else(
        || Node::map(Vec::new(), id_span),
        |t| schema::toml_to_node(&toml::Value::Table(t.clone()), id_span),
    );
    let programs = if now {
        let (Some(assert), Some(message)) = (assert, message) else {
            return Err(problems);
        };
        let expressions = CompiledExpressions {
            when: when.flatten(),
            each: each.flatten(),
            assert,
            locate: locate.flatten(),
            related: related.flatten(),
            secret: secret.unwrap_or(Secret::Never),
            secret_token,
            variables,
            message,
        };
        Programs::compiled(check_and_estimate(rule, scope, &bind, expressions, context)?)
    } else {
        Programs::pending(rule, context)
    };
    Ok(Rule {
        id: Arc::from(rule.id.get_ref().as_str()),
        title: Arc::from(rule.title.as_str()),
        severity,
        kinds,
        scope,
        bind: Arc::from(bind),
        help: rule.help.as_deref().map(Arc::from),
        docs_url: rule.url.as_deref().map(Arc::from),
        docs: RuleDocs {
            what: docs.what,
            why: docs.why,
            fix: docs.fix,
            guide: docs.guide,
            references: docs.references,
        },
        tags: rule.tags.clone(),
        params,
        fixtures,
        pack: pack.clone(),
        components: Arc::default(),
        span: id_span,
        admission: None,
        programs,
    })
}

/// A rule's expressions compiled from its TOML, before they are checked.
struct CompiledExpressions<'a> {
    when: Option<Program>,
    each: Option<Program>,
    assert: Program,
    locate: Option<Program>,
    related: Option<Program>,
    secret: Secret,
    /// The `secret` expression's string, when it is one.
    secret_token: Option<toml::Spanned<String>>,
    variables: Vec<(&'a str, Arc<Program>, &'a toml::Spanned<String>)>,
    message: Template,
}

/// Checks a rule's compiled expressions against its scope's environment, orders its
/// variables, finds which unit variables it reads and estimates its cost, refusing it past
/// [`crate::limits::MAX_COST_DEGREE`].
fn check_and_estimate(
    rule: &RuleToml,
    scope: Scope,
    bind: &str,
    expressions: CompiledExpressions<'_>,
    context: &RuleContext,
) -> Result<CompiledRule, Vec<Problem>> {
    let (file, source) = (context.file, &*context.source);
    let mut problems = Vec::new();
    let CompiledExpressions { when, each, assert, locate, related, secret, secret_token, variables, message } =
        expressions;
    let secret_program = match &secret {
        Secret::When(p) => Some(&**p),
        _ => None,
    };
    let variables = check_rule_expressions(
        &RuleExpressions {
            scope,
            bind,
            params: rule.params.as_ref().map(|t| t.keys().map(String::as_str).collect()).unwrap_or_default(),
            variables: &variables,
            each: each.as_ref().zip(rule.each.as_ref()),
            element: [(&when, &rule.when), (&locate, &rule.locate), (&related, &rule.related)]
                .into_iter()
                .filter_map(|(p, t)| Some((p.as_ref()?, t.as_ref()?)))
                .chain([(&assert, &rule.assert)])
                .chain(secret_program.zip(secret_token.as_ref()))
                .collect(),
            message: &message,
            message_token: &rule.message,
        },
        source,
        file,
        &context.variables,
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(problems);
    }
    let programs: Vec<&Program> = [&when, &each, &locate, &related]
        .into_iter()
        .flatten()
        .chain([&assert])
        .chain(variables.iter().map(|v| &*v.program))
        .chain(message.programs())
        .chain(secret_program)
        .collect();
    let uses_var = |name: &str| programs.iter().any(|p| p.references().has_variable(name));
    let uses = Uses {
        doc: uses_var("doc"),
        components: uses_var("components"),
        resources: uses_var("resources"),
        docs: uses_var("docs"),
        documents: uses_var("documents"),
        old_doc: uses_var("oldDoc"),
        k8s: uses_var("k8s"),
        deployment: uses_var("deployment"),
    };
    let when_reads_element = when.as_ref().is_some_and(|when| {
        let reads = when.references();
        reads.has_variable(bind)
            || reads.has_variable("key")
            || (reads.has_variable("variables") && variables.iter().any(|v| v.per_element))
    });
    let tokens = ExpressionTokens {
        each: rule.each.as_ref(),
        when: rule.when.as_ref(),
        assert: &rule.assert,
        locate: rule.locate.as_ref(),
        related: rule.related.as_ref(),
        secret: secret_token.as_ref(),
        message: &rule.message,
        variables: &rule.variables,
    };
    let mut compiled = CompiledRule {
        when: when.map(Arc::new),
        when_reads_element,
        each: each.map(Arc::new),
        assert: Arc::new(assert),
        locate: locate.map(Arc::new),
        related: related.map(Arc::new),
        variables,
        message,
        secret,
        uses,
        cost: cost::RuleCost::default(),
    };
    compiled.cost = cost::rule_cost(&compiled, bind);
    if compiled.cost.too_costly() {
        let id_span = Span::new(file, rule.id.span().start, rule.id.span().end);
        return Err(vec![cost_problem(&compiled, id_span, &tokens, source, file)]);
    }
    Ok(compiled)
}

/// Where a rule's expressions are in its pack file.
struct ExpressionTokens<'a> {
    each: Option<&'a toml::Spanned<String>>,
    when: Option<&'a toml::Spanned<String>>,
    assert: &'a toml::Spanned<String>,
    locate: Option<&'a toml::Spanned<String>>,
    related: Option<&'a toml::Spanned<String>>,
    secret: Option<&'a toml::Spanned<String>>,
    message: &'a toml::Spanned<String>,
    variables: &'a [schema::VariableToml],
}

/// The problem of a rule refused for its estimated cost, at the innermost multiplying loop of
/// its costliest expression.
fn cost_problem(
    compiled: &CompiledRule,
    id_span: Span,
    rule: &ExpressionTokens<'_>,
    source: &SourceFile,
    file: FileId,
) -> Problem {
    use cost::Part;
    let message_hole = |i: usize| compiled.message.holes().nth(i);
    let (program, token, offset): (Option<&Program>, Option<&toml::Spanned<String>>, usize) = match &compiled.cost.part
    {
        Part::Each => (compiled.each.as_deref(), rule.each, 0),
        Part::When => (compiled.when.as_deref(), rule.when, 0),
        Part::Assert => (Some(&*compiled.assert), Some(rule.assert), 0),
        Part::Locate => (compiled.locate.as_deref(), rule.locate, 0),
        Part::Related => (compiled.related.as_deref(), rule.related, 0),
        Part::Secret => match &compiled.secret {
            Secret::When(program) => (Some(&**program), rule.secret, 0),
            _ => (None, None, 0),
        },
        Part::Message(i) => match message_hole(*i) {
            Some((program, offset)) => (Some(program), Some(rule.message), offset),
            None => (None, None, 0),
        },
        Part::Variable(name) => (
            compiled.variables.iter().find(|v| v.name == *name).map(|v| &*v.program),
            rule.variables.iter().find(|v| v.name.get_ref().as_str() == &**name).map(|v| &v.expression),
            0,
        ),
    };
    let message = cost::too_costly_message(compiled.cost.growth);
    match (program, token) {
        (Some(program), Some(token)) => {
            let start =
                compiled.cost.growth.at.and_then(|id| program.source_info().offset_for(id)).map_or(0, |(s, _)| s);
            let place = verify::Place { source, file, token, offset };
            Problem::at(place.span(start as usize, start as usize + 1), message)
        }
        // A pack variable, refused where the pack's variables are compiled.
        _ => Problem::at(id_span, message),
    }
}

/// A rule's compiled expressions, for [`check_rule_expressions`].
struct RuleExpressions<'a> {
    scope: Scope,
    bind: &'a str,
    params: Vec<&'a str>,
    variables: &'a [(&'a str, Arc<Program>, &'a toml::Spanned<String>)],
    each: Option<(&'a Program, &'a toml::Spanned<String>)>,
    /// `when`, `assert`, `locate`, `related`, `secret`: evaluated with the element bound.
    element: Vec<(&'a Program, &'a toml::Spanned<String>)>,
    message: &'a Template,
    message_token: &'a toml::Spanned<String>,
}

/// Checks a rule's expressions against its scope's environment ([`verify`]); returns its
/// variables (the pack's it reads, then its own) in an order where each follows those it
/// reads.
fn check_rule_expressions(
    rule: &RuleExpressions<'_>,
    source: &SourceFile,
    file: FileId,
    pack: &PackVariables,
    problems: &mut Vec<Problem>,
) -> Vec<Variable> {
    use environment::Type;
    let place = |token| verify::Place { source, file, token, offset: 0 };
    let mut reads: Vec<String> = Vec::new();
    // `each` first, to learn the element's type; the rule's variables are `dyn` until checked.
    let mut draft_variables = pack.types.clone();
    for (name, _, _) in rule.variables {
        draft_variables.insert(
            (*name).to_owned(),
            verify::NamedType {
                ty: Type::Dyn,
                per_element: false,
                reads_unit: Vec::new(),
                reads_variables: Vec::new(),
            },
        );
    }
    let unit = verify::rule_environment(rule.scope, &rule.params, &draft_variables);
    let mut element = unit.clone();
    let mut each_reads = Vec::new();
    if let Some((program, token)) = rule.each {
        let (ty, read) = verify::check_expression(&unit, program, place(token), &pack.types, problems);
        reads.extend(read.iter().map(|(name, _, _)| name.clone()));
        each_reads = read;
        element.declare_variable(rule.bind, ty.iterated().unwrap_or(Type::Dyn));
        element.declare_variable("key", Type::String);
    }
    let named: Vec<verify::Named<'_>> = rule
        .variables
        .iter()
        .map(|(name, program, token)| verify::Named { name, program, place: place(token) })
        .collect();
    let element_names: &[&str] = if rule.each.is_some() { &[rule.bind, "key"] } else { &[] };
    let (order, types) = verify::check_named(&element, &named, &pack.types, element_names, problems);
    if let Some((_, token)) = rule.each {
        verify::check_each_reads(&each_reads, &types, place(token), problems);
    }
    for (name, _, token) in rule.variables {
        let Some(t) = types.get(*name) else { continue };
        reads.extend(t.reads_variables.iter().cloned());
        if let Some(missing) = t.reads_unit.iter().find(|v| element.variable(v).is_none()) {
            problems.push(Problem::at(
                Span::new(file, token.span().start, token.span().end),
                format!("variable `{name}` reads `{missing}` (through a pack variable), which rules of this scope do not have"),
            ));
        }
    }
    element.declare_variable("variables", verify::variables_type(&types));
    for (program, token) in &rule.element {
        let (_, read) = verify::check_expression(&element, program, place(token), &pack.types, problems);
        reads.extend(read.into_iter().map(|(name, _, _)| name));
    }
    for (program, offset) in rule.message.holes() {
        let hole = verify::Place { source, file, token: rule.message_token, offset };
        let (_, read) = verify::check_expression(&element, program, hole, &pack.types, problems);
        reads.extend(read.into_iter().map(|(name, _, _)| name));
    }
    // The pack's variables the rule reads, directly or through others, in the pack's order.
    let mut pack_reads: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for read in &reads {
        if let Some(t) = pack.types.get(read) {
            pack_reads.insert(read.clone());
            pack_reads.extend(t.reads_variables.iter().cloned());
        }
    }
    let mut variables: Vec<Variable> =
        pack.compiled.iter().filter(|v| pack_reads.contains(&*v.name)).cloned().collect();
    variables.extend(order.into_iter().map(|i| {
        let (name, program, _) = &rule.variables[i];
        Variable {
            name: Arc::from(*name),
            program: program.clone(),
            per_element: types.get(*name).is_some_and(|t| t.per_element),
        }
    }));
    variables
}

fn parse_line_col(s: &str) -> Option<(usize, usize)> {
    let (line, col) = s.split_once(':')?;
    Some((line.trim().parse().ok()?, col.trim().parse().ok()?))
}

/// Maps a CEL parse position (1-based line and character column inside the expression) to a
/// byte offset in the pack file, through the TOML string token at `token`.
///
/// Exact for literal strings (`'…'`, `'''…'''`), which packs should use for CEL; for basic
/// strings an escape before the position shifts it by the escape's length.
pub(crate) fn cel_position(source: &SourceFile, token: std::ops::Range<usize>, pos: (isize, isize)) -> usize {
    let raw = &source.text[token.clone()];
    let mut content_start = token.start;
    if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        content_start += 3;
        let rest = &source.text[content_start..];
        if rest.starts_with("\r\n") {
            content_start += 2;
        } else if rest.starts_with('\n') {
            content_start += 1;
        }
    } else if raw.starts_with('\'') || raw.starts_with('"') {
        content_start += 1;
    }
    let line = usize::try_from(pos.0).unwrap_or(1).max(1);
    let column = usize::try_from(pos.1).unwrap_or(1).max(1);
    let content = &source.text[content_start..token.end];
    let mut offset = content_start;
    for (i, text) in content.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let in_line = text.char_indices().nth(column - 1).map_or(text.trim_end().len(), |(b, _)| b);
            return (offset + in_line).min(token.end.saturating_sub(1));
        }
        offset += text.len();
    }
    content_start
}

/// Pack problems as `(line, column, message)`, for tests to assert where each is.
#[cfg(test)]
pub(crate) fn located_problems(sources: &SourceMap, problems: &[Problem]) -> Vec<(usize, usize, String)> {
    problems
        .iter()
        .map(|p| {
            let at = sources.start(p.span.expect("located"));
            (at.line, at.column, p.message.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(rule: &str) -> (SourceMap, Vec<Problem>) {
        let text = format!(
            "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n[[rule]]\nid = \"T-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\n{rule}"
        );
        let sources = SourceMap::new();
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(text) };
        let problems = load_pack(vec![file], &sources).err().unwrap_or_default();
        (sources, problems)
    }

    /// `1 + 1 + …` with 5,000 terms overflowed the stack in the CEL parser.
    #[test]
    fn expressions_nested_too_deep_are_located_errors() {
        let terms = vec!["1"; 5000].join(" + ");
        let (sources, found) = problems(&format!("assert = '{terms} == 0'\nmessage = 'x'\n"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("nested too deep"), "{}", found[0].message);
        let at = sources.start(found[0].span.unwrap());
        assert_eq!(at.line, 10);
        assert_eq!(sources.slice(found[0].span.unwrap()), "+");

        let (_, found) = problems(&format!("assert = 'true'\nmessage = 'x {{{{ {terms} }}}}'\n"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("nested too deep"), "{}", found[0].message);
    }

    #[test]
    fn expressions_as_deep_as_real_rules_compile() {
        let (_, found) = problems(&format!("assert = '{} == 50'\nmessage = 'x'\n", vec!["1"; 50].join(" + ")));
        assert!(found.is_empty(), "{found:?}");
    }

    /// A pack of a rule that compiles and one whose expression is of the wrong type.
    fn good_and_broken() -> PackFile {
        let text = "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n\
            [[rule]]\nid = \"T-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\n\
            assert = 'has(doc.kind)'\nmessage = 'm {{ doc.kind }}'\n\
            [[rule]]\nid = \"T-2\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"env\"]\n\
            assert = '1 + \"a\"'\nmessage = 'm'\n";
        PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(text) }
    }

    fn located(sources: &SourceMap, problems: &[Problem]) -> Vec<(usize, usize, String)> {
        super::located_problems(sources, problems)
    }

    #[test]
    fn rules_compiled_when_used_report_the_problems_a_load_reports_and_only_when_used() {
        let sources = SourceMap::new();
        let at_load = located(&sources, &load_pack(vec![good_and_broken()], &sources).unwrap_err());
        assert_eq!(at_load.len(), 1, "{at_load:?}");
        assert_eq!((at_load[0].0, at_load[0].1), (17, 13), "at the `+`");

        let sources = SourceMap::new();
        let pack =
            load_pack_compiling(vec![good_and_broken()], &sources, Compile::WhenUsed).expect("the TOML is valid");
        let [good, broken] = [&pack.rules[0], &pack.rules[1]];
        assert!(!good.programs.is_compiled() && !broken.programs.is_compiled());
        assert!(compile_rules(std::slice::from_ref(good)).is_empty());
        assert!(good.programs.is_compiled() && !broken.programs.is_compiled());
        assert!(good.uses.doc && !good.uses.k8s);
        assert_eq!(located(&sources, &compile_rules(&pack.rules)), at_load);
        // Compiled once: asked again, the same problems.
        assert_eq!(located(&sources, broken.compiled().unwrap_err()), at_load);
    }

    #[test]
    fn a_copy_of_a_rule_shares_its_compilation() {
        let sources = SourceMap::new();
        let pack =
            load_pack_compiling(vec![good_and_broken()], &sources, Compile::WhenUsed).expect("the TOML is valid");
        let copy = Rule::clone_with(&pack.rules[0]);
        assert!(copy.compiled().is_ok());
        assert!(pack.rules[0].programs.is_compiled());
    }
}

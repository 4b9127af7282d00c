//! The one path from inputs to findings: load → check → suppress, a batch at a time.
//!
//! `celador check`, the fixture runner (`celador test`, the built-in pack's `cargo test`) and
//! the admission webhook all call [`Pipeline::run`], so a rule judges a file the same way
//! wherever it runs: context files (compose files beside an env file checked alone) are never
//! reported on, a rule that fails at run time is an error of the run, and suppressions apply
//! identically. Front ends differ only in what they feed it (discovered files, a fixture's
//! files, one admitted object) and in how they present the outcome.
//!
//! A run takes its inputs in batches of whole directories ([`crate::batches`]): each is read,
//! loaded, checked, searched for secrets and for suppression comments, and then its documents
//! are dropped, and the text of its files that nothing is reported in is released
//! ([`SourceMap::release`]). What a run keeps is its findings, problems, counts, secrets and
//! the text of the files its reports quote, so its memory follows the largest batch, not the
//! tree. Suppressions apply once, over the findings of every batch.

use crate::batches;
use crate::check::{Checker, Counts, Loaded, Pending, RuleTiming, load_batch, load_inputs_reading, take_rule_errors};
use crate::components::ComponentCatalog;
use crate::config::Config;
use crate::diagnostic::{Diagnostic, EVALUATION_LIMIT, PSEUDO_RULES, Problem};
use crate::eval::budget::Cancel;
use crate::kind::{InputKind, Syntax, classify_name};
use crate::pack::Rule;
use crate::read::ReadScope;
use crate::secrets::Secrets;
use crate::source::{FileId, SourceMap};
use crate::suppress;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Rules and suppressions, prepared once and run on any number of input sets.
pub struct Pipeline {
    checker: Checker,
    /// The components whose images make a YAML file of no known name Helm values.
    declared: ComponentCatalog,
    suppressions: Config,
    known_rules: Vec<Arc<str>>,
    kind: Option<InputKind>,
    inline_suppressions: bool,
    /// Whether a report of the run quotes the inputs' text (snippets), or only places findings
    /// by line and column.
    quoting: bool,
    /// Input bytes a batch is filled up to ([`batches::BATCH_BYTES`]).
    batch_bytes: u64,
    /// A rule compiled when used did not compile: nothing more is checked.
    broken: AtomicBool,
    /// Shown each batch's documents once they are loaded, before they are checked.
    #[cfg(test)]
    observer: Option<Observer>,
}

/// What a test sees of each batch.
#[cfg(test)]
type Observer = Arc<dyn Fn(&Loaded) + Send + Sync>;

/// What a run found.
#[derive(Default)]
pub struct Outcome {
    /// Findings that stand, sorted by file and position, with invalid, expired and unused
    /// suppressions among them.
    pub kept: Vec<Diagnostic>,
    /// Suppressed findings, with the reason given.
    pub suppressed: Vec<(Diagnostic, String)>,
    /// Errors of the run: inputs that could not be read or loaded, rules that failed at run
    /// time or were stopped by their evaluation budget.
    pub problems: Vec<Problem>,
    /// The first rule stopped by its evaluation budget or by cancellation, as the message of
    /// its error: the webhook answers such a review as `--on-error` says.
    pub stopped: Option<String>,
    /// What loading counted (the documents themselves are dropped batch by batch).
    pub counts: Counts,
    /// The names of the files checked (not those loaded only as context), in load order.
    pub files: Vec<String>,
    /// The secrets of the inputs and findings, found before anything was suppressed: what
    /// every output masks ([`Secrets::mask`], [`Secrets::scrub_messages`]).
    pub secrets: Secrets,
}

/// What one batch found, its documents dropped.
struct Part {
    /// Findings, sorted, without rule errors and findings in context files.
    diagnostics: Vec<Diagnostic>,
    problems: Vec<Problem>,
    /// The first rule stopped by its budget or by cancellation.
    stopped: Option<Diagnostic>,
    secrets: Secrets,
    /// The files checked (not context), in load order.
    requested: Vec<FileId>,
    suppressions: suppress::Found,
}

impl Pipeline {
    /// A pipeline running `rules` (the configuration already applied), suppressing findings as
    /// `suppressions` says (its `[[ignore]]` entries) and, unless
    /// [`Pipeline::without_inline_suppressions`], as comments in the inputs say. `known_rules`
    /// are the ids of every loaded rule, disabled ones included: a suppression naming another
    /// id is reported as invalid.
    pub fn new(rules: Vec<Arc<Rule>>, suppressions: Config, known_rules: Vec<Arc<str>>) -> Self {
        let mut catalogs: Vec<&Arc<ComponentCatalog>> = Vec::new();
        for rule in &rules {
            if !catalogs.iter().any(|c| Arc::ptr_eq(c, &rule.components)) {
                catalogs.push(&rule.components);
            }
        }
        let declared = ComponentCatalog::union(catalogs.into_iter().map(|c| &**c));
        Self {
            checker: Checker::new(rules),
            declared,
            suppressions,
            known_rules,
            kind: None,
            inline_suppressions: true,
            quoting: true,
            broken: AtomicBool::new(false),
            batch_bytes: batches::BATCH_BYTES,
            #[cfg(test)]
            observer: None,
        }
    }

    /// Classifies YAML of no known name that configures an image of `declared` as Helm values
    /// (by default, the components the rules' packs declare; `celador check` passes every
    /// loaded pack's, disabled rules or not).
    #[must_use]
    pub fn declaring(mut self, declared: ComponentCatalog) -> Self {
        self.declared = declared;
        self
    }

    /// Reads every input as `kind` (`--kind`), whatever its name says.
    #[must_use]
    pub fn reading_as(mut self, kind: Option<InputKind>) -> Self {
        self.kind = kind;
        self
    }

    /// Judges each document as a deployment of one whose other objects are unknown, as the
    /// admission webhook does (see [`Checker::judging_single_objects`]).
    #[must_use]
    pub fn judging_single_objects(mut self) -> Self {
        self.checker = self.checker.judging_single_objects();
        self
    }

    /// Records each rule's evaluation time, for [`Pipeline::timings`].
    #[must_use]
    pub fn with_timings(mut self) -> Self {
        self.checker = self.checker.with_timings();
        self
    }

    /// Ignores `# celador:ignore` comments (objects from the Kubernetes API have none).
    #[must_use]
    pub fn without_inline_suppressions(mut self) -> Self {
        self.inline_suppressions = false;
        self
    }

    /// No report of the run quotes the inputs' text (JSON, GitHub, GitLab, JUnit, a baseline):
    /// the files findings are in keep their lines, for positions, and (when ASCII) not their
    /// text ([`SourceMap::keep_lines`]).
    #[must_use]
    pub fn quoting_no_text(mut self) -> Self {
        self.quoting = false;
        self
    }

    /// The rules run.
    pub fn rules(&self) -> &[Arc<Rule>] {
        self.checker.rules()
    }

    /// Each rule's evaluation time, evaluations and findings so far, slowest first.
    pub fn timings(&self) -> Vec<RuleTiming> {
        self.checker.timings()
    }

    /// Loads `inputs` into `sources` (files not read yet, and files they reference, are read
    /// only within `scope`), checks them and applies suppressions, a batch of directories at a
    /// time (see the module documentation).
    pub fn run(&self, inputs: Vec<impl Into<Pending>>, sources: &SourceMap, scope: &ReadScope) -> Outcome {
        let inputs: Vec<Pending> = inputs.into_iter().map(Into::into).collect();
        let order: HashMap<String, usize> = inputs.iter().enumerate().map(|(i, p)| (p.name().to_owned(), i)).collect();
        let names: HashSet<String> = order.keys().cloned().collect();
        // A ValidatingAdmissionPolicy's params may be any object of the run.
        let batches = if self.rules().iter().any(|r| r.admission.is_some()) {
            vec![inputs]
        } else {
            batches::plan(inputs, self.batch_bytes, self.kind, scope)
        };
        // The files read before the run (packs, configuration) may hold secrets too.
        let before: Vec<FileId> = sources.ids().collect();
        let mut secrets = Secrets::collect_in(sources, &before, &[], &[]);
        let mut parts = Vec::with_capacity(batches.len());
        let mut counts = Counts::default();
        for batch in batches {
            let first = sources.len();
            let read = self.checker.kinds_read();
            let loaded = load_batch(batch, sources, self.kind, scope, &self.declared, read, &names);
            #[cfg(test)]
            if let Some(observer) = &self.observer {
                observer(&loaded);
            }
            let files: Vec<FileId> = (first..sources.len()).map(|i| FileId(i as u32)).collect();
            let mut part = self.check_batch(&loaded, &files, sources, &Cancel::new());
            counts.add(loaded.counts());
            drop(loaded);
            let reported = reported_files(&part);
            for &file in &files {
                if !reported.contains(&file) {
                    sources.release(file);
                } else if !self.quoting {
                    sources.keep_lines(file);
                }
            }
            secrets.merge(std::mem::take(&mut part.secrets), |f| reported.contains(&f));
            parts.push(part);
        }
        let mut outcome = self.finish(parts, counts, secrets, sources);
        // In input order, as one batch lists them (files read by reference last).
        let position = |name: &String| order.get(name).copied().unwrap_or(usize::MAX);
        outcome.counts.skipped_files.sort_by_key(|f| position(&f.name));
        outcome.files.sort_by_key(position);
        outcome
    }

    /// Loads `inputs`, for a front end that adds to the documents before
    /// [`Pipeline::run_loaded`] (the webhook's object before an UPDATE). Files found by walking
    /// that can only be of kinds no rule reads are skipped unread.
    pub fn load(&self, inputs: Vec<impl Into<Pending>>, sources: &SourceMap, scope: &ReadScope) -> Loaded {
        load_inputs_reading(inputs, sources, self.kind, scope, &self.declared, self.checker.kinds_read())
    }

    /// Checks documents already loaded, as one batch, and applies suppressions; the documents
    /// stay the caller's.
    pub fn run_loaded(&self, loaded: &Loaded, sources: &SourceMap) -> Outcome {
        self.run_loaded_until(loaded, sources, &Cancel::new())
    }

    /// [`Pipeline::run_loaded`], stopped when `cancel` trips (a review's deadline, a shutdown):
    /// the rules still running end with an evaluation-limit error.
    pub fn run_loaded_until(&self, loaded: &Loaded, sources: &SourceMap, cancel: &Cancel) -> Outcome {
        let files: Vec<FileId> = sources.ids().collect();
        let mut part = self.check_batch(loaded, &files, sources, cancel);
        let secrets = std::mem::take(&mut part.secrets);
        self.finish(vec![part], loaded.counts(), secrets, sources)
    }

    /// Checks one batch's documents; `files` are the files it added to `sources`, searched for
    /// secrets (in their text, parsed or not) and, when checked, for suppression comments.
    fn check_batch(&self, loaded: &Loaded, files: &[FileId], sources: &SourceMap, cancel: &Cancel) -> Part {
        let mut problems = loaded.problems.clone();
        // Rules loaded to be compiled when used (the built-in pack's) are compiled for the first
        // batch with a document of their kinds; one that does not compile stops the run's
        // checking, as a broken pack stops it before any input is read.
        let compile_problems = self.compile_rules_for(&loaded.documents);
        if !compile_problems.is_empty() || self.broken.load(Ordering::Relaxed) {
            self.broken.store(true, Ordering::Relaxed);
            problems.extend(compile_problems);
            let secrets = Secrets::collect_in(sources, files, &loaded.documents, &[]);
            return Part {
                diagnostics: Vec::new(),
                problems,
                stopped: None,
                secrets,
                requested: Vec::new(),
                suppressions: suppress::Found::default(),
            };
        }
        let mut diagnostics = self.checker.check_until(&loaded.documents, sources, cancel);
        // Before anything is suppressed, baselined or dropped: a suppressed secret stays secret.
        let secrets = Secrets::collect_in(sources, files, &loaded.documents, &diagnostics);
        let stopped = diagnostics.iter().find(|d| &*d.rule == EVALUATION_LIMIT).cloned();
        problems.extend(take_rule_errors(&mut diagnostics));
        loaded.retain_requested(&mut diagnostics);
        let requested: Vec<FileId> = {
            let mut files: Vec<FileId> =
                loaded.documents.iter().map(|d| d.file).filter(|f| !loaded.context.contains(f)).collect();
            files.dedup();
            files
        };
        let commented: Vec<FileId> = if self.inline_suppressions {
            requested.iter().copied().filter(|&f| has_comments(&sources.get(f).name)).collect()
        } else {
            Vec::new()
        };
        let suppressions = suppress::Found::in_files(sources, &commented);
        Part { diagnostics, problems, stopped, secrets, requested, suppressions }
    }

    /// Compiles the rules of the kinds of `documents` not compiled yet; the problems of those
    /// that do not compile.
    fn compile_rules_for(&self, documents: &[crate::document::Document]) -> Vec<Problem> {
        let mut kinds: Vec<InputKind> = documents.iter().map(|d| d.kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let used: Vec<Arc<Rule>> =
            self.rules().iter().filter(|r| r.kinds.iter().any(|k| kinds.contains(k))).cloned().collect();
        crate::pack::compile_rules(&used)
    }

    /// Applies suppressions to the findings of every batch, as one run.
    fn finish(&self, parts: Vec<Part>, counts: Counts, secrets: Secrets, sources: &SourceMap) -> Outcome {
        let position = |d: &Diagnostic| {
            (sources.get(d.primary.span.file).name.clone(), d.primary.span.start, d.primary.span.end, d.rule.clone())
        };
        let mut diagnostics = Vec::new();
        let mut problems = Vec::new();
        let mut stopped: Option<Diagnostic> = None;
        let mut found = suppress::Found::default();
        let mut files = Vec::new();
        for part in parts {
            diagnostics.extend(part.diagnostics);
            problems.extend(part.problems);
            if let Some(candidate) = part.stopped
                && stopped.as_ref().is_none_or(|s| position(&candidate) < position(s))
            {
                stopped = Some(candidate);
            }
            found.extend(part.suppressions);
            files.extend(part.requested.iter().map(|&f| sources.get(f).name.clone()));
        }
        // Each batch's findings are sorted already; a stable sort keeps them so.
        diagnostics.sort_by_cached_key(position);
        let known: Vec<&str> = self.known_rules.iter().map(|r| &**r).chain(PSEUDO_RULES.iter().copied()).collect();
        let outcome = suppress::apply(diagnostics, sources, found, &self.suppressions, crate::config::today(), &known);
        Outcome {
            kept: outcome.kept,
            suppressed: outcome.suppressed,
            problems,
            stopped: stopped.map(|d| d.message),
            counts,
            files,
            secrets,
        }
    }
}

/// The files a batch's reports may quote: where its findings and their related places are,
/// where its problems are, and where its suppression comments are (a comment that suppresses
/// nothing is reported at itself).
fn reported_files(part: &Part) -> HashSet<FileId> {
    let findings = part.diagnostics.iter().flat_map(|d| {
        std::iter::once(d.primary.span.file)
            .chain(d.related.iter().map(|l| l.span.file))
            .chain(d.masked.iter().map(|s| s.file))
    });
    let problems = part.problems.iter().filter_map(|p| p.span.map(|s| s.file));
    let comments = part.suppressions.inline.iter().map(|s| s.span.file);
    findings.chain(problems).chain(comments).collect()
}

/// Whether a file's format has comments that can carry suppressions (JSON has none).
fn has_comments(name: &str) -> bool {
    !matches!(classify_name(Path::new(name)), Some((Syntax::Json, _))) && !name.ends_with(".json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Input;
    use crate::pack::{PackFile, load_pack};

    fn pipeline(rules: &str) -> Pipeline {
        let sources = SourceMap::new();
        let pack = format!("[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n{rules}");
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(pack) };
        let rules = load_pack(vec![file], &sources).expect("valid pack").rules;
        let known = rules.iter().map(|r| r.id.clone()).collect();
        Pipeline::new(rules, Config::default(), known)
    }

    /// Where the kept findings are, as `file:line:column`.
    fn placed(outcome: &Outcome, sources: &SourceMap) -> Vec<String> {
        outcome
            .kept
            .iter()
            .map(|d| {
                let at = sources.start(d.primary.span);
                format!("{}:{}:{}", sources.get(d.primary.span.file).name, at.line, at.column)
            })
            .collect()
    }

    fn input(name: &str, text: &str) -> Input {
        Input { name: name.into(), path: None, bytes: text.as_bytes().to_vec(), explicit: true, kind: None }
    }

    const EVERY_PORT: &str = "[[rule]]\nid = \"T-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\neach = 'doc.spec.ports'\nas = 'p'\nassert = 'p.port != 8080'\nlocate = 'p.port'\nmessage = 'port {{ p.port }}'\n";

    #[test]
    fn findings_are_suppressed_by_comments_in_the_inputs() {
        let sources = SourceMap::new();
        let text = "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: 8080 # celador:ignore T-1 reason=\"local only\"\n  - port: 8080\n";
        let outcome = pipeline(EVERY_PORT).run(vec![input("s.yaml", text)], &sources, &ReadScope::nothing());
        let lines: Vec<usize> = outcome.kept.iter().map(|d| sources.start(d.primary.span).line).collect();
        assert_eq!(lines, [6]);
        assert_eq!(outcome.suppressed.len(), 1);
        assert_eq!(outcome.suppressed[0].1, "local only");
        assert_eq!(outcome.files, ["s.yaml"]);
    }

    /// Rules loaded to be compiled when used (the built-in pack's) are compiled for the inputs
    /// of their kinds; one that does not compile is a located problem of the run, and nothing
    /// more is checked.
    #[test]
    fn rules_are_compiled_when_a_batch_has_their_kinds() {
        use crate::pack::{Compile, load_pack_compiling};
        let sources = SourceMap::new();
        let rules = format!(
            "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n{EVERY_PORT}[[rule]]\nid = \"T-2\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"env\"]\nassert = '1 + \"a\"'\nmessage = 'm'\n"
        );
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(rules) };
        let rules = load_pack_compiling(vec![file], &sources, Compile::WhenUsed).expect("the TOML is valid").rules;
        let pipeline = Pipeline::new(rules.clone(), Config::default(), rules.iter().map(|r| r.id.clone()).collect());
        let service = "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: 8080\n";
        let outcome = pipeline.run(vec![input("s.yaml", service)], &sources, &ReadScope::nothing());
        assert_eq!(outcome.kept.len(), 1, "{:?}", outcome.problems);
        assert!(rules[0].programs.is_compiled() && !rules[1].programs.is_compiled(), "only the kinds loaded");
        let outcome =
            pipeline.run(vec![input("a.env", "A=1\n"), input("t.yaml", service)], &sources, &ReadScope::nothing());
        assert!(outcome.kept.is_empty(), "{:?}", outcome.kept);
        let problems: Vec<(usize, usize)> = outcome
            .problems
            .iter()
            .map(|p| sources.start(p.span.expect("located")))
            .map(|at| (at.line, at.column))
            .collect();
        assert_eq!(problems, [(20, 13)], "at the `+` of T-2's assert");
    }

    #[test]
    fn the_webhook_ignores_comments() {
        let sources = SourceMap::new();
        let text = "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: 8080 # celador:ignore T-1\n";
        let outcome = pipeline(EVERY_PORT).without_inline_suppressions().run(
            vec![input("s.yaml", text)],
            &sources,
            &ReadScope::nothing(),
        );
        assert_eq!(outcome.kept.len(), 1);
        assert!(outcome.suppressed.is_empty());
    }

    /// A rule failing at run time is an error of the run, never a finding a threshold hides.
    #[test]
    fn rule_errors_are_problems_of_the_run() {
        let sources = SourceMap::new();
        let failing = EVERY_PORT.replace("assert = 'p.port != 8080'", "assert = 'p.missing == 1'");
        let text = "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: 8080\n";
        let outcome = pipeline(&failing).run(vec![input("s.yaml", text)], &sources, &ReadScope::nothing());
        assert!(outcome.kept.is_empty(), "{:?}", outcome.kept);
        assert_eq!(outcome.problems.len(), 1);
        assert!(outcome.problems[0].message.contains("T-1"), "{}", outcome.problems[0].message);
    }

    /// A run holds one batch's documents at a time: when a batch is loaded, every document of
    /// the batches before it is gone (its tree freed, CEL views and all), and the findings
    /// are those of one run over every input.
    #[test]
    fn each_batch_is_dropped_before_the_next_is_loaded() {
        use crate::tree::{Entry, Value};
        use std::sync::{Mutex, Weak};
        type Batches = Mutex<Vec<Vec<Weak<[Entry]>>>>;
        let service = |port: u16| format!("apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: {port}\n");
        let inputs = || {
            vec![
                input("a/1.yaml", &service(8080)),
                input("a/2.yaml", &service(80)),
                input("b/1.yaml", &service(8080)),
                input("c/1.yaml", &format!("{}---\n{}", service(8080), service(8080))),
            ]
        };
        let batches: Arc<Batches> = Arc::default();
        let live_at_load: Arc<Mutex<Vec<usize>>> = Arc::default();
        let mut batched = pipeline(EVERY_PORT);
        batched.batch_bytes = 1;
        batched.observer = Some(Arc::new({
            let (batches, live_at_load) = (batches.clone(), live_at_load.clone());
            move |loaded: &Loaded| {
                let mut batches = batches.lock().unwrap();
                let live = batches.iter().flatten().filter(|w| w.strong_count() > 0).count();
                live_at_load.lock().unwrap().push(live);
                let roots = loaded.documents.iter().filter_map(|d| match &d.root.value {
                    Value::Map(entries) => Some(Arc::downgrade(entries)),
                    _ => None,
                });
                batches.push(roots.collect());
            }
        }));
        let sources = SourceMap::new();
        let outcome = batched.run(inputs(), &sources, &ReadScope::nothing());
        let sizes: Vec<usize> = batches.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 1, 2], "one batch per directory");
        assert_eq!(*live_at_load.lock().unwrap(), [0, 0, 0], "no document of an earlier batch is alive");
        assert!(batches.lock().unwrap().iter().flatten().all(|w| w.strong_count() == 0), "nor of the last");
        let found = placed(&outcome, &sources);
        assert_eq!(found, ["a/1.yaml:5:11", "b/1.yaml:5:11", "c/1.yaml:5:11", "c/1.yaml:11:11"]);
        assert_eq!(outcome.counts.documents, 5);
        assert_eq!(outcome.files, ["a/1.yaml", "a/2.yaml", "b/1.yaml", "c/1.yaml"]);
        // The text of a file nothing is reported in is released; the others' stays.
        assert!(sources.get(FileId(1)).text.is_empty(), "{}", sources.get(FileId(1)).name);
        assert!(!sources.get(FileId(0)).text.is_empty());
        let whole = pipeline(EVERY_PORT).run(inputs(), &SourceMap::new(), &ReadScope::nothing());
        let messages = |o: &Outcome| o.kept.iter().map(|d| d.message.clone()).collect::<Vec<_>>();
        assert_eq!(messages(&outcome), messages(&whole), "as one batch");
    }

    /// A compose service's environment from an env file of another directory is joined to it
    /// whatever batches the directories between them fall into.
    #[test]
    fn env_files_of_other_directories_are_in_their_compose_files_batch() {
        let rules = "[[component]]\nrole = \"api\"\nimages = [\"pulumi/service\"]\n[[rule]]\nid = \"T-2\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"compose\"]\neach = 'components'\nas = 'c'\nassert = 'false'\nlocate = 'c.env.PULUMI_LICENSE_KEY.value'\nmessage = 'x'\n";
        let mut batched = pipeline(rules);
        batched.batch_bytes = 1;
        let sources = SourceMap::new();
        let outcome = batched.run(
            vec![
                input("a/shared/api.env", "PULUMI_LICENSE_KEY=eyJ\n"),
                input("b/other.env", "A=1\n"),
                input(
                    "c/docker-compose.yml",
                    "services:\n  api:\n    image: pulumi/service:1\n    env_file: ../a/shared/api.env\n",
                ),
            ],
            &sources,
            &ReadScope::nothing(),
        );
        let found = placed(&outcome, &sources);
        assert_eq!(found, ["a/shared/api.env:1:20"]);
        assert_eq!(outcome.counts.files, 3);
    }

    /// Compose files loaded only as context for an env file checked alone are not reported on.
    #[test]
    fn context_files_are_not_reported() {
        let sources = SourceMap::new();
        let dir = std::env::temp_dir().join(format!("celador-pipeline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("docker-compose.yml"),
            "services:\n  api:\n    image: pulumi/service:1\n    env_file: [api.env]\n    ports: ['8080:8080']\n",
        )
        .unwrap();
        std::fs::write(dir.join("api.env"), "PULUMI_LICENSE_KEY=eyJ\n").unwrap();
        let rules = "[[component]]\nrole = \"api\"\nimages = [\"pulumi/service\"]\nvariables = [\"PULUMI_LICENSE_KEY\"]\n[[rule]]\nid = \"T-2\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"compose\", \"env\"]\neach = 'components'\nas = 'c'\nassert = 'false'\nlocate = 'c.env.PULUMI_LICENSE_KEY.value'\nmessage = 'x'\n[[rule]]\nid = \"T-3\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"compose\"]\nassert = 'false'\nmessage = 'compose'\n";
        let env = Input {
            name: "api.env".into(),
            path: Some(dir.join("api.env")),
            bytes: b"PULUMI_LICENSE_KEY=eyJ\n".to_vec(),
            explicit: true,
            kind: None,
        };
        let scope = ReadScope::within(&dir, vec![dir.clone()], crate::limits::MAX_FILE_SIZE);
        let outcome = pipeline(rules).run(vec![env], &sources, &scope);
        std::fs::remove_dir_all(&dir).ok();
        let found: Vec<(String, &str)> =
            outcome.kept.iter().map(|d| (sources.get(d.primary.span.file).name.clone(), &*d.rule)).collect();
        assert_eq!(found, [("api.env".to_owned(), "T-2")], "nothing in the compose file read as context");
        assert_eq!(outcome.files, ["api.env"]);
    }
}

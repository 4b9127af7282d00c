//! The check pipeline: discover → read → load and classify → derive components → evaluate.
//!
//! Discovery ([`discover`]: which files to read) and loading ([`load_inputs`]: parse, classify,
//! follow references) live in their own modules; this one evaluates the rules
//! ([`Checker`]). [`crate::pipeline::Pipeline`] runs them in order for the CLI, the fixture
//! runner and the webhook, so they report identical diagnostics.

mod discover;
mod load;

pub use discover::{Discovered, IGNORE_FILE, Input, discover, display_name};
pub use load::{Loaded, SkippedFile, load_inputs, load_inputs_reading};

use crate::components::{ComponentCatalog, derive};
use crate::diagnostic::{Diagnostic, Problem};
use crate::document::{Document, NodeSpans, path_to_where};
use crate::eval::budget::Cancel;
use crate::eval::value::{Loc, to_cel};
use crate::eval::{Evaluator, Unit, to_diagnostic};
use crate::kind::InputKind;
use crate::limits::EVALUATION_STACK;
use crate::pack::{Rule, Scope, Uses};
use crate::source::{FileId, SourceMap, Span};
use crate::tree::{Node, Value};
use cel::common::types::{CelList, CelMap, CelMapKey, CelString};
use cel::common::value::Val;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Evaluates rules over loaded documents.
pub struct Checker {
    evaluator: Evaluator,
    rules: Vec<Arc<Rule>>,
    params: Vec<Box<dyn Val>>,
    /// The distinct component catalogues of the rules' packs: each rule reads the components
    /// its own pack declares.
    catalogs: Vec<Arc<ComponentCatalog>>,
    /// Per rule (by index), its pack's catalogue in `catalogs`.
    catalog_of: Vec<usize>,
    /// Per rule (by index), when timing was asked for.
    timers: Option<Vec<RuleTimer>>,
    /// Each document is all there is of its deployment (the admission webhook's one object):
    /// deployment rules see `deployment.complete == false`.
    single_objects: bool,
}

/// Time spent in one rule, summed over the threads.
#[derive(Debug, Default)]
struct RuleTimer {
    nanos: AtomicU64,
    evaluations: AtomicU64,
    findings: AtomicU64,
}

/// What one rule cost over a run (`celador check --timings`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleTiming {
    /// The rule.
    pub rule: Arc<str>,
    /// Evaluation time summed over every unit and thread.
    pub total: std::time::Duration,
    /// Units (documents or deployments) it was evaluated on.
    pub evaluations: u64,
    /// Failures it produced (findings and rule errors), before suppressions.
    pub findings: u64,
}

impl Checker {
    /// Prepares rules (parameters converted once).
    pub fn new(rules: Vec<Arc<Rule>>) -> Self {
        let params = rules.iter().map(|r| to_cel(&r.params)).collect();
        let mut catalogs: Vec<Arc<ComponentCatalog>> = Vec::new();
        let catalog_of = rules
            .iter()
            .map(|rule| {
                match catalogs.iter().position(|c| Arc::ptr_eq(c, &rule.components) || **c == *rule.components) {
                    Some(index) => index,
                    None => {
                        catalogs.push(rule.components.clone());
                        catalogs.len() - 1
                    }
                }
            })
            .collect();
        Self { evaluator: Evaluator::new(), rules, params, catalogs, catalog_of, timers: None, single_objects: false }
    }

    /// Judges each document as a deployment of one whose other objects are unknown, as the
    /// admission webhook must: every rule runs, and deployment rules read
    /// `deployment.complete == false`, so they do not conclude that something is missing.
    #[must_use]
    pub fn judging_single_objects(mut self) -> Self {
        self.single_objects = true;
        self
    }

    /// Records each rule's evaluation time, evaluations and findings, for [`Checker::timings`].
    #[must_use]
    pub fn with_timings(mut self) -> Self {
        self.timers = Some(self.rules.iter().map(|_| RuleTimer::default()).collect());
        self
    }

    /// Each rule's cost so far, slowest first; empty unless [`Checker::with_timings`].
    pub fn timings(&self) -> Vec<RuleTiming> {
        let Some(timers) = &self.timers else { return Vec::new() };
        let mut out: Vec<RuleTiming> = self
            .rules
            .iter()
            .zip(timers)
            .map(|(rule, t)| RuleTiming {
                rule: rule.id.clone(),
                total: std::time::Duration::from_nanos(t.nanos.load(Ordering::Relaxed)),
                evaluations: t.evaluations.load(Ordering::Relaxed),
                findings: t.findings.load(Ordering::Relaxed),
            })
            .collect();
        out.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.rule.cmp(&b.rule)));
        out
    }

    /// The rules, in pack order.
    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }

    /// Runs rule `index` on one unit, timing it when asked to.
    fn run(&self, index: usize, unit: &Unit, cancel: &Cancel) -> Vec<crate::eval::Failure> {
        self.run_with(index, unit, &*self.params[index], cancel)
    }

    /// Runs rule `index` on one unit with these `params`.
    fn run_with(
        &self,
        index: usize,
        unit: &Unit,
        params: &(dyn Val + 'static),
        cancel: &Cancel,
    ) -> Vec<crate::eval::Failure> {
        let rule = &self.rules[index];
        let Some(timer) = self.timers.as_ref().map(|t| &t[index]) else {
            return self.evaluator.run(rule, unit, params, cancel);
        };
        let started = std::time::Instant::now();
        let failures = self.evaluator.run(rule, unit, params, cancel);
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        timer.nanos.fetch_add(nanos, Ordering::Relaxed);
        timer.evaluations.fetch_add(1, Ordering::Relaxed);
        timer.findings.fetch_add(failures.len() as u64, Ordering::Relaxed);
        failures
    }

    /// The kinds its rules read, with their context kinds ([`crate::kind::KindSet::of`]);
    /// every kind without rules (the files are still parsed and their errors reported).
    pub fn kinds_read(&self) -> crate::kind::KindSet {
        if self.rules.is_empty() {
            return crate::kind::KindSet::ALL;
        }
        crate::kind::KindSet::of(self.rules.iter().flat_map(|r| r.kinds.iter().copied()))
    }

    /// Runs every applicable rule once per document, and deployment-scoped rules once per
    /// deployment (the documents of one directory). Returns diagnostics sorted by location.
    pub fn check(&self, documents: &[Document], sources: &SourceMap) -> Vec<Diagnostic> {
        self.check_until(documents, sources, &Cancel::new())
    }

    /// [`Checker::check`], stopped by `cancel`: once it trips, each rule still to run (and
    /// each running) ends at once with an `evaluation-limit` error instead of its findings.
    pub fn check_until(&self, documents: &[Document], sources: &SourceMap, cancel: &Cancel) -> Vec<Diagnostic> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        on_pool(|| self.check_on_pool(documents, sources, cancel))
    }

    /// The deployments of `documents`, each a list of indices in load order and whether every
    /// object of it is in sight: the files of one directory, split into alternatives
    /// ([`crate::deployment::partition`]); unnamed stdin on its own, and each object on its
    /// own for the webhook, both incomplete.
    fn deployments(&self, documents: &[Document], sources: &SourceMap) -> Vec<(bool, Vec<usize>)> {
        let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, doc) in documents.iter().enumerate() {
            let file = sources.get(doc.file);
            let key = if self.single_objects {
                format!("{INCOMPLETE}{index}")
            } else if file.path.is_none() && file.name == "<stdin>" {
                format!("{INCOMPLETE}stdin")
            } else {
                deployment_of(&file.name)
            };
            by_key.entry(key).or_default().push(index);
        }
        let split = self.rules.iter().any(|r| r.scope == Scope::Deployment);
        by_key
            .into_iter()
            .flat_map(|(key, indices)| {
                let complete = !key.starts_with(INCOMPLETE);
                if !complete || !split {
                    return vec![(complete, indices)];
                }
                let members: Vec<&Document> = indices.iter().map(|&i| &documents[i]).collect();
                let names: HashMap<FileId, String> =
                    members.iter().map(|d| (d.file, sources.get(d.file).name.clone())).collect();
                crate::deployment::partition(&members, |d| names[&d.file].as_str())
                    .into_iter()
                    .map(|part| (true, part.into_iter().map(|i| indices[i]).collect()))
                    .collect()
            })
            .collect()
    }

    /// The findings of the document-scope rules on one document.
    fn document_rules(
        &self,
        doc: &PreparedDoc,
        cluster: &crate::vap::Cluster,
        placer: &Placer,
        cancel: &Cancel,
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let units: Vec<Unit> = (0..self.catalogs.len()).map(|c| doc.unit(c)).collect();
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.scope != Scope::Document || !rule.kinds.contains(&doc.doc.kind) {
                continue;
            }
            let unit = &units[self.catalog_of[index]];
            let failures = match &rule.admission {
                Some(admission) => self.run_admission(index, admission, doc, unit, cluster, cancel),
                None => self.run(index, unit, cancel),
            };
            out.extend(failures.into_iter().map(|failure| placer.diagnostic(rule, failure)));
        }
        out
    }

    fn check_on_pool(&self, documents: &[Document], sources: &SourceMap, cancel: &Cancel) -> Vec<Diagnostic> {
        let uses_for = |kind: InputKind, catalog: Option<usize>| {
            self.rules
                .iter()
                .zip(&self.catalog_of)
                .filter(|(r, c)| r.kinds.contains(&kind) && catalog.is_none_or(|catalog| **c == catalog))
                .fold(Uses::default(), |u, (r, _)| u.union(r.uses))
        };
        let cluster = if self.rules.iter().any(|r| r.admission.is_some()) {
            crate::vap::Cluster::new(documents)
        } else {
            crate::vap::Cluster::default()
        };
        // Components are derived once per pack that declares them, for the rules of that pack.
        let mut derived: Vec<Vec<Vec<Node>>> = vec![Vec::new(); documents.len()];
        for catalog in &self.catalogs {
            for (per_doc, components) in derived.iter_mut().zip(derive(documents, sources, catalog)) {
                per_doc.push(components);
            }
        }
        let placer = Placer::new(documents);
        let groups = self.deployments(documents, sources);
        // A document in several deployments (a file shared by alternatives) has its
        // document-scope rules run with the first.
        let mut owner = vec![usize::MAX; documents.len()];
        for (g, (_, members)) in groups.iter().enumerate() {
            for &i in members {
                if owner[i] == usize::MAX {
                    owner[i] = g;
                }
            }
        }
        let deployment_rules: Vec<(usize, &Arc<Rule>)> =
            self.rules.iter().enumerate().filter(|(_, r)| r.scope == Scope::Deployment).collect();
        // Deployments differ a lot in size (a directory of 25 state files against one of a
        // single manifest): the largest first, each thread taking the next when it is free.
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by_key(|&g| std::cmp::Reverse(groups[g].1.len()));
        // One deployment at a time per thread: its documents' CEL views are built for its
        // rules and dropped when they are done, so memory follows the deployments in flight,
        // not the whole tree.
        let mut diagnostics: Vec<Diagnostic> = order
            .into_par_iter()
            .flat_map_iter(|g| {
                let (complete, members) = &groups[g];
                let prepared: Vec<PreparedDoc> = members
                    .par_iter()
                    .map(|&i| {
                        let doc = &documents[i];
                        let wanted: Vec<bool> =
                            (0..self.catalogs.len()).map(|c| uses_for(doc.kind, Some(c)).components).collect();
                        PreparedDoc::new(doc, derived[i].clone(), &wanted, uses_for(doc.kind, None), sources)
                    })
                    .collect();
                let mut out: Vec<Diagnostic> = prepared
                    .par_iter()
                    .zip(members.par_iter())
                    // Documents differ a lot in size (a 5 MB plan beside a 10-line .env): small
                    // pieces let an idle thread take over work instead of waiting.
                    .with_max_len(4)
                    .filter(|(_, i)| owner[**i] == g)
                    .flat_map_iter(|(doc, _)| self.document_rules(doc, &cluster, &placer, cancel))
                    .collect();
                if !deployment_rules.is_empty() {
                    let deployment = Deployment {
                        complete: *complete,
                        docs: prepared.iter().collect(),
                        k8s: self.catalogs.iter().map(|_| OnceLock::new()).collect(),
                    };
                    let more: Vec<Diagnostic> = deployment_rules
                        .par_iter()
                        .flat_map_iter(|&(index, rule)| {
                            let members: Vec<&PreparedDoc> =
                                deployment.docs.iter().copied().filter(|d| rule.kinds.contains(&d.doc.kind)).collect();
                            if members.is_empty() {
                                return Vec::new();
                            }
                            let catalog = self.catalog_of[index];
                            let unit =
                                deployment_unit(&members, rule.uses, &deployment, catalog, &self.catalogs[catalog]);
                            self.run(index, &unit, cancel).into_iter().map(|f| placer.diagnostic(rule, f)).collect()
                        })
                        .collect();
                    out.extend(more);
                }
                out
            })
            .collect();
        sort_and_dedup(&mut diagnostics, sources);
        diagnostics
    }
}

impl Checker {
    /// Runs a rule compiled from a ValidatingAdmissionPolicy on one document: once per params
    /// object its binding resolves, not at all when the binding does not select the document.
    /// Evaluation errors are dropped under `failurePolicy: Ignore`; every finding relates the
    /// policy's validation.
    fn run_admission(
        &self,
        index: usize,
        admission: &crate::vap::Admission,
        doc: &PreparedDoc,
        unit: &Unit,
        cluster: &crate::vap::Cluster,
        cancel: &Cancel,
    ) -> Vec<crate::eval::Failure> {
        let mut out = Vec::new();
        for run in admission.runs(&doc.doc.root, cluster) {
            match run {
                crate::vap::Run::NoParams(message) => out.push(crate::eval::Failure {
                    span: unit.loc.anchor(),
                    missing: None,
                    message,
                    related: vec![(admission.validation, admission.validation_label())],
                    error: false,
                    secret: false,
                    stopped: false,
                }),
                crate::vap::Run::Evaluate { vars, params } => {
                    let mut all = Vec::with_capacity(unit.vars.len() + vars.len());
                    all.extend(unit.vars.iter().map(|(name, val)| (*name, val.clone_as_boxed())));
                    all.extend(vars);
                    let unit = Unit { vars: all, loc: unit.loc, size: unit.size };
                    for mut failure in self.run_with(index, &unit, &*params, cancel) {
                        if failure.error {
                            if admission.ignore_failures {
                                continue;
                            }
                        } else {
                            failure.related.push((admission.validation, admission.validation_label()));
                        }
                        out.push(failure);
                    }
                }
            }
        }
        out
    }
}

/// The threads documents are loaded and rules evaluated on: rayon's, with stacks of
/// [`EVALUATION_STACK`] whatever thread asks (the webhook's blocking threads have 2 MiB).
/// `None` if the threads cannot be started: the work then runs on rayon's global pool.
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("celador-{i}"))
            .stack_size(EVALUATION_STACK)
            .build()
            .ok()
    })
    .as_ref()
}

/// Runs `work` on [`pool`], or where it is when that is already a rayon pool's thread (the
/// webhook evaluates each object on its slot's own one-thread pool, so that an expensive
/// object never waits for, or holds up, another's rules).
pub(crate) fn on_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        return work();
    }
    match pool() {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// Takes the rule errors out of `diagnostics`, as problems: a rule that fails at run time, or
/// goes past its evaluation budget, is an error of the run (exit 2 whatever `--fail-on`
/// says), never a finding a threshold, a suppression or a baseline could hide. Each names the
/// rule and the CEL error or the limit, located at the document (or element) it failed on.
pub fn take_rule_errors(diagnostics: &mut Vec<Diagnostic>) -> Vec<Problem> {
    let mut problems = Vec::new();
    diagnostics.retain(|d| {
        if ![crate::diagnostic::RULE_ERROR, crate::diagnostic::EVALUATION_LIMIT].contains(&&*d.rule) {
            return true;
        }
        problems.push(Problem::at(d.primary.span, d.message.clone()));
        false
    });
    problems
}

/// Documents of one directory form one deployment; stdin is its own.
fn deployment_of(name: &str) -> String {
    name.rsplit_once('/').map_or(String::new(), |(dir, _)| dir.to_owned())
}

/// A document with the CEL values its rules read, converted once.
struct PreparedDoc<'a> {
    doc: &'a Document,
    file_name: String,
    /// Per catalogue of the checker, the document's components as that pack declares them.
    components: Vec<Vec<Node>>,
    resources: Vec<Node>,
    root: Option<Box<dyn Val>>,
    /// Per catalogue, `components` as CEL, when a rule of that pack reads them.
    components_val: Vec<Option<Box<dyn Val>>>,
    resources_val: Option<Box<dyn Val>>,
    previous_val: Option<Box<dyn Val>>,
}

impl<'a> PreparedDoc<'a> {
    fn new(doc: &'a Document, components: Vec<Vec<Node>>, wanted: &[bool], needs: Uses, sources: &SourceMap) -> Self {
        let resources =
            if needs.resources || needs.k8s { crate::resources::resources_of(doc.kind, &doc.root) } else { Vec::new() };
        let span = doc.root.span;
        Self {
            doc,
            file_name: sources.get(doc.file).name.clone(),
            // Shared by the document's rules and by its deployment's (`docs`), so the CEL view
            // of a document is built once, not once per rule.
            root: (needs.doc || needs.docs).then(|| to_cel(&doc.root)),
            components_val: components
                .iter()
                .zip(wanted)
                .map(|(list, &wanted)| wanted.then(|| to_cel(&Node::list(list.clone(), span))))
                .collect(),
            resources_val: needs.resources.then(|| to_cel(&Node::list(resources.clone(), span))),
            previous_val: needs.old_doc.then(|| match &doc.previous {
                Some(previous) => to_cel(previous),
                None => to_cel(&Node::new(Value::Null, span)),
            }),
            components,
            resources,
        }
    }

    /// The document-scope unit of the rules of catalogue `catalog`.
    fn unit(&self, catalog: usize) -> Unit {
        let mut vars: Vec<(&'static str, Box<dyn Val>)> = vec![
            ("kind", Box::new(CelString::from(self.doc.kind.as_str().to_owned()))),
            ("file", Box::new(CelString::from(self.file_name.clone()))),
        ];
        for (name, val) in [
            ("doc", &self.root),
            ("components", &self.components_val[catalog]),
            ("resources", &self.resources_val),
            ("oldDoc", &self.previous_val),
        ] {
            if let Some(val) = val {
                vars.push((name, val.clone_as_boxed()));
            }
        }
        Unit { vars, loc: Loc { span: first_line(&self.doc.root), key_span: None }, size: input_size(self.doc) }
    }
}

/// Group keys of deployments whose other objects are unknown (stdin, the webhook's object).
const INCOMPLETE: &str = "\0incomplete:";

/// One deployment's documents, and the relations between them, built once for all its rules.
struct Deployment<'a> {
    docs: Vec<&'a PreparedDoc<'a>>,
    /// Every object of the deployment is in sight (not stdin, not the webhook's one object).
    complete: bool,
    /// `k8s` per catalogue (its services' `roles` are a pack's) as CEL, built by the first rule
    /// that reads it, from every document of the deployment, and shared by the rules.
    k8s: Vec<OnceLock<Box<dyn Val>>>,
}

impl Deployment<'_> {
    /// `k8s`: its `objects` are the documents' own CEL values where an object is a whole
    /// document (shared with `docs` and the document-scope rules), its relations built here.
    fn k8s(&self, index: usize, catalog: &ComponentCatalog) -> &(dyn Val + 'static) {
        &**self.k8s[index].get_or_init(|| {
            let anchor = self.docs[0].doc.root.span;
            let manifests: Vec<&PreparedDoc> =
                self.docs.iter().copied().filter(|d| d.doc.kind == InputKind::Kubernetes).collect();
            let found = crate::relations::kubernetes_objects(
                manifests.iter().map(|d| &d.doc.root),
                self.docs.iter().flat_map(|d| d.resources.iter()),
            );
            let shared: Vec<Box<dyn Val>> = found
                .iter()
                .map(|(object, root)| match root.and_then(|i| manifests[i].root.as_ref()) {
                    Some(val) => val.clone_as_boxed(),
                    None => to_cel(object),
                })
                .collect();
            let k8s =
                crate::relations::kubernetes(found.into_iter().map(|(object, _)| object).collect(), anchor, catalog);
            let relation = |name: &str| k8s.get(name).map_or_else(|| to_cel(&Node::list(Vec::new(), anchor)), to_cel);
            let entries: HashMap<CelMapKey, Box<dyn Val>> = [
                ("objects", Box::new(CelList::from(shared)) as Box<dyn Val>),
                ("services", relation("services")),
                ("workloads", relation("workloads")),
            ]
            .into_iter()
            .map(|(name, val)| (CelMapKey::String(CelString::from(name.to_owned())), val))
            .collect();
            Box::new(CelMap::from(entries))
        })
    }
}

fn deployment_unit(
    docs: &[&PreparedDoc],
    uses: Uses,
    deployment: &Deployment,
    index: usize,
    catalog: &ComponentCatalog,
) -> Unit {
    let complete = deployment.complete;
    let anchor = docs[0].doc.root.span;
    let mut vars: Vec<(&'static str, Box<dyn Val>)> = Vec::new();
    if uses.deployment {
        let deployment =
            Node::map(vec![crate::tree::entry("complete", None, Node::new(Value::Bool(complete), anchor))], anchor);
        vars.push(("deployment", to_cel(&deployment)));
    }
    // The documents' own CEL values, shared with their other rules: a deployment's rules
    // convert nothing that another rule has converted already.
    if uses.components {
        let components = docs.iter().flat_map(|d| match &d.components_val[index] {
            Some(val) => items_of(&**val),
            None => d.components[index].iter().map(to_cel).collect(),
        });
        vars.push(("components", Box::new(CelList::from(components.collect::<Vec<_>>()))));
    }
    if uses.resources {
        let resources = docs.iter().flat_map(|d| match &d.resources_val {
            Some(val) => items_of(&**val),
            None => d.resources.iter().map(to_cel).collect(),
        });
        vars.push(("resources", Box::new(CelList::from(resources.collect::<Vec<_>>()))));
    }
    if uses.docs {
        let roots = docs.iter().map(|d| match &d.root {
            Some(val) => val.clone_as_boxed(),
            None => to_cel(&d.doc.root),
        });
        vars.push(("docs", Box::new(CelList::from(roots.collect::<Vec<_>>()))));
    }
    if uses.k8s {
        vars.push(("k8s", deployment.k8s(index, catalog).clone_as_boxed()));
    }
    if uses.documents {
        let documents = docs
            .iter()
            .map(|d| {
                let at = d.doc.root.span;
                Node::map(
                    vec![
                        crate::tree::entry("kind", None, Node::string(d.doc.kind.as_str(), at)),
                        crate::tree::entry("file", None, Node::string(d.file_name.as_str(), at)),
                        crate::tree::entry("doc", None, d.doc.root.clone()),
                    ],
                    at,
                )
            })
            .collect();
        vars.push(("documents", to_cel(&Node::list(documents, anchor))));
    }
    let size = docs.iter().map(|d| input_size(d.doc)).sum();
    Unit { vars, loc: Loc { span: first_line(&docs[0].doc.root), key_span: None }, size }
}

/// The elements of a CEL list, sharing their values (a document's map is an `Arc`).
fn items_of(list: &(dyn Val + 'static)) -> Vec<Box<dyn Val>> {
    let mut out = Vec::new();
    if let Some(iterable) = list.as_iterable() {
        let mut items = iterable.iter();
        while let Some(item) = items.next() {
            out.push(item.clone_as_boxed());
        }
    }
    out
}

/// The bytes of text a document was read from, which its rules' evaluation budget grows with.
fn input_size(doc: &Document) -> u64 {
    u64::from(doc.root.span.end.saturating_sub(doc.root.span.start))
}

/// Finds where a finding is, in terms that survive edits: the logical path of its span
/// (`Deployment/ns/name/spec.template…`) and the `# Source:` of the document holding it.
///
/// Built once per run, so placing a finding costs a binary search and a walk of the one
/// document whose text holds it, however many documents share its file (a 50 MiB stream of
/// 40,000 manifests, a directory's deployment). A span in another file than the rule looked
/// at (an env file attributed to a compose service) is found the same way, so its path — and
/// with it fingerprints and baselines — never falls back to a byte offset.
struct Placer<'d> {
    /// Each file's documents, ordered by where their text starts, with the spans of their
    /// nodes once a span was not found where its text is.
    by_file: HashMap<FileId, Vec<(&'d Document, OnceLock<NodeSpans>)>>,
}

impl<'d> Placer<'d> {
    fn new(documents: &'d [Document]) -> Self {
        let mut by_file: HashMap<FileId, Vec<(&'d Document, OnceLock<NodeSpans>)>> = HashMap::new();
        for doc in documents {
            by_file.entry(doc.file).or_default().push((doc, OnceLock::new()));
        }
        for docs in by_file.values_mut() {
            docs.sort_by_key(|(d, _)| d.root.span.start);
        }
        Self { by_file }
    }

    /// The diagnostic of `rule`'s `failure`, with its logical path and `# Source:`.
    fn diagnostic(&self, rule: &Rule, failure: crate::eval::Failure) -> Diagnostic {
        let (path, origin) = self.place(failure.span);
        let mut diagnostic = to_diagnostic(rule, failure, path);
        diagnostic.origin = origin;
        diagnostic
    }

    fn place(&self, span: Span) -> (String, Option<String>) {
        // A span no node of a document has (a whole `.env` line, a value built from several
        // places) is not searched for node by node in it.
        let found = |(d, spans): &(&Document, OnceLock<NodeSpans>)| {
            path_to_where(&d.root, span, |span| spans.get_or_init(|| NodeSpans::of(&d.root)).contains(span))
                .map(|p| (format!("{}/{p}", d.identity), d.helm_source.clone()))
        };
        let Some(docs) = self.by_file.get(&span.file) else {
            return (format!("@{}", span.start), None);
        };
        // The document whose text holds the span; YAML anchors are scoped to their document,
        // so an alias's span is there too. Anything else (a value built from several files)
        // is looked for in every document of the file.
        let holder = docs.partition_point(|(d, _)| d.root.span.start <= span.start).checked_sub(1).map(|i| &docs[i]);
        holder
            .and_then(found)
            .or_else(|| docs.iter().find_map(found))
            .unwrap_or_else(|| (format!("@{}", span.start), None))
    }
}

/// A whole-document finding points at the document's first line, not at all of it.
fn first_line(root: &Node) -> Span {
    match &root.value {
        Value::Map(entries) if !entries.is_empty() => {
            let first = &entries[0].value;
            let start = first.key_span.unwrap_or(first.span);
            Span { file: start.file, start: start.start, end: start.end }
        }
        _ => Span { file: root.span.file, start: root.span.start, end: root.span.start },
    }
}

fn sort_and_dedup(diagnostics: &mut Vec<Diagnostic>, sources: &SourceMap) {
    let key = |d: &Diagnostic| {
        (sources.get(d.primary.span.file).name.clone(), d.primary.span.start, d.primary.span.end, d.rule.clone())
    };
    diagnostics.sort_by_cached_key(key);
    diagnostics.dedup_by(|a, b| a.rule == b.rule && a.primary.span == b.primary.span && a.message == b.message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::{PackFile, load_pack};
    use crate::read::ReadScope;

    /// Documents' CEL values and the checker are shared by the threads that evaluate them.
    #[test]
    fn evaluation_state_is_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<crate::eval::value::DocMap>();
        shared::<Checker>();
    }

    /// A finding in an env file that a compose service reads is named by a path in that env
    /// file, not by a byte offset: fingerprints and baselines depend on it.
    #[test]
    fn findings_in_attributed_env_files_have_logical_paths() {
        let sources = SourceMap::new();
        let pack = "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n[[component]]\nrole = \"api\"\nimages = [\"pulumi/service\"]\n[[rule]]\nid = \"T-2\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"compose\"]\neach = 'components'\nas = 'c'\nassert = 'false'\nlocate = 'c.env.PULUMI_LICENSE_KEY.value'\nmessage = 'x'\n";
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(pack) };
        let rules = load_pack(vec![file], &sources).unwrap().rules;
        let input = |name: &str, text: &str| Input {
            name: name.into(),
            path: None,
            bytes: text.as_bytes().to_vec(),
            explicit: true,
            kind: None,
        };
        let loaded = load_inputs(
            vec![
                input(
                    "d/docker-compose.yml",
                    "services:\n  api:\n    image: pulumi/service:1\n    env_file: [api.env]\n",
                ),
                input("d/api.env", "# license\nPULUMI_LICENSE_KEY=eyJ\n"),
            ],
            &sources,
            None,
            &ReadScope::nothing(),
            &ComponentCatalog::default(),
        );
        let found = Checker::new(rules).check(&loaded.documents, &sources);
        assert_eq!(found.len(), 1);
        assert_eq!(sources.get(found[0].primary.span.file).name, "d/api.env");
        assert_eq!(found[0].logical_path, "#0/PULUMI_LICENSE_KEY");
    }

    /// A `when` that cannot read the element decides for the unit before `each` selects
    /// anything (an `each` that would fail is never evaluated); one that reads it is checked
    /// per element.
    #[test]
    fn a_when_on_the_unit_alone_is_evaluated_before_each() {
        let sources = SourceMap::new();
        let rule = |id: &str, when: &str, each: &str| {
            format!(
                "[[rule]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nwhen = '{when}'\neach = '{each}'\nas = 'p'\nassert = 'false'\nmessage = '{id}'\n"
            )
        };
        let pack = format!(
            "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n{}{}{}",
            rule("T-UNIT", "doc.kind == \"Secret\"", "doc.spec.ports.map(x, 1 / 0)"),
            rule("T-ELEMENT", "p.port > 100", "doc.spec.ports"),
            rule("T-FAILS", "doc.kind == \"Service\"", "doc.spec.ports.map(x, 1 / 0)"),
        );
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(pack) };
        let rules = load_pack(vec![file], &sources).unwrap().rules;
        assert_eq!(rules.iter().map(|r| r.when_reads_element).collect::<Vec<_>>(), [false, true, false]);
        let text =
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - port: 80\n  - port: 443\n";
        let input = Input { name: "s.yaml".into(), path: None, bytes: text.into(), explicit: true, kind: None };
        let loaded = load_inputs(vec![input], &sources, None, &ReadScope::nothing(), &ComponentCatalog::default());
        let found = Checker::new(rules).check(&loaded.documents, &sources);
        let ids: Vec<&str> = found.iter().map(|d| &*d.rule).collect();
        // T-UNIT's `each` would fail like T-FAILS' does: it was never evaluated.
        assert_eq!(ids, ["rule-error", "T-ELEMENT"], "{found:?}");
        assert!(found[0].message.starts_with("rule T-FAILS failed to evaluate its `each`"), "{}", found[0].message);
        let at = sources.start(found[1].primary.span);
        assert_eq!((at.line, at.column), (7, 5), "only the port over 100");
    }

    /// `[[rule.variables]]`: read as `variables.NAME`, each seeing those before it; a variable
    /// that reads the element is evaluated per element, the others once per unit.
    #[test]
    fn rules_read_named_variables() {
        let sources = SourceMap::new();
        let pack = "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n[[rule]]\nid = \"T-3\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\neach = 'doc.spec.ports'\nas = 'p'\nassert = 'variables.allowed.exists(a, a == variables.port)'\nlocate = 'variables.node'\nmessage = 'port {{ variables.port }} of {{ variables.name }}'\n[[rule.variables]]\nname = \"name\"\nexpression = 'doc.metadata.name'\n[[rule.variables]]\nname = \"allowed\"\nexpression = '[80, 443].map(x, x)'\n[[rule.variables]]\nname = \"node\"\nexpression = 'p'\n[[rule.variables]]\nname = \"port\"\nexpression = 'variables.node.port'\n";
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(pack) };
        let rules = load_pack(vec![file], &sources).unwrap().rules;
        let per_element: Vec<bool> = rules[0].variables.iter().map(|v| v.per_element).collect();
        assert_eq!(per_element, [false, false, true, true]);
        let text =
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - port: 443\n  - port: 8080\n";
        let input = Input { name: "s.yaml".into(), path: None, bytes: text.into(), explicit: true, kind: None };
        let loaded = load_inputs(vec![input], &sources, None, &ReadScope::nothing(), &ComponentCatalog::default());
        let found = Checker::new(rules).check(&loaded.documents, &sources);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].message, "port 8080 of web");
        let at = sources.start(found[0].primary.span);
        assert_eq!((at.line, at.column), (7, 5), "the variable keeps the element's location");
    }

    /// Each rule reads its own pack's components, in `components` and in `k8s.services[].roles`,
    /// though both packs call theirs `api`.
    #[test]
    fn each_rule_reads_the_components_its_pack_declares() {
        let sources = SourceMap::new();
        let pack = |id: &str, image: &str| {
            let text = format!(
                "[pack]\nid = \"{id}\"\nversion = \"0\"\ntitle = \"t\"\n[[component]]\nrole = \"api\"\nimages = [\"{image}\"]\n\
                 [[rule]]\nid = \"{id}-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\neach = 'components'\nas = 'c'\n\
                 assert = 'false'\nlocate = 'c.image'\nmessage = 'x'\n\
                 [[rule]]\nid = \"{id}-2\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nscope = \"deployment\"\n\
                 each = 'k8s.services.filter(s, \"api\" in s.roles)'\nas = 's'\nassert = 'false'\nlocate = 's.object.metadata.name'\nmessage = 'x'\n"
            );
            let file =
                PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(text) };
            load_pack(vec![file], &sources).unwrap().rules
        };
        let mut rules = pack("A", "pulumi/service");
        rules.extend(pack("B", "acme/api"));
        let text = "\
apiVersion: v1
kind: Pod
metadata: {name: pulumi, labels: {app: pulumi}}
spec: {containers: [{name: c, image: 'pulumi/service:1'}]}
---
apiVersion: v1
kind: Pod
metadata: {name: acme, labels: {app: acme}}
spec: {containers: [{name: c, image: 'acme/api:1'}]}
---
apiVersion: v1
kind: Service
metadata: {name: to-pulumi}
spec: {selector: {app: pulumi}}
---
apiVersion: v1
kind: Service
metadata: {name: to-acme}
spec: {selector: {app: acme}}
";
        let input = Input { name: "d/all.yaml".into(), path: None, bytes: text.into(), explicit: true, kind: None };
        let loaded = load_inputs(vec![input], &sources, None, &ReadScope::nothing(), &ComponentCatalog::default());
        let found: Vec<(String, usize)> = Checker::new(rules)
            .check(&loaded.documents, &sources)
            .iter()
            .map(|d| (d.rule.to_string(), sources.start(d.primary.span).line))
            .collect();
        assert_eq!(
            found,
            [("A-1".into(), 4), ("B-1".into(), 9), ("A-2".into(), 13), ("B-2".into(), 18)],
            "A sees pulumi/service only, B acme/api only"
        );
    }

    #[test]
    fn invalid_variable_names_are_located_pack_errors() {
        let sources = SourceMap::new();
        let pack = "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n[[rule]]\nid = \"T-4\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nassert = 'true'\nmessage = 'm'\n[[rule.variables]]\nname = \"a-b\"\nexpression = '1'\n";
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(pack) };
        let problems = load_pack(vec![file], &sources).unwrap_err();
        assert_eq!(sources.start(problems[0].span.unwrap()).line, 13, "{problems:?}");
        assert!(problems[0].message.contains("invalid variable name `a-b`"), "{problems:?}");
    }

    #[test]
    fn rules_read_the_previous_document_as_old_doc() {
        let sources = SourceMap::new();
        let pack = "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n[[rule]]\nid = \"T-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nassert = '''oldDoc == null || doc.spec.replicas >= oldDoc.spec.replicas'''\nmessage = 'replicas went down'\n";
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(pack) };
        let rules = load_pack(vec![file], &sources).unwrap().rules;
        let object = |replicas: u32| Input {
            name: "d.json".into(),
            path: None,
            bytes: format!(
                "{{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\", \"spec\": {{\"replicas\": {replicas}}}}}"
            )
            .into_bytes(),
            explicit: true,
            kind: None,
        };
        let checker = Checker::new(rules);
        let loaded = load_inputs(vec![object(1)], &sources, None, &ReadScope::nothing(), &ComponentCatalog::default());
        assert!(checker.check(&loaded.documents, &sources).is_empty(), "no previous document: oldDoc is null");
        let mut loaded =
            load_inputs(vec![object(1)], &sources, None, &ReadScope::nothing(), &ComponentCatalog::default());
        let previous =
            load_inputs(vec![object(3)], &sources, None, &ReadScope::nothing(), &ComponentCatalog::default())
                .documents
                .remove(0)
                .root;
        loaded.documents[0].previous = Some(previous);
        let found = checker.check(&loaded.documents, &sources);
        assert_eq!(found.len(), 1);
        assert_eq!(&*found[0].rule, "T-1");
    }
}

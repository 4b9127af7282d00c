//! Kubernetes ValidatingAdmissionPolicies as rule packs.
//!
//! A pack of YAML files holding `admissionregistration.k8s.io/v1` (or `v1beta1`)
//! ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding objects is translated into
//! the engine's compiled rules: one rule per (binding, validation), whose `assert` is the
//! validation's expression, whose `when` is the policy's `matchConditions`, and whose
//! `[[rule.variables]]` are the policy's `variables`. What the rule model has no room for —
//! which objects the binding selects, its params, its actions — is an [`Admission`] the rule
//! carries, and the checker asks it, per object, how to run the rule ([`Admission::runs`]).
//! So `check` (every format, suppressions, baselines), `test` and `serve` see these rules
//! through the same pipeline as TOML ones.
//!
//! Variables are bound as the API server binds them: `object` (the located manifest: a finding
//! points at the field the failing expression read last), `oldObject` (`null`: a checked
//! manifest is a CREATE), `params`, `namespaceObject`, `request` and `variables`; `params`,
//! `namespaceObject` and `request` are plain values whose reads never move a finding.
//!
//! Other objects of the pack (a params ConfigMap) are params candidates, beside the inputs.
//! Fixtures live in the pack's `tests/` directory: each file or directory there is one
//! fixture, and its `# expect: LINE:COLUMN RULE-ID` comments are its expected findings.

pub mod library;
pub mod matching;
pub mod position;
mod schema;
#[cfg(test)]
mod tests;

pub use schema::Actions;

use crate::diagnostic::{Problem, Severity};
use crate::document::Document;
use crate::eval::value::to_cel;
use crate::kind::InputKind;
use crate::load::load_yaml;
use crate::pack::{
    CompiledRule, Fixture, Pack, PackFile, PackMeta, Programs, Rule, RuleDocs, Scope, Secret, Template, Uses, Variable,
};
use crate::source::{SourceFile, SourceMap, Span};
use crate::tree::Node;
use cel::Program;
use cel::common::types::CelNull;
use cel::common::value::Val;
use matching::{Target, matches, plain, request};
use position::ScalarMap;
use schema::{Binding, MatchResources, ParamRef, Policy, Reader};
use std::collections::HashMap;
use std::sync::Arc;

/// The API group of admission policies.
const GROUP: &str = "admissionregistration.k8s.io";
/// The versions of it a pack may use.
const VERSIONS: [&str; 2] = ["v1", "v1beta1"];
/// The directory of a pack's fixtures.
const TESTS_DIR: &str = "tests";

/// What a rule compiled from a policy's validation needs beyond the rule model.
#[derive(Debug)]
pub struct Admission {
    /// The policy's name.
    pub policy: Arc<str>,
    /// The binding's name.
    pub binding: Arc<str>,
    /// The binding's `validationActions`.
    pub actions: Actions,
    /// `failurePolicy: Ignore`: evaluation errors are dropped rather than reported.
    pub ignore_failures: bool,
    /// Whether this is the binding's first validation, which reports missing params.
    pub first: bool,
    /// The validation's position in the policy's `validations`.
    pub index: usize,
    /// The validation's `reason` (`Invalid`, `Forbidden`, `Unauthorized`,
    /// `RequestEntityTooLarge`); the API server's default is `Invalid`.
    pub reason: Option<String>,
    /// The validation's `messageExpression`.
    pub message_expression: Option<Arc<Program>>,
    /// The validation's expression in the policy, a related location of every finding.
    pub validation: Span,
    scope: Arc<BindingScope>,
}

/// Two admission rules are the same when they are the same validation of the same binding.
impl PartialEq for Admission {
    fn eq(&self, other: &Self) -> bool {
        self.policy == other.policy && self.binding == other.binding && self.index == other.index
    }
}

impl Eq for Admission {}

/// Which objects a binding selects and the params it gives them.
#[derive(Debug)]
struct BindingScope {
    constraints: MatchResources,
    match_resources: Option<MatchResources>,
    param_kind: Option<(String, String)>,
    param_ref: Option<ParamRef>,
    /// The pack's own objects that are not policies or bindings: params candidates.
    pack_objects: Arc<Vec<Node>>,
}

/// How to run a rule on one object.
pub enum Run {
    /// Evaluate with these unit variables and `params`.
    Evaluate {
        /// `object`, `oldObject`, `request`, `namespaceObject`.
        vars: Vec<(&'static str, Box<dyn Val>)>,
        /// `params`.
        params: Box<dyn Val>,
    },
    /// The binding needs params and none were found: the request is refused with this message.
    NoParams(String),
}

/// The Kubernetes objects of a run that admission rules look up: namespaces and params.
#[derive(Debug, Default)]
pub struct Cluster<'a> {
    namespaces: HashMap<&'a str, &'a Node>,
    objects: Vec<&'a Node>,
}

impl<'a> Cluster<'a> {
    /// Indexes the Kubernetes documents of a run.
    pub fn new(documents: &'a [Document]) -> Self {
        let mut cluster = Cluster::default();
        for doc in documents.iter().filter(|d| d.kind == InputKind::Kubernetes) {
            if doc.root.get("kind").and_then(Node::as_str) == Some("Namespace")
                && let Some(name) = doc.root.path(&["metadata", "name"]).and_then(Node::as_str)
            {
                cluster.namespaces.insert(name, &doc.root);
            }
            cluster.objects.push(&doc.root);
        }
        cluster
    }
}

impl Admission {
    /// How to run the rule on `object`: once per params object the binding resolves, not at
    /// all when the binding does not select the object.
    pub fn runs(&self, object: &Node, cluster: &Cluster) -> Vec<Run> {
        let scope = &*self.scope;
        let Some(target) = Target::of(object) else { return Vec::new() };
        let namespace_object = target.namespace.as_deref().and_then(|n| cluster.namespaces.get(n).copied());
        if !matches(&scope.constraints, &target, object, namespace_object) {
            return Vec::new();
        }
        if let Some(more) = &scope.match_resources
            && !matches(more, &target, object, namespace_object)
        {
            return Vec::new();
        }
        let vars = || -> Vec<(&'static str, Box<dyn Val>)> {
            let namespace: Box<dyn Val> = match namespace_object {
                Some(ns) => boxed(plain(ns)),
                None => Box::new(CelNull),
            };
            vec![
                ("object", to_cel(object)),
                ("oldObject", Box::new(CelNull)),
                ("request", boxed(request(&target))),
                ("namespaceObject", namespace),
            ]
        };
        let (Some((api_version, kind)), Some(param_ref)) = (&scope.param_kind, &scope.param_ref) else {
            return vec![Run::Evaluate { vars: vars(), params: Box::new(CelNull) }];
        };
        let namespace = param_ref.namespace.as_deref().or(target.namespace.as_deref());
        let candidates = cluster.objects.iter().copied().chain(scope.pack_objects.iter());
        let mut found: Vec<&Node> = Vec::new();
        for candidate in candidates {
            let text = |path: &[&str]| candidate.path(path).and_then(Node::as_str);
            let selected = text(&["apiVersion"]) == Some(api_version)
                && text(&["kind"]) == Some(kind)
                // A params object whose manifest names no namespace is taken for any.
                && (namespace.is_none() || text(&["metadata", "namespace"]).is_none_or(|n| Some(n) == namespace))
                && param_ref.name.as_deref().is_none_or(|n| text(&["metadata", "name"]) == Some(n))
                && param_ref.selector.as_ref().is_none_or(|s| matching::selects(s, &matching::labels(candidate)));
            // The same object among the inputs and in the pack counts once.
            if selected && !found.contains(&candidate) {
                found.push(candidate);
            }
        }
        if found.is_empty() {
            if param_ref.allow_missing || !self.first {
                return Vec::new();
            }
            return vec![Run::NoParams(
                "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"
                    .to_owned(),
            )];
        }
        found.into_iter().map(|params| Run::Evaluate { vars: vars(), params: boxed(plain(params)) }).collect()
    }

    /// The label of the validation, as a related location.
    pub fn validation_label(&self) -> String {
        format!("the validation of ValidatingAdmissionPolicy '{}'", self.policy)
    }

    /// The severity of the binding's actions: `Deny` high, `Warn` medium, `Audit` info.
    pub fn severity(&self) -> Severity {
        severity(self.actions)
    }
}

fn severity(actions: Actions) -> Severity {
    if actions.deny {
        Severity::High
    } else if actions.warn {
        Severity::Medium
    } else {
        Severity::Info
    }
}

fn boxed(value: cel::Value) -> Box<dyn Val> {
    let boxed: Result<Box<dyn Val>, _> = value.try_into();
    boxed.unwrap_or_else(|_| Box::new(CelNull))
}

/// Whether `files` are an admission pack: YAML holding a ValidatingAdmissionPolicy (or a
/// binding), and no TOML rule file.
pub fn is_admission_pack(files: &[PackFile]) -> bool {
    let yaml = |f: &&PackFile| f.relative.ends_with(".yaml") || f.relative.ends_with(".yml");
    !files.iter().any(|f| f.relative.ends_with(".toml") && !in_tests(&f.relative))
        && files
            .iter()
            .filter(yaml)
            .filter(|f| !in_tests(&f.relative))
            .any(|f| f.text.contains("ValidatingAdmissionPolicy"))
}

fn in_tests(relative: &str) -> bool {
    relative.starts_with(&format!("{TESTS_DIR}/"))
}

/// A policy with its expressions compiled.
struct Compiled {
    policy: Policy,
    variables: Vec<Variable>,
    when: Option<Arc<Program>>,
    validations: Vec<(Arc<Program>, Option<Arc<Program>>)>,
    ids: Vec<String>,
}

/// Loads an admission pack: every problem of every file, located.
///
/// # Errors
/// YAML errors, objects of unknown kinds or versions, unknown fields, CEL syntax errors,
/// unsupported functions, bindings naming a missing policy or mismatching its `paramKind`.
pub fn load_pack(files: Vec<PackFile>, sources: &SourceMap) -> Result<Pack, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut policies: Vec<Policy> = Vec::new();
    let mut bindings: Vec<Binding> = Vec::new();
    let mut pack_objects = Vec::new();
    let mut files_of_policies: Vec<Arc<SourceFile>> = Vec::new();
    let yaml = |f: &&PackFile| f.relative.ends_with(".yaml") || f.relative.ends_with(".yml");
    for file in files.iter().filter(yaml).filter(|f| !in_tests(&f.relative)) {
        let id = sources.add(SourceFile::new(file.display.clone(), file.path.clone(), &file.text));
        let source = sources.get(id);
        let docs = match load_yaml(id, &source.text) {
            Ok(docs) => docs,
            Err(e) => {
                problems.push(Problem::at(e.span, e.message));
                continue;
            }
        };
        let mut reader = Reader { problems: &mut problems };
        for doc in docs {
            let root = doc.root;
            if root.value == crate::tree::Value::Null {
                continue;
            }
            let api_version = root.get("apiVersion").and_then(Node::as_str);
            let kind = root.get("kind").and_then(Node::as_str);
            let (Some(api_version), Some(kind)) = (api_version, kind) else {
                reader.problems.push(Problem::at(
                    schema::first_key(&root),
                    "not a Kubernetes object (an admission pack holds objects with apiVersion and kind)",
                ));
                continue;
            };
            let admission = matches!(kind, "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding");
            if !admission {
                pack_objects.push(root);
                continue;
            }
            let version = api_version.strip_prefix(GROUP).and_then(|v| v.strip_prefix('/'));
            if !version.is_some_and(|v| VERSIONS.contains(&v)) {
                let at = root.get("apiVersion").map_or(root.span, |n| n.span);
                reader.problems.push(Problem::at(
                    at,
                    format!(
                        "unsupported apiVersion `{api_version}` for {kind} (expected {GROUP}/v1 or {GROUP}/v1beta1)"
                    ),
                ));
                continue;
            }
            if kind == "ValidatingAdmissionPolicy" {
                if let Some(policy) = reader.policy(&root) {
                    files_of_policies.push(source.clone());
                    policies.push(policy);
                }
            } else if let Some(binding) = reader.binding(&root) {
                bindings.push(binding);
            }
        }
    }
    for (i, policy) in policies.iter().enumerate() {
        if policies[..i].iter().any(|p| p.name == policy.name) {
            problems.push(Problem::at(
                policy.name_span,
                format!("ValidatingAdmissionPolicy `{}` is defined twice", policy.name),
            ));
        }
        if policy.match_constraints.as_ref().is_none_or(|m| m.resource_rules.is_empty()) {
            problems.push(Problem::at(
                policy.name_span,
                format!(
                    "ValidatingAdmissionPolicy `{}` has no spec.matchConstraints.resourceRules: it matches nothing",
                    policy.name
                ),
            ));
        }
    }
    for (i, binding) in bindings.iter().enumerate() {
        if bindings[..i].iter().any(|b| b.name == binding.name) {
            problems.push(Problem::at(
                binding.name_span,
                format!("ValidatingAdmissionPolicyBinding `{}` is defined twice", binding.name),
            ));
        }
    }
    let mut notes = Vec::new();
    for policy in &policies {
        let at = |span: Span| {
            let start = sources.start(span);
            format!("{}:{}:{}", sources.get(span.file).name, start.line, start.column)
        };
        if let Some(span) = policy.audit_annotations {
            notes.push(format!(
                "{}: the auditAnnotations of ValidatingAdmissionPolicy `{}` are ignored (offline there is no audit log)",
                at(span),
                policy.name
            ));
        }
        if !bindings.iter().any(|b| b.policy_name.0 == policy.name) {
            notes.push(format!(
                "{}: ValidatingAdmissionPolicy `{}` has no binding in the pack: it applies to nothing",
                at(policy.name_span),
                policy.name
            ));
        }
    }
    let env = crate::eval::functions::cel_env();
    let compiled: Vec<Compiled> = policies
        .into_iter()
        .zip(files_of_policies)
        .map(|(policy, source)| compile_policy(policy, &source, &env, &mut problems))
        .collect();
    let pack_objects = Arc::new(pack_objects);
    let pack_id = pack_name(&files);
    let fixtures = fixtures(&files);
    let mut rules = Vec::new();
    for binding in &bindings {
        let (policy_name, at) = &binding.policy_name;
        let Some(compiled) = compiled.iter().find(|c| &c.policy.name == policy_name) else {
            problems.push(Problem::at(
                *at,
                format!(
                    "ValidatingAdmissionPolicyBinding `{}` names policy `{policy_name}`, which is not in the pack{}",
                    binding.name,
                    crate::suggest::hint(policy_name, compiled.iter().map(|c| c.policy.name.as_str()))
                ),
            ));
            continue;
        };
        let policy = &compiled.policy;
        match (&policy.param_kind, binding.param_ref_span) {
            (Some(_), None) => problems.push(Problem::at(
                binding.name_span,
                format!(
                    "ValidatingAdmissionPolicyBinding `{}` has no paramRef, but policy `{}` has a paramKind",
                    binding.name, policy.name
                ),
            )),
            (None, Some(at)) => {
                problems.push(Problem::at(at, format!("paramRef given, but policy `{}` has no paramKind", policy.name)))
            }
            _ => {}
        }
        let scope = Arc::new(BindingScope {
            constraints: policy.match_constraints.clone().unwrap_or_default(),
            match_resources: binding.match_resources.clone(),
            param_kind: policy.param_kind.clone(),
            param_ref: binding.param_ref.clone(),
            pack_objects: pack_objects.clone(),
        });
        for (index, ((assert, message_expression), validation)) in
            compiled.validations.iter().zip(&policy.validations).enumerate()
        {
            let id = &compiled.ids[index];
            let expression = validation.expression.as_str().unwrap_or_default();
            let message =
                validation.message.clone().unwrap_or_else(|| format!("failed expression: {}", expression.trim()));
            let why = match (&validation.message, &validation.message_expression) {
                (Some(m), _) => m.clone(),
                (None, Some(m)) => format!("the message is `{}`", m.as_str().unwrap_or_default().trim()),
                (None, None) => message.clone(),
            };
            let admission = Admission {
                policy: Arc::from(policy.name.as_str()),
                binding: Arc::from(binding.name.as_str()),
                actions: binding.actions,
                ignore_failures: policy.ignore_failures,
                first: index == 0,
                index,
                reason: validation.reason.clone(),
                message_expression: message_expression.clone(),
                validation: validation.expression.span,
                scope: scope.clone(),
            };
            let span = validation.expression.span;
            let mut programs = CompiledRule {
                when: compiled.when.clone(),
                when_reads_element: true,
                each: None,
                assert: assert.clone(),
                locate: None,
                related: None,
                variables: compiled.variables.clone(),
                message: Template::text(&message),
                secret: Secret::Never,
                uses: Uses { doc: true, ..Uses::default() },
                cost: crate::pack::cost::RuleCost::default(),
            };
            programs.cost = crate::pack::cost::rule_cost(&programs, "it");
            let rule = Rule {
                id: Arc::from(id.as_str()),
                title: Arc::from(format!("ValidatingAdmissionPolicy '{}' validation {index}", policy.name)),
                severity: severity(binding.actions),
                kinds: vec![InputKind::Kubernetes],
                scope: Scope::Document,
                bind: Arc::from("it"),
                help: Some(Arc::from(format!(
                    "ValidatingAdmissionPolicy '{}' with binding '{}' ({})",
                    policy.name,
                    binding.name,
                    actions_text(binding.actions)
                ))),
                docs_url: None,
                docs: RuleDocs {
                    what: format!("```cel\n{}\n```", expression.trim()),
                    why,
                    fix: String::new(),
                    guide: None,
                    references: Vec::new(),
                },
                tags: vec!["kubernetes".to_owned(), "admission-policy".to_owned()],
                params: Node::map(Vec::new(), span),
                fixtures: fixtures
                    .iter()
                    .map(|(path, expected)| Fixture {
                        path: path.clone(),
                        written: path.clone(),
                        // Positions and validations are asserted by `# expect:` comments.
                        snapshot: String::new(),
                        expect: expected.iter().filter(|(r, _)| r == id).map(|(_, lc)| *lc).collect(),
                        kind: None,
                        params: None,
                        span,
                    })
                    .collect(),
                pack: pack_id.clone(),
                span,
                admission: Some(Arc::new(admission)),
                programs: Programs::compiled(programs),
                components: Arc::default(),
            };
            rules.push(Arc::new(rule));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let meta = PackMeta {
        id: pack_id.clone(),
        version: "admissionregistration.k8s.io/v1".to_owned(),
        title: format!("ValidatingAdmissionPolicies of {pack_id}"),
        docs: None,
    };
    Ok(Pack { meta, rules, files, notes, components: Arc::default() })
}

fn actions_text(actions: Actions) -> String {
    let mut names = Vec::new();
    for (on, name) in [(actions.deny, "Deny"), (actions.warn, "Warn"), (actions.audit, "Audit")] {
        if on {
            names.push(name);
        }
    }
    names.join(", ")
}

/// The pack's name: its directory's (or file's stem).
fn pack_name(files: &[PackFile]) -> String {
    let Some(first) = files.first() else { return "admission".to_owned() };
    if files.len() == 1 {
        let name = first.display.rsplit('/').next().unwrap_or(&first.display);
        return name.rsplit_once('.').map_or(name, |(stem, _)| stem).to_owned();
    }
    let root = first.display.strip_suffix(&first.relative).unwrap_or(&first.display).trim_end_matches('/');
    root.rsplit('/').next().filter(|n| !n.is_empty() && *n != ".").unwrap_or("admission").to_owned()
}

/// A finding a fixture expects: the rule and `(line, column)`.
type Expected = (String, (usize, usize));

/// The fixtures of `tests/`: each entry directly in it, with the `(rule, (line, column))`
/// its files' `# expect: LINE:COLUMN RULE-ID` comments declare.
fn fixtures(files: &[PackFile]) -> Vec<(String, Vec<Expected>)> {
    let mut out: Vec<(String, Vec<Expected>)> = Vec::new();
    for file in files.iter().filter(|f| in_tests(&f.relative)) {
        let inner = &file.relative[TESTS_DIR.len() + 1..];
        let entry = inner.split_once('/').map_or(inner, |(dir, _)| dir);
        let path = format!("{TESTS_DIR}/{entry}");
        let expected: Vec<Expected> = file
            .text
            .lines()
            .filter_map(|line| {
                let rest = line.trim_start().strip_prefix('#')?.trim_start().strip_prefix("expect:")?;
                let (position, rule) = rest.trim().split_once(' ')?;
                let (l, c) = position.split_once(':')?;
                Some((rule.trim().to_owned(), (l.parse().ok()?, c.parse().ok()?)))
            })
            .collect();
        match out.iter_mut().find(|(p, _)| *p == path) {
            Some((_, all)) => all.extend(expected),
            None => out.push((path, expected)),
        }
    }
    out
}

fn compile_policy(policy: Policy, source: &SourceFile, env: &cel::Env, problems: &mut Vec<Problem>) -> Compiled {
    let mut variables = Vec::new();
    for variable in &policy.variables {
        if let Some(program) = compile(&variable.expression, source, env, problems) {
            variables.push(Variable {
                name: Arc::from(variable.name.as_str()),
                program: Arc::new(program),
                per_element: false,
            });
        }
    }
    let mut conditions = Vec::new();
    for condition in &policy.match_conditions {
        if compile(&condition.expression, source, env, problems).is_some() {
            conditions.push(format!("({})", condition.expression.as_str().unwrap_or_default()));
        }
    }
    // The conditions were checked one by one, with their positions; together they are one `when`.
    let when = (!conditions.is_empty())
        .then(|| crate::pack::compile_cel(env, &conditions.join(" && ")).ok())
        .flatten()
        .map(Arc::new);
    let mut validations = Vec::new();
    for validation in &policy.validations {
        let assert = compile(&validation.expression, source, env, problems);
        let message = validation.message_expression.as_ref().and_then(|m| compile(m, source, env, problems));
        if let Some(assert) = assert {
            validations.push((Arc::new(assert), message.map(Arc::new)));
        }
    }
    let ids = policy
        .validations
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let unique = v
                .reason
                .as_ref()
                .filter(|r| policy.validations.iter().filter(|o| o.reason.as_ref() == Some(r)).count() == 1);
            match unique {
                Some(reason) => format!("{}/{reason}", policy.name),
                None => format!("{}/{i}", policy.name),
            }
        })
        .collect();
    Compiled { policy, variables, when, validations, ids }
}

/// Compiles one expression scalar; its errors are located inside the scalar.
fn compile(node: &Node, source: &SourceFile, env: &cel::Env, problems: &mut Vec<Problem>) -> Option<Program> {
    let text = node.as_str().unwrap_or_default();
    let map = ScalarMap::new(&source.text, node);
    match crate::pack::compile_cel(env, text) {
        Ok(program) => {
            let unsupported = library::check(&program);
            if unsupported.is_empty() {
                let mistakes = library::type_errors(&program);
                if mistakes.is_empty() {
                    return Some(program);
                }
                for mistake in mistakes {
                    problems.push(Problem::at(map.char_span(mistake.start), mistake.message));
                }
                return None;
            }
            let chars: Vec<char> = text.chars().collect();
            for u in unsupported {
                let mut index = program.source_info().offset_for(u.id).map_or(0, |(start, _)| start as usize);
                // A call is placed at its `(`: point at the function's name before it.
                if chars.get(index) == Some(&'(') {
                    index = index.saturating_sub(u.name.chars().count());
                }
                problems.push(Problem::at(map.char_span(index), u.message));
            }
            None
        }
        Err(crate::pack::CompileError::TooDeep { offset }) => {
            let index = text[..offset.min(text.len())].chars().count();
            problems.push(Problem::at(map.char_span(index), crate::pack::CompileError::too_deep_message()));
            None
        }
        Err(crate::pack::CompileError::TooCostly { offset }) => {
            let index = text[..offset.min(text.len())].chars().count();
            problems.push(Problem::at(map.char_span(index), crate::pack::CompileError::too_costly_message()));
            None
        }
        Err(crate::pack::CompileError::Syntax(errors)) => {
            // The first error only, as for TOML packs: the rest follow from it.
            for error in errors.errors.into_iter().take(1) {
                let span = map.line_col_span(text, error.pos.0, error.pos.1);
                problems.push(Problem::at(span, format!("CEL syntax error: {}", error.msg.trim())));
            }
            None
        }
    }
}

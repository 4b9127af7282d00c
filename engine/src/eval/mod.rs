//! Evaluation of compiled rules against documents and deployments.
//!
//! Each document is converted to CEL values once ([`value::to_cel`]); the rules are compiled
//! once (at pack load); the root context with celador's functions is built once and shared by
//! every thread. A unit (a document, or a deployment for cross-file rules) gets a child scope
//! with its variables, and each element a rule selects with `each` gets a child of that.
//! Every rule on every unit runs under a budget ([`budget`]).

pub mod budget;
pub mod functions;
pub mod kubernetes;
pub mod value;
pub mod variables;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::limits::MAX_RELATED;
use crate::pack::{Rule, Secret, Variable};
use crate::source::Span;
use budget::Cancel;
use cel::common::types::{CelBool, CelString};
use cel::common::value::{CowVal, Val};
use cel::{Context, ExecutionError, Program, Value};
use std::sync::Arc;
use value::{Access, Loc, loc_of_val, reset_access};
use variables::LazyVariables;

/// The variables and identity of one evaluation unit.
pub struct Unit {
    /// `(name, value)` pairs bound for every rule (`doc`, `kind`, `file`, `components`, …).
    pub vars: Vec<(&'static str, Box<dyn Val>)>,
    /// Where to report a finding whose element has no location of its own.
    pub loc: Loc,
    /// Bytes of input the unit holds: a rule's evaluation budget grows with it
    /// ([`crate::limits::EVALUATION_STEPS_PER_INPUT_BYTE`]).
    pub size: u64,
}

/// What evaluating one rule on one unit found: a failing element, or an evaluation error.
pub struct Failure {
    /// The primary location.
    pub span: Span,
    /// Whether the location is the nearest parent of something missing.
    pub missing: Option<Arc<str>>,
    /// The rendered message.
    pub message: String,
    /// Related locations with their messages.
    pub related: Vec<(Span, String)>,
    /// Whether this is a rule error rather than a finding.
    pub error: bool,
    /// Whether the error is that the rule's evaluation was stopped: it went past its budget or
    /// was cancelled ([`budget`]).
    pub stopped: bool,
    /// Whether the located value is a secret.
    pub secret: bool,
}

/// Evaluates rules; holds the shared root context.
pub struct Evaluator {
    root: &'static Context<'static, 'static>,
}

impl Default for Evaluator {
    fn default() -> Self {
        Self::new()
    }
}

impl Evaluator {
    /// Builds the root context once.
    pub fn new() -> Self {
        Self { root: functions::root() }
    }

    /// Runs one rule on one unit under a budget that `cancel` can cut short, returning each
    /// failing element, and a stopped error ([`Failure::stopped`]) after the findings made
    /// before if the budget ran out or `cancel` tripped.
    ///
    /// This is the one way rules are evaluated: the CLI, the fixture runner and the webhook
    /// all come here, so they share the budget and its errors.
    pub fn run(&self, rule: &Rule, unit: &Unit, params: &(dyn Val + 'static), cancel: &Cancel) -> Vec<Failure> {
        let at = unit.loc.anchor();
        if cancel.is_cancelled() {
            return vec![stopped(rule, at, None, cel::budget::Exceeded::Cancelled)];
        }
        let (mut failures, usage) = cancel.budget(unit.size).run(|| self.run_within_budget(rule, unit, params));
        if let Some(limit) = usage.exceeded
            && !failures.iter().any(|f| f.stopped)
        {
            // Stopped in an expression whose errors are not reported (`locate`, a message).
            failures.push(stopped(rule, at, None, limit));
        }
        failures
    }

    fn run_within_budget(&self, rule: &Rule, unit: &Unit, params: &(dyn Val + 'static)) -> Vec<Failure> {
        let mut scope = self.root.new_inner_scope();
        for (name, val) in &unit.vars {
            scope.add_variable_as_val(*name, val.clone_as_boxed());
        }
        scope.add_variable_as_val("params", params.clone_as_boxed());
        let mut failures = Vec::new();
        // Without `each` the unit is the element: every variable is evaluated at its level.
        let per_element = |v: &Variable| rule.each.is_some() && v.per_element;
        let mut bindings: Vec<(Arc<str>, Box<dyn Val>)> = Vec::new();
        if !rule.variables.is_empty() {
            bindings = unit.vars.iter().map(|(name, val)| (Arc::from(*name), val.clone_as_boxed())).collect();
            bindings.push((Arc::from("params"), params.clone_as_boxed()));
        }
        let unit_variables = LazyVariables::new(&rule.variables, |v| !per_element(v), bindings.clone(), None);
        if !rule.variables.is_empty() {
            scope.add_variable_as_val("variables", Box::new(unit_variables.clone()));
        }
        let Some(each) = &rule.each else {
            self.check_element(rule, &scope, unit.loc.anchor(), true, &mut failures);
            return failures;
        };
        // A precondition on the unit alone decides for every element, before they are selected.
        if let Some(when) = rule.when.as_ref().filter(|_| !rule.when_reads_element) {
            match eval_bool(when, &scope) {
                Ok(true) => {}
                Ok(false) => return failures,
                Err(e) => {
                    failures.push(rule_error(rule, unit.loc.anchor(), "when", &e));
                    return failures;
                }
            }
        }
        let selected = match Value::resolve_val(each.expression(), &scope) {
            Ok(v) => v,
            Err(e) => {
                failures.push(rule_error(rule, unit.loc.anchor(), "each", &e));
                return failures;
            }
        };
        let elements = match elements(&selected, unit.loc.anchor()) {
            Ok(elements) => elements,
            Err(got) => {
                failures.push(Failure {
                    span: unit.loc.anchor(),
                    missing: None,
                    message: format!(
                        "rule {} failed to evaluate: `each` must yield a list or a map, not {got}",
                        rule.id
                    ),
                    related: Vec::new(),
                    error: true,
                    stopped: false,
                    secret: false,
                });
                return failures;
            }
        };
        let any_per_element = rule.variables.iter().any(per_element);
        for element in elements {
            let mut inner = scope.new_inner_scope();
            if any_per_element {
                let mut element_bindings = bindings.clone();
                element_bindings.push((rule.bind.clone(), element.value.clone_as_boxed()));
                if let Some(key) = &element.key {
                    element_bindings.push((Arc::from("key"), Box::new(CelString::from(key.clone()))));
                }
                let variables =
                    LazyVariables::new(&rule.variables, per_element, element_bindings, Some(unit_variables.clone()));
                inner.add_variable_as_val("variables", Box::new(variables));
            }
            inner.add_variable_as_val(&*rule.bind, element.value);
            if let Some(key) = element.key {
                inner.add_variable_as_val("key", Box::new(CelString::from(key)));
            }
            self.check_element(rule, &inner, element.span, rule.when_reads_element, &mut failures);
            if failures.last().is_some_and(|f| f.stopped) {
                break;
            }
        }
        failures
    }

    /// Checks one element (or the unit, without `each`); `when` is evaluated here if
    /// `with_when`, else it was on the unit.
    fn check_element(&self, rule: &Rule, ctx: &Context, span: Span, with_when: bool, failures: &mut Vec<Failure>) {
        if let Some(when) = rule.when.as_ref().filter(|_| with_when) {
            match eval_bool(when, ctx) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    failures.push(rule_error(rule, span, "when", &e));
                    return;
                }
            }
        }
        let admission = rule.admission.as_deref();
        if admission.is_some() {
            // A policy's finding is where its expression last read the object: only the
            // assertion's own reads count, not the conditions' or the variables'.
            reset_access();
        }
        match eval_bool(&rule.assert, ctx) {
            Ok(true) => {}
            Ok(false) => {
                let last_read = admission.map(|_| value::last_access());
                let (span, missing) = match (&rule.locate, last_read) {
                    (Some(locate), _) => locate_value(locate, ctx).unwrap_or((span, None)),
                    (None, Some(access)) => located_by_access(access, span),
                    (None, None) => (span, None),
                };
                let message = admission
                    .and_then(|a| a.message_expression.as_deref())
                    .and_then(|program| message_expression(program, ctx))
                    .unwrap_or_else(|| rule.message.render(|p| render_value(p, ctx)));
                let related = rule.related.as_ref().map(|r| related_values(r, ctx, span)).unwrap_or_default();
                let secret = match &rule.secret {
                    Secret::Never => false,
                    Secret::Always => true,
                    // When in doubt, mask.
                    Secret::When(program) => eval_bool(program, ctx).unwrap_or(true),
                };
                failures.push(Failure { span, missing, message, related, error: false, stopped: false, secret });
            }
            Err(e) => failures.push(rule_error(rule, span, "assert", &e)),
        }
    }
}

struct Element {
    value: Box<dyn Val>,
    key: Option<String>,
    span: Span,
}

/// The span to report for a value at `loc`: a scalar's own span, a collection's key (or, for
/// a sequence item, its first line).
fn report_span(val: &dyn Val, loc: Loc) -> Span {
    if loc_of_val(val).is_some() { loc.anchor() } else { loc.span }
}

fn elements(selected: &CowVal<'_, 'static>, fallback: Span) -> Result<Vec<Element>, String> {
    let val: &(dyn Val + 'static) = &**selected;
    if let Some(any) = val.as_any() {
        if let Some(map) = any.downcast_ref::<value::DocMap>() {
            return Ok(map
                .entries()
                .map(|(k, v, loc)| Element {
                    value: v.clone_as_boxed(),
                    key: Some(k.to_owned()),
                    span: report_span(v, loc),
                })
                .collect());
        }
        if let Some(list) = any.downcast_ref::<value::DocList>() {
            return Ok(list
                .items()
                .map(|(v, loc)| Element { value: v.clone_as_boxed(), key: None, span: report_span(v, loc) })
                .collect());
        }
    }
    if val.get_type().name() == "list"
        && let Some(iterable) = val.as_iterable()
    {
        let mut out = Vec::new();
        let mut iter = iterable.iter();
        while let Some(item) = iter.next() {
            let span = loc_of_val(item).map_or(fallback, |l| l.anchor());
            out.push(Element { value: item.clone_as_boxed(), key: None, span });
        }
        return Ok(out);
    }
    Err(val.get_type().name().to_owned())
}

fn eval_bool(program: &Program, ctx: &Context) -> Result<bool, ExecutionError> {
    let value = Value::resolve_val(program.expression(), ctx)?;
    value.downcast_ref::<CelBool>().map(|b| bool::from(*b)).ok_or_else(|| ExecutionError::UnexpectedType {
        got: value.get_type().name().to_owned(),
        want: "bool".to_owned(),
    })
}

/// Evaluates a `locate` expression: its value's location, or — when it names a missing key —
/// the nearest existing parent.
fn locate_value(program: &Program, ctx: &Context) -> Option<(Span, Option<Arc<str>>)> {
    reset_access();
    let result = Value::resolve_val(program.expression(), ctx);
    match result {
        Ok(val) => loc_of_val(&*val).map(|l| (l.anchor(), None)).or_else(|| match value::last_access() {
            Some(Access::Found(loc)) => Some((loc.span, None)),
            _ => None,
        }),
        Err(ExecutionError::NoSuchKey(_)) => match value::last_access() {
            Some(Access::Missing(loc, key)) => Some((loc.anchor(), Some(key))),
            _ => None,
        },
        Err(_) => None,
    }
}

/// Where the last access of an expression points: the value read (its key, for a mapping
/// entry), or the nearest existing parent of a missing key; `fallback` when nothing was read.
fn located_by_access(access: Option<Access>, fallback: Span) -> (Span, Option<Arc<str>>) {
    match access {
        Some(Access::Found(loc)) => (loc.anchor(), None),
        Some(Access::Missing(loc, key)) => (loc.anchor(), Some(key)),
        None => (fallback, None),
    }
}

/// A ValidatingAdmissionPolicy's `messageExpression`: its string, or `None` when it fails or
/// is blank, and the static message applies, as in the API server.
fn message_expression(program: &Program, ctx: &Context) -> Option<String> {
    let value = Value::resolve_val(program.expression(), ctx).ok()?;
    let text = value.downcast_ref::<CelString>()?.inner().to_owned();
    (!text.trim().is_empty()).then_some(text)
}

/// The related places `program` yields, other than `own` (a rule relating a component's env
/// block, when the finding is in that block, adds nothing), at most [`MAX_RELATED`].
fn related_values(program: &Program, ctx: &Context, own: Span) -> Vec<(Span, String)> {
    let Ok(val) = Value::resolve_val(program.expression(), ctx) else { return Vec::new() };
    let Some(iterable) = val.as_iterable() else { return Vec::new() };
    let mut out = Vec::new();
    let mut iter = iterable.iter();
    while out.len() < MAX_RELATED
        && let Some(item) = iter.next()
    {
        if let Some(loc) = loc_of_val(item) {
            if loc.anchor() != own {
                out.push((loc.anchor(), String::new()));
            }
            continue;
        }
        // `{'at': value, 'message': 'what it is'}` labels the related place.
        let Some(indexer) = item.as_indexer() else { continue };
        let Ok(at) = indexer.get(&CelString::from("at".to_owned())) else { continue };
        let Some(loc) = loc_of_val(&*at).filter(|loc| loc.anchor() != own) else { continue };
        let message = indexer
            .get(&CelString::from("message".to_owned()))
            .ok()
            .and_then(|m| m.downcast_ref::<CelString>().map(|s| s.inner().to_owned()))
            .unwrap_or_default();
        out.push((loc.anchor(), message));
    }
    out
}

/// Renders a template hole: strings as they are, other values in CEL syntax.
fn render_value(program: &Program, ctx: &Context) -> String {
    match Value::resolve_val(program.expression(), ctx) {
        Ok(val) => {
            if let Some(s) = val.downcast_ref::<CelString>() {
                return s.inner().to_owned();
            }
            match Value::try_from(&*val) {
                Ok(Value::Int(i)) => i.to_string(),
                Ok(Value::UInt(u)) => u.to_string(),
                Ok(Value::Float(f)) => f.to_string(),
                Ok(Value::Bool(b)) => b.to_string(),
                Ok(Value::Null) => "null".to_owned(),
                Ok(other) => format!("{other:?}"),
                Err(_) => "<value>".to_owned(),
            }
        }
        Err(e) => format!("<{e}>"),
    }
}

fn rule_error(rule: &Rule, span: Span, part: &str, error: &ExecutionError) -> Failure {
    if let ExecutionError::BudgetExceeded(limit) = error {
        return stopped(rule, span, Some(part), *limit);
    }
    Failure {
        span,
        missing: None,
        message: format!("rule {} failed to evaluate its `{part}` expression here: {error}", rule.id),
        related: Vec::new(),
        error: true,
        stopped: false,
        secret: false,
    }
}

/// The error of a rule whose evaluation was stopped, in its `part` expression when known.
fn stopped(rule: &Rule, span: Span, part: Option<&str>, limit: cel::budget::Exceeded) -> Failure {
    let part = part.map(|p| format!(" in its `{p}` expression")).unwrap_or_default();
    Failure {
        span,
        missing: None,
        message: format!("rule {} stopped{part} while checking this: {}", rule.id, budget::stopped_because(limit)),
        related: Vec::new(),
        error: true,
        stopped: true,
        secret: false,
    }
}

/// Turns a failure into a diagnostic.
pub fn to_diagnostic(rule: &Rule, failure: Failure, logical_path: String) -> Diagnostic {
    if failure.stopped {
        return Diagnostic {
            rule: Arc::from(crate::diagnostic::EVALUATION_LIMIT),
            severity: Severity::High,
            title: Arc::from("A rule went past its evaluation budget"),
            message: failure.message,
            primary: Label { span: failure.span, message: format!("while checking {}", rule.id) },
            related: Vec::new(),
            help: Some(Arc::from(
                "Make the rule cheaper (join objects through `k8s` instead of comparing every pair), or report it if it is built in.",
            )),
            docs: rule.docs_url.clone(),
            masked: Vec::new(),
            logical_path,
            origin: None,
        };
    }
    if failure.error {
        return Diagnostic {
            rule: Arc::from(crate::diagnostic::RULE_ERROR),
            severity: Severity::High,
            title: Arc::from("A rule failed to evaluate"),
            message: failure.message,
            primary: Label { span: failure.span, message: format!("while checking {}", rule.id) },
            related: Vec::new(),
            help: Some(Arc::from(
                "Fix the rule's CEL expression (guard optional fields with `has()`), or report it if it is built in.",
            )),
            docs: rule.docs_url.clone(),
            masked: Vec::new(),
            logical_path,
            origin: None,
        };
    }
    let label = match &failure.missing {
        Some(key) => format!("`{key}` is missing here"),
        None => rule.title.to_string(),
    };
    Diagnostic {
        rule: rule.id.clone(),
        severity: rule.severity,
        title: rule.title.clone(),
        message: failure.message,
        primary: Label { span: failure.span, message: label },
        related: failure.related.into_iter().map(|(span, message)| Label { span, message }).collect(),
        help: rule.help.clone(),
        docs: rule.docs_url.clone(),
        masked: if failure.secret && failure.missing.is_none() { vec![failure.span] } else { Vec::new() },
        logical_path,
        origin: None,
    }
}

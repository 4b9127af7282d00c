//! `variables`: a rule's named expressions (its pack's `[[variables]]` it reads and its own
//! `[[rule.variables]]`), each evaluated when first read and at most once.
//!
//! A unit (a document or a deployment) gets one [`LazyVariables`] for the variables that do
//! not read the element; each element gets a child holding those that do, which reads the
//! others from its unit's, so a unit-level variable is evaluated once for all elements. An
//! unread variable is never evaluated: one that would fail on this document costs nothing.

use super::value::{KeyIter, key_text};
use crate::pack::Variable;
use cel::common::traits::{Container, Indexer, Iterable, Iterator as CelIterator, Sizer};
use cel::common::types::{self, CelInt, CelString, Type};
use cel::common::value::{CowVal, StaticVal, Val};
use cel::{Context, ExecutionError, Value};
use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The `variables` map of one unit or element.
#[derive(Clone, Debug)]
pub struct LazyVariables(Arc<Layer>);

#[derive(Debug)]
struct Layer {
    /// Every variable name the rule reads as `variables.NAME`, in order.
    names: Vec<CelString<'static>>,
    /// Per name: evaluated here, or read from `parent`.
    slots: Vec<Option<Slot>>,
    /// What the expressions evaluated here see besides `variables` (the unit's variables,
    /// `params`, the element and `key`).
    bindings: Vec<(Arc<str>, Box<dyn Val>)>,
    /// The unit's variables, for an element's.
    parent: Option<LazyVariables>,
}

#[derive(Debug)]
struct Slot {
    variable: Variable,
    value: OnceLock<Result<Box<dyn Val>, ExecutionError>>,
    evaluating: AtomicBool,
}

impl LazyVariables {
    /// The variables of a unit: those of `variables` that `here` selects are evaluated in a
    /// scope with `bindings`; the others are unavailable (an element's own).
    pub fn new(
        variables: &[Variable],
        here: impl Fn(&Variable) -> bool,
        bindings: Vec<(Arc<str>, Box<dyn Val>)>,
        parent: Option<LazyVariables>,
    ) -> LazyVariables {
        let names = variables.iter().map(|v| CelString::from(v.name.to_string())).collect();
        let slots = variables
            .iter()
            .map(|v| {
                here(v).then(|| Slot {
                    variable: v.clone(),
                    value: OnceLock::new(),
                    evaluating: AtomicBool::new(false),
                })
            })
            .collect();
        LazyVariables(Arc::new(Layer { names, slots, bindings, parent }))
    }

    fn value(&self, i: usize) -> Result<&(dyn Val + 'static), ExecutionError> {
        let Some(slot) = &self.0.slots[i] else {
            return match &self.0.parent {
                Some(parent) => parent.value(i),
                None => Err(ExecutionError::function_error(
                    &format!("variables.{}", self.0.names[i].inner()),
                    "it reads the element, which is not bound here",
                )),
            };
        };
        if slot.value.get().is_none() {
            if slot.evaluating.swap(true, Ordering::AcqRel) {
                return Err(ExecutionError::function_error(
                    &format!("variables.{}", slot.variable.name),
                    "it reads itself",
                ));
            }
            let _ = slot.value.set(self.evaluate(&slot.variable));
            slot.evaluating.store(false, Ordering::Release);
        }
        match slot.value.get() {
            Some(Ok(value)) => Ok(&**value),
            Some(Err(e)) => Err(e.clone()),
            None => Err(ExecutionError::function_error(&format!("variables.{}", slot.variable.name), "not evaluated")),
        }
    }

    fn evaluate(&self, variable: &Variable) -> Result<Box<dyn Val>, ExecutionError> {
        #[cfg(test)]
        EVALUATIONS.with(|n| n.set(n.get() + 1));
        let mut ctx: Context<'_, 'static> = super::functions::root().new_inner_scope();
        for (name, value) in &self.0.bindings {
            ctx.add_variable_as_val(&**name, value.clone_as_boxed());
        }
        ctx.add_variable_as_val("variables", Box::new(self.clone()));
        Value::resolve_val(variable.program.expression(), &ctx).map(CowVal::into_owned).map_err(|e| match e {
            // A stopped evaluation stays one, whichever expression it was in.
            ExecutionError::BudgetExceeded(_) => e,
            e => ExecutionError::function_error(&format!("variables.{}", variable.name), e),
        })
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.0.names.iter().position(|k| k.inner() == key)
    }
}

#[cfg(test)]
thread_local! {
    /// How many variables this thread has evaluated: tests count evaluations with it.
    pub(crate) static EVALUATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Val for LazyVariables {
    fn get_type(&self) -> &Type {
        &types::MAP_TYPE
    }

    fn cel_type() -> &'static Type {
        &types::MAP_TYPE
    }

    fn as_container(&self) -> Option<&dyn Container> {
        Some(self)
    }

    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn as_iterable<'b, 'v>(&'b self) -> Option<&'b (dyn Iterable + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn as_sizer(&self) -> Option<&dyn Sizer> {
        Some(self)
    }

    fn equals(&self, other: &dyn Val) -> bool {
        other.as_any().and_then(|a| a.downcast_ref::<LazyVariables>()).is_some_and(|o| Arc::ptr_eq(&self.0, &o.0))
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(self.clone())
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl StaticVal for LazyVariables {}

impl Container for LazyVariables {
    fn contains(&self, value: &dyn Val) -> Result<bool, ExecutionError> {
        Ok(key_text(value).is_some_and(|k| self.position(&k).is_some()))
    }
}

impl Indexer for LazyVariables {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let key = key_text(idx).unwrap_or_default();
        match self.position(&key) {
            Some(i) => self.value(i).map(CowVal::Borrowed),
            None => Err(ExecutionError::NoSuchKey(Arc::new(key.into_owned()))),
        }
    }

    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.get(idx).map(CowVal::into_owned)
    }
}

impl Iterable for LazyVariables {
    fn iter<'b, 'v>(&'b self) -> Box<dyn CelIterator<'b, 'v> + 'b>
    where
        Self: 'v,
    {
        Box::new(KeyIter { keys: &self.0.names, pos: 0 })
    }
}

impl Sizer for LazyVariables {
    fn size(&self) -> CelInt {
        CelInt::from(self.0.names.len() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::EVALUATIONS;
    use crate::check::{Input, load_inputs};
    use crate::eval::value::{Loc, to_cel};
    use crate::eval::{Evaluator, Failure, Unit};
    use crate::pack::{PackFile, load_pack};
    use crate::read::ReadScope;
    use crate::source::SourceMap;
    use std::sync::Arc;

    /// Runs the one rule of `pack` (single-file) on the YAML `document`, on this thread.
    fn run(pack: &str, document: &str) -> (SourceMap, Vec<Failure>) {
        let sources = SourceMap::new();
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(pack) };
        let rules = load_pack(vec![file], &sources).unwrap_or_else(|p| panic!("{p:?}")).rules;
        let input = Input { name: "d.yaml".into(), path: None, bytes: document.into(), explicit: true, kind: None };
        let loaded = load_inputs(vec![input], &sources, None, &ReadScope::nothing(), &Default::default());
        let root = &loaded.documents[0].root;
        let unit = Unit { vars: vec![("doc", to_cel(root))], loc: Loc { span: root.span, key_span: None }, size: 0 };
        let failures =
            Evaluator::new().run(&rules[0], &unit, &*to_cel(&rules[0].params), &crate::eval::budget::Cancel::new());
        (sources, failures)
    }

    fn pack(rule: &str) -> String {
        format!(
            "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n[[variables]]\nname = \"kind\"\nexpression = 'doc.kind'\n[[rule]]\nid = \"T-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nmessage = 'm'\n{rule}"
        )
    }

    const PORTS: &str = "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: 80\n  - port: 8080\n  - port: 443\n";

    #[test]
    fn an_unread_variable_is_not_evaluated() {
        let rule = "assert = 'variables.kind == \"Service\"'\n[[rule.variables]]\nname = \"boom\"\nexpression = 'doc.missing.field == 1'\n";
        let (_, failures) = run(&pack(rule), PORTS);
        assert!(failures.is_empty(), "`boom` would fail, and is never read");

        let rule =
            "assert = 'variables.boom'\n[[rule.variables]]\nname = \"boom\"\nexpression = 'doc.missing.field == 1'\n";
        let (_, failures) = run(&pack(rule), PORTS);
        assert_eq!(failures.len(), 1);
        assert!(failures[0].error);
        assert!(failures[0].message.contains("variables.boom"), "{}", failures[0].message);
    }

    #[test]
    fn each_variable_is_evaluated_at_most_once_per_unit_or_element() {
        // `ports` (unit) is read by every element, twice; `port` (per element) twice per element.
        let rule = "each = 'doc.spec.ports'\nas = 'p'\nassert = 'variables.port in variables.ports && variables.port < 1000 && size(variables.ports) > 0 || variables.port == 8080'\n[[rule.variables]]\nname = \"ports\"\nexpression = 'doc.spec.ports.map(x, x.port)'\n[[rule.variables]]\nname = \"port\"\nexpression = 'p.port'\n";
        EVALUATIONS.with(|n| n.set(0));
        let (_, failures) = run(&pack(rule), PORTS);
        assert!(failures.is_empty(), "{:?}", failures.iter().map(|f| &f.message).collect::<Vec<_>>());
        assert_eq!(EVALUATIONS.with(std::cell::Cell::get), 1 + 3);
    }

    #[test]
    fn variables_read_variables_of_the_pack_and_the_rule() {
        // `big` (per element) reads `limit` (unit), which reads the pack's `kind`; declared in
        // any order.
        let rule = "each = 'doc.spec.ports'\nas = 'p'\nassert = '!variables.big'\nlocate = 'p.port'\nmessage = '{{ variables.kind }} port {{ p.port }} is above {{ variables.limit }}'\n[[rule.variables]]\nname = \"big\"\nexpression = 'p.port > variables.limit'\n[[rule.variables]]\nname = \"limit\"\nexpression = 'variables.kind == \"Service\" ? 1000 : 0'\n";
        let rule = rule.replace("message = 'm'\n", "");
        let text = pack(&rule).replace("message = 'm'\n", "");
        EVALUATIONS.with(|n| n.set(0));
        let (sources, failures) = run(&text, PORTS);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].message, "Service port 8080 is above 1000");
        let at = sources.start(failures[0].span);
        assert_eq!((at.line, at.column), (6, 11));
        assert_eq!(EVALUATIONS.with(std::cell::Cell::get), 3 + 1 + 1, "big per port, limit and kind once");
    }
}

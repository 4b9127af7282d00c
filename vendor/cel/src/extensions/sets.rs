//! The sets extension library, following cel-go's `ext.Sets()`: `sets.contains`,
//! `sets.equivalent` and `sets.intersects`, each over two lists.
//!
//! Scalars (strings, numbers, booleans, null) are compared through a hash set, so each
//! function is linear in the sizes of its lists; other elements (lists, maps) fall back to
//! CEL equality, element by element.

use super::{iterable, HashKey};
use crate::common::types::{CelBool, LIST_TYPE};
use crate::common::value::{CowVal, Val};
use crate::{DeclarationError, Env, ExecutionError};
use std::collections::HashSet;

/// Registers `sets.contains`, `sets.equivalent` and `sets.intersects` on `env`.
pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload("sets.contains", "sets.contains(list,list)", vec![LIST_TYPE, LIST_TYPE], contains)?;
    env.add_overload("sets.equivalent", "sets.equivalent(list,list)", vec![LIST_TYPE, LIST_TYPE], equivalent)?;
    env.add_overload("sets.intersects", "sets.intersects(list,list)", vec![LIST_TYPE, LIST_TYPE], intersects)?;
    Ok(())
}

/// The elements of one list, indexed for membership tests.
struct Members<'b, 'v> {
    hashed: HashSet<HashKey<'b>>,
    others: Vec<&'b (dyn Val + 'v)>,
}

impl<'b, 'v> Members<'b, 'v> {
    fn of(list: &'b (dyn Val + 'v)) -> Result<Self, ExecutionError> {
        let mut members = Members { hashed: HashSet::new(), others: Vec::new() };
        let mut items = iterable(list)?.iter();
        while let Some(item) = items.next() {
            match HashKey::of(item) {
                Some(key) => {
                    members.hashed.insert(key);
                }
                None => members.others.push(item),
            }
        }
        Ok(members)
    }

    fn has(&self, item: &dyn Val) -> bool {
        match HashKey::of(item) {
            Some(key) => self.hashed.contains(&key),
            None => self.others.iter().any(|other| item.equals(*other)),
        }
    }
}

/// Whether every element of `sub` is in `list`.
fn all_in(list: &dyn Val, sub: &dyn Val) -> Result<bool, ExecutionError> {
    let members = Members::of(list)?;
    let mut items = iterable(sub)?.iter();
    while let Some(item) = items.next() {
        if !members.has(item) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn two<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<[CowVal<'b, 'v>; 2], ExecutionError> {
    let count = args.len();
    args.try_into().map_err(|_| ExecutionError::invalid_argument_count(2, count))
}

/// `sets.contains(list, sub)`: whether `list` holds every element of `sub`.
fn contains<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list, sub] = two(args)?;
    Ok(CowVal::Owned(Box::new(CelBool::from(all_in(list.as_ref(), sub.as_ref())?))))
}

/// `sets.equivalent(a, b)`: whether each list holds every element of the other.
fn equivalent<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [a, b] = two(args)?;
    let same = all_in(a.as_ref(), b.as_ref())? && all_in(b.as_ref(), a.as_ref())?;
    Ok(CowVal::Owned(Box::new(CelBool::from(same))))
}

/// `sets.intersects(a, b)`: whether the lists share an element.
fn intersects<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [a, b] = two(args)?;
    let members = Members::of(a.as_ref())?;
    let mut items = iterable(b.as_ref())?.iter();
    while let Some(item) = items.next() {
        if members.has(item) {
            return Ok(CowVal::Owned(Box::new(CelBool::from(true))));
        }
    }
    Ok(CowVal::Owned(Box::new(CelBool::from(false))))
}

#[cfg(test)]
mod tests {
    use crate::{Context, Env, Value};
    use std::sync::Arc;

    fn eval(expr: &str) -> Value {
        let mut env = Env::stdlib();
        env.add_extension(crate::extensions::sets).expect("registers");
        let ctx = Context::with_env(Arc::new(env));
        ctx.env().compile(expr).expect("valid CEL").execute(&ctx).expect("evaluates")
    }

    #[test]
    fn contains_equivalent_and_intersects_follow_cel_go() {
        for (expr, want) in [
            ("sets.contains([1, 2, 3], [3, 1])", true),
            ("sets.contains([1, 2], [2, 4])", false),
            ("sets.contains([1, 2], [])", true),
            ("sets.contains([1], [1u, 1.0])", true),
            ("sets.contains([1], [1.5])", false),
            ("sets.contains([[1], [2]], [[2]])", true),
            ("sets.equivalent(['a', 'b', 'b'], ['b', 'a'])", true),
            ("sets.equivalent(['a'], ['a', 'c'])", false),
            ("sets.intersects(['a', 'b'], ['c', 'b'])", true),
            ("sets.intersects(['a'], [])", false),
            ("sets.intersects([{'k': 1}], [{'k': 1}])", true),
            ("sets.intersects([true, null], [null])", true),
            ("sets.intersects(['1'], [1])", false),
        ] {
            assert_eq!(eval(expr), Value::Bool(want), "{expr}");
        }
    }
}

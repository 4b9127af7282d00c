//! The Kubernetes lists library (`isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`).
//! cel-go's sets library (`sets.contains`, …) is the vendored cel's `sets` extension (hashed,
//! linear), registered with the other extensions.

use super::{RawFunction, boolean, exactly, int};
use cel::common::types::{CelDouble, CelInt, CelUInt};
use cel::common::value::{CowVal, Val};
use cel::{ExecutionError, FunctionContext};
use std::cmp::Ordering;

pub(super) fn functions() -> Vec<(&'static str, RawFunction)> {
    vec![
        ("isSorted", Box::new(is_sorted)),
        ("sum", Box::new(sum)),
        ("min", Box::new(|f| extreme(f, "min", Ordering::Less))),
        ("max", Box::new(|f| extreme(f, "max", Ordering::Greater))),
        ("includes", Box::new(includes)),
    ]
}

/// `list.indexOf(x)` and `list.lastIndexOf(x)`, beside the strings extension's overloads.
pub(super) fn declare(env: &mut cel::Env) -> Result<(), cel::DeclarationError> {
    use cel::common::types::{DYN_TYPE, LIST_TYPE};
    env.add_member_overload("indexOf", "list.indexOf(dyn)", LIST_TYPE, vec![DYN_TYPE], |args| index_of(args, false))?;
    env.add_member_overload("lastIndexOf", "list.lastIndexOf(dyn)", LIST_TYPE, vec![DYN_TYPE], |args| {
        index_of(args, true)
    })
}

/// The elements of a list argument.
fn items<'a, 'v>(name: &str, list: &'a (dyn Val + 'v)) -> Result<Vec<&'a (dyn Val + 'v)>, ExecutionError> {
    let iterable = list.as_iterable().filter(|_| list.get_type().name() == "list").ok_or_else(|| {
        ExecutionError::function_error(name, format!("expected a list, got {}", list.get_type().name()))
    })?;
    let mut out = Vec::new();
    let mut iter = iterable.iter();
    while let Some(item) = iter.next() {
        out.push(item);
    }
    Ok(out)
}

/// `x.includes(y)`: whether the list `x` has an element equal to `y`, or (not a list) `x`
/// equals `y`.
fn includes<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 2)?;
    let (target, wanted) = (args[0], args[1]);
    if target.get_type().name() == "list" {
        return boolean(items("includes", target)?.iter().any(|item| item.equals(wanted)));
    }
    boolean(target.equals(wanted))
}

fn compare(name: &str, a: &dyn Val, b: &dyn Val) -> Result<Ordering, ExecutionError> {
    a.as_comparer()
        .ok_or_else(|| {
            ExecutionError::function_error(name, format!("{} values cannot be ordered", a.get_type().name()))
        })?
        .compare(b)
        .map_err(|_| ExecutionError::function_error(name, "the list's elements cannot be ordered against each other"))
}

/// `[1, 2, 3].isSorted()`: whether each element is at most the next.
fn is_sorted<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    let items = items("isSorted", args[0])?;
    for pair in items.windows(2) {
        if compare("isSorted", pair[0], pair[1])? == Ordering::Greater {
            return boolean(false);
        }
    }
    boolean(true)
}

/// `[1, 2, 3].sum()`: the sum of ints, uints or doubles; `0` for an empty list.
fn sum<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    let items = items("sum", args[0])?;
    let Some(first) = items.first() else { return int(0) };
    let overflow = || ExecutionError::function_error("sum", "integer overflow");
    if first.downcast_ref::<CelInt>().is_some() {
        let mut total: i64 = 0;
        for item in &items {
            let i = item.downcast_ref::<CelInt>().ok_or_else(|| mixed("sum"))?;
            total = total.checked_add(i64::from(*i)).ok_or_else(overflow)?;
        }
        return int(total);
    }
    if first.downcast_ref::<CelUInt>().is_some() {
        let mut total: u64 = 0;
        for item in &items {
            let u = item.downcast_ref::<CelUInt>().ok_or_else(|| mixed("sum"))?;
            total = total.checked_add(u64::from(*u)).ok_or_else(overflow)?;
        }
        return Ok(CowVal::owned(CelUInt::from(total)));
    }
    if first.downcast_ref::<CelDouble>().is_some() {
        let mut total = 0.0;
        for item in &items {
            total += f64::from(*item.downcast_ref::<CelDouble>().ok_or_else(|| mixed("sum"))?);
        }
        return Ok(CowVal::owned(CelDouble::from(total)));
    }
    Err(ExecutionError::function_error("sum", format!("cannot sum {} values", first.get_type().name())))
}

fn mixed(name: &str) -> ExecutionError {
    ExecutionError::function_error(name, "the list mixes types")
}

/// `[1, 2].min()`, `[1, 2].max()`: the least or greatest element; an error for an empty list.
fn extreme<'c, 'v>(
    ftx: &mut FunctionContext<'c, 'v>,
    name: &str,
    wanted: Ordering,
) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    let items = items(name, args[0])?;
    let Some(mut best) = items.first().copied() else {
        return Err(ExecutionError::function_error(name, format!("{name} called on empty list")));
    };
    for item in &items[1..] {
        if compare(name, *item, best)? == wanted {
            best = *item;
        }
    }
    Ok(CowVal::Owned(best.clone_as_boxed()))
}

/// `list.indexOf(x)`, `list.lastIndexOf(x)`: the first or last index of an element equal to
/// `x`, `-1` when none is. (On strings, cel's strings extension answers.)
fn index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>, last: bool) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let name = if last { "lastIndexOf" } else { "indexOf" };
    let [list, wanted] = args.as_slice() else {
        return Err(ExecutionError::invalid_argument_count(2, args.len()));
    };
    let items = items(name, &**list)?;
    let found = if last {
        items.iter().rposition(|item| item.equals(&**wanted))
    } else {
        items.iter().position(|item| item.equals(&**wanted))
    };
    Ok(CowVal::owned(CelInt::from(found.map_or(-1, |i| i64::try_from(i).unwrap_or(i64::MAX)))))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{all_fail, all_true};

    /// The examples of the Kubernetes lists library documentation.
    #[test]
    fn lists_behave_as_kubernetes_documents() {
        all_true(&[
            "[1, 2, 3].isSorted()",
            "!['c', 'b'].isSorted()",
            "[].isSorted()",
            "[1, 2, 3].sum() == 6",
            "[0.5, 1.5].sum() == 2.0",
            "[].sum() == 0",
            "[1, 3, 2].min() == 1",
            "['b', 'c', 'a'].max() == 'c'",
            "[1, 2, 2, 3].indexOf(2) == 1",
            "[1, 2, 2, 3].lastIndexOf(2) == 2",
            "['a'].indexOf('z') == -1",
            // The examples of k8s.io/apiserver/pkg/cel/library/lists.go.
            "['a', 'b', 'b', 'c'].isSorted() && ![2.0, 1.0].isSorted() && [1].isSorted()",
            "[1, 3].sum() == 4 && [1.0, 3.0].sum() == 4.0",
            "[1, 3].min() == 1 && [1, 3].max() == 3 && [1].min() == 1",
            "['a', 'b', 'b', 'c'].lastIndexOf('b') == 2 && [1.0].indexOf(1.1) == -1 && [].indexOf('string') == -1",
            "[1, 2, 3].includes(2) && ![1, 2, 3].includes(4)",
            "'model-a'.includes('model-a') && !'model-a'.includes('model-b')",
            // cel-go's sets library.
            "sets.contains([1, 2, 3], [3, 1])",
            "!sets.contains([1, 2], [3])",
            "sets.contains([1], [])",
            "sets.equivalent([1, 2, 2], [2, 1])",
            "!sets.equivalent([1], [1, 2])",
            "sets.intersects([1, 2], [2, 3])",
            "!sets.intersects([1], [])",
        ]);
        all_fail(&[("[].min()", "min called on empty list"), ("[1, 'a'].sum()", "mixes")]);
    }
}

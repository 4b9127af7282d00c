//! The Kubernetes CEL libraries that ValidatingAdmissionPolicies use, as the API server
//! provides them (`k8s.io/apiserver/pkg/cel/library`): lists, regex, URLs, IPs and CIDRs,
//! quantities, and cel-go's sets.
//!
//! cel already provides the standard library, optional values (`?.`, `orValue`, `hasValue`,
//! `optional.of`) and the strings extension (`lowerAscii`, `split`, `strings.quote`, …); what it lacks is registered here, on
//! celador's root context, so TOML packs can call these functions too. Which Kubernetes
//! functions exist and which celador implements is declared in [`crate::vap::library`].
//!
//! The values these libraries introduce (`net.IP`, `net.IPNet`, `kubernetes.URL`,
//! `kubernetes.Quantity`) are opaque CEL values of their own type, compared by value.

mod lists;
mod net;
mod quantity;
mod url;

use cel::common::types::{CelBool, CelInt, CelString};
use cel::common::value::{CowVal, Val};
use cel::{Context, DeclarationError, ExecutionError, FunctionContext, Value};

/// A function receiving and returning raw values.
pub(crate) type RawFunction =
    Box<dyn for<'c, 'v> Fn(&mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> + Send + Sync>;

/// Adds the Kubernetes libraries to `ctx`.
///
/// # Errors
/// A name already registered.
pub(crate) fn register(ctx: &mut Context<'static, 'static>) -> Result<(), DeclarationError> {
    for (name, function) in functions() {
        ctx.add_function(name, function)?;
    }
    Ok(())
}

/// Declares the overloads that share a name with cel's own on `env`: the lists library's
/// `indexOf` and `lastIndexOf` (the strings extension declares them on strings), and
/// `string()` of IPs and CIDRs.
///
/// # Errors
/// An overload already declared.
pub(crate) fn declare(env: &mut cel::Env) -> Result<(), DeclarationError> {
    lists::declare(env)?;
    net::declare(env)
}

/// Every function of this module by name: one entry per name, dispatching on its arguments.
pub(crate) fn functions() -> Vec<(&'static str, RawFunction)> {
    let mut all: Vec<(&'static str, RawFunction)> = vec![
        // Regex.
        ("find", Box::new(find)),
        ("findAll", Box::new(find_all)),
    ];
    all.extend(lists::functions());
    all.extend(net::functions());
    all.extend(quantity::functions());
    all.extend(url::functions());
    all
}

/// The receiver (if any) followed by the arguments.
pub(crate) fn arguments<'a, 'c, 'v>(ftx: &'a FunctionContext<'c, 'v>) -> Vec<&'a (dyn Val + 'v)> {
    ftx.this.as_deref().into_iter().chain(ftx.args.iter().map(|a| &**a)).collect()
}

/// The arguments, exactly `n` of them.
pub(crate) fn exactly<'a, 'c, 'v>(
    ftx: &'a FunctionContext<'c, 'v>,
    n: usize,
) -> Result<Vec<&'a (dyn Val + 'v)>, ExecutionError> {
    let args = arguments(ftx);
    if args.len() == n { Ok(args) } else { Err(ExecutionError::invalid_argument_count(n, args.len())) }
}

/// The text of a string argument.
pub(crate) fn text<'a>(name: &str, v: &'a dyn Val) -> Result<&'a str, ExecutionError> {
    v.downcast_ref::<CelString>()
        .map(CelString::inner)
        .ok_or_else(|| ExecutionError::function_error(name, format!("expected a string, got {}", v.get_type().name())))
}

/// An owned result from a plain CEL value.
pub(crate) fn value<'c, 'v>(value: Value) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let boxed: Box<dyn Val> =
        value.try_into().map_err(|_| ExecutionError::function_error("value", "cannot convert the result"))?;
    Ok(CowVal::Owned(boxed))
}

pub(crate) fn boolean<'c, 'v>(b: bool) -> Result<CowVal<'c, 'v>, ExecutionError> {
    Ok(CowVal::owned(CelBool::from(b)))
}

pub(crate) fn int<'c, 'v>(i: i64) -> Result<CowVal<'c, 'v>, ExecutionError> {
    Ok(CowVal::owned(CelInt::from(i)))
}

pub(crate) fn string<'c, 'v>(s: String) -> Result<CowVal<'c, 'v>, ExecutionError> {
    Ok(CowVal::owned(CelString::from(s)))
}

/// `s.find(re)`: the first match of `re` in `s`, `''` when none.
fn find<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 2)?;
    let re = super::functions::regex(text("find", args[1])?)?;
    string(re.find(text("find", args[0])?).map_or_else(String::new, |m| m.as_str().to_owned()))
}

/// `s.findAll(re)`, `s.findAll(re, n)`: every match (at most `n` when `n` is not negative).
fn find_all<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = arguments(ftx);
    if !(2..=3).contains(&args.len()) {
        return Err(ExecutionError::invalid_argument_count(2, args.len()));
    }
    let re = super::functions::regex(text("findAll", args[1])?)?;
    let limit = match args.get(2) {
        Some(n) => {
            let n = n
                .downcast_ref::<CelInt>()
                .map(|i| i64::from(*i))
                .ok_or_else(|| ExecutionError::function_error("findAll", "the limit must be an int"))?;
            usize::try_from(n).unwrap_or(usize::MAX)
        }
        None => usize::MAX,
    };
    let found: Vec<Value> = re
        .find_iter(text("findAll", args[0])?)
        .take(limit)
        .map(|m| Value::String(std::sync::Arc::new(m.as_str().to_owned())))
        .collect();
    value(Value::List(std::sync::Arc::new(found)))
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::eval::functions::{cel_env, root_context};
    use cel::Value;

    /// Evaluates `expr` in celador's root context.
    pub(crate) fn eval(expr: &str) -> Result<Value, String> {
        let program = cel_env().compile(expr).map_err(|e| e.to_string())?;
        program.execute(&root_context()).map_err(|e| e.to_string())
    }

    /// Asserts that each expression is `true`.
    pub(crate) fn all_true(exprs: &[&str]) {
        for expr in exprs {
            assert_eq!(eval(expr), Ok(Value::Bool(true)), "{expr}");
        }
    }

    /// Asserts that each expression fails with a message containing its fragment.
    pub(crate) fn all_fail(cases: &[(&str, &str)]) {
        for (expr, fragment) in cases {
            match eval(expr) {
                Err(e) => assert!(e.contains(fragment), "{expr}: {e}"),
                Ok(v) => panic!("{expr} gave {v:?}, not an error"),
            }
        }
    }

    /// Every function of the Kubernetes libraries is in `docs/cel-functions.md`.
    #[test]
    fn every_function_is_documented() {
        let docs = include_str!("../../../../docs/cel-functions.md");
        let names: Vec<&str> =
            super::functions().iter().map(|(name, _)| *name).chain(["indexOf", "lastIndexOf"]).collect();
        for name in names {
            let method = name.rsplit('.').next().unwrap_or(name);
            assert!(
                docs.contains(&format!("`{name}(")) || docs.contains(&format!("{method}(")),
                "{name} is missing from docs/cel-functions.md"
            );
        }
    }

    /// The examples of the Kubernetes documentation ("CEL in Kubernetes", strings and regex).
    #[test]
    fn strings_and_regex_behave_as_kubernetes_documents() {
        all_true(&[
            "'TacoCat'.lowerAscii() == 'tacocat'",
            "'TacoCat'.upperAscii() == 'TACOCAT'",
            "'abc 123'.find('[0-9]+') == '123'",
            "'abc'.find('[0-9]+') == ''",
            "'123 abc 456'.findAll('[0-9]+') == ['123', '456']",
            "'123 abc 456'.findAll('[0-9]+', 1) == ['123']",
            "'abc'.findAll('[0-9]+') == []",
            // cel's own strings extension and optional values, which policies use.
            "'hello'.indexOf('l') == 2",
            "'a,b'.split(',') == ['a', 'b']",
            "{'a': 1}.?b.orValue(5) == 5",
            "{'a': 1}.?a.hasValue()",
            "optional.of(1).value() == 1",
        ]);
        all_fail(&[("'x'.find('(')", "not a valid regex")]);
    }
}

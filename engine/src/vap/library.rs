//! The functions a ValidatingAdmissionPolicy may call: what the Kubernetes CEL environment
//! declares, library by library, and whether celador implements each.
//!
//! A policy is refused at load time, at the call, when it calls a function the Kubernetes
//! environment does not declare (a typo, with a suggestion) or one celador does not implement
//! (the authorizer, time functions): a policy that cannot be evaluated as the API server would
//! must never pass silently. The list is declared here, apart from the loader, so that a
//! checker shared with TOML packs can take it over.

use crate::suggest::hint;
use cel::Program;
use cel::common::ast::{EntryExpr, Expr, IdedExpr};

/// One function of the Kubernetes CEL environment.
#[derive(Clone, Copy, Debug)]
pub struct Declared {
    /// The name as called: `size`, `indexOf`, `optional.of`.
    pub name: &'static str,
    /// The library that declares it.
    pub library: &'static str,
    /// Why celador does not implement it; `None` when it does.
    pub missing: Option<&'static str>,
}

const fn yes(name: &'static str, library: &'static str) -> Declared {
    Declared { name, library, missing: None }
}

const fn no(name: &'static str, library: &'static str, why: &'static str) -> Declared {
    Declared { name, library, missing: Some(why) }
}

const NO_TIME: &str = "celador's CEL interpreter is built without timestamps and durations";
const NO_AUTHORIZER: &str = "there is no authorizer offline: authorization checks need the cluster";
const NOT_YET: &str = "not implemented by celador yet";

/// The functions of the Kubernetes CEL environment (Kubernetes 1.30+), by library.
pub const FUNCTIONS: &[Declared] = &[
    // The CEL standard library and its macros.
    yes("size", "standard"),
    yes("contains", "standard"),
    yes("startsWith", "standard"),
    yes("endsWith", "standard"),
    yes("matches", "standard"),
    yes("int", "standard"),
    yes("uint", "standard"),
    yes("double", "standard"),
    yes("string", "standard"),
    yes("bytes", "standard"),
    yes("bool", "standard"),
    yes("type", "standard"),
    yes("dyn", "standard"),
    yes("has", "standard"),
    yes("all", "standard"),
    yes("exists", "standard"),
    yes("exists_one", "standard"),
    yes("map", "standard"),
    yes("filter", "standard"),
    no("duration", "standard", NO_TIME),
    no("timestamp", "standard", NO_TIME),
    no("getFullYear", "standard", NO_TIME),
    no("getMonth", "standard", NO_TIME),
    no("getDate", "standard", NO_TIME),
    no("getDayOfMonth", "standard", NO_TIME),
    no("getDayOfWeek", "standard", NO_TIME),
    no("getDayOfYear", "standard", NO_TIME),
    no("getHours", "standard", NO_TIME),
    no("getMinutes", "standard", NO_TIME),
    no("getSeconds", "standard", NO_TIME),
    no("getMilliseconds", "standard", NO_TIME),
    // Optional values.
    yes("optional.of", "optional"),
    yes("optional.none", "optional"),
    yes("optional.ofNonZeroValue", "optional"),
    yes("hasValue", "optional"),
    yes("value", "optional"),
    yes("orValue", "optional"),
    yes("or", "optional"),
    yes("optMap", "optional"),
    yes("optFlatMap", "optional"),
    // cel-go's strings extension.
    yes("charAt", "strings"),
    yes("indexOf", "strings"),
    yes("lastIndexOf", "strings"),
    yes("lowerAscii", "strings"),
    yes("upperAscii", "strings"),
    yes("replace", "strings"),
    yes("split", "strings"),
    yes("substring", "strings"),
    yes("trim", "strings"),
    yes("join", "strings"),
    yes("reverse", "strings"),
    yes("format", "strings"),
    yes("strings.quote", "strings"),
    // The Kubernetes lists library (`indexOf` and `lastIndexOf` also take lists) and cel-go's.
    yes("isSorted", "lists"),
    yes("sum", "lists"),
    yes("min", "lists"),
    yes("max", "lists"),
    yes("includes", "lists"),
    yes("slice", "lists"),
    yes("flatten", "lists"),
    yes("distinct", "lists"),
    yes("sort", "lists"),
    yes("sortBy", "lists"),
    yes("lists.range", "lists"),
    // Regex.
    yes("find", "regex"),
    yes("findAll", "regex"),
    // URLs.
    yes("url", "url"),
    yes("isURL", "url"),
    yes("getScheme", "url"),
    yes("getHost", "url"),
    yes("getHostname", "url"),
    yes("getPort", "url"),
    yes("getEscapedPath", "url"),
    yes("getQuery", "url"),
    // IPs and CIDRs.
    yes("ip", "ip"),
    yes("isIP", "ip"),
    yes("ip.isCanonical", "ip"),
    yes("family", "ip"),
    yes("isUnspecified", "ip"),
    yes("isLoopback", "ip"),
    yes("isLinkLocalMulticast", "ip"),
    yes("isLinkLocalUnicast", "ip"),
    yes("isGlobalUnicast", "ip"),
    yes("cidr", "cidr"),
    yes("isCIDR", "cidr"),
    yes("containsIP", "cidr"),
    yes("containsCIDR", "cidr"),
    yes("masked", "cidr"),
    yes("prefixLength", "cidr"),
    // Quantities.
    yes("quantity", "quantity"),
    yes("isQuantity", "quantity"),
    yes("isInteger", "quantity"),
    yes("asInteger", "quantity"),
    yes("asApproximateFloat", "quantity"),
    yes("sign", "quantity"),
    yes("add", "quantity"),
    yes("sub", "quantity"),
    yes("isGreaterThan", "quantity"),
    yes("isLessThan", "quantity"),
    yes("compareTo", "quantity"),
    yes("mul", "quantity"),
    no("div", "quantity", NOT_YET),
    no("divInt", "quantity", NOT_YET),
    // Sets.
    yes("sets.contains", "sets"),
    yes("sets.equivalent", "sets"),
    yes("sets.intersects", "sets"),
    // Formats and semantic versions (Kubernetes 1.31, 1.33).
    no("validate", "format", NOT_YET),
    no("format.named", "format", NOT_YET),
    no("semver", "semver", NOT_YET),
    no("isSemver", "semver", NOT_YET),
    // Authorization.
    no("check", "authz", NO_AUTHORIZER),
    no("allowed", "authz", NO_AUTHORIZER),
    no("serviceAccount", "authz", NO_AUTHORIZER),
    no("path", "authz", NO_AUTHORIZER),
    no("group", "authz", NO_AUTHORIZER),
    no("resource", "authz", NO_AUTHORIZER),
    no("subresource", "authz", NO_AUTHORIZER),
    no("namespace", "authz", NO_AUTHORIZER),
    no("name", "authz", NO_AUTHORIZER),
    no("reason", "authz", NO_AUTHORIZER),
    no("errored", "authz", NO_AUTHORIZER),
    no("error", "authz", NO_AUTHORIZER),
];

/// Namespaces whose functions are called as `namespace.function(…)`.
const NAMESPACES: [&str; 6] = ["optional", "strings", "lists", "ip", "sets", "format"];

/// Variables the Kubernetes environment binds that celador cannot.
const UNSUPPORTED_VARIABLES: [(&str, &str); 1] = [("authorizer", NO_AUTHORIZER)];

/// What is wrong with a call of an expression: the id of the expression (for its position) and
/// the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// The id of the call (or identifier) in the program.
    pub id: u64,
    /// The function (or variable) as written.
    pub name: String,
    /// What is wrong.
    pub message: String,
}

/// The variables the API server binds for a policy's expressions.
const POLICY_VARIABLES: [&str; 7] =
    ["object", "oldObject", "params", "namespaceObject", "request", "variables", "authorizer"];

/// The mistakes of `program` that are knowable before it runs, found by the pack checker
/// ([`crate::pack::typecheck`]) in the standard environment plus the variables a policy reads:
/// unknown identifiers (`objct`), wrong arity of standard functions, and type errors between
/// known types (`size(true)`, `'a' + 1`). Which functions exist is [`check`]'s to say: the
/// checker's verdicts on names (unknown functions and methods, overloads the Kubernetes
/// libraries add) are left out.
pub fn type_errors(program: &Program) -> Vec<crate::pack::typecheck::ExprProblem> {
    use crate::pack::environment::{Environment, Type};
    static ENVIRONMENT: std::sync::OnceLock<Environment> = std::sync::OnceLock::new();
    let env = ENVIRONMENT.get_or_init(|| {
        let mut env = Environment::standard();
        for name in POLICY_VARIABLES {
            env.declare_variable(name, Type::Dyn);
        }
        env
    });
    // A name the Kubernetes libraries (not the standard one) declare may have overloads the
    // checker's environment lacks (`list.indexOf`, `quantity.sign`).
    let kubernetes = |message: &str| {
        FUNCTIONS.iter().filter(|d| d.library != "standard").any(|d| {
            let short = d.name.rsplit('.').next().unwrap_or(d.name);
            message.contains(&format!("`{short}`"))
                || message.contains(&format!("`{short}("))
                || message.contains(&format!(".{short}("))
        })
    };
    let about_names = |message: &str| {
        ["unknown function", "unknown method", "is not a method", "is a method", "has no field"]
            .iter()
            .any(|p| message.starts_with(p))
            || (message.starts_with("no overload of") && kubernetes(message))
            || (message.contains(" takes ") && kubernetes(message))
            || NAMESPACES.iter().any(|n| message.starts_with(&format!("unknown identifier `{n}`")))
    };
    crate::pack::typecheck::check_program(env, program)
        .problems
        .into_iter()
        .filter(|p| !about_names(&p.message))
        .collect()
}

/// The calls of `program` to functions that are undeclared or unimplemented, and its uses of
/// variables celador cannot bind.
pub fn check(program: &Program) -> Vec<Unsupported> {
    let mut out = Vec::new();
    walk(program.expression(), &mut out);
    out
}

fn walk(expr: &IdedExpr, out: &mut Vec<Unsupported>) {
    match &expr.expr {
        Expr::Call(call) => {
            let operator =
                call.func_name.starts_with('_') || call.func_name.starts_with('@') || call.func_name.ends_with('_');
            let qualified = match call.target.as_deref().map(|t| &t.expr) {
                Some(Expr::Ident(namespace)) if NAMESPACES.contains(&namespace.as_str()) => {
                    Some(format!("{namespace}.{}", call.func_name))
                }
                _ => None,
            };
            if !operator {
                let name = qualified.as_deref().unwrap_or(&call.func_name);
                if let Some(message) = problem(name) {
                    out.push(Unsupported { id: expr.id, name: call.func_name.clone(), message });
                }
            }
            if qualified.is_none()
                && let Some(target) = &call.target
            {
                walk(target, out);
            }
            for arg in &call.args {
                walk(arg, out);
            }
        }
        Expr::Comprehension(c) => {
            for part in [&c.iter_range, &c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                walk(part, out);
            }
        }
        Expr::Ident(name) => {
            if let Some((_, why)) = UNSUPPORTED_VARIABLES.iter().find(|(v, _)| v == name) {
                out.push(Unsupported {
                    id: expr.id,
                    name: name.clone(),
                    message: format!("`{name}` is not supported by celador: {why}"),
                });
            }
        }
        Expr::List(list) => list.elements.iter().for_each(|e| walk(e, out)),
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(e) = &entry.expr {
                    walk(&e.key, out);
                    walk(&e.value, out);
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &s.entries {
                if let EntryExpr::StructField(f) = &entry.expr {
                    walk(&f.value, out);
                }
            }
        }
        Expr::Select(select) => walk(&select.operand, out),
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// Why a call of `name` cannot be evaluated, if it cannot.
fn problem(name: &str) -> Option<String> {
    match FUNCTIONS.iter().find(|d| d.name == name) {
        Some(Declared { missing: None, .. }) => None,
        Some(Declared { library, missing: Some(why), .. }) => {
            Some(format!("`{name}` (Kubernetes CEL {library} library) is not supported by celador: {why}"))
        }
        None => Some(format!(
            "unknown function `{name}`: the Kubernetes CEL environment declares no such function{}",
            hint(name, FUNCTIONS.iter().filter(|d| d.missing.is_none()).map(|d| d.name))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::functions::{cel_env, root_context};

    fn messages(expr: &str) -> Vec<String> {
        check(&cel_env().compile(expr).unwrap()).into_iter().map(|u| u.message).collect()
    }

    #[test]
    fn undeclared_and_unimplemented_calls_are_named() {
        assert!(messages("object.spec.replicas <= 5 && object.metadata.name.startsWith('a')").is_empty());
        assert!(messages("optional.of(1).orValue(2) == 1 && [1].all(x, x > 0)").is_empty());
        let typo = messages("object.metadata.name.startWith('a')");
        assert_eq!(typo.len(), 1);
        assert!(typo[0].contains("unknown function `startWith`") && typo[0].contains("`startsWith`"), "{typo:?}");
        let time = messages("timestamp(object.x) > timestamp('2020-01-01T00:00:00Z')");
        assert!(time[0].contains("`timestamp` (Kubernetes CEL standard library) is not supported"), "{time:?}");
        let authz = messages("authorizer.group('apps').resource('deployments').check('create').allowed()");
        assert!(authz.iter().any(|m| m.starts_with("`authorizer` is not supported")), "{authz:?}");
    }

    /// What the list says celador implements, it does: each such function resolves in the root
    /// context (or is a macro).
    #[test]
    fn implemented_functions_resolve() {
        let macros = ["has", "all", "exists", "exists_one", "map", "filter", "optMap", "optFlatMap", "sortBy"];
        let ctx = root_context();
        for declared in FUNCTIONS.iter().filter(|d| d.missing.is_none() && !macros.contains(&d.name)) {
            // As a function or as a method: either resolves.
            let error = |call: String| {
                let program = cel_env().compile(&call).unwrap();
                program.execute(&ctx).err().map(|e| e.to_string()).unwrap_or_default()
            };
            let (global, member) = (error(format!("{}()", declared.name)), error(format!("'x'.{}()", declared.name)));
            let undeclared = |e: &str| e.contains("Undeclared reference");
            assert!(!undeclared(&global) || !undeclared(&member), "{}: {global}; {member}", declared.name);
        }
    }
}

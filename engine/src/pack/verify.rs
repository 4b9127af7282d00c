//! Checking a rule's compiled expressions against its scope's declared environment, and
//! ordering its named expressions (`[[variables]]`, `[[rule.variables]]`), at pack load.
//!
//! Every mistake becomes a [`Problem`] at its position in the pack file: expression offsets are
//! mapped into the TOML string that holds the expression, as CEL syntax errors are.

use super::environment::{Environment, Type};
use super::typecheck::{self, ExprProblem};
use super::{Scope, cel_position, template::position_in};
use crate::diagnostic::Problem;
use crate::source::{FileId, SourceFile, Span};
use cel::Program;
use std::collections::BTreeMap;
use toml::Spanned;

/// Where an expression's text sits: the TOML string holding it and, for a message template's
/// hole, the byte offset of the hole's expression in that string's content.
#[derive(Clone, Copy)]
pub(super) struct Place<'a> {
    pub source: &'a SourceFile,
    pub file: FileId,
    pub token: &'a Spanned<String>,
    pub offset: usize,
}

impl Place<'_> {
    /// The span in the pack file of characters `start..end` of the expression.
    pub(super) fn span(&self, start: usize, end: usize) -> Span {
        let text = self.token.get_ref();
        let expr = &text[self.offset.min(text.len())..];
        let byte = |chars: usize| self.offset + expr.char_indices().nth(chars).map_or(expr.len(), |(b, _)| b);
        let at = cel_position(self.source, self.token.span(), position_in(text, byte(start)));
        let to = cel_position(self.source, self.token.span(), position_in(text, byte(end.max(start + 1) - 1)));
        Span::new(self.file, at, (to + 1).max(at + 1).min(self.source.text.len()))
    }

    /// The problems of an expression, located in the pack file.
    fn problems(&self, found: Vec<ExprProblem>) -> impl Iterator<Item = Problem> + '_ {
        found.into_iter().map(|p| Problem::at(self.span(p.start, p.end), p.message))
    }
}

/// A named expression being checked: its name, where the name is, its compiled program and
/// where its expression is.
pub(super) struct Named<'a> {
    pub name: &'a str,
    pub program: &'a Program,
    pub place: Place<'a>,
}

/// What is known about a named expression once checked.
#[derive(Clone, Debug)]
pub(super) struct NamedType {
    /// Its static type.
    pub ty: Type,
    /// Whether it reads the element (`as`, `key`), directly or through another variable.
    pub per_element: bool,
    /// The scope variables it reads, directly or through other variables (`doc`, `k8s`, …).
    pub reads_unit: Vec<String>,
    /// The variables it reads, directly or through other variables.
    pub reads_variables: Vec<String>,
}

/// Checks named expressions against `env` (which declares everything but `variables`), each
/// seeing the others (`known` are declared before, e.g. a pack's variables for a rule's):
/// returns them in an order where each follows those it reads, with their types, and the
/// problems found, a cycle among them included.
pub(super) fn check_named(
    env: &Environment,
    named: &[Named<'_>],
    known: &BTreeMap<String, NamedType>,
    element: &[&str],
    problems: &mut Vec<Problem>,
) -> (Vec<usize>, BTreeMap<String, NamedType>) {
    // First pass: what each reads, with every variable `dyn`.
    let all_dyn = variables_record(known, named.iter().map(|n| (n.name, Type::Dyn)));
    let mut draft = env.clone();
    draft.declare_variable("variables", all_dyn);
    let reads: Vec<Vec<(String, usize, usize)>> =
        named.iter().map(|n| typecheck::check_program(&draft, n.program).variables_read).collect();
    let index: BTreeMap<&str, usize> = named.iter().enumerate().map(|(i, n)| (n.name, i)).collect();
    // Depth-first, reporting the read that closes a cycle.
    let mut order = Vec::new();
    let mut state = vec![0u8; named.len()]; // 0 new, 1 on the path, 2 done
    let mut cyclic = vec![false; named.len()];
    for start in 0..named.len() {
        visit(start, &reads, &index, &mut state, &mut order, &mut Vec::new(), &mut |from, read, path| {
            let (_, s, e) = &reads[from][read];
            let names: Vec<&str> = path.iter().map(|&i| named[i].name).collect();
            cyclic[from] = true;
            problems.push(Problem::at(
                named[from].place.span(*s, *e),
                format!(
                    "variables read each other in a cycle: {} → {}",
                    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" → "),
                    format_args!("`{}`", reads[from][read].0)
                ),
            ));
        });
    }
    // Second pass, in order: each sees the types of those before it.
    let mut types: BTreeMap<String, NamedType> = known.clone();
    for &i in &order {
        let n = &named[i];
        let mut scope = env.clone();
        let declared = named.iter().map(|other| {
            let ty = types.get(other.name).map_or(Type::Dyn, |t| t.ty.clone());
            (other.name, ty)
        });
        scope.declare_variable("variables", variables_record(known, declared));
        let checked = typecheck::check_program(&scope, n.program);
        if !cyclic[i] {
            problems.extend(n.place.problems(checked.problems.clone()));
        }
        let free = &checked.free_variables;
        let mut per_element = element.iter().any(|e| free.iter().any(|v| v == e));
        let mut reads_unit: Vec<String> =
            free.iter().filter(|v| !element.contains(&v.as_str()) && *v != "variables").cloned().collect();
        let mut reads_variables = Vec::new();
        for (read, _, _) in &reads[i] {
            if let Some(t) = types.get(read) {
                per_element |= t.per_element;
                reads_unit.extend(t.reads_unit.iter().cloned());
                reads_variables.push(read.clone());
                reads_variables.extend(t.reads_variables.iter().cloned());
            }
        }
        reads_unit.sort();
        reads_unit.dedup();
        reads_variables.sort();
        reads_variables.dedup();
        let ty = checked.ty.unwrap_or(Type::Dyn);
        types.insert(n.name.to_owned(), NamedType { ty, per_element, reads_unit, reads_variables });
    }
    (order, types)
}

#[allow(clippy::too_many_arguments)]
fn visit(
    i: usize,
    reads: &[Vec<(String, usize, usize)>],
    index: &BTreeMap<&str, usize>,
    state: &mut [u8],
    order: &mut Vec<usize>,
    path: &mut Vec<usize>,
    cycle: &mut dyn FnMut(usize, usize, &[usize]),
) {
    if state[i] != 0 {
        return;
    }
    state[i] = 1;
    path.push(i);
    for (r, (name, _, _)) in reads[i].iter().enumerate() {
        let Some(&j) = index.get(name.as_str()) else { continue };
        match state[j] {
            0 => visit(j, reads, index, state, order, path, cycle),
            1 => {
                let from = path.iter().position(|&p| p == j).unwrap_or(0);
                cycle(i, r, &path[from..]);
            }
            _ => {}
        }
    }
    path.pop();
    state[i] = 2;
    order.push(i);
}

/// The `variables` record: `known` ones and these.
fn variables_record<'a>(known: &BTreeMap<String, NamedType>, more: impl Iterator<Item = (&'a str, Type)>) -> Type {
    let mut fields: Vec<(String, Type)> = known.iter().map(|(k, v)| (k.clone(), v.ty.clone())).collect();
    fields.extend(more.map(|(k, t)| (k.to_owned(), t)));
    Type::record(fields.iter().map(|(k, t)| (k.as_str(), t.clone())))
}

/// The environment a rule's expressions are checked in: its scope's variables, `params` with
/// the rule's parameters, and `variables`.
pub(super) fn rule_environment(scope: Scope, params: &[&str], variables: &BTreeMap<String, NamedType>) -> Environment {
    let mut env = match scope {
        Scope::Document => Environment::document(),
        Scope::Deployment => Environment::deployment(),
    };
    env.declare_variable("params", Type::record(params.iter().map(|p| (*p, Type::Dyn))));
    env.declare_variable("variables", variables_type(variables));
    env
}

/// The type of `variables` holding these.
pub(super) fn variables_type(variables: &BTreeMap<String, NamedType>) -> Type {
    Type::record(variables.iter().map(|(k, v)| (k.as_str(), v.ty.clone())))
}

/// The environment a pack's variables are checked in: the variables of every scope, and
/// `params` of any shape (each rule has its own).
pub(super) fn pack_environment() -> Environment {
    let mut env = Environment::document();
    let deployment = Environment::deployment();
    for name in deployment.variable_names() {
        if let Some(ty) = deployment.variable(name) {
            env.declare_variable(name, ty.clone());
        }
    }
    env.declare_variable("params", Type::Dyn);
    env
}

/// Checks one expression, reporting its problems at `place` (and each pack variable it reads
/// that reads what the rule's scope lacks); returns its static type and the variables it reads.
pub(super) fn check_expression(
    env: &Environment,
    program: &Program,
    place: Place<'_>,
    pack: &BTreeMap<String, NamedType>,
    problems: &mut Vec<Problem>,
) -> (Type, Vec<(String, usize, usize)>) {
    let checked = typecheck::check_program(env, program);
    problems.extend(place.problems(checked.problems));
    for (name, start, end) in &checked.variables_read {
        let Some(variable) = pack.get(name) else { continue };
        if let Some(first) = variable.reads_unit.iter().find(|v| env.variable(v).is_none()) {
            problems.push(Problem::at(
                place.span(*start, *end),
                format!("pack variable `{name}` reads `{first}`, which rules of this scope do not have"),
            ));
        }
    }
    (checked.ty.unwrap_or(Type::Dyn), checked.variables_read)
}

/// Reports each variable `each` reads that reads the element: `each` yields the elements.
pub(super) fn check_each_reads(
    reads: &[(String, usize, usize)],
    variables: &BTreeMap<String, NamedType>,
    place: Place<'_>,
    problems: &mut Vec<Problem>,
) {
    for (name, start, end) in reads {
        if variables.get(name).is_some_and(|v| v.per_element) {
            problems.push(Problem::at(
                place.span(*start, *end),
                format!("`each` cannot read `variables.{name}`: it reads the element, which `each` yields"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pack::{PackFile, load_pack};
    use crate::source::SourceMap;
    use std::sync::Arc;

    /// The problems of a single-file pack, as `(line, column, message)`.
    fn problems(text: &str) -> Vec<(usize, usize, String)> {
        let sources = SourceMap::new();
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(text) };
        let problems = load_pack(vec![file], &sources).err().unwrap_or_default();
        crate::pack::located_problems(&sources, &problems)
    }

    const HEADER: &str = "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n";

    /// A rule whose body starts on line 10.
    fn rule(body: &str) -> String {
        format!("{HEADER}[[rule]]\nid = \"T-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\n{body}")
    }

    #[test]
    fn every_kind_of_mistake_in_every_expression_is_located_with_a_suggestion() {
        let cases: &[(&str, (usize, usize), &str)] = &[
            (
                "each = 'components'\nas = 'c'\nwhen = 'imageRepo(c.image) == \"x\"'\nassert = 'true'\nmessage = 'm'\n",
                (12, 9),
                "unknown function `imageRepo` (did you mean `imageRepository`?)",
            ),
            (
                "assert = 'dco.kind == \"x\"'\nmessage = 'm'\n",
                (10, 11),
                "unknown identifier `dco` (did you mean `doc`?)",
            ),
            (
                "each = 'doc.spec.ports.slice(1)'\nassert = 'true'\nmessage = 'm'\n",
                (10, 24),
                "`slice` takes 2 arguments, not 1",
            ),
            (
                "assert = 'false'\nlocate = 'doc.name.size() + \"x\"'\nmessage = 'm'\n",
                (11, 27),
                "cannot apply `+` to int and string",
            ),
            (
                "assert = 'false'\nmessage = 'port {{ doc.spec.ports.size(1) }}'\n",
                (11, 35),
                "`size` takes 0 arguments, not 1",
            ),
            (
                "assert = 'variables.x'\nmessage = 'm'\n[[rule.variables]]\nname = \"x\"\nexpression = 'componets.size() > 0'\n",
                (14, 15),
                "unknown identifier `componets` (did you mean `components`?)",
            ),
            (
                "assert = 'false'\nmessage = 'm'\nsecret = 'isPlaintextSecret(doc, 1)'\n",
                (12, 11),
                "`isPlaintextSecret` takes 1 argument, not 2",
            ),
            (
                "assert = 'false'\nmessage = 'm'\nrelated = 'docs'\n",
                (12, 12),
                "unknown identifier `docs` (did you mean `doc`?)",
            ),
            (
                "assert = 'variables.nme == \"x\"'\nmessage = 'm'\n[[rule.variables]]\nname = \"name\"\nexpression = 'doc.metadata.name'\n",
                (10, 21),
                "unknown variable `variables.nme` (did you mean `name`?)",
            ),
            (
                "scope = 'deployment'\nassert = 'doc.x == 1'\nmessage = 'm'\n",
                (11, 11),
                "unknown identifier `doc` (did you mean `docs`?)",
            ),
            (
                "assert = 'params.min_tls == \"1.2\"'\nmessage = 'm'\n[rule.params]\nmin_tls_version = '1.2'\n",
                (10, 18),
                "unknown parameter `params.min_tls` (did you mean `min_tls_version`?)",
            ),
            (
                "assert = 'doc.replicas.startsWith(1)'\nmessage = 'm'\n",
                (10, 24),
                "no overload of `startsWith` takes these types: `dyn.startsWith(int)`, expected string.startsWith(string)",
            ),
        ];
        for (body, (line, column), message) in cases {
            let found = problems(&rule(body));
            assert_eq!(found, [(*line, *column, (*message).to_owned())], "{body}");
        }
    }

    #[test]
    fn variables_that_read_each_other_in_a_cycle_are_a_located_error() {
        let body = "assert = 'variables.a'\nmessage = 'm'\n[[rule.variables]]\nname = \"a\"\nexpression = 'variables.b'\n[[rule.variables]]\nname = \"b\"\nexpression = 'variables.c && true'\n[[rule.variables]]\nname = \"c\"\nexpression = '!variables.a'\n";
        assert_eq!(
            problems(&rule(body)),
            [(20, 26, "variables read each other in a cycle: `a` → `b` → `c` → `a`".to_owned())]
        );
    }

    #[test]
    fn pack_variables_are_checked_and_read_by_rules_of_the_scopes_they_fit() {
        let pack = format!(
            "{HEADER}[[variables]]\nname = \"names\"\nexpression = 'components.map(c, c.nme)'\n[[variables]]\nname = \"kind\"\nexpression = 'dco.kind'\n"
        );
        assert_eq!(problems(&pack), [(10, 15, "unknown identifier `dco` (did you mean `doc`?)".to_owned())]);

        let pack = format!(
            "{HEADER}[[variables]]\nname = \"kind\"\nexpression = 'doc.kind'\n[[rule]]\nid = \"T-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nscope = 'deployment'\nassert = 'variables.kind == \"x\"'\nmessage = 'm'\n"
        );
        assert_eq!(
            problems(&pack),
            [(14, 21, "pack variable `kind` reads `doc`, which rules of this scope do not have".to_owned())]
        );
        let shadowing =
            pack.replace("scope = 'deployment'\n", "") + "[[rule.variables]]\nname = \"kind\"\nexpression = '1'\n";
        assert_eq!(
            problems(&shadowing),
            [(16, 8, "variable `kind` is already a variable of the pack: rename this one".to_owned())]
        );
    }

    #[test]
    fn a_comprehension_variable_named_like_the_element_is_not_the_element() {
        let body = "each = 'variables.ports'\nas = 'p'\nassert = 'p.port > 0'\nmessage = 'm'\n[[rule.variables]]\nname = \"ports\"\nexpression = 'doc.spec.ports.filter(p, p.port > 0)'\n";
        let sources = SourceMap::new();
        let file =
            PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(rule(body)) };
        let pack = load_pack(vec![file], &sources).unwrap_or_else(|p| panic!("{p:?}"));
        assert!(!pack.rules[0].variables[0].per_element);
    }

    #[test]
    fn each_cannot_read_a_variable_that_reads_the_element() {
        let body = "each = 'variables.port'\nas = 'p'\nassert = 'true'\nmessage = 'm'\n[[rule.variables]]\nname = \"port\"\nexpression = 'p.port'\n";
        assert_eq!(
            problems(&rule(body)),
            [(10, 19, "`each` cannot read `variables.port`: it reads the element, which `each` yields".to_owned())]
        );
    }
}

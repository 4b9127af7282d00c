//! Checking a compiled CEL expression against a declared [`Environment`]: unknown identifiers,
//! unknown functions and methods, wrong numbers of arguments, and type errors visible in the
//! expression itself (a string method on an int literal, `size` of a bool).
//!
//! Types are inferred bottom-up. Document values are `dyn`, and `dyn` is accepted everywhere,
//! so only a mismatch between two known types is reported: a valid rule never fails the
//! check, and a rule that passes it may still fail at run time on a document it did not
//! expect (a run error, exit 2).

use super::environment::{Environment, Overload, TYPE_NAMES, Type};
use crate::suggest::hint_name as hint;
use cel::common::ast::{CallExpr, ComprehensionExpr, operators};
use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue, SelectExpr, SourceInfo};

/// A mistake in an expression, located by character offsets into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprProblem {
    /// Where the offending sub-expression starts (characters from the expression's start).
    pub start: usize,
    /// Where it ends.
    pub end: usize,
    /// What is wrong, with a suggestion when a declared name is close.
    pub message: String,
}

/// What checking an expression found.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    /// The expression's static type (`dyn` when unknown).
    pub ty: Option<Type>,
    /// Every mistake, in the order they were found.
    pub problems: Vec<ExprProblem>,
    /// The `variables.NAME` the expression reads: each name and where it is read.
    pub variables_read: Vec<(String, usize, usize)>,
    /// The declared variables the expression reads (not comprehension variables of the same
    /// name), each once.
    pub free_variables: Vec<String>,
}

/// Checks `expr` (compiled from a source whose offsets `info` holds) against `env`.
pub fn check(env: &Environment, expr: &IdedExpr, info: &SourceInfo) -> Checked {
    let mut walker = Walker { env, info, locals: Vec::new(), checked: Checked::default() };
    let ty = walker.expr(expr);
    walker.checked.ty = Some(ty);
    walker.checked
}

/// Checks `program` against `env`.
pub fn check_program(env: &Environment, program: &cel::Program) -> Checked {
    check(env, program.expression(), program.source_info())
}

struct Walker<'a> {
    env: &'a Environment,
    info: &'a SourceInfo,
    /// Comprehension variables in scope, innermost last.
    locals: Vec<(String, Type)>,
    checked: Checked,
}

impl Walker<'_> {
    /// The characters of node `id`: the parser records the first and one past the last.
    fn range(&self, id: u64) -> (usize, usize) {
        self.info.offset_for(id).map_or((0, 1), |(s, e)| (s as usize, (e as usize).max(s as usize + 1)))
    }

    fn report(&mut self, id: u64, message: String) {
        let (start, end) = self.range(id);
        self.checked.problems.push(ExprProblem { start, end, message });
    }

    /// Reports a problem with a field selection at the field's name (the parser locates a
    /// selection at its `.`).
    fn report_field(&mut self, id: u64, field: &str, message: String) {
        let (dot, _) = self.range(id);
        let start = dot + 1;
        self.checked.problems.push(ExprProblem { start, end: start + field.chars().count(), message });
    }

    /// Reports a problem with a call at the function's name (the parser records a global
    /// call by its name, a method or qualified call at its `(`).
    fn report_call(&mut self, id: u64, name: &str, message: String) {
        let (paren, end) = self.range(id);
        let short = name.rsplit('.').next().unwrap_or(name);
        let length = short.chars().count();
        let recorded: String = self.info.source.chars().skip(paren).take(end - paren).collect();
        if recorded == short {
            self.checked.problems.push(ExprProblem { start: paren, end, message });
            return;
        }
        let before: String = self.info.source.chars().skip(paren.saturating_sub(length)).take(length).collect();
        let (start, end) = if paren >= length && before == short { (paren - length, paren) } else { (paren, end) };
        self.checked.problems.push(ExprProblem { start, end, message });
    }

    fn local(&self, name: &str) -> Option<&Type> {
        self.locals.iter().rev().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    fn expr(&mut self, e: &IdedExpr) -> Type {
        match &e.expr {
            Expr::Literal(literal) => match literal {
                LiteralValue::Null => Type::Null,
                LiteralValue::Boolean(_) => Type::Bool,
                LiteralValue::Int(_) => Type::Int,
                LiteralValue::UInt(_) => Type::Uint,
                LiteralValue::Double(_) => Type::Double,
                LiteralValue::String(_) => Type::String,
                LiteralValue::Bytes(_) => Type::Bytes,
            },
            Expr::Ident(name) => self.ident(e.id, name),
            Expr::Select(select) => self.select(e.id, select),
            Expr::Call(call) => self.call(e.id, call),
            Expr::List(list) => {
                let mut element: Option<Type> = None;
                for (i, item) in list.elements.iter().enumerate() {
                    let mut ty = self.expr(item);
                    if list.optional_indices.contains(&i) {
                        ty = Type::Dyn;
                    }
                    element = Some(element.map_or(ty.clone(), |t| t.join(&ty)));
                }
                Type::list(element.unwrap_or(Type::Dyn))
            }
            Expr::Map(map) => {
                let mut key: Option<Type> = None;
                let mut value: Option<Type> = None;
                for entry in &map.entries {
                    match &entry.expr {
                        EntryExpr::MapEntry(m) => {
                            let k = self.expr(&m.key);
                            let v = self.expr(&m.value);
                            key = Some(key.map_or(k.clone(), |t| t.join(&k)));
                            value = Some(value.map_or(v.clone(), |t| t.join(&v)));
                        }
                        EntryExpr::StructField(f) => {
                            self.expr(&f.value);
                        }
                    }
                }
                Type::map(key.unwrap_or(Type::Dyn), value.unwrap_or(Type::Dyn))
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    match &entry.expr {
                        EntryExpr::MapEntry(m) => {
                            self.expr(&m.key);
                            self.expr(&m.value);
                        }
                        EntryExpr::StructField(f) => {
                            self.expr(&f.value);
                        }
                    }
                }
                Type::Dyn
            }
            Expr::Comprehension(c) => self.comprehension(c),
            Expr::Unspecified => Type::Dyn,
        }
    }

    fn ident(&mut self, id: u64, name: &str) -> Type {
        if let Some(ty) = self.local(name) {
            return ty.clone();
        }
        if let Some(ty) = self.env.variable(name) {
            if !self.checked.free_variables.iter().any(|v| v == name) {
                self.checked.free_variables.push(name.to_owned());
            }
            return ty.clone();
        }
        if TYPE_NAMES.contains(&name) {
            return Type::Type;
        }
        let candidates: Vec<&str> = self
            .locals
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !n.starts_with('@'))
            .chain(self.env.variable_names())
            .collect();
        let message = format!("unknown identifier `{name}`{}", hint(name, candidates));
        self.report(id, message);
        Type::Dyn
    }

    fn select(&mut self, id: u64, select: &SelectExpr) -> Type {
        let operand = self.expr(&select.operand);
        if let Expr::Ident(name) = &select.operand.expr
            && name == "variables"
            && self.local("variables").is_none()
        {
            let (dot, _) = self.range(id);
            let start = dot + 1;
            self.checked.variables_read.push((select.field.clone(), start, start + select.field.chars().count()));
        }
        let field = &select.field;
        let ty = match &operand {
            Type::Record(fields) => match fields.get(field) {
                Some(ty) => ty.clone(),
                None => {
                    let what = match &select.operand.expr {
                        Expr::Ident(name) if name == "variables" => format!("unknown variable `variables.{field}`"),
                        Expr::Ident(name) if name == "params" => format!("unknown parameter `params.{field}`"),
                        Expr::Ident(name) => format!("`{name}` has no field `{field}`"),
                        _ => format!("no field `{field}` here"),
                    };
                    let message = format!("{what}{}", hint(field, fields.keys().map(String::as_str)));
                    self.report_field(id, field, message);
                    Type::Dyn
                }
            },
            Type::Map(_, value) => (**value).clone(),
            ty if ty.is_scalar() => {
                let verb = if select.test { "test" } else { "select" };
                self.report_field(
                    id,
                    field,
                    format!("cannot {verb} field `{field}` of a value of type {ty}: it is not a map"),
                );
                Type::Dyn
            }
            _ => Type::Dyn,
        };
        if select.test { Type::Bool } else { ty }
    }

    fn comprehension(&mut self, c: &ComprehensionExpr) -> Type {
        let range = self.expr(&c.iter_range);
        let init = self.expr(&c.accu_init);
        let (first, second) = match (&c.iter_var2, &range) {
            (Some(_), Type::List(element)) => (Type::Int, (**element).clone()),
            (Some(_), Type::Map(key, value)) => ((**key).clone(), (**value).clone()),
            (Some(_), _) => (Type::Dyn, Type::Dyn),
            (None, _) => match range.iterated() {
                Some(ty) => (ty, Type::Dyn),
                None => {
                    self.report(c.iter_range.id, format!("cannot iterate over a value of type {range}"));
                    (Type::Dyn, Type::Dyn)
                }
            },
        };
        // The accumulator starts as `init` and grows: a list of anything.
        let accu = match init {
            Type::List(_) => Type::list(Type::Dyn),
            Type::Map(..) => Type::map(Type::Dyn, Type::Dyn),
            other => other,
        };
        let depth = self.locals.len();
        self.locals.push((c.accu_var.clone(), accu));
        self.locals.push((c.iter_var.clone(), first));
        if let Some(second_var) = &c.iter_var2 {
            self.locals.push((second_var.clone(), second));
        }
        self.expr(&c.loop_cond);
        self.expr(&c.loop_step);
        self.locals.truncate(depth + 1);
        let result = self.expr(&c.result);
        self.locals.truncate(depth);
        result
    }

    fn call(&mut self, id: u64, call: &CallExpr) -> Type {
        let name = call.func_name.as_str();
        if call.target.is_none()
            && let Some(ty) = self.operator(id, name, &call.args)
        {
            return ty;
        }
        if let Some(target) = &call.target
            && let Some(qualified) = self.qualified_function(target, name)
        {
            let args: Vec<Type> = call.args.iter().map(|a| self.expr(a)).collect();
            return self.resolve(id, &qualified, None, &args);
        }
        if let Some(target) = &call.target
            && let Expr::Ident(root) = &target.expr
            && self.local(root).is_none()
            && self.env.variable(root).is_none()
            && self.env.functions().any(|(n, _)| n.strip_prefix(root.as_str()).is_some_and(|r| r.starts_with('.')))
        {
            // `lists.rang(…)`: a function of a namespace, misspelt.
            call.args.iter().for_each(|a| {
                self.expr(a);
            });
            let qualified = format!("{root}.{name}");
            let prefix = format!("{root}.");
            let candidates: Vec<&str> =
                self.env.functions().map(|(n, _)| n).filter(|n| n.starts_with(&prefix) && !n.contains('@')).collect();
            let message = format!("unknown function `{qualified}`{}", hint(&qualified, candidates));
            self.report_call(id, name, message);
            return Type::Dyn;
        }
        let receiver = call.target.as_ref().map(|t| self.expr(t));
        let args: Vec<Type> = call.args.iter().map(|a| self.expr(a)).collect();
        self.resolve(id, name, receiver, &args)
    }

    /// `a.b.f` when `target` spells `a.b` and `a.b.f` is a declared function (`lists.range`,
    /// `math.abs`), unless `a` is a variable.
    fn qualified_function(&self, target: &IdedExpr, name: &str) -> Option<String> {
        let mut segments = vec![name];
        let mut e = target;
        loop {
            match &e.expr {
                Expr::Select(s) if !s.test => {
                    segments.push(&s.field);
                    e = &s.operand;
                }
                Expr::Ident(root) => {
                    if self.local(root).is_some() || self.env.variable(root).is_some() {
                        return None;
                    }
                    segments.push(root);
                    break;
                }
                _ => return None,
            }
        }
        segments.reverse();
        let qualified = segments.join(".");
        self.env.function(&qualified).map(|_| qualified)
    }

    /// Picks the overloads of `name` a call with these types matches, reporting an unknown
    /// function, a wrong number of arguments, or argument types no overload takes.
    fn resolve(&mut self, id: u64, name: &str, receiver: Option<Type>, args: &[Type]) -> Type {
        let member = receiver.is_some();
        let function = self.env.function(name);
        let overloads: &[Overload] = match function {
            Some(f) if member => &f.member,
            Some(f) => &f.global,
            None => &[],
        };
        if overloads.is_empty() {
            let message = match function {
                Some(_) if member => format!("`{name}` is not a method: call it as `{name}(…)`"),
                Some(_) => format!("`{name}` is a method: call it on a value, as `x.{name}(…)`"),
                None => {
                    let candidates: Vec<&str> = self
                        .env
                        .functions()
                        .filter(|(n, f)| {
                            !n.contains('@') && if member { !f.member.is_empty() } else { !f.global.is_empty() }
                        })
                        .map(|(n, _)| n)
                        .collect();
                    let kind = if member { "method" } else { "function" };
                    format!("unknown {kind} `{name}`{}", hint(name, candidates))
                }
            };
            self.report_call(id, name, message);
            return Type::Dyn;
        }
        let same_arity: Vec<&Overload> = overloads.iter().filter(|o| o.params.len() == args.len()).collect();
        if same_arity.is_empty() {
            let mut arities: Vec<usize> = overloads.iter().map(|o| o.params.len()).collect();
            arities.sort_unstable();
            arities.dedup();
            let expected = match arities.as_slice() {
                [one] => format!("{one}"),
                more => {
                    let (last, rest) = more.split_last().unwrap_or((&0, &[]));
                    let rest: Vec<String> = rest.iter().map(usize::to_string).collect();
                    format!("{} or {last}", rest.join(", "))
                }
            };
            let plural = if arities.last() == Some(&1) { "" } else { "s" };
            self.report_call(id, name, format!("`{name}` takes {expected} argument{plural}, not {}", args.len()));
            return Type::Dyn;
        }
        let matching: Vec<&Overload> = same_arity
            .iter()
            .copied()
            .filter(|o| {
                o.receiver.as_ref().zip(receiver.as_ref()).is_none_or(|(r, t)| r.accepts(t))
                    && o.params.iter().zip(args).all(|((_, p), a)| p.accepts(a))
            })
            .collect();
        if matching.is_empty() {
            let got: Vec<String> = args.iter().map(Type::to_string).collect();
            let called = match &receiver {
                Some(r) => format!("{r}.{name}({})", got.join(", ")),
                None => format!("{name}({})", got.join(", ")),
            };
            let expected: Vec<String> = same_arity.iter().map(|o| o.call(name)).collect();
            self.report_call(
                id,
                name,
                format!("no overload of `{name}` takes these types: `{called}`, expected {}", expected.join(" or ")),
            );
            return Type::Dyn;
        }
        let mut result = matching[0].result.clone();
        for o in &matching[1..] {
            result = result.join(&o.result);
        }
        match result {
            Type::OneOf(_) => Type::Dyn,
            other => other,
        }
    }

    /// The type of an operator call, reporting operands of the wrong type; `None` when `name`
    /// is not an operator.
    fn operator(&mut self, id: u64, name: &str, args: &[IdedExpr]) -> Option<Type> {
        let ty = match (name, args) {
            (operators::LOGICAL_AND | operators::LOGICAL_OR, _) | (operators::LOGICAL_NOT, _) => {
                for arg in args {
                    let ty = self.expr(arg);
                    self.expect_bool(arg.id, &ty, name);
                }
                Type::Bool
            }
            (operators::NOT_STRICTLY_FALSE, _) => {
                args.iter().for_each(|a| {
                    self.expr(a);
                });
                Type::Bool
            }
            (operators::CONDITIONAL, [cond, yes, no]) => {
                let ty = self.expr(cond);
                self.expect_bool(cond.id, &ty, name);
                let yes = self.expr(yes);
                let no = self.expr(no);
                yes.join(&no)
            }
            (operators::EQUALS | operators::NOT_EQUALS, [a, b]) => {
                self.expr(a);
                self.expr(b);
                Type::Bool
            }
            (operators::LESS | operators::LESS_EQUALS | operators::GREATER | operators::GREATER_EQUALS, [a, b]) => {
                let (ta, tb) = (self.expr(a), self.expr(b));
                let comparable = |t: &Type| {
                    matches!(t, Type::Int | Type::Uint | Type::Double | Type::String | Type::Bytes | Type::Bool)
                };
                let numeric = |t: &Type| matches!(t, Type::Int | Type::Uint | Type::Double);
                let known = |t: &Type| !matches!(t, Type::Dyn | Type::OneOf(_));
                let fine = (!known(&ta) || comparable(&ta))
                    && (!known(&tb) || comparable(&tb))
                    && (!known(&ta) || !known(&tb) || ta == tb || (numeric(&ta) && numeric(&tb)));
                if !fine {
                    self.report(id, format!("cannot compare {ta} and {tb} with `{}`", symbol(name)));
                }
                Type::Bool
            }
            (operators::ADD, [a, b]) => {
                let (ta, tb) = (self.expr(a), self.expr(b));
                self.arithmetic(id, name, &ta, &tb, true)
            }
            (operators::SUBSTRACT | operators::MULTIPLY | operators::DIVIDE | operators::MODULO, [a, b]) => {
                let (ta, tb) = (self.expr(a), self.expr(b));
                self.arithmetic(id, name, &ta, &tb, false)
            }
            (operators::NEGATE, [a]) => {
                let ta = self.expr(a);
                if !matches!(ta, Type::Dyn | Type::Int | Type::Double | Type::OneOf(_)) {
                    self.report(id, format!("cannot negate a value of type {ta}"));
                    return Some(Type::Dyn);
                }
                ta
            }
            (operators::INDEX, [target, index]) => {
                let (tt, ti) = (self.expr(target), self.expr(index));
                match &tt {
                    Type::List(element) => {
                        if !matches!(ti, Type::Dyn | Type::Int | Type::Uint | Type::OneOf(_)) {
                            self.report(index.id, format!("a list is indexed by an int, not a {ti}"));
                        }
                        (**element).clone()
                    }
                    Type::Map(_, value) => (**value).clone(),
                    ty if ty.is_scalar() => {
                        self.report(id, format!("cannot index a value of type {ty}"));
                        Type::Dyn
                    }
                    _ => Type::Dyn,
                }
            }
            (operators::IN, [item, container]) => {
                self.expr(item);
                let tc = self.expr(container);
                if tc.is_scalar() {
                    self.report(container.id, format!("`in` needs a list or a map, not a {tc}"));
                }
                Type::Bool
            }
            (operators::OPT_INDEX | operators::OPT_SELECT, _) => {
                args.iter().for_each(|a| {
                    self.expr(a);
                });
                Type::Optional
            }
            _ => return None,
        };
        Some(ty)
    }

    fn expect_bool(&mut self, id: u64, ty: &Type, operator: &str) {
        if !Type::Bool.accepts(ty) {
            self.report(id, format!("`{}` needs a bool, not a {ty}", symbol(operator)));
        }
    }

    fn arithmetic(&mut self, id: u64, name: &str, a: &Type, b: &Type, add: bool) -> Type {
        let numeric = |t: &Type| matches!(t, Type::Int | Type::Uint | Type::Double);
        let addable = |t: &Type| add && matches!(t, Type::String | Type::Bytes | Type::List(_));
        let operand = |t: &Type| matches!(t, Type::Dyn | Type::OneOf(_)) || numeric(t) || addable(t);
        let ok = operand(a)
            && operand(b)
            && match (a, b) {
                (Type::Dyn | Type::OneOf(_), _) | (_, Type::Dyn | Type::OneOf(_)) => true,
                (Type::List(_), Type::List(_)) => true,
                _ => a == b,
            };
        if !ok {
            self.report(id, format!("cannot apply `{}` to {a} and {b}", symbol(name)));
            return Type::Dyn;
        }
        match (a, b) {
            (Type::List(x), Type::List(y)) => Type::list(x.join(y)),
            (Type::List(_), _) | (_, Type::List(_)) => Type::list(Type::Dyn),
            (Type::Dyn | Type::OneOf(_), other) | (other, Type::Dyn | Type::OneOf(_)) => {
                if matches!(other, Type::String | Type::Bytes) { other.clone() } else { Type::Dyn }
            }
            _ => a.clone(),
        }
    }
}

/// How an operator is written.
fn symbol(operator: &str) -> &str {
    match operator {
        operators::LOGICAL_AND => "&&",
        operators::LOGICAL_OR => "||",
        operators::LOGICAL_NOT => "!",
        operators::CONDITIONAL => "?:",
        operators::LESS => "<",
        operators::LESS_EQUALS => "<=",
        operators::GREATER => ">",
        operators::GREATER_EQUALS => ">=",
        operators::ADD => "+",
        operators::SUBSTRACT => "-",
        operators::MULTIPLY => "*",
        operators::DIVIDE => "/",
        operators::MODULO => "%",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(env: &Environment, expr: &str) -> Vec<(String, String)> {
        let program = crate::eval::functions::cel_env().compile(expr).unwrap();
        check_program(env, &program)
            .problems
            .into_iter()
            .map(|p| {
                let at: String = expr.chars().skip(p.start).take(p.end.max(p.start + 1) - p.start).collect();
                (at, p.message)
            })
            .collect()
    }

    fn messages(env: &Environment, expr: &str) -> Vec<String> {
        problems(env, expr).into_iter().map(|(_, m)| m).collect()
    }

    #[test]
    fn unknown_identifiers_are_reported_with_a_suggestion() {
        let env = Environment::document();
        assert_eq!(messages(&env, "dco.kind == 'x'"), ["unknown identifier `dco` (did you mean `doc`?)"]);
        assert!(messages(&env, "doc.kind == 'x' && components.all(c, c.role == 'api')").is_empty());
        assert_eq!(
            messages(&env, "compnents.all(c, c.role == 'api')"),
            ["unknown identifier `compnents` (did you mean `components`?)"]
        );
        assert_eq!(
            messages(&env, "components.all(cont, cnt.role == 'api')"),
            ["unknown identifier `cnt` (did you mean `cont`?)"]
        );
        assert!(messages(&env, "type(doc) == map && type(doc.x) in [int, uint, double, string]").is_empty());
        // Deployment variables are not document variables.
        assert_eq!(messages(&env, "deployment.complete"), ["unknown identifier `deployment`"]);
        assert!(messages(&Environment::deployment(), "deployment.complete && size(k8s.services) > 0").is_empty());
        assert_eq!(
            messages(&Environment::deployment(), "deployment.complte"),
            ["`deployment` has no field `complte` (did you mean `complete`?)"]
        );
    }

    #[test]
    fn unknown_functions_and_methods_are_reported_with_a_suggestion() {
        let env = Environment::document();
        assert_eq!(
            problems(&env, "components.all(c, imageRepo(c.image) == 'x')"),
            [("imageRepo".to_owned(), "unknown function `imageRepo` (did you mean `imageRepository`?)".to_owned())]
        );
        assert_eq!(
            messages(&env, "doc.image.imageRepo() == 'x'"),
            ["unknown method `imageRepo` (did you mean `imageRepository`?)"]
        );
        assert!(messages(&env, "doc.image.imageRepository() == hostOf(doc.url)").is_empty());
        assert!(messages(&env, "lists.range(3).map(i, math.abs(i)).size() == 3").is_empty());
        assert_eq!(
            messages(&env, "lists.rang(3) == []"),
            ["unknown function `lists.rang` (did you mean `lists.range`?)"]
        );
    }

    #[test]
    fn problems_point_at_the_name_at_fault() {
        let env = Environment::deployment();
        let at = |expr: &str| problems(&env, expr).into_iter().map(|(at, _)| at).collect::<Vec<_>>();
        assert_eq!(at("dco.kind == 'x'"), ["dco"]);
        assert_eq!(at("true && deployment.complte"), ["complte"]);
        assert_eq!(at("docs.all(d, d.name.imageRepo() == '')"), ["imageRepo"]);
        assert_eq!(at("docs.all(d, lists.rnge(2) == [])"), ["rnge"]);
        assert_eq!(at("docs.all(d, 'x'.a == 1)"), ["a"]);
    }

    #[test]
    fn wrong_arity_is_reported() {
        let env = Environment::document();
        assert_eq!(messages(&env, "doc.a.substring(1, 2, 3) == ''"), ["`substring` takes 1 or 2 arguments, not 3"]);
        assert_eq!(messages(&env, "hostOf(doc.a, doc.b) == ''"), ["`hostOf` takes 1 argument, not 2"]);
        assert_eq!(messages(&env, "doc.a.hostOf(doc.b) == ''"), ["`hostOf` takes 0 arguments, not 1"]);
    }

    #[test]
    fn static_type_errors_are_reported() {
        let env = Environment::document();
        assert_eq!(
            messages(&env, "size(true) == 1"),
            [
                "no overload of `size` takes these types: `size(bool)`, expected size(string) or size(bytes) or size(list) or size(map)"
            ]
        );
        assert_eq!(
            messages(&env, "1.startsWith('a')"),
            [
                "no overload of `startsWith` takes these types: `int.startsWith(string)`, expected string.startsWith(string)"
            ]
        );
        assert_eq!(messages(&env, "'a' + 1 == 'a1'"), ["cannot apply `+` to string and int"]);
        assert_eq!(messages(&env, "1 && true"), ["`&&` needs a bool, not a int"]);
        assert_eq!(
            messages(&env, "'a'.b == 1"),
            ["cannot select field `b` of a value of type string: it is not a map"]
        );
        assert_eq!(messages(&env, "1.all(x, x)"), ["cannot iterate over a value of type int"]);
        assert_eq!(messages(&env, "'a' < 1"), ["cannot compare string and int with `<`"]);
        // Known element types flow through comprehensions.
        assert_eq!(
            messages(&env, "[1, 2].all(x, x.startsWith('a'))"),
            [
                "no overload of `startsWith` takes these types: `int.startsWith(string)`, expected string.startsWith(string)"
            ]
        );
        // Document values are dyn: anything goes.
        assert!(messages(&env, "doc.a + 1 == doc.b && doc.c.startsWith('x') && size(doc.d) > 0").is_empty());
        assert!(messages(&env, "[1, 'a'].exists(x, x == 1) && {'a': 1}.a + 1 == 2").is_empty());
    }

    /// The standard library, the extensions and the macros celador enables pass the check.
    #[test]
    fn valid_expressions_pass() {
        let env = Environment::document();
        for expr in [
            "[3, 1, 2].sortBy(x, -x) == [3, 2, 1]",
            "math.greatest(1, 2, 3) == 3 && math.least([1.5, 2.5]) == 1.5 && math.abs(-1) == 1",
            "optional.of(doc).hasValue() && doc.?a.orValue(1) == 1 && {'a': 1}[?'b'].orValue(2) == 2",
            "'%s-%d'.format(['a', 1]) == 'a-1' && strings.quote('x') != '' && 'abc'.reverse() == 'cba'",
            "[1, 2].map(x, x > 1, x * 2) == [4] && [1, 2].exists_one(x, x == 1) && [1].existsOne(x, true)",
            "lists.range(3).flatten().distinct().sort().slice(0, 1) == [0] && [[1]].flatten(1) == [1]",
            "size('a') + size(b'a') + size([1]) + size({'a': 1}) + 'a'.size() == 5",
            "int('1') + int(1u) + int(1.5) == 3 && uint(1) == 1u && double(1) == 1.0 && string(1) == '1'",
            "bytes('a') == b'a' && bool('true') && dyn(1) == 1 && type(1) == int && type(doc) != null_type",
            "1 < 2.5 && 1u <= 2 && 'a' < 'b' && -1 < 0 && 7 % 3 == 1 && 6 / 2 == 3 && 1.5 * 2.0 == 3.0",
            "doc.a in [1, 2] && 'k' in {'k': 1} && has(doc.a.b) && !has(doc.c)",
            "components.all(c, c.env.exists(k, k.startsWith('PULUMI_') && c.env[k].set))",
            "resources.map(r, r.attrs).filter(a, 'x' in a).size() >= 0 && oldDoc == null",
            "matches('a', 'a') && 'a'.matches('a') && 'a,b'.split(',').join('-') == 'a-b'",
            "blocks(doc, ['a', 'b']).size() >= 0 && lookup(doc, 'a.b') == null && paths(doc).size() >= 0",
            "camelCase('a_b') == 'aB' && 'aB'.snakeCase() == 'a_b' && one(doc.x) != 1 && descendants(doc).size() >= 0",
        ] {
            let program = crate::eval::functions::cel_env().compile(expr).unwrap_or_else(|e| panic!("{expr}: {e:?}"));
            let checked = check_program(&env, &program);
            assert!(checked.problems.is_empty(), "{expr}: {:?}", checked.problems);
        }
    }

    #[test]
    fn variables_are_declared_by_the_caller() {
        let mut env = Environment::document();
        env.declare_variable("variables", Type::record([("port", Type::Int), ("name", Type::Dyn)]));
        let program = crate::eval::functions::cel_env().compile("variables.port > 0 && variables.nam == ''").unwrap();
        let checked = check_program(&env, &program);
        assert_eq!(checked.problems.len(), 1);
        assert_eq!(checked.problems[0].message, "unknown variable `variables.nam` (did you mean `name`?)");
        let read: Vec<&str> = checked.variables_read.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(read, ["port", "nam"]);
    }
}

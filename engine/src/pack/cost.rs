//! A static cost estimate of a rule's expressions, made at pack load beside the runtime
//! budget ([`crate::eval::budget`]), as cel-go estimates the cost of a checked expression.
//!
//! The estimate is the degree of a polynomial in the size `n` of the unit's input (the
//! document, or the deployment): each comprehension (`all`, `exists`, `map`, `filter`, …)
//! whose list comes from the input multiplies what it runs per element by `n`; a list
//! literal, `lists.range(<literal>)` or `params` multiplies by a constant. A call to a host
//! function that scans a list or a string (`x in list`, `matches`, `join`, `distinct`, …)
//! costs `n` once more. Walking down the input does not multiply: a comprehension over a part
//! of the element of a loop around it (`containers.all(c, c.env.all(e, …))`) runs at most `n`
//! times in all, however the parts are split (once per loop: a second walk of the same
//! element nested in the first makes pairs, and multiplies). A rule's `each` is such a loop
//! around its element's expressions; `variables` are evaluated once per unit or per element
//! and read for free after that.
//!
//! The estimate is an upper bound: a comprehension over a list the input bounds small (the
//! containers of one Pod) counts as `n`. It has no types: `in` counts as a scan when its right
//! side is known to be a list, and a field of the input is not (it may be a map, where `in` is
//! a lookup), so a scan of a list read from the input is missed. Expressions of degree
//! [`MAX_COST_DEGREE`] + 1 and more are refused at load ([`too_costly_message`]): evaluated
//! on a large deployment they exhaust the runtime budget, and an indexed relation
//! (`k8s.services`) or a bound loop expresses the same check in linear time. Rules of a
//! ValidatingAdmissionPolicy pack ([`crate::vap`]) are estimated, not refused: the API
//! server's own cost limits govern them.

use crate::limits::MAX_COST_DEGREE;
use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};
use std::collections::BTreeMap;

/// Host functions that scan a list, their operand (the receiver, or the first argument): each
/// call costs `n` more. `in` scans its second operand when that is known to be a list (a
/// field of the input may be a map, where `in` is a lookup); `matches` scans its string.
const SCANNING_FUNCTIONS: &[&str] = &[
    "@in",
    "matches",
    "join",
    "distinct",
    "sort",
    "sortBy",
    "flatten",
    "reverse",
    "sum",
    "min",
    "max",
    "isSorted",
    "descendants",
];

/// CEL's type identifiers (`type(x) == map`) and the namespaces of extension functions
/// (`lists.range(…)`): constants, not input.
const TYPE_NAMES: &[&str] = &[
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "dyn",
    "lists",
    "math",
    "strings",
    "sets",
    "base64",
    "optional",
];

/// Where a value comes from, for how large it can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// A literal, `params`, or computed from those only: its size does not grow with `n`.
    Constant,
    /// A part of the element of the loop at this depth (its iteration variable, or a field of
    /// it): the parts of all elements add up to at most `n`.
    Part(usize),
    /// Anything else the input holds, of size up to `n`.
    Input,
}

impl Source {
    /// The source of a value computed from both.
    fn join(self, other: Source) -> Source {
        match (self, other) {
            (Source::Constant, x) | (x, Source::Constant) => x,
            (Source::Part(a), Source::Part(b)) if a == b => self,
            _ => Source::Input,
        }
    }
}

/// A value's sources: of its size (how many elements a comprehension over it runs), and of
/// its content (what its elements are). They differ for a list literal, `[doc]`: a constant
/// size, elements from the input.
#[derive(Clone, Copy, Debug)]
struct Value {
    size: Source,
    content: Source,
    /// Known to be a list (made by a list literal, `map`, `filter` or a list function), not a
    /// map.
    list: bool,
}

impl Value {
    const CONSTANT: Value = Value { size: Source::Constant, content: Source::Constant, list: false };
    const INPUT: Value = Value { size: Source::Input, content: Source::Input, list: false };

    fn of(source: Source) -> Value {
        Value { size: source, content: source, list: false }
    }

    fn list(self) -> Value {
        Value { list: true, ..self }
    }

    /// Both sources joined: the value of an operation on it.
    fn flat(self) -> Source {
        self.size.join(self.content)
    }
}

/// An expression's estimated growth: the degree in `n`, and the innermost comprehension (or
/// scanning call) that reaches it, by node id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Growth {
    /// 0 for O(1), 1 for O(n), 2 for O(n²)…
    pub degree: u32,
    /// The node that reaches the degree, if it is above 0.
    pub at: Option<u64>,
}

impl Growth {
    /// The larger; of equal ones, the one that names a node.
    fn max(self, other: Growth) -> Growth {
        if other.degree > self.degree || (other.degree == self.degree && self.at.is_none()) { other } else { self }
    }

    /// `O(1)`, `O(n)`, `O(n²)`, `O(n³)`, `O(n^4)`…
    pub fn big_o(self) -> String {
        match self.degree {
            0 => "O(1)".to_owned(),
            1 => "O(n)".to_owned(),
            2 => "O(n²)".to_owned(),
            3 => "O(n³)".to_owned(),
            d => format!("O(n^{d})"),
        }
    }
}

/// What the estimate of one expression knows about the names it reads.
#[derive(Clone, Debug, Default)]
struct Names {
    /// Names bound to a value of known source (the rule's element, comprehension variables).
    bound: Vec<(String, Value)>,
    /// `variables.NAME`: the source of each variable's value.
    variables: BTreeMap<String, Value>,
    /// The loops that enclose the expression (the rule's `each` is the first).
    loops: Vec<Loop>,
}

/// A loop around the expression being estimated.
#[derive(Clone, Copy, Debug)]
struct Loop {
    /// Whether its list's size is not constant: only such a loop's parts add up to `n`.
    iterating: bool,
    /// 1 if it multiplies what it runs by `n`, 0 if by a constant or it walks a part.
    multiplies: u32,
    /// Whether a loop inside it already walks a part of its element: the parts add up to `n`
    /// once, so a second walk nested in the first multiplies.
    absorbed: bool,
}

impl Names {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.bound.iter().rev().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// The loop whose element a value of this source is a part of, if walking it costs
    /// nothing more than that loop does.
    fn absorbing(&self, source: Source) -> Option<usize> {
        match source {
            Source::Part(depth) => self.loops.get(depth).filter(|l| l.iterating && !l.absorbed).map(|_| depth),
            _ => None,
        }
    }

    /// 1 when scanning (or looping over) a value of this size costs `n`; 0 when it costs a
    /// constant, or walks a part of an enclosing loop's element (the parts add up to `n` over
    /// that loop).
    fn factor(&self, size: Source) -> u32 {
        match size {
            Source::Constant => 0,
            _ if self.absorbing(size).is_some() => 0,
            _ => 1,
        }
    }
}

/// A list, map or struct literal of `parts`: of constant size, holding what its parts hold,
/// and costing what its costliest part costs.
fn literal<'e>(parts: impl Iterator<Item = &'e IdedExpr>, names: &mut Names, list: bool) -> (Growth, Value) {
    let mut growth = Growth::default();
    let mut content = Source::Constant;
    for part in parts {
        let (g, v) = estimate(part, names);
        growth = growth.max(g);
        content = content.join(v.flat());
    }
    (growth, Value { size: Source::Constant, content, list })
}

/// Estimates `expr`. `names` holds the element of `each` and the variables' sources.
fn estimate(expr: &IdedExpr, names: &mut Names) -> (Growth, Value) {
    match &expr.expr {
        Expr::Literal(_) | Expr::Unspecified => (Growth::default(), Value::CONSTANT),
        Expr::Ident(name) => {
            let value = match names.lookup(name) {
                Some(value) => value,
                None if name == "params" || TYPE_NAMES.contains(&name.as_str()) => Value::CONSTANT,
                None => Value::INPUT,
            };
            (Growth::default(), value)
        }
        Expr::Select(select) => {
            if let Expr::Ident(operand) = &select.operand.expr
                && operand == "variables"
                && names.lookup("variables").is_none()
            {
                let value = names.variables.get(&select.field).copied().unwrap_or(Value::INPUT);
                return (Growth::default(), value);
            }
            let (growth, value) = estimate(&select.operand, names);
            (growth, Value::of(value.content))
        }
        Expr::List(list) => literal(list.elements.iter(), names, true),
        Expr::Map(map) => literal(
            map.entries.iter().flat_map(|entry| match &entry.expr {
                EntryExpr::MapEntry(m) => vec![&m.key, &m.value],
                EntryExpr::StructField(f) => vec![&f.value],
            }),
            names,
            false,
        ),
        Expr::Struct(s) => literal(
            s.entries.iter().map(|entry| match &entry.expr {
                EntryExpr::MapEntry(m) => &m.value,
                EntryExpr::StructField(f) => &f.value,
            }),
            names,
            false,
        ),
        Expr::Call(call) => {
            if is_literal_range(call) {
                return (Growth::default(), Value::CONSTANT);
            }
            let mut growth = Growth::default();
            let mut operands = Vec::new();
            for operand in call.target.iter().map(|t| &**t).chain(&call.args) {
                let (g, v) = estimate(operand, names);
                growth = growth.max(g);
                operands.push(v);
            }
            let value = match (call.func_name.as_str(), operands.as_slice()) {
                // Indexing by a loop's variable (`lists.range(size(l)).all(i, l[i] …)`) takes a
                // part of that loop's element; an element of a list literal is one of its
                // elements.
                ("_[_]" | "_[?_]", [_, Value { size: Source::Part(depth), .. }]) => Value::of(Source::Part(*depth)),
                ("_[_]" | "_[?_]", [container, ..]) => Value::of(container.content),
                ("_+_", [a, b]) if a.list || b.list => Value::of(a.flat().join(b.flat())).list(),
                ("split" | "distinct" | "flatten" | "sort" | "sortBy" | "reverse" | "slice" | "range", _) => {
                    Value::of(operands.iter().fold(Source::Constant, |s, v| s.join(v.flat()))).list()
                }
                // A truth value or a comparison is small, whatever it is computed from.
                (
                    "_==_"
                    | "_!=_"
                    | "_<_"
                    | "_<=_"
                    | "_>_"
                    | "_>=_"
                    | "_&&_"
                    | "_||_"
                    | "!_"
                    | "@in"
                    | "@not_strictly_false",
                    _,
                ) => Value::CONSTANT,
                // One of the branches, whatever the condition.
                ("_?_:_", [_, yes, no]) => Value {
                    size: yes.size.join(no.size),
                    content: yes.content.join(no.content),
                    list: yes.list && no.list,
                },
                _ => Value::of(operands.iter().fold(Source::Constant, |s, v| s.join(v.flat()))),
            };
            // `x in list` scans the list, its second operand; the others their first.
            let scanned = match call.func_name.as_str() {
                "@in" => operands.get(1).filter(|v| v.list),
                _ => operands.first(),
            };
            if SCANNING_FUNCTIONS.contains(&call.func_name.as_str())
                && let Some(scanned) = scanned
            {
                let own = names.factor(scanned.size);
                let degree = loop_degree(names) + own;
                if own > 0 {
                    growth = growth.max(Growth { degree, at: Some(expr.id) });
                }
            }
            (growth, value)
        }
        Expr::Comprehension(c) => {
            let (range_growth, range) = estimate(&c.iter_range, names);
            let (init_growth, init) = estimate(&c.accu_init, names);
            let mut growth = range_growth.max(init_growth);
            let constant = range.size == Source::Constant;
            let multiplies = names.factor(range.size);
            let absorbs = names.absorbing(range.size);
            let depth = names.loops.len();
            let element = if constant { Value::of(range.content) } else { Value::of(Source::Part(depth)) };
            let bound = names.bound.len();
            names.bound.push((c.iter_var.clone(), element));
            if let Some(second) = &c.iter_var2 {
                names.bound.push((second.clone(), element));
            }
            names.bound.push((c.accu_var.clone(), Value::of(range.flat().join(init.flat()))));
            if let Some(outer) = absorbs {
                names.loops[outer].absorbed = true;
            }
            names.loops.push(Loop { iterating: !constant, multiplies, absorbed: false });
            let inside = loop_degree(names);
            let (cond, _) = estimate(&c.loop_cond, names);
            let (step, step_value) = estimate(&c.loop_step, names);
            names.loops.pop();
            if let Some(outer) = absorbs {
                names.loops[outer].absorbed = false;
            }
            // Its iterations, over every run of the loops around it; blamed on it when it
            // multiplies, else on a loop around it.
            let own = Growth { degree: inside, at: (multiplies > 0).then_some(expr.id) };
            let body = cond.max(step);
            let here =
                if body.degree > own.degree || (body.degree == own.degree && body.at.is_some()) { body } else { own };
            growth = growth.max(here);
            // `map` and `filter` build a list, from an empty one; `all`, `exists` a boolean.
            let builds_list = matches!(&c.accu_init.expr, Expr::List(_));
            // It has at most as many elements as its list.
            let result_value = Value {
                size: if builds_list { range.size } else { Source::Constant },
                content: range.flat().join(step_value.flat()),
                list: builds_list,
            };
            names.bound.truncate(bound);
            names.bound.push((c.accu_var.clone(), result_value));
            let (result, value) = estimate(&c.result, names);
            names.bound.truncate(bound);
            (growth.max(result), value)
        }
    }
}

/// How many loops around the expression multiply (those that do not walk a part of the loop
/// around them).
fn loop_degree(names: &Names) -> u32 {
    names.loops.iter().map(|l| l.multiplies).sum()
}

/// `lists.range(<literal>)`.
fn is_literal_range(call: &cel::common::ast::CallExpr) -> bool {
    let namespaced = call.func_name == "lists.range"
        || (call.func_name == "range"
            && call.target.as_deref().is_some_and(|t| matches!(&t.expr, Expr::Ident(n) if n == "lists")));
    namespaced && matches!(call.args.as_slice(), [arg] if matches!(arg.expr, Expr::Literal(LiteralValue::Int(_))))
}

/// Which of a rule's expressions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Part {
    /// `each`.
    Each,
    /// `when`.
    When,
    /// `assert`.
    #[default]
    Assert,
    /// `locate`.
    Locate,
    /// `related`.
    Related,
    /// `secret`, an expression.
    Secret,
    /// The message template's hole at this index.
    Message(usize),
    /// `variables.NAME`.
    Variable(std::sync::Arc<str>),
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Each => f.write_str("each"),
            Part::When => f.write_str("when"),
            Part::Assert => f.write_str("assert"),
            Part::Locate => f.write_str("locate"),
            Part::Related => f.write_str("related"),
            Part::Secret => f.write_str("secret"),
            Part::Message(_) => f.write_str("message"),
            Part::Variable(name) => write!(f, "variables.{name}"),
        }
    }
}

/// A rule's estimated cost on one unit: its costliest expression's growth, with the loop of
/// its `each` counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleCost {
    /// The growth.
    pub growth: Growth,
    /// The expression that reaches it.
    pub part: Part,
}

impl RuleCost {
    /// `O(n²) in the deployment's size (assert)`.
    pub fn describe(&self, scope: super::Scope) -> String {
        let unit = match scope {
            super::Scope::Document => "the document's size",
            super::Scope::Deployment => "the deployment's size",
        };
        format!("{} in {unit} ({})", self.growth.big_o(), self.part)
    }

    /// Whether it is refused at load: degree above [`MAX_COST_DEGREE`].
    pub fn too_costly(&self) -> bool {
        self.growth.degree > MAX_COST_DEGREE
    }
}

/// The message of an expression refused for its cost, at its innermost multiplying loop.
pub(crate) fn too_costly_message(growth: Growth) -> String {
    format!(
        "this expression's cost grows as {} in the size of the input: loops over the input are nested {} deep (each comprehension over a list from the input, and each scan such as `in`, `matches` or `join`, multiplies by its size); at most {} are allowed (O(n²)). Join objects through an indexed relation (`k8s.services`…), bind an inner list once with `[[rule.variables]]`, or bound a loop with a literal list",
        growth.big_o(),
        growth.degree,
        MAX_COST_DEGREE
    )
}

/// The sources of variables' values, in the order they are estimated.
#[derive(Clone, Debug, Default)]
pub(crate) struct VariableSources(BTreeMap<String, Value>);

impl VariableSources {
    /// Estimates a unit-level variable (a pack's) and records its value's source.
    pub(crate) fn add_unit_variable(&mut self, name: &str, program: &cel::Program) -> Growth {
        let mut names = Names { variables: self.0.clone(), ..Names::default() };
        let (growth, value) = estimate(program.expression(), &mut names);
        self.0.insert(name.to_owned(), value);
        growth
    }
}

/// Estimates every expression of `rule` (its `each`, variables, element expressions and
/// message), and returns the costliest, with the loop of `each` counted.
pub fn rule_cost(rule: &super::CompiledRule, bind: &str) -> RuleCost {
    let mut costliest = RuleCost::default();
    let mut consider = |growth: Growth, part: Part| {
        if growth.degree > costliest.growth.degree {
            costliest = RuleCost { growth, part };
        }
    };
    let mut unit = Names::default();
    // The element's loop: `each`, run once per unit.
    if let Some(each) = &rule.each {
        let (growth, selected) = estimate(each.expression(), &mut unit);
        consider(growth, Part::Each);
        let multiplies = unit.factor(selected.size);
        consider(Growth { degree: multiplies, at: None }, Part::Each);
        let element =
            if selected.size == Source::Constant { Value::of(selected.content) } else { Value::of(Source::Part(0)) };
        let mut element_names = Names::default();
        element_names.loops.push(Loop { iterating: selected.size != Source::Constant, multiplies, absorbed: false });
        element_names.bound.push((bind.to_owned(), element));
        element_names.bound.push(("key".to_owned(), Value::CONSTANT));
        estimate_element(rule, &mut unit, &mut element_names, &mut consider);
    } else {
        let mut element_names = Names::default();
        estimate_element(rule, &mut unit, &mut element_names, &mut consider);
    }
    costliest
}

/// Estimates the variables (each at its level) and the expressions evaluated per element.
fn estimate_element(
    rule: &super::CompiledRule,
    unit: &mut Names,
    element: &mut Names,
    consider: &mut impl FnMut(Growth, Part),
) {
    for variable in &rule.variables {
        let names = if variable.per_element && rule.each.is_some() { &mut *element } else { &mut *unit };
        let (growth, value) = estimate(variable.program.expression(), names);
        consider(growth, Part::Variable(variable.name.clone()));
        unit.variables.insert(variable.name.to_string(), value);
        element.variables.insert(variable.name.to_string(), value);
    }
    let parts = [
        (rule.when.as_deref(), Part::When),
        (Some(&*rule.assert), Part::Assert),
        (rule.locate.as_deref(), Part::Locate),
        (rule.related.as_deref(), Part::Related),
        (
            match &rule.secret {
                super::Secret::When(program) => Some(&**program),
                _ => None,
            },
            Part::Secret,
        ),
    ];
    for (program, part) in parts {
        if let Some(program) = program {
            consider(estimate(program.expression(), element).0, part);
        }
    }
    for (index, program) in rule.message.programs().enumerate() {
        consider(estimate(program.expression(), element).0, Part::Message(index));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::{PackFile, load_pack};
    use crate::source::SourceMap;
    use std::sync::Arc;

    /// The degree of `expr` evaluated once per unit.
    fn degree(expr: &str) -> u32 {
        let program = crate::eval::functions::cel_env().compile(expr).unwrap_or_else(|e| panic!("{expr}: {e:?}"));
        estimate(program.expression(), &mut Names::default()).0.degree
    }

    #[test]
    fn loops_over_the_input_multiply_and_constant_ones_do_not() {
        let cases: &[(&str, u32)] = &[
            ("doc.kind == 'Service'", 0),
            ("size(doc.spec.ports) > 0", 0),
            ("doc.spec.ports.all(p, p.port > 0)", 1),
            ("['a', 'b'].all(k, k in doc.metadata.labels)", 0),
            ("lists.range(3).all(i, i < 5)", 0),
            ("params.names.all(n, n != doc.metadata.name)", 0),
            ("[doc].map(d, d.spec.ports.all(p, p.port > 0))", 1),
            ("docs.all(a, docs.exists(b, a.kind == b.kind))", 2),
            ("docs.all(a, docs.exists(b, docs.exists(c, a == c)))", 3),
            ("lists.range(size(docs)).all(i, docs.exists(d, d == docs[i]))", 2),
            // A scan inside a loop counts once more.
            ("docs.all(a, a.kind in docs.map(d, d.kind))", 2),
            ("docs.all(a, docs.map(d, d.kind).join(',') != '')", 2),
            // Matching a part of an element is amortised over its loop; a string from elsewhere is
            // scanned on every iteration.
            ("docs.all(a, docs.exists(b, b.metadata.name.matches(a.metadata.name)))", 2),
            ("docs.all(a, docs.exists(b, deployment.name.matches('^x')))", 3),
            // `in` on a field of the input may be a map lookup.
            ("docs.all(a, 'x' in a.metadata.labels)", 1),
        ];
        for (expr, expected) in cases {
            assert_eq!(degree(expr), *expected, "{expr}");
        }
    }

    #[test]
    fn walking_down_the_element_of_a_loop_does_not_multiply_once() {
        let cases: &[(&str, u32)] = &[
            ("docs.all(d, d.spec.containers.all(c, c.env.all(e, e.name != '')))", 1),
            ("docs.all(d, lists.range(size(d.items)).all(i, d.items[i].x.all(y, y > 0)))", 1),
            ("docs.all(d, d.items.all(x, x.name.matches('^a')))", 1),
            // Two walks of the same element, one inside the other: pairs of its parts.
            ("docs.all(d, d.a.all(x, d.b.all(y, x == y)))", 2),
            // A part of an outer loop's element, inside a loop over the whole input.
            ("docs.all(d, docs.all(e, d.a.all(x, x == e)))", 2),
        ];
        for (expr, expected) in cases {
            assert_eq!(degree(expr), *expected, "{expr}");
        }
    }

    const HEADER: &str = "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n";

    /// A pack's problems as `(line, column, message)`.
    type Located = Vec<(usize, usize, String)>;

    fn load(rule: &str) -> Result<Vec<Arc<crate::pack::Rule>>, Located> {
        let sources = SourceMap::new();
        let text = format!(
            "{HEADER}[[rule]]\nid = \"T-1\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nscope = \"deployment\"\nmessage = 'm'\n{rule}"
        );
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(text) };
        load_pack(vec![file], &sources)
            .map(|p| p.rules)
            .map_err(|problems| crate::pack::located_problems(&sources, &problems))
    }

    #[test]
    fn a_rule_costs_its_costliest_expression_with_the_loop_of_each() {
        let rules = load("each = 'docs'\nas = 'd'\nassert = 'docs.exists(o, o.kind == d.kind)'\n").unwrap();
        assert_eq!(rules[0].cost.describe(crate::pack::Scope::Deployment), "O(n²) in the deployment's size (assert)");
        let rules = load("each = 'docs'\nas = 'd'\nassert = 'd.spec.ports.all(p, p.port > 0)'\n").unwrap();
        assert_eq!(rules[0].cost.describe(crate::pack::Scope::Deployment), "O(n) in the deployment's size (each)");
        let rules = load(
            "assert = 'variables.kinds.size() > 0'\n[[rule.variables]]\nname = \"kinds\"\nexpression = 'docs.filter(a, docs.exists(b, a != b))'\n",
        )
        .unwrap();
        assert_eq!(
            rules[0].cost.describe(crate::pack::Scope::Deployment),
            "O(n²) in the deployment's size (variables.kinds)"
        );
        // A variable is evaluated once: reading it in a loop costs nothing more.
        let rules = load(
            "each = 'docs'\nas = 'd'\nassert = 'd.kind in variables.kinds'\n[[rule.variables]]\nname = \"kinds\"\nexpression = 'docs.map(a, a.kind)'\n",
        )
        .unwrap();
        assert_eq!(rules[0].cost.growth.degree, 2, "the scan of the list, per element");
    }

    #[test]
    fn a_cubic_expression_is_refused_at_its_innermost_multiplying_loop() {
        // Line 14 is `assert`: each × docs × docs, at the `(` of `exists`.
        let problems =
            load("each = 'docs'\nas = 'd'\nassert = 'docs.all(a, a == d || docs.exists(b, b == a))'\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        let (line, column, message) = &problems[0];
        assert_eq!((*line, *column), (14, 44));
        assert!(message.starts_with("this expression's cost grows as O(n³) in the size of the input"), "{message}");
        assert!(message.contains("`k8s.services`"), "{message}");
        // In a variable, at its own position.
        let problems = load(
            "assert = 'variables.x'\n[[rule.variables]]\nname = \"x\"\nexpression = 'docs.all(a, docs.all(b, docs.all(c, a == b)))'\n",
        )
        .unwrap_err();
        assert_eq!(problems.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(), [(15, 47)]);
        // A pack variable, where the pack declares it.
        let sources = SourceMap::new();
        let text = format!(
            "{HEADER}[[variables]]\nname = \"pairs\"\nexpression = 'docs.map(a, docs.filter(b, b.kind in docs.map(c, c.kind)))'\n"
        );
        let file = PackFile { relative: "p.toml".into(), display: "p.toml".into(), path: None, text: Arc::from(text) };
        let problems = load_pack(vec![file], &sources).unwrap_err();
        let at = sources.start(problems[0].span.unwrap());
        // At the `(` of the innermost loop, `docs.map(c, …)`.
        assert_eq!((at.line, at.column), (7, 60), "{}", problems[0].message);
    }
}

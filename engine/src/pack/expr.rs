//! Compiling a rule's CEL expressions without letting one overflow the stack.
//!
//! The `cel` crate parses (ANTLR) and evaluates recursively. Its own recursion limit counts
//! nested sub-expressions (parentheses, conditionals), not chains: `1 + 1 + … + 1`, `a < b <
//! c`, `x[0][0]…[0]` and `f().g().h()` nest one level per operator, and 300 of them overflow an
//! 8 MiB stack in a debug build, parsing or evaluating. So:
//!
//! 1. an expression's nesting is estimated from its text ([`nesting_past`]), and one past
//!    [`MAX_EXPRESSION_NESTING`] is refused before the parser sees it: the parser then needs
//!    at most a few tens of MiB, and runs on a thread with [`crate::limits::COMPILER_STACK`];
//! 2. the compiled tree's depth is measured ([`deeper_than`]), and one past
//!    [`MAX_EXPRESSION_DEPTH`] is refused: evaluation recurses once per level, on threads with
//!    [`crate::limits::EVALUATION_STACK`].
//!
//! The estimate is conservative: each bracket opens a level, and within a bracket every
//! operator of an operand of `&&`, `||`, `?:` and `,` adds one (those four do not nest: `cel`
//! balances `&&` and `||` chains).

#[cfg(test)]
use crate::limits::COMPILER_STACK;
use crate::limits::{MAX_COMPREHENSION_NESTING, MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_NESTING};

/// An operand being read inside one bracket.
#[derive(Clone, Copy, Default)]
struct Level {
    /// Operators of the current operand.
    operators: usize,
    /// The deepest bracket closed in the current operand.
    inner: usize,
    /// `?` of the current argument: conditionals nest through their branches.
    conditionals: usize,
    /// The deepest operand seen so far.
    deepest: usize,
}

impl Level {
    fn depth(&self) -> usize {
        self.operators + self.inner + self.conditionals + 1
    }

    fn note(&mut self) {
        self.deepest = self.deepest.max(self.depth());
    }

    fn next_operand(&mut self) {
        self.note();
        self.operators = 0;
        self.inner = 0;
    }
}

/// The byte offset in `expr` where its estimated nesting first goes past `limit`, if it does.
pub(crate) fn nesting_past(expr: &str, limit: usize) -> Option<usize> {
    let bytes = expr.as_bytes();
    let mut stack = vec![Level::default()];
    let mut i = 0;
    while i < bytes.len() {
        let at = i;
        let c = bytes[i];
        let top = stack.len() - 1;
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'\'' | b'"' => i = skip_string(bytes, i, false),
            b'r' | b'R' | b'b' | b'B' if starts_string(bytes, i) => {
                let mut j = i;
                let mut raw = false;
                while matches!(bytes.get(j), Some(b'r' | b'R' | b'b' | b'B')) {
                    raw |= matches!(bytes[j], b'r' | b'R');
                    j += 1;
                }
                i = skip_string(bytes, j, raw);
            }
            b'`' => i = bytes[i + 1..].iter().position(|&b| b == b'`').map_or(bytes.len(), |p| i + p + 2),
            b'&' | b'|' if bytes.get(i + 1) == Some(&c) => {
                stack[top].next_operand();
                i += 2;
            }
            b':' => {
                stack[top].next_operand();
                i += 1;
            }
            b',' => {
                stack[top].next_operand();
                stack[top].conditionals = 0;
                i += 1;
            }
            b'?' => {
                stack[top].next_operand();
                stack[top].conditionals += 1;
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                // A call, an index or a literal: one level in the chain it is part of, and the
                // bracket's own.
                stack[top].operators += 1;
                stack.push(Level::default());
                i += 1;
            }
            b')' | b']' | b'}' => {
                if stack.len() > 1 {
                    let mut closed = stack.pop().unwrap_or_default();
                    closed.note();
                    let parent = stack.len() - 1;
                    stack[parent].inner = stack[parent].inner.max(closed.deepest);
                }
                i += 1;
            }
            b'=' | b'!' | b'<' | b'>' | b'+' | b'-' | b'*' | b'/' | b'%' | b'.' => {
                stack[top].operators += 1;
                // `==`, `!=`, `<=`, `>=` are one operator.
                i += if bytes.get(i + 1) == Some(&b'=') { 2 } else { 1 };
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .map_or(bytes.len(), |p| i + p);
                if &bytes[i..end] == b"in" {
                    stack[top].operators += 1;
                }
                i = end;
            }
            _ => i += 1,
        }
        let depth: usize = stack.iter().map(Level::depth).sum();
        if depth > limit {
            return Some(at);
        }
    }
    None
}

/// Whether a string literal with prefixes (`r'…'`, `b"…"`, `rb'…'`) starts at `i`.
fn starts_string(bytes: &[u8], i: usize) -> bool {
    let prefix = bytes[i..].iter().take_while(|b| matches!(b, b'r' | b'R' | b'b' | b'B')).count();
    prefix <= 2
        && matches!(bytes.get(i + prefix), Some(b'\'' | b'"'))
        && !(i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'))
}

/// The offset just past the string literal whose opening quote is at `i`.
fn skip_string(bytes: &[u8], i: usize, raw: bool) -> usize {
    let quote = bytes[i];
    let triple = bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote);
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < bytes.len() {
        match bytes[j] {
            b'\\' if !raw => j += 2,
            b if b == quote && (!triple || (bytes.get(j + 1) == Some(&quote) && bytes.get(j + 2) == Some(&quote))) => {
                return j + if triple { 3 } else { 1 };
            }
            b'\n' if !triple => return j,
            _ => j += 1,
        }
    }
    bytes.len()
}

/// Why an expression did not compile.
pub(crate) enum CompileError {
    /// Nested too deep to parse or evaluate safely; `offset` is where in the expression.
    TooDeep { offset: usize },
    /// Comprehensions nested past [`MAX_COMPREHENSION_NESTING`]: their cost is the product of
    /// the sizes of the lists they iterate; `offset` is where the one too deep starts.
    TooCostly { offset: usize },
    /// What the `cel` parser said.
    Syntax(cel::ParseErrors),
}

impl CompileError {
    /// The message for [`CompileError::TooCostly`].
    pub(crate) fn too_costly_message() -> String {
        format!(
            "comprehensions nested too deep here: at most {MAX_COMPREHENSION_NESTING} may run one inside the other's loop (each multiplies the cost by the size of its list); bind the inner list once with `[[rule.variables]]`, or join through `k8s`"
        )
    }

    /// The message for [`CompileError::TooDeep`].
    pub(crate) fn too_deep_message() -> String {
        format!(
            "CEL expression nested too deep here: celador evaluates at most {MAX_EXPRESSION_DEPTH} levels (each operator chained as in `a + b + c`, `x[0][1]` or `f().g()` is a level, like each bracket); split it into smaller expressions joined by `&&` or `||`"
        )
    }
}

/// Compiles `expr` with `env`, unless it is nested too deep to parse or evaluate safely.
pub(crate) fn compile(env: &cel::Env, expr: &str) -> Result<cel::Program, CompileError> {
    if let Some(offset) = nesting_past(expr, MAX_EXPRESSION_NESTING) {
        return Err(CompileError::TooDeep { offset });
    }
    let program = env.compile(expr).map_err(|errors| {
        // The parser's own limit on nested sub-expressions, reported without a position.
        if errors.errors.iter().any(|e| e.msg.to_ascii_lowercase().contains("recursion limit")) {
            CompileError::TooDeep { offset: 0 }
        } else {
            CompileError::Syntax(errors)
        }
    })?;
    // The parser's offsets count characters.
    let offset_of = |id| {
        program
            .source_info()
            .offset_for(id)
            .map_or(0, |(start, _)| expr.char_indices().nth(start as usize).map_or(expr.len(), |(i, _)| i))
    };
    if let Some(id) = deeper_than(program.expression(), MAX_EXPRESSION_DEPTH) {
        return Err(CompileError::TooDeep { offset: offset_of(id) });
    }
    if let Some(id) = loops_nested_past(program.expression(), MAX_COMPREHENSION_NESTING) {
        return Err(CompileError::TooCostly { offset: offset_of(id) });
    }
    Ok(program)
}

/// The id of a comprehension that runs inside the loops of more than `limit` others (the
/// outermost counting 1), if there is one. A comprehension over a list literal of at most one
/// element binds a value rather than loops (`sortBy` expands to one, rules write
/// `[x].map(v, …)`) and does not count; neither do the parts of a comprehension evaluated once
/// (its list, initial value and result).
pub(crate) fn loops_nested_past(expr: &cel::common::ast::IdedExpr, limit: usize) -> Option<u64> {
    use cel::common::ast::{EntryExpr, Expr};
    let mut pending = vec![(expr, 0usize)];
    while let Some((e, loops)) = pending.pop() {
        let mut push = |child, loops| pending.push((child, loops));
        match &e.expr {
            Expr::Comprehension(c) => {
                let binds = matches!(&c.iter_range.expr, Expr::List(l) if l.elements.len() <= 1);
                let inner = if binds { loops } else { loops + 1 };
                if inner > limit {
                    return Some(e.id);
                }
                for once in [&c.iter_range, &c.accu_init, &c.result] {
                    push(once, loops);
                }
                push(&c.loop_cond, inner);
                push(&c.loop_step, inner);
            }
            Expr::Call(call) => {
                call.target.iter().for_each(|t| push(&**t, loops));
                call.args.iter().for_each(|a| push(a, loops));
            }
            Expr::List(list) => list.elements.iter().for_each(|x| push(x, loops)),
            Expr::Map(map) => map.entries.iter().for_each(|entry| match &entry.expr {
                EntryExpr::MapEntry(m) => {
                    push(&m.key, loops);
                    push(&m.value, loops);
                }
                EntryExpr::StructField(f) => push(&f.value, loops),
            }),
            Expr::Struct(s) => s.entries.iter().for_each(|entry| match &entry.expr {
                EntryExpr::MapEntry(m) => {
                    push(&m.key, loops);
                    push(&m.value, loops);
                }
                EntryExpr::StructField(f) => push(&f.value, loops),
            }),
            Expr::Select(select) => push(&select.operand, loops),
            Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => {}
        }
    }
    None
}

/// The id of a node of a compiled expression deeper than `limit` (the root is at depth 1), if
/// there is one. Walks the tree without recursing.
pub(crate) fn deeper_than(expr: &cel::common::ast::IdedExpr, limit: usize) -> Option<u64> {
    use cel::common::ast::{EntryExpr, Expr};
    let mut pending = vec![(expr, 1usize)];
    while let Some((e, depth)) = pending.pop() {
        if depth > limit {
            return Some(e.id);
        }
        let mut push = |child| pending.push((child, depth + 1));
        match &e.expr {
            Expr::Call(call) => {
                call.target.iter().for_each(|t| push(&**t));
                call.args.iter().for_each(&mut push);
            }
            Expr::Comprehension(c) => {
                for child in [&c.iter_range, &c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                    push(child);
                }
            }
            Expr::List(list) => list.elements.iter().for_each(push),
            Expr::Map(map) => map.entries.iter().for_each(|entry| match &entry.expr {
                EntryExpr::MapEntry(m) => {
                    push(&m.key);
                    push(&m.value);
                }
                EntryExpr::StructField(f) => push(&f.value),
            }),
            Expr::Struct(s) => s.entries.iter().for_each(|entry| match &entry.expr {
                EntryExpr::MapEntry(m) => {
                    push(&m.key);
                    push(&m.value);
                }
                EntryExpr::StructField(f) => push(&f.value),
            }),
            Expr::Select(select) => push(&select.operand),
            Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(expr: &str) -> usize {
        (1..1000).find(|&limit| nesting_past(expr, limit).is_none()).unwrap_or(1000)
    }

    #[test]
    fn chains_nest_and_logical_operators_do_not() {
        assert_eq!(depth("1"), 1);
        assert_eq!(depth("1 + 1 + 1"), 3);
        assert_eq!(depth(&vec!["a.b == 1"; 50].join(" && ")), 3);
        assert_eq!(depth(&vec!["true"; 5000].join(" || ")), 1);
        assert!(depth(&vec!["1"; 5000].join(" + ")) > MAX_EXPRESSION_NESTING);
        // Never below the real depth.
        assert!(depth(&format!("doc{}", "[0]".repeat(300))) > 300);
        assert!(depth(&format!("{}1{}", "(".repeat(300), ")".repeat(300))) > 300);
        assert!(depth(&format!("{}true", "!".repeat(300))) > 300);
    }

    #[test]
    fn strings_do_not_count() {
        assert_eq!(depth("'((((+++' == \"[[[\\\"]]]...\""), 2);
        assert_eq!(depth("r'\\\\' + '''a\n(((''' + b\"x\""), 3);
    }

    fn compile_error(expr: &str) -> Option<usize> {
        match compile(&crate::eval::functions::cel_env(), expr) {
            Err(CompileError::TooDeep { offset }) => Some(offset),
            Err(CompileError::Syntax(e)) => panic!("{expr}: {e:?}"),
            Err(CompileError::TooCostly { .. }) => panic!("{expr}: too costly"),
            Ok(_) => None,
        }
    }

    /// Run on a large stack, as `load_pack` does.
    fn on_compiler_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
        std::thread::scope(|s| {
            std::thread::Builder::new().stack_size(COMPILER_STACK).spawn_scoped(s, f).unwrap().join()
        })
        .unwrap()
    }

    #[test]
    fn chains_too_deep_to_evaluate_are_refused_at_the_operator_past_the_limit() {
        on_compiler_stack(|| {
            assert_eq!(compile_error(&vec!["1"; 100].join(" + ")), None);
            let expr = vec!["1"; 5000].join(" + ");
            let at = compile_error(&expr).expect("too deep");
            assert_eq!(&expr[at..at + 1], "+");
            let expr = vec!["1"; 300].join(" + ");
            assert!(compile_error(&expr).is_some());
            // Brackets around nothing but brackets add no level to evaluate; past the nesting
            // estimate they are refused before the parser recurses into them.
            let expr = format!("{}1{}", "(".repeat(200), ")".repeat(200));
            assert_eq!(compile_error(&expr), None);
            let expr = format!("{}1{}", "(".repeat(600), ")".repeat(600));
            let at = compile_error(&expr).expect("too deep");
            assert_eq!(&expr[at..at + 1], "(");
        });
    }

    #[test]
    fn the_offset_is_where_the_limit_is_passed() {
        let expr = vec!["1"; 1000].join(" + ");
        let at = nesting_past(&expr, MAX_EXPRESSION_NESTING).unwrap();
        assert_eq!(&expr[at..at + 1], "+");
        assert_eq!(expr[..at].matches('+').count(), MAX_EXPRESSION_NESTING - 1);
    }

    #[test]
    fn comprehensions_nested_past_the_limit_are_refused_at_the_one_too_deep() {
        let nested = |n: usize| {
            let mut expr = "true".to_owned();
            for i in (0..n).rev() {
                expr = format!("doc.items.all(x{i}, {expr})");
            }
            expr
        };
        let env = crate::eval::functions::cel_env();
        assert!(compile(&env, &nested(MAX_COMPREHENSION_NESTING)).is_ok());
        let expr = nested(MAX_COMPREHENSION_NESTING + 1);
        match compile(&env, &expr) {
            Err(CompileError::TooCostly { offset }) => {
                // At the arguments of the sixth `all`.
                assert_eq!(expr[..offset].matches(".all").count(), MAX_COMPREHENSION_NESTING + 1);
                assert!(expr[offset..].starts_with("(x5, true)"), "{}", &expr[offset..]);
            }
            _ => panic!("not refused: {expr}"),
        }
        // Binding a value with a one-element list, and the list or result of a comprehension,
        // are not loops.
        let binds = format!("[doc].map(d, {})", nested(MAX_COMPREHENSION_NESTING));
        assert!(compile(&env, &binds).is_ok());
        let sequential = format!("{}.all(y, y)", nested(MAX_COMPREHENSION_NESTING).replace("true", "[true]"));
        assert!(compile(&env, &sequential).is_ok(), "{sequential}");
    }
}

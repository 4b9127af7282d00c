//! Message templates: text with `{{ expr }}` holes filled by CEL expressions.

use crate::diagnostic::Problem;
use crate::source::{FileId, SourceFile, Span};
use cel::Program;

/// A compiled message template.
#[derive(Clone, Debug)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug)]
enum Part {
    Text(String),
    /// A hole's program, and the byte offset of its expression in the template.
    Expr(std::sync::Arc<Program>, usize),
}

impl Template {
    /// Compiles `{{ … }}` holes; errors are located inside the pack file.
    pub(super) fn compile(
        template: &toml::Spanned<String>,
        source: &SourceFile,
        file: FileId,
        env: &cel::Env,
    ) -> Result<Self, Vec<Problem>> {
        let text = template.get_ref();
        let mut parts = Vec::new();
        let mut problems = Vec::new();
        let mut rest = text.as_str();
        let mut consumed = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                let at = super::cel_position(source, template.span(), position_in(text, consumed + open));
                problems.push(Problem::at(Span::new(file, at, at + 2), "unclosed `{{` in message template"));
                return Err(problems);
            };
            let expr = &after[..close];
            match super::expr::compile(env, expr) {
                Ok(program) => parts.push(Part::Expr(std::sync::Arc::new(program), consumed + open + 2)),
                Err(
                    error @ (super::expr::CompileError::TooDeep { offset }
                    | super::expr::CompileError::TooCostly { offset }),
                ) => {
                    let at =
                        super::cel_position(source, template.span(), position_in(text, consumed + open + 2 + offset));
                    let message = match error {
                        super::expr::CompileError::TooCostly { .. } => super::expr::CompileError::too_costly_message(),
                        _ => super::expr::CompileError::too_deep_message(),
                    };
                    problems.push(Problem::at(Span::new(file, at, at + 1), message));
                }
                Err(super::expr::CompileError::Syntax(errors)) => {
                    // The first error only, as for rule expressions.
                    for error in errors.errors.into_iter().take(1) {
                        let (line, col) = error.pos;
                        let expr_start = consumed + open + 2;
                        let offset_in_expr = expr
                            .split_inclusive('\n')
                            .take(usize::try_from(line - 1).unwrap_or(0))
                            .map(str::len)
                            .sum::<usize>()
                            + usize::try_from(col - 1).unwrap_or(0);
                        let at = super::cel_position(
                            source,
                            template.span(),
                            position_in(text, expr_start + offset_in_expr),
                        );
                        problems.push(Problem::at(
                            Span::new(file, at, at + 1),
                            format!("CEL syntax error in message template: {}", error.msg.trim()),
                        ));
                    }
                }
            }
            consumed += open + 2 + close + 2;
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        if problems.is_empty() { Ok(Self { parts }) } else { Err(problems) }
    }

    /// A template without holes: `text` as it is.
    pub fn text(text: &str) -> Self {
        Self { parts: vec![Part::Text(text.to_owned())] }
    }

    /// The compiled holes.
    pub fn programs(&self) -> impl Iterator<Item = &Program> {
        self.holes().map(|(program, _)| program)
    }

    /// The compiled holes, each with the byte offset of its expression in the template.
    pub(super) fn holes(&self) -> impl Iterator<Item = (&Program, usize)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(program, offset) => Some((&**program, *offset)),
            Part::Text(_) => None,
        })
    }

    /// Renders the template, each hole through `eval`.
    pub fn render(&self, mut eval: impl FnMut(&Program) -> String) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Expr(p, _) => out.push_str(&eval(p)),
            }
        }
        out
    }
}

/// The 1-based (line, character column) of byte `offset` in `text`.
pub(super) fn position_in(text: &str, offset: usize) -> (isize, isize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (isize::try_from(line).unwrap_or(1), isize::try_from(column).unwrap_or(1))
}

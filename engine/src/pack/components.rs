//! `[[component]]`: checking the components a pack declares, each mistake located in the
//! pack file.

use super::schema::ComponentToml;
use crate::components::DeclaredComponent;
use crate::diagnostic::Problem;
use crate::source::{FileId, Span};
use std::sync::Arc;

/// Checks the `[[component]]`s of one pack file and appends them to `declared`. They belong
/// beside `[pack]` (`declares_pack`): a pack's components are one list, found in one place.
pub(super) fn declare(
    components: Vec<ComponentToml>,
    file: FileId,
    declares_pack: bool,
    declared: &mut Vec<DeclaredComponent>,
    problems: &mut Vec<Problem>,
) {
    let span = |range: std::ops::Range<usize>| Span::new(file, range.start, range.end);
    for component in components {
        let role_at = span(component.role.span());
        let role = component.role.get_ref();
        if !declares_pack {
            problems.push(Problem::at(role_at, "`[[component]]` belongs in the pack's file with `[pack]` (pack.toml)"));
            continue;
        }
        let valid = !role.is_empty() && role.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            problems
                .push(Problem::at(role_at, format!("invalid component role `{role}` (letters, digits, `-` and `_`)")));
            continue;
        }
        if declared.iter().any(|d| &*d.role == role) {
            problems.push(Problem::at(role_at, format!("component role `{role}` is declared twice")));
            continue;
        }
        if component.images.is_empty() && component.names.is_empty() {
            problems.push(Problem::at(
                role_at,
                format!("component `{role}` needs `images` or `names`: nothing would be recognised as it"),
            ));
            continue;
        }
        let mut images = Vec::new();
        for image in &component.images {
            let text = image.get_ref();
            let (repository, tag, digest) = crate::eval::functions::image_parts(text);
            if text.trim().is_empty() || tag.is_some() || digest.is_some() || repository != text.trim() {
                problems.push(Problem::at(
                    span(image.span()),
                    format!("`{text}` is not an image repository (write it without tag or digest: `owner/name`)"),
                ));
                continue;
            }
            if let Some(other) = declared.iter().find(|d| d.images.iter().any(|i| i == text.trim())) {
                problems.push(Problem::at(
                    span(image.span()),
                    format!("image `{text}` is already component `{}`'s", other.role),
                ));
                continue;
            }
            images.push(text.trim().to_owned());
        }
        let mut variables = Vec::new();
        for variable in &component.variables {
            let name = variable.get_ref();
            if let Some(other) = declared.iter().find(|d| d.variables.contains(name)) {
                problems.push(Problem::at(
                    span(variable.span()),
                    format!(
                        "variable `{name}` is also component `{}`'s: list only the variables this component alone reads",
                        other.role
                    ),
                ));
                continue;
            }
            variables.push(name.clone());
        }
        declared.push(DeclaredComponent { role: Arc::from(role.as_str()), images, names: component.names, variables });
    }
}

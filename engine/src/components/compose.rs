//! Components in docker-compose files: services, their `environment` (list or map) and
//! `env_file`s (resolved relative to the compose file), merged across a directory's
//! `docker-compose.yml` and `docker-compose.override.yml` by compose's rules (later files win
//! per variable; `image` is replaced).

use super::builder::{ComponentBuilder, From};
use super::{ComponentCatalog, add_env_entries, first_assignment};
use crate::document::Document;
use crate::kind::InputKind;
use crate::source::{SourceMap, Span};
use crate::tree::{Node, Tag, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

/// One `env_file` of a compose service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvFileRef {
    /// The name reports show for the env file: the compose file's directory joined with the
    /// path as written, normalised.
    pub name: String,
    /// The path as written in the compose file.
    pub written: String,
    /// Where it would be on disk, when the compose file was read from disk.
    pub path: Option<PathBuf>,
    /// The `env_file` value in the compose file.
    pub span: Span,
}

/// The `env_file`s a compose document references.
pub fn referenced_env_files(doc: &Document, sources: &SourceMap) -> Vec<EnvFileRef> {
    if doc.kind != InputKind::Compose {
        return Vec::new();
    }
    let file = sources.get(doc.file);
    let mut out = Vec::new();
    for (_, service) in services(&doc.root) {
        for (relative, span) in env_file_refs(service) {
            out.push(EnvFileRef {
                name: join_name(&file.name, &relative),
                path: file.path.as_ref().and_then(|p| p.parent()).map(|dir| dir.join(&relative)),
                written: relative,
                span,
            });
        }
    }
    out
}

/// Names of every env file some compose document of the run references.
pub(crate) fn referenced_names(documents: &[Document], sources: &SourceMap) -> HashSet<String> {
    documents.iter().flat_map(|d| referenced_env_files(d, sources)).map(|r| r.name).collect()
}

fn services(root: &Node) -> impl Iterator<Item = (&str, &Node)> {
    root.get("services").and_then(Node::as_map).unwrap_or_default().iter().map(|e| (&*e.key, &e.value))
}

/// `env_file: a.env`, `[a.env, b.env]` or `[{path: a.env, required: false}]`.
fn env_file_refs(service: &Node) -> Vec<(String, Span)> {
    let Some(env_file) = service.get("env_file") else { return Vec::new() };
    let one = |n: &Node| n.as_str().or_else(|| n.get("path").and_then(Node::as_str)).map(|s| (s.to_owned(), n.span));
    match &env_file.value {
        Value::List(items) => items.iter().filter_map(one).collect(),
        _ => one(env_file).into_iter().collect(),
    }
}

/// `dir/of/compose.yml` + `../x.env` → `dir/of/../x.env` lexically normalised → `dir/x.env`.
pub(crate) fn join_name(compose_name: &str, relative: &str) -> String {
    let dir = compose_name.rsplit_once('/').map_or("", |(d, _)| d);
    let joined =
        if relative.starts_with('/') || dir.is_empty() { relative.to_owned() } else { format!("{dir}/{relative}") };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "." | "" if !parts.is_empty() || !joined.starts_with('/') => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// Components of every compose document, keyed by document index.
pub(crate) fn components(
    documents: &[Document],
    sources: &SourceMap,
    catalog: &ComponentCatalog,
) -> Vec<(usize, Vec<Node>)> {
    let env_docs: BTreeMap<String, &Document> =
        documents.iter().filter(|d| d.kind == InputKind::Env).map(|d| (sources.get(d.file).name.clone(), d)).collect();
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, doc) in documents.iter().enumerate().filter(|(_, d)| d.kind == InputKind::Compose) {
        let name = sources.get(doc.file).name.clone();
        let dir = name.rsplit_once('/').map_or(String::new(), |(d, _)| d.to_owned());
        groups.entry(dir).or_default().push(i);
    }
    let mut out = Vec::new();
    for (_, mut members) in groups {
        // Base files first, then overrides: later files win.
        members.sort_by_key(|&i| {
            (sources.get(documents[i].file).name.contains(".override."), sources.get(documents[i].file).name.clone())
        });
        // Service name → (the document that first defines it, every definition in merge order).
        type Definitions<'d> = (usize, Vec<(&'d Document, &'d Node)>);
        let mut by_service: BTreeMap<String, Definitions> = BTreeMap::new();
        for &i in &members {
            for (name, service) in services(&documents[i].root) {
                by_service.entry(name.to_owned()).or_insert_with(|| (i, Vec::new())).1.push((&documents[i], service));
            }
        }
        let mut per_doc: BTreeMap<usize, Vec<Node>> = members.iter().map(|&i| (i, Vec::new())).collect();
        for (name, (owner, definitions)) in by_service {
            let image = definitions.iter().rev().find_map(|(_, s)| s.get("image").and_then(Node::as_str));
            let Some(role) = catalog.role_of(image, Some(&name)) else { continue };
            let mut merged: Option<ComponentBuilder> = None;
            for (doc, service) in definitions {
                let builder = service_builder(role.clone(), &name, doc, service, sources, &env_docs);
                match &mut merged {
                    Some(m) => m.merge(builder),
                    None => merged = Some(builder),
                }
            }
            if let Some(builder) = merged {
                per_doc.entry(owner).or_default().push(builder.build());
            }
        }
        out.extend(per_doc);
    }
    out
}

fn service_builder(
    role: std::sync::Arc<str>,
    name: &str,
    doc: &Document,
    service: &Node,
    sources: &SourceMap,
    env_docs: &BTreeMap<String, &Document>,
) -> ComponentBuilder {
    let at = service.key_span.unwrap_or(service.span);
    let mut builder = ComponentBuilder::new(role, at, Some(at))
        .text("source", "compose")
        .field("name", Node::string(name, at))
        .field("spec", service.clone());
    if let Some(image) = service.get("image") {
        builder = builder.field("image", image.clone());
    }
    let compose_name = sources.get(doc.file).name.clone();
    for (relative, span) in env_file_refs(service) {
        match env_docs.get(&join_name(&compose_name, &relative)) {
            Some(env_doc) => {
                // A variable missing beside one set in the env file is reported in that file.
                builder.block_at(Some((first_assignment(&env_doc.root), None)));
                add_env_entries(&mut builder, &env_doc.root);
                builder.block_at(None);
            }
            None => builder.env_from("envFile", Node::string(relative.as_str(), span), span),
        }
    }
    if let Some(environment) = service.get("environment") {
        builder.env_at(environment.span, environment.key_span);
        add_environment(&mut builder, environment, &sources.get(doc.file).text);
    }
    builder
}

/// `environment:` as a map (`KEY: value`, `KEY:` passes the host's value through) or a list
/// (`- KEY=value`, `- KEY`).
fn add_environment(builder: &mut ComponentBuilder, environment: &Node, text: &str) {
    match &environment.value {
        Value::Map(entries) => {
            for e in entries.iter() {
                let value = &e.value;
                let key_span = value.key_span.unwrap_or(value.span);
                let (value, from) = match &value.value {
                    Value::Null => (None, From::Passthrough),
                    _ if value.tag == Tag::Interpolation => (Some(value.clone()), From::Interpolation),
                    _ => (Some(value.clone()), From::Literal),
                };
                let item = Span {
                    file: key_span.file,
                    start: key_span.start,
                    end: value.as_ref().map_or(key_span.end, |v| v.span.end.max(key_span.end)),
                };
                builder.var(&e.key, key_span, item, value, from);
            }
        }
        Value::List(items) => {
            for item in items.iter() {
                let Some(assignment) = item.as_str() else { continue };
                let raw = text.get(item.span.range()).unwrap_or_default();
                let quote = usize::from(raw.starts_with(['"', '\'']));
                let content_start = item.span.start as usize + quote;
                let content_end = item.span.end as usize - usize::from(quote == 1 && raw.len() > 1);
                match assignment.split_once('=') {
                    Some((key, value)) => {
                        let key_span = Span::new(item.span.file, content_start, content_start + key.len());
                        let value_start = (content_start + key.len() + 1).min(content_end);
                        let mut node = Node::string(value, Span::new(item.span.file, value_start, content_end));
                        let from = if value.contains("${") || value.starts_with('$') {
                            node.tag = Tag::Interpolation;
                            From::Interpolation
                        } else {
                            From::Literal
                        };
                        builder.var(key.trim(), key_span, item.span, Some(node), from);
                    }
                    None => builder.var(assignment.trim(), item.span, item.span, None, From::Passthrough),
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::join_name;

    #[test]
    fn env_file_names_resolve_relative_to_the_compose_file() {
        assert_eq!(join_name("deploy/docker-compose.yml", "api.env"), "deploy/api.env");
        assert_eq!(join_name("deploy/docker-compose.yml", "./env/api.env"), "deploy/env/api.env");
        assert_eq!(join_name("deploy/compose/docker-compose.yml", "../api.env"), "deploy/api.env");
        assert_eq!(join_name("docker-compose.yml", "api.env"), "api.env");
        assert_eq!(join_name("docker-compose.yml", "../api.env"), "../api.env");
    }
}

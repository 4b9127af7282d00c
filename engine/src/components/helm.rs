//! Components in Helm values: any mapping whose `image` (a string or `{repository, tag}`)
//! names a declared component — or, without an image, whose key is one of its `names`
//! (`api:`, `grafana:`) and whose environment sets its variables. In-house charts shape the
//! environment in many ways, and the common ones are all understood:
//!
//! - `env` / `extraEnv` / `environment` / `envVars` as a Kubernetes list (`[{name, value}]`)
//!   or as a map (`NAME: value`, `NAME: {value: …}`, `NAME: {valueFrom: {secretKeyRef: …}}`);
//! - `envFromSecrets` / `secretEnv` / `secretEnvVars` / `secrets` as `NAME: {secret|name, key}`;
//! - `envFrom` as a Kubernetes list.

use super::ComponentCatalog;
use super::builder::{ComponentBuilder, From};
use super::kubernetes::{add_env_list, value_and_source};
use crate::tree::{Node, Tag, Value};

const ENV_KEYS: &[&str] = &["env", "extraEnv", "environment", "envVars", "extraEnvVars"];
const SECRET_ENV_KEYS: &[&str] = &["envFromSecrets", "secretEnv", "secretEnvVars", "secrets", "envSecrets"];

/// The components configured anywhere in a values tree.
pub(crate) fn components(root: &Node, catalog: &ComponentCatalog) -> Vec<Node> {
    let mut out = Vec::new();
    walk(root, None, catalog, &mut out);
    out
}

/// Recurses once per level: at most [`crate::limits::MAX_DEPTH`].
fn walk(node: &Node, key: Option<&str>, catalog: &ComponentCatalog, out: &mut Vec<Node>) {
    match &node.value {
        Value::Map(entries) => {
            if let Some(component) = component(node, key, catalog) {
                out.push(component);
                return;
            }
            for e in entries.iter() {
                walk(&e.value, Some(&e.key), catalog, out);
            }
        }
        Value::List(items) => {
            for item in items.iter() {
                let name = item.get("name").and_then(Node::as_str);
                walk(item, name, catalog, out);
            }
        }
        _ => {}
    }
}

/// Whether a values tree configures the image of a declared component (`image: pulumi/service:…`,
/// or `image: {repository: pulumi/console}`) in a mapping at most `MAX_DEPTH` levels deep: YAML
/// of no other kind that does is Helm values, whatever its file is called.
pub(crate) fn configures_declared_image(root: &Node, catalog: &ComponentCatalog) -> bool {
    const MAX_DEPTH: usize = 8;
    fn walk(node: &Node, depth: usize, catalog: &ComponentCatalog) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        if let Some((text, _)) = image_text(node)
            && catalog.declares_image(&text)
        {
            return true;
        }
        match &node.value {
            Value::Map(entries) => entries.iter().any(|e| walk(&e.value, depth + 1, catalog)),
            Value::List(items) => items.iter().any(|item| walk(item, depth + 1, catalog)),
            _ => false,
        }
    }
    !catalog.is_empty() && walk(root, 0, catalog)
}

/// `image: repo:tag`, or `image: {registry?, repository, tag?, digest?}`.
fn image_text(node: &Node) -> Option<(String, &Node)> {
    let image = node.get("image")?;
    if let Some(s) = image.as_str() {
        return Some((s.to_owned(), image));
    }
    let repository = image.get("repository").and_then(Node::as_str)?;
    let mut text = match image.get("registry").and_then(Node::as_str) {
        Some(registry) if !registry.is_empty() => format!("{registry}/{repository}"),
        _ => repository.to_owned(),
    };
    if let Some(tag) = image.get("tag").and_then(Node::scalar_text) {
        text = format!("{text}:{tag}");
    }
    if let Some(digest) = image.get("digest").and_then(Node::as_str) {
        text = format!("{text}@{digest}");
    }
    Some((text, image))
}

fn component(node: &Node, key: Option<&str>, catalog: &ComponentCatalog) -> Option<Node> {
    let has_env = ENV_KEYS.iter().chain(SECRET_ENV_KEYS).any(|k| node.get(k).is_some());
    let image = image_text(node);
    let role = match &image {
        Some((text, _)) => catalog.role_of(Some(text), key)?.clone(),
        None if has_env => {
            // Without an image, a key like `api:` names a declared component only if its
            // environment says so: plenty of charts have an `api:` of their own.
            let role = catalog.role_of(None, key)?.clone();
            let names: Vec<&str> = ENV_KEYS
                .iter()
                .chain(SECRET_ENV_KEYS)
                .filter_map(|k| node.get(k))
                .flat_map(|env| match &env.value {
                    Value::Map(entries) => entries.iter().map(|e| &*e.key).collect::<Vec<_>>(),
                    Value::List(items) => items.iter().filter_map(|i| i.get("name").and_then(Node::as_str)).collect(),
                    _ => Vec::new(),
                })
                .collect();
            if catalog.role_of_variables(&names) != Some(&role) {
                return None;
            }
            role
        }
        None => return None,
    };
    let at = node.key_span.unwrap_or(node.span);
    let mut builder =
        ComponentBuilder::new(role, at, Some(at)).text("source", "helm-values").field("spec", node.clone());
    // Named by its key (`api:`); a chart whose root values configure one service is named by
    // its image (`service` of `pulumi/service`), so messages never show an empty name.
    let name = key.map(str::to_owned).or_else(|| {
        image.as_ref().map(|(text, _)| {
            let (repository, _, _) = crate::eval::functions::image_parts(text);
            repository.rsplit('/').next().unwrap_or(repository).to_owned()
        })
    });
    if let Some(name) = name {
        builder = builder.field("name", Node::string(name.as_str(), at));
    }
    if let Some((text, image_node)) = &image {
        let mut image = Node::string(text.as_str(), image_node.span);
        image.key_span = image_node.key_span;
        builder = builder.field("image", image);
    }
    for key in ENV_KEYS {
        let Some(env) = node.get(key) else { continue };
        if !builder.has_env_at() {
            builder.env_at(env.span, env.key_span);
        }
        builder.block_at(Some((env.span, env.key_span)));
        match &env.value {
            Value::List(_) => add_env_list(&mut builder, env),
            Value::Map(entries) => {
                for e in entries.iter() {
                    let value = &e.value;
                    let name_span = value.key_span.unwrap_or(value.span);
                    let (literal, from) = match &value.value {
                        Value::Map(_) => value_and_source(value, name_span),
                        _ if value.tag == Tag::Interpolation => (Some(value.clone()), From::Interpolation),
                        _ => (Some(value.clone()), From::Literal),
                    };
                    builder.var(&e.key, name_span, name_span, literal, from);
                }
            }
            _ => {}
        }
    }
    builder.block_at(None);
    for key in SECRET_ENV_KEYS {
        for e in node.get(key).and_then(Node::as_map).unwrap_or_default() {
            let name_span = e.value.key_span.unwrap_or(e.value.span);
            builder.var(&e.key, name_span, name_span, None, From::SecretKeyRef);
        }
    }
    for source in node.get("envFrom").and_then(Node::as_list).unwrap_or_default() {
        let name = source.path(&["secretRef", "name"]).or_else(|| source.path(&["configMapRef", "name"]));
        builder.env_from("envFrom", name.cloned().unwrap_or_else(|| Node::string("", source.span)), source.span);
    }
    Some(builder.build())
}

//! Components in Pulumi state (`pulumi stack export`) and Terraform state and plans.
//!
//! - Pulumi: Kubernetes workloads in resource outputs (or inputs), Docker containers'
//!   `envs` (`KEY=value` strings), and ECS task definitions.
//! - Terraform state and plans: ECS task definitions (`aws_ecs_task_definition`); in a plan,
//!   `resource_changes[].change.after` of every non-delete change.
//!
//! An ECS task definition keeps `containerDefinitions` as a JSON string; it is parsed and
//! located inside the string (see [`crate::load::load_embedded_json`]). When the string is
//! wrapped in an encrypted Pulumi secret, its variables cannot be read: the component is
//! marked `opaqueEnv`.

use super::builder::{ComponentBuilder, From};
use super::{ComponentCatalog, kubernetes};
use crate::load::load_embedded_json;
use crate::source::Span;
use crate::tree::{Node, Tag, Value};

/// The attributes of a Pulumi resource: outputs first, inputs when there are no outputs.
pub(crate) fn pulumi_attributes(resource: &Node) -> Option<&Node> {
    let non_empty = |n: &&Node| n.as_map().is_some_and(|m| !m.is_empty());
    resource.get("outputs").filter(non_empty).or_else(|| resource.get("inputs").filter(non_empty))
}

/// The secret envelope signature.
const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";

fn envelope(node: &Node) -> Option<&Node> {
    (node.get(SIG_KEY).and_then(Node::as_str) == Some(SECRET_SIG)).then_some(node)
}

pub(crate) fn pulumi_components(root: &Node, text: &str, catalog: &ComponentCatalog) -> Vec<Node> {
    let mut out = Vec::new();
    for resource in root.path(&["deployment", "resources"]).and_then(Node::as_list).unwrap_or_default() {
        let Some(kind) = resource.get("type").and_then(Node::as_str) else { continue };
        let Some(attrs) = pulumi_attributes(resource) else { continue };
        let name = resource.get("urn").and_then(Node::as_str).and_then(|u| u.rsplit("::").next()).unwrap_or_default();
        if kind.starts_with("kubernetes:") {
            out.extend(kubernetes::components(attrs, catalog));
        } else if kind == "docker:index/container:Container" {
            out.extend(docker_container(attrs, name, catalog));
        } else if kind == "aws:ecs/taskDefinition:TaskDefinition" {
            out.extend(ecs_task(attrs.get("containerDefinitions"), text, &format!("{kind}::{name}"), catalog));
        }
    }
    out
}

pub(crate) fn terraform_state_components(root: &Node, text: &str, catalog: &ComponentCatalog) -> Vec<Node> {
    let mut out = Vec::new();
    for resource in root.get("resources").and_then(Node::as_list).unwrap_or_default() {
        if resource.get("type").and_then(Node::as_str) != Some("aws_ecs_task_definition") {
            continue;
        }
        let name = resource.get("name").and_then(Node::as_str).unwrap_or_default();
        for instance in resource.get("instances").and_then(Node::as_list).unwrap_or_default() {
            let defs = instance.path(&["attributes", "container_definitions"]);
            out.extend(ecs_task(defs, text, &format!("aws_ecs_task_definition.{name}"), catalog));
        }
    }
    out
}

pub(crate) fn terraform_plan_components(root: &Node, text: &str, catalog: &ComponentCatalog) -> Vec<Node> {
    let mut out = Vec::new();
    for change in root.get("resource_changes").and_then(Node::as_list).unwrap_or_default() {
        if change.get("type").and_then(Node::as_str) != Some("aws_ecs_task_definition") || is_delete(change) {
            continue;
        }
        let address = change.get("address").and_then(Node::as_str).unwrap_or_default();
        out.extend(ecs_task(change.path(&["change", "after", "container_definitions"]), text, address, catalog));
    }
    out
}

/// Whether a plan change only deletes the resource.
pub(crate) fn is_delete(change: &Node) -> bool {
    let actions: Vec<&str> = change
        .path(&["change", "actions"])
        .and_then(Node::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .collect();
    actions == ["delete"] || actions.is_empty()
}

fn docker_container(attrs: &Node, resource_name: &str, catalog: &ComponentCatalog) -> Option<Node> {
    let image = attrs.get("image").and_then(Node::as_str);
    let name = attrs.get("name").and_then(Node::as_str).unwrap_or(resource_name);
    let role = catalog.role_of(image, Some(name))?.clone();
    // The container is named by its `name` output, where there is one.
    let at = attrs.get("name").and_then(|n| n.key_span).or(attrs.key_span).unwrap_or(attrs.span);
    let mut builder = ComponentBuilder::new(role, at, Some(at))
        .text("source", "pulumi-state")
        .text("name", name)
        .field("spec", attrs.clone());
    if let Some(i) = attrs.get("image") {
        builder = builder.field("image", i.clone());
    }
    if let Some(envs) = attrs.get("envs") {
        builder.env_at(envs.span, envs.key_span);
        if envelope(envs).is_some() {
            builder.env_from("encrypted", Node::string("envs", envs.span), envs.span);
        }
        for item in envs.as_list().unwrap_or_default() {
            let Some(assignment) = item.as_str() else { continue };
            let Some((key, value)) = assignment.split_once('=') else { continue };
            // JSON strings carry a quote before the content.
            let start = item.span.start as usize + 1;
            let key_span = Span::new(item.span.file, start, start + key.len());
            let mut node =
                Node::string(value, Span::new(item.span.file, start + key.len() + 1, item.span.end as usize - 1));
            let from = if value.contains("${") {
                node.tag = Tag::Interpolation;
                From::Interpolation
            } else {
                From::Literal
            };
            builder.var(key, key_span, item.span, Some(node), from);
        }
    }
    Some(builder.build())
}

/// The components of an ECS task definition's `containerDefinitions` (a JSON string, a parsed
/// list, or a secret envelope).
fn ecs_task(definitions: Option<&Node>, text: &str, workload: &str, catalog: &ComponentCatalog) -> Vec<Node> {
    let Some(definitions) = definitions else { return Vec::new() };
    let parsed;
    let list = match &definitions.value {
        Value::List(_) => definitions,
        Value::String(_) => {
            let Some(node) = load_embedded_json(definitions.span.file, text, definitions.span) else {
                return Vec::new();
            };
            parsed = node;
            &parsed
        }
        Value::Map(_) => {
            // An encrypted secret: the containers can't be read, so nothing can be said.
            let Some(env) = envelope(definitions) else { return Vec::new() };
            if let Some(plain) = env.get("plaintext") {
                return ecs_task(Some(plain), text, workload, catalog);
            }
            return Vec::new();
        }
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for container in list.as_list().unwrap_or_default() {
        let image = container.get("image").and_then(Node::as_str);
        let name = container.get("name").and_then(Node::as_str);
        let Some(role) = catalog.role_of(image, name).cloned() else { continue };
        let at = container.key_span.unwrap_or(container.span);
        let mut builder = ComponentBuilder::new(role, at, Some(at))
            .text("source", "ecs")
            .text("workload", workload)
            .field("spec", container.clone());
        if let Some(n) = container.get("name") {
            builder = builder.field("name", n.clone());
        }
        if let Some(i) = container.get("image") {
            builder = builder.field("image", i.clone());
        }
        if let Some(environment) = container.get("environment") {
            builder.env_at(environment.span, environment.key_span);
            for item in environment.as_list().unwrap_or_default() {
                let Some(name_node) = item.get("name") else { continue };
                let Some(name) = name_node.as_str() else { continue };
                let value = item.get("value").cloned();
                builder.var(name, name_node.span, item.key_span.unwrap_or(item.span), value, From::Literal);
            }
        }
        if let Some(secrets) = container.get("secrets") {
            if !builder.has_env_at() {
                builder.env_at(secrets.span, secrets.key_span);
            }
            for item in secrets.as_list().unwrap_or_default() {
                let Some(name_node) = item.get("name") else { continue };
                let Some(name) = name_node.as_str() else { continue };
                builder.var(name, name_node.span, item.key_span.unwrap_or(item.span), None, From::EcsSecret);
            }
        }
        for file in container.get("environmentFiles").and_then(Node::as_list).unwrap_or_default() {
            builder.env_from(
                "environmentFile",
                file.get("value").cloned().unwrap_or_else(|| Node::string("", file.span)),
                file.span,
            );
        }
        out.push(builder.build());
    }
    out
}

//! Components in Kubernetes workloads: containers and initContainers of Pods, Deployments,
//! StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs, with `env` and `envFrom`.

use super::ComponentCatalog;
use super::builder::{ComponentBuilder, From};
use crate::source::Span;
use crate::tree::Node;

/// The pod spec of a workload object, if it is one.
pub(crate) fn pod_spec(root: &Node) -> Option<&Node> {
    match root.get("kind")?.as_str()? {
        "Pod" => root.get("spec"),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" | "Job" => {
            root.path(&["spec", "template", "spec"])
        }
        "CronJob" => root.path(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

/// The components of one Kubernetes object (or `List` of objects).
pub(crate) fn components(root: &Node, catalog: &ComponentCatalog) -> Vec<Node> {
    if root.get("kind").and_then(Node::as_str) == Some("List") {
        return root
            .get("items")
            .and_then(Node::as_list)
            .unwrap_or_default()
            .iter()
            .flat_map(|item| components(item, catalog))
            .collect();
    }
    let Some(spec) = pod_spec(root) else { return Vec::new() };
    let workload = format!(
        "{}/{}",
        root.get("kind").and_then(Node::as_str).unwrap_or_default(),
        root.path(&["metadata", "name"]).and_then(Node::as_str).unwrap_or_default()
    );
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        for container in spec.get(list).and_then(Node::as_list).unwrap_or_default() {
            let image = container.get("image").and_then(Node::as_str);
            let name = container.get("name").and_then(Node::as_str);
            if let Some(role) = catalog.role_of(image, name) {
                let mut builder = ComponentBuilder::new(role.clone(), container.span, container.key_span)
                    .text("source", "kubernetes")
                    .text("workload", &workload)
                    .field("spec", container.clone());
                if let Some(n) = container.get("name") {
                    builder = builder.field("name", n.clone());
                }
                if let Some(i) = container.get("image") {
                    builder = builder.field("image", i.clone());
                }
                add_container_env(&mut builder, container);
                out.push(builder.build());
            }
        }
    }
    out
}

/// Adds a container's `env` (list of `{name, value | valueFrom}`) and `envFrom`.
pub(crate) fn add_container_env(builder: &mut ComponentBuilder, container: &Node) {
    if let Some(env) = container.get("env") {
        builder.env_at(env.span, env.key_span);
        add_env_list(builder, env);
    }
    for source in container.get("envFrom").and_then(Node::as_list).unwrap_or_default() {
        let (kind, reference) = if let Some(r) = source.get("secretRef") {
            ("secret", r)
        } else if let Some(r) = source.get("configMapRef") {
            ("configMap", r)
        } else {
            continue;
        };
        let name = reference.get("name").cloned().unwrap_or_else(|| Node::string("", reference.span));
        builder.env_from(kind, name, source.key_span.unwrap_or(source.span));
    }
}

/// Adds a Kubernetes-style env list: `[{name, value}]`, `[{name, valueFrom: {secretKeyRef}}]`.
pub(crate) fn add_env_list(builder: &mut ComponentBuilder, env: &Node) {
    for item in env.as_list().unwrap_or_default() {
        let Some(name_node) = item.get("name") else { continue };
        let Some(name) = name_node.as_str() else { continue };
        let (value, from) = value_and_source(item, name_node.span);
        builder.var(name, name_node.span, item.key_span.unwrap_or(item.span), value, from);
    }
}

/// The literal value or reference of an env item (`{value}` or `{valueFrom: {…}}`).
pub(crate) fn value_and_source(item: &Node, fallback: Span) -> (Option<Node>, From) {
    if let Some(value) = item.get("value") {
        return (
            Some(value.clone()),
            if value.tag == crate::tree::Tag::Interpolation { From::Interpolation } else { From::Literal },
        );
    }
    let reference = item.get("valueFrom").unwrap_or(item);
    for (key, from) in [
        ("secretKeyRef", From::SecretKeyRef),
        ("configMapKeyRef", From::ConfigMapKeyRef),
        ("fieldRef", From::ValueFrom),
        ("resourceFieldRef", From::ValueFrom),
    ] {
        if reference.get(key).is_some() {
            return (None, from);
        }
    }
    if item.get("valueFrom").is_some() {
        return (None, From::ValueFrom);
    }
    (Some(Node::string("", fallback)), From::Literal)
}

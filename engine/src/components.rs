//! Components: the Pulumi Cloud services (API, Console, migrations), wherever and however they
//! are configured.
//!
//! A rule about "the API container's environment" is written once against components, not
//! once per input format. Each component is a located tree built from the nodes of the
//! documents it came from, so a finding on a component still points into the real file:
//!
//! ```text
//! { role: "api", name: "pulumi-api", image: "pulumi/service:…", source: "kubernetes",
//!   workload: "Deployment/pulumi-api", spec: <the container>,
//!   env: { DATABASE_CA_CERTIFICATE: { name, value?, from, secret, set }, … },
//!   envFrom: [ { kind: "secret", name: "pulumi-env" } ], opaqueEnv: true }
//! ```
//!
//! `env.X.from` is `literal`, `secretKeyRef`, `configMapKeyRef`, `fieldRef`,
//! `resourceFieldRef` or `interpolation`; `secret` tells whether the value comes from a
//! secret store; `set` whether it is a non-empty literal or any reference. `opaqueEnv` is true
//! when `envFrom` may define variables celador cannot see.

use crate::document::Document;
use crate::eval::functions::image_parts;
use crate::kind::InputKind;
use crate::source::Span;
use crate::tree::{Entry, Node, Tag, Value, entry};
use std::sync::Arc;

/// The role of a Pulumi Cloud service container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `pulumi/service`.
    Api,
    /// `pulumi/console`.
    Console,
    /// `pulumi/migrations`.
    Migrations,
}

impl Role {
    /// The name rules compare against.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Console => "console",
            Self::Migrations => "migrations",
        }
    }
}

/// Recognises a component from its image and, failing that, its container or service name.
pub fn role_of(image: Option<&str>, name: Option<&str>) -> Option<Role> {
    if let Some(image) = image {
        let (repository, _, _) = image_parts(image.trim());
        let mut segments = repository.rsplit('/');
        let last = segments.next().unwrap_or_default();
        let owner = segments.next().unwrap_or_default();
        if owner == "pulumi" {
            match last {
                "service" => return Some(Role::Api),
                "console" => return Some(Role::Console),
                "migrations" => return Some(Role::Migrations),
                _ => {}
            }
        }
        if !repository.contains("pulumi") {
            return None;
        }
    }
    match name? {
        "pulumi-api" | "api" | "pulumi-service" => Some(Role::Api),
        "pulumi-console" | "console" => Some(Role::Console),
        "pulumi-migration" | "pulumi-migrations" | "migration" | "migrations" => Some(Role::Migrations),
        _ => None,
    }
}

/// Variables only one component reads, used to attribute an env file nobody references.
const API_ONLY: &[&str] = &[
    "PULUMI_LICENSE_KEY",
    "PULUMI_DATABASE_ENDPOINT",
    "PULUMI_DATABASE_NAME",
    "DATABASE_CA_CERTIFICATE",
    "DATABASE_MIN_TLS_VERSION",
    "API_TLS_CERTIFICATE",
    "API_TLS_PRIVATE_KEY",
    "API_MIN_TLS_VERSION",
    "SMTP_SERVER",
    "SMTP_PASSWORD",
    "RECAPTCHA_SECRET_KEY",
    "PULUMI_LOCAL_KEYS",
    "PULUMI_KMS_KEY",
    "SAML_CERTIFICATE_PRIVATE_KEY",
    "PULUMI_CHECKPOINT_BLOB_STORAGE_ENDPOINT",
];
const CONSOLE_ONLY: &[&str] = &[
    "PULUMI_API",
    "PULUMI_API_INTERNAL_ENDPOINT",
    "CONSOLE_TLS_CERTIFICATE",
    "CONSOLE_TLS_PRIVATE_KEY",
    "CONSOLE_MIN_TLS_VERSION",
    "RECAPTCHA_SITE_KEY",
    "SAML_SSO_ENABLED",
    "ALLOW_INVALID_CERTS",
    "NODE_EXTRA_CA_CERTS",
    "PULUMI_HIDE_EMAIL_LOGIN",
    "PULUMI_HIDE_EMAIL_SIGNUP",
];

/// Attributes a standalone env file to a component by the variables it sets.
fn role_of_env_keys(keys: &[&str]) -> Option<Role> {
    let api = keys.iter().filter(|k| API_ONLY.contains(k)).count();
    let console = keys.iter().filter(|k| CONSOLE_ONLY.contains(k)).count();
    match api.cmp(&console) {
        std::cmp::Ordering::Greater => Some(Role::Api),
        std::cmp::Ordering::Less => Some(Role::Console),
        std::cmp::Ordering::Equal => None,
    }
}

/// Derives the components configured by one document.
pub fn components_of(doc: &Document) -> Vec<Node> {
    match doc.kind {
        InputKind::Kubernetes => kubernetes_components(&doc.root),
        InputKind::Env => env_file_component(&doc.root).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn string(s: &str, span: Span) -> Node {
    Node::string(s, span)
}

fn field(key: &str, value: Node) -> Entry {
    entry(key, None, value)
}

/// The pod spec of a workload object, if it is one.
fn pod_spec(root: &Node) -> Option<&Node> {
    match root.get("kind")?.as_str()? {
        "Pod" => root.get("spec"),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" | "Job" => {
            root.path(&["spec", "template", "spec"])
        }
        "CronJob" => root.path(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

fn kubernetes_components(root: &Node) -> Vec<Node> {
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
            if let Some(role) = role_of(image, name) {
                out.push(kubernetes_component(role, container, &workload));
            }
        }
    }
    out
}

fn kubernetes_component(role: Role, container: &Node, workload: &str) -> Node {
    let at = container.span;
    let mut vars = Vec::new();
    if let Some(env) = container.get("env").and_then(Node::as_list) {
        for item in env {
            let Some(name_node) = item.get("name") else { continue };
            let Some(name) = name_node.as_str() else { continue };
            let mut fields = vec![field("name", name_node.clone())];
            let (from, secret, set) = if let Some(value) = item.get("value") {
                let text = value.scalar_text().unwrap_or_default();
                let mut value_node = value.clone();
                value_node.value = Value::String(Arc::from(text.as_str()));
                fields.push(field("value", value_node));
                ("literal", false, !text.is_empty())
            } else if let Some(value_from) = item.get("valueFrom").and_then(Node::as_map) {
                let source = value_from.first().map_or("valueFrom", |e| &*e.key);
                match source {
                    "secretKeyRef" => ("secretKeyRef", true, true),
                    "configMapKeyRef" => ("configMapKeyRef", false, true),
                    "fieldRef" => ("fieldRef", false, true),
                    "resourceFieldRef" => ("resourceFieldRef", false, true),
                    _ => ("valueFrom", false, true),
                }
            } else {
                fields.push(field("value", string("", name_node.span)));
                ("literal", false, false)
            };
            fields.push(field("from", string(from, item.span)));
            fields.push(field("secret", Node::new(Value::Bool(secret), item.span)));
            fields.push(field("set", Node::new(Value::Bool(set), item.span)));
            let mut var = Node::new(Value::Map(fields), item.span);
            var.key_span = Some(name_node.span);
            vars.push(Entry { key: Arc::from(name), value: var });
        }
    }
    let env_node = container.get("env");
    let mut env = Node::new(Value::Map(vars), env_node.map_or(at, |e| e.span));
    env.key_span = env_node.map_or(container.key_span, |e| e.key_span);
    let mut env_from = Vec::new();
    for source in container.get("envFrom").and_then(Node::as_list).unwrap_or_default() {
        let (kind, reference) = if let Some(r) = source.get("secretRef") {
            ("secret", r)
        } else if let Some(r) = source.get("configMapRef") {
            ("configMap", r)
        } else {
            continue;
        };
        let name = reference.get("name").cloned().unwrap_or_else(|| string("", reference.span));
        env_from.push(Node::new(
            Value::Map(vec![field("kind", string(kind, source.span)), field("name", name)]),
            source.span,
        ));
    }
    let opaque = !env_from.is_empty();
    let fields = vec![
        field("role", string(role.as_str(), at)),
        field("name", container.get("name").cloned().unwrap_or_else(|| string("", at))),
        field("image", container.get("image").cloned().unwrap_or_else(|| string("", at))),
        field("source", string("kubernetes", at)),
        field("workload", string(workload, at)),
        field("spec", container.clone()),
        field("env", env),
        field("envFrom", Node::new(Value::List(env_from), container.get("envFrom").map_or(at, |n| n.span))),
        field("opaqueEnv", Node::new(Value::Bool(opaque), at)),
    ];
    let mut component = Node::new(Value::Map(fields), at);
    component.key_span = container.key_span;
    component
}

/// An env file on its own is one component, attributed by the variables it sets.
fn env_file_component(root: &Node) -> Option<Node> {
    let entries = root.as_map()?;
    let keys: Vec<&str> = entries.iter().map(|e| &*e.key).collect();
    let role = role_of_env_keys(&keys)?;
    let mut vars = Vec::new();
    for e in entries {
        let value = &e.value;
        let (from, secret) = if value.tag == Tag::Interpolation { ("interpolation", true) } else { ("literal", false) };
        let set = value.as_str().is_some_and(|s| !s.is_empty());
        let key_span = value.key_span.unwrap_or(value.span);
        let name = string(&e.key, key_span);
        let var_span = Span { file: key_span.file, start: key_span.start, end: value.span.end.max(key_span.end) };
        let fields = vec![
            field("name", name),
            field("value", value.clone()),
            field("from", string(from, var_span)),
            field("secret", Node::new(Value::Bool(secret), var_span)),
            field("set", Node::new(Value::Bool(set), var_span)),
        ];
        let mut var = Node::new(Value::Map(fields), var_span);
        var.key_span = Some(key_span);
        vars.retain(|v: &Entry| v.key != e.key);
        vars.push(Entry { key: e.key.clone(), value: var });
    }
    // The nearest existing parent of a variable missing from an env file is the file: point
    // at its first assignment rather than at the whole text.
    let first = entries.first().map_or(root.span, |e| {
        let key = e.value.key_span.unwrap_or(e.value.span);
        Span { file: key.file, start: key.start, end: e.value.span.end.max(key.end) }
    });
    let env = Node::new(Value::Map(vars), first);
    let fields = vec![
        field("role", string(role.as_str(), first)),
        field("name", string("", first)),
        field("image", string("", first)),
        field("source", string("env", first)),
        field("workload", string("", first)),
        field("spec", root.clone()),
        field("env", env),
        field("envFrom", Node::new(Value::List(Vec::new()), first)),
        field("opaqueEnv", Node::new(Value::Bool(false), first)),
    ];
    Some(Node::new(Value::Map(fields), first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_images_then_names() {
        assert_eq!(role_of(Some("pulumi/service:latest"), None), Some(Role::Api));
        assert_eq!(
            role_of(Some("123.dkr.ecr.us-east-1.amazonaws.com/pulumi/console@sha256:ab"), None),
            Some(Role::Console)
        );
        assert_eq!(role_of(Some("docker.io/pulumi/migrations:2026"), Some("x")), Some(Role::Migrations));
        assert_eq!(role_of(Some("nginx:1.27"), Some("api")), None);
        assert_eq!(role_of(None, Some("pulumi-api")), Some(Role::Api));
        assert_eq!(role_of(Some("pulumi/service-extra"), None), None);
    }
}

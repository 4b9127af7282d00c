//! Which objects a binding applies to, as the API server decides it, offline: every checked
//! manifest is a CREATE of its object, the resource is the plural the manifest's kind guesses,
//! and namespaces and params are looked up among the inputs (and the pack's own objects).

use super::schema::{LabelSelector, MatchResources, ResourceRule};
use crate::tree::{Node, Value};

/// The operation a checked manifest stands for.
pub const OPERATION: &str = "CREATE";

/// The namespace of a namespaced object whose manifest names none: where `kubectl apply`
/// puts it without `-n`.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Kinds of the core API groups that are not namespaced.
const CLUSTER_SCOPED: [&str; 22] = [
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "APIService",
    "CertificateSigningRequest",
    "ComponentStatus",
    "PodSecurityPolicy",
    "FlowSchema",
];

/// What the API server knows about the object of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// API group (`""` for the core group).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name, as guessed from the kind.
    pub resource: String,
    /// `metadata.name` (`""` when absent).
    pub name: String,
    /// The namespace, for namespaced objects.
    pub namespace: Option<String>,
}

impl Target {
    /// The request target of a manifest; `None` without `apiVersion` and `kind`.
    pub fn of(object: &Node) -> Option<Target> {
        let api_version = object.get("apiVersion").and_then(Node::as_str)?;
        let kind = object.get("kind").and_then(Node::as_str)?.to_owned();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let namespace = if CLUSTER_SCOPED.contains(&kind.as_str()) {
            None
        } else {
            Some(object.path(&["metadata", "namespace"]).and_then(Node::as_str).unwrap_or(DEFAULT_NAMESPACE).to_owned())
        };
        Some(Target {
            group: group.to_owned(),
            version: version.to_owned(),
            resource: resource_of(&kind),
            kind,
            name: object.path(&["metadata", "name"]).and_then(Node::as_str).unwrap_or_default().to_owned(),
            namespace,
        })
    }
}

/// The plural resource name of a kind, as Kubernetes' `UnsafeGuessKindToResource` guesses it
/// (`Deployment` → `deployments`, `Ingress` → `ingresses`, `NetworkPolicy` →
/// `networkpolicies`), with the core exception `Endpoints`.
pub fn resource_of(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower == "endpoints" {
        return lower;
    }
    if lower.ends_with('s') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

/// Whether `rule` names the target's request.
fn rule_matches(rule: &ResourceRule, target: &Target) -> bool {
    let has = |list: &[String], value: &str| list.iter().any(|v| v == "*" || v == value);
    let resource = rule.resources.iter().any(|r| r == "*" || r == "*/*" || *r == target.resource);
    let scope = match rule.scope.as_deref() {
        Some("Cluster") => target.namespace.is_none(),
        Some("Namespaced") => target.namespace.is_some(),
        _ => true,
    };
    has(&rule.api_groups, &target.group)
        && has(&rule.api_versions, &target.version)
        && resource
        && has(&rule.operations, OPERATION)
        && scope
        && (rule.resource_names.is_empty() || rule.resource_names.contains(&target.name))
}

/// The labels of an object, as text.
pub fn labels(object: &Node) -> Vec<(String, String)> {
    object
        .path(&["metadata", "labels"])
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .map(|e| (e.key.to_string(), e.value.scalar_text().unwrap_or_default()))
        .collect()
}

/// Whether `labels` satisfy `selector` (an empty selector selects everything).
pub fn selects(selector: &LabelSelector, labels: &[(String, String)]) -> bool {
    let value = |key: &str| labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    selector.match_labels.iter().all(|(k, v)| value(k) == Some(v.as_str()))
        && selector.match_expressions.iter().all(|(key, operator, values)| {
            let found = value(key);
            match operator.as_str() {
                "In" => found.is_some_and(|f| values.iter().any(|v| v == f)),
                "NotIn" => found.is_none_or(|f| values.iter().all(|v| v != f)),
                "Exists" => found.is_some(),
                "DoesNotExist" => found.is_none(),
                _ => false,
            }
        })
}

/// The labels of the target's namespace: the Namespace object's among the inputs, else only
/// the `kubernetes.io/metadata.name` label every namespace carries.
pub fn namespace_labels(namespace: &str, found: Option<&Node>) -> Vec<(String, String)> {
    let mut labels = found.map(labels).unwrap_or_default();
    if !labels.iter().any(|(k, _)| k == "kubernetes.io/metadata.name") {
        labels.push(("kubernetes.io/metadata.name".to_owned(), namespace.to_owned()));
    }
    labels
}

/// Whether `constraints` select the object: one of its resource rules names the request (no
/// resource rules constrain nothing: a binding's `matchResources` may leave them out), none of
/// its exclusions does, and its namespace and object selectors select.
pub fn matches(constraints: &MatchResources, target: &Target, object: &Node, namespace_object: Option<&Node>) -> bool {
    if !constraints.resource_rules.is_empty() && !constraints.resource_rules.iter().any(|r| rule_matches(r, target)) {
        return false;
    }
    if constraints.exclude_resource_rules.iter().any(|r| rule_matches(r, target)) {
        return false;
    }
    if let (Some(selector), Some(namespace)) = (&constraints.namespace_selector, &target.namespace)
        && !selects(selector, &namespace_labels(namespace, namespace_object))
    {
        return false;
    }
    // A Namespace is matched by a namespaceSelector on its own labels.
    if let (Some(selector), None, "Namespace") =
        (&constraints.namespace_selector, &target.namespace, target.kind.as_str())
        && !selects(selector, &namespace_labels(&target.name, Some(object)))
    {
        return false;
    }
    constraints.object_selector.as_ref().is_none_or(|selector| selects(selector, &labels(object)))
}

/// A located tree as a plain CEL value: one that records no access, for `params`,
/// `namespaceObject` and `request`, whose reads must not move a finding.
pub fn plain(node: &Node) -> cel::Value {
    use std::sync::Arc;
    match &node.value {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Int(i) => cel::Value::Int(*i),
        Value::Float(f) => cel::Value::Float(*f),
        Value::String(s) => cel::Value::String(Arc::new(s.to_string())),
        Value::List(items) => cel::Value::List(Arc::new(items.iter().map(plain).collect())),
        Value::Map(entries) => {
            let map: std::collections::HashMap<cel::objects::Key, cel::Value> =
                entries.iter().map(|e| (cel::objects::Key::from(e.key.to_string()), plain(&e.value))).collect();
            cel::Value::Map(map.into())
        }
    }
}

/// The `request` of a CREATE of the target, as the API server builds it (no user, no
/// subresource, not a dry run).
pub fn request(target: &Target) -> cel::Value {
    use std::sync::Arc;
    let s = |v: &str| cel::Value::String(Arc::new(v.to_owned()));
    let gvk = |kind: &str, resource: bool| {
        let mut m: std::collections::HashMap<cel::objects::Key, cel::Value> = std::collections::HashMap::new();
        m.insert("group".to_owned().into(), s(&target.group));
        m.insert("version".to_owned().into(), s(&target.version));
        m.insert(if resource { "resource" } else { "kind" }.to_owned().into(), s(kind));
        cel::Value::Map(m.into())
    };
    let mut m: std::collections::HashMap<cel::objects::Key, cel::Value> = std::collections::HashMap::new();
    m.insert("kind".to_owned().into(), gvk(&target.kind, false));
    m.insert("resource".to_owned().into(), gvk(&target.resource, true));
    m.insert("requestKind".to_owned().into(), gvk(&target.kind, false));
    m.insert("requestResource".to_owned().into(), gvk(&target.resource, true));
    m.insert("subResource".to_owned().into(), s(""));
    m.insert("name".to_owned().into(), s(&target.name));
    m.insert("namespace".to_owned().into(), s(target.namespace.as_deref().unwrap_or_default()));
    m.insert("operation".to_owned().into(), s(OPERATION));
    m.insert("dryRun".to_owned().into(), cel::Value::Bool(false));
    cel::Value::Map(m.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_names_are_guessed_as_kubernetes_does() {
        assert_eq!(resource_of("Deployment"), "deployments");
        assert_eq!(resource_of("Ingress"), "ingresses");
        assert_eq!(resource_of("NetworkPolicy"), "networkpolicies");
        assert_eq!(resource_of("Endpoints"), "endpoints");
    }

    #[test]
    fn label_selectors_select_as_kubernetes_does() {
        let selector = LabelSelector {
            match_labels: vec![("env".into(), "prod".into())],
            match_expressions: vec![
                ("tier".into(), "In".into(), vec!["web".into(), "api".into()]),
                ("legacy".into(), "DoesNotExist".into(), Vec::new()),
            ],
        };
        let labels =
            |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>();
        assert!(selects(&selector, &labels(&[("env", "prod"), ("tier", "api")])));
        assert!(!selects(&selector, &labels(&[("env", "prod"), ("tier", "db")])));
        assert!(!selects(&selector, &labels(&[("env", "prod"), ("tier", "web"), ("legacy", "")])));
        assert!(selects(&LabelSelector::default(), &[]));
    }
}

//! The indexed deployment model: the joins between the objects of one deployment, built once
//! by the engine so that cross-document rules read relations instead of computing them.
//!
//! A rule that asks "which Services are in front of the API pods?" used to compare every
//! Service with every workload in CEL: quadratic in the size of a directory (1,000
//! Deployment + Service pairs took 20 s). Here workloads are indexed by `(namespace, label,
//! value)` and each Service looks up the workloads its selector names, as Kubernetes does: the
//! cost is proportional to the objects and their matches.
//!
//! Rules read it as `k8s` in deployment scope:
//!
//! ```text
//! k8s.objects   every Kubernetes object of the deployment: manifests, `List` items, and the
//!               Kubernetes resources of Pulumi state (their outputs are the object)
//! k8s.services  { name, namespace, type, object, roles, workloads } per Service with a selector:
//!               `roles` are the roles the rule's pack declares (`[[component]]`) of the
//!               containers of the pods it selects (same namespace, every selector label equal),
//!               `workloads` the `Kind/name` of those workloads; `object` is the Service itself
//! k8s.workloads { kind, name, namespace, object, pod, labels, roles, networkPolicies } per
//!               object with a pod template (Pod, Deployment, StatefulSet, DaemonSet,
//!               ReplicaSet, ReplicationController, Job, CronJob): `pod` is the template (the
//!               Pod itself for a Pod), `labels` its labels, `networkPolicies` the
//!               NetworkPolicies of its namespace whose `podSelector` selects those labels
//!               (`matchLabels` and `matchExpressions`; an empty or absent selector selects every
//!               pod), indexed by namespace
//! ```
//!
//! Every node keeps its location, so a finding on `s.object.spec.type` points into the file.

use crate::components::ComponentCatalog;
use crate::limits::MAX_RELATION_MATCHES;
use crate::source::Span;
use crate::tree::{Node, entry};
use std::collections::HashMap;
use std::sync::Arc;

/// Kinds whose pods a Service can select, and where their pod template is.
fn pod_template(object: &Node) -> Option<&Node> {
    let spec = object.get("spec")?;
    match object.get("kind")?.as_str()? {
        "Pod" => Some(object),
        "CronJob" => spec.path(&["jobTemplate", "spec", "template"]),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" => {
            spec.get("template")
        }
        _ => None,
    }
}

fn namespace_of(object: &Node) -> String {
    object.path(&["metadata", "namespace"]).and_then(Node::scalar_text).unwrap_or_else(|| "default".to_owned())
}

fn name_of(object: &Node) -> Option<&Node> {
    object.path(&["metadata", "name"]).filter(|n| n.scalar_text().is_some())
}

/// The `(key, value)` pairs of a label map or selector, scalars rendered as text.
fn string_pairs(map: Option<&Node>) -> Vec<(String, String)> {
    map.and_then(Node::as_map)
        .map(|entries| entries.iter().filter_map(|e| Some((e.key.to_string(), e.value.scalar_text()?))).collect())
        .unwrap_or_default()
}

/// A workload's pods, for selector matching.
struct Workload<'a> {
    object: &'a Node,
    template: &'a Node,
    namespace: String,
    labels: Vec<(String, String)>,
    roles: Vec<Arc<str>>,
    name: String,
}

impl<'a> Workload<'a> {
    fn of(object: &'a Node, catalog: &ComponentCatalog) -> Option<Self> {
        let template = pod_template(object)?;
        let labels = string_pairs(template.path(&["metadata", "labels"]));
        let mut roles: Vec<Arc<str>> = ["containers", "initContainers"]
            .iter()
            .filter_map(|k| template.path(&["spec", k]).and_then(Node::as_list))
            .flatten()
            .filter_map(|c| c.get("image").and_then(Node::as_str))
            .filter_map(|image| catalog.role_of(Some(image), None).cloned())
            .collect();
        roles.sort_unstable();
        roles.dedup();
        let kind = object.get("kind").and_then(Node::as_str).unwrap_or("?");
        let name = name_of(object).and_then(Node::scalar_text).unwrap_or_else(|| "?".to_owned());
        Some(Self { object, template, namespace: namespace_of(object), labels, roles, name: format!("{kind}/{name}") })
    }

    fn has_label(&self, key: &str, value: &str) -> bool {
        self.labels.iter().any(|(k, v)| k == key && v == value)
    }

    fn label(&self, key: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Whether a NetworkPolicy's `podSelector` selects these pods, as Kubernetes matches a
    /// `LabelSelector`: every `matchLabels` pair and every `matchExpressions` requirement.
    /// An absent or empty selector selects every pod; parts that are not well-formed are
    /// ignored rather than excluding the pods (a rule then errs towards "governed").
    fn selected_by(&self, selector: Option<&Node>) -> bool {
        let Some(selector) = selector.filter(|s| s.as_map().is_some()) else { return true };
        let labels_match = string_pairs(selector.get("matchLabels")).iter().all(|(k, v)| self.has_label(k, v));
        let expressions = selector.get("matchExpressions").and_then(Node::as_list).unwrap_or_default();
        labels_match
            && expressions.iter().all(|e| {
                let (Some(key), Some(operator)) =
                    (e.get("key").and_then(Node::scalar_text), e.get("operator").and_then(Node::as_str))
                else {
                    return true;
                };
                let values: Option<Vec<&str>> =
                    e.get("values").and_then(Node::as_list).map(|v| v.iter().filter_map(Node::as_str).collect());
                let label = self.label(&key);
                match operator {
                    "In" => label.zip(values).is_some_and(|(l, values)| values.contains(&l)),
                    "NotIn" => !label.zip(values).is_some_and(|(l, values)| values.contains(&l)),
                    "Exists" => label.is_some(),
                    "DoesNotExist" => label.is_none(),
                    _ => true,
                }
            })
    }
}

/// Every Kubernetes object among `roots` (documents of the deployment) and `resources` (the
/// cloud resources of its state): `List`s are expanded, state resources contribute their object.
/// Each comes with the index of the root it is, when it is a whole document, so that a caller
/// holding the documents' CEL values can share them.
pub(crate) fn kubernetes_objects<'a>(
    roots: impl Iterator<Item = &'a Node>,
    resources: impl Iterator<Item = &'a Node>,
) -> Vec<(Node, Option<usize>)> {
    let is_object = |n: &Node| n.get("kind").and_then(Node::as_str).is_some() && n.get("apiVersion").is_some();
    let mut objects = Vec::new();
    for (index, root) in roots.enumerate() {
        if root.get("kind").and_then(Node::as_str) == Some("List") {
            let items = root.get("items").and_then(Node::as_list).unwrap_or_default();
            objects.extend(
                items.iter().filter(|o| o.get("kind").and_then(Node::as_str).is_some()).map(|o| (o.clone(), None)),
            );
        } else if is_object(root) {
            objects.push((root.clone(), Some(index)));
        }
    }
    for resource in resources {
        let kubernetes = resource.get("type").and_then(Node::as_str).is_some_and(|t| t.starts_with("kubernetes:"));
        if let Some(attrs) = resource.get("attrs").filter(|a| kubernetes && is_object(a)) {
            objects.push((attrs.clone(), None));
        }
    }
    objects
}

/// The `k8s` relations of one deployment's objects, with the roles `catalog` declares.
pub(crate) fn kubernetes(objects: Vec<Node>, anchor: Span, catalog: &ComponentCatalog) -> Node {
    let workloads: Vec<Workload> = objects.iter().filter_map(|o| Workload::of(o, catalog)).collect();
    let mut by_label: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (index, workload) in workloads.iter().enumerate() {
        for (key, value) in &workload.labels {
            by_label.entry((&workload.namespace, key, value)).or_default().push(index);
        }
    }
    let mut services = Vec::new();
    for object in &objects {
        if object.get("kind").and_then(Node::as_str) != Some("Service") {
            continue;
        }
        let Some(name) = name_of(object) else { continue };
        let namespace = namespace_of(object);
        let selector = string_pairs(object.path(&["spec", "selector"]));
        // The shortest posting list among the selector's labels holds every candidate.
        let candidates = selector
            .iter()
            .map(|(k, v)| by_label.get(&(namespace.as_str(), k.as_str(), v.as_str())).map_or(&[][..], Vec::as_slice))
            .min_by_key(|list| list.len())
            .unwrap_or_default();
        let selected: Vec<&Workload> = candidates
            .iter()
            .map(|&i| &workloads[i])
            .filter(|w| selector.iter().all(|(k, v)| w.has_label(k, v)))
            .take(MAX_RELATION_MATCHES)
            .collect();
        let mut roles: Vec<&str> = selected.iter().flat_map(|w| w.roles.iter().map(|r| &**r)).collect();
        roles.sort_unstable();
        roles.dedup();
        let at = object.span;
        let service_type = object.path(&["spec", "type"]).and_then(Node::as_str).unwrap_or("ClusterIP");
        services.push(Node::map(
            vec![
                entry("name", None, Node::string(name.scalar_text().unwrap_or_default(), name.span)),
                entry("namespace", None, Node::string(namespace, at)),
                entry("type", None, Node::string(service_type, at)),
                entry("object", None, object.clone()),
                entry("roles", None, Node::list(roles.into_iter().map(|r| Node::string(r, at)).collect(), at)),
                entry(
                    "workloads",
                    None,
                    Node::list(selected.iter().map(|w| Node::string(w.name.as_str(), at)).collect(), at),
                ),
            ],
            at,
        ));
    }
    let workload_nodes = workload_relations(&objects, &workloads, anchor);
    Node::map(
        vec![
            entry("objects", None, Node::list(objects, anchor)),
            entry("services", None, Node::list(services, anchor)),
            entry("workloads", None, Node::list(workload_nodes, anchor)),
        ],
        anchor,
    )
}

/// `k8s.workloads`: each workload with the NetworkPolicies of its namespace that select its
/// pods. A policy whose selector has `matchLabels` is indexed by its first pair, which every pod
/// it selects carries; only the others (empty or expression-only selectors) are tried against
/// every workload of their namespace. The cost follows the workloads, the policies and their
/// matches, not workloads × policies.
fn workload_relations(objects: &[Node], workloads: &[Workload], anchor: Span) -> Vec<Node> {
    // Each policy, its namespace, and the first `matchLabels` pair of its selector, if any.
    type Policy<'a> = (&'a Node, String, Option<(String, String)>);
    let policies: Vec<Policy> = objects
        .iter()
        .filter(|o| o.get("kind").and_then(Node::as_str) == Some("NetworkPolicy"))
        .map(|o| {
            let selector = o.path(&["spec", "podSelector"]).filter(|s| s.as_map().is_some());
            let first = string_pairs(selector.and_then(|s| s.get("matchLabels"))).into_iter().next();
            (o, namespace_of(o), first)
        })
        .collect();
    let mut by_label: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    let mut unindexed: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, (_, namespace, first)) in policies.iter().enumerate() {
        match first {
            Some((key, value)) => by_label.entry((namespace, key, value)).or_default().push(index),
            None => unindexed.entry(namespace).or_default().push(index),
        }
    }
    workloads
        .iter()
        .map(|w| {
            let at = w.object.span;
            let mut candidates: Vec<usize> = unindexed.get(w.namespace.as_str()).cloned().unwrap_or_default();
            for (key, value) in &w.labels {
                if let Some(found) = by_label.get(&(w.namespace.as_str(), key.as_str(), value.as_str())) {
                    candidates.extend(found);
                }
            }
            // In source order, each once.
            candidates.sort_unstable();
            candidates.dedup();
            let policies = candidates
                .into_iter()
                .map(|i| policies[i].0)
                .filter(|p| w.selected_by(p.path(&["spec", "podSelector"])))
                .take(MAX_RELATION_MATCHES)
                .cloned()
                .collect();
            let kind = w.object.get("kind").cloned().unwrap_or_else(|| Node::string("", at));
            let name = name_of(w.object).cloned().unwrap_or_else(|| Node::string("", at));
            let labels = w
                .template
                .path(&["metadata", "labels"])
                .filter(|l| l.as_map().is_some())
                .cloned()
                .unwrap_or_else(|| Node::map(Vec::new(), at));
            Node::map(
                vec![
                    entry("kind", None, kind),
                    entry("name", None, name),
                    entry("namespace", None, Node::string(w.namespace.as_str(), at)),
                    entry("object", None, w.object.clone()),
                    entry("pod", None, w.template.clone()),
                    entry("labels", None, labels),
                    entry("roles", None, Node::list(w.roles.iter().map(|r| Node::string(&**r, at)).collect(), at)),
                    entry("networkPolicies", None, Node::list(policies, anchor)),
                ],
                at,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_yaml;
    use crate::source::{SourceFile, SourceMap};

    fn objects(text: &str) -> Vec<Node> {
        let sources = SourceMap::new();
        let file = sources.add(SourceFile::new("k.yaml", None, text));
        let docs = load_yaml(file, &sources.get(file).text).expect("valid YAML");
        let roots: Vec<Node> = docs.into_iter().map(|d| d.root).collect();
        kubernetes_objects(roots.iter(), std::iter::empty()).into_iter().map(|(object, _)| object).collect()
    }

    fn pulumi() -> ComponentCatalog {
        let declared = |role: &str, image: &str| crate::components::DeclaredComponent {
            role: Arc::from(role),
            images: vec![image.to_owned()],
            names: Vec::new(),
            variables: Vec::new(),
        };
        ComponentCatalog::new(vec![declared("api", "pulumi/service"), declared("console", "pulumi/console")])
    }

    fn texts(node: &Node) -> Vec<String> {
        node.as_list().unwrap_or_default().iter().filter_map(Node::scalar_text).collect()
    }

    #[test]
    fn services_select_workloads_by_namespace_and_every_label() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: pulumi}
spec:
  template:
    metadata: {labels: {app: api, tier: web}}
    spec: {containers: [{name: api, image: 'pulumi/service:1'}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other-ns, namespace: elsewhere}
spec:
  template:
    metadata: {labels: {app: api, tier: web}}
    spec: {containers: [{name: c, image: 'pulumi/console:1'}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: pulumi}
spec: {type: LoadBalancer, selector: {app: api, tier: web}}
---
apiVersion: v1
kind: Service
metadata: {name: partial, namespace: pulumi}
spec: {selector: {app: api, tier: db}}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: in-list, namespace: elsewhere}
  spec: {selector: {app: api}}
";
        let k8s = kubernetes(objects(text), Span::default(), &pulumi());
        assert_eq!(k8s.get("objects").and_then(Node::as_list).map(<[Node]>::len), Some(5));
        let services = k8s.get("services").and_then(Node::as_list).unwrap();
        let by_name = |n: &str| services.iter().find(|s| s.get("name").and_then(Node::as_str) == Some(n)).unwrap();
        assert_eq!(texts(by_name("api").get("roles").unwrap()), ["api"]);
        assert_eq!(texts(by_name("api").get("workloads").unwrap()), ["Deployment/api"]);
        assert_eq!(by_name("api").get("type").and_then(Node::as_str), Some("LoadBalancer"));
        assert!(texts(by_name("partial").get("workloads").unwrap()).is_empty(), "one label differs");
        assert_eq!(texts(by_name("in-list").get("roles").unwrap()), ["console"]);
        assert_eq!(by_name("in-list").get("type").and_then(Node::as_str), Some("ClusterIP"));
        // Names keep their location in the file.
        assert_ne!(by_name("api").get("name").unwrap().span, Span::default());
    }

    #[test]
    fn a_service_without_a_selector_selects_nothing() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: a}}\nspec: {containers: [{image: 'pulumi/service'}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: ExternalName}\n";
        let k8s = kubernetes(objects(text), Span::default(), &pulumi());
        let services = k8s.get("services").and_then(Node::as_list).unwrap();
        assert!(texts(services[0].get("workloads").unwrap()).is_empty());
    }

    #[test]
    fn workloads_have_the_network_policies_of_their_namespace_selecting_their_pods() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: pulumi}
spec:
  template:
    metadata: {labels: {app: api, tier: web}}
    spec: {containers: [{name: api, image: 'pulumi/service:1'}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: by-label, namespace: pulumi}
spec: {podSelector: {matchLabels: {app: api}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: every-pod, namespace: pulumi}
spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: by-expression, namespace: pulumi}
spec:
  podSelector:
    matchExpressions:
    - {key: tier, operator: In, values: [web, db]}
    - {key: canary, operator: DoesNotExist}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: other-label, namespace: pulumi}
spec: {podSelector: {matchLabels: {app: console}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: not-in, namespace: pulumi}
spec: {podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [web]}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: other-namespace, namespace: elsewhere}
spec: {podSelector: {}}
";
        let k8s = kubernetes(objects(text), Span::default(), &pulumi());
        let workloads = k8s.get("workloads").and_then(Node::as_list).unwrap();
        assert_eq!(workloads.len(), 1);
        let api = &workloads[0];
        assert_eq!(api.get("kind").and_then(Node::as_str), Some("Deployment"));
        assert_eq!(api.get("namespace").and_then(Node::as_str), Some("pulumi"));
        assert_eq!(texts(api.get("roles").unwrap()), ["api"]);
        let names: Vec<String> = api
            .get("networkPolicies")
            .and_then(Node::as_list)
            .unwrap()
            .iter()
            .filter_map(|p| p.path(&["metadata", "name"]).and_then(Node::scalar_text))
            .collect();
        assert_eq!(names, ["by-label", "every-pod", "by-expression"]);
        // The name keeps its place in the file.
        assert_eq!(api.get("name").map(|n| n.span.start), text.find("api, namespace").map(|i| i as u32));
    }

    /// A crafted manifest cannot make a relation quadratic: one workload keeps at most
    /// `MAX_RELATION_MATCHES` policies, the first in source order.
    #[test]
    fn a_relation_joins_at_most_its_limit_of_objects() {
        let mut text = String::from(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: a}}\nspec: {containers: [{image: 'pulumi/service'}]}\n",
        );
        for i in 0..=MAX_RELATION_MATCHES {
            text.push_str(&format!(
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np-{i}}}\nspec: {{podSelector: {{}}}}\n"
            ));
        }
        let k8s = kubernetes(objects(&text), Span::default(), &pulumi());
        let policies = k8s.get("workloads").and_then(Node::as_list).unwrap()[0]
            .get("networkPolicies")
            .and_then(Node::as_list)
            .unwrap();
        assert_eq!(policies.len(), MAX_RELATION_MATCHES);
        assert_eq!(policies[0].path(&["metadata", "name"]).and_then(Node::as_str), Some("np-0"));
    }
}

//! Cloud resources of Pulumi and Terraform state and plans, in one shape.
//!
//! Rules about RDS clusters, security groups or buckets are written once against `resources`:
//!
//! ```text
//! { type: "aws:rds/cluster:Cluster" | "aws_rds_cluster", name, id (URN or address),
//!   provider: "pulumi" | "terraform", attrs: {…}, sensitive: […] }
//! ```
//!
//! `attrs` is a Pulumi resource's outputs (its inputs when it has no outputs); for Terraform,
//! an instance's `attributes` in state and `change.after` of every non-delete change in a plan
//! (one entry per resource, never one per section of the plan). Terraform attribute names are
//! converted to Pulumi's camelCase (`storage_encrypted` → `storageEncrypted`) so one
//! expression reads both; Terraform's nested blocks stay lists (`settings[0]`), which the
//! `one()` function flattens. Values keep their locations.

use crate::components::state_support::{is_delete, pulumi_attributes};
use crate::kind::InputKind;
use crate::tree::{Entry, Node, Value, entry};
use std::sync::Arc;

/// The resources of a state or plan document.
pub fn resources_of(kind: InputKind, root: &Node) -> Vec<Node> {
    match kind {
        InputKind::PulumiState => pulumi(root),
        InputKind::TerraformState => terraform_state(root),
        InputKind::TerraformPlan => terraform_plan(root),
        _ => Vec::new(),
    }
}

fn resource(at: &Node, fields: Vec<(&str, Node)>) -> Node {
    let mut node = Node::map(fields.into_iter().map(|(k, v)| entry(k, None, v)).collect(), at.span);
    node.key_span = at.key_span;
    node
}

fn pulumi(root: &Node) -> Vec<Node> {
    let mut out = Vec::new();
    for r in root.path(&["deployment", "resources"]).and_then(Node::as_list).unwrap_or_default() {
        let Some(kind) = r.get("type") else { continue };
        if r.get("delete").and_then(|d| if let Value::Bool(b) = d.value { Some(b) } else { None }) == Some(true) {
            continue;
        }
        let urn = r.get("urn").cloned().unwrap_or_else(|| Node::string("", r.span));
        let name = urn.as_str().and_then(|u| u.rsplit("::").next()).unwrap_or_default().to_owned();
        let attrs = pulumi_attributes(r).cloned().unwrap_or_else(|| Node::map(Vec::new(), r.span));
        out.push(resource(
            r,
            vec![
                ("type", kind.clone()),
                ("name", Node::string(name, urn.span)),
                ("id", urn),
                ("provider", Node::string("pulumi", r.span)),
                ("attrs", attrs),
                ("sensitive", Node::list(Vec::new(), r.span)),
            ],
        ));
    }
    out
}

fn address(r: &Node) -> String {
    let module = r.get("module").and_then(Node::as_str);
    let kind = r.get("type").and_then(Node::as_str).unwrap_or_default();
    let name = r.get("name").and_then(Node::as_str).unwrap_or_default();
    let data = if r.get("mode").and_then(Node::as_str) == Some("data") { "data." } else { "" };
    match module {
        Some(m) => format!("{m}.{data}{kind}.{name}"),
        None => format!("{data}{kind}.{name}"),
    }
}

fn terraform_state(root: &Node) -> Vec<Node> {
    let mut out = Vec::new();
    for r in root.get("resources").and_then(Node::as_list).unwrap_or_default() {
        if r.get("mode").and_then(Node::as_str) == Some("data") {
            continue;
        }
        let Some(kind) = r.get("type") else { continue };
        let name = r.get("name").cloned().unwrap_or_else(|| Node::string("", r.span));
        let base = address(r);
        for instance in r.get("instances").and_then(Node::as_list).unwrap_or_default() {
            let id = match instance.get("index_key").and_then(Node::scalar_text) {
                Some(k) if instance.get("index_key").and_then(Node::as_str).is_some() => format!("{base}[{k:?}]"),
                Some(k) => format!("{base}[{k}]"),
                None => base.clone(),
            };
            let attrs = instance.get("attributes").map_or_else(|| Node::map(Vec::new(), instance.span), camel_case);
            let sensitive =
                instance.get("sensitive_attributes").cloned().unwrap_or_else(|| Node::list(Vec::new(), instance.span));
            out.push(resource(
                instance,
                vec![
                    ("type", kind.clone()),
                    ("name", name.clone()),
                    ("id", Node::string(id, instance.key_span.unwrap_or(instance.span))),
                    ("provider", Node::string("terraform", instance.span)),
                    ("attrs", attrs),
                    ("sensitive", sensitive),
                ],
            ));
        }
    }
    out
}

fn terraform_plan(root: &Node) -> Vec<Node> {
    let mut out = Vec::new();
    for change in root.get("resource_changes").and_then(Node::as_list).unwrap_or_default() {
        if is_delete(change) || change.get("mode").and_then(Node::as_str) == Some("data") {
            continue;
        }
        let Some(kind) = change.get("type") else { continue };
        let Some(after) = change.path(&["change", "after"]).filter(|a| a.as_map().is_some()) else { continue };
        let sensitive =
            change.path(&["change", "after_sensitive"]).map_or_else(|| Node::map(Vec::new(), change.span), camel_case);
        out.push(resource(
            change,
            vec![
                ("type", kind.clone()),
                ("name", change.get("name").cloned().unwrap_or_else(|| Node::string("", change.span))),
                ("id", change.get("address").cloned().unwrap_or_else(|| Node::string("", change.span))),
                ("provider", Node::string("terraform", change.span)),
                ("attrs", camel_case(after)),
                ("sensitive", sensitive),
            ],
        ));
    }
    out
}

/// Attributes whose keys are the user's data, not schema names: never renamed.
const FREE_FORM: &[&str] = &[
    "tags",
    "tags_all",
    "labels",
    "user_labels",
    "resource_labels",
    "metadata",
    "annotations",
    "environment",
    "variables",
    "parameters_map",
];

/// Renames schema keys from snake_case to camelCase, recursively; spans are kept. Only
/// lower-case snake_case keys are schema names; the contents of free-form maps (`tags`, …)
/// and keys like `DB_PASSWORD` are the user's and stay as written.
fn camel_case(node: &Node) -> Node {
    let mut out = node.clone();
    out.value = match &node.value {
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|e| {
                    if FREE_FORM.contains(&&*e.key) {
                        Entry { key: Arc::from(to_camel(&e.key)), value: e.value.clone() }
                    } else {
                        Entry { key: Arc::from(to_camel(&e.key)), value: camel_case(&e.value) }
                    }
                })
                .collect(),
        ),
        Value::List(items) => Value::List(items.iter().map(camel_case).collect()),
        other => other.clone(),
    };
    out
}

fn to_camel(key: &str) -> String {
    if !key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return key.to_owned();
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::to_camel;

    #[test]
    fn terraform_names_become_camel_case() {
        assert_eq!(to_camel("storage_encrypted"), "storageEncrypted");
        assert_eq!(to_camel("ip_configuration"), "ipConfiguration");
        assert_eq!(to_camel("cidr_blocks"), "cidrBlocks");
        assert_eq!(to_camel("_private"), "_private");
        assert_eq!(to_camel("name"), "name");
        assert_eq!(to_camel("DB_PASSWORD"), "DB_PASSWORD");
        assert_eq!(to_camel("cost-center"), "cost-center");
    }
}

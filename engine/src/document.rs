//! Documents: located trees with their kind and identity.

use crate::kind::InputKind;
use crate::source::{FileId, Span};
use crate::tree::{Node, Value};

/// One document of one input, classified.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file it was read from.
    pub file: FileId,
    /// Position within a multi-document stream.
    pub index: usize,
    /// What the document is.
    pub kind: InputKind,
    /// The content.
    pub root: Node,
    /// `# Source:` path from `helm template` output.
    pub helm_source: Option<String>,
    /// A name for the document that survives edits: `Deployment/ns/name` for Kubernetes
    /// objects, the document index otherwise.
    pub identity: String,
}

impl Document {
    /// Builds a document and computes its identity.
    pub fn new(file: FileId, index: usize, kind: InputKind, root: Node, helm_source: Option<String>) -> Self {
        let identity = match kind {
            InputKind::Kubernetes => {
                let kind_name = root.get("kind").and_then(Node::as_str).unwrap_or("?");
                let name = root.path(&["metadata", "name"]).and_then(Node::as_str).unwrap_or("?");
                match root.path(&["metadata", "namespace"]).and_then(Node::as_str) {
                    Some(ns) => format!("{kind_name}/{ns}/{name}"),
                    None => format!("{kind_name}/{name}"),
                }
            }
            _ => format!("#{index}"),
        };
        Self { file, index, kind, root, helm_source, identity }
    }
}

/// The path from `root` to the node whose value span is `span`, as
/// `spec.template.spec.containers[0].env[2]` (`-` separated keys with dots, list indices in
/// brackets; keys that aren't identifiers are quoted: `annotations["a/b"]`).
pub fn path_to(root: &Node, span: Span) -> Option<String> {
    fn walk(node: &Node, span: Span, path: &mut String) -> bool {
        if node.span == span || node.key_span == Some(span) {
            return true;
        }
        match &node.value {
            Value::Map(entries) => {
                for e in entries.iter() {
                    let len = path.len();
                    if is_identifier(&e.key) {
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(&e.key);
                    } else {
                        path.push_str(&format!("[{:?}]", &*e.key));
                    }
                    if walk(&e.value, span, path) {
                        return true;
                    }
                    path.truncate(len);
                }
                false
            }
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    if walk(item, span, path) {
                        return true;
                    }
                    path.truncate(len);
                }
                false
            }
            _ => false,
        }
    }
    let mut path = String::new();
    walk(root, span, &mut path).then_some(path)
}

fn is_identifier(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

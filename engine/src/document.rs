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
    /// The document before the change being checked, when there is one: the admission
    /// webhook's `oldObject` on UPDATE. Rules read it as `oldDoc` (null otherwise).
    pub previous: Option<Node>,
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
        Self { file, index, kind, root, helm_source, identity, previous: None }
    }
}

/// The path from `root` to the node whose value span is `span`, as
/// `spec.template.spec.containers[0].env[2]` (`-` separated keys with dots, list indices in
/// brackets; keys that aren't identifiers are quoted: `annotations["a/b"]`).
///
/// Searches only the subtrees whose text contains the span first; values reached through YAML
/// aliases and merge keys lie outside their parent's text, so a miss searches everything. The
/// walk recurses once per level, and no loaded tree is deeper than
/// [`crate::limits::MAX_DEPTH`], aliases included; nor larger, counted through aliases, than
/// the file plus [`crate::limits::MAX_ALIAS_EXPANSION`] nodes.
pub fn path_to(root: &Node, span: Span) -> Option<String> {
    path_to_where(root, span, |_| true)
}

/// [`path_to`], searching everything only when `anywhere(span)` says a node of `root` may be
/// at `span` (see [`NodeSpans`]): a span no node has (a whole `.env` line, a value built from
/// several places) is not looked for node by node.
pub(crate) fn path_to_where(root: &Node, span: Span, anywhere: impl FnOnce(Span) -> bool) -> Option<String> {
    fn contains(node: &Node, span: Span) -> bool {
        let start = node.key_span.map_or(node.span.start, |k| k.start.min(node.span.start));
        node.span.file == span.file && start <= span.start && span.end <= node.span.end.max(span.start)
    }
    fn is(node: &Node, span: Span) -> bool {
        node.span == span || node.key_span == Some(span)
    }
    /// Whether `node` may be or hold the span: its siblings are passed over without
    /// spelling their path.
    fn may_hold(node: &Node, span: Span, prune: bool) -> bool {
        !prune || is(node, span) || contains(node, span)
    }
    fn walk(node: &Node, span: Span, path: &mut String, prune: bool) -> bool {
        if is(node, span) {
            return true;
        }
        if prune && !contains(node, span) {
            return false;
        }
        match &node.value {
            Value::Map(entries) => {
                for e in entries.iter().filter(|e| may_hold(&e.value, span, prune)) {
                    let len = path.len();
                    if is_identifier(&e.key) {
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(&e.key);
                    } else {
                        path.push_str(&format!("[{:?}]", &*e.key));
                    }
                    if walk(&e.value, span, path, prune) {
                        return true;
                    }
                    path.truncate(len);
                }
                false
            }
            Value::List(items) => {
                for (i, item) in items.iter().enumerate().filter(|(_, item)| may_hold(item, span, prune)) {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    if walk(item, span, path, prune) {
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
    if walk(root, span, &mut path, true) {
        return Some(path);
    }
    if !anywhere(span) {
        return None;
    }
    path.clear();
    walk(root, span, &mut path, false).then_some(path)
}

/// The spans of a tree's nodes and keys, aliased values included, to tell at once whether
/// [`path_to`] can find a span anywhere. The walk is bounded as `path_to`'s is.
#[derive(Default)]
pub(crate) struct NodeSpans(std::collections::HashSet<Span, foldhash::fast::FixedState>);

impl NodeSpans {
    pub(crate) fn of(root: &Node) -> Self {
        fn walk(node: &Node, out: &mut NodeSpans) {
            out.0.insert(node.span);
            if let Some(key) = node.key_span {
                out.0.insert(key);
            }
            match &node.value {
                Value::Map(entries) => entries.iter().for_each(|e| walk(&e.value, out)),
                Value::List(items) => items.iter().for_each(|item| walk(item, out)),
                _ => {}
            }
        }
        let mut spans = NodeSpans::default();
        walk(root, &mut spans);
        spans
    }

    pub(crate) fn contains(&self, span: Span) -> bool {
        self.0.contains(&span)
    }
}

fn is_identifier(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::path_to;
    use crate::load::load_yaml;
    use crate::source::FileId;

    #[test]
    fn paths_name_keys_indices_and_quoted_keys() {
        let text = "spec:\n  containers:\n  - name: api\n    env:\n    - {name: A, value: x}\nmetadata:\n  annotations:\n    a/b: c\n";
        let root = &load_yaml(FileId(0), text).unwrap()[0].root;
        let value =
            root.path(&["spec", "containers"]).unwrap().as_list().unwrap()[0].get("env").unwrap().as_list().unwrap()[0]
                .get("value")
                .unwrap();
        assert_eq!(path_to(root, value.span).as_deref(), Some("spec.containers[0].env[0].value"));
        let annotation = root.path(&["metadata", "annotations", "a/b"]).unwrap();
        assert_eq!(path_to(root, annotation.span).as_deref(), Some("metadata.annotations[\"a/b\"]"));
    }

    #[test]
    fn values_merged_from_an_anchor_are_found_outside_their_parent() {
        let text = "base: &b\n  x: 1\nderived:\n  <<: *b\n  y: 2\n";
        let root = &load_yaml(FileId(0), text).unwrap()[0].root;
        let merged = root.path(&["derived", "x"]).unwrap();
        // The first match in document order is the anchor's own value.
        assert_eq!(path_to(root, merged.span).as_deref(), Some("base.x"));
        let spans = super::NodeSpans::of(root);
        assert!(spans.contains(merged.span), "aliased values are among the spans");
        let nowhere = crate::source::Span { end: merged.span.end + 1, ..merged.span };
        assert!(!spans.contains(nowhere));
        assert_eq!(super::path_to_where(root, merged.span, |s| spans.contains(s)).as_deref(), Some("base.x"));
    }
}

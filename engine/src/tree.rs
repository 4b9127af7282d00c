//! The located document tree: one shape for every input format.
//!
//! Loaders turn YAML, JSON, TOML and `.env` text into [`Node`]s. Every node carries the
//! [`Span`] of its value and, when it is the value of a mapping entry, the span of its key,
//! so a finding can point at the offending value, and a finding about a *missing* key can
//! point at the key of the nearest parent that exists.

use crate::source::Span;
use std::sync::Arc;

/// One value of a document, with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// The span of the value itself.
    pub span: Span,
    /// The span of the key this value sits under, for values of mapping entries.
    pub key_span: Option<Span>,
    /// What the value is known to be beyond its type: e.g. a `${VAR}` interpolation.
    pub tag: Tag,
}

/// Extra facts a loader knows about a scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Tag {
    /// Nothing special.
    #[default]
    None,
    /// A string that is (or contains) a `${VAR}` / `$VAR` interpolation, kept literally.
    Interpolation,
    /// A number too large for `i64`, kept as its source text in a string.
    BigNumber,
}

/// The value of a [`Node`].
///
/// Integers stay `i64` (as Kubernetes CEL does); numbers outside `i64` become
/// [`Tag::BigNumber`] strings rather than losing precision.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null` / `~` / an empty YAML value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    String(Arc<str>),
    /// A sequence. Shared, so cloning a subtree (components reuse containers, CEL values wrap
    /// them) costs a reference count, not a copy; a slice, so a collection is one allocation
    /// of exactly its elements.
    List(Arc<[Node]>),
    /// A mapping, in source order; shared like lists.
    Map(Arc<[Entry]>),
}

/// One entry of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key, as a string (non-string keys are rendered to their source text).
    pub key: Arc<str>,
    /// The value; its `key_span` is the span of the key.
    pub value: Node,
}

impl Node {
    /// A node for `value` at `span`.
    pub fn new(value: Value, span: Span) -> Self {
        Self { value, span, key_span: None, tag: Tag::None }
    }

    /// The same node with `tag`.
    pub fn with_tag(mut self, tag: Tag) -> Self {
        self.tag = tag;
        self
    }

    /// A string node.
    pub fn string(s: impl Into<Arc<str>>, span: Span) -> Self {
        Self::new(Value::String(s.into()), span)
    }

    /// A sequence node.
    pub fn list(items: Vec<Node>, span: Span) -> Self {
        Self::new(Value::List(Arc::from(items)), span)
    }

    /// A mapping node.
    pub fn map(entries: Vec<Entry>, span: Span) -> Self {
        Self::new(Value::Map(Arc::from(entries)), span)
    }

    /// The span to report when this node is the nearest existing parent of something missing:
    /// its key if it has one, else the value.
    pub fn anchor_span(&self) -> Span {
        self.key_span.unwrap_or(self.span)
    }

    /// The entry value under `key`, for mappings.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().rev().find(|e| &*e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The string value, for strings.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, for sequences.
    pub fn as_list(&self) -> Option<&[Node]> {
        match &self.value {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, for mappings.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// A scalar rendered as text (`true`, `42`, the string itself); `None` for containers and null.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::String(s) => Some(s.to_string()),
            Value::Null | Value::List(_) | Value::Map(_) => None,
        }
    }

    /// The type name used in messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "double",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }
}

/// Builds a mapping node from entries, each value already carrying its key span.
pub fn map_node(entries: Vec<Entry>, span: Span) -> Node {
    Node::map(entries, span)
}

/// Builds an entry whose value's `key_span` is set to `key_span`.
pub fn entry(key: impl Into<Arc<str>>, key_span: Option<Span>, mut value: Node) -> Entry {
    if key_span.is_some() {
        value.key_span = key_span;
    }
    Entry { key: key.into(), value }
}

/// Gives every mapping among `items` (the elements of one sequence) a `key_span`: its first
/// line, from the first key to the end of that entry's value (or key, for a nested collection).
///
/// A sequence item has no key of its own, yet "the nearest existing parent" of a key missing
/// from, say, a container must point somewhere compact: `- name: api` rather than the whole
/// container. Loaders call this on every sequence they build, before sharing it: the items of
/// a sequence are complete by then, so no tree is ever walked (or copied) again for it.
pub fn anchor_items(items: &mut [Node]) {
    for item in items {
        if item.key_span.is_none()
            && let Value::Map(entries) = &item.value
            && let Some(first) = entries.first()
        {
            let key = first.value.key_span.unwrap_or(first.value.span);
            let end = match first.value.value {
                Value::Map(_) | Value::List(_) => key.end,
                _ => first.value.span.end.max(key.end),
            };
            item.key_span = Some(Span { file: key.file, start: key.start, end });
        }
    }
}

/// Dropping a tree never recurses: a tree is only as deep as [`crate::limits::MAX_DEPTH`] when
/// a loader built it, but trees are built elsewhere too, and a recursive drop of a deep one
/// would overflow the stack. Containers still shared (a YAML alias, a CEL value) are left to
/// their other owners.
impl Drop for Node {
    fn drop(&mut self) {
        let Some(container) = take_container(&mut self.value) else { return };
        let mut pending = vec![container];
        while let Some(mut container) = pending.pop() {
            // Each child this node owns alone gives up its own children first, so dropping
            // the container drops childless nodes.
            let children: &mut dyn Iterator<Item = &mut Node> = match &mut container {
                Value::List(items) => match Arc::get_mut(items) {
                    Some(items) => &mut items.iter_mut(),
                    None => continue,
                },
                Value::Map(entries) => match Arc::get_mut(entries) {
                    Some(entries) => &mut entries.iter_mut().map(|e| &mut e.value),
                    None => continue,
                },
                _ => continue,
            };
            pending.extend(children.filter_map(|child| take_container(&mut child.value)));
        }
    }
}

/// The value of a list or map node, replaced by `Null`.
fn take_container(value: &mut Value) -> Option<Value> {
    matches!(value, Value::List(_) | Value::Map(_)).then(|| std::mem::replace(value, Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn at() -> Span {
        Span::new(FileId(0), 0, 0)
    }

    #[test]
    fn dropping_a_very_deep_tree_does_not_overflow_the_stack() {
        let mut node = Node::string("leaf", at());
        for i in 0..1_000_000 {
            node =
                if i % 2 == 0 { Node::list(vec![node], at()) } else { Node::map(vec![entry("k", None, node)], at()) };
        }
        drop(node);
    }

    #[test]
    fn dropping_one_owner_of_a_shared_subtree_keeps_it_for_the_other() {
        let shared = Node::list(vec![Node::string("x", at())], at());
        let a = Node::map(vec![entry("a", None, shared.clone())], at());
        drop(a);
        assert_eq!(shared.as_list().map(<[Node]>::len), Some(1));
    }
}

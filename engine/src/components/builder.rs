//! Building component trees.

use crate::source::Span;
use crate::tree::{Entry, Node, Value, entry};
use std::sync::Arc;

/// Where an environment variable's value comes from.
#[allow(clippy::enum_variant_names, reason = "the variants are the Kubernetes field names")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum From {
    /// A value written in the file.
    Literal,
    /// Kubernetes `valueFrom.secretKeyRef`.
    SecretKeyRef,
    /// Kubernetes `valueFrom.configMapKeyRef`.
    ConfigMapKeyRef,
    /// Kubernetes `fieldRef` / `resourceFieldRef`, or another `valueFrom`.
    ValueFrom,
    /// `${VAR}` interpolation, resolved from the environment at deploy time.
    Interpolation,
    /// Compose `- KEY` / `KEY:` with no value: passed through from the host.
    Passthrough,
    /// ECS `secrets[].valueFrom` (Secrets Manager / SSM).
    EcsSecret,
    /// A Pulumi secret envelope (in state): set, but its value cannot be read.
    Encrypted,
}

impl From {
    fn as_str(self) -> &'static str {
        match self {
            Self::Literal => "literal",
            Self::SecretKeyRef => "secretKeyRef",
            Self::ConfigMapKeyRef => "configMapKeyRef",
            Self::ValueFrom => "valueFrom",
            Self::Interpolation => "interpolation",
            Self::Passthrough => "passthrough",
            Self::EcsSecret => "ecsSecret",
            Self::Encrypted => "encrypted",
        }
    }

    fn is_secret_store(self) -> bool {
        matches!(self, Self::SecretKeyRef | Self::Interpolation | Self::Passthrough | Self::EcsSecret | Self::Encrypted)
    }
}

/// Whether a node is a Pulumi secret envelope (`{"4dabf…": "1b47…", "ciphertext"|"plaintext": …}`).
pub(crate) fn is_envelope(node: &Node) -> bool {
    node.get("4dabf18193072939515e22adb298388d").and_then(Node::as_str) == Some("1b47061264138c4ac30d75fd1eb44270")
}

/// Where a block of variables is: its span and the span of its key (`environment:`, `env:`).
type At = (Span, Option<Span>);

/// A variable and the block it is set in (`None`: the component's env block).
struct Var {
    entry: Entry,
    block: Option<At>,
}

/// Accumulates one component.
pub struct ComponentBuilder {
    role: Arc<str>,
    other_roles: Vec<Arc<str>>,
    at: Span,
    at_key: Option<Span>,
    fields: Vec<Entry>,
    vars: Vec<Var>,
    env_at: Option<At>,
    block: Option<At>,
    env_from: Vec<Node>,
}

impl ComponentBuilder {
    /// A component of `role` whose own location is `at` (its key, or first line).
    pub fn new(role: Arc<str>, at: Span, at_key: Option<Span>) -> Self {
        Self {
            role,
            other_roles: Vec::new(),
            at,
            at_key,
            fields: Vec::new(),
            vars: Vec::new(),
            env_at: None,
            block: None,
            env_from: Vec::new(),
        }
    }

    /// Sets a descriptive field (`name`, `image`, `source`, `workload`, `spec`).
    pub fn field(mut self, key: &str, value: Node) -> Self {
        self.fields.retain(|e| &*e.key != key);
        self.fields.push(entry(key, None, value));
        self
    }

    /// The other roles whose variables the component sets (a standalone env file shared by
    /// two services).
    pub fn other_roles(mut self, roles: Vec<Arc<str>>) -> Self {
        self.other_roles = roles;
        self
    }

    /// Sets a string field located at the component.
    pub fn text(self, key: &str, value: &str) -> Self {
        let at = self.at;
        self.field(key, Node::string(value, at))
    }

    /// Where a missing variable is reported: the env block (its key), else the component. The
    /// variables added next are set in this block.
    pub fn env_at(&mut self, span: Span, key_span: Option<Span>) {
        self.env_at = Some((span, key_span));
        self.block = Some((span, key_span));
    }

    /// The block the variables added next are set in (another env map of the same component,
    /// an `env_file`), when it is not the env block; `None` returns to the env block.
    pub fn block_at(&mut self, at: Option<At>) {
        self.block = at;
    }

    /// Whether an env block location was set.
    pub fn has_env_at(&self) -> bool {
        self.env_at.is_some()
    }

    /// Adds (or replaces, later wins) a variable. `item` is where the variable is defined;
    /// `name_span` the span of its name; `value` its literal value, if any.
    pub fn var(&mut self, name: &str, name_span: Span, item: Span, value: Option<Node>, from: From) {
        // A value wrapped in a Pulumi secret envelope is set, but not readable.
        let (value, from) = match value {
            Some(v) if is_envelope(&v) => (None, From::Encrypted),
            other => (other, from),
        };
        let set = match (&value, from) {
            (Some(v), From::Literal) => v.scalar_text().is_some_and(|t| !t.is_empty()),
            (None, From::Literal) => false,
            _ => true,
        };
        let mut fields = vec![entry("name", None, Node::string(name, name_span))];
        if let Some(mut v) = value {
            if let Some(text) = v.scalar_text() {
                v.value = Value::String(Arc::from(text.as_str()));
            } else if v.value == Value::Null {
                v.value = Value::String(Arc::from(""));
            }
            fields.push(entry("value", None, v));
        }
        fields.push(entry("from", None, Node::string(from.as_str(), item)));
        fields.push(entry("secret", None, Node::new(Value::Bool(from.is_secret_store()), item)));
        fields.push(entry("set", None, Node::new(Value::Bool(set), item)));
        let mut node = Node::map(fields, item);
        node.key_span = Some(name_span);
        self.vars.retain(|v| &*v.entry.key != name);
        self.vars.push(Var { entry: Entry { key: Arc::from(name), value: node }, block: self.block });
    }

    /// Records an `envFrom`-like source celador cannot see into.
    pub fn env_from(&mut self, kind: &str, name: Node, at: Span) {
        self.env_from.push(Node::new(
            Value::Map(Arc::from(vec![entry("kind", None, Node::string(kind, at)), entry("name", None, name)])),
            at,
        ));
    }

    /// Merges another builder's variables over this one's (compose override files). Each
    /// variable keeps the block it is set in, so one missing beside it is reported there.
    pub fn merge(&mut self, other: ComponentBuilder) {
        for var in other.vars {
            self.vars.retain(|v| v.entry.key != var.entry.key);
            self.vars.push(var);
        }
        for f in other.fields {
            if matches!(&*f.key, "image" | "spec") || !self.fields.iter().any(|e| e.key == f.key) {
                self.fields.retain(|e| e.key != f.key);
                self.fields.push(f);
            }
        }
        self.env_from.extend(other.env_from);
        if self.env_at.is_none() {
            self.env_at = other.env_at;
        }
    }

    /// Builds the component node. Every variable gets `block`: an empty map located at the
    /// block it is set in, so `c.env.X.block.Y` points a variable `Y` missing beside `X` at the
    /// file and block that set `X` (an override's `environment:`, an `env_file`).
    pub fn build(self) -> Node {
        let (env_span, env_key) = self.env_at.unwrap_or((self.at, self.at_key));
        let vars = self
            .vars
            .into_iter()
            .map(|Var { entry: mut var, block }| {
                let (span, key_span) = block.unwrap_or((env_span, env_key));
                let mut at = Node::map(Vec::new(), span);
                at.key_span = key_span;
                if let Value::Map(fields) = &mut var.value.value {
                    *fields = fields.iter().cloned().chain([entry("block", None, at)]).collect();
                }
                var
            })
            .collect();
        let mut env = Node::map(vars, env_span);
        env.key_span = env_key;
        let opaque = !self.env_from.is_empty();
        let mut fields = vec![entry("role", None, Node::string(&*self.role, self.at))];
        for default in ["name", "image", "source", "workload"] {
            if !self.fields.iter().any(|e| &*e.key == default) {
                fields.push(entry(default, None, Node::string("", self.at)));
            }
        }
        if !self.fields.iter().any(|e| &*e.key == "spec") {
            fields.push(entry("spec", None, Node::map(Vec::new(), self.at)));
        }
        fields.extend(self.fields);
        fields.push(entry("env", None, env));
        fields.push(entry("envFrom", None, Node::list(self.env_from, self.at)));
        fields.push(entry("opaqueEnv", None, Node::new(Value::Bool(opaque), self.at)));
        let others = self.other_roles.iter().map(|r| Node::string(&**r, self.at)).collect();
        fields.push(entry("otherRoles", None, Node::list(others, self.at)));
        let mut node = Node::map(fields, self.at);
        node.key_span = self.at_key;
        node
    }
}

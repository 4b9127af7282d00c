//! The TOML shape of a pack file, as serde types with spans on what errors point at.

use crate::source::Span;
use crate::tree::{Node, Value, entry};
use serde::Deserialize;
use std::sync::Arc;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PackFileToml {
    pub pack: Option<PackMetaToml>,
    #[serde(default)]
    pub variables: Vec<VariableToml>,
    #[serde(default)]
    pub rule: Vec<RuleToml>,
    #[serde(default)]
    pub component: Vec<ComponentToml>,
}

/// `[[component]]`: a service the pack's rules are about (see [`crate::components::DeclaredComponent`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ComponentToml {
    pub role: Spanned<String>,
    #[serde(default)]
    pub images: Vec<Spanned<String>>,
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub variables: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PackMetaToml {
    pub id: String,
    pub version: String,
    pub title: String,
    pub docs: Option<String>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleToml {
    pub id: Spanned<String>,
    pub title: String,
    pub severity: Spanned<String>,
    pub kinds: Spanned<Vec<Spanned<String>>>,
    pub scope: Option<Spanned<String>>,
    pub when: Option<Spanned<String>>,
    pub each: Option<Spanned<String>>,
    #[serde(rename = "as")]
    pub bind: Option<String>,
    pub assert: Spanned<String>,
    #[serde(default)]
    pub variables: Vec<VariableToml>,
    pub locate: Option<Spanned<String>>,
    pub related: Option<Spanned<String>>,
    pub message: Spanned<String>,
    pub help: Option<String>,
    pub url: Option<String>,
    pub secret: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub docs: Option<RuleDocsToml>,
    pub params: Option<toml::Table>,
    #[serde(default)]
    pub tests: Vec<FixtureToml>,
}

/// `[[variables]]` of a pack or `[[rule.variables]]`: a named expression, read as
/// `variables.NAME`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VariableToml {
    pub name: Spanned<String>,
    pub expression: Spanned<String>,
}

#[derive(Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleDocsToml {
    #[serde(default)]
    pub what: String,
    #[serde(default)]
    pub why: String,
    #[serde(default)]
    pub fix: String,
    pub guide: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FixtureToml {
    pub file: Spanned<String>,
    #[serde(default = "no_expectations")]
    pub expect: Spanned<Vec<String>>,
    pub kind: Option<String>,
    pub params: Option<toml::Table>,
}

fn no_expectations() -> Spanned<Vec<String>> {
    Spanned::new(0..0, Vec::new())
}

/// Converts a TOML value (rule parameters, config overrides) into a tree, located at `span`.
pub fn toml_to_node(value: &toml::Value, span: Span) -> Node {
    let value = match value {
        toml::Value::String(s) => Value::String(Arc::from(s.as_str())),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(Arc::from(d.to_string())),
        toml::Value::Array(items) => Value::List(items.iter().map(|v| toml_to_node(v, span)).collect()),
        toml::Value::Table(table) => {
            Value::Map(table.iter().map(|(k, v)| entry(k.as_str(), None, toml_to_node(v, span))).collect())
        }
    };
    Node::new(value, span)
}

//! Components: the services a pack declares (`[[component]]`, see [`declared`]), wherever and
//! however they are configured.
//!
//! The engine extracts containers, services and their environment from every input kind;
//! which of them are components, and of which role, is the pack's word. A rule about "the API
//! container's environment" is written once against components, not once per input format.
//! Each component is a located tree built from the nodes of the documents it came from, so a
//! finding on a component still points into the real file:
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
//! secret store; `set` whether it is a non-empty literal or any reference; `block` is an empty
//! map located at the block that sets it (a compose file's `environment:`, override or base, or
//! the env file), so `c.env.X.block.Y` reports a `Y` missing beside `X` where `X` was set.
//! `opaqueEnv` is true when `envFrom` may define variables celador cannot see. `otherRoles`
//! names the other declared roles whose variables a standalone env file sets as well.

mod builder;
mod compose;
mod declared;
mod helm;
mod kubernetes;
mod state;

/// Helpers shared with [`crate::resources`].
pub(crate) mod state_support {
    pub(crate) use super::state::{is_delete, pulumi_attributes};
}

pub use compose::{EnvFileRef, referenced_env_files};
pub use declared::{ComponentCatalog, DeclaredComponent};
pub(crate) use helm::configures_declared_image;

use crate::document::Document;
use crate::kind::InputKind;
use crate::source::{SourceMap, Span};
use crate::tree::{Node, Tag};
use builder::{ComponentBuilder, From};
use std::collections::HashSet;

/// Derives the components of every document; the result is indexed like `documents`.
///
/// Compose files are merged with their override files and with the env files they reference;
/// an env file that a compose file references is attributed to that service, and only env
/// files nobody references become components of their own.
pub fn derive(documents: &[Document], sources: &SourceMap, catalog: &ComponentCatalog) -> Vec<Vec<Node>> {
    let mut out: Vec<Vec<Node>> = vec![Vec::new(); documents.len()];
    if catalog.is_empty() {
        return out;
    }
    let referenced: HashSet<String> = compose::referenced_names(documents, sources);
    for (i, doc) in documents.iter().enumerate() {
        let source = sources.get(doc.file);
        let text = &*source.text;
        out[i] = match doc.kind {
            InputKind::Kubernetes => kubernetes::components(&doc.root, catalog),
            InputKind::Env if !referenced.contains(&source.name) => {
                env_file_component(&doc.root, catalog).into_iter().collect()
            }
            InputKind::HelmValues => helm::components(&doc.root, catalog),
            InputKind::PulumiState => state::pulumi_components(&doc.root, text, catalog),
            InputKind::TerraformState => state::terraform_state_components(&doc.root, text, catalog),
            InputKind::TerraformPlan => state::terraform_plan_components(&doc.root, text, catalog),
            _ => Vec::new(),
        };
    }
    for (i, components) in compose::components(documents, sources, catalog) {
        out[i] = components;
    }
    out
}

/// An env file on its own is one component, attributed by the variables it sets.
fn env_file_component(root: &Node, catalog: &ComponentCatalog) -> Option<Node> {
    let entries = root.as_map()?;
    let keys: Vec<&str> = entries.iter().map(|e| &*e.key).collect();
    let role = catalog.role_of_variables(&keys)?.clone();
    let first = first_assignment(root);
    let mut builder = ComponentBuilder::new(role.clone(), first, None)
        .text("source", "env")
        .field("spec", root.clone())
        .other_roles(catalog.other_roles(&role, &keys));
    builder.env_at(first, None);
    add_env_entries(&mut builder, root);
    Some(builder.build())
}

/// The nearest existing parent of a variable missing from an env file is the file: its first
/// assignment rather than the whole text.
pub(crate) fn first_assignment(root: &Node) -> Span {
    root.as_map().and_then(|entries| entries.first()).map_or(root.span, |e| {
        let key = e.value.key_span.unwrap_or(e.value.span);
        Span { file: key.file, start: key.start, end: e.value.span.end.max(key.end) }
    })
}

/// Adds the variables of an env-file tree (`KEY=value` entries) to a component.
pub(crate) fn add_env_entries(builder: &mut ComponentBuilder, root: &Node) {
    for e in root.as_map().unwrap_or_default() {
        let value = &e.value;
        let from = if value.tag == Tag::Interpolation { From::Interpolation } else { From::Literal };
        let key_span = value.key_span.unwrap_or(value.span);
        let item = Span { file: key_span.file, start: key_span.start, end: value.span.end.max(key_span.end) };
        builder.var(&e.key, key_span, item, Some(value.clone()), from);
    }
}

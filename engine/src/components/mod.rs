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
//! secret store; `set` whether it is a non-empty literal or any reference; `block` is an empty
//! map located at the block that sets it (a compose file's `environment:`, override or base, or
//! the env file), so `c.env.X.block.Y` reports a `Y` missing beside `X` where `X` was set.
//! `opaqueEnv` is true when `envFrom` may define variables celador cannot see.

mod builder;
mod compose;
mod helm;
mod kubernetes;
mod state;

/// Helpers shared with [`crate::resources`].
pub(crate) mod state_support {
    pub(crate) use super::state::{is_delete, pulumi_attributes};
}

pub use compose::{EnvFileRef, referenced_env_files};
pub(crate) use helm::configures_pulumi_image;

use crate::document::Document;
use crate::eval::functions::image_parts;
use crate::kind::InputKind;
use crate::source::{SourceMap, Span};
use crate::tree::{Node, Tag};
use builder::{ComponentBuilder, From};
use std::collections::HashSet;

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

const MIGRATIONS_ONLY: &[&str] = &[
    "MYSQL_ROOT_USERNAME",
    "MYSQL_ROOT_PASSWORD",
    "MYSQL_ROOT_CREDENTIALS",
    "MYSQL_ALLOW_EMPTY_PASSWORD",
    "RUN_MIGRATIONS_EXTERNALLY",
    "SKIP_CREATE_DB_USER",
    "MIGRATIONS_TABLE_NAME",
    "METADATA_LOCK_WAIT_TIMEOUT",
    "METADATA_LOCK_RETRIES",
];

/// Attributes a standalone env file to a component by the variables only that component
/// reads; a tie attributes it to none.
pub(crate) fn role_of_env_keys(keys: &[&str]) -> Option<Role> {
    let count = |list: &[&str]| keys.iter().filter(|k| list.contains(k)).count();
    let scores = [
        (Role::Api, count(API_ONLY)),
        (Role::Console, count(CONSOLE_ONLY)),
        (Role::Migrations, count(MIGRATIONS_ONLY)),
    ];
    let best = scores.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let mut winners = scores.iter().filter(|(_, n)| *n == best && best > 0);
    match (winners.next(), winners.next()) {
        (Some((role, _)), None) => Some(*role),
        _ => None,
    }
}

/// Derives the components of every document; the result is indexed like `documents`.
///
/// Compose files are merged with their override files and with the env files they reference;
/// an env file that a compose file references is attributed to that service, and only env
/// files nobody references become components of their own.
pub fn derive(documents: &[Document], sources: &SourceMap) -> Vec<Vec<Node>> {
    let mut out: Vec<Vec<Node>> = vec![Vec::new(); documents.len()];
    let referenced: HashSet<String> = compose::referenced_names(documents, sources);
    for (i, doc) in documents.iter().enumerate() {
        out[i] = match doc.kind {
            InputKind::Kubernetes => kubernetes::components(&doc.root),
            InputKind::Env if !referenced.contains(&sources.get(doc.file).name) => {
                env_file_component(&doc.root).into_iter().collect()
            }
            InputKind::HelmValues => helm::components(&doc.root),
            InputKind::PulumiState => state::pulumi_components(&doc.root, &sources.get(doc.file).text),
            InputKind::TerraformState => state::terraform_state_components(&doc.root, &sources.get(doc.file).text),
            InputKind::TerraformPlan => state::terraform_plan_components(&doc.root, &sources.get(doc.file).text),
            _ => Vec::new(),
        };
    }
    for (i, components) in compose::components(documents, sources) {
        out[i] = components;
    }
    out
}

/// An env file on its own is one component, attributed by the variables it sets.
fn env_file_component(root: &Node) -> Option<Node> {
    let entries = root.as_map()?;
    let keys: Vec<&str> = entries.iter().map(|e| &*e.key).collect();
    let role = role_of_env_keys(&keys)?;
    let first = first_assignment(root);
    let mut builder = ComponentBuilder::new(role, first, None).text("source", "env").field("spec", root.clone());
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

//! Input kinds: what a document is, decided from its file name and content.

use crate::tree::Node;
use std::fmt;
use std::path::Path;

/// What a document is. Rules declare the kinds they apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// A Kubernetes object (`apiVersion` + `kind`), from manifests, `helm template` or JSON.
    Kubernetes,
    /// Helm chart values (`values*.yaml`, or a YAML file beside `Chart.yaml`).
    HelmValues,
    /// A docker-compose file.
    Compose,
    /// A `Pulumi.<stack>.yaml` stack configuration.
    PulumiStackConfig,
    /// A `Pulumi.yaml` project file.
    PulumiProject,
    /// A `pulumi stack export` checkpoint (`{"version": 3, "deployment": …}`).
    PulumiState,
    /// A Terraform state file (version 4).
    TerraformState,
    /// A `terraform show -json` plan.
    TerraformPlan,
    /// A `.env` file.
    Env,
}

impl InputKind {
    /// Every kind, in a stable order.
    pub const ALL: [InputKind; 9] = [
        Self::Kubernetes,
        Self::HelmValues,
        Self::Compose,
        Self::PulumiStackConfig,
        Self::PulumiProject,
        Self::PulumiState,
        Self::TerraformState,
        Self::TerraformPlan,
        Self::Env,
    ];

    /// The kebab-case name used in packs, on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kubernetes => "kubernetes",
            Self::HelmValues => "helm-values",
            Self::Compose => "compose",
            Self::PulumiStackConfig => "pulumi-stack-config",
            Self::PulumiProject => "pulumi-project",
            Self::PulumiState => "pulumi-state",
            Self::TerraformState => "terraform-state",
            Self::TerraformPlan => "terraform-plan",
            Self::Env => "env",
        }
    }

    /// Parses a kind name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The syntax a file is parsed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// YAML (possibly several documents).
    Yaml,
    /// JSON.
    Json,
    /// TOML.
    Toml,
    /// `KEY=value` lines.
    Env,
}

/// What the file name alone says: the syntax to parse with, and the kind when the name decides it.
pub fn classify_name(path: &Path) -> Option<(Syntax, Option<InputKind>)> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower == ".env" || lower.starts_with(".env.") || lower.ends_with(".env") {
        return Some((Syntax::Env, Some(InputKind::Env)));
    }
    if lower.ends_with(".tfstate") || lower.ends_with(".tfstate.backup") {
        return Some((Syntax::Json, None));
    }
    let (stem, syntax) = if let Some(stem) = lower.strip_suffix(".yaml").or_else(|| lower.strip_suffix(".yml")) {
        (stem, Syntax::Yaml)
    } else if let Some(stem) = lower.strip_suffix(".json") {
        (stem, Syntax::Json)
    } else {
        return None;
    };
    let kind = if syntax == Syntax::Yaml && (stem.starts_with("docker-compose") || stem.starts_with("compose")) {
        Some(InputKind::Compose)
    } else if syntax == Syntax::Yaml && name.starts_with("Pulumi.") && name.matches('.').count() >= 2 {
        Some(InputKind::PulumiStackConfig)
    } else if name == "Pulumi.yaml" || name == "Pulumi.yml" {
        Some(InputKind::PulumiProject)
    } else if syntax == Syntax::Yaml
        && (stem.starts_with("values")
            || (stem != "chart" && path.parent().is_some_and(|dir| dir.join("Chart.yaml").is_file())))
    {
        Some(InputKind::HelmValues)
    } else {
        None
    };
    Some((syntax, kind))
}

/// What a document's content says, for files whose name did not decide.
pub fn classify_content(root: &Node) -> Option<InputKind> {
    let has = |key: &str| root.get(key).is_some();
    let int = |key: &str| match root.get(key).map(|n| &n.value) {
        Some(crate::tree::Value::Int(i)) => Some(*i),
        _ => None,
    };
    if root.get("apiVersion").and_then(Node::as_str).is_some() && root.get("kind").and_then(Node::as_str).is_some() {
        return Some(InputKind::Kubernetes);
    }
    if int("version") == Some(3) && root.get("deployment").and_then(Node::as_map).is_some() {
        return Some(InputKind::PulumiState);
    }
    if int("version") == Some(4) && has("resources") {
        return Some(InputKind::TerraformState);
    }
    if has("format_version") && (has("planned_values") || has("resource_changes")) {
        return Some(InputKind::TerraformPlan);
    }
    if root.get("services").and_then(Node::as_map).is_some() {
        return Some(InputKind::Compose);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_decide_kind_and_syntax() {
        let cases = [
            ("deploy/.env", Some((Syntax::Env, Some(InputKind::Env)))),
            ("api.env", Some((Syntax::Env, Some(InputKind::Env)))),
            (".env.local", Some((Syntax::Env, Some(InputKind::Env)))),
            ("docker-compose.override.yml", Some((Syntax::Yaml, Some(InputKind::Compose)))),
            ("compose.yaml", Some((Syntax::Yaml, Some(InputKind::Compose)))),
            ("Pulumi.prod.yaml", Some((Syntax::Yaml, Some(InputKind::PulumiStackConfig)))),
            ("Pulumi.yaml", Some((Syntax::Yaml, Some(InputKind::PulumiProject)))),
            ("pulumi.yaml", Some((Syntax::Yaml, None))),
            ("values-prod.yaml", Some((Syntax::Yaml, Some(InputKind::HelmValues)))),
            ("deploy.yaml", Some((Syntax::Yaml, None))),
            ("terraform.tfstate", Some((Syntax::Json, None))),
            ("plan.json", Some((Syntax::Json, None))),
            ("README.md", None),
        ];
        for (name, expected) in cases {
            assert_eq!(classify_name(Path::new(name)), expected, "{name}");
        }
    }
}

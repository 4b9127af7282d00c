//! Input kinds: what a document is, decided from its file name and content.

use crate::components::ComponentCatalog;
use crate::tree::Node;
use std::fmt;
use std::path::{Path, PathBuf};

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

/// The `[[kinds]]` of `celador.toml`: the kind of files that no naming convention covers.
///
/// A glob matches the name a file is reported by, or its path relative to the configuration
/// file's directory; `*` stops at `/`, `**` crosses directories.
#[derive(Clone, Debug, Default)]
pub struct KindGlobs {
    base: Option<PathBuf>,
    globs: Vec<(globset::GlobMatcher, InputKind)>,
}

impl KindGlobs {
    /// Globs relative to `base` (the configuration's directory), first match wins.
    pub fn new(base: Option<PathBuf>, globs: Vec<(globset::GlobMatcher, InputKind)>) -> Self {
        Self { base, globs }
    }

    /// The kind the first matching glob gives the file reported as `name`, read from `path`.
    pub fn kind_of(&self, name: &str, path: &Path) -> Option<InputKind> {
        if self.globs.is_empty() {
            return None;
        }
        let absolute = std::path::absolute(path).ok();
        let relative = self.base.as_deref().zip(absolute.as_deref()).and_then(|(base, p)| p.strip_prefix(base).ok());
        self.globs
            .iter()
            .find(|(glob, _)| glob.is_match(name) || relative.is_some_and(|r| glob.is_match(r)))
            .map(|(_, kind)| *kind)
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

/// The kinds a run reads: those its rules apply to, and those those draw on as context (a
/// compose file's env files and an env file's compose file, a stack file's project). A file
/// that can only be of another kind is skipped unread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindSet(u16);

impl KindSet {
    /// Every kind.
    pub const ALL: KindSet = KindSet(u16::MAX);

    /// `kinds`, and the kinds they read as context.
    pub fn of(kinds: impl IntoIterator<Item = InputKind>) -> Self {
        let mut set = KindSet(0);
        for kind in kinds {
            set.0 |= 1 << kind as u16;
        }
        for (kind, context) in [
            (InputKind::Compose, InputKind::Env),
            (InputKind::Env, InputKind::Compose),
            (InputKind::PulumiStackConfig, InputKind::PulumiProject),
        ] {
            if set.contains(kind) {
                set.0 |= 1 << context as u16;
            }
        }
        set
    }

    /// Whether `kind` is read.
    pub fn contains(self, kind: InputKind) -> bool {
        self.0 & (1 << kind as u16) != 0
    }

    /// Whether JSON `text` of no telling name may hold a document of a kind read: it must
    /// spell the top-level key its content is recognised by (`"apiVersion"`, `"deployment"`,
    /// `"resources"`, `"format_version"`, `"services"`; see [`classify_content`]). Text with a
    /// `\u` escape may spell a key otherwise, so it always may.
    pub fn may_hold(self, json: &[u8]) -> bool {
        const MARKERS: [(InputKind, &[u8]); 5] = [
            (InputKind::Kubernetes, b"\"apiVersion\""),
            (InputKind::PulumiState, b"\"deployment\""),
            (InputKind::TerraformState, b"\"resources\""),
            (InputKind::TerraformPlan, b"\"format_version\""),
            (InputKind::Compose, b"\"services\""),
        ];
        if self == KindSet::ALL || memchr::memmem::find(json, b"\\u").is_some() {
            return true;
        }
        MARKERS.iter().any(|(kind, marker)| self.contains(*kind) && memchr::memmem::find(json, marker).is_some())
    }
}

/// What the file name alone says: the syntax to parse with, and the kind when the name decides it.
///
/// `None` means the name marks nothing celador reads (`README.md`, `main.rs`): such files are
/// skipped while walking a directory without being read.
pub fn classify_name(path: &Path) -> Option<(Syntax, Option<InputKind>)> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower == ".env" || lower.starts_with(".env.") || lower.ends_with(".env") {
        return Some((Syntax::Env, Some(InputKind::Env)));
    }
    if lower.ends_with(".tfstate") || lower.ends_with(".tfstate.backup") {
        return Some((Syntax::Json, None));
    }
    if lower.ends_with(".toml") {
        return Some((Syntax::Toml, None));
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
    } else if syntax == Syntax::Yaml && is_helm_values_name(path, stem) {
        Some(InputKind::HelmValues)
    } else {
        None
    };
    Some((syntax, kind))
}

/// Helm values by convention: `values*.yaml` (`values.yaml`, `values-prod.yaml`,
/// `values.prod.yaml`), `*-values.yaml`, `*_values.yaml`, `*.values.yaml`, any YAML under a
/// `values/` folder, and YAML beside a `Chart.yaml`.
fn is_helm_values_name(path: &Path, stem: &str) -> bool {
    stem.starts_with("values")
        || stem.ends_with("-values")
        || stem.ends_with("_values")
        || stem.ends_with(".values")
        || path.parent().is_some_and(|dir| dir.components().any(|c| c.as_os_str() == "values"))
        || (stem != "chart" && path.parent().is_some_and(|dir| dir.join("Chart.yaml").is_file()))
}

/// Whether content of this syntax can be classified by what it holds. No input kind is
/// written in TOML, so a TOML file is an input only by `--kind` or `[[kinds]]`.
pub fn classifies_by_content(syntax: Syntax) -> bool {
    matches!(syntax, Syntax::Yaml | Syntax::Json)
}

/// The syntax to parse a file with when its kind is known: the name's syntax (YAML, JSON or
/// TOML hold any tree; `KEY=value` lines only an env file), else what the content looks like. An explicit kind chooses the parser,
/// so a JSON object named `app.env` checked with `--kind kubernetes` is read as JSON.
pub fn syntax_for(kind: InputKind, by_name: Option<Syntax>, text: &str) -> Syntax {
    let is_env = kind == InputKind::Env;
    match by_name {
        Some(syntax) if is_env == (syntax == Syntax::Env) => syntax,
        _ if kind == InputKind::Env => Syntax::Env,
        _ => sniff_syntax(text),
    }
}

/// JSON when the text starts like a JSON object or array, YAML otherwise.
pub fn sniff_syntax(text: &str) -> Syntax {
    if text.trim_start_matches('\u{feff}').trim_start().starts_with(['{', '[']) { Syntax::Json } else { Syntax::Yaml }
}

/// The kind a file that failed to parse evidently meant to be, from lines of its raw text: a
/// Kubernetes manifest (top-level `apiVersion:` and `kind:`, or their JSON keys), a compose
/// file (top-level `services:`). Its errors are then reported; any other unparseable file of
/// no known name is skipped like every file that is not ours.
pub fn evident_kind(syntax: Syntax, text: &str) -> Option<InputKind> {
    let top_level = |key: &str| text.lines().any(|l| l.strip_prefix(key).is_some_and(|rest| rest.starts_with(':')));
    match syntax {
        Syntax::Yaml if top_level("apiVersion") && top_level("kind") => Some(InputKind::Kubernetes),
        Syntax::Yaml if top_level("services") => Some(InputKind::Compose),
        Syntax::Json if text.contains("\"apiVersion\"") && text.contains("\"kind\"") => Some(InputKind::Kubernetes),
        _ => None,
    }
}

/// What a document's content says, for files whose name did not decide. YAML configuring the
/// image of a component some loaded pack declares is Helm values.
pub fn classify_content(root: &Node, syntax: Syntax, declared: &ComponentCatalog) -> Option<InputKind> {
    if !classifies_by_content(syntax) {
        return None;
    }
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
    if syntax == Syntax::Yaml
        && !has("apiVersion")
        && !has("kind")
        && crate::components::configures_declared_image(root, declared)
    {
        return Some(InputKind::HelmValues);
    }
    None
}

/// Whether a document of no known kind looks like deployment configuration all the same (an
/// `image` setting, a top-level `env:` mapping, or a `config:` mapping of namespaced keys like a
/// stack file's), so that skipping it deserves a word to the user: it may be a values file with
/// an unconventional name.
pub fn looks_like_configuration(root: &Node) -> bool {
    const MAX_DEPTH: usize = 4;
    fn has_image(node: &Node, depth: usize) -> bool {
        depth <= MAX_DEPTH
            && match &node.value {
                crate::tree::Value::Map(entries) => entries.iter().any(|e| {
                    (&*e.key == "image" && (e.value.as_str().is_some() || e.value.get("repository").is_some()))
                        || has_image(&e.value, depth + 1)
                }),
                crate::tree::Value::List(items) => items.iter().any(|i| has_image(i, depth + 1)),
                _ => false,
            }
    }
    // CI pipelines (GitHub `jobs:`, GitLab `stages:` and jobs with `script:`, CircleCI and Azure
    // `workflows:`/`steps:`, Bitbucket `pipelines:`) have `env:` and images of their own.
    let workflow = ["jobs", "stages", "workflows", "pipelines", "steps"].iter().any(|k| root.get(k).is_some())
        || root.as_map().is_some_and(|entries| entries.iter().any(|e| e.value.get("script").is_some()));
    !workflow
        && (has_image(root, 0)
            || root.get("config").and_then(Node::as_map).is_some_and(|c| c.iter().any(|e| e.key.contains(':')))
            || root.get("env").and_then(Node::as_map).is_some())
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

#[cfg(test)]
mod kind_set_tests {
    use super::*;

    #[test]
    fn a_kind_set_reads_context_kinds_and_json_that_may_hold_its_kinds() {
        let kubernetes = KindSet::of([InputKind::Kubernetes]);
        assert!(kubernetes.contains(InputKind::Kubernetes) && !kubernetes.contains(InputKind::TerraformState));
        assert!(KindSet::of([InputKind::Compose]).contains(InputKind::Env));
        assert!(KindSet::of([InputKind::Env]).contains(InputKind::Compose));
        assert!(KindSet::of([InputKind::PulumiStackConfig]).contains(InputKind::PulumiProject));
        let state = br#"{"version": 3, "deployment": {"resources": []}}"#;
        assert!(!kubernetes.may_hold(state));
        assert!(kubernetes.may_hold(br#"{"apiVersion": "v1", "kind": "List", "items": []}"#));
        assert!(KindSet::of([InputKind::PulumiState]).may_hold(state));
        // A key spelt with an escape is the same key to the parser.
        assert!(kubernetes.may_hold(br#"{"\u0061piVersion": "v1", "kind": "Pod"}"#));
        assert!(KindSet::ALL.may_hold(b"{}"));
    }
}

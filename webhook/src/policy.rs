//! The rules and configuration the webhook enforces, and the evaluation of one object.

use crate::Error;
use celador_engine::check::Input;
use celador_engine::config::{Config, Ignore};
use celador_engine::diagnostic::{EXPIRED_SUPPRESSION, INVALID_SUPPRESSION, Severity, UNUSED_SUPPRESSION};
use celador_engine::document::path_to;
use celador_engine::eval::budget::Cancel;
use celador_engine::kind::{InputKind, Syntax, classify_name};
use celador_engine::pack::Rule;
use celador_engine::pipeline::Pipeline;
use celador_engine::read::ReadScope;
use celador_engine::secrets::Secrets;
use celador_engine::source::{FileId, SourceMap, Span};
use celador_engine::tree::Node;
use std::path::Path;
use std::sync::Arc;

/// The annotation that exempts an object from rules, when the configuration allows it:
/// `celador.dev/ignore: "PSH-TLS-008,PSH-APP-006: reason"`.
pub const IGNORE_ANNOTATION: &str = "celador.dev/ignore";

/// The file id of the object in its evaluation's source map.
const OBJECT_FILE: FileId = FileId(0);

/// Findings about suppressions themselves; they concern `celador.toml`, not the object.
const SUPPRESSION_NOTICES: [&str; 3] = [UNUSED_SUPPRESSION, EXPIRED_SUPPRESSION, INVALID_SUPPRESSION];

/// The `[webhook]` table of `celador.toml`.
///
/// ```toml
/// [webhook]
/// exclude_namespaces = ["sandbox"]      # allowed without evaluation
/// allow_annotation_exemptions = false   # honour `celador.dev/ignore` on objects
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Namespaces whose objects are allowed without evaluation.
    pub exclude_namespaces: Vec<String>,
    /// Whether the `celador.dev/ignore` annotation may exempt an object from rules. Off by
    /// default: anyone who can write the object could exempt it.
    pub allow_annotation_exemptions: bool,
}

impl Settings {
    /// Reads the `[webhook]` table.
    ///
    /// # Errors
    /// Unknown keys and values of the wrong type.
    pub fn from_table(table: Option<&toml::Table>) -> Result<Self, Error> {
        let mut settings = Self::default();
        let Some(table) = table else { return Ok(settings) };
        for (key, value) in table {
            match key.as_str() {
                "exclude_namespaces" => {
                    let list = value.as_array().ok_or_else(|| {
                        Error::Settings("`exclude_namespaces` must be a list of namespace names".into())
                    })?;
                    for item in list {
                        let ns = item.as_str().ok_or_else(|| {
                            Error::Settings(format!("`exclude_namespaces` holds {item:?}, not a namespace name"))
                        })?;
                        settings.exclude_namespaces.push(ns.to_owned());
                    }
                }
                "allow_annotation_exemptions" => {
                    settings.allow_annotation_exemptions = value
                        .as_bool()
                        .ok_or_else(|| Error::Settings("`allow_annotation_exemptions` must be true or false".into()))?;
                }
                "deployment_rules" => {
                    return Err(Error::Settings(
                        "`deployment_rules` is gone: every rule runs, judging the admitted object as a deployment of \
                         one (rules that need the other objects do not fire); remove the key"
                            .into(),
                    ));
                }
                other => {
                    return Err(Error::Settings(format!(
                        "unknown key `{other}` (expected exclude_namespaces or allow_annotation_exemptions)"
                    )));
                }
            }
        }
        Ok(settings)
    }
}

/// One finding, as the webhook reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule id.
    pub rule: String,
    /// Its severity (after `celador.toml` overrides).
    pub severity: Severity,
    /// The field path inside the object, e.g. `spec.template.spec.containers[0].env`: the
    /// offending value, or the nearest existing parent of a missing one. Empty for the object
    /// as a whole.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// For a finding of a ValidatingAdmissionPolicy's validation: the policy, binding and
    /// actions that decide what the webhook does with it, as the API server would.
    pub admission: Option<Arc<celador_engine::vap::Admission>>,
}

impl Finding {
    /// `RULE-ID path.to.field: message`.
    pub fn line(&self) -> String {
        if self.path.is_empty() {
            format!("{}: {}", self.rule, self.message)
        } else {
            format!("{} {}: {}", self.rule, self.path, self.message)
        }
    }
}

/// A finding that a suppression silenced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    /// The rule id.
    pub rule: String,
    /// The field path.
    pub path: String,
    /// The suppression's reason.
    pub reason: String,
    /// `config` (a `[[ignore]]` entry) or `annotation`.
    pub by: &'static str,
}

/// What evaluating one object found.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    /// Findings, most severe first (then in document order).
    pub findings: Vec<Finding>,
    /// Findings silenced by `[[ignore]]` or an allowed annotation.
    pub suppressed: Vec<Suppressed>,
    /// Where the object was defined, from kustomize/Flux/Helm metadata: `file
    /// deploy/api.yaml in https://… at main`, `Helm release pulumi/api`.
    pub source: Option<String>,
    /// Remarks for the requester (an annotation exemption that was not honoured).
    pub notes: Vec<String>,
}

/// Why an object could not be evaluated; `--on-error` decides its review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The object could not be loaded.
    Invalid(String),
    /// A rule's evaluation was stopped: it went past its budget, or the evaluation was
    /// cancelled (`timed_out`: by its deadline or a shutdown).
    Stopped {
        /// What stopped, naming the rule.
        message: String,
        /// Whether the cancellation, not a rule's budget, stopped it.
        timed_out: bool,
    },
}

/// The rules (those that apply to Kubernetes objects) and the configuration.
pub struct Policy {
    /// The rules and the `[[ignore]]` entries, with the entries' spans moved into the file the
    /// evaluated object is loaded as (each evaluation has its own source map, where the object
    /// is the first file; the spans only locate notices about unused entries, which are dropped).
    pipeline: Pipeline,
    settings: Settings,
}

impl Policy {
    /// Applies `config` (disabled rules, severities, parameters) to the packs' rules, keeps
    /// those that check Kubernetes objects — every scope: the admitted object is a deployment of
    /// one, whose rules read `deployment.complete == false` — and reads the `[webhook]` table.
    ///
    /// # Errors
    /// An invalid `[webhook]` table.
    pub fn new(rules: Vec<Arc<Rule>>, config: Config) -> Result<Self, Error> {
        let settings = Settings::from_table(config.webhook.as_ref())?;
        let known = rules.iter().map(|r| r.id.clone()).collect();
        let rules = config.apply(rules).into_iter().filter(|r| r.kinds.contains(&InputKind::Kubernetes)).collect();
        let ignores =
            config.ignores.into_iter().map(|ignore| Ignore { span: Span::new(OBJECT_FILE, 0, 0), ..ignore }).collect();
        Ok(Self {
            pipeline: Pipeline::new(rules, Config::from_ignores(ignores), known)
                .judging_single_objects()
                .without_inline_suppressions(),
            settings,
        })
    }

    /// The rules evaluated.
    pub fn rules(&self) -> &[Arc<Rule>] {
        self.pipeline.rules()
    }

    /// The `[webhook]` settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Evaluates one object, given as JSON text, under the name suppressions' `path` globs
    /// match (`Deployment/namespace/name`); `old_object` is the object before an UPDATE.
    ///
    /// # Errors
    /// The text is not a JSON object the engine can load, or a rule went past its evaluation
    /// budget.
    pub fn evaluate(&self, name: &str, object: &str, old_object: Option<&str>) -> Result<Evaluation, Failure> {
        self.evaluate_until(name, object, old_object, &Cancel::new())
    }

    /// [`Policy::evaluate`], stopped when `cancel` trips (the review's timeout, a shutdown).
    ///
    /// # Errors
    /// As [`Policy::evaluate`], and [`Failure::Stopped`] with `timed_out` once `cancel`
    /// tripped.
    pub fn evaluate_until(
        &self,
        name: &str,
        object: &str,
        old_object: Option<&str>,
        cancel: &Cancel,
    ) -> Result<Evaluation, Failure> {
        let sources = SourceMap::new();
        let input = Input {
            name: input_name(name),
            path: None,
            bytes: object.as_bytes().to_vec(),
            explicit: true,
            kind: Some(InputKind::Kubernetes),
        };
        let mut loaded = self.pipeline.load(vec![input], &sources, &ReadScope::nothing());
        if let Some(problem) = loaded.problems.first() {
            let message = Secrets::collect(&sources, &[], &[]).scrub(&problem.message).into_owned();
            return Err(Failure::Invalid(format!("the object could not be loaded: {message}")));
        }
        if let (Some(old), Some(doc)) = (old_object, loaded.documents.first_mut()) {
            // The object before an UPDATE, for rules that compare (`oldDoc`); it is loaded into
            // the same source map, after the object, and never reported on.
            let file = sources.add(celador_engine::source::SourceFile::new(format!("{name} (old)"), None, old));
            if let Ok(root) = celador_engine::load::load_json(file, &sources.get(file).text) {
                doc.previous = Some(root);
            }
        }
        match loaded.documents.first() {
            None => return Err(Failure::Invalid("the object is empty".to_owned())),
            Some(doc) if doc.file != OBJECT_FILE => {
                return Err(Failure::Invalid("internal error: the object is not the first source file".to_owned()));
            }
            Some(_) => {}
        }
        let mut outcome = self.pipeline.run_loaded_until(&loaded, &sources, cancel);
        // The answer and the log carry messages, never the object's text, so scrubbing them
        // of the secrets found (before suppressions: a suppressed secret stays secret) is all
        // there is to do.
        let secrets = std::mem::take(&mut outcome.secrets);
        secrets.scrub_messages(&mut outcome.kept, &mut outcome.problems);
        for (d, _) in &mut outcome.suppressed {
            secrets.scrub_in_place(&mut d.message);
        }
        // A rule that did not finish, or failed, decided nothing: the object is not known to
        // comply, and `--on-error` decides the review.
        if let Some(message) = &outcome.stopped {
            return Err(Failure::Stopped {
                message: secrets.scrub(message).into_owned(),
                timed_out: cancel.is_cancelled(),
            });
        }
        if let Some(problem) = outcome.problems.first() {
            return Err(Failure::Invalid(format!("a rule could not be evaluated: {}", problem.message)));
        }
        let doc = &loaded.documents[0];

        let mut evaluation = Evaluation { source: source_of(&doc.root), ..Evaluation::default() };
        let path = |span| path_to(&doc.root, span).unwrap_or_default();
        for (d, reason) in outcome.suppressed {
            evaluation.suppressed.push(Suppressed {
                rule: d.rule.to_string(),
                path: path(d.primary.span),
                reason,
                by: "config",
            });
        }
        let exemptions = self.exemptions(&doc.root, &mut evaluation.notes);
        for d in outcome.kept {
            if SUPPRESSION_NOTICES.contains(&&*d.rule) {
                continue;
            }
            let path = path(d.primary.span);
            match exemptions.iter().find(|(rules, _)| rules.iter().any(|r| r.eq_ignore_ascii_case(&d.rule))) {
                Some((_, reason)) => evaluation.suppressed.push(Suppressed {
                    rule: d.rule.to_string(),
                    path,
                    reason: reason.clone(),
                    by: "annotation",
                }),
                None => evaluation.findings.push(Finding {
                    admission: self.pipeline.rules().iter().find(|r| r.id == d.rule).and_then(|r| r.admission.clone()),
                    rule: d.rule.to_string(),
                    severity: d.severity,
                    path,
                    message: d.message,
                }),
            }
        }
        evaluation.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for note in &mut evaluation.notes {
            secrets.scrub_in_place(note);
        }
        Ok(evaluation)
    }

    /// The `celador.dev/ignore` entries of an object, when the configuration honours them.
    fn exemptions(&self, root: &Node, notes: &mut Vec<String>) -> Vec<(Vec<String>, String)> {
        let Some(text) = root.path(&["metadata", "annotations", IGNORE_ANNOTATION]).and_then(Node::as_str) else {
            return Vec::new();
        };
        if !self.settings.allow_annotation_exemptions {
            notes.push(format!(
                "annotation {IGNORE_ANNOTATION} ignored: exemptions by annotation are off (celador.toml [webhook] allow_annotation_exemptions)"
            ));
            return Vec::new();
        }
        let mut entries = Vec::new();
        for part in text.split(['\n', ';']).map(str::trim).filter(|p| !p.is_empty()) {
            let parsed = part.split_once(':').and_then(|(rules, reason)| {
                let rules: Vec<String> =
                    rules.split(',').map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned).collect();
                let reason = reason.trim();
                (!rules.is_empty() && !reason.is_empty()).then(|| (rules, reason.to_owned()))
            });
            match parsed {
                Some(entry) => entries.push(entry),
                None => notes.push(format!(
                    "annotation {IGNORE_ANNOTATION} entry `{part}` ignored: write `RULE-ID[,RULE-ID]: reason`"
                )),
            }
        }
        entries
    }
}

/// The input name for the engine: the object's name, unless a file name would make the engine
/// parse it as something other than JSON (an object named `app.env`).
fn input_name(name: &str) -> String {
    match classify_name(Path::new(name)) {
        Some((syntax, _)) if syntax != Syntax::Json => format!("{name}.json"),
        _ => name.to_owned(),
    }
}

/// Where an object was defined: kustomize's `config.kubernetes.io/origin` (also set by Flux),
/// Helm's release annotations, Flux's ownership labels.
pub(crate) fn source_of(root: &Node) -> Option<String> {
    let annotation = |key: &str| root.path(&["metadata", "annotations", key]).and_then(Node::as_str);
    let label = |key: &str| root.path(&["metadata", "labels", key]).and_then(Node::as_str);
    let mut parts = Vec::new();
    if let Some(origin) = annotation("config.kubernetes.io/origin") {
        let field = |name: &str| {
            origin.lines().find_map(|line| {
                let value = line.strip_prefix(name)?.strip_prefix(':')?.trim();
                let value = value.trim_matches(|c| c == '"' || c == '\'');
                (!value.is_empty()).then_some(value)
            })
        };
        if let Some(path) = field("path") {
            let mut text = format!("file {path}");
            if let Some(repo) = field("repo") {
                text.push_str(&format!(" in {repo}"));
            }
            if let Some(reference) = field("ref") {
                text.push_str(&format!(" at {reference}"));
            }
            parts.push(text);
        }
    }
    if let Some(release) = annotation("meta.helm.sh/release-name") {
        match annotation("meta.helm.sh/release-namespace") {
            Some(ns) => parts.push(format!("Helm release {ns}/{release}")),
            None => parts.push(format!("Helm release {release}")),
        }
    }
    for (label_prefix, what) in
        [("kustomize.toolkit.fluxcd.io", "Flux Kustomization"), ("helm.toolkit.fluxcd.io", "Flux HelmRelease")]
    {
        if let Some(name) = label(&format!("{label_prefix}/name")) {
            match label(&format!("{label_prefix}/namespace")) {
                Some(ns) => parts.push(format!("{what} {ns}/{name}")),
                None => parts.push(format!("{what} {name}")),
            }
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_strict() {
        let table: toml::Table =
            toml::from_str("exclude_namespaces = [\"sandbox\"]\nallow_annotation_exemptions = true\n").unwrap();
        let settings = Settings::from_table(Some(&table)).unwrap();
        assert_eq!(settings.exclude_namespaces, ["sandbox"]);
        assert!(settings.allow_annotation_exemptions);
        let table: toml::Table = toml::from_str("exclude_namespace = [\"x\"]\n").unwrap();
        assert!(Settings::from_table(Some(&table)).unwrap_err().to_string().contains("unknown key"));
    }

    #[test]
    fn rules_compare_an_update_with_the_old_object() {
        let sources = SourceMap::new();
        let pack = "[pack]\nid = \"t\"\nversion = \"0\"\ntitle = \"t\"\n[[rule]]\nid = \"T-1\"\ntitle = \"t\"\nseverity = \"high\"\nkinds = [\"kubernetes\"]\nassert = '''oldDoc == null || doc.spec.replicas >= oldDoc.spec.replicas'''\nmessage = 'fewer replicas'\n";
        let file = celador_engine::pack::PackFile {
            relative: "p.toml".into(),
            display: "p.toml".into(),
            path: None,
            text: Arc::from(pack),
        };
        let rules = celador_engine::pack::load_pack(vec![file], &sources).unwrap().rules;
        let policy = Policy::new(rules, Config::default()).unwrap();
        let object =
            |n: u32| format!(r#"{{"apiVersion": "apps/v1", "kind": "Deployment", "spec": {{"replicas": {n}}}}}"#);
        let created = policy.evaluate("Deployment/x/y", &object(1), None).unwrap();
        assert!(created.findings.is_empty());
        let scaled_down = policy.evaluate("Deployment/x/y", &object(1), Some(&object(3))).unwrap();
        assert_eq!(scaled_down.findings.len(), 1);
        assert_eq!(scaled_down.findings[0].rule, "T-1");
    }

    #[test]
    fn sources_are_cited_from_kustomize_helm_and_flux_metadata() {
        let source = |json: &str| {
            let root = celador_engine::load::load_json(OBJECT_FILE, json).unwrap();
            source_of(&root)
        };
        let kustomized = r#"{"metadata": {"annotations": {"config.kubernetes.io/origin": "path: apps/api/deployment.yaml\nrepo: https://git.example/platform\nref: v1.2\n"}}}"#;
        assert_eq!(
            source(kustomized).as_deref(),
            Some("file apps/api/deployment.yaml in https://git.example/platform at v1.2")
        );
        let helm = r#"{"metadata": {"annotations": {"meta.helm.sh/release-name": "api", "meta.helm.sh/release-namespace": "pulumi"},
            "labels": {"helm.toolkit.fluxcd.io/name": "api", "helm.toolkit.fluxcd.io/namespace": "flux-system"}}}"#;
        assert_eq!(source(helm).as_deref(), Some("Helm release pulumi/api; Flux HelmRelease flux-system/api"));
        assert_eq!(source(r#"{"metadata": {"name": "x"}}"#), None);
    }

    #[test]
    fn names_never_make_json_parse_as_env() {
        assert_eq!(input_name("ConfigMap/ns/app.env"), "ConfigMap/ns/app.env.json");
        assert_eq!(input_name("Deployment/ns/api"), "Deployment/ns/api");
    }
}

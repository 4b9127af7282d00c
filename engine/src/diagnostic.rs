//! The one diagnostic model every renderer reads.

use crate::source::Span;
use std::fmt;
use std::sync::Arc;

/// A rule failed at run time; the finding names the rule and the CEL error.
pub const RULE_ERROR: &str = "rule-error";
/// A rule's evaluation was stopped: it went past its budget of steps or memory, or was
/// cancelled (`crate::eval::budget`); the finding names the rule and the limit.
pub const EVALUATION_LIMIT: &str = "evaluation-limit";
/// A suppression comment that cannot be read, or that names an unknown rule.
pub const INVALID_SUPPRESSION: &str = "invalid-suppression";
/// A suppression past its `until` date.
pub const EXPIRED_SUPPRESSION: &str = "expired-suppression";
/// A suppression that matched no finding.
pub const UNUSED_SUPPRESSION: &str = "unused-suppression";
/// The ids of the findings celador reports about itself rather than for a pack's rule.
pub const PSEUDO_RULES: [&str; 5] =
    [RULE_ERROR, EVALUATION_LIMIT, INVALID_SUPPRESSION, EXPIRED_SUPPRESSION, UNUSED_SUPPRESSION];

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational; never fails a run unless `--fail-on info`.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [Self::Info, Self::Low, Self::Medium, Self::High, Self::Critical];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Parses a lowercase name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A location with a short explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What is there, shown beside the snippet.
    pub message: String,
}

/// One finding of one rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// The rule id, e.g. `PSH-TLS-008`; `rule-error` when a rule failed to evaluate.
    pub rule: Arc<str>,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's title.
    pub title: Arc<str>,
    /// What is wrong here, with the values that matter (never a secret's value).
    pub message: String,
    /// The offending value, or the nearest existing parent of what is missing.
    pub primary: Label,
    /// Other places that take part in the finding.
    pub related: Vec<Label>,
    /// How to fix it.
    pub help: Option<Arc<str>>,
    /// Where the rule is documented.
    pub docs: Option<Arc<str>>,
    /// Spans whose text must never be shown: secret values.
    pub masked: Vec<Span>,
    /// A path to the finding inside its document that does not change when lines move,
    /// e.g. `Deployment/pulumi-api/containers[api]/env/DATABASE_CA_CERTIFICATE`.
    pub logical_path: String,
    /// The template a rendered document came from (`# Source:` of `helm template` output).
    pub origin: Option<String>,
}

impl Diagnostic {
    /// A fingerprint that identifies the finding across runs, reformatting and line moves:
    /// SHA-256 of the rule, the file name and the logical path (never line numbers), as 32 hex
    /// digits. Baselines, SARIF `partialFingerprints` and GitLab use it.
    pub fn fingerprint(&self, file_name: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for part in [&*self.rule, file_name, &self.logical_path] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

/// A problem with an input or a pack that stops it from being checked (exit code 2).
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Where, when known; otherwise `file` names the input.
    pub span: Option<Span>,
    /// The input's name when there is no span (e.g. an unreadable file).
    pub file: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A located problem.
    pub fn at(span: Span, message: impl Into<String>) -> Self {
        Self { span: Some(span), file: None, message: message.into() }
    }

    /// A problem with a whole file, or with the run when `file` is `None`.
    pub fn file(file: Option<String>, message: impl Into<String>) -> Self {
        Self { span: None, file, message: message.into() }
    }
}

//! Reading an `AdmissionReview` and writing the response.
//!
//! The body is read twice over, cheaply: first leniently (only `apiVersion`, `kind`,
//! `request.uid` and the raw `object`/`oldObject`), so that even a request the typed model
//! rejects gets an answer echoing its `uid` and `apiVersion` (the API server discards a
//! response whose uid differs); then into kube's `AdmissionRequest`. The object's raw JSON
//! text is what the engine loads, so findings keep their positions and field paths.

use crate::malformed;
use crate::policy::{Evaluation, Finding};
use celador_engine::diagnostic::Severity;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview};
use kube::core::{DynamicObject, Status, TypeMeta};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The only version spoken.
pub(crate) const API_VERSION: &str = "admission.k8s.io/v1";
const KIND: &str = "AdmissionReview";

/// Warnings longer than this are cut (the API server's advice; it truncates at 256).
pub(crate) const WARNING_MAX: usize = 120;
/// Warnings past this many characters in all are dropped by the API server.
pub(crate) const WARNINGS_TOTAL_MAX: usize = 4096;
/// Findings listed in a denial message; the rest are counted.
const DENY_LIST_MAX: usize = 20;

#[derive(Deserialize)]
#[serde(expecting = "an AdmissionReview object")]
struct Envelope<'a> {
    #[serde(rename = "apiVersion")]
    api_version: Option<serde_json::Value>,
    kind: Option<serde_json::Value>,
    #[serde(borrow)]
    request: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RequestHead<'a> {
    uid: Option<serde_json::Value>,
    #[serde(borrow)]
    object: Option<&'a RawValue>,
    #[serde(rename = "oldObject", borrow)]
    old_object: Option<&'a RawValue>,
}

/// A request that is not a valid `AdmissionReview` v1: answered with HTTP 400.
#[derive(Debug)]
pub(crate) struct BadRequest {
    /// The request's uid, when it could be read.
    pub(crate) uid: Option<String>,
    /// The review's apiVersion, when it could be read.
    pub(crate) api_version: Option<String>,
    /// What is wrong.
    pub(crate) message: String,
}

/// A valid review.
pub(crate) struct Review<'a> {
    /// The typed request (kube's model).
    pub(crate) request: AdmissionRequest<DynamicObject>,
    /// `request.object` as sent.
    pub(crate) object: Option<&'a RawValue>,
    /// `request.oldObject` as sent (UPDATE and DELETE); rules read it as `oldDoc`.
    pub(crate) old_object: Option<&'a RawValue>,
}

impl Review<'_> {
    /// When a built-in controller (the ReplicaSet, Job, StatefulSet… controllers of
    /// kube-controller-manager) creates an object from a template it owns, e.g. the Pods of a
    /// ReplicaSet: the owner, whose template this is, is where findings are reported. Checking
    /// the copies again would only turn a finding on an existing Deployment into Pods that
    /// fail to start, the outage a webhook must not cause. The requester identity is checked,
    /// not just the ownerReference, which anyone could write.
    pub(crate) fn controller_owned(&self) -> Option<String> {
        let user = self.request.user_info.username.as_deref().unwrap_or_default();
        let controller = user == "system:kube-controller-manager"
            || (user.starts_with("system:serviceaccount:kube-system:") && user.ends_with("-controller"));
        if !controller {
            return None;
        }
        let object = self.request.object.as_ref()?;
        let owner = object.metadata.owner_references.as_ref()?.iter().find(|o| o.controller == Some(true))?;
        Some(format!("{}/{}", owner.kind, owner.name))
    }

    /// `Kind/namespace/name` (or `Kind/name` for cluster-scoped objects); the generateName
    /// prefix stands in for a name not assigned yet.
    pub(crate) fn object_name(&self) -> String {
        let r = &self.request;
        let name = if r.name.is_empty() {
            r.object.as_ref().and_then(|o| o.metadata.generate_name.clone()).unwrap_or_else(|| "?".to_owned())
        } else {
            r.name.clone()
        };
        match r.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            Some(ns) => format!("{}/{ns}/{name}", r.kind.kind),
            None => format!("{}/{name}", r.kind.kind),
        }
    }
}

/// Parses a body. Errors say where and what was expected, never what was found
/// ([`crate::malformed`]); the uid is echoed (the API server matches answers by it) and the
/// apiVersion when it has the shape of one.
pub(crate) fn parse(body: &[u8]) -> Result<Review<'_>, BadRequest> {
    let bad =
        |uid: Option<String>, api_version: Option<String>, message: String| BadRequest { uid, api_version, message };
    let envelope: Envelope = malformed::parse(body, body, "").map_err(|e| bad(None, None, e))?;
    let api_version =
        envelope.api_version.as_ref().and_then(|v| v.as_str()).filter(|v| is_api_version(v)).map(str::to_owned);
    let head: Option<RequestHead> = envelope.request.and_then(|raw| serde_json::from_str(raw.get()).ok());
    let uid = head.as_ref().and_then(|h| h.uid.as_ref()).and_then(|u| u.as_str()).map(str::to_owned);
    if envelope.api_version.as_ref().and_then(|v| v.as_str()) != Some(API_VERSION) {
        let found = match (&api_version, &envelope.api_version) {
            (Some(version), _) => version.clone(),
            (None, None) => "(none)".to_owned(),
            (None, Some(serde_json::Value::String(_))) => "(a string that is not an API version)".to_owned(),
            (None, Some(other)) => format!("({})", json_type(other)),
        };
        return Err(bad(
            uid,
            api_version,
            format!(
                "unsupported AdmissionReview apiVersion {found}: this webhook speaks {API_VERSION} only (set admissionReviewVersions: [\"v1\"])"
            ),
        ));
    }
    if envelope.kind.as_ref().and_then(|k| k.as_str()) != Some(KIND) {
        let found = envelope.kind.as_ref().map_or("none", json_type);
        return Err(bad(uid, api_version, format!("expected kind AdmissionReview, found {found}")));
    }
    let Some(raw_request) = envelope.request else {
        return Err(bad(uid, api_version, "the AdmissionReview has no request".to_owned()));
    };
    let mut request: AdmissionRequest<DynamicObject> = malformed::parse(body, raw_request.get().as_bytes(), "request")
        .map_err(|e| bad(uid.clone(), api_version.clone(), format!("invalid AdmissionReview request: {e}")))?;
    if request.uid.is_empty() {
        return Err(bad(uid, api_version, "the AdmissionReview request has no uid".to_owned()));
    }
    request.types = TypeMeta { api_version: API_VERSION.to_owned(), kind: KIND.to_owned() };
    let head = head.unwrap_or(RequestHead { uid: None, object: None, old_object: None });
    Ok(Review { request, object: not_null(head.object), old_object: not_null(head.old_object) })
}

/// `group/version` as Kubernetes writes it (`admission.k8s.io/v1beta1`): what may be echoed
/// of an apiVersion this webhook does not speak.
fn is_api_version(text: &str) -> bool {
    text.len() <= 63
        && text.split_once('/').is_some_and(|(group, version)| {
            !group.is_empty()
                && group.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
                && version.strip_prefix('v').is_some_and(|v| {
                    v.starts_with(|c: char| c.is_ascii_digit())
                        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                })
        })
}

/// A found value's JSON type, not the value.
fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "another string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

fn not_null(raw: Option<&RawValue>) -> Option<&RawValue> {
    raw.filter(|r| r.get() != "null")
}

/// The body of a 400 answer: an AdmissionReview denying with the reason, echoing what could
/// be read.
pub(crate) fn bad_request_body(bad: &BadRequest) -> AdmissionReview<DynamicObject> {
    let mut response = AdmissionResponse::invalid(&bad.message);
    response.uid = bad.uid.clone().unwrap_or_default();
    response.result.code = 400;
    response.result.reason = "BadRequest".to_owned();
    if let Some(v) = &bad.api_version {
        response.types.api_version.clone_from(v);
    }
    response.into_review()
}

/// A response allowing the request, with warnings.
pub(crate) fn allow(review: &Review, warnings: Vec<String>) -> AdmissionReview<DynamicObject> {
    let mut response = AdmissionResponse::from(&review.request);
    if !warnings.is_empty() {
        response.warnings = Some(warnings);
    }
    response.into_review()
}

/// A response denying the request.
pub(crate) fn deny(
    review: &Review,
    code: u16,
    reason: &str,
    message: String,
    warnings: Vec<String>,
) -> AdmissionReview<DynamicObject> {
    let mut response = AdmissionResponse::from(&review.request);
    response.allowed = false;
    response.result = Status::failure(&message, reason);
    response.result.code = code;
    if !warnings.is_empty() {
        response.warnings = Some(warnings);
    }
    response.into_review()
}

/// The denial message: the object, where it came from, and one line per finding.
pub(crate) fn deny_message(object: &str, evaluation: &Evaluation, denying: &[&Finding], deny_on: Severity) -> String {
    let mut message = format!(
        "celador: {object} has {} finding{} at or above {deny_on}",
        denying.len(),
        if denying.len() == 1 { "" } else { "s" }
    );
    if let Some(source) = &evaluation.source {
        message.push_str(&format!(" (defined in {source})"));
    }
    message.push(':');
    for finding in denying.iter().take(DENY_LIST_MAX) {
        message.push('\n');
        message.push_str(&finding.line());
    }
    if denying.len() > DENY_LIST_MAX {
        message.push_str(&format!("\n… and {} more", denying.len() - DENY_LIST_MAX));
    }
    message.push_str("\n(`celador explain RULE-ID` tells how to fix each)");
    message
}

/// What ValidatingAdmissionPolicies decided about an object, in the API server's words.
#[derive(Debug, Default)]
pub(crate) struct PolicyVerdicts {
    /// `ValidatingAdmissionPolicy 'p' with binding 'b' denied request: message`, for `Deny`.
    pub(crate) denials: Vec<String>,
    /// The HTTP code of the first denial's `reason` (`Invalid` 422 unless set).
    pub(crate) code: Option<(u16, &'static str)>,
    /// `Validation failed for ValidatingAdmissionPolicy 'p' with binding 'b': message`, for `Warn`.
    pub(crate) warnings: Vec<String>,
    /// The `validation.policy.admission.k8s.io/validation_failure` audit annotation, for `Audit`.
    pub(crate) audit: Vec<serde_json::Value>,
}

/// The audit annotation the API server records failed `Audit` validations under.
pub(crate) const VALIDATION_FAILURE_ANNOTATION: &str = "validation.policy.admission.k8s.io/validation_failure";

/// Splits the findings of ValidatingAdmissionPolicies by their bindings' actions.
pub(crate) fn policy_verdicts(findings: &[Finding]) -> PolicyVerdicts {
    let mut verdicts = PolicyVerdicts::default();
    for finding in findings {
        let Some(admission) = &finding.admission else { continue };
        let (policy, binding) = (&admission.policy, &admission.binding);
        if admission.actions.deny {
            verdicts.denials.push(format!(
                "ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: {}",
                finding.message
            ));
            if verdicts.code.is_none() {
                verdicts.code = Some(match admission.reason.as_deref() {
                    Some("Forbidden") => (403, "Forbidden"),
                    Some("Unauthorized") => (401, "Unauthorized"),
                    Some("RequestEntityTooLarge") => (413, "RequestEntityTooLarge"),
                    _ => (422, "Invalid"),
                });
            }
        }
        if admission.actions.warn {
            verdicts.warnings.push(format!(
                "Validation failed for ValidatingAdmissionPolicy '{policy}' with binding '{binding}': {}",
                finding.message
            ));
        }
        if admission.actions.audit {
            let mut actions = Vec::new();
            for (on, name) in
                [(admission.actions.deny, "Deny"), (admission.actions.warn, "Warn"), (admission.actions.audit, "Audit")]
            {
                if on {
                    actions.push(name);
                }
            }
            verdicts.audit.push(serde_json::json!({
                "message": finding.message,
                "policy": &**policy,
                "binding": &**binding,
                "expressionIndex": admission.index,
                "validationActions": actions,
            }));
        }
    }
    verdicts
}

/// Warnings within the API server's limits: each at most [`WARNING_MAX`] characters (cut with
/// `…`), [`WARNINGS_TOTAL_MAX`] in all; what does not fit is counted in a last warning.
pub(crate) fn limit_warnings(lines: impl IntoIterator<Item = String>) -> Vec<String> {
    let lines: Vec<String> = lines.into_iter().map(|l| truncate(&l, WARNING_MAX)).collect();
    let mut out = Vec::new();
    let mut total = 0;
    for (i, line) in lines.iter().enumerate() {
        let len = line.chars().count();
        let rest = lines.len() - i - 1;
        // Keep room for the "… N more" line while more follow.
        let reserve = if rest > 0 { 40 } else { 0 };
        if total + len + reserve > WARNINGS_TOTAL_MAX {
            out.push(format!("… and {} more findings (see the webhook's log)", lines.len() - i));
            break;
        }
        total += len;
        out.push(line.clone());
    }
    out
}

/// Characters of the message a warning keeps at least before its field path is shortened.
const MESSAGE_MIN: usize = 40;

/// One finding as a warning of at most [`WARNING_MAX`] characters: `PREFIX RULE-ID field.path:
/// message`. The rule id is always whole (it is what `celador explain` takes), and so is the
/// field path unless the message would keep fewer than [`MESSAGE_MIN`] characters; then its
/// leading segments give way (`…containers[0].env`). The message is shortened in steps, each
/// taken only while the line is still too long:
///
/// 1. parenthesised asides go (`(looked for Ingress spec.tls, …)`);
/// 2. what follows the first `; ` goes (the remedy, which `celador explain` gives in full);
/// 3. a leading subject naming the container the path already points into goes
///    (`API container `pulumi-api` connects…` under `…containers[0]…` → `connects…`);
/// 4. the rest is cut at a word boundary, ending with `…`.
pub(crate) fn warning_line(prefix: &str, finding: &Finding) -> String {
    let full = format!("{prefix}{}", finding.line());
    if full.chars().count() <= WARNING_MAX {
        return full;
    }
    let head = format!("{prefix}{}", finding.rule);
    let line = |path: &str, message: &str| {
        if path.is_empty() { format!("{head}: {message}") } else { format!("{head} {path}: {message}") }
    };
    let fits = |path: &str, message: &str| line(path, message).chars().count() <= WARNING_MAX;
    let mut message = finding.message.clone();
    let steps: [&dyn Fn(&str) -> String; 3] =
        [&without_asides, &without_remedy, &|m: &str| without_container_subject(m, &finding.path)];
    for step in steps {
        if fits(&finding.path, &message) {
            break;
        }
        message = step(&message);
    }
    let mut path = finding.path.clone();
    let room = |path: &str| WARNING_MAX.saturating_sub(line(path, "").chars().count());
    while room(&path) < MESSAGE_MIN.min(message.chars().count()) {
        match without_first_segment(&path) {
            Some(shorter) => path = shorter,
            None => break,
        }
    }
    truncate(&line(&path, &cut_at_word(&message, room(&path))), WARNING_MAX)
}

/// The message without ` (…)` groups.
fn without_asides(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut depth = 0usize;
    for c in message.chars() {
        match c {
            '(' if depth > 0 || out.ends_with(' ') => {
                if depth == 0 {
                    out.pop();
                }
                depth += 1;
            }
            ')' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    if depth > 0 { message.to_owned() } else { out }
}

/// The message up to its first `; `.
fn without_remedy(message: &str) -> String {
    message.split_once("; ").map_or_else(|| message.to_owned(), |(first, _)| first.to_owned())
}

/// `Word container `name` rest` → `rest`, when `path` points into a container.
fn without_container_subject(message: &str, path: &str) -> String {
    if !path.contains("ontainers[") {
        return message.to_owned();
    }
    let Some((subject, rest)) = message.split_once(" container `") else { return message.to_owned() };
    if subject.contains(' ') || subject.is_empty() {
        return message.to_owned();
    }
    match rest.split_once("` ") {
        Some((name, rest)) if !name.contains('`') && !rest.is_empty() => rest.to_owned(),
        _ => message.to_owned(),
    }
}

/// `a.b["c.d"].e` → `…b["c.d"].e`; `None` when one segment is left.
fn without_first_segment(path: &str) -> Option<String> {
    let body = path.strip_prefix('…').unwrap_or(path);
    let mut quoted = false;
    let mut previous = '\0';
    for (i, c) in body.char_indices() {
        match c {
            '"' if previous != '\\' => quoted = !quoted,
            '.' if !quoted && i > 0 => return Some(format!("…{}", &body[i + 1..])),
            _ => {}
        }
        previous = c;
    }
    None
}

/// At most `max` characters of `text`: cut after its last whole word that fits, ending with `…`.
fn cut_at_word(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let kept: String = text.chars().take(max - 1).collect();
    let next = text.chars().nth(max - 1);
    let whole = if next.is_some_and(char::is_whitespace) {
        kept.as_str()
    } else {
        // Back to the last space, unless that drops more than half of what fits.
        match kept.rfind(' ') {
            Some(at) if kept[..at].chars().count() * 2 >= max => &kept[..at],
            _ => kept.as_str(),
        }
    };
    format!("{}…", whole.trim_end_matches([' ', ',', ';']))
}

/// Cuts `text` to at most `max` characters, ending with `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_respect_the_api_server_limits() {
        let long = "x".repeat(500);
        let warnings = limit_warnings((0..100).map(|i| format!("RULE-{i} {long}")));
        assert!(warnings.iter().all(|w| w.chars().count() <= WARNING_MAX));
        assert!(warnings.iter().map(|w| w.chars().count()).sum::<usize>() <= WARNINGS_TOTAL_MAX);
        assert!(warnings.last().unwrap().contains("more findings"), "{warnings:?}");
        assert_eq!(truncate("héllo wörld", 5), "héll…");
        assert_eq!(limit_warnings(vec!["a".to_owned()]), ["a"]);
    }

    fn finding(rule: &str, path: &str, message: &str) -> Finding {
        Finding {
            rule: rule.to_owned(),
            severity: Severity::High,
            path: path.to_owned(),
            message: message.to_owned(),
            admission: None,
        }
    }

    /// A long warning keeps its rule id, its field path and the decisive start of its message.
    #[test]
    fn long_warnings_keep_the_rule_id_the_field_path_and_what_is_wrong() {
        let tls = finding(
            "PSH-TLS-008",
            "spec.template.spec.containers[0].env",
            "API container `pulumi-api` connects to MySQL without TLS: DATABASE_CA_CERTIFICATE and DATABASE_MIN_TLS_VERSION not set",
        );
        assert_eq!(
            warning_line("(would deny) ", &tls),
            "(would deny) PSH-TLS-008 spec.template.spec.containers[0].env: connects to MySQL without TLS: DATABASE_CA_CERTIFICATE…"
        );
        assert_eq!(
            warning_line("", &tls),
            "PSH-TLS-008 spec.template.spec.containers[0].env: connects to MySQL without TLS: DATABASE_CA_CERTIFICATE and…"
        );
        // Asides and the remedy go before any word of what is wrong.
        let image = finding(
            "PSH-APP-006",
            "spec.template.spec.containers[0].image",
            "The API image `pulumi/service:latest` uses the moving tag `latest` and no digest; pin a dated release tag or a digest",
        );
        assert_eq!(
            warning_line("", &image),
            "PSH-APP-006 spec.template.spec.containers[0].image: The API image `pulumi/service:latest` uses the moving tag `latest`…"
        );
        assert_eq!(
            warning_line("(would deny) ", &image),
            "(would deny) PSH-APP-006 spec.template.spec.containers[0].image: The API image `pulumi/service:latest` uses the moving…"
        );
        let tls1 = finding(
            "PSH-TLS-001",
            "spec.template.spec.containers[1].env",
            "Console container `pulumi-console` serves plain HTTP (CONSOLE_TLS_CERTIFICATE and CONSOLE_TLS_PRIVATE_KEY are not set) and nothing in this deployment terminates TLS in front of it",
        );
        assert_eq!(
            warning_line("", &tls1),
            "PSH-TLS-001 spec.template.spec.containers[1].env: serves plain HTTP and nothing in this deployment terminates TLS in…"
        );
        // A path too long to leave the message room loses its leading segments, never the rule id.
        let deep = finding(
            "PSH-SEC-003",
            "spec.jobTemplate.spec.template.spec.initContainers[12].env[34].valueFrom.configMapKeyRef[\"some.dotted.key\"]",
            "`SMTP_PASSWORD` comes from a ConfigMap, which is not meant for secrets",
        );
        let line = warning_line("(would deny) ", &deep);
        assert_eq!(
            line,
            "(would deny) PSH-SEC-003 …env[34].valueFrom.configMapKeyRef[\"some.dotted.key\"]: `SMTP_PASSWORD` comes from a ConfigMap…"
        );
        // Short lines are left alone; every line is within the limit.
        let short =
            finding("PSH-NET-007", "metadata.namespace", "No NetworkPolicy restricts which pods may reach the API");
        assert_eq!(
            warning_line("", &short),
            "PSH-NET-007 metadata.namespace: No NetworkPolicy restricts which pods may reach the API"
        );
        for f in [&tls, &image, &tls1, &deep, &short] {
            for prefix in ["", "(would deny) "] {
                let w = warning_line(prefix, f);
                assert!(w.chars().count() <= WARNING_MAX, "{w}");
                assert!(w.starts_with(&format!("{prefix}{} ", f.rule)), "{w}");
            }
        }
    }

    #[test]
    fn lenient_parse_echoes_uid_of_a_bad_review() {
        let body = br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u-1"}}"#;
        let bad = parse(body).err().unwrap();
        assert_eq!(bad.uid.as_deref(), Some("u-1"));
        assert_eq!(bad.api_version.as_deref(), Some("admission.k8s.io/v1beta1"));
        let body =
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-2","object":"x"}}"#;
        let bad = parse(body).err().unwrap();
        assert_eq!(bad.uid.as_deref(), Some("u-2"));
        assert!(bad.message.contains("invalid AdmissionReview request"), "{}", bad.message);
    }
}

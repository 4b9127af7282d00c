//! Reading an `AdmissionReview` and writing the response.
//!
//! The body is read twice over, cheaply: first leniently (only `apiVersion`, `kind`,
//! `request.uid` and the raw `object`/`oldObject`), so that even a request the typed model
//! rejects gets an answer echoing its `uid` and `apiVersion` (the API server discards a
//! response whose uid differs); then into kube's `AdmissionRequest`. The object's raw JSON
//! text is what the engine loads, so findings keep their positions and field paths.

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

/// Parses a body.
pub(crate) fn parse(body: &[u8]) -> Result<Review<'_>, BadRequest> {
    let bad =
        |uid: Option<String>, api_version: Option<String>, message: String| BadRequest { uid, api_version, message };
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| bad(None, None, format!("malformed JSON: {e} (expected an AdmissionReview object)")))?;
    let api_version = envelope.api_version.as_ref().and_then(|v| v.as_str()).map(str::to_owned);
    let head: Option<RequestHead> = envelope.request.and_then(|raw| serde_json::from_str(raw.get()).ok());
    let uid = head.as_ref().and_then(|h| h.uid.as_ref()).and_then(|u| u.as_str()).map(str::to_owned);
    if api_version.as_deref() != Some(API_VERSION) {
        let found = envelope.api_version.as_ref().map_or_else(|| "none".to_owned(), ToString::to_string);
        return Err(bad(
            uid,
            api_version,
            format!(
                "unsupported AdmissionReview apiVersion {found}: this webhook speaks {API_VERSION} only (set admissionReviewVersions: [\"v1\"])"
            ),
        ));
    }
    if envelope.kind.as_ref().and_then(|k| k.as_str()) != Some(KIND) {
        let found = envelope.kind.as_ref().map_or_else(|| "none".to_owned(), ToString::to_string);
        return Err(bad(uid, api_version, format!("expected kind AdmissionReview, found {found}")));
    }
    let Some(raw_request) = envelope.request else {
        return Err(bad(uid, api_version, "the AdmissionReview has no request".to_owned()));
    };
    let mut request: AdmissionRequest<DynamicObject> = serde_json::from_str(raw_request.get())
        .map_err(|e| bad(uid.clone(), api_version.clone(), format!("invalid AdmissionReview request: {e}")))?;
    if request.uid.is_empty() {
        return Err(bad(uid, api_version, "the AdmissionReview request has no uid".to_owned()));
    }
    request.types = TypeMeta { api_version: API_VERSION.to_owned(), kind: KIND.to_owned() };
    let head = head.unwrap_or(RequestHead { uid: None, object: None, old_object: None });
    Ok(Review { request, object: not_null(head.object), old_object: not_null(head.old_object) })
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

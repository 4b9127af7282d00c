//! An entry point for the fuzz targets (`fuzz/`, feature `fuzzing`): one request body through
//! everything the server does with it but the network: parsing, naming, evaluation and the
//! answer, in enforce mode with the default `--deny-on`.

use crate::Policy;
use crate::review::{self, Review};
use celador_engine::diagnostic::Severity;

/// Answers `body` as `/validate` would and returns the serialised AdmissionReview.
pub fn review(body: &[u8], policy: &Policy) -> String {
    let answer = match review::parse(body) {
        Err(bad) => review::bad_request_body(&bad),
        Ok(review) => decide(&review, policy),
    };
    serde_json::to_string(&answer).unwrap_or_default()
}

fn decide(review: &Review<'_>, policy: &Policy) -> kube::core::admission::AdmissionReview<kube::core::DynamicObject> {
    let name = review.object_name();
    let _ = review.controller_owned();
    let Some(object) = review.object else { return review::allow(review, Vec::new()) };
    let evaluation = match policy.evaluate(&name, object.get(), review.old_object.map(|o| o.get())) {
        Ok(evaluation) => evaluation,
        Err(failure) => {
            let message = match failure {
                crate::policy::Failure::Invalid(message) | crate::policy::Failure::Stopped { message, .. } => message,
            };
            return review::deny(review, 500, "InternalError", message, Vec::new());
        }
    };
    let deny_on = Severity::High;
    let denying: Vec<_> = evaluation.findings.iter().filter(|f| f.severity >= deny_on).collect();
    let warnings = review::limit_warnings(
        evaluation.findings.iter().filter(|f| f.severity < deny_on).map(|f| review::warning_line("", f)),
    );
    if denying.is_empty() {
        review::allow(review, warnings)
    } else {
        let message = review::deny_message(&name, &evaluation, &denying, deny_on);
        review::deny(review, 403, "Forbidden", message, warnings)
    }
}

//! Prometheus metrics, kept in memory and written in the text exposition format (0.0.4).

use celador_engine::diagnostic::Severity;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// What a `/validate` request ended as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Decision {
    /// Allowed, no findings.
    Allow,
    /// Allowed with warnings.
    Warn,
    /// Denied by findings.
    Deny,
    /// Audit mode: findings that would deny, allowed.
    Audit,
    /// Namespace excluded: allowed without evaluation.
    Exclude,
    /// Nothing to evaluate (DELETE, CONNECT): allowed.
    Skip,
    /// Evaluation failed or timed out: `--on-error` decided.
    Error,
    /// Not a valid AdmissionReview: HTTP 4xx.
    Invalid,
}

impl Decision {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Warn => "warn",
            Self::Deny => "deny",
            Self::Audit => "audit",
            Self::Exclude => "exclude",
            Self::Skip => "skip",
            Self::Error => "error",
            Self::Invalid => "invalid",
        }
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<Decision, u64>,
    buckets: [u64; BUCKETS.len()],
    latency_sum: f64,
    latency_count: u64,
    findings: BTreeMap<(String, Severity), u64>,
    errors: BTreeMap<&'static str, u64>,
    reloads: u64,
}

/// The server's counters.
#[derive(Default)]
pub(crate) struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Records one `/validate` request.
    pub(crate) fn request(&self, decision: Decision, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        self.with(|m| {
            *m.requests.entry(decision).or_default() += 1;
            for (bound, count) in BUCKETS.iter().zip(m.buckets.iter_mut()) {
                if secs <= *bound {
                    *count += 1;
                }
            }
            m.latency_sum += secs;
            m.latency_count += 1;
        });
    }

    /// Records a finding reported in a response.
    pub(crate) fn finding(&self, rule: &str, severity: Severity) {
        self.with(|m| *m.findings.entry((rule.to_owned(), severity)).or_default() += 1);
    }

    /// Records an error: `timeout`, `panic`, `evaluation`, `bad_request`, `body_timeout`,
    /// `tls_reload`.
    pub(crate) fn error(&self, kind: &'static str) {
        self.with(|m| *m.errors.entry(kind).or_default() += 1);
    }

    /// Records a certificate reload.
    pub(crate) fn reload(&self) {
        self.with(|m| m.reloads += 1);
    }

    /// The exposition text.
    pub(crate) fn render(&self, ready: bool, rules: usize, (busy, slots): (usize, usize)) -> String {
        let mut out = String::new();
        self.with(|m| {
            let _ = writeln!(out, "# HELP celador_webhook_requests_total AdmissionReview requests by decision.");
            let _ = writeln!(out, "# TYPE celador_webhook_requests_total counter");
            for (decision, count) in &m.requests {
                let _ = writeln!(out, "celador_webhook_requests_total{{decision=\"{}\"}} {count}", decision.as_str());
            }
            let _ =
                writeln!(out, "# HELP celador_webhook_request_duration_seconds Time to answer a /validate request.");
            let _ = writeln!(out, "# TYPE celador_webhook_request_duration_seconds histogram");
            for (bound, count) in BUCKETS.iter().zip(&m.buckets) {
                let _ = writeln!(out, "celador_webhook_request_duration_seconds_bucket{{le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "celador_webhook_request_duration_seconds_bucket{{le=\"+Inf\"}} {}", m.latency_count);
            let _ = writeln!(out, "celador_webhook_request_duration_seconds_sum {}", m.latency_sum);
            let _ = writeln!(out, "celador_webhook_request_duration_seconds_count {}", m.latency_count);
            let _ = writeln!(out, "# HELP celador_webhook_findings_total Findings reported in responses, by rule.");
            let _ = writeln!(out, "# TYPE celador_webhook_findings_total counter");
            for ((rule, severity), count) in &m.findings {
                let _ = writeln!(
                    out,
                    "celador_webhook_findings_total{{rule=\"{}\",severity=\"{severity}\"}} {count}",
                    escape(rule)
                );
            }
            let _ = writeln!(out, "# HELP celador_webhook_errors_total Errors by kind.");
            let _ = writeln!(out, "# TYPE celador_webhook_errors_total counter");
            for (kind, count) in &m.errors {
                let _ = writeln!(out, "celador_webhook_errors_total{{kind=\"{kind}\"}} {count}");
            }
            let _ = writeln!(out, "# HELP celador_webhook_certificate_reloads_total Serving certificate reloads.");
            let _ = writeln!(out, "# TYPE celador_webhook_certificate_reloads_total counter");
            let _ = writeln!(out, "celador_webhook_certificate_reloads_total {}", m.reloads);
        });
        let _ = writeln!(out, "# HELP celador_webhook_ready Whether the webhook reports ready.");
        let _ = writeln!(out, "# TYPE celador_webhook_ready gauge");
        let _ = writeln!(out, "celador_webhook_ready {}", u8::from(ready));
        let _ = writeln!(out, "# HELP celador_webhook_rules Rules evaluated for Kubernetes objects.");
        let _ = writeln!(out, "# TYPE celador_webhook_rules gauge");
        let _ = writeln!(out, "celador_webhook_rules {rules}");
        let _ = writeln!(out, "# HELP celador_webhook_evaluations_running Objects being evaluated (slots in use).");
        let _ = writeln!(out, "# TYPE celador_webhook_evaluations_running gauge");
        let _ = writeln!(out, "celador_webhook_evaluations_running {busy}");
        let _ = writeln!(out, "# HELP celador_webhook_evaluation_slots Objects that can be evaluated at once.");
        let _ = writeln!(out, "# TYPE celador_webhook_evaluation_slots gauge");
        let _ = writeln!(out, "celador_webhook_evaluation_slots {slots}");
        out
    }
}

/// Escapes a label value.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.request(Decision::Deny, Duration::from_millis(3));
        m.request(Decision::Allow, Duration::from_millis(30));
        m.finding("PSH-TLS-008", Severity::High);
        m.error("timeout");
        let text = m.render(true, 7, (1, 4));
        assert!(text.contains("celador_webhook_requests_total{decision=\"deny\"} 1"), "{text}");
        assert!(text.contains("celador_webhook_request_duration_seconds_bucket{le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("celador_webhook_request_duration_seconds_bucket{le=\"0.05\"} 2"), "{text}");
        assert!(text.contains("celador_webhook_request_duration_seconds_bucket{le=\"+Inf\"} 2"), "{text}");
        assert!(text.contains("celador_webhook_findings_total{rule=\"PSH-TLS-008\",severity=\"high\"} 1"));
        assert!(text.contains("celador_webhook_errors_total{kind=\"timeout\"} 1"));
        assert!(text.contains("celador_webhook_ready 1"));
        assert!(text.contains("celador_webhook_evaluations_running 1\n"));
        assert!(text.contains("celador_webhook_evaluation_slots 4\n"));
    }
}

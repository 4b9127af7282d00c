//! celador's Kubernetes validating admission webhook (`celador serve`).
//!
//! The API server sends an `AdmissionReview` (`admission.k8s.io/v1`) for every object it is
//! about to store; this server evaluates the object with the same packs, the same engine and
//! the same suppressions as `celador check`, and answers with a decision:
//!
//! * findings at or above `deny_on` deny the request (HTTP 200, `allowed: false`,
//!   `status.code: 403`) with one line per finding, `RULE-ID path.to.field: message`;
//! * lower findings become `warnings` (≤ 120 characters each, ≤ 4,096 in all), which
//!   `kubectl` prints; a long one keeps its rule id, field path and what is wrong, and drops
//!   asides and the remedy first;
//! * in [`Mode::Audit`] nothing is denied: every finding is a warning and a log line.
//!
//! The pieces: [`Policy`] (rules + `celador.toml`, evaluates one object), [`Options`] (what
//! the command line sets), [`Server`] (HTTPS on rustls/ring with certificate hot reload,
//! `/validate`, `/healthz`, `/readyz`; Prometheus `/metrics` on a separate plain port), and
//! [`LogSink`] (where the JSON log lines go: the library never prints by itself).

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod log;
mod malformed;
mod memory;
mod metrics;
mod policy;
mod review;
mod server;
mod slots;
mod tls;

pub use log::{JsonLog, LogSink, MemoryLog};
pub use memory::disable_transparent_huge_pages;
pub use policy::{Evaluation, Failure, Finding, Policy, Settings};
pub use server::{Server, run, shutdown_signal};

use celador_engine::diagnostic::Severity;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What happens to findings at or above `deny_on`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Deny the request.
    Enforce,
    /// Never deny: return every finding as a warning and log it.
    Audit,
}

/// The decision when an object cannot be evaluated (evaluation timed out or failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// Fail open: allow the object, with a warning.
    Allow,
    /// Fail closed: deny the object (the default: an object that is slow to evaluate must not
    /// be a way around the policy).
    Deny,
}

/// The serving certificate, its key, and the CA client certificates must chain to.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// PEM certificate chain (leaf first).
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// PEM CA bundle; when set, only clients presenting a certificate it signed can connect.
    pub client_ca: Option<PathBuf>,
}

/// Everything the command line configures.
#[derive(Clone, Debug)]
pub struct Options {
    /// The HTTPS address (`/validate`, `/healthz`, `/readyz`).
    pub listen: SocketAddr,
    /// The plain-HTTP address of `/metrics` (and the health endpoints); `None` disables it.
    pub metrics_listen: Option<SocketAddr>,
    /// Certificate files.
    pub tls: TlsFiles,
    /// How often the certificate files are checked for changes.
    pub reload_interval: Duration,
    /// The lowest severity that denies.
    pub deny_on: Severity,
    /// Enforce or audit.
    pub mode: Mode,
    /// The decision when evaluation fails or times out.
    pub on_error: OnError,
    /// The longest one object's evaluation may take: past it, the evaluation is cancelled (it
    /// stops within microseconds and frees its slot) and `on_error` decides.
    pub eval_timeout: Duration,
    /// How many objects are evaluated at once; more wait for a slot (within `eval_timeout`).
    /// Objects over 256 KiB have half as many slots of their own, so that expensive objects
    /// never keep ordinary ones waiting.
    pub evaluation_slots: usize,
    /// How long every slot may be busy before `/readyz` reports the server saturated (503).
    pub saturated_after: Duration,
    /// The largest request body accepted, in bytes.
    pub max_body: usize,
    /// The time a client has to send a request's headers (and to finish the TLS handshake).
    pub header_timeout: Duration,
    /// The time a client has to send a request's body.
    pub body_timeout: Duration,
    /// Namespaces whose objects are allowed without evaluation (in addition to the
    /// configuration's `[webhook] exclude_namespaces`).
    pub exclude_namespaces: Vec<String>,
    /// After a shutdown signal, how long to keep serving while reporting not ready (so the
    /// Service stops routing here first).
    pub shutdown_delay: Duration,
    /// How long in-flight requests may take to finish after that.
    pub shutdown_grace: Duration,
}

impl Options {
    /// Options with the command line's defaults for the given certificate files.
    pub fn new(tls: TlsFiles) -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9090))),
            tls,
            reload_interval: Duration::from_secs(2),
            deny_on: Severity::High,
            mode: Mode::Enforce,
            on_error: OnError::Deny,
            eval_timeout: Duration::from_secs(2),
            evaluation_slots: std::thread::available_parallelism().map_or(2, std::num::NonZero::get).max(2) * 2,
            saturated_after: Duration::from_secs(1),
            max_body: 3 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            exclude_namespaces: vec!["kube-system".to_owned()],
            shutdown_delay: Duration::ZERO,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A certificate, key or CA file is unreadable or invalid.
    #[error("TLS: {0}")]
    Tls(String),
    /// The `[webhook]` table of `celador.toml` is invalid.
    #[error("celador.toml [webhook]: {0}")]
    Settings(String),
    /// Binding or serving failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}

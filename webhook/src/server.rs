//! The HTTPS server: routes, the `/validate` handler, certificate reload and shutdown.

use crate::log::{Log, LogSink};
use crate::metrics::{Decision, Metrics};
use crate::policy::{Evaluation, Failure, Finding, Policy};
use crate::review::{self, BadRequest, Review};
use crate::slots::Slots;
use crate::tls::{self, Contents};
use crate::{Error, Mode, OnError, Options};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_server::Handle;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use celador_engine::eval::budget::Cancel;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionReview, Operation};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// State shared by the handlers.
struct App {
    policy: Arc<Policy>,
    options: Options,
    metrics: Metrics,
    log: Log,
    ready: AtomicBool,
    excluded: HashSet<String>,
    /// Bounds the evaluations running at once (each holds a blocking thread until it is done
    /// or cancelled).
    slots: Arc<Slots>,
    /// The slots objects larger than [`LARGE_OBJECT`] take instead, half as many: objects
    /// that can be expensive to evaluate never keep ordinary ones waiting.
    large_slots: Arc<Slots>,
}

/// Objects above this size (JSON bytes) are evaluated in their own slots: 256 KiB, far above
/// any Deployment or Service (a few KiB), the size at which a rule comparing every pair of an
/// object's entries starts to take measurable time.
const LARGE_OBJECT: usize = 256 << 10;

/// How much lower large objects' evaluation threads run than the others' (`nice` 10): while
/// a 2 MB object is evaluated, ordinary reviews keep their latency.
const LARGE_OBJECT_NICENESS: i32 = 10;

/// A bound, not yet serving, webhook server.
pub struct Server {
    app: Arc<App>,
    listener: std::net::TcpListener,
    addr: SocketAddr,
    metrics_listener: Option<tokio::net::TcpListener>,
    metrics_addr: Option<SocketAddr>,
    tls: RustlsConfig,
    contents: Contents,
}

impl Server {
    /// Loads the certificate and binds both ports (port 0 picks a free one; see
    /// [`Server::local_addr`]). Turns transparent huge pages off for the process, so that its
    /// resident memory stays flat ([`crate::memory`]).
    ///
    /// # Errors
    /// Unreadable or invalid certificate files, or an address that cannot be bound.
    pub async fn bind(options: Options, policy: Policy, log: Arc<dyn LogSink>) -> Result<Self, Error> {
        crate::memory::disable_transparent_huge_pages();
        let contents = Contents::read(&options.tls).map_err(Error::Tls)?;
        let config = tls::server_config(&options.tls, &contents).map_err(Error::Tls)?;
        let listener = std::net::TcpListener::bind(options.listen)
            .map_err(|e| Error::io(format!("cannot listen on {}", options.listen), e))?;
        listener.set_nonblocking(true).map_err(|e| Error::io("cannot configure the listener", e))?;
        let addr = listener.local_addr().map_err(|e| Error::io("cannot read the bound address", e))?;
        let metrics_listener = match options.metrics_listen {
            Some(at) => Some(
                tokio::net::TcpListener::bind(at)
                    .await
                    .map_err(|e| Error::io(format!("cannot listen on {at} (metrics)"), e))?,
            ),
            None => None,
        };
        let metrics_addr = metrics_listener.as_ref().and_then(|l| l.local_addr().ok());
        let mut excluded: HashSet<String> = options.exclude_namespaces.iter().cloned().collect();
        excluded.extend(policy.settings().exclude_namespaces.iter().cloned());
        let slots = Slots::new(options.evaluation_slots, 0);
        // Large objects (rare, and the cost bombs) yield the CPU to ordinary reviews.
        let large_slots = Slots::new(options.evaluation_slots.div_ceil(2), LARGE_OBJECT_NICENESS);
        let app = App {
            policy: Arc::new(policy),
            options,
            metrics: Metrics::default(),
            log: Log(log),
            ready: AtomicBool::new(false),
            excluded,
            slots,
            large_slots,
        };
        Ok(Self {
            app: Arc::new(app),
            listener,
            addr,
            metrics_listener,
            metrics_addr,
            tls: RustlsConfig::from_config(config),
            contents,
        })
    }

    /// The HTTPS address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The plain-HTTP metrics address, when enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Serves until `shutdown` completes, then reports not ready, waits
    /// [`Options::shutdown_delay`], stops accepting connections and lets in-flight requests
    /// finish (at most [`Options::shutdown_grace`]).
    ///
    /// # Errors
    /// The listener failed.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), Error> {
        let Self { app, listener, addr, metrics_listener, metrics_addr, tls, contents } = self;
        let options = &app.options;
        let mut excluded: Vec<&String> = app.excluded.iter().collect();
        excluded.sort();
        app.log.info(
            "serving",
            json!({
                "addr": addr.to_string(),
                "metrics_addr": metrics_addr.map(|a| a.to_string()),
                "rules": app.policy.rules().len(),
                "mode": match options.mode { Mode::Enforce => "enforce", Mode::Audit => "audit" },
                "deny_on": options.deny_on.as_str(),
                "on_error": on_error_name(options.on_error),
                "client_ca": options.tls.client_ca.is_some(),
                "exclude_namespaces": excluded,
            }),
        );
        let handle: Handle<SocketAddr> = Handle::new();
        let reload = tokio::spawn(watch_certificates(app.clone(), tls.clone(), contents));
        let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        let metrics_task = metrics_listener.map(|listener| {
            let router = metrics_router(app.clone());
            tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async {
                        let _ = metrics_stopped.await;
                    })
                    .await
            })
        });
        let stopper = tokio::spawn({
            let app = app.clone();
            let handle = handle.clone();
            async move {
                shutdown.await;
                app.ready.store(false, Ordering::SeqCst);
                app.log.info(
                    "shutting down",
                    json!({"delay_ms": app.options.shutdown_delay.as_millis() as u64, "grace_ms": app.options.shutdown_grace.as_millis() as u64}),
                );
                tokio::time::sleep(app.options.shutdown_delay).await;
                handle.graceful_shutdown(Some(app.options.shutdown_grace));
            }
        });

        let acceptor = RustlsAcceptor::new(tls).handshake_timeout(options.header_timeout);
        let mut server = axum_server::from_tcp(listener)
            .map_err(|e| Error::io("cannot use the listener", e))?
            .acceptor(acceptor)
            .first_request_timeout(options.header_timeout);
        let builder = server.http_builder();
        builder.http1().header_read_timeout(options.header_timeout);
        builder.http2().keep_alive_interval(Duration::from_secs(30)).keep_alive_timeout(Duration::from_secs(10));
        app.ready.store(true, Ordering::SeqCst);
        let result = server.handle(handle).serve(router(app.clone()).into_make_service()).await;

        app.ready.store(false, Ordering::SeqCst);
        reload.abort();
        stopper.abort();
        let _ = stop_metrics.send(());
        if let Some(task) = metrics_task {
            let _ = task.await;
        }
        app.log.info("stopped", json!({}));
        result.map_err(|e| Error::io("serving failed", e))
    }
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

fn on_error_name(on_error: OnError) -> &'static str {
    match on_error {
        OnError::Allow => "allow",
        OnError::Deny => "deny",
    }
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(app)
}

fn metrics_router(app: Arc<App>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(app)
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 while serving; 503 while starting or shutting down, and while every ordinary evaluation slot has
/// been busy for longer than [`Options::saturated_after`] (new reviews would only wait).
async fn readyz(State(app): State<Arc<App>>) -> (StatusCode, String) {
    if !app.ready.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "not ready\n".to_owned());
    }
    match app.slots.full_for().filter(|busy| *busy > app.options.saturated_after) {
        Some(busy) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "saturated: all {} evaluation slots busy for {} ms (more than {} ms)\n",
                app.slots.total(),
                busy.as_millis(),
                app.options.saturated_after.as_millis()
            ),
        ),
        None => (StatusCode::OK, "ready\n".to_owned()),
    }
}

async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    let text = app.metrics.render(
        app.ready.load(Ordering::SeqCst),
        app.policy.rules().len(),
        (app.slots.busy() + app.large_slots.busy(), app.slots.total() + app.large_slots.total()),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}

/// What one `/validate` request came to.
struct Outcome {
    status: StatusCode,
    review: AdmissionReview<DynamicObject>,
    decision: Decision,
    /// Fields for the log line.
    fields: serde_json::Map<String, Value>,
}

impl Outcome {
    fn bad_request(status: StatusCode, bad: &BadRequest) -> Self {
        let mut fields = serde_json::Map::new();
        fields.insert("uid".into(), json!(bad.uid));
        fields.insert("error".into(), json!(bad.message));
        Self { status, review: review::bad_request_body(bad), decision: Decision::Invalid, fields }
    }
}

async fn validate(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let mut outcome = decide(&app, &headers, body).await;
    let elapsed = started.elapsed();
    app.metrics.request(outcome.decision, elapsed);
    if outcome.decision == Decision::Invalid {
        app.metrics.error("bad_request");
    }
    let allowed = outcome.review.response.as_ref().is_some_and(|r| r.allowed);
    outcome.fields.insert("decision".into(), json!(outcome.decision.as_str()));
    outcome.fields.insert("allowed".into(), json!(allowed));
    outcome.fields.insert("duration_ms".into(), json!((elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0));
    let fields = Value::Object(std::mem::take(&mut outcome.fields));
    match outcome.decision {
        Decision::Invalid => app.log.warn("invalid request", fields),
        Decision::Error => app.log.error("admission", fields),
        _ => app.log.info("admission", fields),
    }
    (outcome.status, Json(outcome.review)).into_response()
}

async fn decide(app: &App, headers: &HeaderMap, body: Body) -> Outcome {
    let max = app.options.max_body;
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let too_large = |size: String| BadRequest {
        uid: None,
        api_version: None,
        message: format!("request body of {size} exceeds the limit of {max} bytes (--max-body)"),
    };
    if let Some(len) = declared.filter(|&len| len > max as u64) {
        return Outcome::bad_request(StatusCode::BAD_REQUEST, &too_large(format!("{len} bytes")));
    }
    let bytes = match tokio::time::timeout(app.options.body_timeout, Limited::new(body, max).collect()).await {
        Err(_) => {
            app.metrics.error("body_timeout");
            let bad = BadRequest {
                uid: None,
                api_version: None,
                message: format!("request body not received within {:?}", app.options.body_timeout),
            };
            return Outcome::bad_request(StatusCode::REQUEST_TIMEOUT, &bad);
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Outcome::bad_request(StatusCode::BAD_REQUEST, &too_large("more bytes".to_owned()));
        }
        Ok(Err(e)) => {
            let bad =
                BadRequest { uid: None, api_version: None, message: format!("cannot read the request body: {e}") };
            return Outcome::bad_request(StatusCode::BAD_REQUEST, &bad);
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    // Parsing megabytes takes milliseconds: on a large-object slot's thread (at a lower
    // priority), off the async workers, or the reviews queued behind this one would wait for it.
    let parse = || review::parse(&bytes);
    let parsed = if bytes.len() > LARGE_OBJECT
        && tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
    {
        let slot = app.large_slots.acquire().await;
        tokio::task::block_in_place(|| slot.run(parse))
    } else {
        parse()
    };
    let review = match parsed {
        Ok(review) => review,
        Err(bad) => return Outcome::bad_request(StatusCode::BAD_REQUEST, &bad),
    };
    admit(app, &review).await
}

/// Decides on a valid review.
async fn admit(app: &App, review: &Review<'_>) -> Outcome {
    let request = &review.request;
    let object_name = review.object_name();
    let mut fields = serde_json::Map::new();
    fields.insert("uid".into(), json!(request.uid));
    fields.insert("kind".into(), json!(request.kind.kind));
    fields.insert("namespace".into(), json!(request.namespace));
    fields.insert("name".into(), json!(object_name.rsplit('/').next()));
    fields.insert("operation".into(), json!(request.operation));
    fields.insert("dry_run".into(), json!(request.dry_run));
    fields.insert("user".into(), json!(request.user_info.username));
    let done = |decision, review, fields| Outcome { status: StatusCode::OK, review, decision, fields };

    if request.namespace.as_ref().is_some_and(|ns| app.excluded.contains(ns)) {
        return done(Decision::Exclude, review::allow(review, Vec::new()), fields);
    }
    let object = match review.object {
        Some(object)
            if matches!(request.operation, Operation::Create | Operation::Update)
                && request.sub_resource.as_deref().unwrap_or_default().is_empty() =>
        {
            object
        }
        // DELETE and CONNECT carry no new state; subresources (status, scale) are written by
        // controllers and must not be blocked by findings in the parent object.
        _ => return done(Decision::Skip, review::allow(review, Vec::new()), fields),
    };
    if let Some(owner) = review.controller_owned() {
        fields.insert("skipped".into(), json!(format!("created by a controller from {owner}, which is evaluated")));
        return done(Decision::Skip, review::allow(review, Vec::new()), fields);
    }

    let policy = app.policy.clone();
    let text_len = object.get().len();
    let slots = if text_len > LARGE_OBJECT { app.large_slots.clone() } else { app.slots.clone() };
    let text = object.get().to_owned();
    let old_text = review.old_object.map(|o| o.get().to_owned());
    let name = object_name.clone();
    let timeout = app.options.eval_timeout;
    // The evaluation stops by itself at the deadline; the guard also stops it when this
    // request is dropped (the client went away, or the server is shutting down).
    let cancel = Cancel::new().with_deadline(Instant::now() + timeout);
    let _stop_when_dropped = CancelOnDrop(cancel.clone());
    let evaluation = tokio::time::timeout(timeout, async move {
        let slot = slots.acquire().await;
        tokio::task::spawn_blocking(move || {
            slot.run(|| policy.evaluate_until(&name, &text, old_text.as_deref(), &cancel))
        })
        .await
    })
    .await;
    let evaluation = match evaluation {
        Ok(Ok(Ok(evaluation))) => evaluation,
        Ok(Ok(Err(Failure::Stopped { timed_out: true, .. }))) | Err(_) => {
            app.metrics.error("timeout");
            let message = format!("the evaluation did not finish within {timeout:?} (--eval-timeout)");
            return failed(app, review, &object_name, &message, fields);
        }
        Ok(Ok(Err(Failure::Stopped { message, .. }))) => {
            app.metrics.error("evaluation_limit");
            return failed(app, review, &object_name, &message, fields);
        }
        Ok(Ok(Err(Failure::Invalid(message)))) => {
            app.metrics.error("evaluation");
            return failed(app, review, &object_name, &message, fields);
        }
        Ok(Err(join)) => {
            app.metrics.error("panic");
            let message = if join.is_panic() { "the evaluation panicked" } else { "the evaluation was cancelled" };
            return failed(app, review, &object_name, message, fields);
        }
    };
    respond(app, review, &object_name, &evaluation, fields)
}

/// Cancels an evaluation when dropped: when its request ends, however it ends.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Evaluation failed: `--on-error` decides (audit mode always allows).
fn failed(
    app: &App,
    review: &Review<'_>,
    object: &str,
    message: &str,
    mut fields: serde_json::Map<String, Value>,
) -> Outcome {
    fields.insert("error".into(), json!(message));
    fields.insert("on_error".into(), json!(on_error_name(app.options.on_error)));
    let text = format!("celador could not evaluate {object}: {message}");
    let response = if app.options.mode == Mode::Audit || app.options.on_error == OnError::Allow {
        review::allow(review, review::limit_warnings([format!("{text}; allowed (--on-error allow)")]))
    } else {
        review::deny(
            review,
            500,
            "InternalError",
            format!("{text}; denied (--on-error deny). Retry; if it persists, ask the cluster administrators."),
            Vec::new(),
        )
    };
    Outcome { status: StatusCode::OK, review: response, decision: Decision::Error, fields }
}

/// The answer for an evaluated object.
fn respond(
    app: &App,
    review: &Review<'_>,
    object: &str,
    evaluation: &Evaluation,
    mut fields: serde_json::Map<String, Value>,
) -> Outcome {
    let deny_on = app.options.deny_on;
    // ValidatingAdmissionPolicies' findings do what their bindings' actions say; celador's
    // own rules go by --deny-on.
    let own = || evaluation.findings.iter().filter(|f| f.admission.is_none());
    let denying: Vec<&Finding> = own().filter(|f| f.severity >= deny_on).collect();
    let lower: Vec<&Finding> = own().filter(|f| f.severity < deny_on).collect();
    let verdicts = review::policy_verdicts(&evaluation.findings);
    for finding in &evaluation.findings {
        app.metrics.finding(&finding.rule, finding.severity);
    }
    fields.insert(
        "findings".into(),
        Value::Array(
            evaluation
                .findings
                .iter()
                .map(|f| json!({"rule": f.rule, "severity": f.severity.as_str(), "path": f.path, "message": f.message}))
                .collect(),
        ),
    );
    if !evaluation.suppressed.is_empty() {
        fields.insert(
            "suppressed".into(),
            Value::Array(
                evaluation
                    .suppressed
                    .iter()
                    .map(|s| json!({"rule": s.rule, "path": s.path, "reason": s.reason, "by": s.by}))
                    .collect(),
            ),
        );
    }
    if let Some(source) = &evaluation.source {
        fields.insert("source".into(), json!(source));
    }

    let audit = app.options.mode == Mode::Audit;
    let mut lines: Vec<String> = evaluation.notes.clone();
    if let Some(source) = evaluation.source.as_ref().filter(|_| !evaluation.findings.is_empty()) {
        lines.push(format!("{object} is defined in {source}"));
    }
    if audit {
        lines.extend(verdicts.denials.iter().map(|d| format!("(would deny) {d}")));
        lines.extend(denying.iter().map(|f| review::warning_line("(would deny) ", f)));
    }
    lines.extend(verdicts.warnings.iter().cloned());
    lines.extend(lower.iter().map(|f| review::warning_line("", f)));
    let warnings = review::limit_warnings(lines);
    let denied = !denying.is_empty() || !verdicts.denials.is_empty();

    let (decision, mut response) = if denied && !audit {
        // The API server's message for a policy's denial, then celador's own.
        let mut parts = verdicts.denials.clone();
        if !denying.is_empty() {
            parts.push(review::deny_message(object, evaluation, &denying, deny_on));
        }
        let (code, reason) = verdicts.code.unwrap_or((403, "Forbidden"));
        (Decision::Deny, review::deny(review, code, reason, parts.join("\n"), warnings))
    } else {
        let decision = match (!denied, warnings.is_empty()) {
            (false, _) => Decision::Audit,
            (true, false) => Decision::Warn,
            (true, true) => Decision::Allow,
        };
        (decision, review::allow(review, warnings))
    };
    if let Some(r) = response.response.as_mut().filter(|_| !evaluation.findings.is_empty()) {
        let mut rules: Vec<&str> = evaluation.findings.iter().map(|f| f.rule.as_str()).collect();
        rules.sort_unstable();
        rules.dedup();
        r.audit_annotations.insert("findings".to_owned(), rules.join(","));
        r.audit_annotations.insert("decision".to_owned(), decision.as_str().to_owned());
        if !verdicts.audit.is_empty() {
            r.audit_annotations.insert(
                review::VALIDATION_FAILURE_ANNOTATION.to_owned(),
                serde_json::Value::Array(verdicts.audit).to_string(),
            );
        }
    }
    Outcome { status: StatusCode::OK, review: response, decision, fields }
}

/// Polls the certificate files and reloads the TLS configuration when their content changes.
async fn watch_certificates(app: Arc<App>, tls: RustlsConfig, mut current: Contents) {
    let files = app.options.tls.clone();
    let mut rejected: Option<Contents> = None;
    let mut read_error: Option<String> = None;
    let mut interval = tokio::time::interval(app.options.reload_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        let to_read = files.clone();
        let contents = match tokio::task::spawn_blocking(move || Contents::read(&to_read)).await {
            Ok(Ok(contents)) => contents,
            Ok(Err(e)) => {
                // Files can be missing for a moment while a volume is updated; say it once.
                if read_error.as_ref() != Some(&e) {
                    app.log
                        .warn("cannot read the certificate files; keeping the loaded certificate", json!({"error": e}));
                    read_error = Some(e);
                }
                continue;
            }
            Err(_) => continue,
        };
        read_error = None;
        if contents == current || rejected.as_ref() == Some(&contents) {
            continue;
        }
        match tls::server_config(&files, &contents) {
            Ok(config) => {
                tls.reload_from_config(config);
                current = contents;
                rejected = None;
                app.metrics.reload();
                app.log.info("reloaded TLS certificate", json!({"cert": files.cert.display().to_string()}));
            }
            Err(e) => {
                // Typically the certificate was replaced before its key: try again once the
                // content changes further.
                app.metrics.error("tls_reload");
                app.log.warn("new certificate files not loaded; keeping the previous certificate", json!({"error": e}));
                rejected = Some(contents);
            }
        }
    }
}

/// Runs the webhook on a new multi-threaded runtime until SIGTERM or SIGINT: what
/// `celador serve` calls.
///
/// # Errors
/// As [`Server::bind`] and [`Server::serve`].
pub fn run(options: Options, policy: Policy, log: Arc<dyn LogSink>) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    let result = runtime.block_on(async {
        let server = Server::bind(options, policy, log).await?;
        server.serve(shutdown_signal()).await
    });
    // Every request has ended by now, cancelling its evaluation: the blocking threads stop
    // within microseconds. Never wait for one longer than this.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

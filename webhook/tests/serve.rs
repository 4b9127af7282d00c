//! End-to-end tests of the webhook over real TLS: AdmissionReview fixtures in, decisions out.

mod common;

use celador_webhook::{Mode, OnError, Policy};
use common::{Ca, Client, Setup, TestServer, body, fixture};
use hyper::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const INSECURE_UID: &str = "7f0c9e1a-55d2-4a7e-9b61-3c1f2d8e4a01";
const HARDENED_UID: &str = "0b7d8c62-1e4f-4f3a-8a2d-9c6b5e7f1d02";

fn response(answer: &common::Answer) -> Value {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let review = answer.json();
    assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(review["kind"], "AdmissionReview");
    review["response"].clone()
}

/// The hardened review with `edit` applied to the API container (`spec.template.spec.containers[0]`).
fn hardened_with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut review = fixture("hardened");
    edit(&mut review["request"]["object"]["spec"]["template"]["spec"]["containers"][0]);
    review
}

fn warnings(response: &Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .map_or_else(Vec::new, |w| w.iter().map(|w| w.as_str().unwrap().to_owned()).collect())
}

fn assert_warning_limits(warnings: &[String]) {
    for w in warnings {
        assert!(w.chars().count() <= 120, "warning over 120 characters: {w}");
        assert!(!w.starts_with("Warning:"), "{w}");
    }
    assert!(warnings.iter().map(|w| w.chars().count()).sum::<usize>() <= 4096);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denies_with_rule_ids_field_paths_and_the_source_file() {
    let server = TestServer::start(Setup::default()).await;
    let answer = server.client().post("/validate", body(&fixture("insecure"))).await.unwrap();
    let response = response(&answer);
    assert_eq!(response["uid"], INSECURE_UID);
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 403);
    let message = response["status"]["message"].as_str().unwrap();
    // A missing variable is reported at the nearest existing parent: the env list or the
    // container.
    assert!(
        ["env: ", ": "].iter().any(|tail| message.contains(&format!(
            "PSH-TLS-008 spec.template.spec.containers[0]{}API container `pulumi-api` connects to MySQL without TLS",
            if *tail == ": " { ": ".to_owned() } else { format!(".{tail}") }
        ))),
        "{message}"
    );
    assert!(message.contains("PSH-SEC-003 spec.template.spec.containers[0].env[4].value: "), "{message}");
    // kustomize's origin annotation names the file in Git.
    assert!(
        message.contains("file deploy/pulumi/api.yaml in https://github.com/example/platform at main"),
        "{message}"
    );
    // Lower findings are warnings, within the API server's limits.
    let warnings = warnings(&response);
    assert!(
        warnings.iter().any(|w| w.starts_with("PSH-APP-006 spec.template.spec.containers[0].image: ")),
        "{warnings:?}"
    );
    assert!(!warnings.iter().any(|w| w.contains("PSH-TLS-008")), "{warnings:?}");
    assert_warning_limits(&warnings);

    let log = server.admissions();
    assert_eq!(log.len(), 1);
    let line = &log[0];
    assert_eq!(line["uid"], INSECURE_UID);
    assert_eq!(line["kind"], "Deployment");
    assert_eq!(line["namespace"], "pulumi");
    assert_eq!(line["name"], "pulumi-api");
    assert_eq!(line["operation"], "CREATE");
    assert_eq!(line["decision"], "deny");
    assert!(line["duration_ms"].is_number());
    assert!(line["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "PSH-TLS-008"));
    server.stop().await;
}

/// Every rule runs on the admitted object, a deployment of one: what the object itself shows is
/// judged (an API with a certificate and key but no minimum TLS version serves plain HTTP),
/// while rules that would conclude from objects out of sight (no Ingress terminating TLS, no
/// NetworkPolicy) do not fire.
/// Huge pages would make the server's resident memory grow for ever (webhook/src/memory.rs).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_without_transparent_huge_pages() {
    let server = TestServer::start(Setup::default()).await;
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    // Reported since Linux 5.0; PR_SET_THP_DISABLE itself is older.
    if let Some(enabled) = status.lines().find_map(|l| l.strip_prefix("THP_enabled:")) {
        assert_eq!(enabled.trim(), "0");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_judges_the_object_as_a_deployment_of_one() {
    let server = TestServer::start(Setup::default()).await;
    let response = response_of(&server, &fixture("hardened")).await;
    assert_eq!(response["allowed"], true);
    assert!(response["warnings"].is_null(), "nothing out of sight is reported missing: {response}");

    let partial = hardened_with(|api| {
        let env = api["env"].as_array_mut().unwrap();
        env.retain(|v| v["name"] != "API_MIN_TLS_VERSION");
    });
    let response = response_of(&server, &partial).await;
    assert_eq!(response["allowed"], false, "{response}");
    let message = response["status"]["message"].as_str().unwrap();
    assert!(message.contains("PSH-TLS-003 spec.template.spec.containers[0]: "), "{message}");
    assert!(message.contains("API_MIN_TLS_VERSION"), "{message}");

    // Without any TLS variable, the Ingress in front may terminate TLS: not judged here.
    let none = hardened_with(|api| {
        let env = api["env"].as_array_mut().unwrap();
        env.retain(|v| !v["name"].as_str().unwrap().starts_with("API_TLS_") && v["name"] != "API_MIN_TLS_VERSION");
    });
    let response = response_of(&server, &none).await;
    assert!(!response.to_string().contains("PSH-TLS-003"), "{response}");
    server.stop().await;
}

#[test]
fn the_retired_deployment_rules_setting_is_an_error() {
    let error = Policy::new(common::rules(), common::parse_config("[webhook]\ndeployment_rules = true\n"))
        .err()
        .expect("an error");
    assert!(error.to_string().contains("every rule runs"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allows_with_warnings_below_deny_on() {
    // An image on a moving tag is a low finding: a warning under the default --deny-on high.
    let latest = hardened_with(|api| api["image"] = json!("pulumi/service:latest"));
    let server = TestServer::start(Setup::default()).await;
    let answer = server.client().post("/validate", body(&latest)).await.unwrap();
    let response = response(&answer);
    assert_eq!(response["uid"], HARDENED_UID);
    assert_eq!(response["allowed"], true);
    let warnings = warnings(&response);
    assert!(
        warnings.iter().any(|w| w.starts_with("PSH-APP-006 spec.template.spec.containers[0].image: ")),
        "{warnings:?}"
    );
    assert_warning_limits(&warnings);
    assert_eq!(server.admissions()[0]["decision"], "warn");

    // With --deny-on low the same finding denies.
    let server2 = TestServer::start(Setup::options(|o| o.deny_on = celador_engine::diagnostic::Severity::Low)).await;
    let response = response_of(&server2, &latest).await;
    assert_eq!(response["allowed"], false);
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("PSH-APP-006 spec.template.spec.containers[0].image: ")
    );
    server.stop().await;
    server2.stop().await;
}

async fn response_of(server: &TestServer, review: &Value) -> Value {
    response(&server.client().post("/validate", body(review)).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_mode_never_denies() {
    let server = TestServer::start(Setup::options(|o| o.mode = Mode::Audit)).await;
    let response = response_of(&server, &fixture("insecure")).await;
    assert_eq!(response["allowed"], true);
    let warnings = warnings(&response);
    // Cut to 120 characters, a warning keeps its rule id, its field path and what is wrong.
    assert!(
        warnings.iter().any(|w| w.starts_with("(would deny) PSH-TLS-008 spec.template.spec.containers[0]")
            && w.contains(": connects to MySQL without TLS")),
        "{warnings:?}"
    );
    assert!(warnings.iter().any(|w| w.starts_with("PSH-APP-006 ")), "{warnings:?}");
    assert_warning_limits(&warnings);
    let log = server.admissions();
    assert_eq!(log[0]["decision"], "audit");
    assert_eq!(log[0]["allowed"], true);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_is_evaluated_the_same_way() {
    let server = TestServer::start(Setup::default()).await;
    let mut review = fixture("insecure");
    review["request"]["dryRun"] = json!(true);
    let response = response_of(&server, &review).await;
    assert_eq!(response["allowed"], false);
    assert!(response["status"]["message"].as_str().unwrap().contains("PSH-TLS-008"));
    let mut review = fixture("hardened");
    review["request"]["dryRun"] = json!(true);
    assert_eq!(response_of(&server, &review).await["allowed"], true);
    let log = server.admissions();
    assert!(log.iter().all(|l| l["dry_run"] == true));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excluded_namespaces_are_allowed_without_evaluation() {
    let setup = Setup {
        config: "[webhook]\nexclude_namespaces = [\"sandbox\"]\n",
        options: Box::new(|o| o.exclude_namespaces.push("celador".to_owned())),
        ..Setup::default()
    };
    let server = TestServer::start(setup).await;
    for namespace in ["kube-system", "celador", "sandbox"] {
        let mut review = fixture("insecure");
        review["request"]["namespace"] = json!(namespace);
        review["request"]["object"]["metadata"]["namespace"] = json!(namespace);
        let response = response_of(&server, &review).await;
        assert_eq!(response["allowed"], true, "{namespace}");
        assert!(response["warnings"].is_null(), "{namespace}: {response}");
    }
    let log = server.admissions();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|l| l["decision"] == "exclude" && l["findings"].is_null()), "{log:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_subresources_and_controller_copies_are_not_evaluated() {
    let server = TestServer::start(Setup::default()).await;
    let mut review = fixture("insecure");
    review["request"]["operation"] = json!("DELETE");
    review["request"]["oldObject"] = review["request"]["object"].take();
    assert_eq!(response_of(&server, &review).await["allowed"], true);
    let mut review = fixture("insecure");
    review["request"]["subResource"] = json!("status");
    review["request"]["operation"] = json!("UPDATE");
    assert_eq!(response_of(&server, &review).await["allowed"], true);
    assert!(server.admissions().iter().all(|l| l["decision"] == "skip"));

    // Pods a controller makes from an owner's template are judged on the owner; the same Pod
    // from a person (even with an ownerReference) is evaluated.
    let mut review = fixture("insecure");
    let template = review["request"]["object"]["spec"]["template"]["spec"].take();
    review["request"]["kind"] = json!({"group": "", "version": "v1", "kind": "Pod"});
    review["request"]["name"] = json!("pulumi-api-7d9f-x2k4p");
    review["request"]["object"] = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "pulumi-api-7d9f-x2k4p", "namespace": "pulumi", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "pulumi-api-7d9f", "uid": "4c1b", "controller": true}]},
        "spec": template,
    });
    review["request"]["userInfo"]["username"] = json!("system:serviceaccount:kube-system:replicaset-controller");
    assert_eq!(response_of(&server, &review).await["allowed"], true);
    review["request"]["userInfo"]["username"] = json!("alice@example.com");
    let response = response_of(&server, &review).await;
    assert_eq!(response["allowed"], false);
    assert!(response["status"]["message"].as_str().unwrap().contains("PSH-TLS-008 spec.containers[0]"), "{response}");
    let log = server.admissions();
    assert_eq!(log[2]["decision"], "skip");
    assert!(log[2]["skipped"].as_str().unwrap().contains("ReplicaSet/pulumi-api-7d9f"));

    // An UPDATE of the object itself is evaluated (oldObject comes along).
    let mut review = fixture("insecure");
    review["request"]["operation"] = json!("UPDATE");
    review["request"]["oldObject"] = review["request"]["object"].clone();
    assert_eq!(response_of(&server, &review).await["allowed"], false);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_reviews_get_400_with_a_clear_message() {
    let server = TestServer::start(Setup::options(|o| o.max_body = 2500)).await;
    let client = server.client();

    let answer = client.post("/validate", "{\"apiVersion\": ").await.unwrap();
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.text().contains("malformed JSON"), "{}", answer.text());

    let answer =
        client.post("/validate", r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#).await.unwrap();
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.text().contains("has no request"), "{}", answer.text());

    // A wrong apiVersion: 400, echoing the uid and apiVersion that could be read.
    let mut review = fixture("insecure");
    review["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let answer = client.post("/validate", body(&review)).await.unwrap();
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let json = answer.json();
    assert_eq!(json["apiVersion"], "admission.k8s.io/v1beta1");
    assert_eq!(json["response"]["uid"], INSECURE_UID);
    assert_eq!(json["response"]["allowed"], false);
    assert!(json["response"]["status"]["message"].as_str().unwrap().contains("speaks admission.k8s.io/v1 only"));

    // A request the typed model rejects still echoes its uid.
    let mut review = fixture("hardened");
    review["request"]["object"] = json!("not an object");
    let answer = client.post("/validate", body(&review)).await.unwrap();
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["response"]["uid"], HARDENED_UID);

    // Over --max-body (the hardened review is ~2.7 KB).
    let answer = client.post("/validate", body(&fixture("hardened"))).await.unwrap();
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.text().contains("exceeds the limit of 2500 bytes"), "{}", answer.text());

    // Over --max-body without a Content-Length (chunked): cut off while reading.
    let mut stream = client.connect().await.unwrap();
    let chunk = "x".repeat(3000);
    let request = format!(
        "POST /validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");

    // The server is still fine.
    assert_eq!(client.get("/healthz").await.unwrap().status, StatusCode::OK);
    assert!(server.metrics().await.contains("celador_webhook_requests_total{decision=\"invalid\"} 6"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_suppressions_apply_and_annotations_only_when_allowed() {
    let config = "[[ignore]]\nrules = [\"PSH-TLS-008\", \"PSH-TLS-003\"]\npath = \"Deployment/pulumi/*\"\nreason = \"TLS at the mesh\"\n\n[[ignore]]\nrule = \"PSH-NET-004\"\nreason = \"unused here\"\n";
    let server = TestServer::start(Setup { config, ..Setup::default() }).await;
    let response = response_of(&server, &fixture("insecure")).await;
    let message = response["status"]["message"].as_str().unwrap();
    assert!(!message.contains("PSH-TLS-008") && !message.contains("PSH-TLS-003"), "{message}");
    assert!(message.contains("PSH-SEC-003"), "{message}");
    // Notices about celador.toml itself (the unused PSH-NET-004 entry) are not the object's.
    assert!(!response.to_string().contains("unused-suppression"), "{response}");
    let log = server.admissions();
    assert!(log[0]["suppressed"].as_array().unwrap().iter().any(|s| s["rule"] == "PSH-TLS-008" && s["by"] == "config"));

    // The annotation is ignored (with a warning) unless the configuration allows it.
    let mut review = fixture("insecure");
    review["request"]["object"]["metadata"]["annotations"]["celador.dev/ignore"] =
        json!("PSH-TLS-003,PSH-TLS-008, PSH-SEC-003: TLS and secrets handled by the mesh");
    let response = response_of(&server, &review).await;
    assert_eq!(response["allowed"], false);
    assert!(warnings(&response).iter().any(|w| w.contains("celador.dev/ignore ignored")), "{response}");
    server.stop().await;

    let server =
        TestServer::start(Setup { config: "[webhook]\nallow_annotation_exemptions = true\n", ..Setup::default() })
            .await;
    let response = response_of(&server, &review).await;
    assert_eq!(response["allowed"], true, "{response}");
    let log = server.admissions();
    assert!(
        log[0]["suppressed"].as_array().unwrap().iter().any(|s| s["rule"] == "PSH-SEC-003" && s["by"] == "annotation")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluation_timeout_follows_on_error() {
    // A zero budget: the evaluation can never finish in time.
    let server = TestServer::start(Setup::options(|o| o.eval_timeout = Duration::ZERO)).await;
    let response = response_of(&server, &fixture("hardened")).await;
    assert_eq!(response["uid"], HARDENED_UID);
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 500);
    assert!(response["status"]["message"].as_str().unwrap().contains("did not finish within"), "{response}");
    assert_eq!(server.admissions()[0]["decision"], "error");
    assert!(server.metrics().await.contains("celador_webhook_errors_total{kind=\"timeout\"} 1"));
    server.stop().await;

    let server = TestServer::start(Setup::options(|o| {
        o.eval_timeout = Duration::ZERO;
        o.on_error = OnError::Allow;
    }))
    .await;
    let response = response_of(&server, &fixture("insecure")).await;
    assert_eq!(response["allowed"], true);
    assert!(warnings(&response)[0].contains("could not evaluate"), "{response}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_is_reloaded_for_new_connections_without_dropping_old_ones() {
    let mut server = TestServer::start(Setup::default()).await;
    let client = server.client();
    let mut old = client.open().await.unwrap();
    let first = old.certificate.clone();
    assert_eq!(old.post("/validate", body(&fixture("hardened"))).await.unwrap().status, StatusCode::OK);

    let renewed = server.ca.issue("celador-webhook renewed", &[common::SERVICE_NAME], false);
    server.volume.update(&renewed);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let served = client.peer_certificate().await;
        if served == renewed.der {
            break;
        }
        assert_eq!(served, first, "served neither the old nor the new certificate");
        assert!(Instant::now() < deadline, "the renewed certificate was not served within 5 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The connection opened before the reload still works.
    assert_eq!(old.post("/validate", body(&fixture("hardened"))).await.unwrap().status, StatusCode::OK);
    // A key that does not match is not loaded: the renewed certificate stays.
    let other = server.ca.issue("mismatch", &[common::SERVICE_NAME], false);
    server.volume.update(&common::Leaf { key_pem: renewed.key_pem.clone(), ..other });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(client.peer_certificate().await, renewed.der);
    let metrics = server.metrics().await;
    assert!(metrics.contains("celador_webhook_certificate_reloads_total 1"), "{metrics}");
    assert!(metrics.contains("celador_webhook_errors_total{kind=\"tls_reload\"} 1"), "{metrics}");
    server.begin_shutdown();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_are_required_with_client_ca() {
    let clients = Ca::new("kube-apiserver client CA");
    let server = TestServer::start(Setup { client_ca: Some(clients.pem.clone()), ..Setup::default() }).await;
    let apiserver = clients.issue("kube-apiserver", &[], true);
    let good = Client::new(server.addr, &server.ca.pem, Some(&apiserver));
    assert_eq!(good.post("/validate", body(&fixture("hardened"))).await.unwrap().status, StatusCode::OK);

    let anonymous = Client::new(server.addr, &server.ca.pem, None);
    assert!(anonymous.get("/healthz").await.is_err(), "a client without a certificate was served");
    let stranger = Ca::new("someone else").issue("kube-apiserver", &[], true);
    let impostor = Client::new(server.addr, &server.ca.pem, Some(&stranger));
    assert!(impostor.get("/healthz").await.is_err(), "a certificate from another CA was accepted");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_metrics_and_http2() {
    let mut server = TestServer::start(Setup::options(|o| o.shutdown_delay = Duration::from_millis(500))).await;
    let client = server.client();
    let health = client.get("/healthz").await.unwrap();
    assert_eq!((health.status, health.text().as_str()), (StatusCode::OK, "ok\n"));
    assert_eq!(client.get("/readyz").await.unwrap().status, StatusCode::OK);
    assert_eq!(client.get("/nope").await.unwrap().status, StatusCode::NOT_FOUND);

    let h2 = Client::with_alpn(server.addr, &server.ca.pem, None, &[b"h2"]);
    let (answer, alpn) = h2.post_h2("/validate", body(&fixture("insecure"))).await.unwrap();
    assert_eq!(alpn, b"h2");
    assert_eq!(response(&answer)["allowed"], false);

    let metrics = server.metrics().await;
    for expected in [
        "# TYPE celador_webhook_requests_total counter",
        "celador_webhook_requests_total{decision=\"deny\"} 1",
        "celador_webhook_request_duration_seconds_bucket{le=\"+Inf\"} 1",
        "celador_webhook_request_duration_seconds_count 1",
        "celador_webhook_findings_total{rule=\"PSH-TLS-008\",severity=\"high\"} 1",
        "celador_webhook_ready 1",
    ] {
        assert!(metrics.contains(expected), "missing `{expected}` in\n{metrics}");
    }

    // On shutdown the server reports not ready first, then stops.
    server.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(client.get("/readyz").await.unwrap().status, StatusCode::SERVICE_UNAVAILABLE);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    let server = TestServer::start(Setup::options(|o| {
        o.header_timeout = Duration::from_millis(300);
        o.body_timeout = Duration::from_millis(300);
    }))
    .await;
    let client = server.client();

    // Headers never finished: the connection is closed.
    let mut stream = client.connect().await.unwrap();
    stream.write_all(b"POST /validate HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection with unfinished headers was kept open");

    // A body that never arrives: 408.
    let mut stream = client.connect().await.unwrap();
    stream
        .write_all(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"api")
        .await
        .unwrap();
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await.expect("an answer").unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    server.stop().await;
}

/// `celador serve --pack examples/vap`: a ValidatingAdmissionPolicy's denial reads as the API
/// server's, with its reason's code, and its `Audit` action is an audit annotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_policies_deny_as_the_api_server_does() {
    let server = TestServer::start(Setup { pack: Some("examples/vap"), ..Setup::default() }).await;
    let answer = server.client().post("/validate", body(&fixture("hardened"))).await.unwrap();
    let denied = response(&answer);
    assert_eq!(denied["allowed"], false, "{denied}");
    assert_eq!(denied["status"]["code"], 403, "the validation's reason is Forbidden");
    assert_eq!(
        denied["status"]["message"],
        "ValidatingAdmissionPolicy 'image-registry.example.com' with binding 'image-registry-binding.example.com' \
         denied request: images must come from registry.example.com/ or ghcr.io/example/"
    );
    let audit: Value = serde_json::from_str(
        denied["auditAnnotations"]["validation.policy.admission.k8s.io/validation_failure"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(audit[0]["policy"], "image-registry.example.com");
    assert_eq!(audit[0]["validationActions"], json!(["Deny", "Audit"]));

    // Allowed images, too many replicas: the params ConfigMap of the pack allows 5.
    let mut review = hardened_with(|_| {});
    let spec = &mut review["request"]["object"]["spec"];
    spec["replicas"] = json!(9);
    spec["template"]["spec"]["containers"][0]["image"] = json!("registry.example.com/pulumi/service:1");
    spec["template"]["spec"]["initContainers"][0]["image"] = json!("ghcr.io/example/migrations:1");
    let answer = server.client().post("/validate", body(&review)).await.unwrap();
    let limited = response(&answer);
    assert_eq!(limited["allowed"], false, "{limited}");
    assert_eq!(limited["status"]["code"], 422, "the validation's reason is Invalid");
    assert_eq!(
        limited["status"]["message"],
        "ValidatingAdmissionPolicy 'replica-limit.example.com' with binding 'replica-limit-binding.example.com' \
         denied request: replicas must be no greater than 5"
    );
    server.stop().await;
}

/// A pack whose rule, on objects labelled `bomb: steps` or `bomb: memory`, would iterate 10¹⁰
/// times or build terabytes of lists: a cost bomb in a rule anyone may add to a pack.
fn bomb_pack() -> String {
    let rule = |id: &str, label: &str, bomb: &str| {
        format!(
            "[[rule]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"low\"\nkinds = [\"kubernetes\"]\nwhen = '''has(doc.metadata.labels) && has(doc.metadata.labels.bomb) && doc.metadata.labels.bomb == \"{label}\"'''\nassert = '''{bomb}'''\nmessage = 'm'\n[[rule.variables]]\nname = \"r\"\nexpression = 'lists.range(100000)'\n"
        )
    };
    format!(
        "[pack]\nid = \"bombs\"\nversion = \"0\"\ntitle = \"t\"\n{}{}",
        rule("T-STEPS", "steps", "variables.r.all(i, variables.r.all(j, true))"),
        rule("T-MEMORY", "memory", "size(lists.range(1000000).map(i, lists.range(1000000))) > 0"),
    )
}

/// The hardened fixture, labelled `bomb: KIND`.
fn bomb(kind: &str) -> Value {
    let mut review = fixture("hardened");
    review["request"]["object"]["metadata"]["labels"] = json!({"bomb": kind});
    review
}

/// Polls `/metrics` until no evaluation is running (at most 10 s).
async fn wait_until_idle(server: &TestServer) -> String {
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = server.metrics().await;
        if metrics.contains("celador_webhook_evaluations_running 0\n") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    metrics
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cost_bomb_is_stopped_frees_its_slot_and_on_error_decides_only_its_review() {
    for on_error in [OnError::Deny, OnError::Allow] {
        let server = TestServer::start(Setup {
            extra_pack: bomb_pack(),
            ..Setup::options(move |o| {
                o.eval_timeout = Duration::from_secs(30);
                o.on_error = on_error;
            })
        })
        .await;
        // Past its memory budget: stopped long before the timeout, whatever the machine.
        let response = response_of(&server, &bomb("memory")).await;
        let allowed = on_error == OnError::Allow;
        assert_eq!(response["allowed"], allowed, "{response} {:?}", server.admissions());
        let text = if allowed { warnings(&response)[0].clone() } else { response["status"]["message"].to_string() };
        assert!(text.contains("rule T-MEMORY stopped"), "{text}");
        let logged = server.admissions()[0]["error"].to_string();
        assert!(logged.contains("rule T-MEMORY stopped") && logged.contains("built more than 64 MiB"), "{logged}");
        // The other reviews are decided on their findings, whatever --on-error says.
        assert_eq!(response_of(&server, &fixture("insecure")).await["allowed"], false);
        assert_eq!(response_of(&server, &fixture("hardened")).await["allowed"], true);
        let metrics = wait_until_idle(&server).await;
        assert!(metrics.contains("celador_webhook_evaluations_running 0\n"), "{metrics}");
        assert!(metrics.contains("celador_webhook_errors_total{kind=\"evaluation_limit\"} 1"), "{metrics}");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_past_its_timeout_is_cancelled_and_readyz_reports_saturation() {
    let server = TestServer::start(Setup {
        extra_pack: bomb_pack(),
        ..Setup::options(|o| {
            o.eval_timeout = Duration::from_millis(1500);
            o.evaluation_slots = 1;
            o.saturated_after = Duration::from_millis(100);
        })
    })
    .await;
    let client = server.client();
    let bombing = {
        let client = server.client();
        tokio::spawn(async move { client.post("/validate", body(&bomb("steps"))).await })
    };
    // Saturated while the one slot is busy with the bomb.
    let mut ready = client.get("/readyz").await.unwrap();
    for _ in 0..100 {
        if ready.status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        ready = client.get("/readyz").await.unwrap();
    }
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.text().starts_with("saturated: all 1 evaluation slots busy for "), "{}", ready.text());
    let response = response(&bombing.await.unwrap().unwrap());
    assert_eq!(response["allowed"], false);
    assert!(response["status"]["message"].as_str().unwrap().contains("did not finish within 1.5s"), "{response}");
    // The cancelled evaluation gave its slot back: the next review is evaluated.
    let metrics = wait_until_idle(&server).await;
    assert!(metrics.contains("celador_webhook_errors_total{kind=\"timeout\"} 1"), "{metrics}");
    assert_eq!(client.get("/readyz").await.unwrap().status, StatusCode::OK);
    assert_eq!(response_of(&server, &fixture("insecure")).await["allowed"], false);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cancels_reviews_in_flight() {
    let mut server = TestServer::start(Setup {
        extra_pack: bomb_pack(),
        ..Setup::options(|o| {
            o.eval_timeout = Duration::from_secs(600);
            o.shutdown_grace = Duration::from_millis(300);
        })
    })
    .await;
    let bombing = {
        let client = server.client();
        tokio::spawn(async move { client.post("/validate", body(&bomb("steps"))).await })
    };
    let metrics = loop {
        let metrics = server.metrics().await;
        if metrics.contains("celador_webhook_evaluations_running 1\n") {
            break metrics;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(metrics.contains("celador_webhook_evaluation_slots "), "{metrics}");
    server.begin_shutdown();
    // The request is cut off at the end of the grace period (not answered after 600 s).
    let answer = tokio::time::timeout(Duration::from_secs(20), bombing).await.expect("the request ends").unwrap();
    assert!(answer.is_err() || response(&answer.unwrap())["allowed"] == false);
    server.stop().await;
}

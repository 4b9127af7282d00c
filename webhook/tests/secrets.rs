//! A property: whatever secrets an admitted object holds, neither the answer nor the log
//! shows one, in enforce or audit mode.

mod common;

use celador_webhook::Mode;
use common::{Setup, TestServer, body, fixture};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

/// Reviews of the insecure Deployment (CREATE and UPDATE) and of a Secret, with `secrets`
/// planted as env values, URL and `user:password@host:port` credentials, Secret data, and in
/// the object an UPDATE replaces.
fn reviews(secrets: &[String]) -> Vec<Value> {
    let mut create = fixture("insecure");
    let env = &mut create["request"]["object"]["spec"]["template"]["spec"]["containers"][0]["env"];
    let env = env.as_array_mut().unwrap();
    env.push(json!({"name": "PULUMI_API_TOKEN", "value": secrets[0]}));
    env.push(json!({"name": "SMTP_SERVER", "value": format!("pulumi:{}@smtp.example.net:25", secrets[1])}));
    env.push(json!({"name": "DATABASE_URL", "value": format!("mysql://pulumi:{}@db:3306/pulumi", secrets[2])}));
    env.push(json!({"name": "PULUMI_LICENSE_KEY", "value": secrets[3]}));
    let mut update = create.clone();
    update["request"]["operation"] = json!("UPDATE");
    update["request"]["oldObject"] = update["request"]["object"].clone();
    update["request"]["oldObject"]["spec"]["template"]["spec"]["containers"][0]["env"][0] =
        json!({"name": "AZURE_CLIENT_SECRET", "value": secrets[4]});
    let mut secret = fixture("insecure");
    secret["request"]["kind"] = json!({"group": "", "version": "v1", "kind": "Secret"});
    secret["request"]["name"] = json!("db");
    secret["request"]["oldObject"] = Value::Null;
    secret["request"]["object"] = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "pulumi"},
        "stringData": {"password": secrets[5], "url": format!("postgres://admin:{}@db:5432/x", secrets[6])},
        "data": {"token": secrets[7]},
    });
    vec![create, update, secret]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_planted_secret_appears_in_an_answer_or_the_log() {
    let strategy = proptest::collection::vec("[A-Za-z0-9]{10,16}", 8);
    let mut runner = TestRunner::deterministic();
    for mode in [Mode::Enforce, Mode::Audit] {
        let server = TestServer::start(Setup::options(move |o| o.mode = mode)).await;
        for case in 0..4 {
            let suffixes = strategy.new_tree(&mut runner).unwrap().current();
            let secrets: Vec<String> = suffixes.iter().enumerate().map(|(i, s)| format!("Zq{case}{i}x{s}")).collect();
            for review in reviews(&secrets) {
                let answer = server.client().post("/validate", body(&review)).await.unwrap();
                let text = answer.text();
                for secret in &secrets {
                    assert!(!text.contains(secret.as_str()), "{mode:?}: {secret} in the answer:\n{text}");
                }
            }
            let log = server.log.lines().join("\n");
            for secret in &secrets {
                assert!(!log.contains(secret.as_str()), "{mode:?}: {secret} in the log:\n{log}");
            }
        }
        // The findings are there (the planted values were evaluated), only their values are not.
        let admissions = server.admissions();
        assert!(admissions.iter().any(|a| a["findings"].as_array().is_some_and(|f| !f.is_empty())), "{admissions:?}");
        server.stop().await;
    }
}

/// The insecure review's body with `edit` applied to its JSON value.
fn edited(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut review = fixture("insecure");
    edit(&mut review);
    body(&review)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_review_is_answered_without_quoting_it() {
    const SECRET: &str = "Zq7hunter2Secret";
    let server = TestServer::start(Setup::default()).await;
    let valid = body(&fixture("insecure"));
    let secret_at = |v: &mut Value, pointer: &str, value: Value| *v.pointer_mut(pointer).unwrap() = value;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a string for a boolean",
            edited(|v| secret_at(v, "/request/dryRun", json!(SECRET))),
            "expected a boolean, found a string, at line 1 column ",
        ),
        (
            "an unknown operation",
            edited(|v| secret_at(v, "/request/operation", json!(SECRET))),
            "unknown value, expected one of `CREATE`, `UPDATE`, `DELETE`, `CONNECT`, at line 1 column ",
        ),
        (
            "a string for the object",
            edited(|v| secret_at(v, "/request/object", json!(SECRET))),
            "expected an object, found a string, at line 1 column ",
        ),
        (
            "a string for a list",
            edited(|v| secret_at(v, "/request/userInfo/groups", json!(SECRET))),
            "expected a list, found a string, at line 1 column ",
        ),
        (
            "an unknown apiVersion",
            edited(|v| secret_at(v, "/apiVersion", json!(SECRET))),
            "apiVersion (a string that is not an API version)",
        ),
        ("an unknown kind", edited(|v| secret_at(v, "/kind", json!(SECRET))), "found another string"),
        ("a string for the review", body(&json!(SECRET)), "expected an AdmissionReview object, found a string"),
        (
            "truncated in a string",
            {
                let text = String::from_utf8(edited(|v| secret_at(v, "/request/name", json!(SECRET)))).unwrap();
                text.as_bytes()[..text.find(SECRET).unwrap() + SECRET.len()].to_vec()
            },
            "malformed JSON: EOF while parsing a string, at line 1 column ",
        ),
        (
            "a control character in a string",
            {
                let text = String::from_utf8(edited(|v| secret_at(v, "/request/name", json!(SECRET)))).unwrap();
                text.replacen(SECRET, &format!("{SECRET}\u{1}"), 1).into_bytes()
            },
            "malformed JSON: control character",
        ),
        (
            "bad UTF-8 in a string",
            {
                let mut bytes = edited(|v| secret_at(v, "/request/name", json!(SECRET)));
                let at = String::from_utf8_lossy(&bytes).find(SECRET).unwrap() + SECRET.len();
                bytes.splice(at..at, [0xff, 0xfe]);
                bytes
            },
            "malformed JSON: invalid unicode code point, at line 1 column ",
        ),
        (
            "trailing text",
            [valid.as_slice(), b" ", SECRET.as_bytes()].concat(),
            "malformed JSON: trailing characters, at line 1 column ",
        ),
    ];
    for (case, request, expected) in &cases {
        let answer = server.client().post("/validate", request.clone()).await.unwrap();
        let text = answer.text();
        assert_eq!(answer.status, hyper::StatusCode::BAD_REQUEST, "{case}: {text}");
        assert!(!text.contains(SECRET), "{case}: the answer quotes the request:\n{text}");
        let message = answer.json()["response"]["status"]["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains(expected), "{case}: {message}");
    }
    let log = server.log.lines().join("\n");
    assert_eq!(server.log.lines().iter().filter(|l| l.contains("invalid request")).count(), cases.len(), "{log}");
    assert!(!log.contains(SECRET), "the log quotes a request:\n{log}");
    server.stop().await;
}

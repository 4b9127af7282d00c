//! Reviewing the same object over and over holds no more memory than reviewing it once: every
//! allocation a review makes is freed when it is answered (the 250,000-review soak of
//! `bench/attack/attack.py` depends on it). Live allocations are counted by this test
//! binary's global allocator, so a leak of one allocation per review fails.

// The counting allocator forwards to the system's; it is the one place this test needs unsafe.
#![allow(unsafe_code)]

mod common;

use celador_webhook::{LogSink, Options, Policy, Server, TlsFiles};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The system allocator, counting the allocations alive.
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call is forwarded unchanged to `System`; the counter is only arithmetic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn live() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

/// Log lines are formatted, then dropped.
struct Discard;

impl LogSink for Discard {
    fn write_line(&self, _: &str) {}
}

/// The denied example's object, as the webhook hands it to the policy.
fn insecure_object() -> String {
    serde_json::to_string(&common::fixture("insecure")["request"]["object"]).unwrap()
}

/// One test: the counter is the process's, so nothing may run beside it.
#[test]
fn reviewing_again_and_again_holds_no_memory() {
    evaluating_an_object_again_and_again();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(serving_reviews_again_and_again());
}

fn evaluating_an_object_again_and_again() {
    // On one thread, as the server evaluates (each evaluation slot is a one-thread pool): with
    // two, which thread first runs a rule varies, and a per-thread cache (a regex's search
    // cache) could fill during the measurement.
    let slot = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    slot.install(evaluating_on_this_thread);
}

fn evaluating_on_this_thread() {
    let policy = Policy::new(common::rules(), common::parse_config("")).unwrap();
    let object = insecure_object();
    let evaluate = || {
        let evaluation = policy.evaluate("Deployment/default/api", &object, None).unwrap();
        assert!(!evaluation.findings.is_empty());
    };
    // Process-wide caches (the regular expressions, rayon's threads and their thread-locals,
    // a regex's search cache for each thread that runs it) fill on the first ones; which thread
    // runs which rule varies, so some fill later: warm up until a batch of 50 leaves (nearly)
    // nothing behind. A leak of one allocation per evaluation never settles, and fails below.
    for _ in 0..20 {
        let before = live();
        (0..50).for_each(|_| evaluate());
        if live() - before < 10 {
            break;
        }
    }
    let before = live();
    (0..300).for_each(|_| evaluate());
    let grown = live() - before;
    assert!(grown < 100, "{grown} more allocations alive after 300 evaluations");
}

async fn serving_reviews_again_and_again() {
    let ca = common::Ca::new("celador test CA");
    let leaf = ca.issue("celador-webhook", &[common::SERVICE_NAME], false);
    let volume = common::SecretVolume::new(&leaf);
    let mut options = Options::new(TlsFiles { cert: volume.cert(), key: volume.key(), client_ca: None });
    options.listen = "127.0.0.1:0".parse().unwrap();
    options.metrics_listen = None;
    options.reload_interval = Duration::from_secs(3600);
    let policy = Policy::new(common::rules(), common::parse_config("")).unwrap();
    let server = Server::bind(options, policy, Arc::new(Discard)).await.unwrap();
    let client = common::Client::new(server.local_addr(), &ca.pem, None);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));
    let body = common::body(&common::fixture("insecure"));
    // Four keep-alive connections, as the soak uses.
    let mut connections = Vec::new();
    for _ in 0..4 {
        connections.push(client.open().await.unwrap());
    }
    let mut round = async |reviews: usize| {
        let mut sending = Vec::new();
        for mut connection in connections.drain(..) {
            let body = body.clone();
            sending.push(tokio::spawn(async move {
                for _ in 0..reviews / 4 {
                    let answer = connection.post("/validate", body.clone()).await.unwrap();
                    assert_eq!(answer.status, 200);
                    assert_eq!(answer.json()["response"]["allowed"], false);
                }
                connection
            }));
        }
        for task in sending {
            connections.push(task.await.unwrap());
        }
    };
    round(100).await;
    let before = live();
    round(600).await;
    let grown = live() - before;
    // A few allocations come and go with the runtime's timers and queues.
    assert!(grown < 100, "{grown} more allocations alive after 600 reviews");
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

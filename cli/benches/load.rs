//! Loading one large multi-document manifest: read, parse (in pieces, on every core),
//! classify, nothing evaluated — the path `helm template` output of a whole platform takes.
//!
//! The manifest is generated in memory, deterministically: Deployments, Services, Secrets and
//! ConfigMaps under `# Source:` comments, about 4 MiB. `CELADOR_BENCH_MANIFEST=FILE` loads that
//! file instead (for instance `bench/gen_corpus.py OUT --huge`'s `huge.yaml`).
//!
//! ```console
//! $ cargo bench --bench load
//! $ CELADOR_BENCH_MANIFEST=/tmp/huge/huge.yaml cargo bench --bench load
//! ```

use celador_engine::check::{Input, load_inputs};
use celador_engine::components::ComponentCatalog;
use celador_engine::read::ReadScope;
use celador_engine::source::SourceMap;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::fmt::Write as _;

/// The same allocator as the binary, so figures match whole-process timings.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Objects of one generated manifest; each group of four is about 1.4 KiB.
const OBJECTS: usize = 12_000;

fn manifest() -> (String, Vec<u8>) {
    if let Some(path) = std::env::var_os("CELADOR_BENCH_MANIFEST") {
        let bytes = std::fs::read(&path).expect("CELADOR_BENCH_MANIFEST is readable");
        return (std::path::Path::new(&path).display().to_string(), bytes);
    }
    let mut text = String::new();
    for i in 0..OBJECTS {
        let (app, ns) = (format!("app-{}", i / 4), format!("team-{}", i % 17));
        let _ = write!(text, "---\n# Source: platform/templates/{app}-{}.yaml\n", i % 4);
        let _ = match i % 4 {
            0 => write!(
                text,
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels: {{app: {app}, tier: api}}\n\
                 spec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n\
                 \x20   spec:\n      containers:\n      - name: api\n        image: \"pulumi/service:3.{}.0\"\n        ports:\n        - containerPort: 8080\n          protocol: TCP\n\
                 \x20       env:\n        - name: PULUMI_DATABASE_ENDPOINT\n          value: \"db-{i}.internal:3306\"\n        - name: PULUMI_DATABASE_PASSWORD\n\
                 \x20         valueFrom: {{secretKeyRef: {{name: {app}-db, key: password}}}}\n        resources:\n          limits: {{cpu: 500m, memory: 512Mi}}\n",
                1 + i % 3,
                i % 40
            ),
            1 => write!(
                text,
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  selector:\n    app: {app}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n    protocol: TCP\n"
            ),
            2 => write!(
                text,
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {app}-db\n  namespace: {ns}\ntype: Opaque\nstringData:\n  password: \"s3cr3t-{i:08}\"\n  username: pulumi\n"
            ),
            _ => write!(
                text,
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\n  namespace: {ns}\ndata:\n  PULUMI_CONSOLE_DOMAIN: console-{i}.example.com\n  LOG_LEVEL: \"info\"\n  motd: |\n    Welcome to {app}.\n    Maintained by {ns}.\n"
            ),
        };
    }
    ("generated.yaml".to_owned(), text.into_bytes())
}

fn bench(c: &mut Criterion) {
    let (name, bytes) = manifest();
    let load = || {
        let sources = SourceMap::new();
        let input = Input { name: name.clone(), path: None, bytes: bytes.clone(), explicit: true, kind: None };
        let loaded = load_inputs(vec![input], &sources, None, &ReadScope::nothing(), &ComponentCatalog::default());
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        loaded.documents.len()
    };
    let documents = load();
    assert!(documents > 0, "no documents in {name}");
    let mut group = c.benchmark_group(format!("manifest-{}-documents", documents));
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("load", |b| b.iter(load));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

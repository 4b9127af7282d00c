//! Load + evaluate on the shared benchmark corpus (`shared/bench/gen_corpus.py`).
//!
//! `CELADOR_BENCH_CORPUS=DIR` benchmarks an existing tree; otherwise the 2,000-file corpus is
//! generated (deterministically) under `target/bench-corpus/` on first run.
//!
//! ```console
//! $ cargo bench -p celador --bench check
//! ```

use celador_engine::check::{Checker, discover, load_inputs};
use celador_engine::pack::load_pack;
use celador_engine::source::SourceMap;
use criterion::{Criterion, criterion_group, criterion_main};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The same allocator as the binary, so figures match whole-process timings.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn corpus() -> PathBuf {
    if let Some(dir) = std::env::var_os("CELADOR_BENCH_CORPUS") {
        return PathBuf::from(dir);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("target/bench-corpus/medium");
    if !out.exists() {
        let script = root.join("../shared/bench/gen_corpus.py");
        let status = Command::new("python3")
            .arg(&script)
            .arg(&out)
            .args(["--size", "medium"])
            .status()
            .expect("python3 runs the corpus generator");
        assert!(status.success(), "{} failed", script.display());
    }
    out
}

fn bench(c: &mut Criterion) {
    let corpus = corpus();
    let cwd = std::env::current_dir().expect("working directory");
    let mut group = c.benchmark_group("corpus-2000");
    group.sample_size(10);
    group.bench_function("load", |b| {
        b.iter(|| {
            let sources = SourceMap::new();
            let found = discover(std::slice::from_ref(&corpus), &cwd);
            load_inputs(found.inputs, &sources, None).documents.len()
        });
    });
    group.bench_function("load+check", |b| {
        b.iter(|| {
            let sources = SourceMap::new();
            let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("built-in pack");
            let pack = load_pack(files, &sources).expect("built-in pack compiles");
            let found = discover(std::slice::from_ref(&corpus), &cwd);
            let loaded = load_inputs(found.inputs, &sources, None);
            Checker::new(pack.rules).check(&loaded.documents, &sources).len()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

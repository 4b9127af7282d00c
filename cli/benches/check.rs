//! Load + evaluate on the project's benchmark corpus (`bench/gen_corpus.py`, described in
//! `bench/README.md`).
//!
//! `CELADOR_BENCH_CORPUS=DIR` benchmarks an existing tree. Otherwise the corpus of size
//! `CELADOR_BENCH_SIZE` (`small`, the default: 100 files; `medium`: 2,000; `large`: 20,000) is
//! generated (deterministically, with `python3`) under `target/bench-corpus/` on first use and
//! reused afterwards.
//!
//! ```console
//! $ cargo bench --bench check
//! $ CELADOR_BENCH_SIZE=medium cargo bench --bench check
//! ```

use celador_engine::check::{Checker, discover, load_inputs};
use celador_engine::components::ComponentCatalog;
use celador_engine::kind::KindGlobs;
use celador_engine::limits::MAX_FILE_SIZE;
use celador_engine::pack::{load_pack, read_pack_files};
use celador_engine::read::ReadScope;
use celador_engine::source::SourceMap;
use criterion::{Criterion, criterion_group, criterion_main};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The same allocator as the binary, so figures match whole-process timings.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The repository root (the root package's manifest directory).
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The corpus to measure and a label for it.
fn corpus() -> (PathBuf, String) {
    if let Some(dir) = std::env::var_os("CELADOR_BENCH_CORPUS") {
        let dir = PathBuf::from(dir);
        let label = dir.file_name().map_or_else(|| "corpus".to_owned(), |n| n.to_string_lossy().into_owned());
        return (dir, label);
    }
    let size = std::env::var("CELADOR_BENCH_SIZE").unwrap_or_else(|_| "small".to_owned());
    assert!(
        ["small", "medium", "large"].contains(&size.as_str()),
        "CELADOR_BENCH_SIZE must be small, medium or large, not {size:?}"
    );
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), |t| root().join(t));
    let out = target.join("bench-corpus").join(&size);
    // The generator writes the ground truth last, after moving the finished tree into place:
    // without it, the tree is absent or left over from an interrupted run.
    let expected = out.with_extension("expected.json");
    if !expected.is_file() {
        if out.exists() {
            std::fs::remove_dir_all(&out).expect("remove an incomplete corpus");
        }
        std::fs::create_dir_all(out.parent().expect("corpus parent")).expect("create target/bench-corpus");
        let script = root().join("bench/gen_corpus.py");
        let status = Command::new("python3")
            .arg(&script)
            .arg(&out)
            .args(["--size", &size])
            .status()
            .expect("python3 runs the corpus generator");
        assert!(status.success(), "{} failed", script.display());
    }
    (out, format!("corpus-{size}"))
}

fn bench(c: &mut Criterion) {
    let (corpus, label) = corpus();
    let cwd = std::env::current_dir().expect("working directory");
    let kinds = KindGlobs::default();
    // The built-in pack's components decide what a YAML file of no known name is, as in `celador check`.
    let declared: ComponentCatalog = {
        let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("built-in pack");
        (*load_pack(files, &SourceMap::new()).expect("built-in pack compiles").components).clone()
    };
    let load = |sources: &SourceMap| {
        let scope = ReadScope::new(&cwd, std::slice::from_ref(&corpus), MAX_FILE_SIZE);
        let found = discover(std::slice::from_ref(&corpus), &cwd, &kinds, &scope);
        load_inputs(found.inputs, sources, None, &scope, &declared)
    };
    {
        let sources = SourceMap::new();
        let documents = load(&sources).documents.len();
        assert!(documents > 0, "no documents found in {}", corpus.display());
    }
    let pul = root().join("bench/rules/pul.toml");
    let mut group = c.benchmark_group(label);
    group.sample_size(10);
    group.bench_function("load", |b| {
        b.iter(|| load(&SourceMap::new()).documents.len());
    });
    group.bench_function("load+check", |b| {
        b.iter(|| {
            let sources = SourceMap::new();
            let files = celador_rules::builtin_files(celador_rules::DEFAULT_PACK).expect("built-in pack");
            let pack = load_pack(files, &sources).expect("built-in pack compiles");
            let loaded = load(&sources);
            Checker::new(pack.rules).check(&loaded.documents, &sources).len()
        });
    });
    // The three fair-comparison rules alone (bench/rules/pul.toml), as other engines run them.
    group.bench_function("load+check-pul", |b| {
        b.iter(|| {
            let sources = SourceMap::new();
            let files = read_pack_files(&pul, "bench/rules/pul.toml").expect("bench/rules/pul.toml is readable");
            let pack = load_pack(files, &sources).expect("bench/rules/pul.toml compiles");
            let loaded = load(&sources);
            Checker::new(pack.rules).check(&loaded.documents, &sources).len()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The parse floor: discover, read and parse every file under the given paths into located
//! documents (spans and all), on every core, exactly as `celador check` loads them — and stop
//! there. No rule pack is compiled, no component built, nothing evaluated or reported.
//!
//!     parse-floor PATH...      prints `N documents in M files` to stdout
//!
//! `bench/run.py` times this process against `celador check` on the same corpus: the ratio
//! is what evaluation and reporting cost on top of reading and parsing.

use celador_engine::components::ComponentCatalog;
use celador_engine::check::{discover, load_inputs};
use celador_engine::read::ReadScope;
use celador_engine::kind::KindGlobs;
use celador_engine::source::SourceMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: parse-floor PATH...");
        return ExitCode::from(2);
    }
    // Both cores (all of them): rayon's global pool, which the engine's loaders use.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().expect("rayon thread pool");
    let cwd = std::env::current_dir().expect("working directory");
    let scope = ReadScope::new(&cwd, &paths, celador_engine::limits::MAX_FILE_SIZE);
    let found = discover(&paths, &cwd, &KindGlobs::default(), &scope);
    for problem in &found.problems {
        eprintln!("parse-floor: {}", problem.message);
    }
    let sources = SourceMap::new();
    let loaded = load_inputs(found.inputs, &sources, None, &scope, &ComponentCatalog::default());
    for problem in &loaded.problems {
        eprintln!("parse-floor: {}", problem.message);
    }
    println!("{} documents in {} files", loaded.documents.len(), loaded.files);
    if found.problems.is_empty() && loaded.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) }
}

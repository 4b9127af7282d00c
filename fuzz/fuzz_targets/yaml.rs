//! The YAML loader on arbitrary text: a located error or documents, never a panic, a stack
//! overflow or unbounded memory (aliases are shared, nesting is bounded).
#![no_main]

use celador_engine::source::FileId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = celador_engine::load::load_yaml(FileId(0), text);
});

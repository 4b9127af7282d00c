//! The JSON loader on arbitrary text: a located error or a tree, never a panic.
#![no_main]

use celador_engine::source::FileId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = celador_engine::load::load_json(FileId(0), text);
});

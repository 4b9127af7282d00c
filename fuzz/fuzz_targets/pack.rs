//! Pack loading on an arbitrary rule file: TOML schema, CEL compilation, templates and
//! variables give located problems or a pack, never a panic or a stack overflow.
#![no_main]

use celador_engine::pack::{PackFile, load_pack};
use celador_engine::source::SourceMap;
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|text: &str| {
    let files = vec![PackFile {
        relative: "fuzz/FUZZ-001.toml".to_owned(),
        display: "fuzz/FUZZ-001.toml".to_owned(),
        path: None,
        text: Arc::from(text),
    }];
    let _ = load_pack(files, &SourceMap::new());
});

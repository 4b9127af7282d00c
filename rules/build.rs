//! Embeds every file of the built-in packs (rules, docs and fixtures) into the library, so the
//! binary needs no files at run time and `celador test` can run the built-in fixtures.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const PACKS: &[&str] = &["pulumi-hardening"];

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).expect("pack directory is readable").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut code = String::from(
        "/// Built-in packs: (pack name, [(path relative to the pack, content)]).\npub static PACKS: &[(&str, &[(&str, &str)])] = &[\n",
    );
    for pack in PACKS {
        let dir = root.join(pack);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files = Vec::new();
        files_under(&dir, &mut files);
        let _ = writeln!(code, "    ({pack:?}, &[");
        for file in files {
            let relative =
                file.strip_prefix(&dir).expect("file is under its pack").to_string_lossy().replace('\\', "/");
            let _ = writeln!(code, "        ({relative:?}, include_str!({:?})),", file.display().to_string());
        }
        code.push_str("    ]),\n");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("packs.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}

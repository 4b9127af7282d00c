//! celador's built-in rule packs, embedded in the binary.
//!
//! The packs are data: TOML rule files with their docs and fixtures, under this crate's
//! directory. `build.rs` embeds every file, so `celador check .` works with no setup and
//! `celador test` can run the built-in fixtures anywhere.

use celador_engine::pack::PackFile;
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/packs.rs"));

/// The name of the pack `celador check` uses unless `--no-builtin` is given.
pub const DEFAULT_PACK: &str = "pulumi-hardening";

/// The files of a built-in pack, shown as `<builtin>/<pack>/<path>`: its rules, docs and
/// fixtures, what `celador test` runs.
pub fn builtin_files(pack: &str) -> Option<Vec<PackFile>> {
    builtin_files_where(pack, |_| true)
}

/// The `.toml` files of a built-in pack: its rule files and `pack.toml` (and the fixtures
/// written in TOML, which loading tells apart), all that checking with the pack reads. The
/// other fixtures are most of the pack's bytes (3.6 MiB in all), and copying them was a
/// tenth of a cold `celador check` of one file.
pub fn builtin_rule_files(pack: &str) -> Option<Vec<PackFile>> {
    builtin_files_where(pack, |relative| relative.ends_with(".toml"))
}

fn builtin_files_where(pack: &str, keep: impl Fn(&str) -> bool) -> Option<Vec<PackFile>> {
    let (_, files) = PACKS.iter().find(|(name, _)| *name == pack)?;
    Some(
        files
            .iter()
            .filter(|(relative, _)| keep(relative))
            .map(|(relative, text)| PackFile {
                relative: (*relative).to_owned(),
                display: format!("<builtin>/{pack}/{relative}"),
                path: None,
                text: Arc::from(*text),
            })
            .collect(),
    )
}

/// Names of the built-in packs.
pub fn builtin_packs() -> impl Iterator<Item = &'static str> {
    PACKS.iter().map(|(name, _)| *name)
}

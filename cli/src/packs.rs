//! Loading the packs a command uses: the built-in one and any `--pack`.

use crate::args::PackArgs;
use celador_engine::check::display_name;
use celador_engine::config::ConfiguredPack;
use celador_engine::diagnostic::Problem;
use celador_engine::pack::{Compile, Pack, load_pack_compiling, read_pack_files};
use celador_engine::source::SourceMap;

/// What of the built-in pack a command needs, and when its rules are compiled. `--pack`s and
/// configured packs are always compiled and checked at load: their mistakes are reported
/// before anything else happens.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Its rules, each compiled when first used (`celador_engine::pack::compile_rules`):
    /// checking, explaining, listing.
    RulesWhenUsed,
    /// Its rules, compiled at load: the webhook, which then never compiles while answering.
    Rules,
    /// Its rules and their fixtures, compiled at load: `celador test`.
    WithFixtures,
}

/// Loads the packs: the built-in one, `--pack`s and the configuration's `packs`, each once;
/// every problem of every pack is collected.
pub fn load_packs(
    args: &PackArgs,
    configured: &[ConfiguredPack],
    sources: &SourceMap,
    builtin: Builtin,
) -> (Vec<Pack>, Vec<Problem>) {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut packs = Vec::new();
    let mut problems = Vec::new();
    let mut file_sets = Vec::new();
    if !args.no_builtin
        && let Some(files) = match builtin {
            Builtin::RulesWhenUsed | Builtin::Rules => celador_rules::builtin_rule_files(celador_rules::DEFAULT_PACK),
            Builtin::WithFixtures => celador_rules::builtin_files(celador_rules::DEFAULT_PACK),
        }
    {
        // The built-in pack is compiled and checked whole by its tests (`cargo test -p
        // celador-rules`): a run compiles only the rules it uses.
        let when = if builtin == Builtin::RulesWhenUsed { Compile::WhenUsed } else { Compile::AtLoad };
        file_sets.push((files, when));
    }
    let mut seen = std::collections::HashSet::new();
    for path in &args.packs {
        seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()));
        match read_pack_files(path, &display_name(path, &cwd)) {
            Ok(files) => file_sets.push((files, Compile::AtLoad)),
            Err(p) => problems.push(p),
        }
    }
    for pack in configured {
        if !pack.path.exists() {
            problems.push(Problem::at(pack.span, format!("no such pack file or directory `{}`", pack.written)));
            continue;
        }
        if !seen.insert(std::fs::canonicalize(&pack.path).unwrap_or_else(|_| pack.path.clone())) {
            continue;
        }
        match read_pack_files(&pack.path, &display_name(&pack.path, &cwd)) {
            Ok(files) => file_sets.push((files, Compile::AtLoad)),
            Err(p) => problems.push(p),
        }
    }
    for (files, when) in file_sets {
        match load_pack_compiling(files, sources, when) {
            Ok(pack) => packs.push(pack),
            Err(mut errs) => problems.append(&mut errs),
        }
    }
    (packs, problems)
}

//! `celador.toml`: project configuration shared by `check`, the pre-commit hook and the
//! webhook.
//!
//! ```toml
//! [rules]
//! disable = ["PSH-APP-006"]                   # rules not to run
//! severity = { "PSH-APP-001" = "medium" }     # severity overrides
//!
//! [params."PSH-TLS-009"]                      # rule parameter overrides
//! min_tls_version = "1.3"
//!
//! [[ignore]]                                  # suppressions for files without comments (JSON)
//! rule = "PSH-NET-004"                        # or rules = [...]; "*" for every rule
//! path = "deploy/lab/**"                      # glob on the reported file name
//! logical_path = "*alb*"                      # optional glob on the finding's logical path
//! reason = "lab account, no public exposure"  # required
//! until = 2027-03-31                          # optional expiry (a TOML date or "YYYY-MM-DD")
//!
//! packs = ["policy/admission"]               # rule packs beside the built-in one, as `--pack`
//!                                             # (TOML packs or ValidatingAdmissionPolicy YAML)
//!
//! [[kinds]]                                   # the kind of files no naming convention covers
//! path = "deploy/*.conf.yaml"                 # glob on the file name (or relative to this file)
//! kind = "helm-values"
//! ```
//!
//! It is found by walking up from the working directory (`celador.toml`, then
//! `.celador.toml`) to the repository root (the directory holding `.git`), no further: a file
//! above the repository is not the repository's to obey. `--config FILE` names one explicitly. Errors are located in the file, and
//! so are rule ids, parameter names and parameter types that the packs of the run do not know
//! ([`Config::validate`]).

use crate::diagnostic::{Problem, Severity};
use crate::kind::{InputKind, KindGlobs};
use crate::pack::Rule;
use crate::source::{SourceFile, SourceMap, Span};
use crate::tree::Node;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// File names looked for, in order, in each directory walking up.
pub const CONFIG_NAMES: [&str; 2] = ["celador.toml", ".celador.toml"];

/// A loaded configuration.
#[derive(Debug, Default)]
pub struct Config {
    /// Where it was read from.
    pub path: Option<PathBuf>,
    /// Rules not to run.
    pub disable: Vec<String>,
    /// Severity overrides.
    pub severity: BTreeMap<String, Severity>,
    /// Parameter overrides per rule, merged over the rule's defaults.
    pub params: BTreeMap<String, toml::Table>,
    /// `[[ignore]]` entries.
    pub ignores: Vec<Ignore>,
    /// `[webhook]` settings, kept raw for the server.
    pub webhook: Option<toml::Table>,
    /// `[[kinds]]` entries.
    pub kinds: KindGlobs,
    /// `packs = [...]`: packs to load beside those of `--pack`, relative to the file.
    pub packs: Vec<ConfiguredPack>,
    /// Every rule id the file names, with where, for [`Config::validate`].
    rule_references: Vec<(String, Span)>,
    /// Every parameter override, with where, for [`Config::validate`].
    param_overrides: Vec<ParamOverride>,
}

/// One entry of `packs = [...]`.
#[derive(Clone, Debug)]
pub struct ConfiguredPack {
    /// The path as written, relative to the configuration file.
    pub written: String,
    /// Where it is, with the configuration file's directory prepended.
    pub path: PathBuf,
    /// Where the entry is in the configuration file.
    pub span: Span,
}

/// One `[params."RULE"]` value, located.
#[derive(Debug)]
struct ParamOverride {
    rule: String,
    name: String,
    name_span: Span,
    value: toml::Value,
    value_span: Span,
}

/// One `[[ignore]]` entry.
#[derive(Debug)]
pub struct Ignore {
    /// Rule ids (`*` matches every rule).
    pub rules: Vec<String>,
    /// Glob on the reported file name.
    pub path: Option<globset::GlobMatcher>,
    /// Glob on the logical path.
    pub logical_path: Option<globset::GlobMatcher>,
    /// Why.
    pub reason: String,
    /// Expiry date `(year, month, day)`.
    pub until: Option<(i32, u32, u32)>,
    /// Where the entry is, for unused/expired reports.
    pub span: Span,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigToml {
    #[serde(default)]
    rules: RulesToml,
    #[serde(default)]
    params: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    #[serde(default)]
    ignore: Vec<Spanned<IgnoreToml>>,
    #[serde(default)]
    kinds: Vec<KindToml>,
    #[serde(default)]
    packs: Vec<Spanned<String>>,
    webhook: Option<toml::Table>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RulesToml {
    #[serde(default)]
    disable: Vec<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindToml {
    path: Spanned<String>,
    kind: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreToml {
    rule: Option<Spanned<String>>,
    #[serde(default)]
    rules: Vec<Spanned<String>>,
    path: Option<Spanned<String>>,
    logical_path: Option<Spanned<String>>,
    reason: Option<String>,
    until: Option<Spanned<toml::Value>>,
}

/// Finds the configuration file for `cwd`: the nearest `celador.toml` walking up, up to the
/// repository root (the nearest directory holding `.git`), or to the file system root outside
/// a repository.
///
/// # Errors
/// The file found is a symbolic link leading outside the repository (or, outside one, outside
/// its directory): it is not read.
pub fn discover(cwd: &Path) -> Result<Option<PathBuf>, Problem> {
    let repository = crate::read::repository_root(cwd);
    let dirs = cwd.ancestors().take_while(|dir| repository.as_deref().is_none_or(|root| dir.starts_with(root)));
    let Some(found) = dirs.flat_map(|dir| CONFIG_NAMES.iter().map(move |n| dir.join(n))).find(|p| p.exists()) else {
        return Ok(None);
    };
    let boundary = repository.as_deref().or_else(|| found.parent()).and_then(|b| std::fs::canonicalize(b).ok());
    let inside = std::fs::canonicalize(&found).ok().zip(boundary).is_some_and(|(file, root)| file.starts_with(root));
    if !inside {
        let name = crate::check::display_name(&found, cwd);
        return Err(Problem::file(Some(name), crate::read::ReadError::Outside.to_string()));
    }
    Ok(Some(found))
}

/// Parses a configuration file, located in `sources` for error reports.
///
/// # Errors
/// Unreadable file, TOML errors, unknown keys, bad globs, dates or severities — each located.
pub fn load(path: &Path, display: &str, sources: &SourceMap) -> Result<Config, Vec<Problem>> {
    let problem = |message: String| vec![Problem::file(Some(display.to_owned()), message)];
    let bytes = crate::read::read_regular(path, crate::limits::MAX_FILE_SIZE).map_err(|e| match e {
        crate::read::ReadError::Io(e) => problem(format!("cannot read configuration: {e}")),
        other => problem(other.to_string()),
    })?;
    let text =
        String::from_utf8(bytes).map_err(|_| problem("cannot read configuration: not valid UTF-8".to_owned()))?;
    parse(&text, display, Some(path.to_path_buf()), sources)
}

/// Parses configuration text.
///
/// # Errors
/// As [`load`].
pub fn parse(text: &str, display: &str, path: Option<PathBuf>, sources: &SourceMap) -> Result<Config, Vec<Problem>> {
    let file = sources.add(SourceFile::new(display, path.clone(), text));
    let span = |r: std::ops::Range<usize>| Span::new(file, r.start, r.end);
    let parsed: ConfigToml = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(Span::new(file, 0, 0), span);
        vec![Problem::at(at, format!("invalid configuration: {}", e.message().trim()))]
    })?;
    let mut problems = Vec::new();
    let mut rule_references = Vec::new();
    let mut reference = |id: &Spanned<String>| rule_references.push((id.get_ref().clone(), span(id.span())));
    let mut disable = Vec::new();
    for id in parsed.rules.disable {
        reference(&id);
        disable.push(id.into_inner());
    }
    let mut severity = BTreeMap::new();
    for (rule, level) in parsed.rules.severity {
        reference(&rule);
        match Severity::parse(level.get_ref()) {
            Some(s) => {
                severity.insert(rule.into_inner(), s);
            }
            None => problems.push(Problem::at(
                span(level.span()),
                format!(
                    "unknown severity `{}`{} (expected critical, high, medium, low or info)",
                    level.get_ref(),
                    crate::suggest::hint(level.get_ref(), Severity::ALL.map(Severity::as_str))
                ),
            )),
        }
    }
    let mut params = BTreeMap::new();
    let mut param_overrides = Vec::new();
    for (rule, values) in parsed.params {
        reference(&rule);
        let mut table = toml::Table::new();
        for (name, value) in values {
            param_overrides.push(ParamOverride {
                rule: rule.get_ref().clone(),
                name: name.get_ref().clone(),
                name_span: span(name.span()),
                value: value.get_ref().clone(),
                value_span: span(value.span()),
            });
            table.insert(name.into_inner(), value.into_inner());
        }
        params.insert(rule.into_inner(), table);
    }
    let mut ignores = Vec::new();
    for entry in parsed.ignore {
        let entry_span = span(entry.span());
        let entry = entry.into_inner();
        let mut rules = Vec::new();
        for id in entry.rules.iter().chain(&entry.rule) {
            if id.get_ref() != "*" {
                reference(id);
            }
            rules.push(id.get_ref().clone());
        }
        if rules.is_empty() {
            problems.push(Problem::at(entry_span, "an [[ignore]] entry needs `rule` or `rules`"));
        }
        let reason = entry.reason.unwrap_or_default();
        if reason.trim().is_empty() {
            problems.push(Problem::at(entry_span, "an [[ignore]] entry needs a `reason`"));
        }
        // In file paths `*` stops at `/` (use `**` to cross directories); logical paths are
        // matched as plain text.
        let mut glob = |g: Option<Spanned<String>>, literal_separator: bool| -> Option<globset::GlobMatcher> {
            let g = g?;
            match globset::GlobBuilder::new(g.get_ref()).literal_separator(literal_separator).build() {
                Ok(glob) => Some(glob.compile_matcher()),
                Err(e) => {
                    problems.push(Problem::at(span(g.span()), format!("invalid glob: {e}")));
                    None
                }
            }
        };
        let path_glob = glob(entry.path, true);
        let logical = glob(entry.logical_path, false);
        let until = match entry.until {
            None => None,
            Some(value) => {
                let text = match value.get_ref() {
                    toml::Value::Datetime(d) => d.to_string(),
                    toml::Value::String(s) => s.clone(),
                    _ => String::new(),
                };
                let parsed = parse_date(&text);
                if parsed.is_none() {
                    problems
                        .push(Problem::at(span(value.span()), format!("invalid date `{text}` (expected YYYY-MM-DD)")));
                }
                parsed
            }
        };
        ignores.push(Ignore { rules, path: path_glob, logical_path: logical, reason, until, span: entry_span });
    }
    let mut kinds = Vec::new();
    for entry in parsed.kinds {
        let kind = InputKind::parse(entry.kind.get_ref());
        if kind.is_none() {
            let name = entry.kind.get_ref();
            problems.push(Problem::at(
                span(entry.kind.span()),
                format!(
                    "unknown kind `{name}`{} (expected one of {})",
                    crate::suggest::hint(name, InputKind::ALL.map(InputKind::as_str)),
                    InputKind::ALL.map(InputKind::as_str).join(", ")
                ),
            ));
        }
        let glob = globset::GlobBuilder::new(entry.path.get_ref()).literal_separator(true).build();
        match glob {
            Ok(glob) => kinds.extend(kind.map(|k| (glob.compile_matcher(), k))),
            Err(e) => problems.push(Problem::at(span(entry.path.span()), format!("invalid glob: {e}"))),
        }
    }
    let dir = path.as_deref().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
    let mut packs = Vec::new();
    for entry in parsed.packs {
        let written = entry.get_ref().clone();
        let relative = Path::new(&written);
        // A pack is the repository's own: nothing above the configuration's directory.
        if relative.is_absolute()
            || relative
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir))
        {
            problems.push(Problem::at(
                span(entry.span()),
                format!("pack `{written}` must be a path below the configuration's directory (no `..`, not absolute)"),
            ));
            continue;
        }
        packs.push(ConfiguredPack { path: dir.join(relative), written, span: span(entry.span()) });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let base = path.as_deref().and_then(Path::parent).and_then(|dir| std::path::absolute(dir).ok());
    Ok(Config {
        packs,
        path,
        disable,
        severity,
        params,
        ignores,
        webhook: parsed.webhook,
        kinds: KindGlobs::new(base, kinds),
        rule_references,
        param_overrides,
    })
}

impl Config {
    /// A configuration of nothing but these `[[ignore]]` entries.
    pub fn from_ignores(ignores: Vec<Ignore>) -> Self {
        Self { ignores, ..Self::default() }
    }

    /// The mistakes only the packs of a run can reveal: rule ids they do not define, and
    /// parameters their rules do not have or of another type than the rule's default — each
    /// located in the file, with the nearest known name. The run stops on them (exit 2): a
    /// misspelt `disable` would otherwise silently keep a rule on.
    pub fn validate(&self, rules: &[Arc<Rule>]) -> Vec<Problem> {
        let find = |id: &str| rules.iter().find(|r| r.id.eq_ignore_ascii_case(id));
        let mut problems = Vec::new();
        for (id, span) in &self.rule_references {
            if find(id).is_none() {
                let hint = crate::suggest::hint(id, rules.iter().map(|r| &*r.id));
                problems.push(Problem::at(*span, format!("unknown rule `{id}`{hint} (`celador rules` lists them)")));
            }
        }
        for o in &self.param_overrides {
            let Some(rule) = find(&o.rule) else { continue };
            let defaults = rule.params.as_map().unwrap_or_default();
            let Some(default) = defaults.iter().find(|e| *e.key == *o.name) else {
                let names: Vec<&str> = defaults.iter().map(|e| &*e.key).collect();
                let known = if names.is_empty() {
                    "it has none".to_owned()
                } else {
                    format!("it has {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))
                };
                problems.push(Problem::at(
                    o.name_span,
                    format!(
                        "rule {} has no parameter `{}`{}; {known}",
                        rule.id,
                        o.name,
                        crate::suggest::hint(&o.name, names.iter().copied())
                    ),
                ));
                continue;
            };
            let expected = default.value.type_name();
            let given = crate::pack::toml_value_to_node(&o.value, o.value_span).type_name();
            let compatible = expected == given || expected == "null" || (expected == "double" && given == "int");
            if !compatible {
                problems.push(Problem::at(
                    o.value_span,
                    format!("parameter `{}` of {} is a {expected}, not a {given}", o.name, rule.id),
                ));
            }
        }
        problems
    }

    /// Applies `disable`, `severity` and `params` to the rules of a run.
    pub fn apply(&self, rules: Vec<Arc<Rule>>) -> Vec<Arc<Rule>> {
        rules
            .into_iter()
            .filter(|r| !self.disable.iter().any(|d| d.eq_ignore_ascii_case(&r.id)))
            .map(|rule| {
                let severity = self.severity.get(&*rule.id).copied();
                let params = self.params.get(&*rule.id);
                if severity.is_none() && params.is_none() {
                    return rule;
                }
                let mut changed = Rule::clone_with(&rule);
                if let Some(s) = severity {
                    changed.severity = s;
                }
                if let Some(overrides) = params {
                    changed.params = merge_params(&changed.params, overrides, rule.span);
                }
                Arc::new(changed)
            })
            .collect()
    }
}

pub(crate) fn merge_params(defaults: &Node, overrides: &toml::Table, span: Span) -> Node {
    let mut entries: Vec<crate::tree::Entry> = defaults.as_map().unwrap_or_default().to_vec();
    for (key, value) in overrides {
        let node = crate::pack::toml_value_to_node(value, span);
        entries.retain(|e| &*e.key != key.as_str());
        entries.push(crate::tree::entry(key.as_str(), None, node));
    }
    Node::map(entries, defaults.span)
}

/// Parses `YYYY-MM-DD` (a TOML local date or a string).
pub fn parse_date(text: &str) -> Option<(i32, u32, u32)> {
    let mut parts = text.trim().splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.get(..2)?.parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some((year, month, day))
}

/// Today's date in UTC, from the system clock.
pub fn today() -> (i32, u32, u32) {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's algorithm.
pub fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (i32::try_from(year).unwrap_or(i32::MAX), u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_519), (2026, 3, 7));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(parse_date("2027-03-31"), Some((2027, 3, 31)));
        assert_eq!(parse_date("2027-13-01"), None);
    }

    #[test]
    fn config_errors_are_located() {
        let sources = SourceMap::new();
        let text = "[rules]\ndisable = [\"X\"]\nseverity = { \"PSH-APP-001\" = \"urgent\" }\n";
        let problems = parse(text, "celador.toml", None, &sources).unwrap_err();
        assert_eq!(sources.start(problems[0].span.unwrap()).line, 3);
        let text = "[[ignore]]\nrule = \"PSH-NET-004\"\npath = \"a/**\"\n";
        let problems = parse(text, "celador.toml", None, &sources).unwrap_err();
        assert!(problems[0].message.contains("reason"), "{:?}", problems);
        let problems = parse("[rulez]\n", "celador.toml", None, &sources).unwrap_err();
        assert!(problems[0].message.contains("unknown field"), "{:?}", problems);
    }
}

//! Documents and config keys.

use super::*;

/// `bareKey(key: string) -> string`: a stack-config key without its namespace.
///
/// `bareKey('proj:licenseKey')` → `'licenseKey'`
pub(super) fn bare_key(This(key): This<Arc<String>>) -> Arc<String> {
    match key.rsplit_once(':') {
        Some((_, bare)) => string(bare),
        None => key,
    }
}

/// `isPem(s: string) -> bool`: whether `s` holds a PEM block (`-----BEGIN …-----`) rather
/// than, say, a path.
///
/// `isPem('/etc/certs/ca.pem')` → `false`
pub(super) fn is_pem(This(s): This<Arc<String>>) -> bool {
    s.contains("-----BEGIN ")
}

/// `isTruthy(v: dyn) -> bool`: `true` for `true` and for the strings `true`, `1`, `yes`, `on`
/// (any case, surrounding blanks ignored); `false` for anything else. Never fails.
///
/// `isTruthy('Yes')` → `true`, `isTruthy(1)` → `false`
pub(super) fn is_truthy(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
    let v = only_arg(ftx)?;
    if let Some(b) = v.downcast_ref::<CelBool>() {
        return Ok(*b.inner());
    }
    Ok(as_str(v).is_some_and(|s| {
        let s = s.trim();
        ["true", "1", "yes", "on"].iter().any(|t| s.eq_ignore_ascii_case(t))
    }))
}

/// `looksLikePlaceholder(s: string|null) -> bool`: whether `s` is a stand-in rather than a
/// real value: `null`, empty or blank; a filler word such as `changeme`, `change-me`,
/// `CHANGE_ME`, `changeit`, `REPLACE_ME`, `TODO`, `TBD`, `FIXME`, `placeholder`, `redacted` (case and
/// `-`/`_`/space separators ignored); a run of three or more `x` or `*` (`xxxx`,
/// `xxxx-xxxx`, `****`); an `<angle-bracketed hint>`; or a `${…}` interpolation.
///
/// `looksLikePlaceholder('<your-api-key>')` → `true`
pub(super) fn looks_like_placeholder(This(s): This<Option<Arc<String>>>) -> bool {
    s.is_none_or(|s| is_placeholder(&s))
}

pub(super) fn is_placeholder(s: &str) -> bool {
    const WORDS: [&str; 8] = ["changeme", "changeit", "replaceme", "todo", "tbd", "fixme", "placeholder", "redacted"];
    let s = s.trim();
    let squeezed: String =
        s.chars().filter(|c| !matches!(c, '-' | '_' | ' ' | '.')).map(|c| c.to_ascii_lowercase()).collect();
    s.is_empty()
        || WORDS.contains(&squeezed.as_str())
        || (squeezed.len() >= 3 && squeezed.chars().all(|c| c == 'x' || c == '*'))
        || (s.len() >= 2 && s.starts_with('<') && s.ends_with('>'))
        || (s.starts_with("${") && s.ends_with('}'))
}

//! TLS versions.

use super::*;

/// `tlsAtLeast(version: string, minimum: string) -> bool`: compares TLS versions written as
/// `1.2`, `TLSv1.2`, `TLS1.3` or `tls1_2`. An unparseable version is an error, not `false`.
///
/// `tlsAtLeast('TLSv1.3', '1.2')` → `true`
pub(super) fn tls_at_least(
    ftx: &FunctionContext,
    This(version): This<Arc<String>>,
    minimum: Arc<String>,
) -> Result<bool, ExecutionError> {
    let parse = |s: &str| {
        parse_tls_version(s)
            .ok_or_else(|| ftx.error(format!("`{s}` is not a TLS version (expected e.g. 1.2 or TLSv1.2)")))
    };
    Ok(parse(&version)? >= parse(&minimum)?)
}

/// `isTlsVersion(s: dyn) -> bool`: whether `s` is a string `tlsAtLeast` accepts. Never fails.
///
/// `isTlsVersion('TLSv1.2')` → `true`, `isTlsVersion('modern')` → `false`
pub(super) fn is_tls_version(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
    Ok(as_str(only_arg(ftx)?).is_some_and(|s| parse_tls_version(s).is_some()))
}

/// Parses `1.2`, `TLSv1.2`, `TLS1.2`, `tls1_2`, `TLSv1_3` into (major, minor).
pub fn parse_tls_version(s: &str) -> Option<(u32, u32)> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let rest = lower.strip_prefix("tlsv").or_else(|| lower.strip_prefix("tls")).unwrap_or(&lower);
    let rest = rest.trim_start_matches(['v', ' ', '_']);
    let (major, minor) = rest.split_once(['.', '_'])?;
    let version: (u32, u32) = (major.parse().ok()?, minor.parse().ok()?);
    // TLS 1.0 to 1.3 are the versions there are.
    (version.0 == 1 && version.1 <= 3).then_some(version)
}

//! Endpoints: URLs and host:port strings.

use super::*;

/// An endpoint taken apart: `host:port`, `[v6]:port`, or a URL's authority.
#[derive(Debug, PartialEq)]
pub(super) struct Endpoint<'a> {
    scheme: Option<&'a str>,
    host: &'a str,
    port: Option<u16>,
}

/// Splits `scheme://rest`; the scheme must be a valid URL scheme (`[A-Za-z][A-Za-z0-9+.-]*`).
pub(super) fn split_scheme(s: &str) -> (Option<&str>, &str) {
    match s.split_once("://") {
        Some((scheme, rest))
            if scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            (Some(scheme), rest)
        }
        _ => (None, s),
    }
}

/// Parses `host`, `host:port`, `[::1]:8443`, a bare IPv6 address, `user@host:port`, or a URL
/// (`https://user@api.example.com:8443/path?q`); the error says what is wrong.
pub(super) fn parse_endpoint(s: &str) -> Result<Endpoint<'_>, String> {
    let (scheme, rest) = split_scheme(s.trim());
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host_port)| host_port);
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or_else(|| format!("`{s}` has an unclosed `[`"))?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or_else(|| format!("`{s}` has junk after `]`"))?)),
        }
    } else {
        match authority.split_once(':') {
            // More than one colon and no brackets: a bare IPv6 address.
            Some((host, port)) if !port.contains(':') => (host, Some(port)),
            _ => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(format!("`{s}` has no host"));
    }
    let port =
        port.map(|p| p.parse::<u16>().map_err(|_| format!("`{p}` in `{s}` is not a port number"))).transpose()?;
    Ok(Endpoint { scheme, host, port })
}

/// The port a scheme implies when none is written.
pub(super) fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Some(443),
        "http" => Some(80),
        "smtp" => Some(25),
        "smtps" => Some(465),
        _ => None,
    }
}

/// `hostOf(s: string) -> string`: the host of `host:port`, `[::1]:8443` (without the
/// brackets) or a URL. No host is an error.
///
/// `hostOf('https://api.example.com:8443/path')` → `'api.example.com'`
pub(super) fn host_of(ftx: &FunctionContext, This(s): This<Arc<String>>) -> Result<Arc<String>, ExecutionError> {
    parse_endpoint(&s).map(|e| string(e.host)).map_err(|e| ftx.error(e))
}

/// `portOf(s: string) -> int`: the port of `host:port`, `[::1]:8443` or a URL; a URL without
/// one gets its scheme's default (`https` 443, `http` 80, `smtp` 25, `smtps` 465). No port to
/// be found, or an invalid one, is an error.
///
/// `portOf('db.internal:5432')` → `5432`, `portOf('https://example.com')` → `443`
pub(super) fn port_of(ftx: &FunctionContext, This(s): This<Arc<String>>) -> Result<i64, ExecutionError> {
    let endpoint = parse_endpoint(&s).map_err(|e| ftx.error(e))?;
    endpoint
        .port
        .or_else(|| endpoint.scheme.and_then(default_port))
        .map(i64::from)
        .ok_or_else(|| ftx.error(format!("`{s}` has no port and no scheme with a default port")))
}

/// `hasPort(s: string) -> bool`: whether `s` spells out a port (`host:8080`, `[::1]:8443`,
/// `https://host:8443/`); a scheme's default port doesn't count. An invalid port is an error.
///
/// `hasPort('https://example.com')` → `false`
pub(super) fn has_port(ftx: &FunctionContext, This(s): This<Arc<String>>) -> Result<bool, ExecutionError> {
    parse_endpoint(&s).map(|e| e.port.is_some()).map_err(|e| ftx.error(e))
}

/// `urlScheme(s: string) -> string`: the scheme before `://`, lower-cased; `''` if there is
/// none.
///
/// `urlScheme('HTTPS://example.com')` → `'https'`, `urlScheme('example.com:443')` → `''`
pub(super) fn url_scheme(This(s): This<Arc<String>>) -> Arc<String> {
    string(split_scheme(s.trim()).0.unwrap_or_default().to_ascii_lowercase())
}

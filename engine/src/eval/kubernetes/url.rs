//! The Kubernetes URL library: `url`, `isURL` and the getters of URL values.
//!
//! Parsing follows Go's `url.ParseRequestURI`, which Kubernetes uses: an absolute URI
//! (`https://host:port/path?query`) or an absolute path (`/path`); nothing relative.

use super::{RawFunction, boolean, exactly, string, text, value};
use cel::common::types::{Kind, Type};
use cel::common::value::{CowVal, StaticVal, Val};
use cel::{ExecutionError, FunctionContext, Value};
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

static URL_TYPE: Type = Type::simple_type(Kind::Opaque, "kubernetes.URL");

/// A parsed URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Url {
    scheme: String,
    /// `host[:port]`, IPv6 in brackets.
    host: String,
    path: String,
    query: String,
}

impl Val for Url {
    fn get_type(&self) -> &Type {
        &URL_TYPE
    }

    fn cel_type() -> &'static Type {
        &URL_TYPE
    }

    fn equals(&self, other: &dyn Val) -> bool {
        other.as_any().and_then(|a| a.downcast_ref::<Url>()).is_some_and(|o| o == self)
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(self.clone())
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl StaticVal for Url {}

pub(super) fn functions() -> Vec<(&'static str, RawFunction)> {
    vec![
        ("url", Box::new(url)),
        ("isURL", Box::new(is_url)),
        ("getScheme", Box::new(|f| with(f, "getScheme", |u| string(u.scheme.clone())))),
        ("getHost", Box::new(|f| with(f, "getHost", |u| string(u.host.clone())))),
        ("getHostname", Box::new(|f| with(f, "getHostname", |u| string(u.hostname().to_owned())))),
        ("getPort", Box::new(|f| with(f, "getPort", |u| string(u.port().to_owned())))),
        ("getEscapedPath", Box::new(|f| with(f, "getEscapedPath", |u| string(escape_path(&u.path))))),
        ("getQuery", Box::new(|f| with(f, "getQuery", |u| value(u.query_map())))),
    ]
}

impl Url {
    /// Parses an absolute URI or an absolute path.
    pub fn parse(s: &str) -> Result<Url, String> {
        let bad = || format!("URL parse error during conversion from string: parse {s:?}: invalid URI for request");
        if s.is_empty() || s.chars().any(char::is_control) {
            return Err(bad());
        }
        let (rest, query) = s.split_once('?').map_or((s, ""), |(r, q)| (r, q));
        if rest.starts_with('/') {
            return Ok(Url { path: rest.to_owned(), query: query.to_owned(), ..Url::default() });
        }
        let (scheme, after) = rest.split_once(':').ok_or_else(bad)?;
        let valid_scheme = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid_scheme {
            return Err(bad());
        }
        let mut url = Url { scheme: scheme.to_owned(), query: query.to_owned(), ..Url::default() };
        match after.strip_prefix("//") {
            Some(authority_and_path) => {
                let (authority, path) = match authority_and_path.find('/') {
                    Some(i) => authority_and_path.split_at(i),
                    None => (authority_and_path, ""),
                };
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                if host.starts_with('[') && !host.contains(']') {
                    return Err(bad());
                }
                url.host = host.to_owned();
                url.path = path.to_owned();
            }
            // `mailto:x@y`: opaque, no host or path.
            None if after.starts_with('/') || !after.is_empty() => url.path = String::new(),
            None => return Err(bad()),
        }
        if url.port().chars().any(|c| !c.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(url)
    }

    fn hostname(&self) -> &str {
        if let Some(inner) = self.host.strip_prefix('[') {
            return inner.split_once(']').map_or(inner, |(h, _)| h);
        }
        self.host.rsplit_once(':').map_or(&self.host, |(h, _)| h)
    }

    fn port(&self) -> &str {
        let after_host = match self.host.rfind(']') {
            Some(i) => &self.host[i + 1..],
            None => &self.host,
        };
        after_host.rsplit_once(':').map_or("", |(_, p)| p)
    }

    fn query_map(&self) -> Value {
        let mut map: HashMap<String, Vec<Value>> = HashMap::new();
        let mut order = Vec::new();
        for pair in self.query.split('&').filter(|p| !p.is_empty()) {
            let (key, val) = pair.split_once('=').unwrap_or((pair, ""));
            let key = unescape(key);
            if !map.contains_key(&key) {
                order.push(key.clone());
            }
            map.entry(key).or_default().push(Value::String(Arc::new(unescape(val))));
        }
        let entries: HashMap<cel::objects::Key, Value> =
            map.into_iter().map(|(k, v)| (cel::objects::Key::from(k), Value::List(Arc::new(v)))).collect();
        Value::Map(entries.into())
    }
}

/// `%41` → `A`, `+` → space, as Go's `QueryUnescape`; malformed escapes are kept.
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path with what a path may not hold as is (spaces, non-ASCII) percent-encoded.
fn escape_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn url<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    let s = text("url", args[0])?;
    Url::parse(s).map_err(|e| ExecutionError::function_error("url", e))?;
    // Valid as a request URI; its parts are then read as Go's `url.Parse` reads them, which
    // leaves a `#fragment` out of the path and query.
    let without_fragment = s.split_once('#').map_or(s, |(before, _)| before);
    let parsed = Url::parse(without_fragment).map_err(|e| ExecutionError::function_error("url", e))?;
    Ok(CowVal::owned(parsed))
}

fn is_url<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    boolean(Url::parse(text("isURL", args[0])?).is_ok())
}

fn with<'c, 'v>(
    ftx: &mut FunctionContext<'c, 'v>,
    name: &str,
    then: impl FnOnce(&Url) -> Result<CowVal<'c, 'v>, ExecutionError>,
) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = exactly(ftx, 1)?;
    let url = args[0].downcast_ref::<Url>().ok_or_else(|| {
        ExecutionError::function_error(name, format!("expected a URL, got {}", args[0].get_type().name()))
    })?;
    then(url)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{all_fail, all_true};

    /// The examples of the Kubernetes URL library documentation.
    #[test]
    fn urls_behave_as_kubernetes_documents() {
        all_true(&[
            "isURL('https://example.com')",
            "isURL('/absolute-path')",
            "!isURL('example.com')",
            "!isURL('../relative')",
            "url('https://example.com/').getScheme() == 'https'",
            "url('https://example.com:80/').getHost() == 'example.com:80'",
            "url('https://[::1]:80/').getHost() == '[::1]:80'",
            "url('https://example.com:80/').getHostname() == 'example.com'",
            "url('https://[::1]:80/').getHostname() == '::1'",
            "url('https://example.com:80/').getPort() == '80'",
            "url('https://example.com/').getPort() == ''",
            "url('https://example.com/path').getEscapedPath() == '/path'",
            "url('https://example.com/path with spaces/').getEscapedPath() == '/path%20with%20spaces/'",
            "url('https://example.com/path?k1=a&k2=b&k2=c').getQuery() == {'k1': ['a'], 'k2': ['b', 'c']}",
            "url('https://example.com/?q=a%20b').getQuery()['q'] == ['a b']",
            "url('/path').getHost() == ''",
            // The examples of k8s.io/apiserver/pkg/cel/library/urls.go.
            "isURL('https://user:pass@example.com:80/path?query=val#fragment')",
            "!isURL('https://a:b:c/')",
            "url('/path').getScheme() == ''",
            "url('https://example.com/').getHost() == 'example.com'",
            "url('https://[::1]/').getHost() == '[::1]'",
            "url('https://127.0.0.1:80/').getHostname() == '127.0.0.1'",
            "url('/path').getHostname() == ''",
            "url('/path').getPort() == ''",
            "url('https://example.com').getEscapedPath() == ''",
            "url('https://example.com/path?key with spaces=value with spaces').getQuery() == {'key with spaces': ['value with spaces']}",
            "url('https://example.com/path?').getQuery() == {}",
            "url('https://example.com/path').getQuery() == {}",
            "url('https://user:pass@example.com:80/path?query=val#fragment').getQuery() == {'query': ['val']}",
            "url('https://example.com/p#frag').getEscapedPath() == '/p'",
        ]);
        all_fail(&[
            ("url('example.com')", "invalid URI"),
            ("url('https://a:b:c/')", "invalid URI"),
            ("url('../relative-path')", "invalid URI"),
        ]);
    }
}

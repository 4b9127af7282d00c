//! The CEL environment rules are compiled and evaluated with: the standard library, the
//! strings, lists and math extensions, and celador's own functions.
//!
//! Every function here is documented for rule authors in `docs/cel-functions.md` and tested
//! below. Functions take and return plain CEL values, so they work on document values and on
//! literals alike. Each can be called as a function or as a method on its first argument:
//! `hostOf(url)` and `url.hostOf()` are the same call.
//!
//! Functions that can only answer yes or no about malformed input (`isCidr`, `isTlsVersion`,
//! `isTruthy`, the Pulumi-secret predicates) never fail; the others report malformed input as
//! an evaluation error rather than a silent `false`.

use cel::common::types::{CelBool, CelInt, CelString, Kind};
use cel::common::value::CowVal;
use cel::common::value::Val;
use cel::extractors::This;
use cel::{Context, DeclarationError, Env, ExecutionError, FunctionContext, Value};
use ipnet::IpNet;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

/// The shared CEL environment (built once per process).
pub fn cel_env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        for extension in [cel::extensions::strings, cel::extensions::lists, cel::extensions::math] {
            // The built-in extensions never conflict with the standard library.
            let _ = env.add_extension(extension);
        }
        // Without cel's "regex" feature the standard library has no `matches`: this one
        // compiles each pattern once, and the names are free.
        let _ = cel::add_overload!(env, fn matches: (CelString, CelString) -> Result<CelBool>, id = "matches");
        let _ = cel::add_member_overload!(env, fn matches: (CelString, CelString) -> Result<CelBool>);
        // The Kubernetes lists library's `indexOf` on lists, beside the strings extension's.
        let _ = super::kubernetes::declare(&mut env);
        Arc::new(env)
    })
    .clone()
}

/// Regular expressions by pattern, compiled once per process: rules call `matches` with a
/// handful of literal patterns millions of times (cel's own `matches` recompiled on every call,
/// 7% of a full run). At most [`REGEX_CACHE_SIZE`] patterns are kept; past that a pattern is
/// compiled for its one call, so patterns built from document values cannot grow the cache.
pub(crate) fn regex(pattern: &str) -> Result<Arc<regex::Regex>, ExecutionError> {
    const REGEX_CACHE_SIZE: usize = 1024;
    static CACHE: OnceLock<std::sync::RwLock<std::collections::HashMap<String, Arc<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.read().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(found);
    }
    let compiled = regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map(Arc::new)
        .map_err(|e| ExecutionError::function_error("matches", format!("'{pattern}' not a valid regex:\n{e}")))?;
    if let Ok(mut cache) = cache.write()
        && cache.len() < REGEX_CACHE_SIZE
    {
        cache.insert(pattern.to_owned(), compiled.clone());
    }
    Ok(compiled)
}

/// `s.matches(re)` / `matches(s, re)`: whether `re` (RE2-like syntax) matches anywhere in `s`.
fn matches(this: &CelString<'_>, re: &CelString<'_>) -> Result<CelBool, ExecutionError> {
    Ok(CelBool::from(regex(re.inner())?.is_match(this.inner())))
}

/// The root context holding celador's functions, built once per process; evaluation scopes
/// are children of it.
pub fn root() -> &'static Context<'static, 'static> {
    static ROOT: OnceLock<Context<'static, 'static>> = OnceLock::new();
    ROOT.get_or_init(root_context)
}

/// A new root context holding celador's functions.
pub fn root_context() -> Context<'static, 'static> {
    let mut ctx = Context::with_env(cel_env());
    // Every name is unique and shadows nothing in the environment (a test registers them all
    // and checks), so registration can't fail.
    let _ = register(&mut ctx);
    ctx
}

/// Adds celador's functions to `ctx`.
fn register(ctx: &mut Context<'static, 'static>) -> Result<(), DeclarationError> {
    // Documents and config keys.
    ctx.add_function("bareKey", bare_key)?;
    ctx.add_function("isPem", is_pem)?;
    ctx.add_function("isTruthy", is_truthy)?;
    ctx.add_function("looksLikePlaceholder", looks_like_placeholder)?;
    // Network ranges.
    ctx.add_function("cidrContains", cidr_contains)?;
    ctx.add_function("isAnyAddress", is_any_address)?;
    ctx.add_function("isPrivateCidr", is_private_cidr)?;
    ctx.add_function("isPublicCidr", is_public_cidr)?;
    ctx.add_function("isCidr", is_cidr)?;
    ctx.add_function("cidrList", cidr_list)?;
    // TLS.
    ctx.add_function("tlsAtLeast", tls_at_least)?;
    ctx.add_function("isTlsVersion", is_tls_version)?;
    // Endpoints.
    ctx.add_function("hostOf", host_of)?;
    ctx.add_function("portOf", port_of)?;
    ctx.add_function("hasPort", has_port)?;
    ctx.add_function("urlScheme", url_scheme)?;
    // Container images.
    ctx.add_function("imageRepository", image_repository)?;
    ctx.add_function("imageTag", image_tag)?;
    ctx.add_function("imageDigest", image_digest)?;
    ctx.add_function("isPinnedImage", is_pinned_image)?;
    // Secrets.
    ctx.add_function("isSecretEnvelope", is_secret_envelope)?;
    ctx.add_function("isEncryptedSecret", is_encrypted_secret)?;
    ctx.add_function("isPlaintextSecret", is_plaintext_secret)?;
    ctx.add_function("isSecretRef", is_secret_ref)?;
    // Shapes.
    let one: RawFunction = Box::new(one);
    ctx.add_function("one", one)?;
    let descendants: RawFunction = Box::new(descendants);
    ctx.add_function("descendants", descendants)?;
    // The Kubernetes CEL libraries (lists, regex, URLs, IPs and CIDRs, quantities).
    super::kubernetes::register(ctx)?;
    let blocks: RawFunction = Box::new(blocks);
    ctx.add_function("blocks", blocks)?;
    let lookup: RawFunction = Box::new(lookup);
    ctx.add_function("lookup", lookup)?;
    ctx.add_function("paths", paths)?;
    // Names.
    ctx.add_function("camelCase", camel_case)?;
    ctx.add_function("snakeCase", snake_case)?;
    Ok(())
}

/// The one argument of a function that accepts any value, `f(v)` or `v.f()`, as the raw
/// [`Val`]: document maps and lists don't convert to [`Value`], so a `Value` parameter would
/// reject them.
fn only_arg<'a>(ftx: &'a FunctionContext<'_, '_>) -> Result<&'a dyn Val, ExecutionError> {
    match (ftx.this.as_deref(), ftx.args.as_slice()) {
        (Some(this), []) => Ok(this),
        (None, [arg]) => Ok(&**arg),
        (this, args) => Err(ExecutionError::invalid_argument_count(1, args.len() + usize::from(this.is_some()))),
    }
}

/// The text of a string value, `None` for any other value.
fn as_str(v: &dyn Val) -> Option<&str> {
    v.downcast_ref::<CelString>().map(CelString::inner)
}

fn string(s: impl Into<String>) -> Arc<String> {
    Arc::new(s.into())
}

// ----------------------------------------------------------------------------------------------
// Shapes

/// A function that receives and returns raw values (cel's `Function` type): what a function
/// needs to hand back a document value itself, location included.
type RawFunction =
    Box<dyn for<'c, 'v> Fn(&mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> + Send + Sync>;

/// `one(x: dyn) -> dyn`: the first element of a list (`null` when empty), or `x` itself when it
/// is not a list. Terraform keeps nested blocks as one-element lists (`settings[0]`) where
/// Pulumi has objects (`settings`): `one(r.attrs.settings)` reads both. The value keeps its
/// location, so findings on it point into the file.
///
/// `one([{'a': 1}]).a` → `1`; `one({'a': 1}).a` → `1`
fn one<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let v: &(dyn Val + 'v) = match (ftx.this.as_deref(), ftx.args.as_slice()) {
        (Some(this), []) => this,
        (None, [arg]) => &**arg,
        (this, args) => {
            return Err(ExecutionError::invalid_argument_count(1, args.len() + usize::from(this.is_some())));
        }
    };
    if v.get_type().name() != "list" {
        return Ok(CowVal::Owned(v.clone_as_boxed()));
    }
    let Some(indexer) = v.as_indexer() else { return Ok(CowVal::Owned(v.clone_as_boxed())) };
    match indexer.get(&CelInt::from(0)) {
        Ok(first) => Ok(CowVal::Owned(first.into_owned())),
        Err(_) => Ok(CowVal::owned(cel::common::types::CelNull)),
    }
}

/// `descendants(x: dyn) -> list`: every value nested inside `x` (map values and list
/// elements, at any depth, depth-first in document order; `x` itself excluded). Searches that
/// would need recursion — "any secret envelope with `plaintext` anywhere in this resource" —
/// become `descendants(r).exists(v, isPlaintextSecret(v))`. Maps and lists keep their
/// locations. Walks at most 64 levels deep.
///
/// `descendants({'a': {'b': 1}})` → `[{'b': 1}, 1]`
fn descendants<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    fn walk<'v>(v: &(dyn Val + 'v), depth: usize, out: &mut Vec<Box<dyn Val + 'v>>) {
        if depth > 64 {
            return;
        }
        let Some(iterable) = v.as_iterable() else { return };
        let is_map = v.get_type().name() == "map";
        let indexer = v.as_indexer();
        let mut iter = iterable.iter();
        while let Some(item) = iter.next() {
            if is_map {
                let Some(child) = indexer.and_then(|i| i.get(item).ok()) else { continue };
                let child = child.into_owned();
                out.push(child.clone_as_boxed());
                walk(&*child, depth + 1, out);
            } else {
                out.push(item.clone_as_boxed());
                walk(item, depth + 1, out);
            }
        }
    }
    let v: &(dyn Val + 'v) = match (ftx.this.as_deref(), ftx.args.as_slice()) {
        (Some(this), []) => this,
        (None, [arg]) => &**arg,
        (this, args) => {
            return Err(ExecutionError::invalid_argument_count(1, args.len() + usize::from(this.is_some())));
        }
    };
    let mut out = Vec::new();
    walk(v, 0, &mut out);
    Ok(CowVal::owned(cel::common::types::CelList::from(out)))
}

/// The arguments of a call `f(a, b…)` or `a.f(b…)`, receiver first.
fn all_args<'a, 'v>(ftx: &'a FunctionContext<'_, 'v>) -> Vec<&'a (dyn Val + 'v)> {
    ftx.this.as_deref().into_iter().chain(ftx.args.iter().map(|a| &**a)).collect()
}

/// The maps among the blocks of `v`: a list's map elements, or `v` itself when it is a map.
fn push_blocks<'v>(v: &(dyn Val + 'v), out: &mut Vec<Box<dyn Val + 'v>>) {
    match v.get_type().name() {
        "map" => out.push(v.clone_as_boxed()),
        "list" => {
            let Some(iterable) = v.as_iterable() else { return };
            let mut iter = iterable.iter();
            while let Some(item) = iter.next() {
                if item.get_type().name() == "map" {
                    out.push(item.clone_as_boxed());
                }
            }
        }
        _ => {}
    }
}

/// `blocks(x: dyn) -> list`, `blocks(x: dyn, keys: list(string)) -> list`: the nested blocks
/// of an attribute, however it is written. Terraform keeps a nested block as a list of maps
/// (`rule = [{…}]`), Pulumi as a map or a list of maps, under a singular or a plural name
/// (`rule` / `rules`): `blocks(x)` is the maps of a list, `[x]` for a map, `[]` for anything
/// else (`null`, absent); `blocks(x, keys)` is the blocks under each of `keys` of the map `x`,
/// in order. Maps keep their locations.
///
/// `blocks({'rule': [{'a': 1}], 'rules': {'a': 2}}, ['rule', 'rules'])` → `[{'a': 1}, {'a': 2}]`
fn blocks<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = all_args(ftx);
    let mut out = Vec::new();
    match args.as_slice() {
        [x] => push_blocks(*x, &mut out),
        [x, keys] => {
            let Some(keys) = keys.as_iterable().filter(|_| keys.get_type().name() == "list") else {
                return Err(ExecutionError::function_error("blocks", "the keys must be a list of strings"));
            };
            let indexer = x.as_indexer().filter(|_| x.get_type().name() == "map");
            let mut iter = keys.iter();
            while let Some(key) = iter.next() {
                if key.downcast_ref::<CelString>().is_none() {
                    return Err(ExecutionError::function_error("blocks", "the keys must be a list of strings"));
                }
                if let Some(found) = indexer.and_then(|i| i.get(key).ok()) {
                    push_blocks(&*found, &mut out);
                }
            }
        }
        _ => return Err(ExecutionError::invalid_argument_count(2, args.len())),
    }
    Ok(CowVal::owned(cel::common::types::CelList::from(out)))
}

/// `lookup(x: dyn, path: list) -> dyn`, `lookup(x: dyn, path: string) -> dyn`: the value at
/// `path` inside `x`, `null` when any step is missing. A list path holds map keys (strings)
/// and list indexes (ints); a string path is keys separated by `.`. Maps and lists keep their
/// locations. A path step that is neither a string nor an int is an error.
///
/// `lookup({'a': [{'b': 1}]}, ['a', 0, 'b'])` → `1`; `lookup({'a': {'b': 1}}, 'a.c')` → `null`
fn lookup<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = all_args(ftx);
    let [x, path] = args.as_slice() else {
        return Err(ExecutionError::invalid_argument_count(2, args.len()));
    };
    let mut steps: Vec<Box<dyn Val + 'v>> = Vec::new();
    if let Some(text) = as_str(*path) {
        steps.extend(text.split('.').map(|k| Box::new(CelString::from(k.to_owned())) as Box<dyn Val>));
    } else if let Some(iterable) = path.as_iterable().filter(|_| path.get_type().name() == "list") {
        let mut iter = iterable.iter();
        while let Some(step) = iter.next() {
            steps.push(step.clone_as_boxed());
        }
    } else {
        return Err(ExecutionError::function_error("lookup", "the path must be a string or a list"));
    }
    let mut current: Box<dyn Val + 'v> = x.clone_as_boxed();
    for step in steps {
        let found = match (current.get_type().name(), step.get_type().name()) {
            ("map", "string") => current.as_indexer().and_then(|i| i.get(&*step).ok()).map(CowVal::into_owned),
            ("list", "int") => {
                let index = step.downcast_ref::<CelInt>().map_or(-1, |i| *i.inner());
                let size = current.as_sizer().map_or(0, |s| *s.size().inner());
                if (0..size).contains(&index) {
                    current.as_indexer().and_then(|i| i.get(&*step).ok()).map(CowVal::into_owned)
                } else {
                    None
                }
            }
            (_, "string" | "int") => None,
            (_, other) => {
                return Err(ExecutionError::function_error(
                    "lookup",
                    format!("a path step is a string key or an int index, not {other}"),
                ));
            }
        };
        match found {
            Some(value) => current = value,
            None => return Ok(CowVal::owned(cel::common::types::CelNull)),
        }
    }
    Ok(CowVal::Owned(current))
}

/// `paths(x: dyn) -> list`: the path of every leaf below `x`, as `lookup` takes it: a list of
/// map keys and list indexes, depth-first in document order. A leaf is a value that is not a
/// map or a list, or an empty one; `x` itself is not one of its leaves. Walks at most 64
/// levels deep. With `lookup`, walks two trees that mirror each other (a Terraform plan's
/// `after_sensitive` mask and the values it marks).
///
/// `paths({'a': {'b': true}, 'c': [1]})` → `[['a', 'b'], ['c', 0]]`
fn paths(ftx: &FunctionContext<'_, '_>) -> Result<Value, ExecutionError> {
    fn walk(v: &dyn Val, path: &mut Vec<Value>, depth: usize, out: &mut Vec<Value>) {
        let kind = v.get_type().name();
        let size = v.as_sizer().map_or(0, |s| *s.size().inner());
        if !matches!(kind, "map" | "list") || size == 0 {
            if !path.is_empty() {
                out.push(Value::List(Arc::new(path.clone())));
            }
            return;
        }
        if depth > 64 {
            return;
        }
        let (Some(iterable), Some(indexer)) = (v.as_iterable(), v.as_indexer()) else { return };
        let mut iter = iterable.iter();
        let mut index = 0i64;
        while let Some(item) = iter.next() {
            if kind == "map" {
                let Ok(key) = Value::try_from(item) else { continue };
                let Ok(child) = indexer.get(item) else { continue };
                path.push(key);
                walk(&*child, path, depth + 1, out);
            } else {
                path.push(Value::Int(index));
                walk(item, path, depth + 1, out);
                index += 1;
            }
            path.pop();
        }
    }
    let v = only_arg(ftx)?;
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), 0, &mut out);
    Ok(Value::List(Arc::new(out)))
}

// ----------------------------------------------------------------------------------------------
// Names
// ----------------------------------------------------------------------------------------------

/// `camelCase(s: string) -> string`: a snake_case name in camelCase, the way Pulumi spells
/// Terraform's attribute names: each `_` dropped and the letter after it upper-cased (ASCII).
///
/// `camelCase('storage_encrypted')` → `'storageEncrypted'`
fn camel_case(This(s): This<Arc<String>>) -> Arc<String> {
    let mut words = s.split('_');
    let mut out = words.next().unwrap_or_default().to_owned();
    for word in words {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.push_str(chars.as_str());
        }
    }
    string(out)
}

/// `snakeCase(s: string) -> string`: a camelCase name in snake_case: each ASCII upper-case
/// letter lower-cased after a `_`.
///
/// `snakeCase('blockPublicAcls')` → `'block_public_acls'`
fn snake_case(This(s): This<Arc<String>>) -> Arc<String> {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    string(out)
}

// ----------------------------------------------------------------------------------------------
// Documents and config keys
// ----------------------------------------------------------------------------------------------

/// `bareKey(key: string) -> string`: a stack-config key without its namespace.
///
/// `bareKey('proj:licenseKey')` → `'licenseKey'`
fn bare_key(This(key): This<Arc<String>>) -> Arc<String> {
    match key.rsplit_once(':') {
        Some((_, bare)) => string(bare),
        None => key,
    }
}

/// `isPem(s: string) -> bool`: whether `s` holds a PEM block (`-----BEGIN …-----`) rather
/// than, say, a path.
///
/// `isPem('/etc/certs/ca.pem')` → `false`
fn is_pem(This(s): This<Arc<String>>) -> bool {
    s.contains("-----BEGIN ")
}

/// `isTruthy(v: dyn) -> bool`: `true` for `true` and for the strings `true`, `1`, `yes`, `on`
/// (any case, surrounding blanks ignored); `false` for anything else. Never fails.
///
/// `isTruthy('Yes')` → `true`, `isTruthy(1)` → `false`
fn is_truthy(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
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
fn looks_like_placeholder(This(s): This<Option<Arc<String>>>) -> bool {
    s.is_none_or(|s| is_placeholder(&s))
}

fn is_placeholder(s: &str) -> bool {
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

// ----------------------------------------------------------------------------------------------
// Network ranges
// ----------------------------------------------------------------------------------------------

/// Parses a CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or a bare address (`10.1.2.3`, `::1`,
/// taken as a single-address block). Host bits may be set (`10.1.2.3/8` is `10.0.0.0/8`).
fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>().ok().or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// [`parse_net`], or an evaluation error naming the bad value.
fn net_arg(ftx: &FunctionContext, s: &str) -> Result<IpNet, ExecutionError> {
    parse_net(s).ok_or_else(|| ftx.error(format!("`{s}` is not a CIDR block or IP address")))
}

/// The private, loopback, link-local and carrier-grade NAT ranges `isPrivateCidr` accepts.
fn private_ranges() -> &'static [IpNet] {
    static RANGES: OnceLock<Vec<IpNet>> = OnceLock::new();
    RANGES.get_or_init(|| {
        [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "fc00::/7",
            "fe80::/10",
            "::1/128",
        ]
        .iter()
        .filter_map(|r| r.parse().ok())
        .collect()
    })
}

fn is_private(net: &IpNet) -> bool {
    private_ranges().iter().any(|range| range.contains(net))
}

/// `cidrContains(cidr: string, ipOrCidr: string) -> bool`: whether the address or block
/// `ipOrCidr` lies entirely inside `cidr`. Blocks of different IP families never contain each
/// other. Either argument not parsing is an error.
///
/// `cidrContains('10.0.0.0/8', '10.1.0.0/16')` → `true`
fn cidr_contains(
    ftx: &FunctionContext,
    This(cidr): This<Arc<String>>,
    inner: Arc<String>,
) -> Result<bool, ExecutionError> {
    Ok(net_arg(ftx, &cidr)?.contains(&net_arg(ftx, &inner)?))
}

/// `isAnyAddress(cidr: string) -> bool`: whether `cidr` means "every address": a `/0` block
/// of either family (`0.0.0.0/0`, `::/0`), the unspecified addresses `0.0.0.0` and `::`
/// written without a prefix, or `*`. Anything else that doesn't parse is an error.
///
/// `isAnyAddress('::/0')` → `true`
fn is_any_address(ftx: &FunctionContext, This(cidr): This<Arc<String>>) -> Result<bool, ExecutionError> {
    let s = cidr.trim();
    if s == "*" || s.parse::<IpAddr>().is_ok_and(|addr| addr.is_unspecified()) {
        return Ok(true);
    }
    Ok(net_arg(ftx, s)?.prefix_len() == 0)
}

/// `isPrivateCidr(cidr: string) -> bool`: whether the block (or address) lies entirely inside
/// the private and internal ranges: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` (RFC 1918),
/// `100.64.0.0/10` (CGNAT), `127.0.0.0/8`, `169.254.0.0/16` (link-local), `fc00::/7`,
/// `fe80::/10` and `::1/128`. Not parsing is an error.
///
/// `isPrivateCidr('10.20.0.0/16')` → `true`, `isPrivateCidr('10.0.0.0/7')` → `false`
fn is_private_cidr(ftx: &FunctionContext, This(cidr): This<Arc<String>>) -> Result<bool, ExecutionError> {
    Ok(is_private(&net_arg(ftx, &cidr)?))
}

/// `isPublicCidr(cidr: string) -> bool`: whether the block (or address) reaches beyond the
/// private ranges of `isPrivateCidr`, i.e. it parses and is not private. Not parsing is an
/// error.
///
/// `isPublicCidr('0.0.0.0/0')` → `true`
fn is_public_cidr(ftx: &FunctionContext, This(cidr): This<Arc<String>>) -> Result<bool, ExecutionError> {
    Ok(!is_private(&net_arg(ftx, &cidr)?))
}

/// `isCidr(s: dyn) -> bool`: whether `s` is a string holding a CIDR block or a bare IP
/// address. Never fails.
///
/// `isCidr('203.0.113.0/24')` → `true`, `isCidr('sg-0123')` → `false`
fn is_cidr(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
    Ok(as_str(only_arg(ftx)?).is_some_and(|s| parse_net(s).is_some()))
}

/// `cidrList(s: string) -> list(string)`: splits an allowlist written as one string, separated
/// by commas and/or whitespace, into its trimmed, non-empty items. The items aren't validated.
///
/// `cidrList('203.0.113.0/24, 198.51.100.10/32')` → `['203.0.113.0/24', '198.51.100.10/32']`
fn cidr_list(This(s): This<Arc<String>>) -> Arc<Vec<Value>> {
    Arc::new(
        s.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|item| !item.is_empty())
            .map(|item| Value::String(string(item)))
            .collect(),
    )
}

// ----------------------------------------------------------------------------------------------
// TLS
// ----------------------------------------------------------------------------------------------

/// `tlsAtLeast(version: string, minimum: string) -> bool`: compares TLS versions written as
/// `1.2`, `TLSv1.2`, `TLS1.3` or `tls1_2`. An unparseable version is an error, not `false`.
///
/// `tlsAtLeast('TLSv1.3', '1.2')` → `true`
fn tls_at_least(
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
fn is_tls_version(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
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

// ----------------------------------------------------------------------------------------------
// Endpoints
// ----------------------------------------------------------------------------------------------

/// An endpoint taken apart: `host:port`, `[v6]:port`, or a URL's authority.
#[derive(Debug, PartialEq)]
struct Endpoint<'a> {
    scheme: Option<&'a str>,
    host: &'a str,
    port: Option<u16>,
}

/// Splits `scheme://rest`; the scheme must be a valid URL scheme (`[A-Za-z][A-Za-z0-9+.-]*`).
fn split_scheme(s: &str) -> (Option<&str>, &str) {
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
fn parse_endpoint(s: &str) -> Result<Endpoint<'_>, String> {
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
fn default_port(scheme: &str) -> Option<u16> {
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
fn host_of(ftx: &FunctionContext, This(s): This<Arc<String>>) -> Result<Arc<String>, ExecutionError> {
    parse_endpoint(&s).map(|e| string(e.host)).map_err(|e| ftx.error(e))
}

/// `portOf(s: string) -> int`: the port of `host:port`, `[::1]:8443` or a URL; a URL without
/// one gets its scheme's default (`https` 443, `http` 80, `smtp` 25, `smtps` 465). No port to
/// be found, or an invalid one, is an error.
///
/// `portOf('db.internal:5432')` → `5432`, `portOf('https://example.com')` → `443`
fn port_of(ftx: &FunctionContext, This(s): This<Arc<String>>) -> Result<i64, ExecutionError> {
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
fn has_port(ftx: &FunctionContext, This(s): This<Arc<String>>) -> Result<bool, ExecutionError> {
    parse_endpoint(&s).map(|e| e.port.is_some()).map_err(|e| ftx.error(e))
}

/// `urlScheme(s: string) -> string`: the scheme before `://`, lower-cased; `''` if there is
/// none.
///
/// `urlScheme('HTTPS://example.com')` → `'https'`, `urlScheme('example.com:443')` → `''`
fn url_scheme(This(s): This<Arc<String>>) -> Arc<String> {
    string(split_scheme(s.trim()).0.unwrap_or_default().to_ascii_lowercase())
}

// ----------------------------------------------------------------------------------------------
// Container images
// ----------------------------------------------------------------------------------------------

/// Tags that are moved to new images over time, so pinning to them pins nothing.
const MOVING_TAGS: [&str; 11] =
    ["latest", "stable", "main", "master", "edge", "nightly", "dev", "develop", "canary", "unstable", "lts"];

/// `imageRepository(image: string) -> string`: the image reference without tag and digest.
///
/// `imageRepository('registry.example.com/pulumi/service:1.2@sha256:…')` →
/// `'registry.example.com/pulumi/service'`
fn image_repository(This(image): This<Arc<String>>) -> Arc<String> {
    string(image_parts(&image).0)
}

/// `imageTag(image: string) -> string`: the tag of an image reference, `''` if it has none.
///
/// `imageTag('localhost:5000/pulumi/service:1.2')` → `'1.2'`
fn image_tag(This(image): This<Arc<String>>) -> Arc<String> {
    string(image_parts(&image).1.unwrap_or_default())
}

/// `imageDigest(image: string) -> string`: the digest (`sha256:…`) of an image reference, `''`
/// if it has none.
///
/// `imageDigest('pulumi/service@sha256:ab12')` → `'sha256:ab12'`
fn image_digest(This(image): This<Arc<String>>) -> Arc<String> {
    string(image_parts(&image).2.unwrap_or_default())
}

/// `isPinnedImage(image: string) -> bool`: whether the reference names a fixed image: it has a
/// digest, or a tag other than a moving one (`latest`, `stable`, `main`, `master`, `edge`,
/// `nightly`, `dev`, `develop`, `canary`, `unstable`, `lts`, in any case). No tag means
/// `latest`.
///
/// `isPinnedImage('pulumi/service:3.1.0')` → `true`, `isPinnedImage('pulumi/service')` → `false`
fn is_pinned_image(This(image): This<Arc<String>>) -> bool {
    let (_, tag, digest) = image_parts(&image);
    digest.is_some_and(|d| !d.is_empty())
        || tag.is_some_and(|t| !t.is_empty() && !MOVING_TAGS.iter().any(|m| t.eq_ignore_ascii_case(m)))
}

/// Splits an image reference into (repository, tag, digest).
pub fn image_parts(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_slash..].rfind(':') {
        Some(colon) => (&name[..last_slash + colon], Some(&name[last_slash + colon + 1..]), digest),
        None => (name, None, digest),
    }
}

// ----------------------------------------------------------------------------------------------
// Secrets
// ----------------------------------------------------------------------------------------------

/// The key that marks a Pulumi secret envelope, and its value.
const SECRET_SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";

/// Whether map `v` has string key `key` with a value satisfying `test`; `false` for non-maps.
///
/// Works on any map (built-in or a document's) through its `Container` and `Indexer`. Presence
/// is checked first so that a missing key doesn't go through the indexer: a document map's
/// indexer records misses for `locate`, and a predicate peeking at keys shouldn't leave one.
fn map_entry_is(v: &dyn Val, key: &str, test: impl FnOnce(&dyn Val) -> bool) -> bool {
    if v.get_type().kind() != Kind::Map {
        return false;
    }
    let key = CelString::from(key);
    let present = v.as_container().is_some_and(|c| c.contains(&key).unwrap_or(false));
    present && v.as_indexer().and_then(|i| i.get(&key).ok()).is_some_and(|found| test(&*found))
}

fn is_envelope(v: &dyn Val) -> bool {
    map_entry_is(v, SECRET_SIG_KEY, |sig| as_str(sig) == Some(SECRET_SIG))
}

/// `isSecretEnvelope(v: dyn) -> bool`: whether `v` is a Pulumi secret envelope, a map whose
/// key `4dabf18193072939515e22adb298388d` holds `1b47061264138c4ac30d75fd1eb44270`. `false`
/// for anything else; never fails.
///
/// `isSecretEnvelope({'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
/// 'ciphertext': 'v1:…'})` → `true`
fn is_secret_envelope(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
    Ok(is_envelope(only_arg(ftx)?))
}

/// `isEncryptedSecret(v: dyn) -> bool`: whether `v` is a secret envelope with a `ciphertext`
/// (as in stack configs and state). Never fails.
///
/// `isEncryptedSecret(cfg.dbPassword)` → `true` for `{…sig…, ciphertext: 'v1:…'}`
fn is_encrypted_secret(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
    let v = only_arg(ftx)?;
    Ok(is_envelope(v) && map_entry_is(v, "ciphertext", |_| true))
}

/// `isPlaintextSecret(v: dyn) -> bool`: whether `v` is a secret envelope carrying its value in
/// the clear under `plaintext`. Never fails.
///
/// `isPlaintextSecret(cfg.dbPassword)` → `true` for `{…sig…, plaintext: '"hunter2"'}`
fn is_plaintext_secret(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
    let v = only_arg(ftx)?;
    Ok(is_envelope(v) && map_entry_is(v, "plaintext", |_| true))
}

/// `isSecretRef(s: string) -> bool`: whether `s` refers to a secret held elsewhere rather than
/// being one: an AWS Secrets Manager ARN (`arn:aws:secretsmanager:…`) or SSM parameter ARN
/// (`arn:aws:ssm:…:parameter/…`, any `aws*` partition); a whole-value `${VAR}` or `$VAR`
/// interpolation; an Azure Key Vault reference (`@Microsoft.KeyVault(…)`); a Vault path
/// (`vault:…`); or a GCP Secret Manager name (`projects/…/secrets/…[/versions/…]`).
///
/// `isSecretRef('arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db')` → `true`
fn is_secret_ref(This(s): This<Arc<String>>) -> bool {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    is_aws_secret_arn(s)
        || is_interpolation(s)
        || (lower.starts_with("@microsoft.keyvault(") && s.ends_with(')'))
        || (lower.starts_with("vault:") && s.len() > "vault:".len())
        || is_gcp_secret_name(s)
}

fn is_aws_secret_arn(s: &str) -> bool {
    match s.splitn(6, ':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, service, _region, _account, resource] if partition.starts_with("aws") => {
            (*service == "secretsmanager" && !resource.is_empty())
                || (*service == "ssm" && resource.len() > "parameter/".len() && resource.starts_with("parameter/"))
        }
        _ => false,
    }
}

/// `${anything}` or `$NAME` (a shell-style variable name), as the whole value.
fn is_interpolation(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('$') else { return false };
    if let Some(inner) = rest.strip_prefix('{') {
        return inner.len() > 1 && inner.ends_with('}');
    }
    rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_gcp_secret_name(s: &str) -> bool {
    match s.split('/').collect::<Vec<_>>().as_slice() {
        ["projects", project, "secrets", secret] => !project.is_empty() && !secret.is_empty(),
        ["projects", project, "secrets", secret, "versions", version] => {
            !project.is_empty() && !secret.is_empty() && !version.is_empty()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::value::to_cel;
    use crate::load::load_json;
    use crate::source::FileId;

    fn run(expr: &str) -> Result<Value, ExecutionError> {
        cel_env().compile(expr).unwrap().execute(&root_context())
    }

    fn eval(expr: &str) -> Value {
        run(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    fn yes(expr: &str) -> bool {
        match eval(expr) {
            Value::Bool(b) => b,
            other => panic!("{expr} gave {other:?}, not a bool"),
        }
    }

    fn text(expr: &str) -> String {
        match eval(expr) {
            Value::String(s) => s.to_string(),
            other => panic!("{expr} gave {other:?}, not a string"),
        }
    }

    fn fails(expr: &str) -> String {
        match run(expr) {
            Ok(v) => panic!("{expr} gave {v:?}, not an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn matches_compiles_each_pattern_once_and_reports_bad_ones() {
        assert!(yes("'pulumi/service'.matches('(^|/)pulumi/(service|console)$')"));
        assert!(yes("matches('foobar', '^[a-z]*$')"));
        assert!(!yes("'foo1'.matches('^[a-z]*$')"));
        assert!(yes("['a1', 'b2'].all(s, s.matches('[0-9]'))"));
        assert!(Arc::ptr_eq(&regex("^x+$").unwrap(), &regex("^x+$").unwrap()), "the second call reuses the first");
        assert!(fails("'x'.matches('(')").contains("not a valid regex"));
    }

    /// Evaluates `expr` with `doc` bound to `json` loaded as a document.
    fn eval_doc(expr: &str, json: &str) -> Value {
        let root = root_context();
        let mut scope = root.new_inner_scope();
        scope.add_variable_as_val("doc", to_cel(&load_json(FileId(0), json).unwrap()));
        cel_env().compile(expr).unwrap().execute(&scope).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    /// Every registered function is declared for the pack checker
    /// ([`crate::pack::environment::CELADOR_FUNCTIONS`]), and each declared signature heads a
    /// row of `docs/cel-functions.md`, which documents nothing else.
    #[test]
    fn every_function_registers_is_declared_and_is_documented() {
        use crate::pack::environment::CELADOR_FUNCTIONS;
        register(&mut Context::with_env(cel_env())).unwrap();
        let docs = include_str!("../../../docs/cel-functions.md");
        let source = include_str!("functions.rs");
        let names: Vec<&str> = source
            .split("ctx.add_function(\"")
            .skip(1)
            .filter_map(|rest| rest.split_once('"').map(|(name, _)| name))
            .collect();
        assert!(names.len() >= 28, "{names:?}");
        let declared = |name: &str| CELADOR_FUNCTIONS.iter().any(|s| s.starts_with(&format!("{name}(")));
        for name in &names {
            assert!(declared(name), "{name} is not declared in pack::environment::CELADOR_FUNCTIONS");
        }
        for signature in CELADOR_FUNCTIONS {
            let name = signature.split('(').next().unwrap_or_default();
            assert!(names.contains(&name), "{signature} is declared but not registered");
            let row = format!("| `{}` |", signature.replace('|', "\\|"));
            assert!(docs.contains(&row), "docs/cel-functions.md has no row for `{signature}`");
        }
        // The Kubernetes libraries are documented by family (`vap::library` checks them).
        let celadors = docs.split("## Kubernetes libraries").next().unwrap_or_default();
        let documented = celadors.lines().filter(|l| l.starts_with("| `") && l.contains(") -> ")).count();
        assert_eq!(documented, CELADOR_FUNCTIONS.len(), "docs/cel-functions.md documents undeclared signatures");
    }

    #[test]
    fn one_flattens_single_element_lists_and_keeps_locations() {
        use crate::eval::value::{DocMap, loc_of_val};
        use crate::load::load_json;
        use crate::source::FileId;
        let text = r#"{"settings": [{"ipConfiguration": [{"sslMode": "ENCRYPTED_ONLY"}]}], "flat": {"a": 1}}"#;
        let doc = load_json(FileId(0), text).unwrap();
        let mut ctx = root_context();
        ctx.add_variable_as_val("doc", Box::new(DocMap::from_node(&doc)));
        let program = cel_env().compile("one(one(doc.settings).ipConfiguration)").unwrap();
        let value = Value::resolve_val(program.expression(), &ctx).unwrap();
        let loc = loc_of_val(&*value).expect("a document map keeps its location");
        assert_eq!(&text[loc.span.range()], r#"{"sslMode": "ENCRYPTED_ONLY"}"#);
        let program = cel_env().compile("one(doc.flat).a == 1 && one([]) == null").unwrap();
        assert_eq!(program.execute(&ctx).unwrap(), Value::Bool(true));
    }

    #[test]
    fn descendants_walk_maps_and_lists_in_document_order() {
        let program = cel_env().compile("descendants({'a': {'b': 1}, 'c': [2, {'d': 3}]}).size()").unwrap();
        assert_eq!(program.execute(&root_context()).unwrap(), Value::Int(6));
        let program = cel_env().compile("descendants({'a': {'b': 'x'}}).exists(v, v == 'x')").unwrap();
        assert_eq!(program.execute(&root_context()).unwrap(), Value::Bool(true));
    }

    #[test]
    fn blocks_read_nested_blocks_however_they_are_written() {
        assert!(yes(
            "blocks({'rule': [{'a': 1}, 'x'], 'rules': {'a': 2}, 'other': [{'a': 3}]}, ['rule', 'rules']) == [{'a': 1}, {'a': 2}]"
        ));
        assert!(yes("blocks([{'a': 1}, [{'a': 2}]]) == [{'a': 1}] && blocks({'a': 1}) == [{'a': 1}]"));
        assert!(yes(
            "blocks(null) == [] && blocks('x') == [] && blocks(null, ['a']) == [] && blocks({'a': null}, ['a']) == []"
        ));
        assert!(yes("{'rules': {'a': 2}}.blocks(['rules']).size() == 1"));
        assert!(fails("blocks({}, 'rule')").contains("list of strings"));
        assert!(fails("blocks({}, [1])").contains("list of strings"));
    }

    #[test]
    fn lookup_follows_paths_of_keys_and_indexes() {
        assert!(yes("lookup({'a': [{'b': 1}]}, ['a', 0, 'b']) == 1"));
        assert!(yes("lookup({'a': {'b': 1}}, 'a.b') == 1 && lookup({'a': {'b': 1}}, 'a.c') == null"));
        assert!(yes("lookup({'a': [1]}, ['a', 1]) == null && lookup({'a': [1]}, ['a', -1]) == null"));
        assert!(yes("lookup({'a': 1}, ['a', 'b']) == null && lookup({'a': 1}, []) == {'a': 1}"));
        assert!(yes("{'a': 1}.lookup('a') == 1"));
        assert!(fails("lookup({'a': 1}, [1.5])").contains("string key or an int index"));
        use crate::eval::value::{DocMap, loc_of_val};
        let text = r#"{"a": [{"b": 1}]}"#;
        let mut ctx = root_context();
        ctx.add_variable_as_val("doc", Box::new(DocMap::from_node(&load_json(FileId(0), text).unwrap())));
        let program = cel_env().compile("lookup(doc, ['a', 0])").unwrap();
        let value = Value::resolve_val(program.expression(), &ctx).unwrap();
        let loc = loc_of_val(&*value).expect("a document map keeps its location");
        assert_eq!(&text[loc.span.range()], r#"{"b": 1}"#);
    }

    #[test]
    fn paths_lead_to_every_leaf_in_document_order() {
        assert!(yes(
            "paths({'a': {'b': true, 'c': {}}, 'd': [1, [2]]}).map(p, p.map(k, string(k)).join('/')).sort() == ['a/b', 'a/c', 'd/0', 'd/1/0']"
        ));
        let in_order = eval_doc("paths(doc)", r#"{"z": {"y": 1, "b": [true]}, "a": 2}"#);
        let expected = eval("[['z', 'y'], ['z', 'b', 0], ['a']]");
        assert_eq!(in_order, expected, "document order");
        assert!(yes("paths(1) == [] && paths({}) == [] && paths([]) == []"));
        assert!(yes("paths({'a': {'b': 1}}).all(p, lookup({'a': {'b': 1}}, p) == 1)"));
        assert!(yes("{'a': 1}.paths() == [['a']]"));
    }

    #[test]
    fn names_convert_between_snake_and_camel_case() {
        assert_eq!(text("camelCase('storage_encrypted')"), "storageEncrypted");
        assert_eq!(text("camelCase('password')"), "password");
        assert_eq!(text("camelCase('a__b_')"), "aB");
        assert_eq!(text("'ses_smtp_password_v4'.camelCase()"), "sesSmtpPasswordV4");
        assert_eq!(text("snakeCase('blockPublicAcls')"), "block_public_acls");
        assert_eq!(text("snakeCase('sesSmtpPasswordV4')"), "ses_smtp_password_v4");
        assert_eq!(text("snakeCase('password')"), "password");
    }

    #[test]
    fn bare_key_strips_the_namespace() {
        assert_eq!(text("bareKey('proj:licenseKey')"), "licenseKey");
        assert_eq!(text("'licenseKey'.bareKey()"), "licenseKey");
    }

    #[test]
    fn pem_values_are_told_from_paths() {
        assert!(yes("isPem('-----BEGIN CERTIFICATE-----\\nMIIB...')"));
        assert!(!yes("isPem('/etc/certs/ca.pem')"));
    }

    #[test]
    fn truthy_values() {
        for truthy in ["true", "'true'", "'TRUE'", "'1'", "' yes '", "'On'"] {
            assert!(yes(&format!("isTruthy({truthy})")), "{truthy}");
        }
        for falsy in ["false", "'false'", "'0'", "'no'", "''", "1", "null", "[true]", "{'a': true}"] {
            assert!(!yes(&format!("isTruthy({falsy})")), "{falsy}");
        }
        assert!(yes("'yes'.isTruthy()"));
        fails("isTruthy()");
        fails("isTruthy(true, true)");
        assert_eq!(eval_doc("isTruthy(doc.on) && !isTruthy(doc)", r#"{"on": "yes"}"#), Value::Bool(true));
    }

    #[test]
    fn placeholders_are_recognised() {
        for placeholder in [
            "''",
            "'   '",
            "null",
            "'changeme'",
            "'change-me'",
            "'CHANGE_ME'",
            "'xxx'",
            "'XXXXXXXX'",
            "'xxxx-xxxx'",
            "'****'",
            "'<your-api-key>'",
            "'TODO'",
            "'REPLACE_ME'",
            "'${DB_PASSWORD}'",
        ] {
            assert!(yes(&format!("looksLikePlaceholder({placeholder})")), "{placeholder}");
        }
        for real in ["'hunter2'", "'xkcd-936'", "'x'", "'todo-list-api-key'", "'<'", "'s3cr3t>'"] {
            assert!(!yes(&format!("looksLikePlaceholder({real})")), "{real}");
        }
    }

    #[test]
    fn cidr_containment() {
        assert!(yes("cidrContains('10.0.0.0/8', '10.1.0.0/16')"));
        assert!(yes("cidrContains('10.0.0.0/8', '10.255.255.255')"));
        assert!(yes("'2001:db8::/32'.cidrContains('2001:db8:1::/48')"));
        assert!(!yes("cidrContains('10.0.0.0/16', '10.0.0.0/8')"));
        assert!(!yes("cidrContains('0.0.0.0/0', '::1')"));
        assert!(fails("cidrContains('10.0.0.0/8', 'sg-123')").contains("sg-123"));
        assert!(fails("cidrContains('10.0.0.0/33', '10.0.0.1')").contains("10.0.0.0/33"));
    }

    #[test]
    fn any_address() {
        for any in ["0.0.0.0/0", "::/0", "10.0.0.0/0", "0.0.0.0", "::", "*", " 0.0.0.0/0 "] {
            assert!(yes(&format!("isAnyAddress('{any}')")), "{any}");
        }
        for some in ["0.0.0.0/1", "10.0.0.0/8", "0.0.0.0/32", "::1"] {
            assert!(!yes(&format!("isAnyAddress('{some}')")), "{some}");
        }
        fails("isAnyAddress('anywhere')");
    }

    #[test]
    fn private_and_public_ranges() {
        for private in [
            "10.0.0.0/8",
            "10.20.0.0/16",
            "172.16.0.0/12",
            "172.31.255.0/24",
            "192.168.1.10",
            "100.64.0.0/10",
            "127.0.0.1",
            "169.254.169.254/32",
            "fd00::/8",
            "fe80::1",
            "::1",
            "::1/128",
        ] {
            assert!(yes(&format!("isPrivateCidr('{private}')")), "{private}");
            assert!(!yes(&format!("isPublicCidr('{private}')")), "{private}");
        }
        for public in ["0.0.0.0/0", "10.0.0.0/7", "172.32.0.0/16", "8.8.8.8", "203.0.113.0/24", "2001:db8::/32", "::/0"]
        {
            assert!(!yes(&format!("isPrivateCidr('{public}')")), "{public}");
            assert!(yes(&format!("isPublicCidr('{public}')")), "{public}");
        }
        fails("isPrivateCidr('internal')");
        fails("isPublicCidr('')");
    }

    #[test]
    fn cidr_syntax_check_never_fails() {
        for cidr in ["'10.0.0.0/8'", "'2001:db8::/32'", "'10.1.2.3'", "'::1'", "' 10.0.0.0/8'"] {
            assert!(yes(&format!("isCidr({cidr})")), "{cidr}");
        }
        for not in ["'10.0.0.0/33'", "'*'", "'sg-0123'", "''", "42", "null", "['10.0.0.0/8']"] {
            assert!(!yes(&format!("isCidr({not})")), "{not}");
        }
    }

    #[test]
    fn allowlist_strings_split() {
        let list = |items: &[&str]| Value::List(Arc::new(items.iter().map(|i| Value::String(string(*i))).collect()));
        assert_eq!(eval("cidrList('203.0.113.0/24, 198.51.100.10/32')"), list(&["203.0.113.0/24", "198.51.100.10/32"]));
        assert_eq!(eval("cidrList(' a,b  c,\\n,d ')"), list(&["a", "b", "c", "d"]));
        assert_eq!(eval("cidrList(' , ')"), list(&[]));
        assert!(yes("cidrList('10.0.0.0/8 192.168.0.0/16').all(c, isPrivateCidr(c))"));
    }

    #[test]
    fn tls_versions_compare_across_spellings() {
        assert!(yes("tlsAtLeast('TLSv1.3', '1.2')"));
        assert!(!yes("'1.1'.tlsAtLeast('1.2')"));
        assert!(yes("tlsAtLeast('tls1_2', 'TLS1.2')"));
        assert!(fails("tlsAtLeast('modern', '1.2')").contains("modern"));
    }

    #[test]
    fn tls_version_syntax_check_never_fails() {
        for version in ["'1.2'", "'TLSv1.2'", "'TLS1_3'", "'tls1_0'"] {
            assert!(yes(&format!("isTlsVersion({version})")), "{version}");
        }
        for not in ["'modern'", "'TLS'", "''", "'1'", "1.2", "null"] {
            assert!(!yes(&format!("isTlsVersion({not})")), "{not}");
        }
    }

    #[test]
    fn endpoints_split_into_host_and_port() {
        assert_eq!(text("hostOf('db.internal:5432')"), "db.internal");
        assert_eq!(eval("portOf('db.internal:5432')"), Value::Int(5432));
        assert_eq!(text("hostOf('[::1]:8443')"), "::1");
        assert_eq!(eval("portOf('[::1]:8443')"), Value::Int(8443));
        assert_eq!(text("hostOf('https://api.example.com:8443/path')"), "api.example.com");
        assert_eq!(eval("portOf('https://api.example.com:8443/path')"), Value::Int(8443));
        assert_eq!(text("'https://user:pw@api.example.com/x?y#z'.hostOf()"), "api.example.com");
        assert_eq!(text("hostOf('localhost')"), "localhost");
        assert_eq!(text("hostOf('2001:db8::1')"), "2001:db8::1");
        assert_eq!(text("hostOf('http://[2001:db8::1]/')"), "2001:db8::1");
    }

    #[test]
    fn ports_default_by_scheme() {
        assert_eq!(eval("portOf('https://example.com')"), Value::Int(443));
        assert_eq!(eval("portOf('HTTP://example.com/')"), Value::Int(80));
        assert_eq!(eval("portOf('smtp://mail.example.com')"), Value::Int(25));
        assert_eq!(eval("portOf('smtps://mail.example.com')"), Value::Int(465));
        assert!(fails("portOf('example.com')").contains("no port"));
        assert!(fails("portOf('redis://cache')").contains("no port"));
        fails("portOf('host:http')");
        fails("portOf('host:70000')");
        fails("hostOf(':8080')");
        fails("hostOf('[::1')");
    }

    #[test]
    fn explicit_ports_and_schemes() {
        assert!(yes("hasPort('db:5432')"));
        assert!(yes("hasPort('[::1]:8443')"));
        assert!(yes("hasPort('https://example.com:8443/')"));
        assert!(!yes("hasPort('https://example.com')"));
        assert!(!yes("hasPort('::1')"));
        assert!(!yes("hasPort('[::1]')"));
        fails("hasPort('db:postgres')");
        assert_eq!(text("urlScheme('HTTPS://example.com')"), "https");
        assert_eq!(text("urlScheme('smtp://mail:25')"), "smtp");
        assert_eq!(text("urlScheme('example.com:443')"), "");
        assert_eq!(text("urlScheme('not a scheme://x')"), "");
    }

    #[test]
    fn image_references_split() {
        assert_eq!(image_parts("pulumi/service:latest"), ("pulumi/service", Some("latest"), None));
        assert_eq!(image_parts("localhost:5000/pulumi/console"), ("localhost:5000/pulumi/console", None, None));
        assert_eq!(
            image_parts("pulumi/migrations:1.0@sha256:abc"),
            ("pulumi/migrations", Some("1.0"), Some("sha256:abc"))
        );
        assert_eq!(text("imageRepository('r.io/pulumi/service@sha256:00')"), "r.io/pulumi/service");
        assert_eq!(text("imageTag('localhost:5000/pulumi/service:1.2')"), "1.2");
        assert_eq!(text("imageTag('localhost:5000/pulumi/service')"), "");
        assert_eq!(text("imageTag('pulumi/service:1.2@sha256:ab12')"), "1.2");
        assert_eq!(text("imageDigest('pulumi/service@sha256:ab12')"), "sha256:ab12");
        assert_eq!(text("'pulumi/service:1.2'.imageDigest()"), "");
    }

    #[test]
    fn pinned_images() {
        for pinned in
            ["pulumi/service:3.1.0", "pulumi/service@sha256:ab12", "pulumi/service:latest@sha256:ab12", "r:5000/x:v2"]
        {
            assert!(yes(&format!("isPinnedImage('{pinned}')")), "{pinned}");
        }
        for moving in [
            "pulumi/service",
            "pulumi/service:latest",
            "x:Stable",
            "x:main",
            "x:master",
            "x:edge",
            "x:nightly",
            "x:",
            "r:5000/x",
        ] {
            assert!(!yes(&format!("isPinnedImage('{moving}')")), "{moving}");
        }
    }

    const SIG: &str = "'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270'";

    #[test]
    fn secret_envelopes_in_literals() {
        assert!(yes(&format!("isSecretEnvelope({{{SIG}}})")));
        assert!(yes(&format!("isEncryptedSecret({{{SIG}, 'ciphertext': 'v1:abc'}})")));
        assert!(!yes(&format!("isPlaintextSecret({{{SIG}, 'ciphertext': 'v1:abc'}})")));
        assert!(yes(&format!("{{{SIG}, 'plaintext': '\"hunter2\"'}}.isPlaintextSecret()")));
        assert!(!yes(&format!("isEncryptedSecret({{{SIG}, 'plaintext': 'x'}})")));
        for not in [
            "{'ciphertext': 'v1:abc'}",
            "{'4dabf18193072939515e22adb298388d': 'other', 'ciphertext': 'x'}",
            "{1: 2}",
            "{}",
            "'v1:abc'",
            "null",
            "['4dabf18193072939515e22adb298388d']",
        ] {
            assert!(
                !yes(&format!("isSecretEnvelope({not}) || isEncryptedSecret({not}) || isPlaintextSecret({not})")),
                "{not}"
            );
        }
    }

    #[test]
    fn secret_envelopes_in_documents() {
        let json = r#"{
            "password": {"secure": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}},
            "leaked": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": "\"hunter2\""},
            "plain": "hunter2",
            "other": {"ciphertext": "v1:abc"}
        }"#;
        let check = |expr: &str| eval_doc(expr, json);
        assert_eq!(check("isEncryptedSecret(doc.password.secure)"), Value::Bool(true));
        assert_eq!(check("doc.leaked.isPlaintextSecret() && isSecretEnvelope(doc.leaked)"), Value::Bool(true));
        assert_eq!(check("isEncryptedSecret(doc.leaked)"), Value::Bool(false));
        assert_eq!(
            check("isSecretEnvelope(doc.plain) || isSecretEnvelope(doc.other) || isSecretEnvelope(doc)"),
            Value::Bool(false)
        );
    }

    #[test]
    fn secret_references() {
        for reference in [
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
            "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db",
            "${DB_PASSWORD}",
            "${{ secrets.TOKEN }}",
            "$DB_PASSWORD",
            "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/db/)",
            "vault:secret/data/db#password",
            "projects/my-proj/secrets/db-password",
            "projects/my-proj/secrets/db-password/versions/latest",
        ] {
            assert!(yes(&format!("isSecretRef('{reference}')")), "{reference}");
        }
        for literal in [
            "hunter2",
            "arn:aws:s3:::bucket",
            "arn:aws:ssm:eu-west-1:123456789012:document/x",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/",
            "pa$$word",
            "$1abc",
            "${",
            "prefix-${VAR}",
            "vault:",
            "projects/p/secrets/",
            "projects/p/topics/t",
            "",
        ] {
            assert!(!yes(&format!("isSecretRef('{literal}')")), "{literal}");
        }
    }
}

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

mod documents;
mod endpoints;
mod images;
mod names;
mod network;
mod secrets;
mod shapes;
mod tls;

use cel::common::types::{CelBool, CelInt, CelString, Kind};
use cel::common::value::CowVal;
use cel::common::value::Val;
use cel::extractors::This;
use cel::{Context, DeclarationError, Env, ExecutionError, FunctionContext, Value};
use documents::*;
use endpoints::*;
pub use images::image_parts;
use images::*;
use ipnet::IpNet;
use names::*;
use network::*;
use secrets::*;
use shapes::*;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
pub use tls::parse_tls_version;
use tls::*;

/// The shared CEL environment (built once per process).
pub fn cel_env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        for extension in
            [cel::extensions::strings, cel::extensions::lists, cel::extensions::math, cel::extensions::sets]
        {
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
        let docs = include_str!("../../../../docs/cel-functions.md");
        let source = include_str!("mod.rs");
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
        let plaintexts =
            "paths({'a': {'plaintext': 's', 'b': [{'plaintext': 1}, 'plaintext']}, 'plaintext': {}}, 'plaintext')";
        let expected = "[['a', 'plaintext'], ['a', 'b', 0, 'plaintext'], ['plaintext']]";
        assert!(yes(&format!("size({plaintexts}) == 3 && {expected}.all(p, p in {plaintexts})")));
        let on_doc =
            eval_doc("paths(doc, 'y')", r#"{"z": {"y": 1, "b": [{"y": [true]}, "y"]}, "y": {}, "x": {"y": {"z": 2}}}"#);
        assert_eq!(on_doc, eval("[['z', 'y'], ['y']]"), "leaves only, in document order");
        let walked = eval_doc("paths(doc)", r#"{"a": {"b": [1, {}], "c": []}, "d": "e"}"#);
        assert_eq!(walked, eval("[['a', 'b', 0], ['a', 'b', 1], ['a', 'c'], ['d']]"), "document order");
        assert!(yes("paths({'a': 1}, 'a') == [['a']] && paths([1], 'a') == []"));
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

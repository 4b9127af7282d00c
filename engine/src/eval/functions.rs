//! The CEL environment rules are compiled and evaluated with: the standard library, the
//! strings, lists and math extensions, and celador's own functions.
//!
//! Every function here is documented for rule authors in `docs/cel-functions.md` and tested
//! below. Functions take and return plain CEL values, so they work on document values and on
//! literals alike.

use cel::extractors::This;
use cel::{Context, Env, ExecutionError, FunctionContext};
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
        Arc::new(env)
    })
    .clone()
}

/// A root context holding celador's functions; evaluation scopes are children of it.
pub fn root_context() -> Context<'static, 'static> {
    let mut ctx = Context::with_env(cel_env());
    let functions: [(&str, fn(&mut Context<'static, 'static>) -> Result<(), cel::DeclarationError>); 4] = [
        ("bareKey", |c| c.add_function("bareKey", bare_key)),
        ("isPem", |c| c.add_function("isPem", is_pem)),
        ("tlsAtLeast", |c| c.add_function("tlsAtLeast", tls_at_least)),
        ("imageRepository", |c| c.add_function("imageRepository", image_repository)),
    ];
    for (_name, register) in functions {
        // Names are unique and don't shadow the standard library, so registration can't fail.
        let _ = register(&mut ctx);
    }
    ctx
}

/// `bareKey('proj:licenseKey')` → `'licenseKey'`: a stack-config key without its namespace.
fn bare_key(key: Arc<String>) -> Arc<String> {
    match key.rsplit_once(':') {
        Some((_, bare)) => Arc::new(bare.to_owned()),
        None => key,
    }
}

/// `isPem(s)`: whether `s` holds a PEM block (`-----BEGIN …-----`) rather than, say, a path.
fn is_pem(s: Arc<String>) -> bool {
    s.contains("-----BEGIN ")
}

/// `tlsAtLeast(version, minimum)` / `version.tlsAtLeast(minimum)`: compares TLS versions written
/// as `1.2`, `TLSv1.2`, `TLS1.3` or `tls1_2`. An unparseable version is an error, not `false`.
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

/// Parses `1.2`, `TLSv1.2`, `TLS1.2`, `tls1_2`, `TLSv1_3` into (major, minor).
pub fn parse_tls_version(s: &str) -> Option<(u32, u32)> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let rest = lower.strip_prefix("tlsv").or_else(|| lower.strip_prefix("tls")).unwrap_or(&lower);
    let rest = rest.trim_start_matches(['v', ' ', '_']);
    let (major, minor) = rest.split_once(['.', '_'])?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// `imageRepository('registry.example.com/pulumi/service:1.2@sha256:…')` → `'registry.example.com/pulumi/service'`.
fn image_repository(image: Arc<String>) -> Arc<String> {
    Arc::new(image_parts(&image).0.to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: &str) -> cel::Value {
        let program = cel_env().compile(expr).unwrap();
        program.execute(&root_context()).unwrap()
    }

    #[test]
    fn bare_key_strips_the_namespace() {
        assert_eq!(eval("bareKey('proj:licenseKey')"), cel::Value::String(Arc::new("licenseKey".into())));
        assert_eq!(eval("bareKey('licenseKey')"), cel::Value::String(Arc::new("licenseKey".into())));
    }

    #[test]
    fn tls_versions_compare_across_spellings() {
        assert_eq!(eval("tlsAtLeast('TLSv1.3', '1.2')"), cel::Value::Bool(true));
        assert_eq!(eval("'1.1'.tlsAtLeast('1.2')"), cel::Value::Bool(false));
        assert_eq!(eval("tlsAtLeast('tls1_2', 'TLS1.2')"), cel::Value::Bool(true));
        let program = cel_env().compile("tlsAtLeast('modern', '1.2')").unwrap();
        assert!(program.execute(&root_context()).is_err());
    }

    #[test]
    fn pem_values_are_told_from_paths() {
        assert_eq!(eval("isPem('-----BEGIN CERTIFICATE-----\\nMIIB...')"), cel::Value::Bool(true));
        assert_eq!(eval("isPem('/etc/certs/ca.pem')"), cel::Value::Bool(false));
    }

    #[test]
    fn image_references_split() {
        assert_eq!(image_parts("pulumi/service:latest"), ("pulumi/service", Some("latest"), None));
        assert_eq!(image_parts("localhost:5000/pulumi/console"), ("localhost:5000/pulumi/console", None, None));
        assert_eq!(
            image_parts("pulumi/migrations:1.0@sha256:abc"),
            ("pulumi/migrations", Some("1.0"), Some("sha256:abc"))
        );
        assert_eq!(
            eval("imageRepository('r.io/pulumi/service@sha256:00')"),
            cel::Value::String(Arc::new("r.io/pulumi/service".into()))
        );
    }
}

//! Secrets: envelopes and references.

use super::*;

/// The key that marks a Pulumi secret envelope, and its value.
const SECRET_SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";

/// Whether map `v` has string key `key` with a value satisfying `test`; `false` for non-maps.
///
/// Works on any map (built-in or a document's) through its `Container` and `Indexer`. Presence
/// is checked first so that a missing key doesn't go through the indexer: a document map's
/// indexer records misses for `locate`, and a predicate peeking at keys shouldn't leave one.
pub(super) fn map_entry_is(v: &dyn Val, key: &str, test: impl FnOnce(&dyn Val) -> bool) -> bool {
    if v.get_type().kind() != Kind::Map {
        return false;
    }
    let key = CelString::from(key);
    let present = v.as_container().is_some_and(|c| c.contains(&key).unwrap_or(false));
    present && v.as_indexer().and_then(|i| i.get(&key).ok()).is_some_and(|found| test(&*found))
}

pub(super) fn is_envelope(v: &dyn Val) -> bool {
    map_entry_is(v, SECRET_SIG_KEY, |sig| as_str(sig) == Some(SECRET_SIG))
}

/// `isSecretEnvelope(v: dyn) -> bool`: whether `v` is a Pulumi secret envelope, a map whose
/// key `4dabf18193072939515e22adb298388d` holds `1b47061264138c4ac30d75fd1eb44270`. `false`
/// for anything else; never fails.
///
/// `isSecretEnvelope({'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
/// 'ciphertext': 'v1:…'})` → `true`
pub(super) fn is_secret_envelope(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
    Ok(is_envelope(only_arg(ftx)?))
}

/// `isEncryptedSecret(v: dyn) -> bool`: whether `v` is a secret envelope with a `ciphertext`
/// (as in stack configs and state). Never fails.
///
/// `isEncryptedSecret(cfg.dbPassword)` → `true` for `{…sig…, ciphertext: 'v1:…'}`
pub(super) fn is_encrypted_secret(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
    let v = only_arg(ftx)?;
    Ok(is_envelope(v) && map_entry_is(v, "ciphertext", |_| true))
}

/// `isPlaintextSecret(v: dyn) -> bool`: whether `v` is a secret envelope carrying its value in
/// the clear under `plaintext`. Never fails.
///
/// `isPlaintextSecret(cfg.dbPassword)` → `true` for `{…sig…, plaintext: '"hunter2"'}`
pub(super) fn is_plaintext_secret(ftx: &FunctionContext) -> Result<bool, ExecutionError> {
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
pub(super) fn is_secret_ref(This(s): This<Arc<String>>) -> bool {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    is_aws_secret_arn(s)
        || is_interpolation(s)
        || (lower.starts_with("@microsoft.keyvault(") && s.ends_with(')'))
        || (lower.starts_with("vault:") && s.len() > "vault:".len())
        || is_gcp_secret_name(s)
}

pub(super) fn is_aws_secret_arn(s: &str) -> bool {
    match s.splitn(6, ':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, service, _region, _account, resource] if partition.starts_with("aws") => {
            (*service == "secretsmanager" && !resource.is_empty())
                || (*service == "ssm" && resource.len() > "parameter/".len() && resource.starts_with("parameter/"))
        }
        _ => false,
    }
}

/// `${anything}` or `$NAME` (a shell-style variable name), as the whole value.
pub(super) fn is_interpolation(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('$') else { return false };
    if let Some(inner) = rest.strip_prefix('{') {
        return inner.len() > 1 && inner.ends_with('}');
    }
    rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn is_gcp_secret_name(s: &str) -> bool {
    match s.split('/').collect::<Vec<_>>().as_slice() {
        ["projects", project, "secrets", secret] => !project.is_empty() && !secret.is_empty(),
        ["projects", project, "secrets", secret, "versions", version] => {
            !project.is_empty() && !secret.is_empty() && !version.is_empty()
        }
        _ => false,
    }
}

//! Names: Pulumi and Terraform spellings.

use super::*;

/// `camelCase(s: string) -> string`: a snake_case name in camelCase, the way Pulumi spells
/// Terraform's attribute names: each `_` dropped and the letter after it upper-cased (ASCII).
///
/// `camelCase('storage_encrypted')` → `'storageEncrypted'`
pub(super) fn camel_case(This(s): This<Arc<String>>) -> Arc<String> {
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
pub(super) fn snake_case(This(s): This<Arc<String>>) -> Arc<String> {
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

//! Container image references.

use super::*;

/// Tags that are moved to new images over time, so pinning to them pins nothing.
const MOVING_TAGS: [&str; 11] =
    ["latest", "stable", "main", "master", "edge", "nightly", "dev", "develop", "canary", "unstable", "lts"];

/// `imageRepository(image: string) -> string`: the image reference without tag and digest.
///
/// `imageRepository('registry.example.com/pulumi/service:1.2@sha256:…')` →
/// `'registry.example.com/pulumi/service'`
pub(super) fn image_repository(This(image): This<Arc<String>>) -> Arc<String> {
    string(image_parts(&image).0)
}

/// `imageTag(image: string) -> string`: the tag of an image reference, `''` if it has none.
///
/// `imageTag('localhost:5000/pulumi/service:1.2')` → `'1.2'`
pub(super) fn image_tag(This(image): This<Arc<String>>) -> Arc<String> {
    string(image_parts(&image).1.unwrap_or_default())
}

/// `imageDigest(image: string) -> string`: the digest (`sha256:…`) of an image reference, `''`
/// if it has none.
///
/// `imageDigest('pulumi/service@sha256:ab12')` → `'sha256:ab12'`
pub(super) fn image_digest(This(image): This<Arc<String>>) -> Arc<String> {
    string(image_parts(&image).2.unwrap_or_default())
}

/// `isPinnedImage(image: string) -> bool`: whether the reference names a fixed image: it has a
/// digest, or a tag other than a moving one (`latest`, `stable`, `main`, `master`, `edge`,
/// `nightly`, `dev`, `develop`, `canary`, `unstable`, `lts`, in any case). No tag means
/// `latest`.
///
/// `isPinnedImage('pulumi/service:3.1.0')` → `true`, `isPinnedImage('pulumi/service')` → `false`
pub(super) fn is_pinned_image(This(image): This<Arc<String>>) -> bool {
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

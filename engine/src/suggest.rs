//! "Did you mean …?" for names the user mistyped: rule ids, parameters, kinds.

/// The candidate closest to `word` (case-insensitively), when it is close enough to be what
/// was meant: at most a third of the longer name differs.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (c, strsim::damerau_levenshtein(&word, &c.to_ascii_lowercase())))
        .filter(|(c, distance)| *distance > 0 && *distance * 3 <= word.len().max(c.len()))
        .min_by_key(|(_, distance)| *distance)
        .map(|(c, _)| c)
}

/// Like [`did_you_mean`], and failing that the shortest candidate that `word` (four characters
/// or more) abbreviates: what a rule author typing a CEL function or variable name means
/// (`imageRepo` → `imageRepository`).
pub fn did_you_mean_name<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    did_you_mean(word, candidates.iter().copied()).or_else(|| {
        let lower = word.to_ascii_lowercase();
        candidates
            .into_iter()
            .filter(|c| lower.len() >= 4 && c.len() > lower.len() && c.to_ascii_lowercase().starts_with(&lower))
            .min_by_key(|c| c.len())
    })
}

/// ` (did you mean `X`?)` after [`did_you_mean_name`], or nothing.
pub fn hint_name<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean_name(word, candidates).map_or_else(String::new, |c| format!(" (did you mean `{c}`?)"))
}

/// ` (did you mean `X`?)`, or nothing.
pub fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates).map_or_else(String::new, |c| format!(" (did you mean `{c}`?)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested() {
        let ids = ["PSH-TLS-008", "PSH-TLS-009", "PSH-NET-001"];
        assert_eq!(did_you_mean("PSH-TLS-08", ids), Some("PSH-TLS-008"));
        assert_eq!(did_you_mean("psh-net-01", ids), Some("PSH-NET-001"));
        assert_eq!(did_you_mean("XYZ", ids), None);
        assert_eq!(did_you_mean("helm-value", ["helm-values", "kubernetes"]), Some("helm-values"));
        assert_eq!(hint("min_tls", ["min_tls_version"]), "");
        assert_eq!(did_you_mean_name("imageRepo", ["imageRepository", "imageTag"]), Some("imageRepository"));
        assert_eq!(did_you_mean_name("dco", ["doc", "docs"]), Some("doc"));
        assert_eq!(did_you_mean_name("min", ["min_tls_version"]), None);
        assert_eq!(hint("min_tls_verison", ["min_tls_version"]), " (did you mean `min_tls_version`?)");
    }
}

//! Secret values: found once per run, before anything is rendered, and masked in the text
//! every report is rendered from.
//!
//! A [`Report`](crate::report::Report) holds [`MaskedSources`], which only
//! [`Secrets::mask`] makes: the run's files, each copied with every secret byte range replaced
//! when a renderer first reads its text, and the messages of the findings and problems passed
//! along scrubbed of every secret value. Renderers therefore cannot show a secret, whatever they print: snippets,
//! context lines, SARIF regions, messages.
//!
//! What is a secret ([`Secrets::collect`]), whether or not a finding about it is reported
//! or suppressed:
//!
//! * the located values of findings of rules that declare them secret (`secret = …`);
//! * values under secret-looking keys (`*PASSWORD*`, `*_TOKEN`, `*_API_KEY`, …; not switches
//!   such as `MYSQL_ALLOW_EMPTY_PASSWORD`, booleans, or references such as `secretName`), in
//!   maps, in `name`/`value` pairs (Kubernetes `env`), and in `KEY=value` strings (compose
//!   `environment` lists); everything under such a key;
//! * Kubernetes Secret `data` and `stringData`, Pulumi `secure:` values and secret envelopes,
//!   Terraform's sensitive values (`sensitive_attributes`, `*_sensitive`, `sensitive_values`,
//!   `sensitive: true` outputs and variables);
//! * in the text of every file, parsed or not: credentials in URLs and `user:password@host`
//!   strings, `password=` pairs of connection strings, and, in files that could not be
//!   parsed, the values of lines that set a secret-looking key.

use crate::diagnostic::{Diagnostic, Problem};
use crate::document::Document;
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::tree::{Node, Tag, Value};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

/// Words that make a key's value a likely secret.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "license",
    "private",
    "credential",
    "apikey",
    "api_key",
    "accesskey",
    "access_key",
];

/// Words that make a key a switch about a secret rather than a secret, although it names one
/// (`MYSQL_ALLOW_EMPTY_PASSWORD`, `MYSQL_RANDOM_ROOT_PASSWORD`, `MARIADB_ALLOW_EMPTY_ROOT_PASSWORD`).
const SWITCH_WORDS: &[&str] = &["allow_empty", "allowempty", "empty_password", "emptypassword", "random_root"];

/// Endings (of the key without `_`, `-` and `.`) that make a secret-looking key name where a
/// secret is rather than hold it: `secretName`, `secretKeyRef`, `passwordFile`, `SECRET_ARN`,
/// `AWS_ACCESS_KEY_ID`.
const REFERENCE_ENDINGS: &[&str] =
    &["name", "names", "ref", "arn", "file", "path", "id", "enabled", "required", "length", "policy", "mode"];

/// Secret values shorter than this are masked in snippets but not searched for in messages:
/// two or three characters occur in ordinary words.
const MIN_SCRUBBED: usize = 4;

/// Secret values of only letters up to this long (`password`, `changeme`, `admin`) are
/// placeholders more often than secrets, and words of messages too (`an empty root
/// password`): they are masked in snippets, not searched for in messages.
const MAX_WORD_LIKE: usize = 8;

/// Secret values longer than this (bytes) are masked in snippets but not searched for in
/// messages, which quote short values: the search stays linear in what it looks for.
const MAX_SCRUBBED: usize = 1024;

/// Masked copies of files a report keeps at a time (see [`MaskedSources::get`]): more than
/// the files one finding shows (its own and [`crate::limits::MAX_RELATED`] related places),
/// so rendering a finding never masks a file twice.
const MASKED_KEPT: usize = crate::limits::MAX_RELATED + 6;

/// The Pulumi secret envelope's signature key.
const PULUMI_SECRET_SIG: &str = "4dabf18193072939515e22adb298388d";

/// Whether a value reads as a boolean (`true`, `"no"`, `1`, `off`…): a switch, not a secret.
fn is_booleanish(value: &str) -> bool {
    let value = value.trim().trim_end_matches(',').trim().trim_matches(['"', '\'']).trim().to_ascii_lowercase();
    matches!(&*value, "true" | "false" | "yes" | "no" | "on" | "off" | "1" | "0")
}

/// Finds any of [`SECRET_WORDS`], whatever the case, in one pass: every key of every input is
/// asked about, and nearly all of them name no secret.
static SECRET_WORD: LazyLock<AhoCorasick> =
    LazyLock::new(|| AhoCorasick::builder().ascii_case_insensitive(true).build(SECRET_WORDS).expect("valid patterns"));

/// Whether a key names a secret (see [`SECRET_WORDS`], [`SWITCH_WORDS`], [`REFERENCE_ENDINGS`]).
pub fn is_secret_key(key: &str) -> bool {
    if !SECRET_WORD.is_match(key) {
        return false;
    }
    let key = key.to_ascii_lowercase();
    if !SECRET_WORDS.iter().any(|w| key.contains(w)) || SWITCH_WORDS.iter().any(|w| key.contains(w)) {
        return false;
    }
    let bare: String = key.chars().filter(|c| !matches!(c, '_' | '-' | '.')).collect();
    !bare.starts_with("existing") && !REFERENCE_ENDINGS.iter().any(|e| bare.ends_with(e))
}

/// Where the value of a likely-secret key (`smtpPassword: …`, `AWS_SECRET_ACCESS_KEY=…`,
/// `"masterPassword": "…"`) starts in `line`, if the line sets one: the byte after the `:` or
/// `=`. Used on the lines of files that could not be parsed, where no tree says what a key is.
pub(crate) fn likely_secret_value(line: &str) -> Option<usize> {
    let separator =
        line.find(": ").or_else(|| line.find('=')).or_else(|| line.trim_end().ends_with(':').then_some(line.len()));
    let at = separator.filter(|&at| at < line.len())?;
    let key = line[..at].to_ascii_lowercase();
    let switch = SWITCH_WORDS.iter().any(|w| key.contains(w)) || is_booleanish(&line[at + 1..]);
    (SECRET_WORDS.iter().any(|w| key.contains(w)) && !switch).then_some(at + 1)
}

/// `user:password@host` with or without a scheme (`postgres://…`, `SMTP_SERVER=user:pw@host:25`):
/// group 1 is the password. A password may hold `@` (the last one before the host counts).
static CREDENTIAL: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"[^\s:/@"'`=,;\[\]{}()<>]*:([^\s/"'`,;\[\]{}()<>]+)@[A-Za-z0-9\[_-]"#).expect("valid regex")
});

/// A token as the user of a URL (`https://ghp_…@github.com`): group 1 is the token.
static URL_TOKEN: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"[A-Za-z][A-Za-z0-9+.-]*://([^\s:/@"'`]+)@[A-Za-z0-9\[_-]"#).expect("valid regex")
});

/// `password=…` in a connection string (`Server=db;Password=pw;`, libpq's `password=pw`):
/// group 1 is the password.
static DSN_PASSWORD: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r#"(?i)\b(?:password|pwd|passwd)\s*=\s*([^;\s"'`,&]+)"#).expect("valid regex"));

/// The secrets of one run: byte ranges per file, and the values themselves.
#[derive(Debug, Default)]
pub struct Secrets {
    /// Sorted, disjoint byte ranges per file.
    ranges: HashMap<FileId, Vec<Range<usize>>>,
    /// The secret values at least [`MIN_SCRUBBED`] characters long, searched for in messages.
    values: Vec<String>,
    /// Finds `values` in a message, all in one pass (a run can know thousands); built when the
    /// first message is scrubbed, as a run without findings or problems has none.
    matcher: OnceLock<Option<AhoCorasick>>,
}

/// What [`Secrets::collect`] gathers before sorting.
#[derive(Default)]
struct Found {
    ranges: HashMap<FileId, Vec<Range<usize>>>,
    values: HashSet<String>,
}

impl Found {
    /// Adds what `other` found.
    fn merge(mut self, other: Found) -> Found {
        for (file, ranges) in other.ranges {
            self.ranges.entry(file).or_default().extend(ranges);
        }
        self.values.extend(other.values);
        self
    }

    /// A secret at `span` (of `text`, the file's text); `value` is its decoded value.
    fn span(&mut self, text: &str, span: Span, value: Option<&str>) {
        let Some(raw) = text.get(span.range()) else { return };
        let mut range = span.range();
        let quoted = raw.len() >= 2
            && (raw.starts_with('"') && raw.ends_with('"') || raw.starts_with('\'') && raw.ends_with('\''));
        if quoted {
            range = range.start + 1..range.end - 1;
        }
        if range.is_empty() {
            return;
        }
        self.value(&text[range.clone()]);
        if let Some(value) = value {
            self.value(value);
        }
        self.ranges.entry(span.file).or_default().push(range);
    }

    /// A secret part `part` of the value of `node`: located in the node's source text when it
    /// appears there as written, else the whole node is secret.
    fn part(&mut self, text: &str, node: &Node, part: &str) {
        if part.is_empty() {
            return;
        }
        let range = node.span.range();
        match text.get(range.clone()).and_then(|raw| raw.find(part)) {
            Some(at) => {
                let start = range.start + at;
                self.value(part);
                self.ranges.entry(node.span.file).or_default().push(start..start + part.len());
            }
            None => self.span(text, node.span, Some(part)),
        }
    }

    fn value(&mut self, value: &str) {
        let value = value.trim();
        let word_like = value.len() <= MAX_WORD_LIKE && value.chars().all(|c| c.is_ascii_alphabetic());
        // Prose (`the API`) and references (`${PULUMI_LICENSE_KEY}`) are words of messages too.
        let prose = value.contains(char::is_whitespace) || value.starts_with('$');
        if value.chars().count() >= MIN_SCRUBBED && value.len() <= MAX_SCRUBBED && !word_like && !prose {
            self.values.insert(value.to_owned());
        }
    }

    /// Every scalar under `node` is secret.
    fn all(&mut self, text: &str, node: &Node, seen: &mut Seen) {
        let mut stack = vec![node];
        while let Some(node) = stack.pop() {
            match &node.value {
                Value::List(items) => {
                    if seen.insert(Arc::as_ptr(items) as *const u8 as usize) {
                        stack.extend(items.iter());
                    }
                }
                Value::Map(entries) => {
                    if seen.insert(Arc::as_ptr(entries) as *const u8 as usize) {
                        stack.extend(entries.iter().map(|e| &e.value));
                    }
                }
                _ => self.scalar(text, node),
            }
        }
    }

    /// A scalar that is secret unless it is empty, null, a boolean or an interpolation.
    fn scalar(&mut self, text: &str, node: &Node) {
        let value = match &node.value {
            Value::String(s)
                if !s.trim().is_empty()
                    && !is_booleanish(s)
                    && node.tag != Tag::Interpolation
                    && !s.trim_start().starts_with('$') =>
            {
                Some(s.to_string())
            }
            Value::Int(_) | Value::Float(_) => None,
            _ => return,
        };
        self.span(text, node.span, value.as_deref());
    }
}

impl Secrets {
    /// Finds the secrets of `documents` (and the documents they replace, `previous`), of the
    /// masked spans of `diagnostics` (all of them: pass them before suppressions and baselines
    /// drop any), and of the text of every file of `sources`.
    pub fn collect(sources: &SourceMap, documents: &[Document], diagnostics: &[Diagnostic]) -> Self {
        let files: Vec<FileId> = sources.ids().collect();
        Self::collect_in(sources, &files, documents, diagnostics)
    }

    /// [`Secrets::collect`], searching the text of `files` only: the files of one batch of a
    /// run, whose secrets are then [`Secrets::merge`]d into the run's.
    pub fn collect_in(
        sources: &SourceMap,
        files: &[FileId],
        documents: &[Document],
        diagnostics: &[Diagnostic],
    ) -> Self {
        let parsed: HashSet<FileId> = documents
            .iter()
            .flat_map(|d| std::iter::once(d.file).chain(d.previous.as_ref().map(|p| p.span.file)))
            .collect();
        // Documents and texts are searched in parallel: a run's first pass over every value.
        let (in_documents, in_texts) = crate::check::on_pool(|| {
            rayon::join(
                || {
                    documents
                        .par_iter()
                        .fold(Found::default, |mut found, document| {
                            walk(&mut found, &sources.get(document.file).text, &document.root);
                            if let Some(previous) = &document.previous {
                                walk(&mut found, &sources.get(previous.span.file).text, previous);
                            }
                            found
                        })
                        .reduce(Found::default, Found::merge)
                },
                || {
                    files
                        .par_iter()
                        .copied()
                        .fold(Found::default, |mut found, id| {
                            scan_text(&mut found, id, &sources.get(id).text, !parsed.contains(&id));
                            found
                        })
                        .reduce(Found::default, Found::merge)
                },
            )
        });
        let mut found = in_documents.merge(in_texts);
        for diagnostic in diagnostics {
            for span in &diagnostic.masked {
                let text = sources.get(span.file).text.clone();
                found.span(&text, *span, None);
            }
        }
        let mut ranges = found.ranges;
        for list in ranges.values_mut() {
            list.sort_unstable_by_key(|r| (r.start, r.end));
            let mut merged: Vec<Range<usize>> = Vec::with_capacity(list.len());
            for range in list.drain(..) {
                match merged.last_mut() {
                    Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
                    _ => merged.push(range),
                }
            }
            *list = merged;
        }
        Self { ranges, values: found.values.into_iter().collect(), matcher: OnceLock::new() }
    }

    /// Adds the secrets of another part of the run (a batch); of `other`'s files, only the
    /// byte ranges of those `keep` says are kept: the text of the others is released, and no
    /// report shows it.
    pub fn merge(&mut self, other: Secrets, keep: impl Fn(FileId) -> bool) {
        self.ranges.extend(other.ranges.into_iter().filter(|(file, _)| keep(*file)));
        self.values.extend(other.values);
        self.values.sort_unstable();
        self.values.dedup();
        self.matcher = OnceLock::new();
    }

    fn matcher(&self) -> Option<&AhoCorasick> {
        self.matcher
            .get_or_init(|| {
                // A DFA's build time grows with the patterns' length times the alphabet; the
                // NFA's is linear in the patterns.
                (!self.values.is_empty())
                    .then(|| {
                        AhoCorasick::builder()
                            .match_kind(MatchKind::LeftmostLongest)
                            .kind(Some(AhoCorasickKind::ContiguousNFA))
                            .build(&self.values)
                            .ok()
                    })
                    .flatten()
            })
            .as_ref()
    }

    /// The secret byte ranges of `file`, sorted and disjoint.
    pub fn ranges(&self, file: FileId) -> &[Range<usize>] {
        self.ranges.get(&file).map_or(&[], Vec::as_slice)
    }

    /// Whether byte range `range` of `file` overlaps a secret.
    pub fn overlaps(&self, file: FileId, range: Range<usize>) -> bool {
        let ranges = self.ranges(file);
        let first = ranges.partition_point(|r| r.end <= range.start);
        ranges.get(first).is_some_and(|r| r.start < range.end.max(range.start + 1))
    }

    /// `text` with every secret value that stands alone (not inside a longer word) replaced by
    /// `*`s.
    pub fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.values.is_empty() {
            return Cow::Borrowed(text);
        }
        let Some(values) = self.matcher() else { return Cow::Borrowed(text) };
        let mut out = String::new();
        let mut at = 0;
        for found in values.find_iter(text) {
            if !stands_alone(text, found.start(), found.end()) {
                continue;
            }
            out.push_str(&text[at..found.start()]);
            out.extend(std::iter::repeat_n('*', text[found.range()].chars().count()));
            at = found.end();
        }
        if at == 0 {
            return Cow::Borrowed(text);
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// The run's files with every secret masked, for a report; the messages of `diagnostics`
    /// (and their labels) and of `problems` are scrubbed on the way.
    ///
    /// A masked character becomes a mask character of the same UTF-8 length (`*` for ASCII),
    /// and whitespace stays, so every offset, line and column stays where it was.
    ///
    /// A file is masked when a renderer reads it: a report that quotes no file (JSON, a run
    /// without findings) never copies a 50 MiB manifest, and one that quotes many holds the
    /// masked copies of the last few files it read only ([`MASKED_KEPT`]).
    pub fn mask(&self, sources: &SourceMap, diagnostics: &mut [Diagnostic], problems: &mut [Problem]) -> MaskedSources {
        self.scrub_messages(diagnostics, problems);
        let files: Vec<Arc<SourceFile>> = sources.ids().map(|id| sources.get(id)).collect();
        let ranges = files
            .iter()
            .enumerate()
            .map(|(i, _)| self.ranges.get(&FileId(i as u32)).cloned().unwrap_or_default())
            .collect();
        MaskedSources { files, ranges, recent: Mutex::new(Vec::new()) }
    }

    /// Scrubs the messages of `diagnostics` (and their labels) and of `problems`: for outputs
    /// that show no file text (a baseline, the webhook's answer and log).
    pub fn scrub_messages(&self, diagnostics: &mut [Diagnostic], problems: &mut [Problem]) {
        for diagnostic in diagnostics.iter_mut() {
            self.scrub_in_place(&mut diagnostic.message);
            self.scrub_in_place(&mut diagnostic.primary.message);
            for label in &mut diagnostic.related {
                self.scrub_in_place(&mut label.message);
            }
        }
        for problem in problems.iter_mut() {
            self.scrub_in_place(&mut problem.message);
        }
    }

    /// Scrubs `text` where it is.
    pub fn scrub_in_place(&self, text: &mut String) {
        if let Cow::Owned(scrubbed) = self.scrub(text) {
            *text = scrubbed;
        }
    }
}

/// Whether `text[start..end]` is not part of a longer word or number.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    !text[..start].chars().next_back().is_some_and(word) && !text[end..].chars().next().is_some_and(word)
}

/// The files of a run with their secrets masked: what every report is rendered from. Only
/// [`Secrets::mask`] makes one (or [`MaskedSources::without_secrets`], for runs that read no
/// input).
#[derive(Debug)]
pub struct MaskedSources {
    /// The files as read, by id: only their names, lines and columns are ever handed out.
    files: Vec<Arc<SourceFile>>,
    /// Per file, the secret byte ranges to mask.
    ranges: Vec<Vec<Range<usize>>>,
    /// The masked copies read last, the latest first: renderers go through the findings file
    /// by file, so a few serve nearly every read.
    recent: Mutex<Vec<(FileId, Arc<SourceFile>)>>,
}

impl MaskedSources {
    /// For reports of runs in which no input was read (pack errors, configuration errors): the
    /// files are packs and configuration, which hold no secrets of the checked inputs, and
    /// are masked like any file all the same.
    pub fn without_secrets(sources: &SourceMap, problems: &mut [Problem]) -> Self {
        Secrets::collect(sources, &[], &[]).mask(sources, &mut [], problems)
    }
}

#[cfg(test)]
impl MaskedSources {
    /// The masked files of a report over `diagnostics` (no documents: the text alone and the
    /// findings' masked spans say what is secret).
    pub(crate) fn for_test(sources: &SourceMap, diagnostics: &[Diagnostic]) -> Self {
        Secrets::collect(sources, &[], diagnostics).mask(sources, &mut [], &mut [])
    }
}

impl MaskedSources {
    /// The file behind an id, its secrets masked.
    ///
    /// # Panics
    /// If the id is not one of the run's files.
    pub fn get(&self, id: FileId) -> Arc<SourceFile> {
        let (file, ranges) = (&self.files[id.0 as usize], &self.ranges[id.0 as usize]);
        if ranges.is_empty() {
            return file.clone();
        }
        let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let masked = match recent.iter().position(|(f, _)| *f == id) {
            Some(at) => recent.remove(at).1,
            None => Arc::new(file.with_text(&mask_ranges(&file.text, ranges))),
        };
        recent.insert(0, (id, masked.clone()));
        recent.truncate(MASKED_KEPT);
        masked
    }

    /// The name a file is reported by.
    pub fn name(&self, id: FileId) -> &str {
        &self.files[id.0 as usize].name
    }

    /// Line and column of a byte offset of a file (masking keeps both).
    pub fn line_col(&self, id: FileId, offset: usize) -> crate::source::LineCol {
        self.files[id.0 as usize].line_col(offset)
    }

    /// The text a span covers, masked.
    pub fn slice(&self, span: Span) -> String {
        self.get(span.file).text.get(span.range()).unwrap_or_default().to_owned()
    }
}

/// `text` with `ranges` masked (see [`Secrets::mask`]).
fn mask_ranges(text: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for range in ranges {
        let (start, end) = (floor(text, range.start.min(text.len())), ceil(text, range.end.min(text.len())));
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.extend(text[start..end].chars().map(mask_char));
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The mask of one character: itself for whitespace, else a character of the same UTF-8 length.
fn mask_char(c: char) -> char {
    match c.len_utf8() {
        _ if c.is_whitespace() => c,
        1 => '*',
        2 => '×',
        3 => '∗',
        _ => '\u{1F7B1}',
    }
}

fn floor(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// The containers a walk has been through, by address: an alias shares its anchor's.
type Seen = HashSet<usize, foldhash::fast::RandomState>;

/// Walks a document (without recursion, each shared container once) for secrets by key and
/// by shape.
fn walk(found: &mut Found, text: &str, root: &Node) {
    let mut seen = Seen::default();
    let mut stack: Vec<&Node> = vec![root];
    if root.get("kind").and_then(Node::as_str) == Some("Secret") {
        for key in ["data", "stringData"] {
            if let Some(data) = root.get(key) {
                found.all(text, data, &mut seen);
            }
        }
    }
    while let Some(node) = stack.pop() {
        match &node.value {
            Value::List(items) => {
                if !seen.insert(Arc::as_ptr(items) as *const u8 as usize) {
                    continue;
                }
                for item in items.iter() {
                    stack.push(item);
                }
            }
            Value::Map(entries) => {
                if !seen.insert(Arc::as_ptr(entries) as *const u8 as usize) {
                    continue;
                }
                shaped(found, text, node, &mut seen);
                for entry in entries.iter() {
                    if is_secret_key(&entry.key) {
                        found.all(text, &entry.value, &mut seen);
                    } else {
                        stack.push(&entry.value);
                    }
                }
            }
            Value::String(s) => key_value_string(found, text, node, s),
            _ => {}
        }
    }
}

/// `KEY=value` strings whose key looks secret (compose `environment` lists, arguments).
fn key_value_string(found: &mut Found, text: &str, node: &Node, value: &str) {
    let Some((key, secret)) = value.split_once('=') else { return };
    let key = key.trim().trim_start_matches('-');
    let reference = secret.trim_start().starts_with('$');
    if !key.is_empty()
        && !key.contains(char::is_whitespace)
        && is_secret_key(key)
        && !is_booleanish(secret)
        && !reference
    {
        found.part(text, node, secret.trim());
    }
}

/// Secrets a map holds by its shape rather than by a key: `name`/`value` pairs, Pulumi
/// `secure:` values and envelopes, Terraform's sensitive values.
fn shaped(found: &mut Found, text: &str, map: &Node, seen: &mut Seen) {
    let Some(entries) = map.as_map() else { return };
    // One pass for the keys a shape is made of (the last of equal keys counts, as in `get`).
    let (mut name, mut value, mut secure, mut sensitive, mut attributes, mut sensitive_attributes) =
        (None, None, None, None, None, None);
    let (mut signed, mut mirrors) = (false, false);
    for e in entries.iter() {
        match &*e.key {
            "name" => name = Some(&e.value),
            "value" => value = Some(&e.value),
            "secure" => secure = Some(&e.value),
            "sensitive" => sensitive = Some(&e.value),
            "attributes" => attributes = Some(&e.value),
            "sensitive_attributes" => sensitive_attributes = Some(&e.value),
            "sensitive_values" => mirrors = true,
            PULUMI_SECRET_SIG => signed = true,
            key => mirrors |= key.ends_with("_sensitive"),
        }
    }
    if let (Some(name), Some(value)) = (name.and_then(Node::as_str), value)
        && is_secret_key(name)
    {
        found.all(text, value, seen);
    }
    if let Some(secure) = secure {
        found.all(text, secure, seen);
    }
    if signed {
        for entry in entries.iter().filter(|e| &*e.key != PULUMI_SECRET_SIG) {
            found.all(text, &entry.value, seen);
        }
    }
    if matches!(sensitive.map(|n| &n.value), Some(Value::Bool(true)))
        && let Some(value) = value
    {
        found.all(text, value, seen);
    }
    if let (Some(attributes), Some(paths)) = (attributes, sensitive_attributes.and_then(Node::as_list)) {
        for path in paths {
            // State v4: a list of paths, each a list of steps `{type: get_attr|index, value}`.
            let steps = path.as_list().unwrap_or(std::slice::from_ref(path));
            if let Some(node) = follow(attributes, steps) {
                found.all(text, node, seen);
            }
        }
    }
    if mirrors {
        for entry in entries.iter() {
            let mirrored = match entry.key.strip_suffix("_sensitive") {
                Some(base) => map.get(base),
                None if &*entry.key == "sensitive_values" => map.get("values"),
                None => None,
            };
            if let Some(values) = mirrored {
                sensitive_mirror(found, text, values, &entry.value, seen);
            }
        }
    }
}

/// A Terraform state path (`[{type: get_attr, value: password}, {type: index, value: 0}]`).
fn follow<'n>(mut node: &'n Node, steps: &[Node]) -> Option<&'n Node> {
    for step in steps {
        let value = step.get("value")?;
        node = match (&value.value, &node.value) {
            (Value::String(key), Value::Map(_)) => node.get(key)?,
            (Value::Int(i), Value::List(items)) => items.get(usize::try_from(*i).ok()?)?,
            (Value::String(key), Value::List(items)) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Terraform plan's `after_sensitive` (and `sensitive_values`): the shape of the values, with
/// `true` where a value is sensitive.
fn sensitive_mirror(found: &mut Found, text: &str, values: &Node, mirror: &Node, seen: &mut Seen) {
    let mut stack = vec![(values, mirror)];
    while let Some((values, mirror)) = stack.pop() {
        match (&values.value, &mirror.value) {
            (_, Value::Bool(true)) => found.all(text, values, seen),
            (Value::Map(_), Value::Map(marks)) => {
                for mark in marks.iter() {
                    if let Some(value) = values.get(&mark.key) {
                        stack.push((value, &mark.value));
                    }
                }
            }
            (Value::List(items), Value::List(marks)) => stack.extend(items.iter().zip(marks.iter())),
            _ => {}
        }
    }
}

/// Secrets found in the text itself: credentials in URLs and `user:password@host` strings,
/// `password=` pairs; in a file that was not parsed (`unparsed`), also the values of lines
/// that set a secret-looking key.
fn scan_text(found: &mut Found, file: FileId, text: &str, unparsed: bool) {
    let mut add = |range: Range<usize>| {
        found.value(&text[range.clone()]);
        found.ranges.entry(file).or_default().push(range);
    };
    if text.contains('@') {
        for pattern in [&*CREDENTIAL, &*URL_TOKEN] {
            for captures in pattern.captures_iter(text) {
                if let Some(secret) = captures.get(1) {
                    add(secret.range());
                }
            }
        }
    }
    for captures in DSN_PASSWORD.captures_iter(text) {
        if let Some(secret) = captures.get(1).filter(|m| !is_booleanish(m.as_str()) && !m.as_str().starts_with('$')) {
            add(secret.range());
        }
    }
    if unparsed {
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            if let Some(at) = likely_secret_value(line) {
                let value = line[at..].trim_end_matches(['\n', '\r']);
                let lead = value.len() - value.trim_start().len();
                let value = value.trim();
                if !value.is_empty() {
                    add(start + at + lead..start + at + lead + value.len());
                }
            }
            start += line.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::InputKind;
    use crate::source::SourceFile;

    /// The text of `name` (`yaml`, `json` or `env` by its extension) with its secrets masked.
    fn masked(name: &str, text: &str) -> String {
        let sources = SourceMap::new();
        let file = sources.add(SourceFile::new(name, None, text));
        let text = sources.get(file).text.clone();
        let roots = if name.ends_with(".json") {
            vec![crate::load::load_json(file, &text).unwrap()]
        } else if name.ends_with(".env") {
            vec![crate::load::load_env(file, &text).unwrap()]
        } else {
            crate::load::load_yaml(file, &text).unwrap().into_iter().map(|d| d.root).collect()
        };
        let documents: Vec<Document> = roots
            .into_iter()
            .enumerate()
            .map(|(i, root)| Document::new(file, i, InputKind::Kubernetes, root, None))
            .collect();
        let secrets = Secrets::collect(&sources, &documents, &[]);
        let masked = secrets.mask(&sources, &mut [], &mut []);
        masked.get(file).text.to_string()
    }

    #[test]
    fn values_under_secret_looking_keys_are_masked_but_not_switches_or_references() {
        let text = "\
smtpPassword: hunter2-x
MYSQL_ALLOW_EMPTY_PASSWORD: \"true\"
smtpPasswordEnabled: false
tls: {secretName: api-tls}
PULUMI_API_TOKEN: \"tok-123\"
passwordFile: /run/secrets/pw
DB_PASSWORD: ${DB_PASSWORD}
name: visible
";
        assert_eq!(
            masked("values.yaml", text),
            "\
smtpPassword: *********
MYSQL_ALLOW_EMPTY_PASSWORD: \"true\"
smtpPasswordEnabled: false
tls: {secretName: api-tls}
PULUMI_API_TOKEN: \"*******\"
passwordFile: /run/secrets/pw
DB_PASSWORD: ${DB_PASSWORD}
name: visible
"
        );
    }

    #[test]
    fn secrets_by_shape_are_masked() {
        let text = "\
env:
  - name: AZURE_CLIENT_SECRET
    value: abc-1
  - name: PLAIN
    value: shown
  - API_TOKEN=abc-2
  - MODE=shown
config:
  app:key:
    secure: v1:abc-3
---
kind: Secret
stringData:
  anything: abc-4
";
        let out = masked("deploy.yaml", text);
        for secret in ["abc-1", "abc-2", "abc-3", "abc-4"] {
            assert!(!out.contains(secret), "{secret} shown:\n{out}");
        }
        for shown in ["value: shown", "MODE=shown", "secure: ", "API_TOKEN="] {
            assert!(out.contains(shown), "{shown} hidden:\n{out}");
        }
        assert_eq!(out.len(), text.len());
    }

    #[test]
    fn credentials_in_urls_and_host_port_strings_are_masked() {
        let text = "\
SMTP_SERVER=user:pw-1@smtp.example.net:25
DATABASE=mysql://root:pw-2@db:3306/app
REPO=https://ghp_tok3@github.com/o/r
CONN=Server=db;Password=pw-4;Database=x
SITE=https://example.com:8443/path
";
        assert_eq!(
            masked("api.env", text),
            "\
SMTP_SERVER=user:****@smtp.example.net:25
DATABASE=mysql://root:****@db:3306/app
REPO=https://********@github.com/o/r
CONN=Server=db;Password=****;Database=x
SITE=https://example.com:8443/path
"
        );
    }

    #[test]
    fn terraform_and_pulumi_sensitive_values_are_masked() {
        let text = r#"{
  "outputs": {"dsn": {"sensitive": true, "value": "abc-1"}},
  "resources": [{"instances": [{"attributes": {"blob": "abc-2", "name": "db"},
    "sensitive_attributes": [[{"type": "get_attr", "value": "blob"}]]}]}],
  "change": {"after": {"opaque": "abc-3", "id": "x"}, "after_sensitive": {"opaque": true}},
  "envelope": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": "\"abc-4\""}
}"#;
        let out = masked("state.json", text);
        for secret in ["abc-1", "abc-2", "abc-3", "abc-4"] {
            assert!(!out.contains(secret), "{secret} shown:\n{out}");
        }
        assert!(out.contains(r#""name": "db""#) && out.contains(r#""id": "x""#), "{out}");
    }

    #[test]
    fn masks_keep_lengths_lines_and_columns() {
        let text = "smtpPassword: pässwörd-1\nafter: x\n";
        let sources = SourceMap::new();
        let file = sources.add(SourceFile::new("v.yaml", None, text));
        let root = crate::load::load_yaml(file, text).unwrap().remove(0).root;
        let documents = [Document::new(file, 0, InputKind::HelmValues, root, None)];
        let masked = Secrets::collect(&sources, &documents, &[]).mask(&sources, &mut [], &mut []);
        let out = masked.get(file);
        assert_eq!(out.text.len(), text.len());
        assert!(!out.text.contains("pässwörd"), "{}", out.text);
        let after = text.find("x\n").unwrap();
        assert_eq!(out.line_col(after), sources.get(file).line_col(after));
        assert_eq!(out.line_col(text.len() - 10), sources.get(file).line_col(text.len() - 10));
    }

    #[test]
    fn unparsed_files_mask_lines_that_set_secret_looking_keys() {
        let sources = SourceMap::new();
        let text = "a: [1\nsmtpPassword: hunter2-x\nMYSQL_ALLOW_EMPTY_PASSWORD: yes\n";
        let file = sources.add(SourceFile::new("broken.yaml", None, text));
        let masked = Secrets::collect(&sources, &[], &[]).mask(&sources, &mut [], &mut []);
        assert_eq!(&*masked.get(file).text, "a: [1\nsmtpPassword: *********\nMYSQL_ALLOW_EMPTY_PASSWORD: yes\n");
    }

    /// A report keeps the masked copies of the last files it read only, and masks a file
    /// again when it reads it again.
    #[test]
    fn files_read_again_after_many_others_are_masked_again() {
        let sources = SourceMap::new();
        let files: Vec<FileId> = (0..MASKED_KEPT + 2)
            .map(|i| {
                sources.add(SourceFile::new(format!("{i}.yaml"), None, &format!("a: [1\nsmtpPassword: pw-{i:04}\n")))
            })
            .collect();
        let masked = Secrets::collect(&sources, &[], &[]).mask(&sources, &mut [], &mut []);
        for &file in files.iter().chain(&files) {
            assert_eq!(&*masked.get(file).text, "a: [1\nsmtpPassword: *******\n");
        }
        assert_eq!(masked.recent.lock().unwrap().len(), MASKED_KEPT);
    }

    #[test]
    fn messages_are_scrubbed_of_whole_secret_values_only() {
        let sources = SourceMap::new();
        let file = sources.add(SourceFile::new("a.env", None, "API_TOKEN=tok-123456\nPASSWORD=password\n"));
        let root = crate::load::load_env(file, &sources.get(file).text).unwrap();
        let documents = [Document::new(file, 0, InputKind::Env, root, None)];
        let secrets = Secrets::collect(&sources, &documents, &[]);
        assert_eq!(secrets.scrub("token `tok-123456` is set"), "token `**********` is set");
        assert_eq!(secrets.scrub("xtok-1234567 stays"), "xtok-1234567 stays");
        // A word-like value is masked in the text, not in prose.
        assert_eq!(secrets.scrub("an empty password"), "an empty password");
    }

    /// Found by fuzzing-style input: a 180 KB connection-string password once made building the
    /// message search take minutes (a DFA over a long pattern).
    #[test]
    fn long_and_many_secrets_are_masked_and_scrubbed() {
        let long = format!("k: \"{}\"\n", "password=".repeat(20_000));
        let out = masked("b.yaml", &long);
        assert!(out.starts_with("k: \"****") && !out.contains("password=password"), "{}", &out[..40]);
        assert_eq!(out.len(), long.len());
        let env: String = (0..10_000).map(|i| format!("API_TOKEN_{i}=tok-{i:05}-x\n")).collect();
        let sources = SourceMap::new();
        let file = sources.add(SourceFile::new("a.env", None, &env));
        let root = crate::load::load_env(file, &env).unwrap();
        let secrets = Secrets::collect(&sources, &[Document::new(file, 0, InputKind::Env, root, None)], &[]);
        assert_eq!(secrets.scrub("`tok-09999-x` and tok-00001-x"), "`***********` and ***********");
    }
}

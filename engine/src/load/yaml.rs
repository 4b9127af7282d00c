//! YAML streams → located trees, on top of `saphyr-parser`'s event stream.
//!
//! Schema: the YAML 1.2 *core* schema, deliberately. Plain `yes`, `no`, `on`, `off` and `0755`
//! are the strings `"yes"`, `"no"`, … and the integer 755 — not YAML 1.1 booleans or octal.
//! Quoted scalars are always strings. Rules that compare such values should compare text.
//!
//! Anchors and aliases are resolved: an alias becomes a node whose own span is the alias site
//! (`*labels`) and whose children are the anchored value's, shared, not copied, so they keep
//! the spans of their definition. Merge keys (`<<: *base`, `<<: [*a, *b]`) are applied when
//! their mapping ends; explicit keys win. A key defined twice in one mapping is an error, as
//! in Kubernetes' strict decoding. `saphyr-parser` counts characters; spans are converted to
//! byte offsets here.
//!
//! Hostile streams are bounded: collections nest at most [`MAX_DEPTH`] levels, aliases
//! included, and aliases reach at most [`MAX_ALIAS_EXPANSION`] nodes per file (a "billion
//! laughs" is an error at the alias that exceeds it); see [`crate::limits`].

use super::ParseError;
use super::intern::Interner;
use super::split::document_ranges;
use crate::limits::{MAX_ALIAS_EXPANSION, MAX_DEPTH};
use crate::source::{FileId, Span};
use crate::tree::{Entry, Node, Tag, Value, anchor_items, entry};
use rayon::prelude::*;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

/// One document of a YAML stream.
#[derive(Debug, Clone)]
pub struct YamlDocument {
    /// The document's root value (`Null` for an empty document).
    pub root: Node,
    /// 0-based position of the document in its stream.
    pub index: usize,
    /// The path of a `# Source: <path>` comment heading the document, as `helm template` writes.
    pub helm_source: Option<String>,
}

/// Parses every document of a YAML stream. Empty documents (and documents holding only
/// `null`) are left out, so a stream of a million `---` costs no memory; `index` counts them.
///
/// A long stream is cut before `---` lines into pieces of about [`PIECE`] bytes, parsed in
/// parallel (see [`super::split`]); the documents, their indices, `# Source:` comments and
/// errors are those of parsing it in one piece, which it falls back to when a piece fails.
///
/// # Errors
/// The first syntax error, duplicate key, undefined alias, unrendered template, collection
/// nested deeper than [`MAX_DEPTH`] or alias past the [`MAX_ALIAS_EXPANSION`] budget, located.
pub fn load_yaml(file: FileId, text: &str) -> Result<Vec<YamlDocument>, ParseError> {
    load_in_pieces(file, text, PIECE)
}

/// The size of the pieces a long stream is parsed in, in parallel: large enough that a piece
/// costs far more than handing it to a thread, small enough to keep both cores busy.
const PIECE: usize = 1 << 20;

fn load_in_pieces(file: FileId, text: &str, piece: usize) -> Result<Vec<YamlDocument>, ParseError> {
    let whole = || Loader::new(file, text, 0..text.len()).run().map(|piece| piece.documents);
    let ranges = if text.len() > piece { document_ranges(text, piece) } else { Vec::new() };
    if ranges.len() < 2 {
        return whole();
    }
    let pieces: Vec<Result<Piece, ParseError>> =
        ranges.into_par_iter().map(|range| Loader::new(file, text, range).run()).collect();
    match pieces.into_iter().collect::<Result<Vec<Piece>, ParseError>>() {
        Ok(pieces) if within_alias_budget(&pieces) => Ok(join(text, pieces)),
        // The error (or the alias past the budget) exactly as one pass finds it: a piece cut
        // after a directive, say, fails where the whole stream does not.
        _ => whole(),
    }
}

fn within_alias_budget(pieces: &[Piece]) -> bool {
    pieces.iter().fold(0u64, |sum, piece| sum.saturating_add(piece.expanded)) <= MAX_ALIAS_EXPANSION
}

/// The documents of consecutive pieces, numbered across the stream, each piece's first one
/// with the `# Source:` comment a single pass would find for it: the gap before it starts
/// where the last document of the previous piece ended (after the `---` that a single pass
/// ends that document at, or after its explicit `...`).
fn join(text: &str, pieces: Vec<Piece>) -> Vec<YamlDocument> {
    let mut documents = Vec::with_capacity(pieces.iter().map(|p| p.documents.len()).sum());
    let mut index = 0;
    let mut previous_end: Option<usize> = None;
    for piece in pieces {
        for mut document in piece.documents {
            if document.index == 0
                && let Some(end) = previous_end
            {
                let gap_start = if end == piece.start { (end + 3).min(text.len()) } else { end };
                let content_start = (document.root.span.start as usize).max(gap_start);
                document.helm_source = helm_source(&text[gap_start..content_start]);
            }
            document.index += index;
            documents.push(document);
        }
        index += piece.count;
        previous_end = Some(piece.end);
    }
    documents
}

/// What parsing one piece of a stream gave.
struct Piece {
    documents: Vec<YamlDocument>,
    /// Documents in the piece, empty ones included.
    count: usize,
    /// Where the piece starts in the stream.
    start: usize,
    /// Where its last document ended (its start when it has none).
    end: usize,
    /// Nodes reached through aliases.
    expanded: u64,
}

/// Maps saphyr's character indices to byte offsets.
enum CharToByte {
    Ascii,
    Table(Vec<u32>),
}

impl CharToByte {
    fn new(text: &str) -> Self {
        if text.is_ascii() {
            return Self::Ascii;
        }
        let mut table: Vec<u32> = text.char_indices().map(|(i, _)| i as u32).collect();
        table.push(text.len() as u32);
        Self::Table(table)
    }

    fn byte(&self, char_index: usize) -> usize {
        match self {
            Self::Ascii => char_index,
            Self::Table(table) => table.get(char_index).copied().unwrap_or(*table.last().unwrap_or(&0)) as usize,
        }
    }
}

/// What a subtree costs to walk: its nodes, counted through aliases, and its height (the
/// collections nested in it, itself included; 0 for a scalar).
#[derive(Clone, Copy, Debug, Default)]
struct Weight {
    nodes: u64,
    height: usize,
}

impl Weight {
    const SCALAR: Self = Self { nodes: 1, height: 0 };

    /// Adds a child's weight to its collection's.
    fn add_child(&mut self, child: Weight) {
        self.nodes = self.nodes.saturating_add(child.nodes);
        self.height = self.height.max(child.height + 1);
    }
}

/// A mapping with more entries than this indexes its keys to find duplicates; a smaller one
/// (nearly all of them) compares the few keys it has.
const INDEXED_KEYS: usize = 16;

/// A collection being built. Its children are the tail of the loader's `items` (or
/// `entries`) from `first` on, so building one allocates exactly its own vector, once.
enum Frame {
    Seq {
        start: usize,
        anchor: usize,
        first: usize,
        weight: Weight,
    },
    Map {
        start: usize,
        anchor: usize,
        first: usize,
        /// The keys of the entries, once there are more than [`INDEXED_KEYS`].
        keys: Option<HashSet<Arc<str>>>,
        key: Option<Node>,
        merges: Vec<Node>,
        weight: Weight,
    },
}

struct Loader<'a> {
    file: FileId,
    /// The whole stream; every span and offset is into it.
    text: &'a str,
    /// The part of `text` this loader parses.
    range: Range<usize>,
    /// Character indices of `range` to byte offsets from its start.
    offsets: CharToByte,
    anchors: HashMap<usize, (Node, Weight)>,
    stack: Vec<Frame>,
    /// The items of the sequences being built, innermost last.
    items: Vec<Node>,
    /// The entries of the mappings being built, innermost last.
    entries: Vec<Entry>,
    strings: Interner,
    /// Nodes reached through aliases so far.
    expanded: u64,
}

impl<'a> Loader<'a> {
    fn new(file: FileId, text: &'a str, range: Range<usize>) -> Self {
        Self {
            file,
            text,
            offsets: CharToByte::new(&text[range.clone()]),
            range,
            anchors: HashMap::new(),
            stack: Vec::new(),
            items: Vec::new(),
            entries: Vec::new(),
            strings: Interner::default(),
            expanded: 0,
        }
    }

    fn offset(&self, char_index: usize) -> usize {
        self.range.start + self.offsets.byte(char_index)
    }

    fn span(&self, span: saphyr_parser::Span) -> Span {
        Span::new(self.file, self.offset(span.start.index()), self.offset(span.end.index()))
    }

    fn scan_error(&self, error: &ScanError) -> ParseError {
        let at = self.offset(error.marker().index()).min(self.text.len());
        let end = self.text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
        let span = Span::new(self.file, at, end);
        // saphyr's own limit: 255 nested flow collections, which is `MAX_DEPTH`.
        if error.info() == "recursion limit exceeded" {
            return too_deep(span);
        }
        if let Some(template) = self.template_on_line(at) {
            return helm_template_error(template);
        }
        ParseError::new(span, format!("invalid YAML: {}", error.info()))
    }

    /// The span of a `{{ … }}` on the line holding `offset`, if there is one: YAML that fails
    /// there is an unrendered Go template, and should be reported as one.
    fn template_on_line(&self, offset: usize) -> Option<Span> {
        let line = line_bounds(self.text, offset);
        let text = &self.text[line.clone()];
        let open = text.find("{{")?;
        let close = text[open..].find("}}").map_or(text.len(), |c| open + c + 2);
        Some(Span::new(self.file, line.start + open, line.start + close))
    }

    fn run(mut self) -> Result<Piece, ParseError> {
        let mut parser = Parser::new_from_str(&self.text[self.range.clone()]);
        let mut documents = Vec::new();
        let mut index = 0;
        let mut root: Option<Node> = None;
        let mut doc_start = self.range.start;
        let mut previous_end = self.range.start;
        while let Some(event) = parser.next_event() {
            let (event, raw_span) = event.map_err(|e| self.scan_error(&e))?;
            let span = self.span(raw_span);
            match event {
                Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
                Event::DocumentStart(_) => {
                    self.anchors.clear();
                    doc_start = span.start as usize;
                    root = None;
                }
                Event::DocumentEnd => {
                    let root_node = root
                        .take()
                        .unwrap_or_else(|| Node::new(Value::Null, Span::new(self.file, doc_start, doc_start)));
                    let content_start = (root_node.span.start as usize).max(previous_end);
                    let helm_source = helm_source(&self.text[previous_end..content_start.max(previous_end)]);
                    previous_end = (span.end as usize).max(root_node.span.end as usize).min(self.text.len());
                    if root_node.value != Value::Null {
                        documents.push(YamlDocument { root: root_node, index, helm_source });
                    }
                    index += 1;
                }
                Event::Alias(id) => {
                    let (mut node, weight) = self.alias(id, span)?;
                    node.span = span;
                    node.key_span = None;
                    self.push_value(node, weight, &mut root)?;
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let node = self.scalar(&value, style, tag.as_deref(), span);
                    if anchor > 0 {
                        self.anchors.insert(anchor, (node.clone(), Weight::SCALAR));
                    }
                    self.push_value(node, Weight::SCALAR, &mut root)?;
                }
                Event::SequenceStart(anchor, _) => {
                    self.enter(span)?;
                    let weight = Weight { nodes: 1, height: 1 };
                    let first = self.items.len();
                    self.stack.push(Frame::Seq { start: span.start as usize, anchor, first, weight });
                }
                Event::MappingStart(anchor, _) => {
                    self.enter(span)?;
                    self.stack.push(Frame::Map {
                        start: span.start as usize,
                        anchor,
                        first: self.entries.len(),
                        keys: None,
                        key: None,
                        merges: Vec::new(),
                        weight: Weight { nodes: 1, height: 1 },
                    });
                }
                Event::SequenceEnd => {
                    let Some(Frame::Seq { start, anchor, first, weight }) = self.stack.pop() else {
                        return Err(ParseError::new(span, "invalid YAML: unbalanced sequence"));
                    };
                    let mut items: Vec<Node> = self.items.drain(first..).collect();
                    let end =
                        items.last().map_or(span.end as usize, |n| n.span.end as usize).max(self.flow_end(start, span));
                    anchor_items(&mut items);
                    let node = Node::list(items, Span::new(self.file, start, end));
                    if anchor > 0 {
                        self.anchors.insert(anchor, (node.clone(), weight));
                    }
                    self.push_value(node, weight, &mut root)?;
                }
                Event::MappingEnd => {
                    let Some(Frame::Map { start, anchor, first, merges, weight, .. }) = self.stack.pop() else {
                        return Err(ParseError::new(span, "invalid YAML: unbalanced mapping"));
                    };
                    let mut entries: Vec<Entry> = self.entries.drain(first..).collect();
                    if !merges.is_empty() {
                        apply_merges(&mut entries, merges);
                        entries.shrink_to_fit();
                    }
                    let end = entries
                        .iter()
                        .map(|e| e.value.span.end as usize)
                        .max()
                        .unwrap_or(span.end as usize)
                        .max(self.flow_end(start, span));
                    let node = Node::map(entries, Span::new(self.file, start, end));
                    if anchor > 0 {
                        self.anchors.insert(anchor, (node.clone(), weight));
                    }
                    self.push_value(node, weight, &mut root)?;
                }
            }
        }
        Ok(Piece { documents, count: index, start: self.range.start, end: previous_end, expanded: self.expanded })
    }

    /// Checks that a collection starting at `span` is not nested too deep.
    fn enter(&self, span: Span) -> Result<(), ParseError> {
        if self.stack.len() >= MAX_DEPTH {
            let end = self.text[span.start as usize..]
                .chars()
                .next()
                .map_or(span.start as usize, |c| span.start as usize + c.len_utf8());
            return Err(too_deep(Span::new(self.file, span.start as usize, end)));
        }
        Ok(())
    }

    /// The value of alias `id` at `span`, shared with its anchor, and its weight; charged to
    /// the file's alias budget.
    fn alias(&mut self, id: usize, span: Span) -> Result<(Node, Weight), ParseError> {
        let (node, weight) =
            self.anchors.get(&id).ok_or_else(|| ParseError::new(span, "alias refers to an undefined anchor"))?;
        let name = self.text.get(span.range()).unwrap_or("*");
        if self.stack.len() + weight.height > MAX_DEPTH {
            return Err(ParseError::new(
                span,
                format!(
                    "alias `{name}` nests its value more than {MAX_DEPTH} levels deep (celador reads at most {MAX_DEPTH} levels of nested collections)"
                ),
            ));
        }
        self.expanded = self.expanded.saturating_add(weight.nodes);
        if self.expanded > MAX_ALIAS_EXPANSION {
            return Err(ParseError::new(
                span,
                format!(
                    "alias `{name}` takes the nodes reached through aliases in this file past {MAX_ALIAS_EXPANSION} (it repeats {} nodes); an alias bomb?",
                    weight.nodes
                ),
            ));
        }
        Ok((node.clone(), *weight))
    }

    /// For flow collections (`[…]`, `{…}`) the end event sits on the closing bracket; block
    /// collections end at their last child instead.
    fn flow_end(&self, start: usize, end_event: Span) -> usize {
        match self.text.as_bytes().get(start) {
            Some(b'[' | b'{') => end_event.end as usize,
            _ => start,
        }
    }

    fn push_value(&mut self, node: Node, node_weight: Weight, root: &mut Option<Node>) -> Result<(), ParseError> {
        let Some(frame) = self.stack.last_mut() else {
            *root = Some(node);
            return Ok(());
        };
        let (first, keys, key, merges, weight) = match frame {
            Frame::Seq { weight, .. } => {
                weight.add_child(node_weight);
                self.items.push(node);
                return Ok(());
            }
            Frame::Map { first, keys, key, merges, weight, .. } => (*first, keys, key, merges, weight),
        };
        let Some(key_node) = key.take() else {
            if matches!(node.value, Value::Map(_) | Value::List(_)) {
                return Err(self.complex_key(&node));
            }
            *key = Some(node);
            return Ok(());
        };
        let name: Arc<str> = match &key_node.value {
            Value::String(s) => s.clone(),
            Value::Null => self.strings.intern(""),
            _ => self.strings.intern(&self.text[key_node.span.range()]),
        };
        weight.add_child(node_weight);
        if &*name == "<<" && key_node.tag == Tag::None && matches!(node.value, Value::Map(_) | Value::List(_)) {
            merges.push(node);
            return Ok(());
        }
        // `key:` with no value is null; point at the key rather than at an empty span after
        // the colon.
        let mut node = node;
        if node.value == Value::Null && node.span.is_empty() {
            node.span = key_node.span;
        }
        let defined = &self.entries[first..];
        let duplicate = match keys {
            Some(keys) => !keys.insert(name.clone()),
            None => {
                let duplicate = defined.iter().any(|e| e.key == name);
                if !duplicate && defined.len() >= INDEXED_KEYS {
                    *keys = Some(defined.iter().map(|e| e.key.clone()).chain([name.clone()]).collect());
                }
                duplicate
            }
        };
        if duplicate && let Some(earlier) = defined.iter().find(|e| e.key == name) {
            let line = line_of(self.text, earlier.value.anchor_span().start as usize);
            return Err(ParseError::new(
                key_node.span,
                format!("duplicate key `{name}` (first defined on line {line})"),
            ));
        }
        self.entries.push(entry(name, Some(key_node.span), node));
        Ok(())
    }

    fn complex_key(&self, node: &Node) -> ParseError {
        match self.template_on_line(node.span.start as usize) {
            Some(template) => helm_template_error(template),
            None => ParseError::new(node.span, "mappings and sequences as mapping keys are not supported"),
        }
    }

    fn scalar(&mut self, value: &str, style: ScalarStyle, tag: Option<&saphyr_parser::Tag>, span: Span) -> Node {
        let explicit = tag.filter(|t| t.handle == "tag:yaml.org,2002:" || t.handle == "!!").map(|t| t.suffix.as_str());
        let resolved = match (style, explicit) {
            (_, Some("str")) => Value::String(self.strings.intern(value)),
            (ScalarStyle::Plain, _) => resolve_plain(value, &mut self.strings),
            _ => Value::String(self.strings.intern(value)),
        };
        let mut node = Node::new(resolved, span);
        if let Value::String(s) = &node.value
            && s.contains("${")
        {
            node.tag = Tag::Interpolation;
        }
        node
    }
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
fn resolve_plain(value: &str, strings: &mut Interner) -> Value {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<i64>().map_or_else(|_| Value::String(strings.intern(value)), Value::Int);
    }
    if let Some(hex) = value.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Int(i);
    }
    if let Some(octal) = value.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(octal, 8)
    {
        return Value::Int(i);
    }
    if is_core_float(digits)
        && let Ok(f) = value.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::String(strings.intern(value))
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` without the sign.
fn is_core_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            !(int.is_empty() && frac.is_empty()) && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

/// Adds the entries of merged mappings that the mapping does not define itself. Earlier
/// sources in `<<: [*a, *b]` win over later ones, as the merge-key spec says.
fn apply_merges(entries: &mut Vec<Entry>, merges: Vec<Node>) {
    let mut keys: HashSet<Arc<str>> = entries.iter().map(|e| e.key.clone()).collect();
    for merge in merges {
        let sources: Vec<Node> = match &merge.value {
            Value::List(items) => items.to_vec(),
            _ => vec![merge],
        };
        for source in sources {
            if let Value::Map(merged) = &source.value {
                for e in merged.iter() {
                    if keys.insert(e.key.clone()) {
                        entries.push(e.clone());
                    }
                }
            }
        }
    }
}

fn too_deep(span: Span) -> ParseError {
    ParseError::new(
        span,
        format!("collections nested more than {MAX_DEPTH} levels deep (celador reads at most {MAX_DEPTH} levels)"),
    )
}

fn helm_template_error(span: Span) -> ParseError {
    ParseError::new(
        span,
        "this looks like an unrendered Helm template (`{{ … }}`); run `helm template` and check its output instead",
    )
}

fn helm_source(gap: &str) -> Option<String> {
    gap.lines().rev().find_map(|line| line.trim().strip_prefix("# Source:").map(|s| s.trim().to_owned()))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

fn line_bounds(text: &str, offset: usize) -> std::ops::Range<usize> {
    let start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{LineCol, SourceFile};

    fn load(text: &str) -> Vec<YamlDocument> {
        load_yaml(FileId(0), text).unwrap()
    }

    fn at(text: &str, span: Span) -> (usize, usize) {
        let LineCol { line, column } = SourceFile::new("t", None, text).line_col(span.start as usize);
        (line, column)
    }

    #[test]
    fn keys_scalars_and_sequence_items_are_located() {
        let text = "apiVersion: v1\nspec:\n  containers:\n  - name: api\n    image: pulumi/service:latest\n  - name: console\n";
        let docs = load(text);
        let root = &docs[0].root;
        let containers = root.path(&["spec", "containers"]).unwrap();
        assert_eq!(at(text, containers.key_span.unwrap()), (3, 3));
        let items = containers.as_list().unwrap();
        assert_eq!(at(text, items[1].span), (6, 5));
        let image = items[0].get("image").unwrap();
        assert_eq!(&text[image.span.range()], "pulumi/service:latest");
        assert_eq!(at(text, image.span), (5, 12));
        assert_eq!(at(text, image.key_span.unwrap()), (5, 5));
    }

    #[test]
    fn core_schema_keeps_yaml_11_words_as_strings() {
        let docs =
            load("a: yes\nb: off\nc: 0755\nd: 0x1F\ne: 1.5\nf: ~\ng: \"true\"\nh: true\ni: 99999999999999999999\n");
        let root = &docs[0].root;
        assert_eq!(root.get("a").unwrap().value, Value::String("yes".into()));
        assert_eq!(root.get("b").unwrap().value, Value::String("off".into()));
        assert_eq!(root.get("c").unwrap().value, Value::Int(755));
        assert_eq!(root.get("d").unwrap().value, Value::Int(31));
        assert_eq!(root.get("e").unwrap().value, Value::Float(1.5));
        assert_eq!(root.get("f").unwrap().value, Value::Null);
        assert_eq!(root.get("g").unwrap().value, Value::String("true".into()));
        assert_eq!(root.get("h").unwrap().value, Value::Bool(true));
        assert_eq!(root.get("i").unwrap().value, Value::String("99999999999999999999".into()));
    }

    #[test]
    fn aliases_point_at_the_alias_site_and_merge_keys_apply() {
        let text = "base: &b\n  x: 1\n  y: 2\nlabels: &l {app: api}\nsel: *l\nderived:\n  <<: *b\n  y: 3\n";
        let root = &load(text)[0].root;
        let sel = root.get("sel").unwrap();
        assert_eq!(&text[sel.span.range()], "*l");
        assert_eq!(at(text, sel.span), (5, 6));
        let app = sel.get("app").unwrap();
        assert_eq!(at(text, app.span), (4, 18));
        let derived = root.get("derived").unwrap();
        assert_eq!(derived.get("y").unwrap().value, Value::Int(3));
        let x = derived.get("x").unwrap();
        assert_eq!(x.value, Value::Int(1));
        assert_eq!(at(text, x.span), (2, 6));
    }

    #[test]
    fn multi_document_offsets_and_helm_sources() {
        let text = "---\n# Source: chart/templates/a.yaml\nkind: A\n---\n# Source: chart/templates/b.yaml\nkind: B\nname: ünï\nx: y\n";
        let docs = load(text);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].helm_source.as_deref(), Some("chart/templates/a.yaml"));
        assert_eq!(docs[1].helm_source.as_deref(), Some("chart/templates/b.yaml"));
        let x = docs[1].root.get("x").unwrap();
        assert_eq!(at(text, x.span), (8, 4));
        assert_eq!(docs[1].index, 1);
    }

    #[test]
    fn crlf_bom_and_non_ascii_before_the_value() {
        let file = SourceFile::new("t", None, "\u{feff}név: \"ünïcødé\"\r\nport: 8080\r\n");
        let docs = load_yaml(FileId(0), &file.text).unwrap();
        let port = docs[0].root.get("port").unwrap();
        assert_eq!(&file.text[port.span.range()], "8080");
        assert_eq!(file.line_col(port.span.start as usize), LineCol { line: 2, column: 7 });
        let name = docs[0].root.get("név").unwrap();
        assert_eq!(file.line_col(name.span.start as usize), LineCol { line: 1, column: 6 });
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let text = "a: 1\nb: 2\na: 3\n";
        let err = load_yaml(FileId(0), text).unwrap_err();
        assert_eq!(at(text, err.span), (3, 1));
        assert!(err.message.contains("duplicate key `a` (first defined on line 1)"), "{}", err.message);
    }

    #[test]
    fn syntax_errors_are_located() {
        let text = "a: [1, 2\nb: c\n";
        let err = load_yaml(FileId(0), text).unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
        let text = "a: b\n  c: d\n";
        let err = load_yaml(FileId(0), text).unwrap_err();
        assert_eq!(at(text, err.span).0, 2);
    }

    #[test]
    fn unrendered_helm_templates_get_a_targeted_message() {
        let err = load_yaml(FileId(0), "image: {{ .Values.image }}\n").unwrap_err();
        assert!(err.message.contains("unrendered Helm template"), "{}", err.message);
    }

    #[test]
    fn aliases_share_the_anchored_value_instead_of_copying_it() {
        let text = "base: &b {x: [1, 2]}\nsel: *b\nlist:\n- *b\n- {name: y}\n";
        let root = &load(text)[0].root;
        let (Value::Map(base), Value::Map(sel)) = (&root.get("base").unwrap().value, &root.get("sel").unwrap().value)
        else {
            panic!("maps expected")
        };
        assert!(Arc::ptr_eq(base, sel), "the alias shares the anchor's entries");
        // Sequence items are anchored at their first line as they are built, aliases included.
        let items = root.get("list").unwrap().as_list().unwrap();
        assert_eq!(&text[items[0].key_span.unwrap().range()], "x");
        assert_eq!(&text[items[1].key_span.unwrap().range()], "name: y");
    }

    /// The "billion laughs": ten aliases of ten aliases of … would be 10⁸ nodes.
    #[test]
    fn an_alias_bomb_is_an_error_at_the_alias_past_the_budget() {
        let mut text = String::from("a0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
        for i in 1..8 {
            let refs = vec![format!("*a{}", i - 1); 10].join(",");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        text.push_str("data: *a7\n");
        let err = load_yaml(FileId(0), &text).unwrap_err();
        assert!(err.message.contains("alias `*a4`") && err.message.contains("1000000"), "{}", err.message);
        // The alias that crosses the budget: 10 + 110 + 1,110 + 11,110 + 111,110 + 9 × 111,111 nodes.
        assert_eq!(at(&text, err.span), (6, 38));
        assert_eq!(&text[err.span.range()], "*a4");
    }

    #[test]
    fn aliases_within_the_budget_load() {
        let mut text = String::from("a0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
        for i in 1..5 {
            let refs = vec![format!("*a{}", i - 1); 10].join(",");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let root = &load(&text)[0].root;
        assert_eq!(root.get("a4").unwrap().as_list().unwrap().len(), 10);
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_an_error_in_every_style() {
        let block = format!("data:\n{}x\n", "- ".repeat(150_000));
        let err = load_yaml(FileId(0), &block).unwrap_err();
        assert!(err.message.contains("nested more than 255 levels"), "{}", err.message);
        // The root mapping is level 1: the 255th `- ` opens level 256.
        assert_eq!(at(&block, err.span), (2, 2 * 254 + 1));
        let flow = format!("data: {}\n", "[".repeat(100_000));
        let err = load_yaml(FileId(0), &flow).unwrap_err();
        assert!(err.message.contains("nested more than 255 levels"), "{}", err.message);
        let flow_maps = format!("data: {}\n", "{a: ".repeat(100_000));
        assert!(load_yaml(FileId(0), &flow_maps).unwrap_err().message.contains("nested more than 255 levels"));
        // 255 levels are fine.
        let ok = format!("{}x{}\n", "[".repeat(255), "]".repeat(255));
        assert!(load_yaml(FileId(0), &ok).is_ok());
    }

    #[test]
    fn aliases_cannot_nest_deeper_than_the_text_could() {
        let deep = |n: usize, inner: &str| format!("{}{inner}{}", "[".repeat(n), "]".repeat(n));
        let text = format!("a: &a {}\nb: {}\n", deep(200, "x"), deep(200, "*a"));
        let err = load_yaml(FileId(0), &text).unwrap_err();
        assert!(err.message.contains("alias `*a` nests its value more than 255 levels"), "{}", err.message);
        assert_eq!(&text[err.span.range()], "*a");
    }

    /// 100,000 keys, half of them merged in: quadratic merging would take minutes here (its
    /// time is measured by `cargo bench --bench load`, not asserted: tests assert no timings).
    #[test]
    fn many_keys_and_merges_load() {
        let mut text = String::from("base: &b {");
        text.push_str(&(0..50_000).map(|i| format!("k{i}: {i}")).collect::<Vec<_>>().join(", "));
        text.push_str("}\nderived:\n  <<: *b\n");
        for i in 0..50_000 {
            text.push_str(&format!("  d{i}: {i}\n"));
        }
        let root = &load(&text)[0].root;
        let derived = root.get("derived").unwrap().as_map().unwrap();
        assert_eq!(derived.len(), 100_000);
        assert_eq!(root.path(&["derived", "k49999"]).and_then(Node::scalar_text).as_deref(), Some("49999"));
    }

    #[test]
    fn empty_documents_are_left_out_but_counted() {
        let docs = load(&format!("{}kind: A\n---\n--- null\n---\nkind: B\n", "---\n".repeat(100_000)));
        let kinds: Vec<(usize, Option<&str>)> =
            docs.iter().map(|d| (d.index, d.root.get("kind").and_then(Node::as_str))).collect();
        assert_eq!(kinds, [(99_999, Some("A")), (100_002, Some("B"))]);
    }

    /// What parsing `text` in pieces cut before every `---` line gives, beside one pass.
    fn in_pieces_and_whole(
        text: &str,
    ) -> (Result<Vec<YamlDocument>, ParseError>, Result<Vec<YamlDocument>, ParseError>) {
        let whole = Loader::new(FileId(0), text, 0..text.len()).run().map(|piece| piece.documents);
        (load_in_pieces(FileId(0), text, 1), whole)
    }

    fn outline(docs: &Result<Vec<YamlDocument>, ParseError>) -> String {
        match docs {
            Ok(docs) => docs.iter().map(|d| format!("{} {:?} {:?}\n", d.index, d.helm_source, d.root)).collect(),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn pieces_parse_like_one_pass() {
        let cases = [
            "# Source: c/a.yaml\nkind: A\n---\n# Source: c/b.yaml\nkind: B\n---\n---\nkind: C\n",
            "kind: A\n# Source: c/after-a.yaml\n---\nkind: B\n",
            "kind: A\n...\n# Source: c/between.yaml\n---\nkind: B\n",
            "kind: A\n...\n---\nkind: B\n--- # Source: c/on-the-marker.yaml\nkind: C\n",
            "# only a comment\n---\nkind: A\n---\n",
            "a: &x {k: v}\nb: *x\n---\nc: &x [1]\nd: *x\n<<: {m: 1}\n",
            "text: |\n  one\n---\nnon-ascii: \"ünï\"\nnext: 1\n--- |\nliteral at the root\n---\nx: y\n",
            "a: 1\n%YAML 1.2\n---\nb: 2\n",
            "a: \"open\n---\nb: 2\n",
            "a: [1,\n---\nb: 2\n",
            "a: 1\n---\nb: *undefined\n",
            "a: 1\n---\nb: 1\nb: 2\n",
            "a: 1\r\n---\r\nb: 2\r\n---\tc\n---x: 3\n",
        ];
        for text in cases {
            let (pieces, whole) = in_pieces_and_whole(text);
            assert_eq!(outline(&pieces), outline(&whole), "{text:?}");
        }
    }

    /// Every YAML file of the repository's packs, fixtures and examples parses the same in
    /// pieces as in one pass.
    #[test]
    fn the_repository_s_yaml_parses_in_pieces_like_one_pass() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut pending: Vec<std::path::PathBuf> =
            ["rules", "examples", "tests"].iter().map(|d| root.join(d)).collect();
        let mut seen = 0;
        while let Some(path) = pending.pop() {
            if path.is_dir() {
                pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                let (pieces, whole) = in_pieces_and_whole(&text);
                assert_eq!(outline(&pieces), outline(&whole), "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen > 100, "only {seen} YAML files found");
    }

    #[test]
    fn the_alias_budget_counts_every_piece() {
        let mut text = String::from("a0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
        for i in 1..5 {
            let refs = vec![format!("*a{}", i - 1); 10].join(",");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        // Each document reaches 123,440 nodes through aliases, 9 of them past the budget.
        assert!(load_yaml(FileId(0), &vec![text.clone(); 8].join("---\n")).is_ok());
        let stream = vec![text; 9].join("---\n");
        let (pieces, whole) = in_pieces_and_whole(&stream);
        assert!(whole.as_ref().is_err_and(|e| e.message.contains("alias `*a3`")), "{}", outline(&whole));
        assert_eq!(outline(&pieces), outline(&whole));
    }

    #[test]
    fn odd_inputs_never_panic() {
        for text in [
            "",
            "-",
            ":",
            "---\n...\n",
            "*x",
            "&a [*a]",
            "{",
            "[",
            "? [a]\n: b",
            "a: &x\nb: *x",
            "\t- a",
            "'",
            "a: |\n  x\n b",
        ] {
            let _ = load_yaml(FileId(0), text);
        }
    }
}

//! Strict JSON → located [`Node`] tree.
//!
//! Parsing is delegated to `jsonc-parser` with every leniency switched off, so comments,
//! trailing commas, single quotes and the like are errors, as they are for the tools that
//! consume these files. The parser's AST keeps byte ranges, which become [`Span`]s directly.

use std::collections::HashMap;

use jsonc_parser::ast::{self, ObjectPropName};
use jsonc_parser::common::Range;
use jsonc_parser::errors::ParseErrorKind;
use jsonc_parser::{CollectOptions, ParseOptions, ParseStringErrorKind, parse_to_ast};

use super::ParseError;
use super::intern::Interner;
use crate::limits::MAX_DEPTH;
use crate::source::{FileId, Span};
use crate::tree::{Entry, Node, Tag, Value, anchor_items, entry, map_node};

/// Parses `text` as one strict JSON document.
///
/// Every node gets the span of its value (strings include their quotes) and entry values get
/// the span of their key token as `key_span`. Integers that fit `i64` become [`Value::Int`];
/// integer literals beyond `i64`, and numbers that overflow `f64`, are kept as their source
/// text with [`Tag::BigNumber`] so no precision is lost silently.
///
/// # Errors
/// The first syntax error, a duplicate key, a raw control character inside a string, an
/// empty document, or arrays and objects nested more than [`MAX_DEPTH`] levels deep, each
/// located in `text`.
pub fn load_json(file: FileId, text: &str) -> Result<Node, ParseError> {
    let mut loader = Loader { file, text, strings: Interner::default() };
    let parsed = parse_to_ast(text, &CollectOptions::default(), &strict_options())
        .map_err(|err| loader.error(err.range(), message_for(err.kind())))?;
    match parsed.value {
        Some(value) => loader.value(&value, 1),
        None => Err(ParseError::new(Span::new(file, 0, 0), "empty JSON document")),
    }
}

/// Parser options that accept standard JSON (RFC 8259) only.
fn strict_options() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// A one-sentence, lower-case message for a parser error, without its position.
fn message_for(kind: &ParseErrorKind) -> String {
    match kind {
        // The parser's own text for this one is two sentences.
        ParseErrorKind::String(ParseStringErrorKind::InvalidUnicodeEscapeSequence(detail)) => {
            let (code, reason) = detail.split_at(detail.find(" (").unwrap_or(detail.len()));
            format!("invalid unicode escape sequence `\\u{code}`{reason}")
        }
        // The parser's own limit (512 levels); ours is lower, but the message is the same.
        ParseErrorKind::NestingDepthExceeded => too_deep(),
        ParseErrorKind::MultipleRootJsonValues => {
            "unexpected text after the JSON value (a document holds exactly one value)".to_owned()
        }
        other => lowercase_first(&other.to_string()),
    }
}

fn too_deep() -> String {
    format!("arrays and objects nested more than {MAX_DEPTH} levels deep (celador reads at most {MAX_DEPTH} levels)")
}

/// `text` with its first character lower-cased, to match the style of our own messages.
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_lowercase().chain(chars).collect())
}

/// The 1-based line of a byte offset, for messages that mention another location.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes().iter().take(offset).filter(|&&b| b == b'\n').count() + 1
}

/// Converts AST values to nodes; holds what every conversion needs.
struct Loader<'t> {
    file: FileId,
    text: &'t str,
    /// Keys and short strings, shared (a state file repeats `type`, `value`, `arn`…).
    strings: Interner,
}

/// An object with more properties than this indexes its keys to find duplicates; a smaller
/// one (nearly all of them) compares the few keys it has.
const INDEXED_KEYS: usize = 16;

impl Loader<'_> {
    fn span(&self, range: Range) -> Span {
        Span::new(self.file, range.start, range.end)
    }

    fn error(&self, range: Range, message: impl Into<String>) -> ParseError {
        ParseError::new(self.span(range), message)
    }

    /// Converts `value`, a collection at nesting level `depth` (1 for the root) if it is one.
    fn value(&mut self, value: &ast::Value<'_>, depth: usize) -> Result<Node, ParseError> {
        if let ast::Value::Array(ast::Array { range, .. }) | ast::Value::Object(ast::Object { range, .. }) = value
            && depth > MAX_DEPTH
        {
            return Err(self.error(Range::new(range.start, range.start + 1), too_deep()));
        }
        Ok(match value {
            ast::Value::NullKeyword(null) => Node::new(Value::Null, self.span(null.range)),
            ast::Value::BooleanLit(b) => Node::new(Value::Bool(b.value), self.span(b.range)),
            ast::Value::NumberLit(n) => self.number(n.value, n.range),
            ast::Value::StringLit(s) => {
                self.check_control_chars(s.range)?;
                Node::string(self.strings.intern(&s.value), self.span(s.range))
            }
            ast::Value::Array(array) => {
                let mut items: Vec<Node> =
                    array.elements.iter().map(|item| self.value(item, depth + 1)).collect::<Result<_, _>>()?;
                anchor_items(&mut items);
                Node::list(items, self.span(array.range))
            }
            ast::Value::Object(object) => self.object(object, depth)?,
        })
    }

    /// Builds a mapping, rejecting a key that appears twice in the same object: most JSON
    /// consumers silently keep the last one, which hides mistakes.
    fn object(&mut self, object: &ast::Object<'_>, depth: usize) -> Result<Node, ParseError> {
        let mut first_seen: Option<HashMap<&str, usize>> = (object.properties.len() > INDEXED_KEYS).then(HashMap::new);
        let mut entries: Vec<Entry> = Vec::with_capacity(object.properties.len());
        for prop in &object.properties {
            let (key, key_range) = match &prop.name {
                ObjectPropName::String(lit) => {
                    self.check_control_chars(lit.range)?;
                    (lit.value.as_ref(), lit.range)
                }
                ObjectPropName::Word(word) => (word.value, word.range),
            };
            let earlier = match &mut first_seen {
                Some(first_seen) => first_seen.insert(key, key_range.start),
                None => {
                    entries.iter().find(|e| &*e.key == key).and_then(|e| e.value.key_span).map(|s| s.start as usize)
                }
            };
            if let Some(first) = earlier {
                let line = line_of(self.text, first);
                return Err(self.error(key_range, format!("duplicate key `{key}` (first defined on line {line})")));
            }
            let value = self.value(&prop.value, depth + 1)?;
            entries.push(entry(self.strings.intern(key), Some(self.span(key_range)), value));
        }
        Ok(map_node(entries, self.span(object.range)))
    }

    /// A number node: `Int` when the literal is an integer within `i64`, `Float` when it has a
    /// fraction or exponent and is finite, otherwise the source text tagged as a big number.
    fn number(&self, raw: &str, range: Range) -> Node {
        let span = self.span(range);
        let is_integer_literal = !raw.contains(['.', 'e', 'E']);
        if is_integer_literal && let Ok(int) = raw.parse::<i64>() {
            return Node::new(Value::Int(int), span);
        }
        match raw.parse::<f64>() {
            Ok(float) if !is_integer_literal && float.is_finite() => Node::new(Value::Float(float), span),
            _ => Node::string(raw, span).with_tag(Tag::BigNumber),
        }
    }

    /// Rejects raw control characters (tab, newline, …) inside a string token: JSON requires
    /// them escaped, and the parser accepts them.
    fn check_control_chars(&self, range: Range) -> Result<(), ParseError> {
        let raw = self.text.get(range.start..range.end).unwrap_or_default();
        match raw.char_indices().find(|(_, c)| c.is_control()) {
            Some((at, c)) => {
                let start = range.start + at;
                Err(self.error(
                    Range::new(start, start + c.len_utf8()),
                    format!("control character {c:?} must be escaped inside a JSON string"),
                ))
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{LineCol, SourceFile};

    const FILE: FileId = FileId(3);

    fn load(text: &str) -> Node {
        load_json(FILE, text).unwrap_or_else(|err| panic!("{text:?} failed: {err:?}"))
    }

    fn error(text: &str) -> ParseError {
        match load_json(FILE, text) {
            Ok(node) => panic!("{text:?} loaded as {node:?}"),
            Err(err) => err,
        }
    }

    fn line_col(text: &str, offset: usize) -> LineCol {
        SourceFile::new("x", None, text).line_col(offset)
    }

    fn at(line: usize, column: usize) -> LineCol {
        LineCol { line, column }
    }

    #[test]
    fn scalars_get_their_values_and_spans() {
        let text = r#"{"s": "hi", "i": -42, "f": 1.5, "e": 1e3, "t": true, "n": null}"#;
        let root = load(text);
        assert_eq!(root.span, Span::new(FILE, 0, text.len()));
        assert_eq!(root.key_span, None);
        let cases = [
            ("s", Value::String("hi".into()), "\"hi\""),
            ("i", Value::Int(-42), "-42"),
            ("f", Value::Float(1.5), "1.5"),
            ("e", Value::Float(1000.0), "1e3"),
            ("t", Value::Bool(true), "true"),
            ("n", Value::Null, "null"),
        ];
        for (key, value, source) in cases {
            let node = root.get(key).unwrap();
            assert_eq!(node.value, value, "{key}");
            assert_eq!(&text[node.span.range()], source, "{key}");
            assert_eq!(&text[node.key_span.unwrap().range()], format!("\"{key}\""));
            assert_eq!(node.span.file, FILE);
            assert_eq!(node.tag, Tag::None);
        }
    }

    #[test]
    fn nested_values_and_array_items_are_located() {
        let text = "{\n  \"spec\": {\n    \"ports\": [80, {\"name\": \"https\"}]\n  }\n}\n";
        let root = load(text);
        let spec = root.get("spec").unwrap();
        assert_eq!(&text[spec.key_span.unwrap().range()], "\"spec\"");
        assert_eq!(line_col(text, spec.span.start as usize), at(2, 11));
        let ports = spec.get("ports").unwrap();
        assert_eq!(&text[ports.span.range()], r#"[80, {"name": "https"}]"#);
        let items = ports.as_list().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].value, Value::Int(80));
        assert_eq!(&text[items[0].span.range()], "80");
        assert_eq!(items[0].key_span, None);
        let name = root.path(&["spec"]).unwrap().get("ports").unwrap().as_list().unwrap()[1].get("name").unwrap();
        assert_eq!(name.as_str(), Some("https"));
        assert_eq!(&text[name.span.range()], "\"https\"");
        assert_eq!(&text[name.key_span.unwrap().range()], "\"name\"");
        assert_eq!(line_col(text, name.span.start as usize), at(3, 28));
    }

    #[test]
    fn entries_keep_source_order() {
        let root = load(r#"{"b": 1, "a": 2, "c": 3}"#);
        let keys: Vec<&str> = root.as_map().unwrap().iter().map(|e| &*e.key).collect();
        assert_eq!(keys, ["b", "a", "c"]);
    }

    #[test]
    fn columns_count_characters_after_non_ascii_text() {
        let text = "{\"ñámé\": \"Ünïcødé\", \"port\": 8080}";
        let root = load(text);
        let name = root.get("ñámé").unwrap();
        assert_eq!(name.as_str(), Some("Ünïcødé"));
        assert_eq!(&text[name.span.range()], "\"Ünïcødé\"");
        let port = root.get("port").unwrap();
        assert_eq!(&text[port.span.range()], "8080");
        assert_eq!(line_col(text, port.span.start as usize), at(1, 29));
    }

    #[test]
    fn escapes_are_decoded_but_spans_cover_the_source() {
        let text = r#"["a\"b\u00e9\n"]"#;
        let root = load(text);
        let item = &root.as_list().unwrap()[0];
        assert_eq!(item.as_str(), Some("a\"bé\n"));
        assert_eq!(&text[item.span.range()], r#""a\"b\u00e9\n""#);
    }

    #[test]
    fn crlf_files_are_located_by_line() {
        let text = "{\r\n  \"a\": 1,\r\n  \"b\": \"two\"\r\n}\r\n";
        let root = load(text);
        let b = root.get("b").unwrap();
        assert_eq!(&text[b.span.range()], "\"two\"");
        assert_eq!(line_col(text, b.key_span.unwrap().start as usize), at(3, 3));
        assert!(!text[root.span.range()].ends_with('\r'));
    }

    #[test]
    fn large_integers_become_tagged_strings() {
        let text = "[9223372036854775807, -9223372036854775808, 9223372036854775808, -99999999999999999999]";
        let items = load(text).as_list().unwrap().to_vec();
        assert_eq!(items[0].value, Value::Int(i64::MAX));
        assert_eq!(items[1].value, Value::Int(i64::MIN));
        for (item, raw) in items[2..].iter().zip(["9223372036854775808", "-99999999999999999999"]) {
            assert_eq!(item.as_str(), Some(raw));
            assert_eq!(item.tag, Tag::BigNumber);
            assert_eq!(&text[item.span.range()], raw);
        }
    }

    #[test]
    fn exponents_are_floats_unless_they_overflow() {
        let items = load("[2E2, 1.0, -0.5e-1, 1e400]").as_list().unwrap().to_vec();
        assert_eq!(items[0].value, Value::Float(200.0));
        assert_eq!(items[1].value, Value::Float(1.0));
        assert_eq!(items[2].value, Value::Float(-0.05));
        assert_eq!(items[3].as_str(), Some("1e400"));
        assert_eq!(items[3].tag, Tag::BigNumber);
    }

    #[test]
    fn top_level_scalars_and_empty_containers_load() {
        assert_eq!(load("  \"x\"  ").span, Span::new(FILE, 2, 5));
        assert_eq!(load("[]").value, Value::List(Default::default()));
        assert_eq!(load("{}").value, Value::Map(Default::default()));
        assert_eq!(load("0").value, Value::Int(0));
    }

    #[test]
    fn duplicate_keys_are_rejected_at_the_second_key() {
        let text = "{\n  \"name\": 1,\n  \"other\": {\"name\": 2},\n  \"name\": 3\n}";
        let err = error(text);
        assert_eq!(err.message, "duplicate key `name` (first defined on line 2)");
        assert_eq!(&text[err.span.range()], "\"name\"");
        assert_eq!(line_col(text, err.span.start as usize), at(4, 3));
    }

    #[test]
    fn duplicate_keys_in_nested_objects_are_rejected() {
        let text = r#"{"a": {"x": 1, "x": 2}}"#;
        let err = error(text);
        assert_eq!(err.message, "duplicate key `x` (first defined on line 1)");
        assert_eq!(err.span, Span::new(FILE, 15, 18));
    }

    #[test]
    fn trailing_commas_are_errors() {
        let text = "{\n  \"a\": [1, 2,],\n}";
        let err = error(text);
        assert_eq!(err.message, "trailing commas are not allowed");
        assert_eq!(&text[err.span.range()], ",");
        assert_eq!(line_col(text, err.span.start as usize), at(2, 13));
    }

    #[test]
    fn comments_are_errors() {
        let text = "{\r\n  // a comment\r\n  \"a\": 1\r\n}";
        let err = error(text);
        assert_eq!(err.message, "comments are not allowed");
        assert_eq!(&text[err.span.range()], "// a comment");
        assert_eq!(line_col(text, err.span.start as usize), at(2, 3));
        assert_eq!(error("/* c */ 1").message, "comments are not allowed");
    }

    #[test]
    fn unterminated_strings_are_located_at_the_opening_quote() {
        let text = "{\n  \"a\": \"unterminated\n}";
        let err = error(text);
        assert_eq!(err.message, "unterminated string literal");
        assert_eq!(line_col(text, err.span.start as usize), at(2, 8));
    }

    #[test]
    fn lenient_syntax_is_rejected() {
        let cases = [
            ("{a: 1}", "expected string for object property", "a"),
            ("{\"a\": 1 \"b\": 2}", "expected comma", ""),
            ("['x']", "single-quoted strings are not allowed", "'"),
            ("0x10", "hexadecimal numbers are not allowed", "0"),
            ("+1", "unary plus on numbers is not allowed", "+"),
            (".5", "leading or trailing decimal points on numbers are not allowed", "."),
            ("NaN", "unexpected word", "NaN"),
            ("[1] [2]", "unexpected text after the JSON value (a document holds exactly one value)", "["),
            (r#""\x41""#, "invalid escape", r"\x"),
        ];
        for (text, message, source) in cases {
            let err = error(text);
            assert_eq!(err.message, message, "{text}");
            assert_eq!(&text[err.span.range()], source, "{text}");
        }
    }

    #[test]
    fn invalid_unicode_escapes_get_a_single_sentence() {
        let err = error(r#""\ud800""#);
        assert_eq!(err.message, "invalid unicode escape sequence `\\ud800` (unpaired high surrogate)");
        assert!(!err.message.contains(". "));
    }

    #[test]
    fn raw_control_characters_in_strings_are_errors() {
        let text = "{\"a\": \"x\ty\"}";
        let err = error(text);
        assert_eq!(err.message, "control character '\\t' must be escaped inside a JSON string");
        assert_eq!(&text[err.span.range()], "\t");
        assert!(error("{\"a\nb\": 1}").message.starts_with("control character '\\n'"));
    }

    #[test]
    fn empty_documents_are_errors() {
        for text in ["", "   ", "\r\n\t\n"] {
            let err = error(text);
            assert_eq!(err.message, "empty JSON document");
            assert_eq!(err.span, Span::new(FILE, 0, 0));
        }
    }

    #[test]
    fn error_messages_carry_no_position_text() {
        for text in ["{", "[1,", "\"", "{\"a\":}", "-", "nul", "{\"a\" 1}"] {
            let err = error(text);
            assert!(!err.message.contains("line"), "{text}: {}", err.message);
            assert!(err.span.end as usize <= text.len());
        }
    }

    #[test]
    fn odd_inputs_never_panic() {
        let inputs = [
            "",
            "{",
            "}",
            "[1,",
            "\"",
            "=",
            "export",
            "A=\"unterminated",
            "\u{feff}{}",
            "\0",
            "{\"a\":",
            "[[[[[[[[[[",
            "\"\\u\"",
            "\"\\uZZZZ\"",
            "1e",
            "-",
            "{\"\":1}",
            "\u{1F600}",
            "[,]",
            "{,}",
        ];
        for text in inputs {
            let _ = load_json(FILE, text);
        }
        let deep = "[".repeat(100_000);
        assert!(load_json(FILE, &deep).is_err());
        let bytes: Vec<u8> = (0..=255u8).cycle().skip(7).step_by(13).take(600).collect();
        let _ = load_json(FILE, &String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_a_located_error() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(load_json(FILE, &nested(255)).is_ok());
        for text in
            [nested(256), nested(600), "[".repeat(100_000), format!("{}1{}", "{\"a\": ".repeat(300), "}".repeat(300))]
        {
            let err = error(&text);
            assert!(err.message.contains("nested more than 255 levels"), "{}", err.message);
        }
        let err = error(&nested(256));
        assert_eq!(err.span, Span::new(FILE, 255, 256), "at the 256th `[`");
    }

    #[test]
    fn items_of_arrays_are_anchored_at_their_first_key() {
        let text = r#"[{"name": "api", "image": "x"}, 1]"#;
        let items = load(text).as_list().unwrap().to_vec();
        assert_eq!(&text[items[0].key_span.unwrap().range()], r#""name": "api""#);
        assert_eq!(items[1].key_span, None);
    }
}

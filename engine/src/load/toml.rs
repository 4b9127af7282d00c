//! TOML → located [`Node`] tree, on top of `toml`'s spanned `DeTable` parser.
//!
//! Spans come straight from the parser. A few are worth knowing:
//! - the root table spans the whole text;
//! - a `[table]` or `[[array]]` header table spans its header, and an array of tables spans
//!   its first header;
//! - a table created implicitly by a dotted key (`a.b = 1`) spans that key segment;
//! - strings span their quotes; datetimes are kept as their source text.
//!
//! `toml` stores tables sorted by key, so entries are put back into source order by the
//! position of their keys.
//!
//! `toml` refuses to nest more than 80 levels; the conversion checks [`MAX_DEPTH`] too, so
//! the tree is bounded whatever the parser allows.

use std::borrow::Cow;

use toml::Spanned;
use toml::de::{DeFloat, DeInteger, DeTable, DeValue};

use super::ParseError;
use crate::limits::MAX_DEPTH;
use crate::source::{FileId, Span};
use crate::tree::{Node, Tag, Value, anchor_items, entry, map_node};

/// Parses `text` as one TOML document into a mapping node spanning the whole text.
///
/// Integers within `i64` become [`Value::Int`]; larger ones keep their source text with
/// [`Tag::BigNumber`]. Datetimes become strings of their source text. Multi-line strings of a
/// CRLF file have their line breaks normalised to `\n`.
///
/// # Errors
/// The first syntax or semantic error (such as a duplicate key), located in `text`.
pub fn load_toml(file: FileId, text: &str) -> Result<Node, ParseError> {
    let loader = Loader { file, text };
    let root = DeTable::parse(text).map_err(|err| loader.error(&err))?;
    loader.table(root.into_inner(), Span::new(file, 0, text.len()), 1)
}

/// Converts parsed values to nodes; holds what every conversion needs.
struct Loader<'t> {
    file: FileId,
    text: &'t str,
}

impl Loader<'_> {
    fn span(&self, range: std::ops::Range<usize>) -> Span {
        Span::new(self.file, range.start, range.end)
    }

    /// The source text of a range (empty if the range is not within the text).
    fn source(&self, range: std::ops::Range<usize>) -> &str {
        self.text.get(range).unwrap_or_default()
    }

    /// A located error keeping only `toml`'s one-line message, not its rendered snippet.
    fn error(&self, err: &toml::de::Error) -> ParseError {
        let range = err.span().unwrap_or(0..0);
        let range = self.before_crlf(range.start)..self.before_crlf(range.end);
        let message = err.message().lines().next().unwrap_or("invalid TOML").trim();
        let message = match self.source(range.clone()) {
            key if message == "duplicate key" && !key.is_empty() => format!("duplicate key `{key}`"),
            // The parser's limits on nested tables, arrays, inline tables and dotted keys.
            _ if message.contains("recursion") => {
                format!("nested too deep: TOML tables, arrays and dotted keys may nest at most {TOML_MAX_DEPTH} levels")
            }
            _ => message.to_owned(),
        };
        ParseError::new(self.span(range), message)
    }

    /// `offset` moved before the `\r` of a CRLF it points into, so an error at the end of a
    /// line is reported on that line's last column rather than past an invisible character.
    fn before_crlf(&self, offset: usize) -> usize {
        let bytes = self.text.as_bytes();
        let inside_crlf = offset > 0 && bytes.get(offset - 1) == Some(&b'\r') && bytes.get(offset) == Some(&b'\n');
        if inside_crlf { offset - 1 } else { offset }
    }

    /// Converts a table at nesting level `depth` (1 for the root).
    fn table(&self, table: DeTable<'_>, span: Span, depth: usize) -> Result<Node, ParseError> {
        if depth > MAX_DEPTH {
            return Err(too_deep(span));
        }
        let mut entries: Vec<_> = table.into_iter().collect();
        entries.sort_by_key(|(key, _)| key.span().start);
        let entries = entries
            .into_iter()
            .map(|(key, value)| {
                let key_span = self.span(key.span());
                Ok(entry(key.into_inner(), Some(key_span), self.value(value, depth + 1)?))
            })
            .collect::<Result<_, ParseError>>()?;
        Ok(map_node(entries, span))
    }

    /// Converts a value; a table or an array is at nesting level `depth`.
    fn value(&self, value: Spanned<DeValue<'_>>, depth: usize) -> Result<Node, ParseError> {
        let range = value.span();
        let span = self.span(range.clone());
        Ok(match value.into_inner() {
            DeValue::String(s) => Node::string(self.normalize_newlines(s, range), span),
            DeValue::Integer(int) => self.integer(&int, span),
            DeValue::Float(float) => self.float(&float, span),
            DeValue::Boolean(b) => Node::new(Value::Bool(b), span),
            DeValue::Datetime(_) => Node::string(self.source(range), span),
            DeValue::Array(array) => {
                if depth > MAX_DEPTH {
                    return Err(too_deep(span));
                }
                let mut items: Vec<Node> =
                    array.into_iter().map(|item| self.value(item, depth + 1)).collect::<Result<_, _>>()?;
                anchor_items(&mut items);
                Node::list(items, span)
            }
            DeValue::Table(table) => self.table(table, span, depth)?,
        })
    }

    /// A raw CRLF inside a multi-line string decodes to `"\r\n"`; the value gets `"\n"`, so
    /// the same document means the same thing whatever its line endings.
    fn normalize_newlines(&self, value: Cow<'_, str>, range: std::ops::Range<usize>) -> String {
        let raw = self.source(range);
        let multi_line = raw.starts_with("\"\"\"") || raw.starts_with("'''");
        if multi_line && raw.contains("\r\n") { value.replace("\r\n", "\n") } else { value.into_owned() }
    }

    fn integer(&self, int: &DeInteger<'_>, span: Span) -> Node {
        match i64::from_str_radix(int.as_str(), int.radix()) {
            Ok(n) => Node::new(Value::Int(n), span),
            Err(_) => self.big_number(span),
        }
    }

    /// A float; one that overflows `f64` without being written as `inf` is a big number.
    fn float(&self, float: &DeFloat<'_>, span: Span) -> Node {
        let raw = float.as_str();
        match raw.parse::<f64>() {
            Ok(f) if !f.is_infinite() || raw.contains("inf") => Node::new(Value::Float(f), span),
            _ => self.big_number(span),
        }
    }

    /// The source text of a number that does not fit, tagged [`Tag::BigNumber`].
    fn big_number(&self, span: Span) -> Node {
        Node::string(self.source(span.range()), span).with_tag(Tag::BigNumber)
    }
}

/// How deep the `toml` parser nests before it stops (its `LIMIT`).
const TOML_MAX_DEPTH: usize = 80;

fn too_deep(span: Span) -> ParseError {
    ParseError::new(
        span,
        format!(
            "tables and arrays nested more than {MAX_DEPTH} levels deep (celador reads at most {MAX_DEPTH} levels)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{LineCol, SourceFile};

    const FILE: FileId = FileId(5);

    fn load(text: &str) -> Node {
        load_toml(FILE, text).unwrap_or_else(|err| panic!("{text:?} failed: {err:?}"))
    }

    fn error(text: &str) -> ParseError {
        match load_toml(FILE, text) {
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

    fn keys(node: &Node) -> Vec<&str> {
        node.as_map().unwrap().iter().map(|e| &*e.key).collect()
    }

    #[test]
    fn scalars_get_their_values_and_spans() {
        let text = "s = \"hi\"\nlit = 'raw\\n'\ni = -42\nhex = 0x1F\noct = 0o17\nbin = 0b101\n\
                    under = 1_000\nf = 1.5e3\nt = true\ndt = 1979-05-27 07:32:00Z\n";
        let root = load(text);
        assert_eq!(root.span, Span::new(FILE, 0, text.len()));
        let cases = [
            ("s", Value::String("hi".into()), "\"hi\""),
            ("lit", Value::String("raw\\n".into()), "'raw\\n'"),
            ("i", Value::Int(-42), "-42"),
            ("hex", Value::Int(31), "0x1F"),
            ("oct", Value::Int(15), "0o17"),
            ("bin", Value::Int(5), "0b101"),
            ("under", Value::Int(1000), "1_000"),
            ("f", Value::Float(1500.0), "1.5e3"),
            ("t", Value::Bool(true), "true"),
            ("dt", Value::String("1979-05-27 07:32:00Z".into()), "1979-05-27 07:32:00Z"),
        ];
        for (key, value, source) in cases {
            let node = root.get(key).unwrap();
            assert_eq!(node.value, value, "{key}");
            assert_eq!(&text[node.span.range()], source, "{key}");
            assert_eq!(&text[node.key_span.unwrap().range()], key);
            assert_eq!(node.tag, Tag::None, "{key}");
        }
    }

    #[test]
    fn special_floats_load() {
        let root = load("a = inf\nb = -inf\nc = nan\n");
        assert_eq!(root.get("a").unwrap().value, Value::Float(f64::INFINITY));
        assert_eq!(root.get("b").unwrap().value, Value::Float(f64::NEG_INFINITY));
        assert!(matches!(root.get("c").unwrap().value, Value::Float(f) if f.is_nan()));
    }

    #[test]
    fn entries_keep_source_order() {
        let root = load("zeta = 1\nalpha = 2\n[mid]\nz = 1\na = 2\n[beta]\n");
        assert_eq!(keys(&root), ["zeta", "alpha", "mid", "beta"]);
        assert_eq!(keys(root.get("mid").unwrap()), ["z", "a"]);
    }

    #[test]
    fn tables_and_nested_values_are_located() {
        let text = "title = \"x\"\n\n[server]\nhost = \"ünï\"\nports = [80, 443]\n\n[server.tls]\nenabled = true\n";
        let root = load(text);
        let server = root.get("server").unwrap();
        assert_eq!(&text[server.key_span.unwrap().range()], "server");
        assert_eq!(&text[server.span.range()], "[server]");
        assert_eq!(line_col(text, server.key_span.unwrap().start as usize), at(3, 2));
        let host = server.get("host").unwrap();
        assert_eq!(host.as_str(), Some("ünï"));
        assert_eq!(&text[host.span.range()], "\"ünï\"");
        let ports = server.get("ports").unwrap();
        let items = ports.as_list().unwrap();
        assert_eq!(&text[items[1].span.range()], "443");
        assert_eq!(items[1].value, Value::Int(443));
        assert_eq!(line_col(text, items[1].span.start as usize), at(5, 14));
        let enabled = root.path(&["server", "tls", "enabled"]).unwrap();
        assert_eq!(&text[enabled.span.range()], "true");
        assert_eq!(&text[enabled.key_span.unwrap().range()], "enabled");
        assert_eq!(line_col(text, enabled.span.start as usize), at(8, 11));
        let tls = server.get("tls").unwrap();
        assert_eq!(&text[tls.key_span.unwrap().range()], "tls");
    }

    #[test]
    fn columns_count_characters_after_non_ascii_text() {
        let text = "name = \"Ünïcødé\"; port = 1\n";
        let err = error(text);
        assert_eq!(line_col(text, err.span.start as usize), at(1, 17));
        let text = "\"ключ\" = \"значение\" # комментарий\nport = 8080\n";
        let root = load(text);
        let value = root.get("ключ").unwrap();
        assert_eq!(&text[value.key_span.unwrap().range()], "\"ключ\"");
        assert_eq!(line_col(text, value.span.start as usize), at(1, 10));
    }

    #[test]
    fn inline_tables_and_arrays_of_tables_are_maps() {
        let text = "point = { x = 1, y = { z = 2 } }\n[[items]]\nn = 1\n[[items]]\nn = 2\n";
        let root = load(text);
        let z = root.path(&["point", "y", "z"]).unwrap();
        assert_eq!(&text[z.span.range()], "2");
        assert_eq!(&text[root.get("point").unwrap().span.range()], "{ x = 1, y = { z = 2 } }");
        let items = root.get("items").unwrap().as_list().unwrap();
        assert_eq!(items.len(), 2);
        let second = items[1].get("n").unwrap();
        assert_eq!(second.value, Value::Int(2));
        assert_eq!(line_col(text, second.span.start as usize), at(5, 5));
        assert_eq!(&text[items[1].span.range()], "[[items]]");
    }

    #[test]
    fn dotted_keys_create_located_tables() {
        let text = "a.b.c = 1\n";
        let root = load(text);
        let c = root.path(&["a", "b", "c"]).unwrap();
        assert_eq!(&text[c.key_span.unwrap().range()], "c");
        assert_eq!(&text[c.span.range()], "1");
        assert_eq!(&text[root.get("a").unwrap().key_span.unwrap().range()], "a");
    }

    #[test]
    fn crlf_files_keep_carriage_returns_out_of_values_and_spans() {
        let text = "a = \"x\"\r\n[t]\r\nml = \"\"\"\r\nline1\r\nline2\r\n\"\"\"\r\nlit = '''\r\nx\r\n'''\r\nb = 2\r\n";
        let root = load(text);
        let a = root.get("a").unwrap();
        assert_eq!(&text[a.span.range()], "\"x\"");
        let ml = root.path(&["t", "ml"]).unwrap();
        assert_eq!(ml.as_str(), Some("line1\nline2\n"));
        assert_eq!(root.path(&["t", "lit"]).unwrap().as_str(), Some("x\n"));
        let b = root.path(&["t", "b"]).unwrap();
        assert_eq!(&text[b.span.range()], "2");
        assert_eq!(line_col(text, b.key_span.unwrap().start as usize), at(10, 1));
    }

    #[test]
    fn escaped_carriage_returns_in_single_line_strings_are_kept() {
        assert_eq!(load("a = \"x\\r\\ny\"\r\n").get("a").unwrap().as_str(), Some("x\r\ny"));
    }

    #[test]
    fn large_integers_become_tagged_strings() {
        let text = "max = 9223372036854775807\nbig = 9_223_372_036_854_775_808\nhex = 0xFFFFFFFFFFFFFFFF\n";
        let root = load(text);
        assert_eq!(root.get("max").unwrap().value, Value::Int(i64::MAX));
        for (key, raw) in [("big", "9_223_372_036_854_775_808"), ("hex", "0xFFFFFFFFFFFFFFFF")] {
            let node = root.get(key).unwrap();
            assert_eq!(node.as_str(), Some(raw));
            assert_eq!(node.tag, Tag::BigNumber);
            assert_eq!(&text[node.span.range()], raw);
        }
    }

    #[test]
    fn empty_documents_are_empty_maps() {
        for text in ["", "\n\n", "# only a comment\r\n"] {
            let root = load(text);
            assert_eq!(root.value, Value::Map(Default::default()));
            assert_eq!(root.span, Span::new(FILE, 0, text.len()));
        }
    }

    #[test]
    fn syntax_errors_are_located_with_a_short_message() {
        let text = "a = 1\nb = [1,\n";
        let err = error(text);
        assert_eq!(err.message, "unclosed array, expected `]`");
        assert!(!err.message.contains('\n'));
        assert_eq!(line_col(text, err.span.start as usize), at(2, 8));
    }

    #[test]
    fn unterminated_strings_are_errors() {
        let text = "ok = 1\r\nname = \"unterminated\r\n";
        let err = error(text);
        assert_eq!(err.message, "invalid basic string, expected `\"`");
        assert_eq!(line_col(text, err.span.start as usize), at(2, 21));
        assert!(!text[err.span.range()].contains('\r'));
    }

    #[test]
    fn bare_values_are_errors() {
        let text = "[server]\nhost = localhost\n";
        let err = error(text);
        assert_eq!(err.message, "string values must be quoted, expected literal string");
        assert_eq!(&text[err.span.range()], "localhost");
        assert_eq!(line_col(text, err.span.start as usize), at(2, 8));
    }

    #[test]
    fn duplicate_keys_and_tables_are_errors() {
        let text = "a = 1\na = 2\n";
        let err = error(text);
        assert_eq!(err.message, "duplicate key `a`");
        assert_eq!(line_col(text, err.span.start as usize), at(2, 1));
        let text = "[t]\nx = 1\n[t]\n";
        let err = error(text);
        assert_eq!(err.message, "duplicate key `t`");
        assert_eq!(line_col(text, err.span.start as usize), at(3, 2));
    }

    #[test]
    fn invalid_dates_are_errors() {
        let text = "when = 1979-13-01\n";
        let err = error(text);
        assert_eq!(err.message, "invalid date, expected month between 01 and 12");
        assert_eq!(&text[err.span.range()], "1979-13-01");
    }

    #[test]
    fn odd_inputs_never_panic() {
        let inputs = [
            "",
            "{",
            "[",
            "[1,",
            "\"",
            "=",
            "export",
            "A=\"unterminated",
            "a = [",
            "[[",
            "[a.]",
            "a.=1",
            "a = 1979-05-27T",
            "a = '''",
            "a = \"\"\"",
            "\u{feff}a = 1",
            "\0",
            "a = 0x",
            "a = 1e",
            "a = {",
            "a = { b = 1,",
            "\r",
            "a = \"\\u",
            "ü = 1",
            "a = +nan",
        ];
        for text in inputs {
            let _ = load_toml(FILE, text);
        }
        let deep = format!("a = {}", "[".repeat(100_000));
        assert!(load_toml(FILE, &deep).is_err());
        for deep in [
            format!("a = {}", "{b = ".repeat(100_000)),
            format!("{} = 1", vec!["a"; 100_000].join(".")),
            format!("[{}]", vec!["a"; 100_000].join(".")),
            format!("a = {}1{}", "[".repeat(300), "]".repeat(300)),
        ] {
            let err = load_toml(FILE, &deep).unwrap_err();
            assert!(err.message.starts_with("nested too deep"), "{}", err.message);
        }
        let bytes: Vec<u8> = (0..=255u8).cycle().skip(7).step_by(13).take(600).collect();
        let _ = load_toml(FILE, &String::from_utf8_lossy(&bytes));
    }
}

//! `.env` files → a located mapping of variables.
//!
//! Existing `.env` crates drop positions, so this is a small parser of its own. The dialect is
//! the common one shared by Docker Compose, dotenvy and python-dotenv:
//!
//! ```text
//! # a comment
//! export NAME=value        # optional `export`, inline comment after whitespace
//! SPACED = value           # whitespace around `=` is tolerated
//! LITERAL='no $escapes\n'  # single quotes: taken literally
//! QUOTED="tab\there ${HOME}
//! second line"             # double quotes: escapes, may span lines
//! ```
//!
//! `${VAR}` and `$VAR` are kept literally; such values are tagged [`Tag::Interpolation`].
//! Quoted values may span lines; their line breaks become `\n` whatever the file's line endings.
//! A key may be defined twice: both entries are kept in order and [`Node::get`] returns the last,
//! which is the value that wins when the file is loaded.

use super::ParseError;
use crate::source::{FileId, Span};
use crate::tree::{Entry, Node, Tag, entry, map_node};

/// Parses `.env` text into a mapping node spanning the whole text.
///
/// Each entry's value is a string node spanning the value's content (inside the quotes for a
/// quoted value, an empty span right after `=` for an empty one); its `key_span` is the key.
///
/// # Errors
/// The first line that is not `KEY=value`, an invalid key, an unterminated quote (located at
/// the opening quote) or text after a closing quote.
pub fn load_env(file: FileId, text: &str) -> Result<Node, ParseError> {
    let mut parser = Parser { file, text, pos: 0, entries: Vec::new() };
    parser.skip_bom();
    while parser.pos < text.len() {
        parser.line()?;
    }
    Ok(map_node(parser.entries, Span::new(file, 0, text.len())))
}

/// Whitespace inside a line; a stray `\r` (one not ending a CRLF line) counts as one.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r')
}

/// Whether `key` is `[A-Za-z_][A-Za-z0-9_.-]*`, letters and digits including non-ASCII ones.
fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Whether `value` refers to another variable as `${VAR}` or `$VAR`. A `$` right after a
/// backslash does not count.
fn has_interpolation(value: &str) -> bool {
    let mut previous = None;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && previous != Some('\\') && chars.peek().is_some_and(|&next| starts_reference(next)) {
            return true;
        }
        previous = Some(c);
    }
    false
}

/// Whether `c`, right after a `$`, makes it a variable reference.
fn starts_reference(c: char) -> bool {
    c == '{' || c == '_' || c.is_alphabetic()
}

/// A cursor over the text; `pos` is always at a character boundary.
struct Parser<'t> {
    file: FileId,
    text: &'t str,
    pos: usize,
    entries: Vec<Entry>,
}

impl Parser<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn error(&self, start: usize, end: usize, message: impl Into<String>) -> ParseError {
        ParseError::new(self.span(start, end), message)
    }

    /// A byte-order mark is normally gone already (see `SourceFile`); tolerate one anyway.
    fn skip_bom(&mut self) {
        if self.text.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
    }

    /// Where the line containing `from` ends, before its `\r\n` or `\n`; and where the next
    /// line starts.
    fn line_end(&self, from: usize) -> (usize, usize) {
        match self.text[from..].find('\n') {
            Some(i) => {
                let newline = from + i;
                let end = if self.text[..newline].ends_with('\r') { newline - 1 } else { newline };
                (end, newline + 1)
            }
            None => (self.text.len(), self.text.len()),
        }
    }

    /// `start..end` without blanks at either side.
    fn trim(&self, start: usize, end: usize) -> (usize, usize) {
        let slice = &self.text[start..end];
        let trimmed_start = start + (slice.len() - slice.trim_start_matches(is_blank).len());
        let trimmed_end = start + slice.trim_end_matches(is_blank).len();
        (trimmed_start, trimmed_end.max(trimmed_start))
    }

    /// Parses one line (or, for a quoted value spanning lines, several) and moves past it.
    fn line(&mut self) -> Result<(), ParseError> {
        let (end, next) = self.line_end(self.pos);
        let (start, end) = self.trim(self.pos, end);
        let content = &self.text[start..end];
        if content.is_empty() || content.starts_with('#') {
            self.pos = next;
            return Ok(());
        }
        let key_start = match content.strip_prefix("export") {
            Some(rest) if rest.starts_with(is_blank) => start + content.len() - rest.trim_start_matches(is_blank).len(),
            _ => start,
        };
        let Some(eq) = self.text[key_start..end].find('=').map(|i| key_start + i) else {
            return Err(self.error(start, end, "expected `KEY=value`"));
        };
        let (key_start, key_end) = self.trim(key_start, eq);
        let key = &self.text[key_start..key_end];
        if key.is_empty() {
            return Err(self.error(eq, eq + 1, "expected a variable name before `=`"));
        }
        if !is_valid_key(key) {
            return Err(self.error(
                key_start,
                key_end,
                format!(
                    "invalid variable name `{key}`, expected a letter or `_` followed by letters, digits, `_`, `.` or `-`"
                ),
            ));
        }
        let value = self.value(eq + 1, end, next)?;
        self.entries.push(entry(key, Some(self.span(key_start, key_end)), value));
        Ok(())
    }

    /// Parses the value starting after `=` at `after_eq`; `end` and `next` are the end of
    /// the line's content and the start of the next line. Leaves `pos` at the next line.
    fn value(&mut self, after_eq: usize, end: usize, next: usize) -> Result<Node, ParseError> {
        let (start, _) = self.trim(after_eq, end);
        let first = self.text[start..end].chars().next();
        if let Some(quote @ ('"' | '\'')) = first {
            return self.quoted(start, quote);
        }
        self.pos = next;
        let only_comment = first == Some('#') && start > after_eq;
        Ok(if first.is_none() || only_comment {
            Node::string("", self.span(after_eq, after_eq))
        } else {
            self.unquoted(start, end)
        })
    }

    /// An unquoted value: up to an inline comment (`#` after a blank) or the end of the line,
    /// without surrounding blanks.
    fn unquoted(&self, start: usize, end: usize) -> Node {
        let slice = &self.text[start..end];
        let comment = slice
            .char_indices()
            .find(|&(i, c)| c == '#' && slice[..i].ends_with(is_blank))
            .map_or(end, |(i, _)| start + i);
        let (start, end) = self.trim(start, comment);
        let value = &self.text[start..end];
        let node = Node::string(value, self.span(start, end));
        if has_interpolation(value) { node.with_tag(Tag::Interpolation) } else { node }
    }

    /// A quoted value starting with the quote at `open`, possibly spanning lines. Double
    /// quotes decode `\n \t \" \\ \$` (other backslashes are kept as written); single quotes
    /// decode nothing and never interpolate. Only blanks and a comment may follow on the line
    /// of the closing quote.
    fn quoted(&mut self, open: usize, quote: char) -> Result<Node, ParseError> {
        let content_start = open + 1;
        let mut value = String::new();
        let mut interpolates = false;
        let mut chars = self.text[content_start..].char_indices().peekable();
        let close = loop {
            let Some((i, c)) = chars.next() else {
                return Err(self.error(
                    open,
                    content_start,
                    format!("unterminated quoted value, expected a closing `{quote}`"),
                ));
            };
            match c {
                _ if c == quote => break content_start + i,
                '\r' if chars.peek().is_some_and(|&(_, next)| next == '\n') => {}
                '\\' if quote == '"' => match chars.peek().map(|&(_, next)| next) {
                    Some(escaped @ ('n' | 't' | '"' | '\\' | '$')) => {
                        chars.next();
                        value.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                    _ => value.push('\\'),
                },
                '$' if quote == '"' => {
                    interpolates |= chars.peek().is_some_and(|&(_, next)| starts_reference(next));
                    value.push('$');
                }
                _ => value.push(c),
            }
        };
        let (end, next) = self.line_end(close);
        let (rest_start, rest_end) = self.trim(close + 1, end);
        if rest_start < rest_end && !self.text[rest_start..].starts_with('#') {
            return Err(self.error(rest_start, rest_end, format!("unexpected text after the closing `{quote}`")));
        }
        self.pos = next;
        let node = Node::string(value, self.span(content_start, close));
        Ok(if interpolates { node.with_tag(Tag::Interpolation) } else { node })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{LineCol, SourceFile};
    use crate::tree::Value;

    const FILE: FileId = FileId(7);

    fn load(text: &str) -> Node {
        load_env(FILE, text).unwrap_or_else(|err| panic!("{text:?} failed: {err:?}"))
    }

    fn error(text: &str) -> ParseError {
        match load_env(FILE, text) {
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

    /// Key, value, key source and value source of every entry.
    fn entries<'t>(text: &'t str, root: &Node) -> Vec<(String, String, &'t str, &'t str)> {
        root.as_map()
            .unwrap()
            .iter()
            .map(|e| {
                let key_source = &text[e.value.key_span.unwrap().range()];
                let value_source = &text[e.value.span.range()];
                (e.key.to_string(), e.value.as_str().unwrap().to_owned(), key_source, value_source)
            })
            .collect()
    }

    fn entry_of<'t>(
        key: &str,
        value: &str,
        key_source: &'t str,
        value_source: &'t str,
    ) -> (String, String, &'t str, &'t str) {
        (key.to_owned(), value.to_owned(), key_source, value_source)
    }

    #[test]
    fn plain_values_are_located() {
        let text = "# settings\n\nA=1\nexport B=two\n  C = spaced value  \nD.e-f=x=y\n";
        let root = load(text);
        assert_eq!(root.span, Span::new(FILE, 0, text.len()));
        assert_eq!(
            entries(text, &root),
            [
                entry_of("A", "1", "A", "1"),
                entry_of("B", "two", "B", "two"),
                entry_of("C", "spaced value", "C", "spaced value"),
                entry_of("D.e-f", "x=y", "D.e-f", "x=y"),
            ]
        );
        let c = root.get("C").unwrap();
        assert_eq!(line_col(text, c.key_span.unwrap().start as usize), at(5, 3));
        assert_eq!(line_col(text, c.span.start as usize), at(5, 7));
        assert_eq!(c.value, Value::String("spaced value".into()));
        assert_eq!(c.tag, Tag::None);
    }

    #[test]
    fn inline_comments_need_a_blank_before_the_hash() {
        let text = "A=value # note\nB=a#b\nC=#c\nD= # only a comment\nE=\tx\t#\n";
        let root = load(text);
        assert_eq!(
            entries(text, &root),
            [
                entry_of("A", "value", "A", "value"),
                entry_of("B", "a#b", "B", "a#b"),
                entry_of("C", "#c", "C", "#c"),
                entry_of("D", "", "D", ""),
                entry_of("E", "x", "E", "x"),
            ]
        );
        assert_eq!(root.get("D").unwrap().span, Span::new(FILE, 28, 28));
    }

    #[test]
    fn empty_values_span_the_position_after_the_equals_sign() {
        let text = "A=\nB=  \nC=";
        let root = load(text);
        let after_eq = |key: &str| text.find(&format!("{key}=")).unwrap() + 2;
        for key in ["A", "B", "C"] {
            let node = root.get(key).unwrap();
            assert_eq!(node.as_str(), Some(""));
            assert_eq!(node.span, Span::new(FILE, after_eq(key), after_eq(key)), "{key}");
        }
    }

    #[test]
    fn single_quotes_are_literal() {
        let text = "A='it\\'s'\nB=' $HOME \\n # not a comment '  # comment\n";
        let err = error(text);
        assert_eq!(err.message, "unexpected text after the closing `'`");
        assert_eq!(&text[err.span.range()], "s'");
        let text = "B=' $HOME \\n # not a comment '  # comment\n";
        let b = load(text);
        let b = b.get("B").unwrap();
        assert_eq!(b.as_str(), Some(" $HOME \\n # not a comment "));
        assert_eq!(&text[b.span.range()], " $HOME \\n # not a comment ");
        assert_eq!(b.tag, Tag::None);
    }

    #[test]
    fn double_quotes_decode_escapes() {
        let text = r#"A="line\nnext\ttab \"q\" back\\slash \$HOME \x""#;
        let a = load(text);
        let a = a.get("A").unwrap();
        assert_eq!(a.as_str(), Some("line\nnext\ttab \"q\" back\\slash $HOME \\x"));
        assert_eq!(&text[a.span.range()], r#"line\nnext\ttab \"q\" back\\slash \$HOME \x"#);
        assert_eq!(a.tag, Tag::None);
    }

    #[test]
    fn double_quoted_values_span_lines() {
        let text = "KEY=\"-----BEGIN-----\nabc\n-----END-----\"\nNEXT=1\n";
        let root = load(text);
        let key = root.get("KEY").unwrap();
        assert_eq!(key.as_str(), Some("-----BEGIN-----\nabc\n-----END-----"));
        assert_eq!(&text[key.span.range()], "-----BEGIN-----\nabc\n-----END-----");
        let next = root.get("NEXT").unwrap();
        assert_eq!(line_col(text, next.key_span.unwrap().start as usize), at(4, 1));
    }

    #[test]
    fn empty_quoted_values_span_between_the_quotes() {
        let text = "A=\"\"\nB=''\n";
        let root = load(text);
        assert_eq!(root.get("A").unwrap().span, Span::new(FILE, 3, 3));
        assert_eq!(root.get("B").unwrap().span, Span::new(FILE, 8, 8));
    }

    #[test]
    fn interpolations_are_kept_and_tagged() {
        let text = "A=${HOME}/x\nB=\"$USER\"\nC='${HOME}'\nD=cost $5\nE=\"\\${X}\"\nF=a\\$B\nG=$_X\n";
        let root = load(text);
        let tag = |key: &str| root.get(key).unwrap().tag;
        assert_eq!(root.get("A").unwrap().as_str(), Some("${HOME}/x"));
        assert_eq!(tag("A"), Tag::Interpolation);
        assert_eq!(tag("B"), Tag::Interpolation);
        assert_eq!(tag("C"), Tag::None);
        assert_eq!(tag("D"), Tag::None);
        assert_eq!(root.get("E").unwrap().as_str(), Some("${X}"));
        assert_eq!(tag("E"), Tag::None);
        assert_eq!(tag("F"), Tag::None);
        assert_eq!(tag("G"), Tag::Interpolation);
    }

    #[test]
    fn crlf_files_keep_carriage_returns_out_of_values_and_spans() {
        let text = "# c\r\nA=1\r\nB = two words # c\r\nC=\"multi\r\nline\"\r\nD='x'\r\nE=\r\n\r\n";
        let root = load(text);
        assert_eq!(
            entries(text, &root),
            [
                entry_of("A", "1", "A", "1"),
                entry_of("B", "two words", "B", "two words"),
                entry_of("C", "multi\nline", "C", "multi\r\nline"),
                entry_of("D", "x", "D", "x"),
                entry_of("E", "", "E", ""),
            ]
        );
        let d = root.get("D").unwrap();
        assert_eq!(line_col(text, d.span.start as usize), at(6, 4));
    }

    #[test]
    fn non_ascii_text_before_a_value_is_counted_in_characters() {
        let text = "ÜBER=ñandú\nNAME=\"Ünïcødé\" # ç\n";
        let root = load(text);
        let uber = root.get("ÜBER").unwrap();
        assert_eq!(&text[uber.span.range()], "ñandú");
        assert_eq!(line_col(text, uber.span.start as usize), at(1, 6));
        let name = root.get("NAME").unwrap();
        assert_eq!(&text[name.span.range()], "Ünïcødé");
        assert_eq!(line_col(text, name.span.start as usize), at(2, 7));
    }

    #[test]
    fn duplicate_keys_keep_both_entries_and_the_last_wins() {
        let text = "A=1\nA=2\n";
        let root = load(text);
        assert_eq!(root.as_map().unwrap().len(), 2);
        let a = root.get("A").unwrap();
        assert_eq!(a.as_str(), Some("2"));
        assert_eq!(line_col(text, a.key_span.unwrap().start as usize), at(2, 1));
    }

    #[test]
    fn export_is_a_prefix_only_before_a_blank() {
        let root = load("export\tA=1\nexport=2\nexported=3\n");
        let keys: Vec<&str> = root.as_map().unwrap().iter().map(|e| &*e.key).collect();
        assert_eq!(keys, ["A", "export", "exported"]);
    }

    #[test]
    fn lines_without_equals_are_errors() {
        let text = "A=1\r\n  just some words  \r\n";
        let err = error(text);
        assert_eq!(err.message, "expected `KEY=value`");
        assert_eq!(&text[err.span.range()], "just some words");
        assert_eq!(line_col(text, err.span.start as usize), at(2, 3));
        assert_eq!(&"export A"[error("export A").span.range()], "export A");
    }

    #[test]
    fn invalid_keys_are_errors() {
        for (text, key) in [("1A=x", "1A"), ("A B=x", "A B"), ("A$=1", "A$"), ("export -x=1", "-x")] {
            let err = error(text);
            assert_eq!(&text[err.span.range()], key, "{text}");
            assert!(err.message.starts_with(&format!("invalid variable name `{key}`")), "{}", err.message);
        }
        let err = error("OK=1\n=value\n");
        assert_eq!(err.message, "expected a variable name before `=`");
        assert_eq!(err.span, Span::new(FILE, 5, 6));
    }

    #[test]
    fn unterminated_quotes_are_located_at_the_opening_quote() {
        let text = "A=1\nB = \"never closed\nC=3\n";
        let err = error(text);
        assert_eq!(err.message, "unterminated quoted value, expected a closing `\"`");
        assert_eq!(&text[err.span.range()], "\"");
        assert_eq!(line_col(text, err.span.start as usize), at(2, 5));
        let err = error("A='x");
        assert_eq!(err.message, "unterminated quoted value, expected a closing `'`");
        assert_eq!(err.span, Span::new(FILE, 2, 3));
    }

    #[test]
    fn escaped_quotes_do_not_close_a_value() {
        let err = error("A=\"ends with escape\\\"");
        assert_eq!(err.span, Span::new(FILE, 2, 3));
    }

    #[test]
    fn stray_carriage_returns_are_blanks() {
        let root = load("A=\"x\" \r");
        assert_eq!(root.get("A").map(|a| a.span), Some(Span::new(FILE, 3, 4)));
        assert_eq!(load("A=1 \r").get("A").and_then(Node::as_str), Some("1"));
    }

    #[test]
    fn text_after_a_closing_quote_is_an_error() {
        let text = "A=\"x\" y\r\n";
        let err = error(text);
        assert_eq!(err.message, "unexpected text after the closing `\"`");
        assert_eq!(&text[err.span.range()], "y");
        assert!(load("A=\"x\"   # fine\n").get("A").is_some());
    }

    #[test]
    fn empty_and_comment_only_files_are_empty_maps() {
        for text in ["", "\n", "# only\r\n\r\n   \n\t#x"] {
            let root = load(text);
            assert_eq!(root.value, Value::Map(Default::default()));
            assert_eq!(root.span, Span::new(FILE, 0, text.len()));
        }
    }

    #[test]
    fn odd_inputs_never_panic() {
        let inputs = [
            "",
            "{",
            "[1,",
            "\"",
            "=",
            "export",
            "export ",
            "A=\"unterminated",
            "A='",
            "A=\"\\",
            "A=\"\\\r",
            "\r",
            "\r\r\n",
            "A=\r",
            "A=\"x\"\r",
            "\u{feff}A=1",
            "\0",
            "A=$",
            "A=\"$",
            "ü=ß",
            "é",
            "A=\"\u{1F600}",
            "=\"",
            "A= \"",
            "#\n=",
            "A=\"\n\n\n",
        ];
        for text in inputs {
            let _ = load_env(FILE, text);
        }
        let bytes: Vec<u8> = (0..=255u8).cycle().skip(7).step_by(13).take(600).collect();
        let _ = load_env(FILE, &String::from_utf8_lossy(&bytes));
    }
}

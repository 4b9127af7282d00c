//! Positions inside a CEL expression written as a YAML scalar, mapped to the file.
//!
//! A policy's expression is a YAML string: plain, quoted, or a block scalar (`|`, `>`). The
//! loader gives the scalar's span and its value; a CEL error names a position in the value.
//! The value's characters are aligned, in order, with the scalar's source text (skipping the
//! quotes, the block header, indentation, escapes and folded line breaks), so every character
//! of the expression has a byte offset in the file.

use crate::source::Span;
use crate::tree::Node;

/// The most source bytes skipped between two characters of a value.
const MAX_GAP: usize = 256;

/// Byte offsets in the file of each character of a scalar's value.
#[derive(Clone, Debug)]
pub struct ScalarMap {
    /// One `(offset, width in bytes)` per character of the value, then the end of the scalar.
    offsets: Vec<(usize, usize)>,
    /// The scalar's span, for positions past the value.
    span: Span,
}

impl ScalarMap {
    /// Aligns `node`'s string value with its source text `file_text`.
    pub fn new(file_text: &str, node: &Node) -> Self {
        let span = node.span;
        let value = node.as_str().unwrap_or_default();
        let base = span.range().start;
        let raw = file_text.get(span.range()).unwrap_or_default();
        let mut at = 0;
        if raw.starts_with('|') || raw.starts_with('>') {
            // The block header (`|-`, `>2`, a comment) ends at the first line break.
            at = raw.find('\n').map_or(raw.len(), |n| n + 1);
        } else if raw.starts_with('\'') || raw.starts_with('"') {
            at = 1;
        }
        let bytes = raw.as_bytes();
        let mut offsets = Vec::with_capacity(value.len() + 1);
        for c in value.chars() {
            let mut found = None;
            let mut probe = at;
            // What lies between two characters of the value in the source (indentation, a line
            // break, an escape) is short: the search is bounded, so alignment stays linear.
            let limit = (at + MAX_GAP).min(raw.len());
            while probe < limit {
                let Some(rc) = raw[probe..].chars().next() else { break };
                let same = rc == c || (c.is_whitespace() && rc.is_whitespace());
                if same {
                    found = Some(probe);
                    break;
                }
                probe += rc.len_utf8();
            }
            match found {
                Some(p) => {
                    let width = raw[p..].chars().next().map_or(1, char::len_utf8);
                    offsets.push((base + p, width));
                    at = p + width;
                }
                None => offsets.push((base + at.min(bytes.len()).saturating_sub(1), 1)),
            }
        }
        offsets.push((base + at.min(raw.len()).saturating_sub(1), 1));
        Self { offsets, span }
    }

    /// The file span of the character at `index` (0-based, in characters) of the value; past
    /// the end, the scalar's last character.
    pub fn char_span(&self, index: usize) -> Span {
        let last = self.offsets.len().saturating_sub(1);
        let (start, width) = self.offsets.get(index.min(last)).copied().unwrap_or((self.span.range().start, 1));
        Span::new(self.span.file, start, start + width)
    }

    /// The file span of a CEL parser position (1-based line and character column) in `value`.
    pub fn line_col_span(&self, value: &str, line: isize, column: isize) -> Span {
        self.char_span(char_index(value, line, column))
    }
}

/// The 0-based character index of a 1-based `(line, column)` in `text`.
pub fn char_index(text: &str, line: isize, column: isize) -> usize {
    let line = usize::try_from(line).unwrap_or(1).max(1);
    let column = usize::try_from(column).unwrap_or(1).max(1);
    let mut index = 0;
    for (i, text_line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return index + (column - 1).min(text_line.chars().count());
        }
        index += text_line.chars().count();
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_yaml;
    use crate::source::FileId;

    fn at(text: &str, key: &str, index: usize) -> (usize, usize) {
        let docs = load_yaml(FileId(0), text).unwrap();
        let node = docs[0].root.get(key).unwrap();
        let map = ScalarMap::new(text, node);
        let span = map.char_span(index);
        let source = crate::source::SourceFile::new("t", None, text);
        let lc = source.line_col(span.range().start);
        (lc.line, lc.column)
    }

    #[test]
    fn plain_quoted_and_block_scalars_map_every_character() {
        let text = "a: object.x || y\nb: \"say \\\"hi\\\" || z\"\nc: |\n  first ||\n    second\nd: >-\n  one\n  two\n";
        assert_eq!(at(text, "a", 11), (1, 15), "`|` of a plain scalar");
        assert_eq!(at(text, "b", 10), (2, 17), "after escapes in a double-quoted scalar");
        assert_eq!(at(text, "c", 0), (4, 3), "a literal block starts on its next line");
        assert_eq!(at(text, "c", 11), (5, 5), "more indentation inside a literal block is text");
        assert_eq!(at(text, "d", 4), (8, 3), "a folded line break is a space of the value");
    }

    /// A long scalar whose characters cannot all be found (escapes) is aligned in linear time,
    /// and the characters after an escape still land on their own.
    #[test]
    fn escapes_do_not_make_alignment_quadratic() {
        let body = "\\x41b".repeat(20_000);
        let text = format!("a: \"{body}z\"\n");
        let docs = load_yaml(FileId(0), &text).unwrap();
        let node = docs[0].root.get("a").unwrap();
        let map = ScalarMap::new(&text, node);
        let last = node.as_str().unwrap().chars().count() - 1;
        assert_eq!(&text[map.char_span(last).range()], "z");
    }
}

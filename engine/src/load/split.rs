//! Where a YAML stream may be cut into pieces that parse independently: before a `---` line.
//!
//! A line that starts with `---` followed by a space, a tab, a line break or the end of the
//! text is a directives-end marker wherever it appears: YAML forbids it inside any content, and
//! `saphyr-parser` starts a document there whatever it is in the middle of (it ends a block
//! scalar, and is an error inside a quoted scalar or a flow collection). Anchors are scoped to
//! their document. So the documents before such a line and those from it on parse to the same
//! trees apart as together — unless the first part is broken (a directive left before the cut,
//! an unclosed quote), which the caller notices as an error and answers by parsing the whole
//! stream in one piece.

use std::ops::Range;

/// Cuts `text` into consecutive ranges of at least `target` bytes (but the last), each but the
/// first starting at a `---` line; one range when there is no such line past `target`.
pub(super) fn document_ranges(text: &str, target: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while let Some(cut) = next_marker(text, start + target.max(1)) {
        ranges.push(start..cut);
        start = cut;
    }
    ranges.push(start..text.len());
    ranges
}

/// The offset of the first line starting with a `---` marker at or after `from`.
fn next_marker(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from.checked_sub(1)?;
    while let Some(found) = bytes.get(at..).and_then(|rest| memchr::memmem::find(rest, b"\n---")) {
        let line = at + found + 1;
        match bytes.get(line + 3) {
            None | Some(b' ' | b'\t' | b'\r' | b'\n') => return Some(line),
            Some(_) => at = line,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::document_ranges;

    #[test]
    fn cuts_only_before_marker_lines_past_the_target() {
        let text = "a: 1\n---\nb: 2\n---x\nc: 3\n--- |\n  d\n---";
        let pieces: Vec<&str> = document_ranges(text, 1).into_iter().map(|r| &text[r]).collect();
        assert_eq!(pieces, ["a: 1\n", "---\nb: 2\n---x\nc: 3\n", "--- |\n  d\n", "---"]);
        let whole = |len: usize| std::iter::once(0..len).collect::<Vec<_>>();
        assert_eq!(document_ranges(text, 100), whole(text.len()));
        assert_eq!(document_ranges("---\na: 1\n", 1), whole(9), "never an empty first piece");
    }
}

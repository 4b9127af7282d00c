//! Source files and the byte spans that point into them.
//!
//! Every loaded value keeps a [`Span`]: the file it came from and its byte range. Lines and
//! columns are computed only when a diagnostic is rendered, from a per-file table of line
//! starts. Columns count characters (Unicode scalar values), not bytes, so a value that
//! follows non-ASCII text is reported where an editor shows it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Identifies one [`SourceFile`] inside a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range inside one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// The file the range points into.
    pub file: FileId,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span of `start..end` in `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Self { file, start: to_u32(start), end: to_u32(end.max(start)) }
    }

    /// The byte range as `usize`s.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span covers no bytes (a position).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A 1-based line and column; the column counts characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// The text of one input, with the path it was reached by.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as given or reached from the arguments, relative to the working directory when
    /// under it, with `/` separators. This is what every report shows.
    pub name: String,
    /// Where the file was read from, if it was a file (stdin has none).
    pub path: Option<PathBuf>,
    /// The text, without a leading byte-order mark.
    pub text: Arc<str>,
    /// Whether the file started with a UTF-8 byte-order mark (dropped from `text`).
    pub had_bom: bool,
    line_starts: Vec<u32>,
    /// The length of the text in bytes, also once the text of an ASCII file was dropped and
    /// only its lines kept ([`SourceMap::keep_lines`]).
    len: usize,
    /// For non-ASCII text, every [`CHECKPOINT`] bytes (at a character boundary): the byte
    /// offset and the number of characters before it, so a column in a long line costs at most
    /// a [`CHECKPOINT`]-byte count, whatever the line's length. Empty for ASCII text.
    char_checkpoints: Vec<(usize, usize)>,
}

/// Bytes between two entries of `SourceFile::char_checkpoints`.
const CHECKPOINT: usize = 4096;

impl SourceFile {
    /// Builds a source file, dropping a UTF-8 byte-order mark.
    pub fn new(name: impl Into<String>, path: Option<PathBuf>, text: &str) -> Self {
        let (text, had_bom) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| to_u32(i + 1))).collect();
        let mut char_checkpoints = Vec::new();
        if !text.is_ascii() {
            let (mut at, mut chars) = (0, 0);
            while at < text.len() {
                char_checkpoints.push((at, chars));
                let next = floor_char_boundary(text, (at + CHECKPOINT).min(text.len())).max(at + 1);
                let next = ceil_char_boundary(text, next);
                chars += text[at..next].chars().count();
                at = next;
            }
        }
        Self { name: name.into(), path, text: Arc::from(text), had_bom, line_starts, len: text.len(), char_checkpoints }
    }

    /// The same file with `text` instead, which must have the same length in bytes and the
    /// same characters at the same offsets but for their values (a masked copy): lines and
    /// columns are those of the original.
    pub(crate) fn with_text(&self, text: &str) -> Self {
        debug_assert_eq!(text.len(), self.text.len());
        Self {
            name: self.name.clone(),
            path: self.path.clone(),
            text: Arc::from(text),
            had_bom: self.had_bom,
            line_starts: self.line_starts.clone(),
            len: self.len,
            char_checkpoints: self.char_checkpoints.clone(),
        }
    }

    /// The same file without its text, lines or columns: what stays of a file nothing is
    /// reported in once its batch is done ([`SourceMap::release`]).
    fn released(&self) -> Self {
        Self {
            name: self.name.clone(),
            path: self.path.clone(),
            text: Arc::from(""),
            had_bom: self.had_bom,
            line_starts: vec![0],
            len: 0,
            char_checkpoints: Vec::new(),
        }
    }

    /// The same file without its text but with its lines, if it is ASCII (a column is then a
    /// byte count); `None` for other text, whose columns count characters in the text.
    fn lines_only(&self) -> Option<Self> {
        (self.char_checkpoints.is_empty() && self.text.is_ascii()).then(|| Self {
            name: self.name.clone(),
            path: self.path.clone(),
            text: Arc::from(""),
            had_bom: self.had_bom,
            line_starts: self.line_starts.clone(),
            len: self.len,
            char_checkpoints: Vec::new(),
        })
    }

    /// Line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> LineCol {
        if self.text.len() != self.len {
            // The lines of ASCII text, kept without it: a column is a byte count.
            let offset = offset.min(self.len);
            let line_index = self.line_starts.partition_point(|&s| s as usize <= offset) - 1;
            let column = offset - self.line_starts[line_index] as usize;
            return LineCol { line: line_index + 1, column: column + 1 };
        }
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line_index = match self.line_starts.binary_search(&to_u32(offset)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_start = self.line_starts[line_index] as usize;
        let column = if offset - line_start <= CHECKPOINT {
            self.text[line_start..offset].chars().count()
        } else {
            self.chars_before(offset) - self.chars_before(line_start)
        };
        LineCol { line: line_index + 1, column: column + 1 }
    }

    /// The number of characters before byte `offset` (a character boundary).
    fn chars_before(&self, offset: usize) -> usize {
        if self.char_checkpoints.is_empty() {
            return offset;
        }
        let i = self.char_checkpoints.partition_point(|&(at, _)| at <= offset).saturating_sub(1);
        let (at, chars) = self.char_checkpoints[i];
        chars + self.text[at..offset].chars().count()
    }

    /// The byte range of a 1-based line, without its line terminator.
    pub fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let start = self.line_starts.get(line.saturating_sub(1)).map_or(self.text.len(), |s| *s as usize);
        let end = self.line_starts.get(line).map_or(self.text.len(), |s| *s as usize);
        let text = self.text.get(start..end).unwrap_or_default();
        let trimmed = text.trim_end_matches(['\n', '\r']);
        start..start + trimmed.len()
    }

    /// Byte offset of a 1-based line and character column (clamped to the line).
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let range = self.line_range(line);
        let text = self.text.get(range.clone()).unwrap_or_default();
        range.start + text.char_indices().nth(column.saturating_sub(1)).map_or(text.len(), |(i, _)| i)
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn ceil_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset += 1;
    }
    offset
}

/// All files of one run. Shared between threads; files are only ever added.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: RwLock<Vec<Arc<SourceFile>>>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The ids of every file added so far.
    pub fn ids(&self) -> impl Iterator<Item = FileId> + use<> {
        let len = self.files.read().unwrap_or_else(std::sync::PoisonError::into_inner).len();
        (0..len).map(|i| FileId(to_u32(i)))
    }

    /// Adds a file and returns its id.
    pub fn add(&self, file: SourceFile) -> FileId {
        let mut files = self.files.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        files.push(Arc::new(file));
        FileId(to_u32(files.len() - 1))
    }

    /// The number of files added so far; the next file added gets this id.
    pub fn len(&self) -> usize {
        self.files.read().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// Whether no file was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the text of a file no finding, problem or suppression points into, keeping its
    /// name and path: a run's memory then holds the text of the files it reports on, not of
    /// every file it read. Its lines and columns are gone (every offset is at line 1).
    pub fn release(&self, id: FileId) {
        let mut files = self.files.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let released = files[id.0 as usize].released();
        files[id.0 as usize] = Arc::new(released);
    }

    /// Drops the text of an ASCII file, keeping its lines: for a run whose reports quote no
    /// text (JSON, GitHub, GitLab, JUnit, a baseline) but place findings by line and column.
    /// A file with other characters keeps its text, which its columns are counted in.
    pub fn keep_lines(&self, id: FileId) {
        let mut files = self.files.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(lines) = files[id.0 as usize].lines_only() {
            files[id.0 as usize] = Arc::new(lines);
        }
    }

    /// The file behind an id.
    ///
    /// # Panics
    /// If the id was not handed out by this map.
    pub fn get(&self, id: FileId) -> Arc<SourceFile> {
        self.files.read().unwrap_or_else(std::sync::PoisonError::into_inner)[id.0 as usize].clone()
    }

    /// The file whose `path` is `path`, if it was loaded.
    pub fn find_path(&self, path: &Path) -> Option<FileId> {
        let files = self.files.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        files.iter().position(|f| f.path.as_deref() == Some(path)).map(|i| FileId(to_u32(i)))
    }

    /// Line and column of the start of a span.
    pub fn start(&self, span: Span) -> LineCol {
        self.get(span.file).line_col(span.start as usize)
    }

    /// Line and column just past the end of a span.
    pub fn end(&self, span: Span) -> LineCol {
        self.get(span.file).line_col(span.end as usize)
    }

    /// The text a span covers.
    pub fn slice(&self, span: Span) -> String {
        let file = self.get(span.file);
        file.text.get(span.range()).unwrap_or_default().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_after_non_ascii_text() {
        let file = SourceFile::new("a.yaml", None, "name: Ünïcødé\nkey: value\n");
        let value = file.text.find("Ünï").unwrap();
        assert_eq!(file.line_col(value), LineCol { line: 1, column: 7 });
        let after = file.text.find("key").unwrap();
        assert_eq!(file.line_col(after), LineCol { line: 2, column: 1 });
        let comma_value = file.text.find("value").unwrap();
        assert_eq!(file.line_col(comma_value), LineCol { line: 2, column: 6 });
    }

    #[test]
    fn columns_in_long_non_ascii_lines_are_counted_from_checkpoints() {
        let line: String = (0..50_000).map(|i| if i % 3 == 0 { 'é' } else { 'a' }).collect();
        let text = format!("x\n{line}\n");
        let file = SourceFile::new("a.yaml", None, &text);
        for chars in [0, 1, 4095, 4096, 4097, 10_000, 49_999] {
            let offset = 2 + line.char_indices().nth(chars).unwrap().0;
            assert_eq!(file.line_col(offset), LineCol { line: 2, column: chars + 1 }, "{chars}");
        }
        // An offset inside a character counts from its start.
        assert_eq!(file.line_col(3), LineCol { line: 2, column: 1 });
    }

    /// An ASCII file whose text is dropped places every offset where its text did; a file
    /// with other characters keeps its text.
    #[test]
    fn lines_kept_without_the_text_place_offsets_as_the_text_did() {
        let text = "a: 1\r\n\nkey:   value\nlast";
        let sources = SourceMap::new();
        let ascii = sources.add(SourceFile::new("a.yaml", None, text));
        let other = sources.add(SourceFile::new("b.yaml", None, "name: Ünï\n"));
        let before: Vec<LineCol> = (0..=text.len() + 3).map(|o| sources.get(ascii).line_col(o)).collect();
        sources.keep_lines(ascii);
        sources.keep_lines(other);
        assert!(sources.get(ascii).text.is_empty());
        let after: Vec<LineCol> = (0..=text.len() + 3).map(|o| sources.get(ascii).line_col(o)).collect();
        assert_eq!(after, before);
        assert_eq!(&*sources.get(other).text, "name: Ünï\n");
        assert_eq!(sources.get(other).line_col(8), LineCol { line: 1, column: 8 });
    }

    #[test]
    fn bom_is_dropped_and_crlf_lines_are_counted() {
        let file = SourceFile::new("a.env", None, "\u{feff}A=1\r\nB=2\r\n");
        assert!(file.had_bom);
        assert_eq!(file.line_col(0), LineCol { line: 1, column: 1 });
        let b = file.text.find('B').unwrap();
        assert_eq!(file.line_col(b), LineCol { line: 2, column: 1 });
        assert_eq!(&file.text[file.line_range(1)], "A=1");
        assert_eq!(file.offset_of(2, 3), b + 2);
    }
}

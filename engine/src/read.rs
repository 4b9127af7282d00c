//! Reading files from disk, within bounds.
//!
//! Only regular files are read: a FIFO, socket or device is never opened (opening a FIFO
//! blocks until someone writes to it), and nothing larger than the size limit
//! ([`crate::limits::MAX_FILE_SIZE`] unless `--max-file-size` says otherwise) is read.
//!
//! A run reads the files it was asked to check, and files they lead to: the `env_file`s of a
//! compose file, the compose files beside an env file, the target of a symbolic link. Those
//! are read only when they resolve inside the scanned paths or the repository ([`ReadScope`]),
//! so a committed `x.env -> /etc/passwd` or an `env_file: ../../../../etc/passwd` can never
//! put another file's content into a report.

use std::fmt;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Why a file was not read. The messages name neither the file (callers do) nor where a link
/// points.
#[derive(Debug)]
pub enum ReadError {
    /// It resolves outside the directories the run may read.
    Outside,
    /// It is a FIFO, socket, device or directory.
    NotRegular,
    /// It is larger than the limit; `size` when known.
    TooLarge {
        /// The file's size in bytes, when known (it is not for stdin).
        size: Option<u64>,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file system said no.
    Io(std::io::Error),
}

impl ReadError {
    /// Whether the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Outside => {
                f.write_str("resolves outside the scanned paths and the repository (through `..`, an absolute path or a symbolic link): not read")
            }
            Self::NotRegular => f.write_str("not a regular file (a FIFO, socket or device): not read"),
            Self::TooLarge { size: Some(size), limit } => write!(
                f,
                "{} is larger than the limit of {} (raise it with --max-file-size): not read",
                format_size(*size),
                format_size(*limit)
            ),
            Self::TooLarge { size: None, limit } => {
                write!(f, "larger than the limit of {} (raise it with --max-file-size): not read", format_size(*limit))
            }
            Self::Io(e) => write!(f, "cannot read file: {e}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// `64 MiB`, `512 KiB`, `1000 bytes`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{} {name}", bytes / unit);
        }
    }
    match UNITS.iter().find(|(unit, _)| bytes >= *unit) {
        Some((unit, name)) => format!("{:.1} {name}", bytes as f64 / *unit as f64),
        None => format!("{bytes} bytes"),
    }
}

/// Reads everything `reader` yields, up to `limit` bytes: reading stops at `limit + 1`.
///
/// # Errors
/// [`ReadError::TooLarge`] past the limit; [`ReadError::Io`].
pub fn read_bounded(reader: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { size: None, limit });
    }
    Ok(bytes)
}

/// Reads a regular file of at most `limit` bytes, wherever it is: for files the user names
/// (packs, `--config`, `--baseline`). A FIFO or device is not opened.
///
/// # Errors
/// [`ReadError::NotRegular`], [`ReadError::TooLarge`], [`ReadError::Io`].
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge { size: Some(meta.len()), limit });
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    read_bounded(file, limit).map_err(|e| match e {
        // It grew after it was measured.
        ReadError::TooLarge { limit, .. } => ReadError::TooLarge { size: None, limit },
        other => other,
    })
}

/// The repository `start` is in: the nearest ancestor (itself included) holding `.git` (a
/// directory, or a file in a worktree or submodule).
pub fn repository_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok()).map(Path::to_path_buf)
}

/// `path` with `.` and `..` resolved lexically (no file system access); `..` above the root
/// stays at the root.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(component);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Where a run may read files from, and how large they may be.
///
/// The roots are the repository (the nearest ancestor of the working directory holding
/// `.git`, else the working directory), each scanned directory, the directory of each scanned
/// file, and the repository holding each scanned path. A scanned path counts as written, its
/// last component unresolved: when a committed `deploy -> /` is checked as `celador check
/// deploy`, what it leads to is outside, and is not read.
#[derive(Clone, Debug)]
pub struct ReadScope {
    cwd: PathBuf,
    /// Roots as written (made absolute and normalised).
    lexical: Vec<PathBuf>,
    /// The same roots, every component but a scanned directory's last one resolved.
    canonical: Vec<PathBuf>,
    max_file_size: u64,
}

impl ReadScope {
    /// The scope of a run in `cwd` over `scanned` paths (relative ones are relative to `cwd`).
    pub fn new(cwd: &Path, scanned: &[PathBuf], max_file_size: u64) -> Self {
        let repository = repository_root(cwd).unwrap_or_else(|| cwd.to_path_buf());
        let mut lexical = vec![normalize(&repository)];
        let mut canonical: Vec<PathBuf> = std::fs::canonicalize(&repository).into_iter().collect();
        for path in scanned {
            let absolute = normalize(&cwd.join(path));
            let Some(parent) = absolute.parent().and_then(|p| std::fs::canonicalize(p).ok()) else {
                // The file system root, or a path that does not exist (reported elsewhere).
                lexical.push(absolute.clone());
                canonical.extend(std::fs::canonicalize(&absolute));
                continue;
            };
            canonical.extend(repository_root(&parent));
            match absolute.file_name() {
                Some(name) if absolute.is_dir() => {
                    canonical.push(parent.join(name));
                    lexical.push(absolute.clone());
                }
                _ => {
                    canonical.push(parent);
                    lexical.extend(absolute.parent().map(Path::to_path_buf));
                }
            }
        }
        Self { cwd: cwd.to_path_buf(), lexical, canonical, max_file_size }
    }

    /// A scope of exactly these directories (and what they resolve to).
    pub fn within(cwd: &Path, roots: Vec<PathBuf>, max_file_size: u64) -> Self {
        let lexical: Vec<PathBuf> = roots.iter().map(|r| normalize(&cwd.join(r))).collect();
        let canonical = lexical.iter().filter_map(|r| std::fs::canonicalize(r).ok()).collect();
        Self { cwd: cwd.to_path_buf(), lexical, canonical, max_file_size }
    }

    /// A scope that reads nothing by reference: for inputs that are not files (the webhook's).
    pub fn nothing() -> Self {
        Self { cwd: PathBuf::new(), lexical: Vec::new(), canonical: Vec::new(), max_file_size: 0 }
    }

    /// The size limit, in bytes.
    pub fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// Whether `path`, with `..` resolved as written and symbolic links not followed, is inside
    /// the scope. Needs no file system access, so a reference outside is refused the same way
    /// whether or not its target exists.
    pub fn contains_lexically(&self, path: &Path) -> bool {
        let path = normalize(&self.cwd.join(path));
        self.lexical.iter().chain(&self.canonical).any(|root| path.starts_with(root))
    }

    /// `path` with every link resolved, if that is inside the scope.
    ///
    /// # Errors
    /// [`ReadError::Outside`]; [`ReadError::Io`] when it cannot be resolved (does not exist).
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, ReadError> {
        let canonical = std::fs::canonicalize(self.cwd.join(path)).map_err(ReadError::Io)?;
        if self.canonical.iter().any(|root| canonical.starts_with(root)) {
            Ok(canonical)
        } else {
            Err(ReadError::Outside)
        }
    }

    /// The size of a regular file inside the scope, of at most the size limit: what
    /// [`ReadScope::read`] checks before it opens a file, without opening it.
    ///
    /// # Errors
    /// [`ReadError::Outside`], [`ReadError::NotRegular`], [`ReadError::TooLarge`] or
    /// [`ReadError::Io`].
    pub fn measure(&self, path: &Path) -> Result<u64, ReadError> {
        let meta = std::fs::metadata(self.resolve(path)?).map_err(ReadError::Io)?;
        if !meta.is_file() {
            return Err(ReadError::NotRegular);
        }
        if meta.len() > self.max_file_size {
            return Err(ReadError::TooLarge { size: Some(meta.len()), limit: self.max_file_size });
        }
        Ok(meta.len())
    }

    /// [`ReadScope::measure`] of a path already resolved (see [`ReadScope::read_resolved`]).
    ///
    /// # Errors
    /// As [`ReadScope::measure`].
    pub fn measure_resolved(&self, resolved: &Path) -> Result<u64, ReadError> {
        if !self.canonical.iter().any(|root| resolved.starts_with(root)) {
            return Err(ReadError::Outside);
        }
        let meta = std::fs::symlink_metadata(resolved).map_err(ReadError::Io)?;
        if !meta.is_file() {
            return Err(ReadError::NotRegular);
        }
        if meta.len() > self.max_file_size {
            return Err(ReadError::TooLarge { size: Some(meta.len()), limit: self.max_file_size });
        }
        Ok(meta.len())
    }

    /// Reads a regular file inside the scope, of at most the size limit.
    ///
    /// # Errors
    /// [`ReadError::Outside`], [`ReadError::NotRegular`], [`ReadError::TooLarge`] or
    /// [`ReadError::Io`]; nothing is opened unless it is a regular file inside the scope.
    pub fn read(&self, path: &Path) -> Result<Vec<u8>, ReadError> {
        let canonical = self.resolve(path)?;
        read_regular(&canonical, self.max_file_size)
    }

    /// [`ReadScope::read`] of a path already resolved (by a walk that follows no link, below a
    /// directory [`ReadScope::resolve`] gave): checked against the scope, not resolved again.
    ///
    /// # Errors
    /// As [`ReadScope::read`].
    pub fn read_resolved(&self, resolved: &Path) -> Result<Vec<u8>, ReadError> {
        if !self.canonical.iter().any(|root| resolved.starts_with(root)) {
            return Err(ReadError::Outside);
        }
        read_regular(resolved, self.max_file_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_shown_in_binary_units() {
        assert_eq!(format_size(64 * 1024 * 1024), "64 MiB");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size(100), "100 bytes");
    }

    #[test]
    fn reading_stops_one_byte_past_the_limit() {
        assert_eq!(read_bounded(&b"12345"[..], 5).unwrap(), b"12345");
        assert!(matches!(read_bounded(std::io::repeat(b'x'), 5), Err(ReadError::TooLarge { size: None, limit: 5 })));
    }

    #[test]
    fn normalising_resolves_dots_lexically() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), Path::new("/a/c/d"));
        assert_eq!(normalize(Path::new("/a/../../../etc/passwd")), Path::new("/etc/passwd"));
    }

    #[test]
    fn references_outside_the_roots_are_refused_without_looking_at_them() {
        let scope = ReadScope::within(Path::new("/repo"), vec![PathBuf::from("/repo")], 10);
        assert!(scope.contains_lexically(Path::new("deploy/../x.env")));
        assert!(!scope.contains_lexically(Path::new("deploy/../../../../etc/passwd")));
        assert!(!scope.contains_lexically(Path::new("/etc/passwd")));
        assert!(!ReadScope::nothing().contains_lexically(Path::new("x.env")));
    }
}

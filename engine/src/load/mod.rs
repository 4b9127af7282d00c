//! Loaders: source text → located [`Node`] trees.
//!
//! Each loader is strict about its format and reports the first problem as a [`ParseError`]
//! located in the file, so a malformed input is never skipped silently.

mod dotenv;
mod embedded;
mod intern;
mod json;
mod split;
mod toml;
mod yaml;

pub use dotenv::load_env;
pub use embedded::load_embedded_json;
pub use json::load_json;
pub use toml::load_toml;
pub use yaml::{YamlDocument, load_yaml};

use crate::source::Span;

/// A located problem in an input file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Where the problem is.
    pub span: Span,
    /// What is wrong, in one sentence without the location.
    pub message: String,
}

impl ParseError {
    /// A problem at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Self { span, message: message.into() }
    }
}

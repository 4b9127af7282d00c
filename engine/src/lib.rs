//! celador's engine: located documents, CEL rule packs, diagnostics and reports.
//!
//! The data flows one way: files are discovered and classified, loaded into located
//! [`tree::Node`]s, turned into components, evaluated by compiled rules, and the resulting
//! [`diagnostic::Diagnostic`]s are rendered by one renderer per output format.

pub mod baseline;
pub mod batches;
pub mod check;
pub mod components;
pub mod config;
pub mod deployment;
pub mod diagnostic;
pub mod document;
pub mod eval;
pub mod fixture_snapshots;
pub mod fixtures;
pub mod kind;
pub mod limits;
pub mod load;
pub mod pack;
pub mod pipeline;
pub mod read;
pub mod relations;
pub mod report;
pub mod resources;
pub mod secrets;
pub mod source;
pub mod suggest;
pub mod suppress;
pub mod tree;
pub mod vap;

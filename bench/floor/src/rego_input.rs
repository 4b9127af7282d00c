//! Converts a corpus into one JSON input for a Rego engine: every document celador loads from
//! the given paths (YAML streams, JSON, `.env`, …; files of no known kind are left out, as
//! `celador check` leaves them out), in file order, as
//!
//!     {"documents": [{"file": "kubernetes/dev/core/000/00000-x.yaml", "index": 0, "doc": {…}}, …]}
//!
//!     rego-input OUT.json PATH...     prints `N documents in M files` to stdout
//!
//! Parsing uses celador's own loaders (so both engines see the same values); celador's
//! classification of each document is *not* passed on: the Rego policy decides by itself what
//! a Kubernetes workload is. `bench/run.py` times this step separately from regorus.

use celador_engine::components::ComponentCatalog;
use celador_engine::check::{discover, load_inputs};
use celador_engine::read::ReadScope;
use celador_engine::kind::KindGlobs;
use celador_engine::source::SourceMap;
use celador_engine::tree::{Node, Value};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A located node, serialized as the plain JSON value it holds.
struct Plain<'a>(&'a Node);

impl Serialize for Plain<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0.value {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_unit(),
            Value::String(text) => s.serialize_str(text),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(&Plain(item))?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for entry in entries.iter() {
                    map.serialize_entry(&*entry.key, &Plain(&entry.value))?;
                }
                map.end()
            }
        }
    }
}

struct Documents<'a>(&'a [celador_engine::document::Document], &'a SourceMap);

impl Serialize for Documents<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct One<'a> {
            file: &'a str,
            index: usize,
            doc: Plain<'a>,
        }
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for d in self.0 {
            let file = self.1.get(d.file);
            seq.serialize_element(&One { file: &file.name, index: d.index, doc: Plain(&d.root) })?;
        }
        seq.end()
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), paths) = (args.next(), args.map(PathBuf::from).collect::<Vec<_>>()) else {
        eprintln!("usage: rego-input OUT.json PATH...");
        return ExitCode::from(2);
    };
    if paths.is_empty() {
        eprintln!("usage: rego-input OUT.json PATH...");
        return ExitCode::from(2);
    }
    let cwd = std::env::current_dir().expect("working directory");
    let scope = ReadScope::new(&cwd, &paths, celador_engine::limits::MAX_FILE_SIZE);
    let found = discover(&paths, &cwd, &KindGlobs::default(), &scope);
    let sources = SourceMap::new();
    let loaded = load_inputs(found.inputs, &sources, None, &scope, &ComponentCatalog::default());
    if !found.problems.is_empty() || !loaded.problems.is_empty() {
        for problem in found.problems.iter().chain(&loaded.problems) {
            eprintln!("rego-input: {}", problem.message);
        }
        return ExitCode::from(2);
    }
    let file = std::fs::File::create(&out).expect("create the output file");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    #[derive(serde::Serialize)]
    struct Input<'a> {
        documents: Documents<'a>,
    }
    serde_json::to_writer(&mut w, &Input { documents: Documents(&loaded.documents, &sources) }).expect("write JSON");
    w.write_all(b"\n").and_then(|()| w.flush()).expect("write JSON");
    println!("{} documents in {} files", loaded.documents.len(), loaded.files);
    ExitCode::SUCCESS
}

//! Shapes: values nested in documents, however they are written.

use super::*;
use crate::eval::value::{DocList, DocMap, live_entries};
use crate::tree::{Entry, Node, Value as NodeValue};

/// A function that receives and returns raw values (cel's `Function` type): what a function
/// needs to hand back a document value itself, location included.
pub(super) type RawFunction =
    Box<dyn for<'c, 'v> Fn(&mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> + Send + Sync>;

/// `one(x: dyn) -> dyn`: the first element of a list (`null` when empty), or `x` itself when it
/// is not a list. Terraform keeps nested blocks as one-element lists (`settings[0]`) where
/// Pulumi has objects (`settings`): `one(r.attrs.settings)` reads both. The value keeps its
/// location, so findings on it point into the file.
///
/// `one([{'a': 1}]).a` → `1`; `one({'a': 1}).a` → `1`
pub(super) fn one<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let v: &(dyn Val + 'v) = match (ftx.this.as_deref(), ftx.args.as_slice()) {
        (Some(this), []) => this,
        (None, [arg]) => &**arg,
        (this, args) => {
            return Err(ExecutionError::invalid_argument_count(1, args.len() + usize::from(this.is_some())));
        }
    };
    if v.get_type().name() != "list" {
        return Ok(CowVal::Owned(v.clone_as_boxed()));
    }
    let Some(indexer) = v.as_indexer() else { return Ok(CowVal::Owned(v.clone_as_boxed())) };
    match indexer.get(&CelInt::from(0)) {
        Ok(first) => Ok(CowVal::Owned(first.into_owned())),
        Err(_) => Ok(CowVal::owned(cel::common::types::CelNull)),
    }
}

/// `descendants(x: dyn) -> list`: every value nested inside `x` (map values and list
/// elements, at any depth, depth-first in document order; `x` itself excluded). Searches that
/// would need recursion — "any secret envelope with `plaintext` anywhere in this resource" —
/// become `descendants(r).exists(v, isPlaintextSecret(v))`. Maps and lists keep their
/// locations. Walks at most 64 levels deep.
///
/// `descendants({'a': {'b': 1}})` → `[{'b': 1}, 1]`
pub(super) fn descendants<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    fn walk<'v>(v: &(dyn Val + 'v), depth: usize, out: &mut Vec<Box<dyn Val + 'v>>) {
        if depth > 64 {
            return;
        }
        let Some(iterable) = v.as_iterable() else { return };
        let is_map = v.get_type().name() == "map";
        let indexer = v.as_indexer();
        let mut iter = iterable.iter();
        while let Some(item) = iter.next() {
            if is_map {
                let Some(child) = indexer.and_then(|i| i.get(item).ok()) else { continue };
                let child = child.into_owned();
                out.push(child.clone_as_boxed());
                walk(&*child, depth + 1, out);
            } else {
                out.push(item.clone_as_boxed());
                walk(item, depth + 1, out);
            }
        }
    }
    let v: &(dyn Val + 'v) = match (ftx.this.as_deref(), ftx.args.as_slice()) {
        (Some(this), []) => this,
        (None, [arg]) => &**arg,
        (this, args) => {
            return Err(ExecutionError::invalid_argument_count(1, args.len() + usize::from(this.is_some())));
        }
    };
    let mut out = Vec::new();
    walk(v, 0, &mut out);
    Ok(CowVal::owned(cel::common::types::CelList::from(out)))
}

/// The arguments of a call `f(a, b…)` or `a.f(b…)`, receiver first.
pub(super) fn all_args<'a, 'v>(ftx: &'a FunctionContext<'_, 'v>) -> Vec<&'a (dyn Val + 'v)> {
    ftx.this.as_deref().into_iter().chain(ftx.args.iter().map(|a| &**a)).collect()
}

/// The maps among the blocks of `v`: a list's map elements, or `v` itself when it is a map.
pub(super) fn push_blocks<'v>(v: &(dyn Val + 'v), out: &mut Vec<Box<dyn Val + 'v>>) {
    match v.get_type().name() {
        "map" => out.push(v.clone_as_boxed()),
        "list" => {
            let Some(iterable) = v.as_iterable() else { return };
            let mut iter = iterable.iter();
            while let Some(item) = iter.next() {
                if item.get_type().name() == "map" {
                    out.push(item.clone_as_boxed());
                }
            }
        }
        _ => {}
    }
}

/// `blocks(x: dyn) -> list`, `blocks(x: dyn, keys: list(string)) -> list`: the nested blocks
/// of an attribute, however it is written. Terraform keeps a nested block as a list of maps
/// (`rule = [{…}]`), Pulumi as a map or a list of maps, under a singular or a plural name
/// (`rule` / `rules`): `blocks(x)` is the maps of a list, `[x]` for a map, `[]` for anything
/// else (`null`, absent); `blocks(x, keys)` is the blocks under each of `keys` of the map `x`,
/// in order. Maps keep their locations.
///
/// `blocks({'rule': [{'a': 1}], 'rules': {'a': 2}}, ['rule', 'rules'])` → `[{'a': 1}, {'a': 2}]`
pub(super) fn blocks<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = all_args(ftx);
    let mut out = Vec::new();
    match args.as_slice() {
        [x] => push_blocks(*x, &mut out),
        [x, keys] => {
            let Some(keys) = keys.as_iterable().filter(|_| keys.get_type().name() == "list") else {
                return Err(ExecutionError::function_error("blocks", "the keys must be a list of strings"));
            };
            let indexer = x.as_indexer().filter(|_| x.get_type().name() == "map");
            let mut iter = keys.iter();
            while let Some(key) = iter.next() {
                if key.downcast_ref::<CelString>().is_none() {
                    return Err(ExecutionError::function_error("blocks", "the keys must be a list of strings"));
                }
                if let Some(found) = indexer.and_then(|i| i.get(key).ok()) {
                    push_blocks(&*found, &mut out);
                }
            }
        }
        _ => return Err(ExecutionError::invalid_argument_count(2, args.len())),
    }
    Ok(CowVal::owned(cel::common::types::CelList::from(out)))
}

/// `lookup(x: dyn, path: list) -> dyn`, `lookup(x: dyn, path: string) -> dyn`: the value at
/// `path` inside `x`, `null` when any step is missing. A list path holds map keys (strings)
/// and list indexes (ints); a string path is keys separated by `.`. Maps and lists keep their
/// locations. A path step that is neither a string nor an int is an error.
///
/// `lookup({'a': [{'b': 1}]}, ['a', 0, 'b'])` → `1`; `lookup({'a': {'b': 1}}, 'a.c')` → `null`
pub(super) fn lookup<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = all_args(ftx);
    let [x, path] = args.as_slice() else {
        return Err(ExecutionError::invalid_argument_count(2, args.len()));
    };
    let mut steps: Vec<Box<dyn Val + 'v>> = Vec::new();
    if let Some(text) = as_str(*path) {
        steps.extend(text.split('.').map(|k| Box::new(CelString::from(k.to_owned())) as Box<dyn Val>));
    } else if let Some(iterable) = path.as_iterable().filter(|_| path.get_type().name() == "list") {
        let mut iter = iterable.iter();
        while let Some(step) = iter.next() {
            steps.push(step.clone_as_boxed());
        }
    } else {
        return Err(ExecutionError::function_error("lookup", "the path must be a string or a list"));
    }
    let mut current: Box<dyn Val + 'v> = x.clone_as_boxed();
    for step in steps {
        let found = match (current.get_type().name(), step.get_type().name()) {
            ("map", "string") => current.as_indexer().and_then(|i| i.get(&*step).ok()).map(CowVal::into_owned),
            ("list", "int") => {
                let index = step.downcast_ref::<CelInt>().map_or(-1, |i| *i.inner());
                let size = current.as_sizer().map_or(0, |s| *s.size().inner());
                if (0..size).contains(&index) {
                    current.as_indexer().and_then(|i| i.get(&*step).ok()).map(CowVal::into_owned)
                } else {
                    None
                }
            }
            (_, "string" | "int") => None,
            (_, other) => {
                return Err(ExecutionError::function_error(
                    "lookup",
                    format!("a path step is a string key or an int index, not {other}"),
                ));
            }
        };
        match found {
            Some(value) => current = value,
            None => return Ok(CowVal::owned(cel::common::types::CelNull)),
        }
    }
    Ok(CowVal::Owned(current))
}

/// `paths(x: dyn) -> list(list)`: the path of every leaf below `x`, as `lookup` takes it: a list
/// of map keys and list indexes, depth-first in document order. A leaf is a value that is not a
/// map or a list, or an empty one; `x` itself is not one of its leaves. Walks at most 64
/// levels deep. With `lookup`, walks two trees that mirror each other (a Terraform plan's
/// `after_sensitive` mask and the values it marks).
///
/// `paths(x: dyn, key: string) -> list(list)`: those of them that end with the map key `key`,
/// `paths(x).filter(p, p[size(p) - 1] == key)` without building the others.
///
/// `paths({'a': {'b': true}, 'c': [1]})` → `[['a', 'b'], ['c', 0]]`
pub(super) fn paths(ftx: &FunctionContext<'_, '_>) -> Result<Value, ExecutionError> {
    let args = all_args(ftx);
    let (x, last) = match args.as_slice() {
        [x] => (*x, None),
        [x, key] => match as_str(*key) {
            Some(key) => (*x, Some(key)),
            None => return Err(ExecutionError::function_error("paths", "the key must be a string")),
        },
        _ => return Err(ExecutionError::invalid_argument_count(2, args.len())),
    };
    let mut walk = Paths { last, path: Vec::new(), out: Vec::new() };
    walk.val(x, 0);
    Ok(Value::List(Arc::new(walk.out)))
}

/// The walk of [`paths`]: document values are walked on their located tree, converting
/// nothing it passes to CEL; other values through their CEL interface.
struct Paths<'k> {
    last: Option<&'k str>,
    path: Vec<Value>,
    out: Vec<Value>,
}

impl Paths<'_> {
    /// Levels walked below `x`, at most.
    const MAX_DEPTH: usize = 64;

    fn leaf(&mut self) {
        let wanted = match (self.last, self.path.last()) {
            (None, Some(_)) => true,
            (Some(key), Some(Value::String(last))) => last.as_str() == key,
            _ => false,
        };
        if wanted {
            self.out.push(Value::List(Arc::new(self.path.clone())));
        }
    }

    fn val(&mut self, v: &dyn Val, depth: usize) {
        if let Some(map) = v.downcast_ref::<DocMap>() {
            return self.map_node(map.nodes(), depth);
        }
        if let Some(list) = v.downcast_ref::<DocList>() {
            return self.list_node(list.nodes(), depth);
        }
        let kind = v.get_type().name();
        let size = v.as_sizer().map_or(0, |s| *s.size().inner());
        if !matches!(kind, "map" | "list") || size == 0 {
            return self.leaf();
        }
        if depth > Self::MAX_DEPTH {
            return;
        }
        let (Some(iterable), Some(indexer)) = (v.as_iterable(), v.as_indexer()) else { return };
        let mut iter = iterable.iter();
        let mut index = 0i64;
        while let Some(item) = iter.next() {
            if kind == "map" {
                let Ok(key) = Value::try_from(item) else { continue };
                let Ok(child) = indexer.get(item) else { continue };
                self.path.push(key);
                self.val(&*child, depth + 1);
            } else {
                self.path.push(Value::Int(index));
                self.val(item, depth + 1);
                index += 1;
            }
            self.path.pop();
        }
    }

    fn node(&mut self, node: &Node, depth: usize) {
        match &node.value {
            NodeValue::Map(entries) => self.map_node(live_entries(entries), depth),
            NodeValue::List(items) => self.list_node(items, depth),
            _ => self.leaf(),
        }
    }

    fn map_node(&mut self, entries: Vec<&Entry>, depth: usize) {
        if entries.is_empty() {
            return self.leaf();
        }
        if depth > Self::MAX_DEPTH {
            return;
        }
        for entry in entries {
            self.path.push(Value::String(string(&*entry.key)));
            self.node(&entry.value, depth + 1);
            self.path.pop();
        }
    }

    fn list_node(&mut self, items: &[Node], depth: usize) {
        if items.is_empty() {
            return self.leaf();
        }
        if depth > Self::MAX_DEPTH {
            return;
        }
        for (index, item) in items.iter().enumerate() {
            self.path.push(Value::Int(index as i64));
            self.node(item, depth + 1);
            self.path.pop();
        }
    }
}

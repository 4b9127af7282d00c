//! Located documents as CEL values.
//!
//! A [`Node`] tree is converted once per document into [`DocMap`]s and [`DocList`]s: CEL
//! containers that share their contents through an `Arc` (a comprehension clones each element
//! into its loop variable, so cloning must be cheap) and remember the [`Loc`] of every child.
//! Leaves are cel's own `CelString`, `CelInt`, … lent out by reference.
//!
//! Indexing records the last access in a thread-local: the location of the value found or,
//! for a missing key, the location of the mapping that lacks it. That is how a rule's
//! `locate` expression points at the nearest existing parent of a missing key.

use crate::source::Span;
use crate::tree::{Entry, Node, Value as NodeValue};
use cel::ExecutionError;
use cel::common::traits::{Adder, Container, Indexer, Iterable, Iterator as CelIterator, Sizer};
use cel::common::types::{self, CelBool, CelDouble, CelInt, CelList, CelNull, CelString, CelUInt, Type};
use cel::common::value::{CowVal, StaticVal, Val};
use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Where a value is: its own span and, for mapping values, the span of its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    /// The value.
    pub span: Span,
    /// The key the value sits under, if any.
    pub key_span: Option<Span>,
}

impl Loc {
    fn of(node: &Node) -> Self {
        Self { span: node.span, key_span: node.key_span }
    }

    /// The span to report for something missing inside this value: its key, else itself.
    pub fn anchor(&self) -> Span {
        self.key_span.unwrap_or(self.span)
    }
}

/// The last indexing operation of this thread's current evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// A value was found at `Loc`.
    Found(Loc),
    /// `key` was looked up in the mapping at `Loc` and is missing.
    Missing(Loc, Arc<str>),
}

thread_local! {
    static LAST_ACCESS: RefCell<Option<Access>> = const { RefCell::new(None) };
}

/// Forgets the last access; call before evaluating an expression whose accesses matter.
pub fn reset_access() {
    LAST_ACCESS.with(|a| a.borrow_mut().take());
}

/// The last indexing operation since [`reset_access`].
pub fn last_access() -> Option<Access> {
    LAST_ACCESS.with(|a| a.borrow().clone())
}

fn record(access: Access) {
    LAST_ACCESS.with(|a| *a.borrow_mut() = Some(access));
}

/// Converts a located tree into a CEL value. Containers are wrapped, not copied: their
/// children are converted the first time they are looked at, so a rule that reads three fields
/// of a 10 MB Terraform plan converts three fields' worth of it. Conversion and comparison
/// (`equals`) recurse once per level of the tree, at most [`crate::limits::MAX_DEPTH`].
pub fn to_cel(node: &Node) -> Box<dyn Val + 'static> {
    match &node.value {
        NodeValue::Null => Box::new(CelNull),
        NodeValue::Bool(b) => Box::new(CelBool::from(*b)),
        NodeValue::Int(i) => Box::new(CelInt::from(*i)),
        NodeValue::Float(f) => Box::new(CelDouble::from(*f)),
        NodeValue::String(s) => Box::new(CelString::from(s.clone())),
        NodeValue::List(items) => Box::new(DocList::new(Loc::of(node), items.clone())),
        NodeValue::Map(entries) => Box::new(DocMap::new(Loc::of(node), entries.clone())),
    }
}

/// Maps this large get a hash index; smaller ones are searched linearly.
const INDEXED_MAP: usize = 16;

/// The indices of a map whose keys are all distinct, as most are: no list is built for it.
static EVERY_ENTRY: [usize; 256] = {
    let mut indices = [0; 256];
    let mut i = 0;
    while i < indices.len() {
        indices[i] = i;
        i += 1;
    }
    indices
};

/// A CEL map backed by a located mapping.
#[derive(Clone, Debug)]
pub struct DocMap(Arc<MapInner>);

#[derive(Debug)]
struct MapInner {
    loc: Loc,
    entries: Arc<[Entry]>,
    /// Indices of the entries that count: the last of each key (`.env` files may repeat one);
    /// `None` when every entry counts and there are at most `EVERY_ENTRY.len()`.
    live: OnceLock<Option<Vec<usize>>>,
    keys: OnceLock<Vec<CelString<'static>>>,
    values: OnceLock<Vec<Box<dyn Val>>>,
    index: OnceLock<HashMap<Arc<str>, usize>>,
}

impl DocMap {
    fn new(loc: Loc, entries: Arc<[Entry]>) -> Self {
        Self(Arc::new(MapInner {
            loc,
            entries,
            live: OnceLock::new(),
            keys: OnceLock::new(),
            values: OnceLock::new(),
            index: OnceLock::new(),
        }))
    }

    /// Wraps a mapping node.
    pub fn from_node(node: &Node) -> Self {
        match &node.value {
            NodeValue::Map(entries) => Self::new(Loc::of(node), entries.clone()),
            _ => Self::new(Loc::of(node), Arc::from([])),
        }
    }

    /// Where the mapping is.
    pub fn loc(&self) -> Loc {
        self.0.loc
    }

    fn live(&self) -> &[usize] {
        let entries = &self.0.entries;
        let live = self.0.live.get_or_init(|| match repeated_keys(entries) {
            None if entries.len() > EVERY_ENTRY.len() => Some((0..entries.len()).collect()),
            live => live,
        });
        live.as_deref().unwrap_or(&EVERY_ENTRY[..entries.len()])
    }

    fn values(&self) -> &[Box<dyn Val>] {
        self.0.values.get_or_init(|| self.0.entries.iter().map(|e| to_cel(&e.value)).collect())
    }

    fn keys(&self) -> &[CelString<'static>] {
        self.0
            .keys
            .get_or_init(|| self.live().iter().map(|&i| CelString::from(self.0.entries[i].key.clone())).collect())
    }

    fn position(&self, key: &str) -> Option<usize> {
        let entries = &self.0.entries;
        if entries.len() < INDEXED_MAP {
            // Told apart by length and first byte before the keys are compared.
            let first = key.as_bytes().first();
            return entries
                .iter()
                .rposition(|e| e.key.len() == key.len() && e.key.as_bytes().first() == first && &*e.key == key);
        }
        let index = self.0.index.get_or_init(|| {
            let mut index = HashMap::with_capacity(entries.len());
            for (i, e) in entries.iter().enumerate() {
                index.insert(e.key.clone(), i);
            }
            index
        });
        index.get(key).copied()
    }

    /// The entries with their locations, in source order.
    pub fn entries(&self) -> impl std::iter::Iterator<Item = (&str, &(dyn Val + 'static), Loc)> {
        let values = self.values();
        self.live().iter().map(move |&i| {
            let e = &self.0.entries[i];
            (&*e.key, &*values[i], Loc::of(&e.value))
        })
    }

    /// The entries that count, as located nodes, in source order: for walks that need no CEL
    /// values.
    pub(crate) fn nodes(&self) -> Vec<&Entry> {
        self.live().iter().map(|&i| &self.0.entries[i]).collect()
    }

    /// Location of the value under `key`.
    pub fn loc_of(&self, key: &str) -> Option<Loc> {
        self.position(key).map(|i| Loc::of(&self.0.entries[i].value))
    }
}

/// A CEL list backed by a located sequence.
#[derive(Clone, Debug)]
pub struct DocList(Arc<ListInner>);

#[derive(Debug)]
struct ListInner {
    loc: Loc,
    items: Arc<[Node]>,
    values: OnceLock<Vec<Box<dyn Val>>>,
}

impl DocList {
    fn new(loc: Loc, items: Arc<[Node]>) -> Self {
        Self(Arc::new(ListInner { loc, items, values: OnceLock::new() }))
    }

    /// Where the list is.
    pub fn loc(&self) -> Loc {
        self.0.loc
    }

    fn values(&self) -> &[Box<dyn Val>] {
        self.0.values.get_or_init(|| self.0.items.iter().map(to_cel).collect())
    }

    /// The elements as located nodes.
    pub(crate) fn nodes(&self) -> &[Node] {
        &self.0.items
    }

    /// The elements with their locations.
    pub fn items(&self) -> impl std::iter::Iterator<Item = (&(dyn Val + 'static), Loc)> {
        self.values().iter().zip(self.0.items.iter()).map(|(v, n)| (&**v, Loc::of(n)))
    }
}

/// The entries of a mapping that count: the last of each key, in source order.
pub(crate) fn live_entries(entries: &[Entry]) -> Vec<&Entry> {
    match repeated_keys(entries) {
        None => entries.iter().collect(),
        Some(live) => live.into_iter().map(|i| &entries[i]).collect(),
    }
}

/// The indices of the entries that count when a key is repeated (`.env` files may repeat
/// one): the last of each key. `None` when every key is distinct, as in most mappings.
fn repeated_keys(entries: &[Entry]) -> Option<Vec<usize>> {
    let distinct = if entries.len() < INDEXED_MAP {
        entries.iter().enumerate().all(|(i, e)| entries[..i].iter().all(|f| f.key != e.key))
    } else {
        let mut seen = std::collections::HashSet::with_capacity(entries.len());
        entries.iter().all(|e| seen.insert(&*e.key))
    };
    if distinct {
        return None;
    }
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    let mut live: Vec<usize> = (0..entries.len()).rev().filter(|&i| seen.insert(&*entries[i].key)).collect();
    live.reverse();
    Some(live)
}

/// The location a CEL value carries, if it is one of ours.
pub fn loc_of_val(val: &dyn Val) -> Option<Loc> {
    let any = val.as_any()?;
    any.downcast_ref::<DocMap>().map(DocMap::loc).or_else(|| any.downcast_ref::<DocList>().map(DocList::loc))
}

pub(super) fn key_text<'a>(idx: &'a dyn Val) -> Option<std::borrow::Cow<'a, str>> {
    if let Some(s) = idx.downcast_ref::<CelString>() {
        return Some(std::borrow::Cow::Borrowed(s.inner()));
    }
    if let Some(i) = idx.downcast_ref::<CelInt>() {
        return Some(std::borrow::Cow::Owned(i64::from(*i).to_string()));
    }
    idx.downcast_ref::<CelUInt>().map(|u| std::borrow::Cow::Owned(u64::from(*u).to_string()))
}

impl Val for DocMap {
    fn get_type(&self) -> &Type {
        &types::MAP_TYPE
    }

    fn cel_type() -> &'static Type {
        &types::MAP_TYPE
    }

    fn as_container(&self) -> Option<&dyn Container> {
        Some(self)
    }

    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn as_iterable<'b, 'v>(&'b self) -> Option<&'b (dyn Iterable + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn as_sizer(&self) -> Option<&dyn Sizer> {
        Some(self)
    }

    fn equals(&self, other: &dyn Val) -> bool {
        let Some(other) = other.as_any().and_then(|a| a.downcast_ref::<DocMap>()) else {
            return false;
        };
        Arc::ptr_eq(&self.0, &other.0)
            || (self.live().len() == other.live().len()
                && self.entries().all(|(k, v, _)| other.position(k).is_some_and(|i| v.equals(&*other.values()[i]))))
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(self.clone())
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl StaticVal for DocMap {}

impl Container for DocMap {
    fn contains(&self, value: &dyn Val) -> Result<bool, ExecutionError> {
        Ok(key_text(value).is_some_and(|k| self.position(&k).is_some()))
    }
}

impl Indexer for DocMap {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let Some(key) = key_text(idx) else {
            return Err(ExecutionError::UnexpectedType {
                got: idx.get_type().name().to_owned(),
                want: "string".to_owned(),
            });
        };
        match self.position(&key) {
            Some(i) => {
                record(Access::Found(Loc::of(&self.0.entries[i].value)));
                Ok(CowVal::Borrowed(&*self.values()[i]))
            }
            None => {
                record(Access::Missing(self.0.loc, Arc::from(&*key)));
                Err(ExecutionError::NoSuchKey(Arc::new(key.into_owned())))
            }
        }
    }

    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.get(idx).map(CowVal::into_owned)
    }
}

impl Iterable for DocMap {
    fn iter<'b, 'v>(&'b self) -> Box<dyn CelIterator<'b, 'v> + 'b>
    where
        Self: 'v,
    {
        Box::new(KeyIter { keys: self.keys(), pos: 0 })
    }
}

impl Sizer for DocMap {
    fn size(&self) -> CelInt {
        CelInt::from(self.live().len() as i64)
    }
}

impl Val for DocList {
    fn get_type(&self) -> &Type {
        &types::LIST_TYPE
    }

    fn as_adder<'b, 'v>(&'b self) -> Option<&'b (dyn Adder + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn cel_type() -> &'static Type {
        &types::LIST_TYPE
    }

    fn as_container(&self) -> Option<&dyn Container> {
        Some(self)
    }

    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn as_iterable<'b, 'v>(&'b self) -> Option<&'b (dyn Iterable + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn as_sizer(&self) -> Option<&dyn Sizer> {
        Some(self)
    }

    fn equals(&self, other: &dyn Val) -> bool {
        let Some(iterable) = other.as_iterable() else { return false };
        if other.get_type() != &types::LIST_TYPE {
            return false;
        }
        let mut theirs = iterable.iter();
        for mine in self.values() {
            match theirs.next() {
                Some(v) if mine.equals(v) => {}
                _ => return false,
            }
        }
        theirs.next().is_none()
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(self.clone())
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl StaticVal for DocList {}

impl Container for DocList {
    fn contains(&self, value: &dyn Val) -> Result<bool, ExecutionError> {
        Ok(self.values().iter().any(|v| v.equals(value)))
    }
}

impl Indexer for DocList {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let index = idx
            .downcast_ref::<CelInt>()
            .map(|i| i64::from(*i))
            .or_else(|| idx.downcast_ref::<CelUInt>().and_then(|u| i64::try_from(u64::from(*u)).ok()));
        let Some(index) = index else {
            return Err(ExecutionError::UnexpectedType {
                got: idx.get_type().name().to_owned(),
                want: "int".to_owned(),
            });
        };
        match usize::try_from(index).ok().and_then(|i| self.values().get(i).map(|v| (i, v))) {
            Some((i, v)) => {
                record(Access::Found(Loc::of(&self.0.items[i])));
                Ok(CowVal::Borrowed(&**v))
            }
            None => Err(ExecutionError::IndexOutOfBounds(cel::Value::Int(index))),
        }
    }

    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.get(idx).map(CowVal::into_owned)
    }
}

impl Adder for DocList {
    fn add<'b, 'w>(&'b self, rhs: &(dyn Val + 'w)) -> Result<CowVal<'b, 'w>, ExecutionError>
    where
        Self: 'w,
    {
        let Some(iterable) = rhs.as_iterable().filter(|_| rhs.get_type().name() == "list") else {
            return Err(ExecutionError::function_error(
                "+",
                format!("cannot add a {} to a list", rhs.get_type().name()),
            ));
        };
        let mut list: Vec<Box<dyn Val + 'w>> = self.values().iter().map(|v| v.clone_as_boxed()).collect();
        let mut iter = iterable.iter();
        while let Some(other) = iter.next() {
            list.push(other.clone_as_boxed());
        }
        Ok(CowVal::owned(CelList::from(list)))
    }
}

impl Iterable for DocList {
    fn iter<'b, 'v>(&'b self) -> Box<dyn CelIterator<'b, 'v> + 'b>
    where
        Self: 'v,
    {
        Box::new(SliceIter { values: self.values(), pos: 0 })
    }
}

impl Sizer for DocList {
    fn size(&self) -> CelInt {
        CelInt::from(self.0.items.len() as i64)
    }
}

struct SliceIter<'b> {
    values: &'b [Box<dyn Val>],
    pos: usize,
}

impl<'b, 'w> CelIterator<'b, 'w> for SliceIter<'b> {
    fn next(&mut self) -> Option<&'b (dyn Val + 'w)> {
        let value = self.values.get(self.pos)?;
        self.pos += 1;
        Some(value.as_ref())
    }
}

pub(super) struct KeyIter<'b> {
    pub(super) keys: &'b [CelString<'static>],
    pub(super) pos: usize,
}

impl<'b, 'w> CelIterator<'b, 'w> for KeyIter<'b> {
    fn next(&mut self) -> Option<&'b (dyn Val + 'w)> {
        let key = self.keys.get(self.pos)?;
        self.pos += 1;
        Some(key)
    }
}

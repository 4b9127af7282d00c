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
use crate::tree::{Node, Value as NodeValue};
use cel::ExecutionError;
use cel::common::traits::{Container, Indexer, Iterable, Iterator as CelIterator, Sizer};
use cel::common::types::{self, CelBool, CelDouble, CelInt, CelNull, CelString, CelUInt, Type};
use cel::common::value::{CowVal, StaticVal, Val};
use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

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

/// Converts a located tree into a CEL value.
pub fn to_cel(node: &Node) -> Box<dyn Val + 'static> {
    match &node.value {
        NodeValue::Null => Box::new(CelNull),
        NodeValue::Bool(b) => Box::new(CelBool::from(*b)),
        NodeValue::Int(i) => Box::new(CelInt::from(*i)),
        NodeValue::Float(f) => Box::new(CelDouble::from(*f)),
        NodeValue::String(s) => Box::new(CelString::from(s.to_string())),
        NodeValue::List(items) => Box::new(DocList::from_node(node, items)),
        NodeValue::Map(_) => Box::new(DocMap::from_node(node)),
    }
}

/// A CEL map backed by a located mapping.
#[derive(Clone, Debug)]
pub struct DocMap(Arc<MapInner>);

#[derive(Debug)]
struct MapInner {
    loc: Loc,
    keys: Vec<CelString<'static>>,
    index: HashMap<Arc<str>, usize>,
    values: Vec<Box<dyn Val>>,
    locs: Vec<Loc>,
}

impl DocMap {
    /// Converts a mapping node (later duplicate keys win, as in the tree).
    pub fn from_node(node: &Node) -> Self {
        let entries = node.as_map().unwrap_or_default();
        let mut inner = MapInner {
            loc: Loc::of(node),
            keys: Vec::with_capacity(entries.len()),
            index: HashMap::with_capacity(entries.len()),
            values: Vec::with_capacity(entries.len()),
            locs: Vec::with_capacity(entries.len()),
        };
        for entry in entries {
            let value = to_cel(&entry.value);
            if let Some(&i) = inner.index.get(&entry.key) {
                inner.values[i] = value;
                inner.locs[i] = Loc::of(&entry.value);
                continue;
            }
            inner.index.insert(entry.key.clone(), inner.keys.len());
            inner.keys.push(CelString::from(entry.key.to_string()));
            inner.values.push(value);
            inner.locs.push(Loc::of(&entry.value));
        }
        Self(Arc::new(inner))
    }

    /// Where the mapping is.
    pub fn loc(&self) -> Loc {
        self.0.loc
    }

    /// The entries with their locations, in source order.
    pub fn entries(&self) -> impl std::iter::Iterator<Item = (&str, &(dyn Val + 'static), Loc)> {
        self.0.keys.iter().zip(&self.0.values).zip(&self.0.locs).map(|((k, v), l)| (k.inner(), &**v, *l))
    }

    /// Location of the value under `key`.
    pub fn loc_of(&self, key: &str) -> Option<Loc> {
        self.0.index.get(key).map(|&i| self.0.locs[i])
    }
}

/// A CEL list backed by a located sequence.
#[derive(Clone, Debug)]
pub struct DocList(Arc<ListInner>);

#[derive(Debug)]
struct ListInner {
    loc: Loc,
    values: Vec<Box<dyn Val>>,
    locs: Vec<Loc>,
}

impl DocList {
    fn from_node(node: &Node, items: &[Node]) -> Self {
        Self(Arc::new(ListInner {
            loc: Loc::of(node),
            values: items.iter().map(to_cel).collect(),
            locs: items.iter().map(Loc::of).collect(),
        }))
    }

    /// Where the list is.
    pub fn loc(&self) -> Loc {
        self.0.loc
    }

    /// The elements with their locations.
    pub fn items(&self) -> impl std::iter::Iterator<Item = (&(dyn Val + 'static), Loc)> {
        self.0.values.iter().zip(&self.0.locs).map(|(v, l)| (&**v, *l))
    }
}

/// The location a CEL value carries, if it is one of ours.
pub fn loc_of_val(val: &dyn Val) -> Option<Loc> {
    let any = val.as_any()?;
    any.downcast_ref::<DocMap>().map(DocMap::loc).or_else(|| any.downcast_ref::<DocList>().map(DocList::loc))
}

fn key_text<'a>(idx: &'a dyn Val) -> Option<std::borrow::Cow<'a, str>> {
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
            || (self.0.keys.len() == other.0.keys.len()
                && self.entries().all(|(k, v, _)| other.0.index.get(k).is_some_and(|&i| v.equals(&*other.0.values[i]))))
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
        Ok(key_text(value).is_some_and(|k| self.0.index.contains_key(&*k)))
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
        match self.0.index.get(&*key) {
            Some(&i) => {
                record(Access::Found(self.0.locs[i]));
                Ok(CowVal::Borrowed(&*self.0.values[i]))
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
        Box::new(KeyIter { keys: &self.0.keys, pos: 0 })
    }
}

impl Sizer for DocMap {
    fn size(&self) -> CelInt {
        CelInt::from(self.0.keys.len() as i64)
    }
}

impl Val for DocList {
    fn get_type(&self) -> &Type {
        &types::LIST_TYPE
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
        for mine in &self.0.values {
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
        Ok(self.0.values.iter().any(|v| v.equals(value)))
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
        match usize::try_from(index).ok().and_then(|i| self.0.values.get(i).map(|v| (i, v))) {
            Some((i, v)) => {
                record(Access::Found(self.0.locs[i]));
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

impl Iterable for DocList {
    fn iter<'b, 'v>(&'b self) -> Box<dyn CelIterator<'b, 'v> + 'b>
    where
        Self: 'v,
    {
        Box::new(SliceIter { values: &self.0.values, pos: 0 })
    }
}

impl Sizer for DocList {
    fn size(&self) -> CelInt {
        CelInt::from(self.0.values.len() as i64)
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

struct KeyIter<'b> {
    keys: &'b [CelString<'static>],
    pos: usize,
}

impl<'b, 'w> CelIterator<'b, 'w> for KeyIter<'b> {
    fn next(&mut self) -> Option<&'b (dyn Val + 'w)> {
        let key = self.keys.get(self.pos)?;
        self.pos += 1;
        Some(key)
    }
}

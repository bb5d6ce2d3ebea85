//! Runtime values: constants, references into documents and graph objects, and records.

use super::builtins::{ImageRef, Version};
use crate::check::ir::Const;
use crate::graph::ObjId;
use crate::model::{DocId, NodeId};
use std::sync::Arc;

/// A value during evaluation. Document data stays in the documents (`Node`); only derived
/// values are allocated.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// Missing or null.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(Arc<str>),
    /// A list.
    List(Arc<Vec<Val>>),
    /// A constant list (parameters, tables, literals), shared without copying.
    ConstList(Arc<Vec<Const>>),
    /// A constant map (a table row), shared without copying.
    Map(Arc<Vec<(Arc<str>, Const)>>),
    /// A value in a document.
    Node(DocId, NodeId),
    /// A graph object.
    Obj(ObjId),
    /// Container `idx` of workload `obj`.
    Container(ObjId, u32),
    /// A parsed image reference.
    Image(Arc<ImageRef>),
    /// A Kubernetes version.
    Version(Version),
    /// Reference `idx` of object `obj`.
    Ref(ObjId, u32),
    /// Exposure `idx` of workload `obj`.
    Exposure(ObjId, u32),
    /// The effective security context of container `idx` of workload `obj`.
    Effective(ObjId, u32),
}

impl Val {
    /// Whether the value owns no shared allocation (dropping it does nothing).
    #[inline]
    pub fn owns_nothing(&self) -> bool {
        // every variant named, so that a new one is sorted here
        match self {
            Val::Null
            | Val::Bool(_)
            | Val::Int(_)
            | Val::Float(_)
            | Val::Node(..)
            | Val::Obj(_)
            | Val::Container(..)
            | Val::Version(_)
            | Val::Ref(..)
            | Val::Exposure(..)
            | Val::Effective(..) => true,
            Val::Str(_) | Val::List(_) | Val::ConstList(_) | Val::Map(_) | Val::Image(_) => false,
        }
    }
}

impl From<&Const> for Val {
    fn from(c: &Const) -> Val {
        match c {
            Const::Null => Val::Null,
            Const::Bool(b) => Val::Bool(*b),
            Const::Int(i) => Val::Int(*i),
            Const::Float(f) => Val::Float(*f),
            Const::Str(s) => Val::Str(s.clone()),
            Const::List(items) => Val::ConstList(items.clone()),
            Const::Map(m) => Val::Map(m.clone()),
        }
    }
}

/// A scalar view of a value, borrowed where possible.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    /// Null or missing.
    Null,
    /// Boolean.
    Bool(bool),
    /// Number.
    Num(f64),
    /// String.
    Str(&'a str),
    /// Version.
    Version(Version),
    /// Anything else: compared by identity.
    Other,
}

/// The values a binding or quantifier ranges over, produced one at a time: the containers
/// of a workload, the objects of a scan and the items of a document's sequence are not
/// first copied into a list of values.
#[derive(Debug)]
pub enum Values<'g> {
    /// Values already made.
    Vals(std::vec::IntoIter<Val>),
    /// Graph objects.
    Objs(std::vec::IntoIter<ObjId>),
    /// Containers `range` of a workload.
    Containers(ObjId, std::ops::Range<u32>),
    /// The items of a sequence of document `DocId`.
    Items(DocId, std::slice::Iter<'g, NodeId>),
}

impl Default for Values<'_> {
    fn default() -> Self {
        Values::Vals(Vec::new().into_iter())
    }
}

impl From<Vec<Val>> for Values<'_> {
    fn from(v: Vec<Val>) -> Self {
        Values::Vals(v.into_iter())
    }
}

impl Iterator for Values<'_> {
    type Item = Val;

    fn next(&mut self) -> Option<Val> {
        match self {
            Values::Vals(v) => v.next(),
            Values::Objs(o) => o.next().map(Val::Obj),
            Values::Containers(o, r) => r.next().map(|i| Val::Container(*o, i)),
            Values::Items(d, items) => items.next().map(|n| Val::Node(*d, *n)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Values::Vals(v) => v.size_hint(),
            Values::Objs(o) => o.size_hint(),
            Values::Containers(_, r) => r.size_hint(),
            Values::Items(_, items) => items.size_hint(),
        }
    }
}

impl ExactSizeIterator for Values<'_> {}

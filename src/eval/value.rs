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

//! Objects found by a key made of their own fields (`(group, kind, namespace, name)`,
//! `(kind, namespace, name)`, `uid`). The table holds object ids only: the key is read from
//! the object when needed, so building an index of a million objects copies no string.

use super::{ObjId, Object};
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// The fields of a key; `None` stands for a missing namespace.
pub(crate) type Fields<'a, const N: usize> = [Option<&'a str>; N];

/// An index from `N` fields of an object to the first object with them.
#[derive(Debug, Default)]
pub(crate) struct FieldIndex<const N: usize> {
    table: HashTable<ObjId>,
    state: foldhash::fast::RandomState,
}

fn hash<const N: usize>(state: &foldhash::fast::RandomState, fields: &Fields<'_, N>) -> u64 {
    state.hash_one(fields)
}

impl<const N: usize> FieldIndex<N> {
    /// Records `id` under its fields unless an object with the same fields is there;
    /// returns that earlier object, if any.
    pub(crate) fn insert_first<'o>(
        &mut self,
        objects: &'o [Object],
        id: ObjId,
        fields: impl Fn(&'o Object) -> Fields<'o, N>,
    ) -> Option<ObjId> {
        let key = fields(objects.get(id as usize)?);
        let h = hash(&self.state, &key);
        let state = &self.state;
        let of = |x: ObjId| objects.get(x as usize).map(&fields);
        match self.table.entry(
            h,
            |&x| of(x) == Some(key),
            |&x| of(x).map_or(0, |k| hash(state, &k)),
        ) {
            hashbrown::hash_table::Entry::Occupied(e) => Some(*e.get()),
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(id);
                None
            }
        }
    }

    /// The first object with these fields.
    pub(crate) fn get<'o>(
        &self,
        objects: &'o [Object],
        key: Fields<'_, N>,
        fields: impl Fn(&'o Object) -> Fields<'o, N>,
    ) -> Option<ObjId> {
        let h = hash(&self.state, &key);
        self.table
            .find(h, |&x| objects.get(x as usize).map(&fields) == Some(key))
            .copied()
    }
}

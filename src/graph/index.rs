//! Objects found by a key made of their own fields (`(group, kind, namespace, name)`,
//! `(kind, namespace, name)`, `uid`). The table holds object ids only: the key is read from
//! the object when needed, so building an index of a million objects copies no string.

use super::{ObjId, Object};
use hashbrown::HashTable;
use rayon::prelude::*;
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
    /// An empty index with room for `n` objects: growing it would hash every key again.
    pub(crate) fn with_capacity(n: usize) -> FieldIndex<N> {
        FieldIndex {
            table: HashTable::with_capacity(n),
            state: foldhash::fast::RandomState::default(),
        }
    }

    /// Room for `n` more objects (rehashing the ones there, which `fields` gives).
    pub(crate) fn reserve<'o>(
        &mut self,
        n: usize,
        objects: &'o [Object],
        fields: impl Fn(&'o Object) -> Fields<'o, N>,
    ) {
        let state = &self.state;
        self.table.reserve(n, |&x| {
            objects
                .get(x as usize)
                .map_or(0, |o| hash(state, &fields(o)))
        });
    }

    /// The hash of the fields of a key (computed apart, possibly in parallel, for
    /// [`FieldIndex::insert_first_hashed`]).
    pub(crate) fn hash_of(&self, key: &Fields<'_, N>) -> u64 {
        hash(&self.state, key)
    }

    /// Records `id`, whose fields hash to `h`, unless an object with the same fields is
    /// there; returns that earlier object, if any. The fields are read again only to tell
    /// the object from one whose hash looks the same.
    pub(crate) fn insert_first_hashed<'o>(
        &mut self,
        objects: &'o [Object],
        id: ObjId,
        h: u64,
        fields: impl Fn(&'o Object) -> Fields<'o, N>,
    ) -> Option<ObjId> {
        let o = objects.get(id as usize)?;
        let state = &self.state;
        let of = |x: ObjId| objects.get(x as usize).map(&fields);
        match self.table.entry(
            h,
            |&x| of(x) == Some(fields(o)),
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

/// A relation from objects to lists of values, kept as arrays of values and one start
/// offset per object: 4 bytes per object and none per empty list, where a list per object
/// costs 24 bytes and an allocation for each that is not empty. The values are in one array,
/// or (built in parallel) in one array per run of [`RUN`] objects, each kept as built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PerObject<T> {
    /// Where each object's values start, counted over all the runs; `n + 1` entries.
    starts: Vec<u32>,
    runs: Vec<Vec<T>>,
    /// How many objects each run holds (all of them when there is one run).
    run_objects: usize,
}

/// How many objects a run of a table built in parallel holds.
const RUN: usize = 1024;

impl<T> Default for PerObject<T> {
    fn default() -> PerObject<T> {
        PerObject {
            starts: Vec::new(),
            runs: Vec::new(),
            run_objects: usize::MAX,
        }
    }
}

impl<T> PerObject<T> {
    /// The table of `n` objects holding `pairs` (object, value); the values of one object
    /// keep the order they have in `pairs`. Pairs of objects past `n` are dropped.
    pub(crate) fn from_pairs(n: usize, mut pairs: Vec<(ObjId, T)>) -> PerObject<T> {
        pairs.retain(|(o, _)| (*o as usize) < n);
        // a counting sort, stable (an object's values stay in the order they were found),
        // in linear time: how many values each object has, then where each pair goes
        let mut starts = vec![0u32; n + 1];
        for (o, _) in &pairs {
            if let Some(c) = starts.get_mut(*o as usize + 1) {
                *c = c.saturating_add(1);
            }
        }
        let mut at = 0u32;
        for s in &mut starts {
            at = at.saturating_add(*s);
            *s = at;
        }
        if !pairs.is_sorted_by_key(|(o, _)| *o) {
            let mut next = starts.clone();
            let mut dest: Vec<u32> = pairs
                .iter()
                .map(|(o, _)| match next.get_mut(*o as usize) {
                    Some(d) => {
                        *d = d.saturating_add(1);
                        *d - 1
                    }
                    None => 0,
                })
                .collect();
            // the permutation applied in place, one cycle at a time: every swap puts one
            // pair in its place
            for i in 0..pairs.len() {
                while let Some(&j) = dest.get(i) {
                    let j = j as usize;
                    if j == i || j >= pairs.len() {
                        break;
                    }
                    pairs.swap(i, j);
                    dest.swap(i, j);
                }
            }
        }
        // into a list of its own, at its exact size: collected in place, the values would
        // keep the pairs' larger allocation (and its room to grow) for the whole run
        let mut values = Vec::with_capacity(pairs.len());
        values.extend(pairs.into_iter().map(|(_, v)| v));
        PerObject {
            starts,
            runs: vec![values],
            run_objects: usize::MAX,
        }
    }

    /// The table of `n` objects whose values `f` appends, object by object, to the list it
    /// is given; in parallel, by runs of [`RUN`] objects, each run into one list that the
    /// table keeps: no list per object, and no copy of the values.
    pub(crate) fn par_build(n: usize, f: impl Fn(ObjId, &mut Vec<T>) + Sync) -> PerObject<T>
    where
        T: Send,
    {
        let runs: Vec<(Vec<u32>, Vec<T>)> = (0..n.div_ceil(RUN))
            .into_par_iter()
            // the values of a run are gathered in a list each worker keeps, then moved into
            // one of their exact size: no list grown (and copied) run after run
            .map_init(Vec::new, |values, r| {
                let ids = r * RUN..((r + 1) * RUN).min(n);
                let mut counts = Vec::with_capacity(ids.len());
                values.clear();
                for i in ids {
                    let before = values.len();
                    if let Ok(id) = ObjId::try_from(i) {
                        f(id, values);
                    }
                    counts.push(u32::try_from(values.len() - before).unwrap_or(u32::MAX));
                }
                // moved out, not taken: the worker's list keeps its room for the next run
                let mut run = Vec::with_capacity(values.len());
                run.append(values);
                (counts, run)
            })
            .collect();
        let mut starts = Vec::with_capacity(n + 1);
        let mut kept = Vec::with_capacity(runs.len());
        let mut at = 0u32;
        for (counts, run) in runs {
            for c in counts {
                starts.push(at);
                at = at.saturating_add(c);
            }
            kept.push(run);
        }
        starts.push(at);
        PerObject {
            starts,
            runs: kept,
            run_objects: RUN,
        }
    }

    /// The values of object `id` (empty for an object without any, or out of range).
    pub(crate) fn get(&self, id: ObjId) -> &[T] {
        let i = id as usize;
        let r = i / self.run_objects;
        let base = self
            .starts
            .get(r.saturating_mul(self.run_objects).min(i))
            .copied()
            .unwrap_or(0) as usize;
        match (self.starts.get(i), self.starts.get(i + 1), self.runs.get(r)) {
            (Some(&s), Some(&e), Some(run)) => run
                .get((s as usize).saturating_sub(base)..(e as usize).saturating_sub(base))
                .unwrap_or(&[]),
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PerObject;

    #[test]
    fn per_object_tables_keep_each_objects_order() {
        let t = PerObject::from_pairs(4, vec![(2, 'a'), (0, 'b'), (2, 'c'), (9, 'x'), (0, 'd')]);
        assert_eq!(t.get(0), &['b', 'd']);
        assert_eq!(t.get(1), &[] as &[char]);
        assert_eq!(t.get(2), &['a', 'c']);
        assert_eq!(t.get(3), &[] as &[char]);
        assert_eq!(t.get(4), &[] as &[char]);
        // built in parallel, in runs: the same lists
        let n = 3 * super::RUN + 5;
        let p = PerObject::par_build(n, |id, out| {
            for k in 0..id % 3 {
                out.push((id, k));
            }
        });
        for id in 0..n as u32 {
            let want: Vec<(u32, u32)> = (0..id % 3).map(|k| (id, k)).collect();
            assert_eq!(p.get(id), want.as_slice());
        }
        assert_eq!(p.get(n as u32), &[] as &[(u32, u32)]);
    }
}

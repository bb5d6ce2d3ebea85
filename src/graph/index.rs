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

/// A relation from objects to lists of values, kept as arrays of values and, for the
/// objects that have any, one start offset each: no list per object (24 bytes and an
/// allocation each), and about 0.2 bytes for an object without values (one bit, and its
/// share of a count for every 64 objects) where a start for every object costs 4. The
/// values are in one array, or (built in parallel) in one array per run of [`RUN`]
/// objects, each kept as built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PerObject<T> {
    /// Which objects have values: bit `i % 64` of word `i / 64`.
    present: Vec<u64>,
    /// How many objects with values come before each word of `present`.
    ranks: Vec<u32>,
    /// Where the values of each object that has any start, counted over all the runs, in
    /// object order; one more entry, the total.
    starts: Vec<u32>,
    runs: Vec<Vec<T>>,
    /// How many values come before each run.
    run_bases: Vec<u32>,
    /// How many objects each run holds (all of them when there is one run).
    run_objects: usize,
}

/// How many objects a run of a table built in parallel holds.
const RUN: usize = 1024;

impl<T> Default for PerObject<T> {
    fn default() -> PerObject<T> {
        PerObject {
            present: Vec::new(),
            ranks: Vec::new(),
            starts: Vec::new(),
            runs: Vec::new(),
            run_bases: Vec::new(),
            run_objects: usize::MAX,
        }
    }
}

/// The index of a table of `n` objects whose values number `counts` (object by object):
/// the bits of the objects with values, the counts before each word, and their starts.
fn sparse_index(n: usize, counts: impl Iterator<Item = u32>) -> (Vec<u64>, Vec<u32>, Vec<u32>) {
    let words = n.div_ceil(64);
    let (mut present, mut ranks) = (vec![0u64; words], Vec::with_capacity(words));
    let mut starts = Vec::new();
    let mut at = 0u32;
    for (i, c) in counts.take(n).enumerate() {
        if i % 64 == 0 {
            ranks.push(u32::try_from(starts.len()).unwrap_or(u32::MAX));
        }
        if c > 0 {
            if let Some(w) = present.get_mut(i / 64) {
                *w |= 1 << (i % 64);
            }
            starts.push(at);
            at = at.saturating_add(c);
        }
    }
    starts.push(at);
    starts.shrink_to_fit();
    (present, ranks, starts)
}

impl<T> PerObject<T> {
    /// The table of `n` objects holding `pairs` (object, value); the values of one object
    /// keep the order they have in `pairs`. Pairs of objects past `n` are dropped.
    pub(crate) fn from_pairs(n: usize, mut pairs: Vec<(ObjId, T)>) -> PerObject<T> {
        pairs.retain(|(o, _)| (*o as usize) < n);
        // a counting sort, stable (an object's values stay in the order they were found),
        // in linear time: how many values each object has, then where each pair goes
        let mut counts = vec![0u32; n];
        for (o, _) in &pairs {
            if let Some(c) = counts.get_mut(*o as usize) {
                *c = c.saturating_add(1);
            }
        }
        if !pairs.is_sorted_by_key(|(o, _)| *o) {
            // where each object's values go: the counts before it
            let mut next = Vec::with_capacity(n);
            let mut at = 0u32;
            for &c in &counts {
                next.push(at);
                at = at.saturating_add(c);
            }
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
        let (present, ranks, starts) = sparse_index(n, counts.into_iter());
        // into a list of its own, at its exact size: collected in place, the values would
        // keep the pairs' larger allocation (and its room to grow) for the whole run
        let mut values = Vec::with_capacity(pairs.len());
        values.extend(pairs.into_iter().map(|(_, v)| v));
        PerObject {
            present,
            ranks,
            starts,
            runs: vec![values],
            run_bases: vec![0],
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
        let (present, ranks, starts) = sparse_index(
            n,
            runs.iter().flat_map(|(counts, _)| counts.iter().copied()),
        );
        let mut run_bases = Vec::with_capacity(runs.len());
        let mut kept = Vec::with_capacity(runs.len());
        let mut at = 0u32;
        for (_, run) in runs {
            run_bases.push(at);
            at = at.saturating_add(u32::try_from(run.len()).unwrap_or(u32::MAX));
            kept.push(run);
        }
        PerObject {
            present,
            ranks,
            starts,
            runs: kept,
            run_bases,
            run_objects: RUN,
        }
    }

    /// The values of object `id` (empty for an object without any, or out of range).
    pub(crate) fn get(&self, id: ObjId) -> &[T] {
        let i = id as usize;
        let (w, bit) = (i / 64, i % 64);
        let Some(&word) = self.present.get(w) else {
            return &[];
        };
        if (word >> bit) & 1 == 0 {
            return &[];
        }
        // the objects with values before this one: those of the words before, and the
        // bits below this one's in its word
        let below = (word & ((1u64 << bit) - 1)).count_ones();
        let k = self.ranks.get(w).map_or(0, |&r| r.saturating_add(below)) as usize;
        let r = i / self.run_objects;
        match (
            self.starts.get(k),
            self.starts.get(k + 1),
            self.runs.get(r),
            self.run_bases.get(r),
        ) {
            (Some(&s), Some(&e), Some(run), Some(&base)) => run
                .get(s.saturating_sub(base) as usize..e.saturating_sub(base) as usize)
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

    proptest::proptest! {
        /// Both builders give every object its values in order, whichever objects have
        /// some: none, a few far apart, runs of them across word and run boundaries.
        #[test]
        fn per_object_tables_agree_with_a_list_per_object(
            n in 0usize..3000,
            pairs in proptest::collection::vec((0u32..3100, proptest::prelude::any::<u16>()), 0..400),
        ) {
            let mut lists: Vec<Vec<u16>> = vec![Vec::new(); n];
            for &(o, v) in &pairs {
                if let Some(l) = lists.get_mut(o as usize) {
                    l.push(v);
                }
            }
            let t = PerObject::from_pairs(n, pairs.clone());
            let p = PerObject::par_build(n, |id, out| {
                out.extend(pairs.iter().filter(|(o, _)| *o == id).map(|(_, v)| *v));
            });
            for id in 0..n as u32 + 70 {
                let want = lists.get(id as usize).map_or(&[][..], Vec::as_slice);
                proptest::prop_assert_eq!(t.get(id), want, "from pairs, object {}", id);
                proptest::prop_assert_eq!(p.get(id), want, "in parallel, object {}", id);
            }
        }
    }
}

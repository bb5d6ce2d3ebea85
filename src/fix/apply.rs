//! Applying the fixes of findings to their files: one pass over every file that has a
//! fixable finding, edits merged per file, overlapping edits refused, nothing written here
//! (the caller writes the new texts atomically or prints their diff).

use super::edit::{self, EditError, EditOp, PathStep};
use crate::diag::{FileId, SourceMap};
use crate::eval::Finding;
use crate::eval::fixes::FixOp;
use std::collections::BTreeMap;

/// Which fixes to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applicability {
    /// Only the safe ones.
    Safe,
    /// Safe and unsafe ones.
    Unsafe,
}

/// What became of one finding's fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The rule has no fix.
    NoFix,
    /// Applied.
    Fixed,
    /// Unsafe, and unsafe fixes were not asked for.
    UnsafeSkipped,
    /// Cannot be applied in place; why.
    NotFixable(String),
    /// Its edits overlap those of an earlier fix in the same document (that rule's id);
    /// a later pass may apply it.
    Overlaps(String),
    /// The edit failed; why.
    Failed(String),
}

/// A file the fixes change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// The file, as the source map names it (a path as given on the command line).
    pub name: String,
    /// Whether it can be written back (`false` for standard input and rendered output).
    pub writable: bool,
    /// Its text before.
    pub before: String,
    /// Its text after every applied fix.
    pub after: String,
}

/// The result of one pass.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    /// What became of each finding's fix, indexed like the findings.
    pub outcomes: Vec<Outcome>,
    /// The files that change, in name order.
    pub files: Vec<FileChange>,
}

impl Applied {
    /// Findings fixed, by rule id.
    pub fn fixed_by_rule<'a>(&self, findings: &'a [Finding]) -> BTreeMap<&'a str, usize> {
        let mut m = BTreeMap::new();
        for (f, o) in findings.iter().zip(&self.outcomes) {
            if *o == Outcome::Fixed {
                *m.entry(&*f.rule.id).or_insert(0) += 1;
            }
        }
        m
    }
}

/// Applies the edits of one fix to document `doc` of `text`; a guarded removal is made only
/// while its item is still there as it was read.
pub fn apply_fix_ops(text: &str, doc: usize, ops: &[FixOp]) -> Result<String, EditError> {
    let mut cur = text.to_string();
    for o in ops {
        if let Some(expect) = &o.only_if
            && text_at(&cur, doc, o.op.path()).as_deref() != Some(expect.as_str())
        {
            continue;
        }
        cur = edit::apply_ops(&cur, doc, std::slice::from_ref(&o.op))?;
    }
    Ok(cur)
}

/// The source text of the node at `path` in document `doc` of `text`.
fn text_at(text: &str, doc: usize, path: &[PathStep]) -> Option<String> {
    let mut sources = SourceMap::new();
    let out = crate::model::Loader::default().load_text("fix.yaml", text.to_string(), &mut sources);
    let d = out.docs.iter().find(|d| d.index as usize == doc)?;
    let mut id = d.root;
    for step in path {
        id = match (step, d.value(id)?) {
            (PathStep::Key(k), crate::model::Value::Map(entries)) => entries.get(k)?,
            (PathStep::Index(i), crate::model::Value::Seq(items)) => *items.get(*i)?,
            _ => return None,
        };
    }
    let span = d.span(id)?;
    text.get(span.start as usize..span.end as usize)
        .map(str::to_string)
}

/// Whether a file of this name is a file on disk that can be rewritten: not standard
/// input, not the output of `helm template` or `kustomize build`.
pub fn is_on_disk(name: &str) -> bool {
    !(name.starts_with('<') && name.ends_with('>'))
}

/// Applies the fixes of `findings` (as `which` allows) to the texts in `sources`.
/// Standard input and rendered output are edited too (for `--diff`) but marked not
/// writable, and their findings not fixable in place.
pub fn apply(findings: &[Finding], sources: &SourceMap, which: Applicability) -> Applied {
    let mut outcomes = vec![Outcome::NoFix; findings.len()];
    // per file: (document, finding index), in the findings' order
    let mut by_file: BTreeMap<FileId, Vec<(u32, usize)>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let Some(fix) = f.autofix.as_deref() else {
            continue;
        };
        if let Some(why) = &fix.unfixable {
            outcomes[i] = Outcome::NotFixable(why.to_string());
            continue;
        }
        if !fix.is_safe() && which == Applicability::Safe {
            outcomes[i] = Outcome::UnsafeSkipped;
            continue;
        }
        if f.rendered.is_some() {
            outcomes[i] = Outcome::NotFixable(
                "the finding is in rendered output; change the template or values".to_string(),
            );
            // still shown by `--diff` against the rendered document
        }
        match fix.target {
            Some((file, doc)) => by_file.entry(file).or_default().push((doc, i)),
            None => outcomes[i] = Outcome::NotFixable("the fix has no target".to_string()),
        }
    }
    // files are independent: each is edited on its own thread
    use rayon::prelude::*;
    let by_file: Vec<(FileId, Vec<(u32, usize)>)> = by_file.into_iter().collect();
    let done: Vec<FileResult> = by_file
        .par_iter()
        .map(|(file, items)| apply_file(findings, sources, *file, items, &outcomes))
        .collect();
    let mut files = Vec::new();
    for (set, change) in done {
        for (i, o) in set {
            outcomes[i] = o;
        }
        files.extend(change);
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Applied { outcomes, files }
}

/// What fixing one file gave: new outcomes by finding index, and the file's change.
type FileResult = (Vec<(usize, Outcome)>, Option<FileChange>);

/// Applies the fixes of the findings `items` (document, finding index) to one file: the new
/// outcome of each finding, and the file's change when it has one.
fn apply_file(
    findings: &[Finding],
    sources: &SourceMap,
    file: FileId,
    items: &[(u32, usize)],
    outcomes: &[Outcome],
) -> FileResult {
    apply_file_with(findings, sources, file, items, outcomes, true)
}

/// [`apply_file`]; `by_document`: edit a file of many documents one document at a time.
fn apply_file_with(
    findings: &[Finding],
    sources: &SourceMap,
    file: FileId,
    items: &[(u32, usize)],
    outcomes: &[Outcome],
    by_document: bool,
) -> FileResult {
    let mut set: Vec<(usize, Outcome)> = Vec::new();
    let Some(src) = sources.file(file) else {
        return (set, None);
    };
    let name = src.name.to_string();
    let writable = is_on_disk(&name);
    let before = src.text.to_string();
    // a file of many documents is edited a document at a time (see `edit::split_documents`)
    let split = if by_document {
        edit::split_documents(&before)
    } else {
        None
    };
    let mut parts: Option<Vec<String>> = split.map(|ranges| {
        ranges
            .into_iter()
            .map(|r| before.get(r).unwrap_or_default().to_string())
            .collect()
    });
    let mut text = before.clone();
    let already = |i: usize| outcomes.get(i) != Some(&Outcome::NoFix);
    // accepted edits per document: path and op, for the overlap check
    let mut taken: BTreeMap<u32, Vec<(&EditOp, &str)>> = BTreeMap::new();
    for &(doc, i) in items {
        let Some(fix) = findings.get(i).and_then(|f| f.autofix.as_deref()) else {
            continue;
        };
        let accepted = taken.entry(doc).or_default();
        // the same edits again (two findings of one rule on one place): done already
        if fix
            .ops
            .iter()
            .all(|op| accepted.iter().any(|(o, _)| *o == &op.op))
        {
            if !already(i) {
                set.push((i, Outcome::Fixed));
            }
            continue;
        }
        if let Some(other) = fix.ops.iter().find_map(|op| {
            accepted
                .iter()
                .find(|(o, _)| *o != &op.op && conflict(o, &op.op))
                .map(|(_, rule)| rule.to_string())
        }) {
            set.push((i, Outcome::Overlaps(other)));
            continue;
        }
        let edited = match parts.as_mut().and_then(|p| p.get_mut(doc as usize)) {
            Some(part) => apply_fix_ops(part, 0, &fix.ops).map(|next| *part = next),
            None => apply_fix_ops(&text, doc as usize, &fix.ops).map(|next| text = next),
        };
        match edited {
            Ok(()) => {
                for op in &fix.ops {
                    accepted.push((&op.op, &findings[i].rule.id));
                }
                if !already(i) {
                    set.push((
                        i,
                        if writable {
                            Outcome::Fixed
                        } else {
                            Outcome::NotFixable(format!(
                                "`{name}` is not a file that can be rewritten"
                            ))
                        },
                    ));
                }
            }
            Err(e) => set.push((i, Outcome::Failed(e.to_string()))),
        }
    }
    if let Some(p) = parts {
        if !edit::parts_join(&p) {
            // the edited documents do not read back as one text: make the same edits on
            // the whole text instead, each checked against every document
            return apply_file_with(findings, sources, file, items, outcomes, false);
        }
        text = p.concat();
    }
    let change = (text != before).then_some(FileChange {
        name,
        writable,
        before,
        after: text,
    });
    (set, change)
}

fn path_of(op: &EditOp) -> &[PathStep] {
    match op {
        EditOp::Set { path, .. } | EditOp::Remove { path } | EditOp::Add { path, .. } => path,
    }
}

/// Whether two edits of one document cannot both be made by paths: they touch the same
/// place, or one removes a list item and so moves the items the other names.
fn conflict(a: &EditOp, b: &EditOp) -> bool {
    let (pa, pb) = (path_of(a), path_of(b));
    if overlaps(pa, pb) {
        return true;
    }
    let shifts = |removed: &EditOp, other: &[PathStep]| match removed {
        EditOp::Remove { path } => match path.split_last() {
            Some((PathStep::Index(_), parent)) => {
                other.len() > parent.len()
                    && other[..parent.len()] == *parent
                    && matches!(other[parent.len()], PathStep::Index(_))
            }
            _ => false,
        },
        _ => false,
    };
    shifts(a, pb) || shifts(b, pa)
}

/// Whether two paths touch the same place: one path is the other or inside it.
fn overlaps(a: &[PathStep], b: &[PathStep]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// Largest file whose multi-edit fixes are described by editing the whole text; in a larger
/// one they are made on their document's piece (`edit::split_documents`), and not
/// described as text when the file does not cut into pieces (their edits by path are
/// always there; `--fix` applies them whatever the size).
const DESCRIBE_MAX_BYTES: usize = 1 << 20;

/// The documents with a duplicate key (`W1001` among `diagnostics`), by file and
/// position: a path there may mean two places, and their fixes are not described.
pub fn ambiguous_documents(
    diagnostics: &[crate::diag::Diagnostic],
    docs: &[crate::model::Document],
) -> std::collections::HashSet<(FileId, u32)> {
    let mut dup = std::collections::HashSet::new();
    for d in diagnostics.iter().filter(|d| d.code == "W1001") {
        let Some(label) = &d.primary else { continue };
        for doc in docs.iter().filter(|x| x.file == label.span.file) {
            if doc
                .span(doc.root)
                .is_some_and(|r| r.start <= label.span.start && label.span.end <= r.end)
            {
                dup.insert((doc.file, doc.index));
            }
        }
    }
    dup
}

/// Fills in the text changes of every finding's fix (as if it were the only one applied),
/// for the reports that carry them; a fix whose edit fails becomes not fixable. `docs` are
/// the documents the scan read (a one-edit fix is previewed on them without parsing the
/// file again); `ambiguous(file, doc)` says whether a document has a duplicate key, where
/// a path may mean two places and no fix is described.
pub fn describe(
    findings: &mut [Finding],
    sources: &SourceMap,
    docs: &[crate::model::Document],
    ambiguous: &(dyn Fn(FileId, u32) -> bool + Sync),
) {
    let fixes = findings
        .iter_mut()
        .filter_map(|f| f.autofix.as_mut())
        .collect();
    describe_fixes(fixes, sources, docs, ambiguous);
}

/// [`describe`] for the fixes themselves (those of a scan's recorded findings, described
/// before the documents are freed: `crate::eval::exec::Records::fixes_mut`).
pub fn describe_fixes(
    mut fixes: Vec<&mut std::sync::Arc<crate::eval::fixes::Autofix>>,
    sources: &SourceMap,
    docs: &[crate::model::Document],
    ambiguous: &(dyn Fn(FileId, u32) -> bool + Sync),
) {
    use rayon::prelude::*;
    // large files with fixes of several edits: their documents' pieces, found once, so that
    // each fix is made on its document alone (see `edit::split_documents`)
    let mut large: Vec<FileId> = fixes
        .iter()
        .map(|a| &***a)
        .filter(|x| x.ops.len() > 1)
        .filter_map(|x| x.target.map(|(file, _)| file))
        .filter(|&file| {
            sources
                .file(file)
                .is_some_and(|s| s.text.len() > DESCRIBE_MAX_BYTES)
        })
        .collect();
    large.sort_unstable();
    large.dedup();
    let pieces: BTreeMap<FileId, Vec<std::ops::Range<usize>>> = large
        .par_iter()
        .filter_map(|&file| {
            let src = sources.file(file)?;
            Some((file, edit::split_documents(&src.text)?))
        })
        .collect();
    // how each document is written, found by the first of its fixes to need it
    let writings: Vec<std::sync::OnceLock<edit::Writing>> =
        docs.iter().map(|_| std::sync::OnceLock::new()).collect();
    fixes.par_iter_mut().for_each(|fix| {
        let Some((file, doc)) = fix.target.filter(|_| !fix.ops.is_empty()) else {
            return;
        };
        // a fix with edits is its finding's own (only fixes that cannot be made are shared)
        let fix = std::sync::Arc::make_mut(fix);
        let Some(src) = sources.file(file) else {
            return;
        };
        if ambiguous(file, doc) {
            fix.unfixable =
                Some(format!("document {doc} has a duplicate key, so a path is ambiguous").into());
            return;
        }
        // the document as the scan read it: its spans are into this file's text
        let parsed = fix
            .doc
            .and_then(|i| Some((docs.get(i as usize)?, writings.get(i as usize)?)))
            .filter(|(d, _)| d.file == file && d.text.len() == src.text.len());
        let change = match (fix.ops.as_slice(), parsed) {
            // one edit on the document as read: its guard holds by construction
            ([one], Some((d, writing))) => {
                let writing = *writing.get_or_init(|| edit::Writing::of(&src.text, d));
                edit::preview(&src.text, d, writing, &one.op).map(|(r, t)| (r.start, r.end, t))
            }
            // several edits are made one after the other on fresh text, each reading it
            // again: on a large file, only its document's piece (too slow otherwise)
            _ if src.text.len() > DESCRIBE_MAX_BYTES => {
                let Some(range) = pieces.get(&file).and_then(|p| p.get(doc as usize)) else {
                    return;
                };
                let piece = src.text.get(range.clone()).unwrap_or_default();
                apply_fix_ops(piece, 0, &fix.ops).map(|after| {
                    let (s, e, t) = minimal_change(piece, &after);
                    (range.start + s, range.start + e, t.to_string())
                })
            }
            _ => apply_fix_ops(&src.text, doc as usize, &fix.ops).map(|after| {
                let (s, e, t) = minimal_change(&src.text, &after);
                (s, e, t.to_string())
            }),
        };
        match change {
            Ok((start, end, inserted)) => {
                let span = crate::diag::Span {
                    file,
                    start: u32::try_from(start).unwrap_or(u32::MAX),
                    end: u32::try_from(end).unwrap_or(u32::MAX),
                };
                fix.changes = vec![crate::eval::fixes::TextChange {
                    deleted: crate::eval::Location::of(sources, span),
                    inserted,
                }];
            }
            Err(e) => fix.unfixable = Some(e.to_string().into()),
        }
    });
}

/// The one replacement that turns `before` into `after`: the byte range of `before` that
/// differs (after the common prefix, before the common suffix, on character boundaries) and
/// the text of `after` in its place.
pub fn minimal_change<'a>(before: &str, after: &'a str) -> (usize, usize, &'a str) {
    let prefix = before
        .char_indices()
        .zip(after.chars())
        .find(|((_, a), b)| a != b)
        .map_or(before.len().min(after.len()), |((i, _), _)| i);
    let max_suffix = (before.len() - prefix).min(after.len() - prefix);
    let mut suffix = before
        .bytes()
        .rev()
        .zip(after.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while suffix > 0
        && !(before.is_char_boundary(before.len() - suffix)
            && after.is_char_boundary(after.len() - suffix))
    {
        suffix -= 1;
    }
    (
        prefix,
        before.len() - suffix,
        &after[prefix..after.len() - suffix],
    )
}

/// A unified diff of one file, with `a/` and `b/` names as git writes them.
///
/// Patience diff: anchored on the lines each side has once (names, uids, images), it runs
/// Myers only between anchors. Myers over a whole 20,000-object stream with 23,582 fixes
/// took 8 of the 18 s of `--diff --unsafe-fixes`; the hunks were the same on the corpus,
/// `examples/` and the 2k and 20k streams.
pub fn unified_diff(change: &FileChange) -> String {
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_lines(&change.before, &change.after);
    let name = change.name.trim_start_matches("./").trim_start_matches('/');
    let mut out = diff
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(true)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a unified diff's hunks to `before` (the test's own reader of the format).
    fn patch(before: &str, diff: &str) -> String {
        let old: Vec<&str> = before.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut at = 0; // lines of `old` consumed
        let mut lines = diff.split_inclusive('\n').skip(2).peekable();
        while let Some(h) = lines.next() {
            // `@@ -start[,len] +start[,len] @@`: the old range starts at line `start`
            // (1-based; one line before the range when it is empty)
            let range = h.trim_start_matches("@@ -").split(' ').next().unwrap();
            let mut parts = range.split(',');
            let start: usize = parts.next().unwrap().parse().unwrap();
            let len: usize = parts.next().map_or(1, |l| l.parse().unwrap());
            let first = if len == 0 { start } else { start - 1 };
            out.extend(old[at..first].iter().copied());
            at = first;
            while let Some(l) = lines.next_if(|l| !l.starts_with("@@")) {
                let (tag, text) = l.split_at(1);
                let next_is_hint = lines.peek().is_some_and(|n| n.starts_with('\\'));
                let text = if next_is_hint {
                    text.trim_end_matches('\n')
                } else {
                    text
                };
                match tag {
                    " " => {
                        out.push_str(text);
                        at += 1;
                    }
                    "-" => at += 1,
                    "+" => out.push_str(text),
                    _ => {} // `\ No newline at end of file`
                }
            }
        }
        out.extend(old[at..].iter().copied());
        out
    }

    proptest::proptest! {
        #[test]
        fn a_unified_diff_turns_before_into_after(
            before in proptest::collection::vec(0u8..6, 0..60),
            edits in proptest::collection::vec((0usize..60, 0u8..3, 0u8..6), 0..12),
            newline_at_end in proptest::bool::ANY,
        ) {
            // few distinct lines, so that lines repeat and the diff has choices to make
            let line = |n: u8| format!("  key{n}: value\n");
            let mut after: Vec<String> = before.iter().map(|n| line(*n)).collect();
            for (at, op, n) in edits {
                let at = at.min(after.len());
                match op {
                    0 => after.insert(at, line(n)),
                    1 if at < after.len() => { after.remove(at); }
                    _ if at < after.len() => after[at] = line(n),
                    _ => {}
                }
            }
            let mut before: String = before.iter().map(|n| line(*n)).collect();
            let mut after: String = after.concat();
            if !newline_at_end {
                before.pop();
                after.pop();
            }
            let change = FileChange { name: "a.yaml".into(), writable: true, before, after };
            let diff = unified_diff(&change);
            proptest::prop_assert_eq!(diff.is_empty(), change.before == change.after);
            proptest::prop_assert_eq!(patch(&change.before, &diff), change.after, "{}", diff);
        }
    }

    #[test]
    fn minimal_changes() {
        assert_eq!(minimal_change("a: 1\n", "a: 2\n"), (3, 4, "2"));
        assert_eq!(minimal_change("a: 1\n", "a: 1\nb: 2\n"), (5, 5, "b: 2\n"));
        assert_eq!(minimal_change("a: 1\nb: 2\n", "a: 1\n"), (5, 10, ""));
        assert_eq!(minimal_change("x", "x"), (1, 1, ""));
        assert_eq!(minimal_change("é1", "é2"), (2, 3, "2"));
        assert_eq!(minimal_change("aa", "aaa"), (2, 2, "a"));
    }

    #[test]
    fn overlapping_paths() {
        let k = |s: &str| PathStep::Key(s.to_string());
        assert!(overlaps(&[k("a"), k("b")], &[k("a")]));
        assert!(overlaps(&[k("a")], &[k("a")]));
        assert!(!overlaps(&[k("a"), k("b")], &[k("a"), k("c")]));
        assert!(!overlaps(
            &[k("a"), PathStep::Index(0)],
            &[k("a"), PathStep::Index(1)]
        ));
        let rm = |i| EditOp::Remove {
            path: vec![k("a"), PathStep::Index(i)],
        };
        let set = |i| EditOp::Set {
            path: vec![k("a"), PathStep::Index(i), k("x")],
            value: super::edit::FixValue::Bool(true),
        };
        assert!(conflict(&rm(0), &set(2)));
        assert!(conflict(&set(2), &rm(0)));
        assert!(conflict(&rm(0), &rm(1)));
        assert!(!conflict(
            &EditOp::Remove {
                path: vec![k("b"), PathStep::Index(0)]
            },
            &set(1)
        ));
        assert!(is_on_disk("deploy/app.yaml"));
        assert!(!is_on_disk("<stdin>"));
        assert!(!is_on_disk("<helm template charts/web>"));
    }
}

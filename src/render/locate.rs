//! Finding a key path in YAML-like text (a template, a resource file, a values file) by
//! indentation, without parsing it: templates are not YAML until rendered.

use std::ops::Range;

/// One step of a path from a document's root to a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// A mapping key.
    Key(String),
    /// A sequence position.
    Index(usize),
}

/// One line of the text: its byte offset, indentation, and the key it starts (after any
/// `- ` item markers), with that key's column.
struct Line<'a> {
    start: usize,
    text: &'a str,
    indent: usize,
    /// Column of the first `- ` item marker, when the line starts an item.
    dash: Option<usize>,
    /// The key and its column, when the line holds `key:`.
    key: Option<(&'a str, usize)>,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let indent = line.len() - line.trim_start_matches(' ').len();
        let mut col = indent;
        let mut dash = None;
        let mut rest = line.get(indent..).unwrap_or("");
        while let Some(r) = rest
            .strip_prefix("- ")
            .or_else(|| (rest == "-").then_some(""))
        {
            dash.get_or_insert(col);
            let skipped = rest.len() - r.len();
            let r2 = r.trim_start_matches(' ');
            col += skipped + (r.len() - r2.len());
            rest = r2;
        }
        let key = key_of(rest).map(|k| (k, col));
        out.push(Line {
            start,
            text: line,
            indent,
            dash,
            key,
        });
        start += raw.len();
    }
    out
}

/// The key a line starts with: `name:` followed by a space or the end, quoted or not.
fn key_of(rest: &str) -> Option<&str> {
    if rest.starts_with('#') || rest.starts_with("{{") {
        return None;
    }
    let (key, after) = if let Some(r) = rest.strip_prefix('"') {
        let end = r.find('"')?;
        (r.get(..end)?, r.get(end + 1..)?)
    } else if let Some(r) = rest.strip_prefix('\'') {
        let end = r.find('\'')?;
        (r.get(..end)?, r.get(end + 1..)?)
    } else {
        let end = rest
            .find(": ")
            .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))?;
        (rest.get(..end)?, rest.get(end..)?)
    };
    let after = after.trim_start_matches(' ');
    (after.starts_with(": ") || after == ":" || after.starts_with(":\t")).then_some(key.trim_end())
}

/// Whether a line carries nothing that ends a block: blank, a comment, or only template
/// actions (`{{- if ... }}`, `{{- include ... | nindent 4 }}`).
fn is_neutral(l: &Line<'_>) -> bool {
    let t = l.text.trim();
    t.is_empty() || t.starts_with('#') || (t.starts_with("{{") && t.ends_with("}}")) || t == "---"
}

/// The byte ranges of the documents of a text (split at `---` lines).
pub fn documents(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    let mut at = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        if line == "---" || line.starts_with("--- ") {
            if at > from {
                out.push(from..at);
            }
            from = at + raw.len();
        }
        at += raw.len();
    }
    if text.len() > from {
        out.push(from..text.len());
    }
    out
}

/// The document of `text` whose top-level `kind:` is `kind` and whose `metadata.name` the
/// built `name` contains (with a prefix or suffix added; the longest wins), else the first
/// of that kind, else the first document (a template may write the kind itself).
pub fn document_of(text: &str, kind: &str, name: &str) -> Range<usize> {
    let docs = documents(text);
    let of_kind: Vec<&Range<usize>> = docs
        .iter()
        .filter(|r| {
            text.get((*r).clone()).is_some_and(|d| {
                lines(d).iter().any(|l| {
                    l.indent == 0 && l.key.is_some_and(|(k, _)| k == "kind") && {
                        let v = l.text.split_once(':').map_or("", |(_, v)| v).trim();
                        v.trim_matches(['"', '\'']) == kind
                    }
                })
            })
        })
        .collect();
    let path = [Step::Key("metadata".into()), Step::Key("name".into())];
    let named = of_kind
        .iter()
        .filter_map(|r| {
            let at = find(text, (*r).clone(), &path)?;
            let v = text
                .get(at)?
                .split_once(':')?
                .1
                .trim()
                .trim_matches(['"', '\'']);
            (!v.is_empty() && name.contains(v)).then_some((v.len(), *r))
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, r)| r);
    named
        .or_else(|| of_kind.first().copied())
        .or_else(|| docs.first())
        .cloned()
        .unwrap_or(0..text.len())
}

/// The byte range of the key at `path` within `range` of `text` (the key text to the end of
/// its line), when every key of the path is found.
///
/// Keys are matched by indentation: each key must be deeper than the one before and inside
/// its block; a sequence position counts the items of the block (in a template, a loop
/// writes them, so when there are too few the position is passed over).
pub fn find(text: &str, range: Range<usize>, path: &[Step]) -> Option<Range<usize>> {
    let body = text.get(range.clone())?;
    let ls = lines(body);
    // the parent's column and the line to search from
    let mut parent: Option<usize> = None;
    let mut from = 0usize;
    let mut found: Option<usize> = None;
    // whether a line is inside the block of the node at column `parent` (a sequence may
    // put its items at its key's own column)
    let in_block = |l: &Line<'_>, parent: Option<usize>| -> bool {
        parent.is_none_or(|p| is_neutral(l) || l.indent > p || l.dash == Some(p))
    };
    for step in path {
        match step {
            Step::Key(k) => {
                // the block's direct children share the column of its first key
                let mut child_col = None;
                let mut hit = None;
                for (i, l) in ls.iter().enumerate().skip(from) {
                    if i > from && !in_block(l, parent) {
                        break;
                    }
                    let Some((key, col)) = l.key else { continue };
                    if parent.is_some_and(|p| col <= p) {
                        continue;
                    }
                    let c = *child_col.get_or_insert(col);
                    if col == c && key == k {
                        hit = Some((i, col));
                        break;
                    }
                }
                let (i, col) = hit?;
                parent = Some(col);
                from = i + 1;
                found = Some(i);
            }
            Step::Index(n) => {
                // the n-th item marker of the block, at the block's item column
                let mut item_col = None;
                let mut count = 0usize;
                let mut hit = None;
                for (i, l) in ls.iter().enumerate().skip(from) {
                    if !in_block(l, parent) {
                        break;
                    }
                    if let Some(d) = l.dash {
                        let c = *item_col.get_or_insert(d);
                        if d == c {
                            if count == *n {
                                hit = Some((i, d));
                                break;
                            }
                            count += 1;
                        }
                    }
                }
                if let Some((i, d)) = hit {
                    // the item's keys are deeper than its marker; the first is on its line
                    parent = Some(d);
                    from = i;
                    found = Some(i);
                }
            }
        }
    }
    let l = ls.get(found?)?;
    let col = l.key.map_or(l.indent, |(_, c)| c);
    let start = range.start + l.start + col;
    let end = range.start + l.start + l.text.trim_end().len();
    Some(start..end.max(start))
}

/// A template action that writes a block, and the keys of the path it writes unseen.
pub type Action<'t> = (&'t str, Vec<Step>);

/// Where a template writes the node at `path`: the key itself ([`find`]), else the deepest
/// key of the path whose block a template action writes (`{{- toYaml .Values.x | nindent 8 }}`
/// under `securityContext:`), with that action's text and the keys it leaves unwritten.
pub fn find_written<'t>(
    text: &'t str,
    range: Range<usize>,
    path: &[Step],
) -> Option<(Range<usize>, Option<Action<'t>>)> {
    if let Some(r) = find(text, range.clone(), path) {
        return Some((r, None));
    }
    for n in (1..path.len()).rev() {
        let Some(at) = find(text, range.clone(), path.get(..n)?) else {
            continue;
        };
        // the key's block: its own line after the key, then the deeper lines below it
        let line_start = text.get(..at.start)?.rfind('\n').map_or(0, |i| i + 1);
        let col = at.start - line_start;
        let mut block = vec![text.get(at.clone())?];
        let rest = text.get(at.end..range.end)?;
        for l in rest.split('\n').skip(1) {
            let indent = l.len() - l.trim_start_matches(' ').len();
            if !l.trim().is_empty() && indent <= col && !l.trim_start().starts_with("{{") {
                break;
            }
            block.push(l);
        }
        if let Some(action) = block.iter().find(|l| l.contains("{{")) {
            let remaining = path.get(n..)?.to_vec();
            return Some((at, Some((action.trim(), remaining))));
        }
        return None;
    }
    None
}

/// The range of the line holding the document's top-level `kind:` (else its first key).
pub fn object_line(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let body = text.get(range.clone())?;
    let ls = lines(body);
    let l = ls
        .iter()
        .find(|l| l.indent == 0 && l.key.is_some_and(|(k, _)| k == "kind"))
        .or_else(|| ls.iter().find(|l| l.key.is_some()))?;
    let start = range.start + l.start + l.indent;
    Some(start..range.start + l.start + l.text.trim_end().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Step {
        Step::Key(s.to_string())
    }

    const TEMPLATE: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    {{- include \"x\" . | nindent 4 }}
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx
          securityContext:
            privileged: {{ .Values.privileged }}
        - name: side
          securityContext:
            privileged: false
";

    fn line_of(text: &str, r: Range<usize>) -> &str {
        &text[r]
    }

    #[test]
    fn finds_a_key_path_by_indentation() {
        let path = [
            k("spec"),
            k("template"),
            k("spec"),
            k("containers"),
            Step::Index(0),
            k("securityContext"),
            k("privileged"),
        ];
        let r = find(TEMPLATE, 0..TEMPLATE.len(), &path).unwrap();
        assert_eq!(line_of(TEMPLATE, r), "privileged: {{ .Values.privileged }}");
        let mut second = path.clone();
        second[4] = Step::Index(1);
        let r = find(TEMPLATE, 0..TEMPLATE.len(), &second).unwrap();
        assert_eq!(line_of(TEMPLATE, r), "privileged: false");
        // an item's first key is on its marker's line
        let r = find(
            TEMPLATE,
            0..TEMPLATE.len(),
            &[
                k("spec"),
                k("template"),
                k("spec"),
                k("containers"),
                Step::Index(1),
                k("name"),
            ],
        )
        .unwrap();
        assert_eq!(line_of(TEMPLATE, r), "name: side");
    }

    #[test]
    fn a_block_a_template_action_writes_is_where_its_keys_are_written() {
        let text = "spec:\n  containers:\n    - name: web\n      securityContext:\n        {{- toYaml .Values.securityContext | nindent 8 }}\n      image: x\n";
        let path = [
            k("spec"),
            k("containers"),
            Step::Index(0),
            k("securityContext"),
            k("privileged"),
        ];
        let (r, action) = find_written(text, 0..text.len(), &path).unwrap();
        assert_eq!(&text[r], "securityContext:");
        let (action, rest) = action.unwrap();
        assert!(action.starts_with("{{- toYaml .Values.securityContext"));
        assert_eq!(rest, vec![k("privileged")]);
        // a block without a template action writes nothing unseen: not found
        let path = [
            k("spec"),
            k("containers"),
            Step::Index(0),
            k("image"),
            k("x"),
        ];
        assert_eq!(find_written(text, 0..text.len(), &path), None);
    }

    #[test]
    fn a_key_outside_its_parent_block_is_not_found() {
        // `name` is under metadata, not under spec
        assert_eq!(
            find(TEMPLATE, 0..TEMPLATE.len(), &[k("spec"), k("name")]),
            None
        );
        assert_eq!(
            find(
                TEMPLATE,
                0..TEMPLATE.len(),
                &[k("metadata"), k("labels"), k("app")]
            ),
            None
        );
    }

    #[test]
    fn items_at_their_key_column_are_counted() {
        let text = "spec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: y\n";
        let path = [k("spec"), k("containers"), Step::Index(1), k("image")];
        let r = find(text, 0..text.len(), &path).unwrap();
        assert_eq!(&text[r], "image: y");
    }

    #[test]
    fn a_document_is_chosen_by_kind_and_the_name_in_the_built_name() {
        let text = "kind: D\nmetadata:\n  name: api\n---\nkind: D\nmetadata:\n  name: api-worker\n";
        let r = document_of(text, "D", "prod-api-worker");
        assert!(text[r].contains("api-worker"));
        let r = document_of(text, "D", "prod-api");
        assert!(!text[r].contains("worker"));
    }

    #[test]
    fn documents_split_at_markers_and_are_chosen_by_kind() {
        let text = "kind: A\nx: 1\n---\nkind: B\nx: 2\n";
        let r = document_of(text, "B", "");
        let found = find(text, r, &[k("x")]).unwrap();
        assert_eq!(&text[found], "x: 2");
        assert_eq!(
            &text[object_line(text, document_of(text, "A", "")).unwrap()],
            "kind: A"
        );
    }
}

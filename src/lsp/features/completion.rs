//! Completion.

use super::*;

pub(super) fn item(
    label: &str,
    kind: CompletionItemKind,
    detail: Option<String>,
    doc: Option<String>,
) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        documentation: doc.map(|d| {
            Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value: d,
            })
        }),
        ..CompletionItem::default()
    }
}

/// Where the cursor is, for completion.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// At the start of a top-level line.
    TopLevel,
    /// In a rule, before its `for`.
    Metadata,
    /// In a rule, after its `for`.
    Body,
    /// Elsewhere (a def or param).
    Other,
}

pub(super) fn place(text: &str, off: usize) -> (Place, usize) {
    let before = text.get(..off).unwrap_or("");
    let mut saw_for = false;
    for (start, line) in line_starts_rev(before) {
        let trimmed = line.trim_start();
        let top = !line.starts_with([' ', '\t']) && !line.is_empty();
        if trimmed.starts_with("for ") || trimmed == "for" {
            saw_for = true;
        }
        if top && (line.starts_with("rule ") || line == "rule") && start < off {
            return (
                if saw_for {
                    Place::Body
                } else {
                    Place::Metadata
                },
                start,
            );
        }
        if top && !line.starts_with("//") && start + line.len() < off {
            return (
                if line.starts_with('}') {
                    Place::TopLevel
                } else {
                    Place::Other
                },
                start,
            );
        }
    }
    (Place::TopLevel, 0)
}

/// The actions of a `fix` block, with what they do.
const FIX_ACTIONS: &[(&str, &str)] = &[
    (
        "set",
        "`set PATH = VALUE`: set a field, creating missing parents",
    ),
    (
        "remove",
        "`remove PATH`, or `remove x in LIST where COND`: remove a field or list items",
    ),
    (
        "add",
        "`add VALUE to LIST`: append unless an equal item is there",
    ),
];

/// Whether the end of `rule_text` (a rule up to the current line) is inside an open
/// `fix safe|unsafe ... {` block.
fn in_fix_block(rule_text: &str) -> bool {
    let mut open = false;
    for line in rule_text.lines() {
        let l = line.trim();
        if (l.starts_with("fix safe") || l.starts_with("fix unsafe")) && l.ends_with('{') {
            open = true;
        } else if l == "}" {
            open = false;
        }
    }
    open
}

/// The lines of `text` from the last to the first, with their start offsets.
pub(super) fn line_starts_rev(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut starts: Vec<usize> = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    starts.into_iter().rev().map(move |s| {
        let rest = text.get(s..).unwrap_or("");
        (s, rest.split('\n').next().unwrap_or(""))
    })
}

pub(super) fn completion(s: &Snapshot, params: &Value) -> Result<Vec<CompletionItem>, Failure> {
    let (path, t, off) = document_at(s, params)?;
    let line_start = t
        .get(..off)
        .and_then(|b| b.rfind('\n'))
        .map_or(0, |i| i + 1);
    let prefix = t.get(line_start..off).unwrap_or("");
    let partial_len = prefix
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .map(char::len_utf8)
        .sum::<usize>();
    let before = prefix.get(..prefix.len() - partial_len).unwrap_or("");
    if before.ends_with('.') {
        return Ok(field_completion(s, &path, &t, off - partial_len - 1, off));
    }
    let words: Vec<&str> = before.split_whitespace().collect();
    let (place, rule_start) = place(&t, line_start);
    let in_quote = before.ends_with('"');
    if words.first() == Some(&"severity") && words.len() == 1 && place == Place::Metadata {
        return Ok(Severity::ALL
            .iter()
            .map(|sv| item(sv.as_str(), CompletionItemKind::ENUM_MEMBER, None, None))
            .collect());
    }
    if words.first() == Some(&"owasp") && place == Place::Metadata {
        return Ok(OWASP
            .iter()
            .map(|(c, n)| {
                let mut i = item(
                    c,
                    CompletionItemKind::ENUM_MEMBER,
                    Some((*n).to_string()),
                    None,
                );
                if !in_quote {
                    i.insert_text = Some(format!("\"{c}\""));
                }
                i
            })
            .collect());
    }
    if before.trim().is_empty() {
        match place {
            Place::TopLevel if before.is_empty() => {
                return Ok(["rule", "def", "param", "table", "import"]
                    .iter()
                    .map(|k| item(k, CompletionItemKind::KEYWORD, None, None))
                    .collect());
            }
            Place::Metadata => {
                let mut out: Vec<CompletionItem> = METADATA
                    .iter()
                    .map(|(k, d)| {
                        item(k, CompletionItemKind::KEYWORD, None, Some((*d).to_string()))
                    })
                    .collect();
                out.push(item("for", CompletionItemKind::KEYWORD, None, None));
                return Ok(out);
            }
            _ => {}
        }
    }
    let a = s.analysis(&path);
    let mut out = Vec::new();
    if words.last() == Some(&"in") {
        for p in kinds::all_plurals() {
            out.push(item(p, CompletionItemKind::CLASS, None, source_doc(p)));
        }
        for (n, d) in SOURCES {
            out.push(item(
                n,
                CompletionItemKind::CLASS,
                None,
                Some((*d).to_string()),
            ));
        }
        globals(&a, &mut out, false);
        bindings_before(&t, rule_start, off, &mut out);
        return Ok(out);
    }
    for (n, sig, d) in BUILTINS {
        out.push(item(
            n,
            CompletionItemKind::FUNCTION,
            Some((*sig).to_string()),
            Some((*d).to_string()),
        ));
    }
    globals(&a, &mut out, true);
    if place == Place::Body {
        bindings_before(&t, rule_start, off, &mut out);
        let in_fix = in_fix_block(t.get(rule_start..line_start).unwrap_or(""));
        if words.is_empty() && in_fix {
            for (k, d) in FIX_ACTIONS {
                out.push(item(
                    k,
                    CompletionItemKind::KEYWORD,
                    None,
                    Some((*d).to_string()),
                ));
            }
        }
        if words.first() == Some(&"add") && in_fix {
            out.push(item("to", CompletionItemKind::KEYWORD, None, None));
        }
        if words.is_empty() && !in_fix {
            for (k, d) in [
                (
                    "fix safe",
                    "a fix that changes nothing else about what the workload can do: `fix safe \"why\" { set ... }`",
                ),
                (
                    "fix unsafe",
                    "a fix that may break the workload; applied only with `--unsafe-fixes`",
                ),
            ] {
                out.push(item(
                    k,
                    CompletionItemKind::KEYWORD,
                    None,
                    Some(d.to_string()),
                ));
            }
        }
        for k in ["where", "report at"] {
            out.push(item(k, CompletionItemKind::KEYWORD, None, None));
        }
    }
    for k in [
        "and",
        "or",
        "not",
        "in",
        "exists",
        "any",
        "all",
        "none",
        "count",
        "true",
        "false",
        "null",
        "matches",
        "contains",
        "starts with",
        "ends with",
        "selects",
    ] {
        out.push(item(k, CompletionItemKind::KEYWORD, None, None));
    }
    Ok(out)
}

/// Params, tables and (with `defs`) defs of the ruleset.
pub(super) fn globals(a: &Analysis, out: &mut Vec<CompletionItem>, defs: bool) {
    for f in &a.files {
        for it in &f.ast.items {
            let (name, kind) = match it {
                Item::Def(d) if defs => (&d.name, CompletionItemKind::FUNCTION),
                Item::Param(p) => (&p.name, CompletionItemKind::CONSTANT),
                Item::Table(t) => (&t.name, CompletionItemKind::STRUCT),
                _ => continue,
            };
            let detail = match it {
                Item::Def(d) => Some(def_signature(d)),
                Item::Param(p) => Some(format!("param {}", type_text(&p.ty))),
                Item::Table(_) => Some("table".to_string()),
                _ => None,
            };
            out.push(item(&name.text, kind, detail, Some(item_doc(it))));
        }
    }
}

/// The names bound by `x in` between a rule's start and the cursor.
pub(super) fn bindings_before(t: &str, from: usize, to: usize, out: &mut Vec<CompletionItem>) {
    let seg = t.get(from..to).unwrap_or("");
    let words: Vec<&str> = seg
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut seen = Vec::new();
    for w in words.windows(2) {
        if let [name, "in"] = w {
            if !seen.contains(name) && name.chars().next().is_some_and(|c| !c.is_ascii_digit()) {
                seen.push(name);
                out.push(item(
                    name,
                    CompletionItemKind::VARIABLE,
                    Some("binding".into()),
                    None,
                ));
            }
        }
    }
}

/// Fields after `base.`: the text is compiled without the `.` and the half-typed name,
/// so the type of the expression ending at the dot is known.
pub(super) fn field_completion(
    s: &Snapshot,
    path: &Path,
    t: &str,
    dot: usize,
    off: usize,
) -> Vec<CompletionItem> {
    let (word, _) = text::word_at(t, off);
    let end = word.end.max(off);
    let mut edited = String::with_capacity(t.len());
    edited.push_str(t.get(..dot).unwrap_or(""));
    edited.push_str(t.get(end..).unwrap_or(""));
    let mut docs = s.docs.clone();
    docs.insert(path.to_path_buf(), Arc::new(edited));
    let root = analysis::root_of(path, &s.shared.roots);
    let a = analysis::analyze(&root, &docs);
    let Some(file) = a.file(path) else {
        return Vec::new();
    };
    let base = a
        .compiled
        .types
        .iter()
        .filter(|(sp, _)| sp.file == file.id && sp.end as usize == dot)
        .min_by_key(|(sp, _)| sp.end - sp.start)
        .map(|(_, ty)| ty.clone());
    let Some(base) = base else {
        return Vec::new();
    };
    members(&base)
        .iter()
        .map(|m| {
            let kind = if m.attribute {
                CompletionItemKind::PROPERTY
            } else {
                CompletionItemKind::FIELD
            };
            item(
                &m.name,
                kind,
                Some(ty_text(&m.ty)),
                Some(member_doc(&base, m)),
            )
        })
        .collect()
}

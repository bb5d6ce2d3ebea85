//! Go to definition and references.

use super::*;

pub(super) fn definition(s: &Snapshot, params: &Value) -> Result<Option<Location>, Failure> {
    let (path, _, off) = document_at(s, params)?;
    let a = s.analysis(&path);
    let Some(file) = a.file(&path) else {
        return Ok(None);
    };
    let Some((item, found)) = locate(&file.ast, off) else {
        return Ok(None);
    };
    let dir = path.parent().unwrap_or(Path::new("/"));
    let file_start = |p: PathBuf| {
        analysis::uri(&normalize(&p)).map(|uri| Location {
            uri,
            range: lsp_types::Range::default(),
        })
    };
    Ok(match found {
        Found::Var(_, name) => match local_decl(item, name, off) {
            Some(n) => a.location(n.loc.0),
            None => global_decl(&a, name).and_then(|(_, _, n)| a.location(n.loc.0)),
        },
        Found::Call(n) => global_decl(&a, &n.text).and_then(|(_, _, n)| a.location(n.loc.0)),
        Found::Decl(n, _) => a.location(n.loc.0),
        Found::Rule(r) => a.location(r.id.loc.0),
        Found::Import(i) => file_start(dir.join(&i.path.value)),
        Found::TablePath(tb) => file_start(dir.join(&tb.path.value)),
        Found::Field(..) | Found::Severity(_) => None,
    })
}

/// `a/b/../c` as `a/c` (without touching the file system).
pub(super) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

pub(super) fn references(s: &Snapshot, params: &Value) -> Result<Vec<Location>, Failure> {
    let (path, _, off) = document_at(s, params)?;
    let with_decl = params
        .pointer("/context/includeDeclaration")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let a = s.analysis(&path);
    let Some(file) = a.file(&path) else {
        return Ok(Vec::new());
    };
    let Some((item, found)) = locate(&file.ast, off) else {
        return Ok(Vec::new());
    };
    let (name, local): (&str, Option<Span>) = match found {
        Found::Var(_, n) => (n, local_decl(item, n, off).map(|d| d.loc.0)),
        Found::Call(n) => (&n.text, None),
        Found::Decl(n, Decl::Binding | Decl::DefParam) => (&n.text, Some(n.loc.0)),
        Found::Decl(n, _) => (&n.text, None),
        _ => return Ok(Vec::new()),
    };
    let mut spans: Vec<Span> = Vec::new();
    match local {
        Some(decl) => {
            if with_decl {
                spans.push(decl);
            }
            walk_item(item, &mut |e| {
                if let ExprKind::Var(v) = &e.kind {
                    if v == name
                        && local_decl(item, v, e.span().start as usize).map(|d| d.loc.0)
                            == Some(decl)
                    {
                        spans.push(e.span());
                    }
                }
            });
        }
        None => {
            if with_decl {
                if let Some((_, _, n)) = global_decl(&a, name) {
                    spans.push(n.loc.0);
                }
            }
            for f in &a.files {
                for it in &f.ast.items {
                    walk_item(it, &mut |e| match &e.kind {
                        ExprKind::Var(v)
                            if v == name
                                && local_decl(it, v, e.span().start as usize).is_none() =>
                        {
                            spans.push(e.span());
                        }
                        ExprKind::Call(n, _) if n.text == name => spans.push(n.loc.0),
                        _ => {}
                    });
                }
            }
        }
    }
    Ok(spans.into_iter().filter_map(|sp| a.location(sp)).collect())
}

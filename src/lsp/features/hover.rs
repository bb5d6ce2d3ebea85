//! Hover.

use super::*;

pub(super) fn markdown(value: String, range: Option<lsp_types::Range>) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range,
    }
}

pub(super) fn hover(s: &Snapshot, params: &Value) -> Result<Option<Hover>, Failure> {
    let (path, t, off) = document_at(s, params)?;
    let a = s.analysis(&path);
    let Some(file) = a.file(&path) else {
        return Ok(None);
    };
    let Some((item, found)) = locate(&file.ast, off) else {
        return Ok(None);
    };
    let r = |span: Span| Some(text::range(&t, span.range()));
    let out = match found {
        Found::Rule(rule) => Some(markdown(rule_doc(rule), r(rule.id.loc.0))),
        Found::Severity(n) => Some(markdown(
            format!(
                "severity `{}`: one of {}",
                n.text,
                Severity::ALL
                    .map(|s| format!("`{}`", s.as_str()))
                    .join(", ")
            ),
            r(n.loc.0),
        )),
        Found::Decl(name, Decl::Binding | Decl::DefParam) => {
            let ty = type_at(&a, name.loc.0).map_or_else(|| "any".to_string(), ty_text);
            let mut text = format!("```kanon\n{}: {ty}\n```", name.text);
            if let Some(src) = binding_source(item, name) {
                let src = crate::syntax::format::expr_text(src);
                text.push_str(&format!("\n\nranges over `{src}`"));
                if let Some(d) = source_doc(&src) {
                    text.push_str(&format!(": {}", d.split_once(": ").map_or("", |x| x.1)));
                }
            }
            Some(markdown(text, r(name.loc.0)))
        }
        Found::Decl(name, _) => Some(markdown(item_doc(item), r(name.loc.0))),
        Found::Var(e, name) => {
            if local_decl(item, name, off).is_some() {
                let ty = type_at(&a, e.span()).map_or_else(|| "any".to_string(), ty_text);
                Some(markdown(
                    format!("```kanon\n{name}: {ty}\n```"),
                    r(e.span()),
                ))
            } else if let Some((_, decl, _)) = global_decl(&a, name) {
                Some(markdown(item_doc(decl), r(e.span())))
            } else {
                source_doc(name).map(|d| markdown(d, r(e.span())))
            }
        }
        Found::Field(base, name) => {
            let base_ty = type_at(&a, base.span()).cloned().unwrap_or(Ty::Any);
            let m = members(&base_ty).into_iter().find(|m| m.name == name.text);
            m.map(|m| markdown(member_doc(&base_ty, &m), r(name.loc.0)))
        }
        Found::Call(n) => {
            if let Some((_, decl, _)) = global_decl(&a, &n.text) {
                Some(markdown(item_doc(decl), r(n.loc.0)))
            } else if let Some((_, sig, doc)) = BUILTINS.iter().find(|(b, _, _)| *b == n.text) {
                Some(markdown(
                    format!("```kanon\n{sig}\n```\n\nbuilt-in function: {doc}"),
                    r(n.loc.0),
                ))
            } else {
                source_doc(&n.text).map(|d| markdown(d, r(n.loc.0)))
            }
        }
        Found::Import(i) => Some(markdown(item_doc(item), r(i.path.loc.0))),
        Found::TablePath(tb) => Some(markdown(item_doc(item), r(tb.path.loc.0))),
    };
    Ok(out)
}

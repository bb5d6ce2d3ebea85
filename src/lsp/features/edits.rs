//! Formatting and document symbols.

use super::*;

pub(super) fn formatting(s: &Snapshot, params: &Value) -> Result<Option<Vec<TextEdit>>, Failure> {
    let (_, t) = document(s, params)?;
    let (ast, diags) = crate::syntax::parse(0, &t);
    if !diags.is_empty() {
        // like `kanon fmt`, a file with syntax errors is left untouched
        return Ok(None);
    }
    let formatted = crate::syntax::format::format_file(&ast, &t);
    if formatted == *t {
        return Ok(Some(Vec::new()));
    }
    Ok(Some(vec![TextEdit {
        range: text::range(&t, 0..t.len()),
        new_text: formatted,
    }]))
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be given
pub(super) fn symbol(
    t: &str,
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    whole: Span,
    sel: Span,
) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: text::range(t, whole.range()),
        selection_range: text::range(t, sel.range()),
        children: None,
    }
}

pub(super) fn symbols(s: &Snapshot, params: &Value) -> Result<Vec<DocumentSymbol>, Failure> {
    let (_, t) = document(s, params)?;
    let (ast, _) = crate::syntax::parse(0, &t);
    let mut out = Vec::new();
    for it in &ast.items {
        out.push(match it {
            Item::Rule(r) => {
                let title = r.meta.iter().find_map(|m| match m {
                    ast::Meta::Title(s) => Some(s.value.clone()),
                    _ => None,
                });
                symbol(
                    &t,
                    format!("{} {}", r.id.text, r.name.text),
                    title,
                    SymbolKind::CLASS,
                    r.loc.0,
                    r.id.loc.0,
                )
            }
            Item::Def(d) => symbol(
                &t,
                d.name.text.clone(),
                Some(def_signature(d)),
                SymbolKind::FUNCTION,
                d.loc.0,
                d.name.loc.0,
            ),
            Item::Param(p) => symbol(
                &t,
                p.name.text.clone(),
                Some(type_text(&p.ty)),
                SymbolKind::CONSTANT,
                p.loc.0,
                p.name.loc.0,
            ),
            Item::Table(tb) => symbol(
                &t,
                tb.name.text.clone(),
                Some(tb.path.value.clone()),
                SymbolKind::STRUCT,
                tb.loc.0,
                tb.name.loc.0,
            ),
            Item::Relation(r) => symbol(
                &t,
                r.name.text.clone(),
                Some(super::docs::relation_signature(r)),
                SymbolKind::FUNCTION,
                r.loc.0,
                r.name.loc.0,
            ),
            Item::Import(i) => symbol(
                &t,
                i.path.value.clone(),
                None,
                SymbolKind::MODULE,
                i.loc.0,
                i.path.loc.0,
            ),
        });
    }
    Ok(out)
}

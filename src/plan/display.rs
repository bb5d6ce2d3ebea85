//! Rendering checked expressions as text for `kanon explain`.

use crate::check::ir::{Access, CmpOp, Const, Expr, Quant, Source};

/// Renders a constant.
pub fn const_text(c: &Const) -> String {
    match c {
        Const::Null => "null".into(),
        Const::Bool(b) => b.to_string(),
        Const::Int(i) => i.to_string(),
        Const::Float(f) => format!("{f:?}"),
        Const::Str(s) => crate::syntax::format::quote(s),
        // a table's rows: the first few, then how many there are
        Const::List(items) if items.len() > 4 && matches!(items.first(), Some(Const::Map(_))) => {
            let v: Vec<String> = items.iter().take(2).map(const_text).collect();
            format!("[{}, ... {} rows]", v.join(", "), items.len())
        }
        Const::List(items) => {
            let v: Vec<String> = items.iter().map(const_text).collect();
            format!("[{}]", v.join(", "))
        }
        Const::Map(m) => format!("{{{} keys}}", m.len()),
    }
}

fn var(vars: &[String], v: usize) -> String {
    vars.get(v).cloned().unwrap_or_else(|| format!("${v}"))
}

/// Renders a source.
pub fn source_text(s: &Source, vars: &[String]) -> String {
    match s {
        Source::Scan {
            kinds,
            namespace: None,
        } => kinds.to_string(),
        Source::Scan {
            kinds,
            namespace: Some(ns),
        } => format!("{kinds}(ns={})", expr_text(ns, vars)),
        Source::Expr(e) => expr_text(e, vars),
    }
}

/// Renders an access path.
pub fn access_text(a: &Access, vars: &[String]) -> String {
    match a {
        Access::SelectedBy { kind, target } => {
            format!("label-index[{kind} selecting {}]", expr_text(target, vars))
        }
        Access::ByName {
            kinds,
            namespace,
            name,
        } => match namespace {
            Some(ns) => format!(
                "name-index[{kinds} ns={} name={}]",
                expr_text(ns, vars),
                expr_text(name, vars)
            ),
            None => format!("name-index[{kinds} name={}]", expr_text(name, vars)),
        },
        Access::Rows { index, key } => format!(
            "row-index[{} rows by {} = {}]",
            index.rows.len(),
            index.column,
            expr_text(key, vars)
        ),
    }
}

/// Renders an expression on one line, fully parenthesised where nested.
pub fn expr_text(e: &Expr, vars: &[String]) -> String {
    let sub = |x: &Expr| {
        let t = expr_text(x, vars);
        // a kept sub-expression is bracketed as the expression it keeps
        let x = match x {
            Expr::Memo(_, m) | Expr::Shared { expr: m, .. } => &**m,
            other => other,
        };
        match x {
            Expr::And(..)
            | Expr::Or(..)
            | Expr::Cmp(..)
            | Expr::Quant { .. }
            | Expr::Probe { .. } => format!("({t})"),
            _ => t,
        }
    };
    match e {
        // a kept sub-expression reads as the expression (the plan lists what it keeps)
        Expr::Memo(_, x) | Expr::Shared { expr: x, .. } => expr_text(x, vars),
        Expr::Const(c) => const_text(c),
        Expr::Var(v) => var(vars, *v),
        Expr::Param(i) => format!("param#{i}"),
        Expr::Table(i) => format!("table#{i}"),
        Expr::Field(b, f) => format!("{}.{f}", sub(b)),
        Expr::Index(b, i) => format!("{}[{}]", sub(b), expr_text(i, vars)),
        Expr::Attr(b, a) => format!("{}.{}", sub(b), a.as_str()),
        Expr::Call(f, args) => {
            let a: Vec<String> = args.iter().map(|x| expr_text(x, vars)).collect();
            format!("{}({})", f.name(), a.join(", "))
        }
        Expr::Not(x) => format!("not {}", sub(x)),
        Expr::And(a, b) => format!("{} and {}", sub(a), sub(b)),
        Expr::Or(a, b) => format!("{} or {}", sub(a), sub(b)),
        Expr::Cmp(op, a, b) => format!("{} {} {}", sub(a), cmp_text(*op), sub(b)),
        Expr::Coalesce(a, b) => format!("{} ?? {}", sub(a), sub(b)),
        Expr::Matches(a, p) => format!(
            "{} matches {}",
            sub(a),
            crate::syntax::format::quote(p.0.as_str())
        ),
        Expr::Selects(a, b) => format!("{} selects {}", sub(a), sub(b)),
        Expr::List(items) => {
            let v: Vec<String> = items.iter().map(|x| expr_text(x, vars)).collect();
            format!("[{}]", v.join(", "))
        }
        Expr::Relation { name, args, .. } => {
            let a: Vec<String> = args.iter().map(|x| expr_text(x, vars)).collect();
            format!("{name}({})", a.join(", "))
        }
        Expr::Quant {
            quant,
            var: v,
            source,
            cond,
        } => quantified(
            *quant,
            &var(vars, *v),
            &source_text(source, vars),
            cond.as_deref(),
            vars,
        ),
        Expr::Probe {
            quant,
            var: v,
            access,
            cond,
        } => quantified(
            *quant,
            &var(vars, *v),
            &access_text(access, vars),
            cond.as_deref(),
            vars,
        ),
    }
}

/// `any(x in source where cond)`: one form for quantifiers and index probes.
fn quantified(quant: Quant, var: &str, from: &str, cond: Option<&Expr>, vars: &[String]) -> String {
    let c = cond
        .map(|c| format!(" where {}", expr_text(c, vars)))
        .unwrap_or_default();
    format!("{}({var} in {from}{c})", quant_text(quant))
}

fn quant_text(q: Quant) -> &'static str {
    q.as_str()
}

fn cmp_text(op: CmpOp) -> &'static str {
    op.as_str()
}

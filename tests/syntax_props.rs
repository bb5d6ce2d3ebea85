//! Property tests of the parse stage: `parse(format(ast)) == ast` over random trees, and
//! no input makes the parser or checker panic or overflow the stack.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::check::{Overrides, compile, fs::RuleFs};
use kanon::diag::SourceMap;
use kanon::syntax::format::format_file;
use kanon::syntax::parse;

fn rule_with(cond: &str) -> String {
    format!(
        "rule T-001 deep {{\n  severity low\n  for w in workloads\n  where {cond}\n  report at w\n    \"x\"\n}}\n"
    )
}

fn compile_text(src: &str) -> Vec<String> {
    let mut fs = RuleFs::new();
    fs.add_embedded("rules", "test.kanon", src);
    let files = fs.embedded_rules("rules");
    let mut sources = SourceMap::new();
    let out = compile(&fs, &files, &Overrides::new(), &mut sources);
    out.diagnostics.iter().map(|d| d.code.to_string()).collect()
}

/// Long chains of each kind: a 10,000-long one is an error (E0002), a 1,000-long one too, and a 90-long one parses,
/// formats, round-trips and compiles, all without overflowing a test thread's stack.
fn chain_case(make: impl Fn(usize) -> String) {
    let long = make(10_000);
    let (_, d) = parse(0, &long);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, "E0002");
    let (_, d) = parse(0, &make(1000));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, "E0002");
    let ok = make(90);
    let (file, d) = parse(0, &ok);
    assert!(d.is_empty(), "{d:#?}");
    let text = format_file(&file, &ok);
    let (again, d) = parse(0, &text);
    assert!(d.is_empty(), "{d:#?}");
    assert_eq!(file, again);
    let codes = compile_text(&ok);
    assert!(!codes.iter().any(|c| c == "E0002"), "{codes:?}");
    // the deepest trees the parser accepts go through the checker too
    let mut accepted = 0;
    for n in 60..=240 {
        let src = make(n);
        if parse(0, &src).1.is_empty() {
            accepted = n;
            compile_text(&src);
        }
    }
    assert!(accepted >= 90, "{accepted}");
}

#[test]
fn deep_parentheses_are_an_error() {
    let s = rule_with(&format!(
        "{}w.name == \"a\"{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    ));
    let (_, d) = parse(0, &s);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "E0002");
}

#[test]
fn long_not_chain() {
    chain_case(|n| rule_with(&format!("{}w.name == \"a\"", "not ".repeat(n))));
}

#[test]
fn long_or_chain() {
    chain_case(|n| rule_with(&vec!["w.name == \"a\""; n / 2].join(" or ")));
}

#[test]
fn long_field_chain() {
    chain_case(|n| rule_with(&format!("w.podSpec{} == 1", ".x".repeat(n))));
}

#[test]
fn long_quantifier_chain() {
    chain_case(|n| {
        rule_with(&format!(
            "{}true",
            "any c in w.containers where ".repeat(n / 2)
        ))
    });
}

#[test]
fn alternating_comparison_and_not() {
    chain_case(|n| rule_with(&format!("w.name == \"a\"{}", " == not true".repeat(n / 2))));
}

#[test]
fn long_chains_inside_interpolations() {
    let s = format!(
        "rule T-001 deep {{\n  severity low\n  for w in workloads\n  report at w \"{{{}w.name}}\"\n}}\n",
        "not ".repeat(10_000)
    );
    let (_, d) = parse(0, &s);
    assert_eq!(d[0].code, "E0002");
    let s = format!(
        "rule T-001 deep {{\n  severity low\n  for w in workloads\n  report at w \"{{{}w.name{}}}\"\n}}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let (_, d) = parse(0, &s);
    assert_eq!(d[0].code, "E0002");
}

mod strategies {
    //! Strategies for random syntax trees (spans left at their default: `Loc` is ignored
    //! by equality).

    use kanon::syntax::ast::*;
    use proptest::prelude::*;

    const KEYWORDS: &[&str] = &[
        "and", "or", "not", "in", "for", "where", "report", "at", "exists", "any", "all", "none",
        "count", "true", "false", "null", "rule", "param", "table", "def", "import", "from",
        "selects", "matches", "contains", "starts", "ends", "with",
    ];

    pub fn ident() -> impl Strategy<Value = String> {
        "[a-z_][a-zA-Z0-9_]{0,6}".prop_filter("not a keyword", |s| !KEYWORDS.contains(&s.as_str()))
    }

    fn name() -> impl Strategy<Value = Name> {
        ident().prop_map(Name::new)
    }

    /// Field names: identifiers, reserved words included, and `$ref`-like names.
    fn field_name() -> impl Strategy<Value = Name> {
        prop_oneof![
            4 => "[a-zA-Z_$][a-zA-Z0-9_]{0,6}",
            1 => proptest::sample::select(KEYWORDS).prop_map(str::to_string),
        ]
        .prop_map(Name::new)
    }

    /// Any text, weighted towards the characters that need escaping.
    pub fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                4 => proptest::char::range('a', 'z'),
                1 => proptest::sample::select(vec![
                    '"', '\\', '\n', '\t', '\r', '{', '}', ' ', 'é', '✓', '`', '/', '$',
                ]),
                1 => any::<char>(),
            ],
            0..8,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    fn str_(s: String) -> Str {
        Str {
            value: s,
            loc: Loc::default(),
        }
    }

    fn e(kind: ExprKind) -> Expr {
        Expr {
            kind,
            loc: Loc::default(),
        }
    }

    fn leaf() -> impl Strategy<Value = Expr> {
        prop_oneof![
            Just(ExprKind::Null),
            any::<bool>().prop_map(ExprKind::Bool),
            any::<i64>().prop_map(ExprKind::Int),
            prop_oneof![
                (-1e6f64..1e6).boxed(),
                any::<f64>()
                    .prop_filter("finite", |f| f.is_finite())
                    .boxed(),
            ]
            .prop_map(ExprKind::Float),
            text().prop_map(ExprKind::Str),
            ident().prop_map(ExprKind::Var),
        ]
        .prop_map(e)
    }

    const OPS: &[BinaryOp] = &BinaryOp::ALL;

    const QUANTS: &[Quant] = &Quant::ALL;

    /// Every expression form, nested to depth ~4.
    pub fn expr() -> impl Strategy<Value = Expr> {
        leaf().prop_recursive(4, 48, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(|v| e(ExprKind::List(v))),
                (inner.clone(), field_name()).prop_map(|(b, n)| e(ExprKind::Field(Box::new(b), n))),
                (inner.clone(), inner.clone())
                    .prop_map(|(b, i)| e(ExprKind::Index(Box::new(b), Box::new(i)))),
                (name(), proptest::collection::vec(inner.clone(), 0..3))
                    .prop_map(|(n, a)| e(ExprKind::Call(n, a))),
                inner
                    .clone()
                    .prop_map(|x| e(ExprKind::Unary(UnaryOp::Not, Box::new(x)))),
                (proptest::sample::select(OPS), inner.clone(), inner.clone())
                    .prop_map(|(op, l, r)| e(ExprKind::Binary(op, Box::new(l), Box::new(r)))),
                (
                    proptest::sample::select(QUANTS),
                    name(),
                    inner.clone(),
                    proptest::option::of(inner)
                )
                    .prop_map(|(quant, var, source, cond)| e(
                        ExprKind::Quantified {
                            quant,
                            var,
                            source: Box::new(source),
                            cond: cond.map(Box::new),
                        }
                    )),
            ]
        })
    }

    /// Paths such as `w.spec["x"].name`, as interpolated in messages.
    fn path() -> impl Strategy<Value = Expr> {
        let base = ident().prop_map(|v| e(ExprKind::Var(v)));
        base.prop_recursive(3, 6, 1, |inner| {
            prop_oneof![
                (inner.clone(), field_name()).prop_map(|(b, n)| e(ExprKind::Field(Box::new(b), n))),
                (inner.clone(), text()).prop_map(|(b, k)| e(ExprKind::Index(
                    Box::new(b),
                    Box::new(e(ExprKind::Str(k)))
                ))),
                (inner, any::<u8>()).prop_map(|(b, k)| e(ExprKind::Index(
                    Box::new(b),
                    Box::new(e(ExprKind::Int(i64::from(k))))
                ))),
            ]
        })
    }

    fn message() -> impl Strategy<Value = Message> {
        proptest::collection::vec(
            prop_oneof![
                text()
                    .prop_filter("non-empty", |t| !t.is_empty())
                    .prop_map(MessagePart::Text),
                path().prop_map(MessagePart::Expr),
                expr().prop_map(MessagePart::Expr),
            ],
            0..5,
        )
        .prop_map(|parts| {
            // adjacent text parts are one part once parsed
            let mut out: Vec<MessagePart> = Vec::new();
            for p in parts {
                match (out.last_mut(), p) {
                    (Some(MessagePart::Text(a)), MessagePart::Text(b)) => a.push_str(&b),
                    (_, p) => out.push(p),
                }
            }
            Message {
                parts: out,
                loc: Loc::default(),
            }
        })
    }

    /// Doc comment lines: no line breaks, no trailing spaces.
    fn docs() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            "[ a-zA-Z0-9`#*/(){}\"-]{0,12}".prop_map(|s| s.trim_end().to_string()),
            0..3,
        )
    }

    fn strs() -> impl Strategy<Value = Vec<Str>> {
        proptest::collection::vec(text().prop_map(str_), 1..3)
    }

    fn meta() -> impl Strategy<Value = Meta> {
        prop_oneof![
            text().prop_map(|s| Meta::Title(str_(s))),
            name().prop_map(Meta::Severity),
            strs().prop_map(Meta::Owasp),
            strs().prop_map(Meta::Refs),
            text().prop_map(|s| Meta::Fix(str_(s))),
            strs().prop_map(Meta::Tags),
        ]
    }

    fn ty() -> impl Strategy<Value = TypeExpr> {
        let named = ident().prop_map(|n| TypeExpr::Named(Name::new(n)));
        named.prop_recursive(2, 3, 1, |inner| {
            inner.prop_map(|t| TypeExpr::List(Box::new(t)))
        })
    }

    fn fix_action() -> impl Strategy<Value = FixAction> {
        prop_oneof![
            (expr(), expr()).prop_map(|(path, value)| FixAction::Set { path, value }),
            expr().prop_map(|path| FixAction::Remove { path }),
            (name(), expr(), proptest::option::of(expr())).prop_map(|(var, list, condition)| {
                FixAction::RemoveEach {
                    var,
                    list,
                    condition,
                }
            }),
            (expr(), expr()).prop_map(|(value, list)| FixAction::Add { value, list }),
        ]
    }

    fn fix() -> impl Strategy<Value = Fix> {
        (
            prop_oneof![Just("safe"), Just("unsafe")],
            proptest::option::of(text()),
            proptest::option::of(expr()),
            proptest::collection::vec(fix_action(), 1..4),
        )
            .prop_map(|(kind, reason, condition, actions)| Fix {
                kind: Name::new(kind.to_string()),
                reason: reason.map(str_),
                condition,
                actions,
                loc: Loc::default(),
            })
    }

    fn rule() -> impl Strategy<Value = Rule> {
        (
            (
                docs(),
                "[A-Z][A-Z0-9]{0,3}(-[a-zA-Z0-9]{1,4}){1,2}",
                "[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,4}){0,2}",
                proptest::collection::vec(meta(), 0..4),
                proptest::collection::vec((name(), expr()), 1..3),
                proptest::option::of(expr()),
                proptest::option::of(expr()),
                message(),
            ),
            proptest::option::of(fix().prop_map(Box::new)),
        )
            .prop_map(
                |((docs, id, rname, meta, bindings, condition, at, message), fix)| Rule {
                    docs,
                    id: Name::new(id),
                    name: Name::new(rname),
                    meta,
                    bindings: bindings
                        .into_iter()
                        .map(|(var, source)| Binding { var, source })
                        .collect(),
                    condition,
                    report: Report { at, message },
                    fix,
                    loc: Loc::default(),
                },
            )
    }

    fn item() -> impl Strategy<Value = Item> {
        prop_oneof![
            1 => text().prop_map(|p| Item::Import(Import {
                path: str_(p),
                loc: Loc::default()
            })),
            1 => (docs(), name(), ty(), proptest::option::of(expr())).prop_map(
                |(docs, name, ty, default)| Item::Param(Param {
                    docs,
                    name,
                    ty,
                    default,
                    loc: Loc::default()
                })
            ),
            1 => (docs(), name(), text()).prop_map(|(docs, name, p)| Item::Table(Table {
                docs,
                name,
                path: str_(p),
                loc: Loc::default()
            })),
            1 => (docs(), name(), proptest::collection::vec(name(), 0..3), expr()).prop_map(
                |(docs, name, params, body)| Item::Def(Def {
                    docs,
                    name,
                    params,
                    body,
                    loc: Loc::default()
                })
            ),
            3 => rule().prop_map(Item::Rule),
        ]
    }

    pub fn file() -> impl Strategy<Value = File> {
        proptest::collection::vec(item(), 0..4).prop_map(|items| File { items })
    }
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn format_then_parse_is_identity(file in strategies::file()) {
        let text = format_file(&file, "");
        let (parsed, diags) = parse(0, &text);
        prop_assert!(diags.is_empty(), "{text}\n{diags:#?}");
        prop_assert_eq!(&parsed, &file, "{}", text);
        prop_assert_eq!(format_file(&parsed, &text), text);
    }

    #[test]
    fn expressions_round_trip(e in strategies::expr()) {
        let text = kanon::syntax::format::expr_text(&e);
        let parsed = kanon::syntax::parse_expr(0, &text);
        prop_assert!(parsed.is_ok(), "{text}\n{parsed:#?}");
        prop_assert_eq!(parsed.unwrap(), e, "{}", text);
    }
}

/// The bundled rule files, as seeds for mutation.
fn ruleset_texts() -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![std::path::PathBuf::from("rulesets")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "kanon") {
                out.push(std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out.sort();
    out
}

const TOKENS: &[&str] = &[
    "rule",
    "K01-001",
    "a-name",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    ":",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "??",
    "not",
    "in",
    "and",
    "or",
    "any",
    "all",
    "none",
    "exists",
    "count",
    "where",
    "for",
    "report",
    "at",
    "title",
    "severity",
    "owasp",
    "refs",
    "fix",
    "tags",
    "param",
    "table",
    "def",
    "import",
    "from",
    "selects",
    "matches",
    "contains",
    "starts with",
    "ends with",
    "not in",
    "\"s\"",
    "\"{w.name}\"",
    "\"{\"",
    "\"}}\"",
    "1",
    "-2.5",
    "true",
    "null",
    "w",
    "workloads",
    "w.containers",
    "pods(\"ns\")",
    "list<string>",
    "///",
    "// c",
    "\n",
    "\"\\u{41}\"",
    "\"\\\"",
    "{x}",
    "$ref",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse(0, &text);
        let _ = kanon::syntax::parse_expr(0, &text);
        compile_text(&text);
    }

    #[test]
    fn token_soup_never_panics(toks in proptest::collection::vec(proptest::sample::select(TOKENS), 0..60)) {
        let text = toks.join(" ");
        let _ = parse(0, &text);
        let _ = kanon::syntax::parse_expr(0, &text);
        compile_text(&text);
    }

    #[test]
    fn mutated_rule_files_never_panic(
        seed in any::<proptest::sample::Index>(),
        edits in proptest::collection::vec(
            (any::<proptest::sample::Index>(), 0usize..8, proptest::option::of(proptest::sample::select(TOKENS))),
            1..6,
        ),
    ) {
        let texts = ruleset_texts();
        let mut text = seed.get(&texts).clone();
        for (at, del, ins) in edits {
            let chars: Vec<char> = text.chars().collect();
            let i = at.index(chars.len() + 1);
            let j = (i + del).min(chars.len());
            let mut out: String = chars[..i].iter().collect();
            if let Some(t) = ins {
                out.push_str(t);
            }
            out.extend(&chars[j..]);
            text = out;
        }
        let (file, diags) = parse(0, &text);
        compile_text(&text);
        // whatever parsed formats into text that parses back to the same items
        if diags.is_empty() {
            let once = format_file(&file, &text);
            let (again, d2) = parse(0, &once);
            prop_assert!(d2.is_empty(), "{once}\n{d2:#?}");
            prop_assert_eq!(&again, &file, "{}", once);
            prop_assert_eq!(format_file(&again, &once), once);
        }
    }
}

/// Regression: a comment trailing the last metadata line, or the last line of an item,
/// moved below the blank line the formatter writes there, and the second formatting
/// differed from the first.
#[test]
fn trailing_comments_stay_on_their_line() {
    let src = "param a: int = 1 // after a param\n\nrule T-001 t {\n  severity high // after the last metadata line\n\n  for w in workloads\n  report at w\n    \"x\"\n} // after the rule\n\ndef d(x) =\n  x == 1 // after a def\n\nrule T-002 u {\n  severity low\n\n  for w in workloads\n  report at w\n    \"x\"\n}\n";
    let (file, d) = parse(0, src);
    assert!(d.is_empty(), "{d:#?}");
    let once = format_file(&file, src);
    assert_eq!(once, src);
    assert_eq!(format_file(&parse(0, &once).0, &once), once);
}

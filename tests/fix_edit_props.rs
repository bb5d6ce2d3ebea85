//! Property test of `fix::edit`: random YAML documents in varied styles (indentation 2 or 4,
//! indented or indentless sequences, flow parts, comments on their own lines and at line
//! ends, CRLF or LF, several documents) and random ops on existing and missing paths.
//!
//! For each: (1) the result parses; (2) read as data by serde_yaml (an independent reader),
//! it is the original data with the op applied; (3) every comment of the original is still
//! there unless it was inside the removed or replaced value; (4) the other documents are
//! byte for byte the same; (5) applying the op again changes nothing (but for removing an
//! item by position); (6) an op that changes no data changes no text. JSON files (compact or
//! pretty) must stay valid JSON.

use kanon::fix::edit::{EditError, EditOp, FixValue, PathStep, apply_ops};
use proptest::prelude::*;
use serde::Deserialize;
use serde_yaml::Value as Y;

/// A small deterministic generator (xorshift), so one seed gives one case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

#[derive(Clone, Debug)]
enum G {
    /// A scalar's source text (already quoted when it must be).
    Scalar(String),
    Map(Vec<(String, G)>, bool),
    Seq(Vec<G>, bool),
}

const KEYS: &[&str] = &["a", "b", "name", "image", "spec", "items", "drop", "x-y"];
const SCALARS: &[&str] = &[
    "1",
    "-3",
    "true",
    "false",
    "nginx",
    "runtime/default",
    "ALL",
    "'single'",
    "\"double\"",
    "\"yes\"",
    "'0755'",
    "\"a: b\"",
    "''",
    "~",
    "null",
    "0.5",
];

struct Style {
    step: usize,
    indentless: bool,
    flow: usize,
    comments: usize,
}

fn gen_value(r: &mut Rng, depth: usize, flow_parent: bool, st: &Style) -> G {
    let roll = r.below(10);
    if depth >= 3 || roll < 4 {
        return G::Scalar(r.pick(SCALARS).to_string());
    }
    let flow = flow_parent || r.chance(st.flow);
    let n = r.below(4);
    if roll < 7 {
        let mut keys: Vec<&str> = KEYS.to_vec();
        let mut es = Vec::new();
        for _ in 0..n {
            let k = keys.remove(r.below(keys.len()));
            es.push((k.to_string(), gen_value(r, depth + 1, flow, st)));
        }
        G::Map(es, flow)
    } else {
        G::Seq(
            (0..n).map(|_| gen_value(r, depth + 1, flow, st)).collect(),
            flow,
        )
    }
}

/// Renders, numbering comments `# cN`; records for each comment the path it lies inside.
struct Out<'a> {
    text: String,
    comments: Vec<(String, Vec<PathStep>)>,
    r: &'a mut Rng,
    st: &'a Style,
}

impl Out<'_> {
    fn comment(&mut self, inside: &[PathStep]) -> String {
        let c = format!("# c{}", self.comments.len());
        self.comments.push((c.clone(), inside.to_vec()));
        c
    }

    fn maybe_eol(&mut self, inside: &[PathStep]) {
        if self.r.chance(self.st.comments) {
            let c = self.comment(inside);
            self.text.push_str(&format!(" {c}"));
        }
    }

    fn flow(&self, g: &G) -> String {
        match g {
            G::Scalar(s) => s.clone(),
            G::Map(es, _) => format!(
                "{{{}}}",
                es.iter()
                    .map(|(k, v)| format!("{k}: {}", self.flow(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            G::Seq(items, _) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|v| self.flow(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn is_block(g: &G) -> bool {
        match g {
            G::Map(es, flow) => !flow && !es.is_empty(),
            G::Seq(items, flow) => !flow && !items.is_empty(),
            G::Scalar(_) => false,
        }
    }

    /// A block mapping's entries at `ind`; the first line's indentation is already written
    /// when `first_inline` (a sequence item's dash).
    fn map(&mut self, es: &[(String, G)], ind: usize, path: &[PathStep], first_inline: bool) {
        for (i, (k, v)) in es.iter().enumerate() {
            let inline = first_inline && i == 0;
            if !inline {
                if self.r.chance(self.st.comments) {
                    let c = self.comment(path);
                    self.text.push_str(&format!("{}{c}\n", " ".repeat(ind)));
                }
                if self.r.chance(10) {
                    self.text.push('\n');
                }
                self.text.push_str(&" ".repeat(ind));
            }
            let mut p = path.to_vec();
            p.push(PathStep::Key(k.clone()));
            self.text.push_str(&format!("{k}:"));
            self.value(v, ind, &p);
        }
    }

    /// The value after `key:` (for a key at column `ind`), up to and with its line break.
    fn value(&mut self, v: &G, ind: usize, path: &[PathStep]) {
        if !Self::is_block(v) {
            let s = self.flow(v);
            if s != "~" || self.r.chance(50) {
                self.text.push(' ');
                self.text.push_str(&s);
            }
            self.maybe_eol(path);
            self.text.push('\n');
            return;
        }
        self.maybe_eol(path);
        self.text.push('\n');
        match v {
            G::Map(es, _) => self.map(es, ind + self.st.step, path, false),
            G::Seq(items, _) => {
                let d = if self.st.indentless {
                    ind
                } else {
                    ind + self.st.step
                };
                self.seq(items, d, path);
            }
            G::Scalar(_) => {}
        }
    }

    fn seq(&mut self, items: &[G], d: usize, path: &[PathStep]) {
        for (i, item) in items.iter().enumerate() {
            let mut p = path.to_vec();
            p.push(PathStep::Index(i));
            self.text.push_str(&format!("{}- ", " ".repeat(d)));
            match item {
                G::Map(es, false) if !es.is_empty() => self.map(es, d + 2, &p, true),
                G::Seq(inner, false) if !inner.is_empty() => {
                    self.text.push('\n');
                    self.seq(inner, d + 2, &p);
                }
                _ => {
                    self.text.push_str(&self.flow(item));
                    self.maybe_eol(&p);
                    self.text.push('\n');
                }
            }
        }
    }
}

struct Case {
    docs: Vec<String>,
    /// Separators: `seps[i]` comes before `docs[i]`.
    seps: Vec<String>,
    comments: Vec<Vec<(String, Vec<PathStep>)>>,
    crlf: bool,
    bom: bool,
    final_newline: bool,
}

impl Case {
    fn text(&self) -> String {
        let mut t = String::new();
        for (s, d) in self.seps.iter().zip(&self.docs) {
            t.push_str(s);
            t.push_str(d);
        }
        if !self.final_newline && t.ends_with('\n') {
            t.pop();
        }
        if self.bom {
            t.insert(0, '\u{feff}');
        }
        if self.crlf {
            t.replace('\n', "\r\n")
        } else {
            t
        }
    }
}

fn gen_case(seed: u64) -> (Case, Vec<G>) {
    let mut r = Rng(seed | 1);
    let st = Style {
        step: if r.chance(50) { 2 } else { 4 },
        indentless: r.chance(50),
        flow: *r.pick(&[0, 10, 30]),
        comments: *r.pick(&[0, 20, 40]),
    };
    let n = 1 + r.below(3);
    let mut case = Case {
        docs: Vec::new(),
        seps: Vec::new(),
        comments: Vec::new(),
        crlf: r.chance(30),
        bom: r.chance(10),
        final_newline: r.chance(80),
    };
    let mut roots = Vec::new();
    for i in 0..n {
        let mut keys: Vec<&str> = KEYS.to_vec();
        let mut es = Vec::new();
        for _ in 0..1 + r.below(4) {
            let k = keys.remove(r.below(keys.len()));
            es.push((k.to_string(), gen_value(&mut r, 1, false, &st)));
        }
        let mut out = Out {
            text: String::new(),
            comments: Vec::new(),
            r: &mut r,
            st: &st,
        };
        out.map(&es, 0, &[], false);
        let (doc_text, doc_comments) = (out.text, out.comments);
        let sep = if i == 0 {
            if r.chance(50) { "---\n" } else { "" }
        } else if r.chance(30) {
            "...\n---\n"
        } else {
            "---\n"
        };
        case.seps.push(sep.to_string());
        case.docs.push(doc_text);
        case.comments.push(doc_comments);
        roots.push(G::Map(es, false));
    }
    (case, roots)
}

/// Every path of a value (for ops on existing paths).
fn paths(g: &G, at: &mut Vec<PathStep>, out: &mut Vec<(Vec<PathStep>, bool)>) {
    match g {
        G::Map(es, _) => {
            for (k, v) in es {
                at.push(PathStep::Key(k.clone()));
                out.push((at.clone(), matches!(v, G::Seq(..))));
                paths(v, at, out);
                at.pop();
            }
        }
        G::Seq(items, _) => {
            for (i, v) in items.iter().enumerate() {
                at.push(PathStep::Index(i));
                out.push((at.clone(), matches!(v, G::Seq(..))));
                paths(v, at, out);
                at.pop();
            }
        }
        G::Scalar(_) => {}
    }
}

fn gen_value_fix(r: &mut Rng) -> FixValue {
    match r.below(7) {
        0 => FixValue::Bool(r.chance(50)),
        1 => FixValue::Int(r.below(2000) as i64 - 1000),
        2 => FixValue::Null,
        3 => FixValue::List(vec![FixValue::Str("ALL".into()), FixValue::Int(3)]),
        4 => FixValue::Float(0.25),
        _ => FixValue::Str(
            r.pick(&[
                "ALL",
                "yes",
                "on",
                "1",
                "0755",
                "~",
                "",
                "a: b",
                "x #y",
                "runtime/default",
                "- x",
                "[a]",
                "NET_RAW",
            ])
            .to_string(),
        ),
    }
}

fn gen_op(r: &mut Rng, root: &G) -> EditOp {
    let mut all = Vec::new();
    paths(root, &mut Vec::new(), &mut all);
    let mut path = if all.is_empty() || r.chance(25) {
        Vec::new()
    } else {
        r.pick(&all).0.clone()
    };
    if path.is_empty() || r.chance(30) {
        for _ in 0..1 + r.below(2) {
            path.push(PathStep::Key(
                r.pick(&["new", "securityContext", "a", "drop"]).to_string(),
            ));
        }
    }
    match r.below(3) {
        0 => EditOp::Set {
            path,
            value: gen_value_fix(r),
        },
        1 => EditOp::Remove { path },
        _ => EditOp::Add {
            path,
            value: gen_value_fix(r),
        },
    }
}

fn to_y(v: &FixValue) -> Y {
    match v {
        FixValue::Null => Y::Null,
        FixValue::Bool(b) => Y::Bool(*b),
        FixValue::Int(i) => Y::Number((*i).into()),
        FixValue::Float(x) => Y::Number((*x).into()),
        FixValue::Str(s) => Y::String(s.clone()),
        FixValue::List(items) => Y::Sequence(items.iter().map(to_y).collect()),
    }
}

/// The oracle: the op on serde_yaml data. `Err` when the path cannot be made.
fn apply_y(v: &mut Y, op: &EditOp) -> Result<(), ()> {
    fn place<'a>(
        mut v: &'a mut Y,
        path: &[PathStep],
        create: bool,
    ) -> Result<Option<&'a mut Y>, ()> {
        for step in path {
            if create && v.is_null() && matches!(step, PathStep::Key(_)) {
                *v = Y::Mapping(Default::default());
            }
            v = match (v, step) {
                (Y::Mapping(m), PathStep::Key(k)) => {
                    let key = Y::String(k.clone());
                    if !m.contains_key(&key) {
                        if !create {
                            return Ok(None);
                        }
                        m.insert(key.clone(), Y::Null);
                    }
                    m.get_mut(&key).ok_or(())?
                }
                (Y::Sequence(s), PathStep::Index(i)) => match s.get_mut(*i) {
                    Some(x) => x,
                    None if create => return Err(()),
                    None => return Ok(None),
                },
                _ if create => return Err(()),
                _ => return Ok(None),
            };
        }
        Ok(Some(v))
    }
    match op {
        EditOp::Set { path, value } => {
            *place(v, path, true)?.ok_or(())? = to_y(value);
        }
        EditOp::Add { path, value } => {
            let slot = place(v, path, true)?.ok_or(())?;
            let item = to_y(value);
            match slot {
                Y::Null => *slot = Y::Sequence(vec![item]),
                Y::Sequence(s) => {
                    if !s.contains(&item) {
                        s.push(item);
                    }
                }
                _ => return Err(()),
            }
        }
        EditOp::Remove { path } => {
            let (last, parent) = path.split_last().ok_or(())?;
            if let Some(p) = place(v, parent, false)? {
                match (p, last) {
                    (Y::Mapping(m), PathStep::Key(k)) => {
                        m.shift_remove(Y::String(k.clone()));
                    }
                    (Y::Sequence(s), PathStep::Index(i)) if *i < s.len() => {
                        s.remove(*i);
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

fn read_all(text: &str) -> Vec<Y> {
    // yaml_serde 0.10 loops forever on a BOM followed by `---`: read without it
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_yaml::Deserializer::from_str(text)
        .map(|d| Y::deserialize(d).unwrap_or(Y::String("<unreadable>".into())))
        .filter(|y| !y.is_null())
        .collect()
}

/// What a case did.
#[derive(Debug, PartialEq)]
enum Outcome {
    Changed,
    Unchanged,
    Refused,
}

fn check(seed: u64) -> Result<Outcome, TestCaseError> {
    let (case, roots) = gen_case(seed);
    let text = case.text();
    let mut r = Rng(seed.rotate_left(17) | 1);
    let doc = r.below(case.docs.len());
    let op = gen_op(&mut r, &roots[doc]);
    let before = read_all(&text);
    prop_assert_eq!(
        before.len(),
        case.docs.len(),
        "generated text must read:\n{}",
        text
    );
    let mut want = before[doc].clone();
    let oracle = apply_y(&mut want, &op);
    let got = apply_ops(&text, doc, std::slice::from_ref(&op));
    let new = match (got, oracle) {
        (Ok(new), Ok(())) => new,
        (Err(e), Err(())) => {
            prop_assert!(
                !matches!(e, EditError::Unverified { .. }),
                "{e} for {op:?} on\n{text}"
            );
            return Ok(Outcome::Refused);
        }
        (got, oracle) => {
            return Err(TestCaseError::fail(format!(
                "engine {got:?} but oracle {oracle:?} for {op:?} on\n{text}"
            )));
        }
    };
    // (1), (2)
    let after = read_all(&new);
    prop_assert_eq!(after.len(), before.len(), "{:?}\n{}\n=>\n{}", op, text, new);
    prop_assert_eq!(&after[doc], &want, "{:?}\n{}\n=>\n{}", op, text, new);
    // (3) comments outside the edited value stay
    let edited = op.path();
    for (c, inside) in &case.comments[doc] {
        let gone = !matches!(op, EditOp::Add { .. }) && inside.starts_with(edited);
        prop_assert!(
            gone || new.contains(c.as_str()),
            "lost `{}`: {:?}\n{}\n=>\n{}",
            c,
            op,
            text,
            new
        );
    }
    // (4) the other documents stay byte for byte
    let fix = |s: &str| {
        if case.crlf {
            s.replace('\n', "\r\n")
        } else {
            s.to_string()
        }
    };
    let mut prefix: String = (0..doc)
        .map(|i| fix(&case.seps[i]) + &fix(&case.docs[i]))
        .collect();
    if case.bom {
        prefix.insert(0, '\u{feff}');
    }
    let mut suffix: String = (doc + 1..case.docs.len())
        .map(|i| fix(&case.seps[i]) + &fix(&case.docs[i]))
        .collect();
    if !case.final_newline && doc + 1 < case.docs.len() {
        suffix.truncate(suffix.len() - if case.crlf { 2 } else { 1 });
    }
    prop_assert_eq!(
        new.ends_with('\n'),
        text.ends_with('\n'),
        "final newline changed: {:?}\n{}\n=>\n{}",
        op,
        text,
        new
    );
    prop_assert!(
        new.starts_with(&(prefix + &fix(&case.seps[doc]))),
        "{:?}\n{}\n=>\n{}",
        op,
        text,
        new
    );
    prop_assert!(new.ends_with(&suffix), "{:?}\n{}\n=>\n{}", op, text, new);
    if text.contains("\r\n") {
        prop_assert!(
            !new.replace("\r\n", "").contains('\n'),
            "a bare LF in a CRLF file:\n{:?}",
            new
        );
    }
    // (5) a second application changes nothing
    let by_index =
        matches!(&op, EditOp::Remove { path } if matches!(path.last(), Some(PathStep::Index(_))));
    if !by_index {
        let again = apply_ops(&new, doc, std::slice::from_ref(&op));
        prop_assert_eq!(again.as_deref(), Ok(new.as_str()), "{:?}\n{}", op, new);
    }
    // (6) no change of data, no change of text
    if want == before[doc] {
        prop_assert_eq!(&new, &text, "{:?}", op);
    }
    Ok(if new == text {
        Outcome::Unchanged
    } else {
        Outcome::Changed
    })
}

/// The generator exercises edits: most cases change the text, some are refused (a path
/// through a scalar, an index past the end) and some change nothing.
#[test]
fn cases_are_mostly_edits() {
    let mut counts = [0usize; 3];
    for seed in 1..=600u64 {
        let seed = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        match check(seed).unwrap() {
            Outcome::Changed => counts[0] += 1,
            Outcome::Unchanged => counts[1] += 1,
            Outcome::Refused => counts[2] += 1,
        }
    }
    eprintln!("changed, unchanged, refused: {counts:?}");
    assert!(counts[0] >= 300, "{counts:?}");
    assert!(counts[1] >= 10 && counts[2] >= 10, "{counts:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn edits_keep_everything_else(seed in any::<u64>()) {
        check(seed)?;
    }
}

fn to_json(g: &G) -> serde_json::Value {
    use serde_json::Value as J;
    match g {
        G::Scalar(s) => match s.as_str() {
            "~" | "null" => J::Null,
            "true" => J::Bool(true),
            "false" => J::Bool(false),
            "0.5" => serde_json::json!(0.5),
            _ => match s.parse::<i64>() {
                Ok(i) => J::from(i),
                Err(_) => J::String(s.trim_matches(['\'', '"']).to_string()),
            },
        },
        G::Map(es, _) => J::Object(es.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        G::Seq(items, _) => J::Array(items.iter().map(to_json).collect()),
    }
}

fn check_json(seed: u64) -> Result<(), TestCaseError> {
    let (_, roots) = gen_case(seed);
    let mut r = Rng(seed.rotate_left(29) | 1);
    let root = &roots[0];
    let json = to_json(root);
    let mut text = if r.chance(50) {
        serde_json::to_string_pretty(&json).unwrap_or_default()
    } else {
        serde_json::to_string(&json).unwrap_or_default()
    };
    if r.chance(70) {
        text.push('\n');
    }
    if r.chance(30) {
        text = text.replace('\n', "\r\n");
    }
    let op = gen_op(&mut r, root);
    let before = read_all(&text);
    let mut want = before[0].clone();
    let oracle = apply_y(&mut want, &op);
    let new = match (apply_ops(&text, 0, std::slice::from_ref(&op)), oracle) {
        (Ok(new), Ok(())) => new,
        (Err(e), Err(())) => {
            prop_assert!(
                !matches!(e, EditError::Unverified { .. }),
                "{e} for {op:?} on\n{text}"
            );
            return Ok(());
        }
        (got, oracle) => {
            return Err(TestCaseError::fail(format!(
                "engine {got:?} but oracle {oracle:?} for {op:?} on\n{text}"
            )));
        }
    };
    let parsed: Result<serde_json::Value, _> = serde_json::from_str(&new);
    prop_assert!(parsed.is_ok(), "not json: {:?}\n{}\n=>\n{}", op, text, new);
    prop_assert_eq!(&read_all(&new)[0], &want, "{:?}\n{}\n=>\n{}", op, text, new);
    let by_index =
        matches!(&op, EditOp::Remove { path } if matches!(path.last(), Some(PathStep::Index(_))));
    if !by_index {
        let again = apply_ops(&new, 0, std::slice::from_ref(&op));
        prop_assert_eq!(again.as_deref(), Ok(new.as_str()), "{:?}\n{}", op, new);
    }
    if want == before[0] {
        prop_assert_eq!(&new, &text, "{:?}", op);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    /// JSON files (compact or pretty, LF or CRLF) stay valid JSON.
    #[test]
    fn json_edits_stay_json(seed in any::<u64>()) {
        check_json(seed)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any text, any op: an answer, never a panic; a made edit keeps the document readable.
    #[test]
    fn any_text_any_op_never_panics(
        text in "[a-c:\\- #\\n\\[\\]{},'\"&*!|>~0 \\r\\t\u{feff}é]{0,60}",
        seed in any::<u64>(),
        doc in 0usize..3,
    ) {
        let mut r = Rng(seed | 1);
        let root = G::Map(vec![("a".into(), G::Seq(vec![G::Scalar("1".into())], false))], false);
        let op = gen_op(&mut r, &root);
        if let Ok(new) = apply_ops(&text, doc, std::slice::from_ref(&op)) {
            let mut sources = kanon::diag::SourceMap::default();
            let before = kanon::model::Loader::default().load_text("x", text.clone(), &mut sources);
            let after = kanon::model::Loader::default().load_text("x", new.clone(), &mut sources);
            prop_assert_eq!(before.docs.len(), after.docs.len(), "{:?} {:?} => {:?}", text, op, new);
        }
    }
}

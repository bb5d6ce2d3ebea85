//! Text prefilters: the words a rule's root object must contain for the rule to match it,
//! found once per object with one pass over its source text, so that the rules that look
//! for a rare value (a control-plane binary, a service-mesh annotation, a database's
//! password variable) skip the objects that do not contain it without evaluating anything.
//!
//! A rule's conditions give a conjunction of clauses, each a set of words: the object's
//! text holds at least one word of every clause, or the rule cannot match the object. The
//! prefilter looks for one of them, the clause whose shortest word is the longest (a
//! rule's other clauses are often common words, such as the kinds it applies to). A clause
//! comes from a condition every finding needs (a scan filter, a binding's filter, a filter
//! step; through `and`, `or` and the `any`/`exists` quantifiers) that compares a string read
//! from the root object itself with a constant: `c.name == "kubelet"`, `x ends with
//! "/kube-apiserver"`, `e.name in ["A", "B"]`, `"RBAC" in c.args`, and an annotation read by
//! a key the rule lists (`trim(string(m[k]) ?? "") != ""`, `k` bound to constants); or
//! that needs a field of it (compared with a boolean or a number, tested for truth, or not
//! null: `w.podSpec.hostNetwork == true` needs the key `hostNetwork`, unless it is one most
//! objects have, [`COMMON_KEYS`]); or that needs a flag on its command line
//! (`has_flag(c, "--x")`, `flags(c, "--x") != []`, `v in flags(c, "--x")`,
//! `flag(c, "--x") == "v"`: the flag's name, without its dashes, is written there). What is
//! read from the root object is its fields, its containers, their effective security
//! context, and the bindings and quantifiers over those; anything from another object,
//! a relation, a table, or a function that rewrites text (`lower`, `image`) gives no clause.
//!
//! The words are found in the object's source text, so a value must be written there as
//! it is read: a text with a backslash (an escape, in JSON or a double-quoted YAML string)
//! is searched again with its escapes read; the executor gives up the prefilter (evaluates
//! the rule) for an object whose text has a `*` in a document with a YAML alias (whose
//! value is written elsewhere); and a word is one that no other way of writing a value can
//! make: no spaces (a folded line reads as a space), no quotes, and not a word YAML reads
//! as a boolean, a number or null (a converted key). An object a
//! prefilter skips cannot match; it is not evaluated, so it cannot reach the step limit
//! either.

use super::physical::{PhysicalRule, Root, Step};
use crate::check::ir::{Attr, Builtin, CmpOp, Const, Expr, Quant, Source, VarId};
use std::collections::HashMap;
use std::str::Chars;
use std::sync::Arc;

/// The words of one clause: the object's text holds at least one of them.
pub type Clause = Vec<Arc<str>>;

/// The most clauses a rule keeps (dropping a clause only weakens the prefilter).
const MAX_CLAUSES: usize = 8;

/// The most words a clause may have.
const MAX_WORDS: usize = 32;

/// Keys that most objects have, not worth looking for (a prefilter on them would skip
/// nothing and slow the search for the others).
const COMMON_KEYS: &[&str] = &[
    "annotations",
    "apiVersion",
    "args",
    "command",
    "containerPort",
    "containers",
    "data",
    "env",
    "image",
    "imagePullPolicy",
    "kind",
    "labels",
    "limits",
    "metadata",
    "mountPath",
    "name",
    "namespace",
    "ports",
    "protocol",
    "requests",
    "resources",
    "roleRef",
    "rules",
    "securityContext",
    "selector",
    "spec",
    "subjects",
    "template",
    "value",
    "volumeMounts",
    "volumes",
];

/// The shortest word kept: shorter ones are in most texts.
const MIN_WORD: usize = 4;

/// The words of a rule's prefilter (none: the rule has no prefilter): of the clauses its
/// conditions give, the one most likely to be rare, its words sorted.
pub(crate) fn derive(rule: &PhysicalRule) -> Clause {
    let Root::Scan { var, filters, .. } = &rule.root else {
        return Clause::new();
    };
    let mut w = Walk {
        text: vec![*var],
        words: HashMap::new(),
    };
    let mut cnf = Vec::new();
    for f in filters {
        cnf = and(cnf, w.requires(f));
    }
    for s in &rule.steps {
        match s {
            Step::Bind {
                var,
                source,
                filters,
                lookup,
                ..
            } => {
                // (a binding with a lookup finds its rows by a hash already: a prefilter
                // on them would cost more than it saves)
                if let (Source::Expr(e), None) = (source, lookup) {
                    if w.is_text(e) {
                        w.text.push(*var);
                    } else if let Some(set) = const_words(e) {
                        w.words.insert(*var, set);
                    }
                }
                for f in filters {
                    cnf = and(cnf, w.requires(f));
                }
            }
            Step::Filter(e) => cnf = and(cnf, w.requires(e)),
            Step::Join { .. } => {}
        }
    }
    // one clause is looked for: the one whose shortest word is the longest (the least
    // likely to be in every text: `"apps/v1beta1" or ...` rather than `"Role" or ...`)
    normalize(cnf)
        .into_iter()
        .max_by_key(|c| {
            let shortest = c.iter().map(|w| w.len()).min().unwrap_or(0);
            (shortest, std::cmp::Reverse(c.len()))
        })
        .unwrap_or_default()
}

/// What the walk knows of the variables: those that hold a value read from the root
/// object, and those bound to the strings of a constant list.
struct Walk {
    text: Vec<VarId>,
    words: HashMap<VarId, Vec<Arc<str>>>,
}

impl Walk {
    /// Whether every string `e` gives is read from the root object's text (a value whose
    /// own strings, and keys, are written in the object).
    fn is_text(&self, e: &Expr) -> bool {
        match e {
            Expr::Var(v) => self.text.contains(v),
            Expr::Field(b, _) => self.is_text(b),
            Expr::Index(b, _) => self.is_text(b),
            Expr::Attr(
                b,
                Attr::Name
                | Attr::Kind
                | Attr::Labels
                | Attr::Annotations
                | Attr::Containers
                | Attr::PodSpec
                | Attr::PodLabels,
            ) => self.is_text(b),
            Expr::Call(Builtin::Trim, args) => {
                args.len() == 1 && args.iter().all(|a| self.is_text(a))
            }
            Expr::Call(Builtin::Effective, args) => args.first().is_some_and(|c| self.is_text(c)),
            Expr::Coalesce(a, b) => self.is_text(a) && self.is_text(b),
            Expr::List(items) => items.iter().all(|i| self.is_text(i)),
            Expr::Memo(_, x) | Expr::Shared { expr: x, .. } => self.is_text(x),
            _ => false,
        }
    }

    /// The clauses that hold whenever `e` is tested true.
    fn requires(&mut self, e: &Expr) -> Vec<Clause> {
        match e {
            Expr::And(a, b) => and(self.requires(a), self.requires(b)),
            Expr::Or(a, b) => or(self.requires(a), self.requires(b)),
            Expr::Memo(_, x) | Expr::Shared { expr: x, .. } => self.requires(x),
            Expr::Cmp(op, a, b) => self.compared(*op, a, b),
            // a value tested for truth is not null
            Expr::Field(..) | Expr::Index(..) => self.present(e),
            // `has_flag(c, "--x")`: the command line has the flag
            Expr::Call(Builtin::HasFlag, args) => self.flag_named(args),
            Expr::Quant {
                quant: Quant::Any | Quant::Exists,
                var,
                source: Source::Expr(src),
                cond: Some(cond),
            } => {
                let text = self.is_text(src);
                if text {
                    self.text.push(*var);
                }
                let words = const_words(src).map(|set| self.words.insert(*var, set));
                let out = self.requires(cond);
                if text {
                    self.text.pop();
                }
                if words.is_some() {
                    self.words.remove(var);
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// The clauses that hold whenever `a op b` holds.
    fn compared(&self, op: CmpOp, a: &Expr, b: &Expr) -> Vec<Clause> {
        match (op, a, b) {
            // a string read from the object equal to, in, starting with, ending with or
            // containing constant words (a list read from the object containing one)
            (
                CmpOp::Eq | CmpOp::StartsWith | CmpOp::EndsWith | CmpOp::Contains,
                x,
                Expr::Const(Const::Str(s)),
            )
            | (CmpOp::Eq, Expr::Const(Const::Str(s)), x)
            | (CmpOp::In, Expr::Const(Const::Str(s)), x)
                if self.is_text(x) =>
            {
                clause(Some(vec![s.clone()]))
            }
            // a value among a flag's values, or a flag's values containing one: the flag
            // has a value
            (CmpOp::In, _, Expr::Call(Builtin::Flags, args))
            | (CmpOp::Contains, Expr::Call(Builtin::Flags, args), _) => self.flag_named(args),
            (CmpOp::In, x, list) if self.is_text(x) => clause(const_words(list)),
            // `flags(c, "--x") != []`
            (CmpOp::Ne, x, Expr::List(items)) | (CmpOp::Ne, Expr::List(items), x)
                if items.is_empty() =>
            {
                self.flag_list(x)
            }
            (CmpOp::Ne, x, Expr::Const(c)) | (CmpOp::Ne, Expr::Const(c), x) => self.differs(x, c),
            // the last value of a flag compared with a string: the flag has a value (null
            // is equal to no string, and neither starts, ends with nor contains one)
            (
                CmpOp::Eq | CmpOp::StartsWith | CmpOp::EndsWith | CmpOp::Contains,
                x @ Expr::Call(Builtin::Flag, _),
                Expr::Const(Const::Str(_)),
            )
            | (CmpOp::Eq, Expr::Const(Const::Str(_)), x @ Expr::Call(Builtin::Flag, _)) => {
                self.present(x)
            }
            // null is equal to no boolean or number, and in no order with one
            (
                CmpOp::Eq | CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge,
                x,
                Expr::Const(Const::Bool(_) | Const::Int(_) | Const::Float(_)),
            )
            | (
                CmpOp::Eq | CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge,
                Expr::Const(Const::Bool(_) | Const::Int(_) | Const::Float(_)),
                x,
            ) => self.present(x),
            _ => Vec::new(),
        }
    }

    /// The clauses that hold whenever `x != c`.
    fn differs(&self, x: &Expr, c: &Const) -> Vec<Clause> {
        match x {
            Expr::Memo(_, y) | Expr::Shared { expr: y, .. } => self.differs(y, c),
            // `y ?? c != c`: `y` is not null
            Expr::Coalesce(y, d) if matches!(&**d, Expr::Const(k) if k == c) => self.present(y),
            // `trim(y) != ""`: `y` is not "" (trim of "" is "")
            Expr::Call(Builtin::Trim, args)
                if matches!(c, Const::Str(s) if s.is_empty()) && args.len() == 1 =>
            {
                args.first().map_or_else(Vec::new, |y| self.differs(y, c))
            }
            _ if *c == Const::Null => self.present(x),
            Expr::Call(..) if matches!(c, Const::List(items) if items.is_empty()) => {
                self.flag_list(x)
            }
            _ => Vec::new(),
        }
    }

    /// The clauses that hold whenever `x` is a list that is not empty: the values of a
    /// flag (`flags(c, "--x")`).
    fn flag_list(&self, x: &Expr) -> Vec<Clause> {
        match x {
            Expr::Memo(_, y) | Expr::Shared { expr: y, .. } => self.flag_list(y),
            Expr::Call(Builtin::Flags, args) => self.flag_named(args),
            _ => Vec::new(),
        }
    }

    /// The clauses that hold whenever the command line of `args[0]` has the flag
    /// `args[1]` (`flag`, `flags` and `has_flag` read it): a word of the command or the
    /// arguments starts with dashes and then the flag's name without its dashes
    /// ([`crate::eval::builtins::flag_values`]), so that name is written in the object.
    fn flag_named(&self, args: &[Expr]) -> Vec<Clause> {
        let [line, name] = args else {
            return Vec::new();
        };
        if !self.is_text(line) {
            return Vec::new();
        }
        let names = match name {
            Expr::Const(Const::Str(s)) => Some(vec![s.clone()]),
            Expr::Var(v) => self.words.get(v).cloned(),
            _ => None,
        };
        let bare = names.and_then(|names| {
            names
                .iter()
                .map(|n| {
                    let b = n.trim_start_matches('-');
                    (!b.is_empty()).then(|| Arc::from(b))
                })
                .collect::<Option<Vec<Arc<str>>>>()
        });
        clause(bare)
    }

    /// The clauses that hold whenever `x` is not null.
    fn present(&self, x: &Expr) -> Vec<Clause> {
        match x {
            Expr::Memo(_, y) | Expr::Shared { expr: y, .. } => self.present(y),
            // `string(y)` and `trim(y)` of null are null
            Expr::Call(Builtin::String | Builtin::Trim, args) if args.len() == 1 => {
                args.first().map_or_else(Vec::new, |y| self.present(y))
            }
            Expr::Coalesce(a, b) => or(self.present(a), self.present(b)),
            // `flag(c, "--x")`: the flag is on the command line
            Expr::Call(Builtin::Flag, args) => self.flag_named(args),
            // a field of a value read from the object: its key is written in it (the last
            // key of a path: the most telling)
            Expr::Field(m, k) if self.is_text(m) && !COMMON_KEYS.contains(&&**k) => {
                clause(Some(vec![k.clone()]))
            }
            // a key of a mapping read from the object: the key is written in it
            Expr::Index(m, k) if self.is_text(m) => match &**k {
                Expr::Const(Const::Str(s)) => clause(Some(vec![s.clone()])),
                Expr::Var(v) => clause(self.words.get(v).cloned()),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// The strings of `e` when it is a list of constant strings (written as a constant or as
/// a list of them): what a binding over it takes, or what `in` it compares with.
fn const_words(e: &Expr) -> Option<Vec<Arc<str>>> {
    match e {
        Expr::Const(Const::List(items)) => items
            .iter()
            .map(|i| match i {
                Const::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        Expr::List(items) => items
            .iter()
            .map(|i| match i {
                Expr::Const(Const::Str(s)) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// One clause of `words`, when every word is one a prefilter can look for.
fn clause(words: Option<Vec<Arc<str>>>) -> Vec<Clause> {
    match words {
        Some(w) if !w.is_empty() && w.len() <= MAX_WORDS && w.iter().all(|s| word(s)) => {
            vec![w]
        }
        _ => Vec::new(),
    }
}

/// Whether a value equal to (or containing) `s` is necessarily written with `s` in its
/// object's text, or in its text with the escapes read (without aliases, which the
/// executor checks): no spaces
/// or line breaks (a folded line reads as a space), no quotes, no backslash or `*`, and not
/// a word YAML reads as a boolean, a number or null (which a converted key could be).
fn word(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    s.len() >= MIN_WORD
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\' | '*'))
        && !s
            .trim_start_matches(['+', '-'])
            .starts_with(|c: char| c.is_ascii_digit() || matches!(c, '.' | '~'))
        && !s.starts_with('~')
        && !matches!(
            lower.as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        )
}

/// Both requirements.
fn and(mut a: Vec<Clause>, b: Vec<Clause>) -> Vec<Clause> {
    a.extend(b);
    a.truncate(MAX_CLAUSES * 2);
    a
}

/// Either requirement: a clause of each, joined (no requirement when either has none).
fn or(a: Vec<Clause>, b: Vec<Clause>) -> Vec<Clause> {
    let mut out = Vec::new();
    for x in &a {
        for y in &b {
            if out.len() == MAX_CLAUSES {
                return out;
            }
            let mut c = x.clone();
            c.extend(y.iter().cloned());
            if c.len() <= MAX_WORDS {
                out.push(c);
            }
        }
    }
    out
}

/// Sorted clauses without repeats, each without a word that contains another of its words
/// (finding the shorter is enough), and without a clause that another implies (one with
/// every word of a smaller clause); at most [`MAX_CLAUSES`].
fn normalize(cnf: Vec<Clause>) -> Vec<Clause> {
    let mut out: Vec<Clause> = cnf
        .into_iter()
        .map(|mut c| {
            c.sort();
            c.dedup();
            let all = c.clone();
            c.retain(|w| !all.iter().any(|o| o != w && w.contains(&**o)));
            c
        })
        .collect();
    out.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    out.dedup();
    let mut kept: Vec<Clause> = Vec::new();
    for c in out {
        if !kept.iter().any(|k| k.iter().all(|w| c.contains(w))) {
            kept.push(c);
        }
    }
    kept.truncate(MAX_CLAUSES);
    kept.sort();
    kept
}

/// The most words of all the rules' prefilters (bits of a `u64`, beside the two that the
/// executor uses to mark what it knows of an object).
const MAX_WORDS_IN_PLAN: usize = 62;

/// How the words are looked for.
#[derive(Clone, Debug)]
enum Searcher {
    /// Vectorised (Teddy), on processors that have the instructions.
    Packed(aho_corasick::packed::Searcher),
    /// An Aho-Corasick automaton.
    Automaton(aho_corasick::AhoCorasick),
}

/// The words of every rule's prefilter, numbered for the whole plan: the bits of the
/// rules' masks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Words {
    words: Vec<Arc<str>>,
}

impl Words {
    /// Numbers the words of the rules' prefilters (in the rules' order) and gives each rule
    /// the mask of its words; a rule with a word past the [`MAX_WORDS_IN_PLAN`]th is left
    /// without a prefilter.
    pub(crate) fn assign<'r>(rules: impl Iterator<Item = &'r mut PhysicalRule>) -> Words {
        let mut words: Vec<Arc<str>> = Vec::new();
        for r in rules {
            let mut mask = 0u64;
            for w in &r.prefilter {
                let bit = match words.iter().position(|x| x == w) {
                    Some(i) => i,
                    None if words.len() < MAX_WORDS_IN_PLAN => {
                        words.push(w.clone());
                        words.len() - 1
                    }
                    None => {
                        mask = 0;
                        break;
                    }
                };
                mask |= 1 << bit;
            }
            r.prefilter_mask = mask;
        }
        Words { words }
    }

    /// Whether no rule has a prefilter.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The search for the words of `mask` (the bits of the words it finds are the plan's).
    pub fn search(&self, mask: u64) -> Search {
        let chosen: Vec<(usize, &Arc<str>)> = self
            .words
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .collect();
        if chosen.is_empty() {
            return Search::default();
        }
        // for each word looked for, the bits of every word it contains (itself among them)
        let implied = chosen
            .iter()
            .map(|(_, w)| {
                self.words
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| w.contains(&***o))
                    .fold(0u64, |m, (i, _)| m | 1 << i)
            })
            .collect();
        // the longest match at each position, every position tried (see `found`): with
        // the vectorised searcher where the processor has one, else an automaton
        let patterns = || chosen.iter().map(|(_, w)| w.as_bytes());
        let packed = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(patterns())
            .build();
        let searcher = match packed {
            Some(p) => Some(Searcher::Packed(p)),
            None => aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(patterns())
                .ok()
                .map(Searcher::Automaton),
        };
        Search { implied, searcher }
    }
}

/// A search for some of a plan's words ([`Words::search`]).
#[derive(Clone, Debug, Default)]
pub struct Search {
    /// For each pattern, the bits of the plan's words it contains.
    implied: Vec<u64>,
    searcher: Option<Searcher>,
}

impl Search {
    /// The bits of the words `text` contains (of those looked for, and the words inside
    /// them): every bit when there is no searcher, or when the text has a `*` and its
    /// document an alias (a value copied from an anchor is written elsewhere). A text with
    /// a backslash is also searched with its escapes read ([`unescaped`]): a string with
    /// escapes (in JSON, or a double-quoted YAML string) shows its value there.
    ///
    /// The search finds the leftmost position where a word starts and the longest word
    /// there, then searches again from the next position, so every position where a word
    /// starts is found; a shorter word starting there is inside the longer one, and a word
    /// inside a found word is counted found with it.
    pub fn found(&self, text: &str, aliased: bool) -> u64 {
        let Some(s) = &self.searcher else {
            return u64::MAX;
        };
        if aliased && memchr::memchr(b'*', text.as_bytes()).is_some() {
            return u64::MAX;
        }
        let bits = self.words_in(s, text);
        if memchr::memchr(b'\\', text.as_bytes()).is_none() {
            return bits;
        }
        bits | self.words_in(s, &unescaped(text))
    }

    fn words_in(&self, s: &Searcher, text: &str) -> u64 {
        let mut bits = 0u64;
        let mut at = 0;
        while at < text.len() {
            let span = aho_corasick::Span {
                start: at,
                end: text.len(),
            };
            let found = match s {
                Searcher::Packed(p) => p.find_in(text, span),
                Searcher::Automaton(a) => a.find(aho_corasick::Input::new(text).span(span)),
            };
            let Some(m) = found else {
                break;
            };
            match self.implied.get(m.pattern().as_usize()) {
                Some(b) => bits |= b,
                None => return u64::MAX,
            }
            at = m.start() + 1;
        }
        bits
    }
}

/// `text` with every backslash escape of JSON and of double-quoted YAML read, wherever it
/// is: each string with escapes then shows its value (its other characters are kept). A
/// backslash outside such a string (in a plain or single-quoted YAML scalar, a block
/// scalar) is literal; read as an escape it only changes this copy, and the text itself
/// is searched too. An escape that is not one is kept as written.
fn unescaped(text: &str) -> String {
    use crate::model::lenient::escape;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(rest.get(..at).unwrap_or(""));
        let after = rest.get(at + 1..).unwrap_or("");
        let mut probe = after.chars();
        let decoded = match probe.next() {
            // an escaped line break (YAML): the break and the next line's leading white
            // space are not part of the value
            Some(b @ ('\n' | '\r')) => {
                let next = probe.as_str();
                let next = match b {
                    '\r' => next.strip_prefix('\n').unwrap_or(next),
                    _ => next,
                };
                rest = next.trim_start_matches([' ', '\t']);
                continue;
            }
            // JSON's escaped slash, and a character beyond the first plane as JSON
            // writes it (a surrogate pair)
            Some('/') => Some('/'),
            Some('u') => match surrogate_pair(probe.clone()) {
                Some((c, next)) => {
                    probe = next;
                    Some(c)
                }
                None => escape('u', &mut probe),
            },
            Some(e) => escape(e, &mut probe),
            None => None,
        };
        match decoded {
            Some(d) => {
                out.push(d);
                rest = probe.as_str();
            }
            // not an escape: the backslash kept, the text after it read on
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character of a JSON surrogate pair whose first `\\u` has been read (`chars` is at
/// its hex digits), and the characters after the pair.
fn surrogate_pair(mut chars: Chars<'_>) -> Option<(char, Chars<'_>)> {
    fn hex4(chars: &mut Chars<'_>) -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            v = v * 16 + chars.next()?.to_digit(16)?;
        }
        Some(v)
    }
    let hi = hex4(&mut chars).filter(|h| (0xD800..0xDC00).contains(h))?;
    if chars.next()? != '\\' || chars.next()? != 'u' {
        return None;
    }
    let lo = hex4(&mut chars).filter(|l| (0xDC00..0xE000).contains(l))?;
    let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?;
    Some((c, chars))
}

/// Whether an object whose text has the words `found` can match a rule whose prefilter
/// has the mask `mask` (0: no prefilter).
#[inline]
pub fn admits(mask: u64, found: u64) -> bool {
    mask == 0 || found & mask != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Search {
        Words {
            words: w.iter().map(|&x| Arc::from(x)).collect(),
        }
        .search(u64::MAX)
    }

    #[test]
    fn every_word_is_found_where_words_overlap() {
        let w = words(&["kube-api", "apiserver", "api", "server-x"]);
        // "kube-api" and "apiserver" overlap; "api" starts where "apiserver" does and is
        // inside both; "server-x" is not there
        assert_eq!(w.found("name: kube-apiserver-y", false), 0b0111);
        assert_eq!(w.found("apiserver-x", false), 0b1110);
        assert_eq!(w.found("nothing here", false), 0);
        assert_eq!(w.found("", false), 0);
        // the longest word at a position, then the next position: "api" alone
        assert_eq!(w.found("ap api", false), 0b0100);
    }

    #[test]
    fn a_text_with_an_escape_is_searched_as_it_reads() {
        let w = words(&["kubelet", "a\u{1F600}b"]);
        // JSON escapes: a character, a surrogate pair, a quote and a slash beside it
        assert_eq!(w.found(r#"{"name": "kube\u006cet"}"#, false), 0b01);
        assert_eq!(w.found(r#"{"name": "a\ud83d\ude00b"}"#, false), 0b10);
        assert_eq!(
            w.found(r#"{"a": "{\"kubelet\":1}", "b": "x\/y"}"#, false),
            0b01
        );
        // an escape elsewhere does not make every word found (the annotation kubectl
        // writes on what it applies)
        let applied = r#"{"metadata": {"annotations": {"last-applied": "{\"kind\":\"Pod\"}"}}}"#;
        assert_eq!(w.found(applied, false), 0);
        // YAML escapes: \x, \U, and a line continued with a backslash (LF and CRLF)
        assert_eq!(w.found("name: \"kube\\x6Cet\"", false), 0b01);
        assert_eq!(w.found("name: \"kube\\U0000006Cet\"", false), 0b01);
        assert_eq!(w.found("name: \"kube\\\n    let\"", false), 0b01);
        assert_eq!(w.found("name: \"kube\\\r\n\t let\"", false), 0b01);
        // a backslash that is not an escape (a plain scalar) stays in the text searched
        assert_eq!(w.found("path: C:\\new\\kubelet", false), 0b01);
        assert_eq!(w.found("path: C:\\new\\other \\", false), 0);
        // a `*` is an alias only in a document that has one
        assert_eq!(
            w.found("schedule: \"*/5 * * * *\"\nname: kubelet", false),
            0b01
        );
        assert_eq!(w.found("schedule: \"*/5 * * * *\"\nname: x", false), 0);
        assert_eq!(w.found("name: *kubelet", true), u64::MAX);
        assert_eq!(w.found("name: kubelet", true), 0b01);
        assert_eq!(Search::default().found("name: kubelet", false), u64::MAX);
        // only the words asked for are looked for, with the words inside them
        let all = Words {
            words: ["kubelet", "kube", "etcd-x"].map(Arc::from).to_vec(),
        };
        assert_eq!(all.search(0b101).found("kubelet etcd-x", false), 0b111);
        assert_eq!(all.search(0b100).found("kubelet etcd-x", false), 0b100);
        assert!(admits(0b11, 0b10));
        assert!(!admits(0b10, 0b01));
        assert!(admits(0, 0));
    }

    /// JSON that escapes any character of a string, the way a writer may.
    fn json_escaped(value: &str, escape: &[bool]) -> String {
        let mut out = String::from("{\"v\": \"");
        for (i, c) in value.chars().enumerate() {
            let forced = escape
                .get(i % escape.len().max(1))
                .copied()
                .unwrap_or(false);
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 || forced => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{u:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push_str("\"}");
        out
    }

    /// A double-quoted YAML string that escapes any character of a value, in any of
    /// YAML's forms, and continues its line with a backslash now and then.
    fn yaml_escaped(value: &str, escape: &[u8]) -> String {
        let mut out = String::from("v: \"");
        for (i, c) in value.chars().enumerate() {
            let how = escape.get(i % escape.len().max(1)).copied().unwrap_or(0) % 6;
            if how == 5 {
                out.push_str("\\\n      ");
            }
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 || how == 1 => {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
                c if how == 2 && (c as u32) < 0x100 => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if how == 3 && (c as u32) < 0x10000 => {
                    out.push_str(&format!("\\u{:04X}", c as u32));
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    proptest::proptest! {
        /// Wherever a value with a word is written with escapes (JSON's, YAML's, a
        /// continued line), the word is found.
        #[test]
        fn a_word_in_an_escaped_value_is_found(
            before in "[a-z\"\\\\/\n\té\u{1F600}-]{0,12}",
            after in "[a-z\"\\\\/\n\té\u{1F600}-]{0,12}",
            json_escape in proptest::collection::vec(proptest::bool::ANY, 1..6),
            yaml_escape in proptest::collection::vec(0u8..12, 1..6),
        ) {
            let w = words(&["kube-é\u{1F600}let"]);
            let value = format!("{before}kube-é\u{1F600}let{after}");
            let json = json_escaped(&value, &json_escape);
            proptest::prop_assert_eq!(
                serde_json::from_str::<serde_json::Value>(&json).ok()
                    .and_then(|v| v.get("v").and_then(|s| s.as_str().map(String::from))),
                Some(value.clone()),
                "{}", json
            );
            proptest::prop_assert_eq!(w.found(&json, false), 1, "{}", json);
            let yaml = yaml_escaped(&value, &yaml_escape);
            proptest::prop_assert_eq!(w.found(&yaml, false), 1, "{}", yaml);
        }
    }

    #[test]
    fn words_are_those_no_other_writing_makes() {
        for ok in [
            "kubelet",
            "kube-apiserver",
            "/kubelet",
            "config.linkerd.io/skip-inbound-ports",
        ] {
            assert!(word(ok), "{ok}");
        }
        for no in [
            "yes", "True", "null", "a b", "it's", "0755", "-x", ".inf", "-.inf", "+12e3", "~abc",
            "abc", "a\\b", "*ab", "tab\tx",
        ] {
            assert!(!word(no), "{no}");
        }
    }

    #[test]
    fn clauses_are_normalized() {
        let c = |w: &[&str]| w.iter().map(|&x| Arc::from(x)).collect::<Clause>();
        // a word inside another of its clause is enough; a clause another implies goes
        assert_eq!(
            normalize(vec![
                c(&["/kubelet", "kubelet"]),
                c(&["kubelet", "etcd-x"]),
                c(&["kubelet"]),
            ]),
            vec![c(&["kubelet"])]
        );
        // either of two requirements: a word of each
        assert_eq!(
            or(vec![c(&["aaaa"]), c(&["bbbb"])], vec![c(&["cccc"])]),
            vec![c(&["aaaa", "cccc"]), c(&["bbbb", "cccc"])]
        );
        assert!(or(vec![c(&["aaaa"])], Vec::new()).is_empty());
    }
}

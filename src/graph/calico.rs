//! Calico's selector language (`spec.selector` of `projectcalico.org/v3` policies), parsed
//! and evaluated with the semantics of Calico's documentation:
//!
//! | syntax | matches |
//! |---|---|
//! | `all()` | everything |
//! | `global()` | non-namespaced endpoints (never a pod or namespace) |
//! | `k == 'v'` | label `k` present with value `v` |
//! | `k != 'v'` | label `k` present with a value other than `v` |
//! | `has(k)` | label `k` present |
//! | `k in {'a', 'b'}` | label `k` present with one of the values |
//! | `k not in {'a', 'b'}` | label `k` absent, or present with none of the values |
//! | `k contains 's'`, `k starts with 's'`, `k ends with 's'` | label `k` present, its value containing / starting / ending with `s` |
//! | `!e`, `e && f`, `e \|\| f`, `(e)` | negation, both, either (`!` binds tightest, then `&&`, then `\|\|`) |
//!
//! Strings are quoted with `'` or `"`. An empty selector is `all()`. Text that is not in
//! this grammar does not parse: a policy with such a selector selects nothing.

/// Deepest nesting of `(`, `!` accepted (hostile input must not exhaust the stack).
const MAX_DEPTH: usize = 64;

/// A parsed Calico selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// `all()`.
    All,
    /// `global()`: only non-namespaced endpoints.
    Global,
    /// `has(k)`.
    Has(Box<str>),
    /// `k == 'v'`.
    Eq(Box<str>, Box<str>),
    /// `k != 'v'`.
    Ne(Box<str>, Box<str>),
    /// `k in {...}`.
    In(Box<str>, Vec<Box<str>>),
    /// `k not in {...}`.
    NotIn(Box<str>, Vec<Box<str>>),
    /// `k contains 's'`.
    Contains(Box<str>, Box<str>),
    /// `k starts with 's'`.
    StartsWith(Box<str>, Box<str>),
    /// `k ends with 's'`.
    EndsWith(Box<str>, Box<str>),
    /// `!e`.
    Not(Box<Selector>),
    /// `e && f`.
    And(Box<Selector>, Box<Selector>),
    /// `e || f`.
    Or(Box<Selector>, Box<Selector>),
}

impl Selector {
    /// Parses a selector; `None` when the text is not a valid selector.
    pub fn parse(text: &str) -> Option<Selector> {
        let tokens = lex(text)?;
        if tokens.is_empty() {
            return Some(Selector::All);
        }
        let mut p = Parser {
            tokens: &tokens,
            pos: 0,
            depth: 0,
        };
        let s = p.or()?;
        (p.pos == tokens.len()).then_some(s)
    }

    /// Whether an endpoint with these labels is selected. `global` says whether the
    /// endpoint is non-namespaced (what `global()` matches).
    pub fn matches<'a, F: Fn(&str) -> Option<&'a str>>(&self, label: &F, global: bool) -> bool {
        match self {
            Selector::All => true,
            Selector::Global => global,
            Selector::Has(k) => label(k).is_some(),
            Selector::Eq(k, v) => label(k) == Some(&**v),
            Selector::Ne(k, v) => label(k).is_some_and(|l| l != &**v),
            Selector::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| &**v == l)),
            Selector::NotIn(k, vs) => label(k).is_none_or(|l| vs.iter().all(|v| &**v != l)),
            Selector::Contains(k, s) => label(k).is_some_and(|l| l.contains(&**s)),
            Selector::StartsWith(k, s) => label(k).is_some_and(|l| l.starts_with(&**s)),
            Selector::EndsWith(k, s) => label(k).is_some_and(|l| l.ends_with(&**s)),
            Selector::Not(e) => !e.matches(label, global),
            Selector::And(a, b) => a.matches(label, global) && b.matches(label, global),
            Selector::Or(a, b) => a.matches(label, global) || b.matches(label, global),
        }
    }

    /// Every label key the selector reads.
    pub fn keys(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_keys(&mut out);
        out
    }

    fn collect_keys<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Selector::All | Selector::Global => {}
            Selector::Has(k)
            | Selector::Eq(k, _)
            | Selector::Ne(k, _)
            | Selector::In(k, _)
            | Selector::NotIn(k, _)
            | Selector::Contains(k, _)
            | Selector::StartsWith(k, _)
            | Selector::EndsWith(k, _) => out.push(k),
            Selector::Not(e) => e.collect_keys(out),
            Selector::And(a, b) | Selector::Or(a, b) => {
                a.collect_keys(out);
                b.collect_keys(out);
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    /// A label name or a keyword (`in`, `not`, `contains`, `starts`, `with`, `ends`,
    /// `all`, `global`, `has`).
    Word(Box<str>),
    Str(Box<str>),
    Eq,
    Ne,
    Not,
    And,
    Or,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

fn lex(text: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let tok = match c {
            c if c.is_whitespace() => continue,
            '=' if next == Some('=') => {
                chars.next();
                Tok::Eq
            }
            '!' if next == Some('=') => {
                chars.next();
                Tok::Ne
            }
            '!' => Tok::Not,
            '&' if next == Some('&') => {
                chars.next();
                Tok::And
            }
            '|' if next == Some('|') => {
                chars.next();
                Tok::Or
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            ',' => Tok::Comma,
            '\'' | '"' => {
                let rest = text.get(i + 1..)?;
                let end = rest.find(c)?;
                let s = rest.get(..end)?;
                for _ in 0..s.chars().count() + 1 {
                    chars.next();
                }
                Tok::Str(s.into())
            }
            c if is_label_char(c) => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, n)) = chars.peek() {
                    if !is_label_char(n) {
                        break;
                    }
                    end = j + n.len_utf8();
                    chars.next();
                }
                Tok::Word(text.get(i..end)?.into())
            }
            _ => return None,
        };
        out.push(tok);
    }
    Some(out)
}

struct Parser<'t> {
    tokens: &'t [Tok],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<&Tok> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    fn eat(&mut self, t: &Tok) -> Option<()> {
        (self.next()? == t).then_some(())
    }

    fn word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(x)) if &**x == w) {
            self.pos += 1;
            return true;
        }
        false
    }

    fn string(&mut self) -> Option<Box<str>> {
        match self.next()? {
            Tok::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn or(&mut self) -> Option<Selector> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            let right = self.and()?;
            left = Selector::Or(Box::new(left), Box::new(right));
        }
        Some(left)
    }

    fn and(&mut self) -> Option<Selector> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            let right = self.unary()?;
            left = Selector::And(Box::new(left), Box::new(right));
        }
        Some(left)
    }

    fn unary(&mut self) -> Option<Selector> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let out = self.unary_inner();
        self.depth -= 1;
        out
    }

    fn unary_inner(&mut self) -> Option<Selector> {
        match self.peek()? {
            Tok::Not => {
                self.pos += 1;
                Some(Selector::Not(Box::new(self.unary()?)))
            }
            Tok::LParen => {
                self.pos += 1;
                let e = self.or()?;
                self.eat(&Tok::RParen)?;
                Some(e)
            }
            Tok::Word(w) => {
                let w = w.clone();
                self.pos += 1;
                self.after_word(w)
            }
            _ => None,
        }
    }

    fn after_word(&mut self, w: Box<str>) -> Option<Selector> {
        if self.peek() == Some(&Tok::LParen) && matches!(&*w, "all" | "global" | "has") {
            self.pos += 1;
            let s = match &*w {
                "all" => Selector::All,
                "global" => Selector::Global,
                _ => match self.next()? {
                    Tok::Word(k) => Selector::Has(k.clone()),
                    _ => return None,
                },
            };
            self.eat(&Tok::RParen)?;
            return Some(s);
        }
        let key = w;
        match self.next()?.clone() {
            Tok::Eq => Some(Selector::Eq(key, self.string()?)),
            Tok::Ne => Some(Selector::Ne(key, self.string()?)),
            Tok::Word(op) => match &*op {
                "in" => Some(Selector::In(key, self.set()?)),
                "not" if self.word("in") => Some(Selector::NotIn(key, self.set()?)),
                "contains" => Some(Selector::Contains(key, self.string()?)),
                "starts" if self.word("with") => Some(Selector::StartsWith(key, self.string()?)),
                "ends" if self.word("with") => Some(Selector::EndsWith(key, self.string()?)),
                _ => None,
            },
            _ => None,
        }
    }

    fn set(&mut self) -> Option<Vec<Box<str>>> {
        self.eat(&Tok::LBrace)?;
        let mut out = Vec::new();
        if self.peek() == Some(&Tok::RBrace) {
            self.pos += 1;
            return Some(out);
        }
        loop {
            out.push(self.string()?);
            match self.next()? {
                Tok::Comma => {}
                Tok::RBrace => return Some(out),
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: &[(&str, &str)] = &[("app", "web"), ("tier", "front-end"), ("env", "prod")];

    fn sel(text: &str) -> bool {
        let s = Selector::parse(text).unwrap_or_else(|| panic!("`{text}` does not parse"));
        let label = |k: &str| LABELS.iter().find(|(x, _)| *x == k).map(|(_, v)| *v);
        s.matches(&label, false)
    }

    #[test]
    fn each_operator() {
        assert!(sel("all()"));
        assert!(sel(""));
        assert!(sel("  "));
        assert!(!sel("global()"));
        assert!(sel("app == 'web'"));
        assert!(sel("app == \"web\""));
        assert!(!sel("app == 'api'"));
        assert!(!sel("missing == 'web'"));
        assert!(sel("app != 'api'"));
        assert!(!sel("app != 'web'"));
        // documented: `!=` needs the label
        assert!(!sel("missing != 'web'"));
        assert!(sel("has(app)"));
        assert!(!sel("has(missing)"));
        assert!(sel("!has(missing)"));
        assert!(sel("app in {'api', 'web'}"));
        assert!(!sel("app in {'api'}"));
        assert!(!sel("app in {}"));
        assert!(!sel("missing in {'web'}"));
        assert!(sel("app not in {'api'}"));
        assert!(!sel("app not in {'web', 'api'}"));
        assert!(sel("missing not in {'web'}"));
        assert!(sel("tier contains 'nt-e'"));
        assert!(!sel("missing contains ''"));
        assert!(sel("tier starts with 'front'"));
        assert!(!sel("tier starts with 'end'"));
        assert!(sel("tier ends with '-end'"));
        assert!(!sel("tier ends with 'front'"));
    }

    #[test]
    fn boolean_operators_and_precedence() {
        assert!(sel("app == 'web' && env == 'prod'"));
        assert!(!sel("app == 'web' && env == 'dev'"));
        assert!(sel("app == 'api' || env == 'prod'"));
        assert!(!sel("app == 'api' || env == 'dev'"));
        // `&&` binds tighter than `||`
        assert!(sel("app == 'web' || app == 'x' && env == 'dev'"));
        assert!(!sel("(app == 'web' || app == 'x') && env == 'dev'"));
        // `!` binds tightest
        assert!(!sel("!app == 'web' || env == 'dev'"));
        assert!(sel("!(app == 'api')"));
        assert!(sel("!!has(app)"));
        assert!(sel(
            "has(projectcalico.org/x) || k8s-app.io/name not in {'a'}"
        ));
    }

    #[test]
    fn invalid_text_does_not_parse() {
        for bad in [
            "app = 'web'",
            "app == web",
            "app == 'web",
            "app ==",
            "has(app",
            "app in {'a' 'b'}",
            "app in 'a'",
            "app == 'a' &&",
            "(app == 'a'",
            "app == 'a')",
            "app & env",
            "matchLabels: {app: web}",
            "app not 'a'",
            "app starts 'a'",
            "all",
            "☃ == 'a'",
        ] {
            assert_eq!(Selector::parse(bad), None, "{bad}");
        }
        let deep = format!("{}has(a){}", "(".repeat(100), ")".repeat(100));
        assert_eq!(Selector::parse(&deep), None);
        let nots = format!("{}has(a)", "!".repeat(100));
        assert_eq!(Selector::parse(&nots), None);
    }

    #[test]
    fn global_and_keys() {
        let s = Selector::parse("global()").unwrap();
        assert!(s.matches(&|_| None, true));
        let s = Selector::parse("a == 'x' && !has(b) || c in {'y'}").unwrap();
        assert_eq!(s.keys(), vec!["a", "b", "c"]);
    }
}

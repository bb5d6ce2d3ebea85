//! The regular expression of a `matches` pattern: checked when the rules compile, built
//! whole for matching when a rule first matches with it.
//!
//! Building a pattern whole (the `regex` crate's automata: forward and reverse, lazy DFA,
//! one-pass DFA, backtracker, literal prefilters) took about a third of compiling the
//! bundled ruleset, and most patterns are matched against few values or none in a scan,
//! and never by `kanon check` or the language server. The compile only asks what can make
//! the build fail: the pattern's syntax, and the size of its automata against the size
//! limit. A forward automaton alone (no reverse one, no other engine) answers the first
//! and most of the second at a third of the cost. The reverse automaton, which the whole
//! build also makes, can be the larger: where the whole build first fails for Unicode
//! classes and `.` repeated, the forward automaton holds a quarter to a half of the limit
//! (2.3 to 3.7 times less). So a pattern whose forward automaton holds more than an eighth
//! of the limit, or fails it, is built whole when it is checked, as before, and the errors
//! are those of the whole build unless a reverse automaton is more than eight times its
//! forward one. A pattern whose whole build would still fail when it is first used is
//! matched by its forward automaton: the same matches, more slowly.

use regex_automata::meta;
use regex_automata::util::syntax;
use std::sync::OnceLock;

/// A checked pattern, built whole on first use.
#[derive(Debug)]
pub struct Matcher {
    /// The pattern as written (after the language's escapes).
    source: Box<str>,
    /// The size limit it was checked against (bytes).
    limit: usize,
    /// The forward automaton the check built, when it did not build the pattern whole
    /// (it matches as the whole build does).
    checked: Option<meta::Regex>,
    /// The whole build, made when checked or the first time the pattern matches (`None`
    /// if it failed then).
    whole: OnceLock<Option<regex::Regex>>,
}

/// The part of the size limit past which a pattern is built whole when it is checked.
const WHOLE_PAST: usize = 8;

impl Matcher {
    /// Checks `pattern` against the size limit `limit` (bytes): the error building it whole
    /// would give, or the matcher.
    pub fn new(pattern: &str, limit: usize) -> Result<Matcher, regex::Error> {
        let checked = match forward(pattern, limit) {
            // a pattern of literals only is built whole without an automaton, so the
            // automaton's size is not its limit
            Err(e) if e.size_limit().is_some() => None,
            // as the `regex` crate reports a failed build
            Err(e) => {
                return Err(regex::Error::Syntax(
                    e.syntax_error()
                        .map_or_else(|| e.to_string(), ToString::to_string),
                ));
            }
            Ok(re) if re.memory_usage() > limit / WHOLE_PAST => None,
            Ok(re) => Some(re),
        };
        let whole = OnceLock::new();
        if checked.is_none() {
            let _ = whole.set(Some(self::whole(pattern, limit)?));
        }
        Ok(Matcher {
            source: pattern.into(),
            limit,
            checked,
            whole,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        let whole = self
            .whole
            .get_or_init(|| self::whole(&self.source, self.limit).ok());
        match (whole, &self.checked) {
            (Some(re), _) => re.is_match(text),
            (None, Some(re)) => re.is_match(text),
            (None, None) => false,
        }
    }
}

/// The forward automaton of `pattern` alone, configured as the `regex` crate configures
/// its whole build of a string pattern.
fn forward(pattern: &str, limit: usize) -> Result<meta::Regex, Box<meta::BuildError>> {
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .nfa_size_limit(Some(limit))
                .match_kind(regex_automata::MatchKind::LeftmostFirst)
                .utf8_empty(true)
                .auto_prefilter(false)
                .onepass(false)
                .backtrack(false)
                .hybrid(false)
                .dfa(false),
        )
        .syntax(syntax::Config::new().utf8(true))
        .build(pattern)
        .map_err(Box::new)
}

/// `pattern` built whole, as the checker always built it.
fn whole(pattern: &str, limit: usize) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern).size_limit(limit).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    /// Patterns of the bundled ruleset's kinds and the ones that fail, with texts.
    const PATTERNS: &[&str] = &[
        r"(?i)(passwd|password|pwd|secret|token|api_?key|private_?key|credentials?|_key$)",
        r"^(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|localhost|::1|\[::1\])$",
        r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
        r"(^|/)(ba|da|a)?sh$",
        r"^$",
        r"",
        r"é+\s\w",
        r"(?s)a.b",
    ];
    const TEXTS: &[&str] = &[
        "",
        "DB_PASSWORD",
        "127.0.0.1",
        "localhost:80",
        "AKIAABCDEFGHIJKLMNOP",
        "xAKIAABCDEFGHIJKLMNOP",
        "/bin/bash",
        "/bin/zsh",
        "éé x",
        "a\nb",
        "ab",
    ];

    /// Every error is the one building the pattern whole gives: syntax, look-around, a
    /// class that does not exist, bytes that are not UTF-8, and automata past the limit
    /// (the reverse one only, for `\w` repeated 30 times; both for 60).
    #[test]
    fn errors_are_those_of_the_whole_build() {
        for p in [
            "(",
            "a{2,1}",
            "(?<=a)b",
            r"(a)\1",
            r"\p{NoSuchClass}",
            r"(?-u)\xFF",
            r"(?:\w){30}",
            r"(?:\w){60}",
            r"(?:\pL){40}",
        ] {
            let got = Matcher::new(p, LIMIT).err();
            let want = whole(p, LIMIT).err();
            assert!(want.is_some(), "`{p}` builds whole");
            assert_eq!(got, want, "`{p}`");
        }
        // the forward automaton alone is within the limit for the reverse-only case
        assert!(forward(r"(?:\w){30}", LIMIT).is_ok());
    }

    /// A pattern of literals only, which the whole build takes without an automaton, is
    /// accepted although its forward automaton is past the limit.
    #[test]
    fn literals_past_the_automaton_limit_are_accepted() {
        let words: Vec<String> = (0..30_000).map(|i| format!("w{i}q")).collect();
        let many = words.join("|");
        assert!(forward(&many, LIMIT).is_err_and(|e| e.size_limit().is_some()));
        let m = Matcher::new(&many, LIMIT).expect("the whole build takes it");
        assert!(m.is_match("x w29999q x"));
        assert!(!m.is_match("w30000q"));
    }

    /// The forward automaton and the matcher match where the whole build does.
    #[test]
    fn matches_agree_with_the_whole_build() {
        for p in PATTERNS {
            let re = whole(p, LIMIT).expect("valid");
            let m = Matcher::new(p, LIMIT).expect("valid");
            let checked = m
                .checked
                .as_ref()
                .expect("a small pattern is checked forward");
            for t in TEXTS {
                let want = re.is_match(t);
                assert_eq!(checked.is_match(t), want, "`{p}` on {t:?}, forward");
                assert_eq!(m.is_match(t), want, "`{p}` on {t:?}");
            }
        }
    }

    /// A small pattern is built whole only when it first matches; one whose forward
    /// automaton holds more than an eighth of the limit is built whole when checked.
    #[test]
    fn a_small_pattern_is_built_whole_on_first_use() {
        let m = Matcher::new(r"^[a-z]+(-[a-z]+)+$", LIMIT).expect("valid");
        assert!(m.whole.get().is_none());
        assert!(m.is_match("kube-system"));
        assert!(matches!(m.whole.get(), Some(Some(_))));
        let big = Matcher::new(r"(?:\w){12}", LIMIT).expect("valid");
        assert!(big.checked.is_none());
        assert!(matches!(big.whole.get(), Some(Some(_))));
        assert_eq!(big.as_str(), r"(?:\w){12}");
    }
}

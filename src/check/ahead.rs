//! Parsing a ruleset's files ahead of the checker, in parallel.
//!
//! The checker loads files one by one, each file's imports right after it, and gives each
//! the next [`FileId`] of the [`SourceMap`] as it goes; the parser needs that id, since
//! every span carries it. [`ahead`] predicts the order in which the checker will load the
//! files (their imports found by a look at each line, see [`imports`]), parses every file
//! with its predicted id in parallel (a bundled file's tree is decoded from the form
//! `build.rs` stored, `syntax::parse_stored`), and the checker takes a file's parse only
//! when the id it gives the file is the predicted one. A wrong prediction (an import
//! written in a way the look misses, say) costs a parse again, never a different result.
//!
//! Beside the parse, the bundled schema is decoded on another thread, since the checker
//! needs it next. Then the regular expressions of the `matches "..."` in the files' texts
//! are checked on rayon's pool while the checker loads the files, collects the declarations
//! and checks the relations on its own thread, into a cache that [`regex`] takes them from
//! (a check builds a pattern's forward automaton; the whole build waits for the pattern's
//! first match, see [`super::matcher`]). The cache is keyed by the exact pattern and filled
//! by the one checker of patterns, so a hit is the matcher the checker would have made; a
//! miss (a pattern the look does not find) is checked then, and a check under way is
//! waited for. The checker also takes a pattern it checked once from the cache again: a
//! `def` with a `matches` is checked at every call.

use super::fs::{RuleFile, RuleFs};
use super::matcher::Matcher;
use crate::diag::{Diagnostic, FileId};
use crate::syntax::ast;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// A pattern's matcher, checked once by whichever thread gets to it first (a check
/// started ahead, or the checker); a second thread waits for it.
type Slot = Arc<OnceLock<Result<Arc<Matcher>, regex::Error>>>;

/// Matchers checked ahead or by the checker, by pattern; emptied when a compile
/// starts, so it holds about one ruleset's patterns.
static REGEXES: Mutex<Option<HashMap<String, Slot>>> = Mutex::new(None);

/// The slot of `pattern`, made empty when there is none.
fn slot(pattern: &str) -> Slot {
    let mut map = REGEXES.lock().unwrap_or_else(PoisonError::into_inner);
    let map = map.get_or_insert_with(HashMap::new);
    if let Some(s) = map.get(pattern) {
        return Arc::clone(s);
    }
    let s = Slot::default();
    map.insert(pattern.to_string(), Arc::clone(&s));
    s
}

/// Checks a `matches` pattern as the checker does, once per compile: a pattern checked
/// ahead, or already for another use (a `def` is checked at every call), is shared.
pub(crate) fn regex(pattern: &str) -> Result<Arc<Matcher>, regex::Error> {
    slot(pattern)
        .get_or_init(|| build(pattern).map(Arc::new))
        .clone()
}

fn build(pattern: &str) -> Result<Matcher, regex::Error> {
    Matcher::new(pattern, crate::limits::Limits::default().max_regex_bytes)
}

/// Starts checking the patterns of the `matches "..."` in `texts` on rayon's pool, one
/// task per pattern not known yet; the checker takes them with [`regex`] (waiting for a
/// check under way rather than starting a second one).
fn build_patterns_beside<'t>(texts: impl Iterator<Item = &'t str>) {
    let mut wanted: Vec<String> = texts.flat_map(patterns).collect();
    wanted.sort_unstable();
    wanted.dedup();
    for pattern in wanted {
        let s = slot(&pattern);
        if s.get().is_none() {
            rayon::spawn(move || {
                s.get_or_init(|| build(&pattern).map(Arc::new));
            });
        }
    }
}

/// The patterns of `matches "..."` in a rule file's text, unescaped as the language does
/// (`\"`, `\\`, `\n`, `\t`, `\r`, `\u{hex}`, any other escaped character itself). Only a
/// prediction: a pattern is taken wherever the text says `matches "`.
pub(super) fn patterns(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = memchr::memmem::find(rest.as_bytes(), b"matches") {
        rest = &rest[at + "matches".len()..];
        let Some(lit) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let mut value = String::new();
        let mut chars = lit.chars();
        let closed = loop {
            match chars.next() {
                None => break false,
                Some('"') => break true,
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some('r') => value.push('\r'),
                    Some('u') => {
                        let Some((hex, tail)) = chars
                            .as_str()
                            .strip_prefix('{')
                            .and_then(|t| t.split_once('}'))
                        else {
                            break false;
                        };
                        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                            Some(c) => value.push(c),
                            None => break false,
                        }
                        chars = tail.chars();
                    }
                    Some(c) => value.push(c),
                    None => break false,
                },
                Some(c) => value.push(c),
            }
        };
        if closed {
            out.push(value);
        }
        rest = chars.as_str();
    }
    out
}

/// A file as the checker keys it: embedded or not, root, relative path.
pub(super) type Key = (bool, String, String);

/// A file read and parsed ahead.
pub(super) struct Ahead {
    /// The id the file was parsed with.
    pub id: FileId,
    /// The text read.
    pub text: String,
    /// The parse, with its diagnostics.
    pub parsed: (ast::File, Vec<Diagnostic>),
}

/// The key of a file.
pub(super) fn key(f: &RuleFile) -> Key {
    (f.embedded, f.root.clone(), f.rel.clone())
}

/// A table file decoded ahead: the YAML of its text (byte order mark removed), as
/// [`decode_table`] gives it.
pub(super) type TableYaml = Result<serde_yaml::Value, serde_yaml::Error>;

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

/// Decodes a table file's text, as the checker does: a bundled table file's text is
/// decoded from the form `build.rs` stored (`table_store`), any other read as YAML.
pub(super) fn decode_table(text: &str) -> TableYaml {
    if let Some(v) = stored_table(text) {
        return Ok(v);
    }
    serde_yaml::from_str(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// The value `build.rs` stored for a bundled table file whose text is `text`.
fn stored_table(text: &str) -> Option<serde_yaml::Value> {
    let (_, start, end) = TABLES
        .iter()
        .find(|(t, _, _)| t.len() == text.len() && *t == text)?;
    super::table_store::decode(TABLE_VALUES.get(*start..*end)?)
}

/// What [`ahead`] prepares: the files parsed, by key, and the table files their `table`
/// items name, decoded, by key. A table file missing here (one that cannot be read, say)
/// is decoded by the checker.
pub(super) struct Prepared {
    /// The files read and parsed.
    pub files: HashMap<Key, Ahead>,
    /// The table files decoded.
    pub tables: HashMap<Key, TableYaml>,
}

/// Reads and parses the files that loading `entry` in order will load, in parallel, each
/// with the id it is predicted to get (`first` for the first file loaded, and so on);
/// files that cannot be read are left out (the checker reports them). Beside each parse,
/// the table files its `table` items name are decoded (the checker would decode them one
/// after the other).
pub(super) fn ahead(fs: &RuleFs, entry: &[RuleFile], first: usize) -> Prepared {
    let mut order: Vec<(RuleFile, String)> = Vec::new();
    let mut seen: HashSet<Key> = HashSet::new();
    for f in entry {
        visit(fs, f.clone(), &mut seen, &mut order);
    }
    *REGEXES.lock().unwrap_or_else(PoisonError::into_inner) = None;
    let parse_all = || {
        order
            .into_par_iter()
            .enumerate()
            .filter_map(|(i, (f, text))| {
                let id = FileId::try_from(first + i).ok()?;
                let parsed = crate::syntax::parse_stored(id, &text);
                let tables = tables(fs, &f, &parsed.0);
                Some(((key(&f), Ahead { id, text, parsed }), tables))
            })
            .collect::<Vec<_>>()
    };
    let (_, parsed) = rayon::join(crate::schema::Schema::bundled, parse_all);
    // the patterns are needed when the rules are checked, after the checker's own work on
    // one thread (loading the files, declarations, relations): built meanwhile
    build_patterns_beside(parsed.iter().map(|((_, a), _)| a.text.as_str()));
    let mut prepared = Prepared {
        files: HashMap::with_capacity(parsed.len()),
        tables: HashMap::new(),
    };
    for (file, tables) in parsed {
        prepared.files.insert(file.0, file.1);
        prepared.tables.extend(tables);
    }
    prepared
}

/// The table files the `table` items of `file` name, decoded, by key.
fn tables(fs: &RuleFs, file: &RuleFile, ast: &ast::File) -> Vec<(Key, TableYaml)> {
    ast.items
        .iter()
        .filter_map(|item| match item {
            ast::Item::Table(t) => {
                let target = fs.resolve(file, &t.path.value)?;
                let text = fs.read(&target).ok()?;
                Some((key(&target), decode_table(&text)))
            }
            _ => None,
        })
        .collect()
}

/// Adds `f` and then what it imports to `order`, as the checker's `load` does. A file
/// that cannot be read takes no id in the checker either, so it is left out.
fn visit(fs: &RuleFs, f: RuleFile, seen: &mut HashSet<Key>, order: &mut Vec<(RuleFile, String)>) {
    if !seen.insert(key(&f)) {
        return;
    }
    let Ok(text) = fs.read(&f) else { return };
    let targets: Vec<RuleFile> = imports(&text)
        .filter_map(|path| fs.resolve(&f, path))
        .map(|t| fs.original(t))
        .collect();
    order.push((f, text));
    for t in targets {
        visit(fs, t, seen, order);
    }
}

/// The paths of the `import "PATH"` lines of a rule file, in order: lines that start
/// with `import`, blanks and a string without escapes. Only a prediction (an import in
/// another form is missed, an `import` line inside a multi-line string is not one).
/// The lines are those of [`str::lines`], found from each `import` in the text.
pub(super) fn imports(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, b"import").filter_map(move |at| {
        let start = memchr::memrchr(b'\n', bytes.get(..at)?).map_or(0, |i| i + 1);
        // only the line's first word: blanks before it
        if !text.get(start..at)?.trim_start().is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', bytes.get(at..)?).map_or(text.len(), |i| at + i);
        let line = text.get(at..end)?;
        let line = line.strip_suffix('\r').unwrap_or(line);
        let rest = line.strip_prefix("import")?;
        let rest = rest.trim_start().strip_prefix('"')?;
        let (path, _) = rest.split_once('"')?;
        (!path.contains('\\')).then_some(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_predicted_ids_are_the_ones_the_checker_gives() {
        // the entry order is a, b, lib/z, m; the checker loads a's import and its import
        // first: a, lib/z, m, b (b's import is a comment)
        let mut fs = RuleFs::new();
        fs.add_embedded("r", "a.kanon", "import \"lib/z.kanon\"\n");
        fs.add_embedded("r", "b.kanon", "// import \"m.kanon\"\n");
        fs.add_embedded("r", "lib/z.kanon", "  import \"../m.kanon\" // m\n");
        fs.add_embedded("r", "m.kanon", "");
        let entry = fs.embedded_rules("r");
        let mut sources = crate::diag::SourceMap::new();
        sources.add("first.yaml", "");
        let predicted = ahead(&fs, &entry, sources.len());
        let compiled = super::super::compile(&fs, &entry, &Default::default(), &mut sources);
        let order: Vec<(FileId, &str)> = compiled
            .files
            .iter()
            .map(|(id, f)| (*id, f.rel.as_str()))
            .collect();
        assert_eq!(
            order,
            vec![
                (1, "a.kanon"),
                (2, "lib/z.kanon"),
                (3, "m.kanon"),
                (4, "b.kanon")
            ]
        );
        for (id, f) in &compiled.files {
            assert_eq!(predicted.files[&key(f)].id, *id, "{}", f.rel);
        }
    }

    #[test]
    fn patterns_are_unescaped_like_strings() {
        let text = r#"where a matches "^a\\.b$" and b matches  "x\"y\u{41}\q\n" or c matches d
        # matches "open"#;
        assert_eq!(patterns(text), vec![r"^a\.b$", "x\"yAq\n"]);
    }

    #[test]
    fn a_regex_from_the_cache_is_the_one_built() {
        build_patterns_beside([r#"x matches "^k[0-9]+-cache-test$""#].into_iter());
        let re = regex("^k[0-9]+-cache-test$").expect("valid");
        assert!(re.is_match("k12-cache-test"));
        assert_eq!(re.as_str(), "^k[0-9]+-cache-test$");
        assert!(regex("(").is_err());
    }

    #[test]
    fn every_bundled_table_is_stored_as_it_reads() {
        let mut stored = 0;
        for (rel, text) in crate::bundled::FILES {
            if !(rel.ends_with(".yaml") || rel.ends_with(".yml")) {
                continue;
            }
            let read = serde_yaml::from_str::<serde_yaml::Value>(
                text.strip_prefix('\u{feff}').unwrap_or(text),
            );
            let Some(back) = stored_table(text) else {
                assert!(read.is_err(), "{rel} is not stored");
                continue;
            };
            stored += 1;
            let read = read.unwrap();
            assert_eq!(back, read, "{rel}");
            assert_eq!(format!("{back:?}"), format!("{read:?}"), "{rel}");
        }
        assert!(stored >= 8, "{stored} tables stored");
        assert!(stored_table("a: 1\n").is_none());
    }

    #[test]
    fn imports_are_the_import_lines() {
        let text = "// import \"no.kanon\"\nimport \"a.kanon\"\n  import   \"../b/c.kanon\" // why\nimportant \"x\"\nimport \"e\\\"f\"\nrule X {}\n";
        assert_eq!(
            imports(text).collect::<Vec<_>>(),
            vec!["a.kanon", "../b/c.kanon"]
        );
        // one path per line, however often the line says `import`; CRLF line ends
        let text =
            "import \"import.kanon\" // import \"x\"\r\n\u{a0}import \"y\"\r\nimport \"z\r\nimport";
        let by_lines: Vec<&str> = text
            .lines()
            .filter_map(|line| {
                let rest = line.trim_start().strip_prefix("import")?;
                let rest = rest.trim_start().strip_prefix('"')?;
                let (path, _) = rest.split_once('"')?;
                (!path.contains('\\')).then_some(path)
            })
            .collect();
        assert_eq!(imports(text).collect::<Vec<_>>(), by_lines);
        assert_eq!(by_lines, vec!["import.kanon", "y"]);
    }
}

//! `.kanon.yaml`: project configuration (rule selection, severities, parameters, extra rules,
//! exemptions, failure threshold), found in the current directory or a parent.
//!
//! The schema is documented in `docs/configuration.md`. Loading checks the file's structure
//! with serde (`deny_unknown_fields`, so a misspelt key is an error) and its values by hand;
//! every problem is a [`Diagnostic`] with a span into the configuration file. Rule ids are
//! checked later, against the compiled rules, by [`crate::policy`].

use crate::check::ir::{Const, Severity};
use crate::diag::{Diagnostic, FileId, SourceMap, Span};
use crate::model::{Document, Limits, NodeId};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The name of the configuration file.
pub const FILE_NAME: &str = ".kanon.yaml";

/// The only configuration schema version.
pub const VERSION: u32 = 1;

/// Values `fail-on` accepts.
pub const FAIL_ON: [&str; 6] = ["info", "low", "medium", "high", "critical", "never"];

/// Top-level keys, for suggestions.
const KEYS: [&str; 11] = [
    "version",
    "select",
    "ignore",
    "severity",
    "params",
    "rules",
    "default-rules",
    "exemptions",
    "allow-annotation-exemptions",
    "fail-on",
    "render",
];

/// Keys of an exemption, for suggestions.
const EXEMPTION_KEYS: [&str; 6] = ["rules", "namespace", "kind", "name", "reason", "expires"];

/// Finds `.kanon.yaml` in `start` or a parent directory. The search stops at the filesystem
/// root and after a directory containing `.git` (the root of a repository).
pub fn discover(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if d.join(".git").exists() {
            return None;
        }
        dir = d.parent();
    }
    None
}

/// A calendar date (`YYYY-MM-DD`), for exemption expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day, 1 to 31.
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD`, checking the day exists.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let digits = |r: Range<usize>| -> Option<u32> {
            let part = s.get(r)?;
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let year = i32::try_from(digits(0..4)?).ok()?;
        let month = digits(5..7)?;
        let day = digits(8..10)?;
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// The date of a number of days since 1970-01-01 (proleptic Gregorian calendar).
    pub fn from_days(days: i64) -> Date {
        // Howard Hinnant's `civil_from_days`.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    /// Today's date (UTC) from the system clock.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0))
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// A string of the configuration with the byte range of its value in the file (`None` for
/// values that came from the command line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The value.
    pub value: String,
    /// Where it is in the configuration file.
    pub range: Option<Range<usize>>,
}

impl Item {
    /// An item given on the command line.
    pub fn cli(value: impl Into<String>) -> Item {
        Item {
            value: value.into(),
            range: None,
        }
    }
}

/// An exemption of the configuration: findings of matching rules on matching objects are
/// accepted for a reason, optionally until a date.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemption {
    /// Rule id globs.
    pub rules: Vec<Item>,
    /// Namespace glob (`None`: any namespace, and cluster-scoped objects).
    pub namespace: Option<String>,
    /// Kind glob.
    pub kind: Option<String>,
    /// Name glob.
    pub name: Option<String>,
    /// Why the findings are accepted.
    pub reason: String,
    /// The last day the exemption applies.
    pub expires: Option<Date>,
    /// Where `expires` is.
    pub expires_range: Option<Range<usize>>,
    /// Where the exemption is.
    pub range: Option<Range<usize>>,
}

/// The effective configuration: the file's values over the defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The file it was read from (`None`: defaults only).
    pub path: Option<PathBuf>,
    /// The file's name as shown in diagnostics.
    pub name: String,
    /// The file's text, registered again in each run's source map.
    pub text: String,
    /// Schema version.
    pub version: u32,
    /// Selected rules (`None`: every rule).
    pub select: Option<Vec<Item>>,
    /// Ignored rules.
    pub ignore: Vec<Item>,
    /// Severity overrides by rule id.
    pub severity: Vec<(Item, Severity)>,
    /// Parameter values by name.
    pub params: Vec<(Item, Const)>,
    /// Extra rule files or directories, resolved against the configuration's directory.
    pub rules: Vec<PathBuf>,
    /// Whether the bundled ruleset runs.
    pub default_rules: bool,
    /// Exemptions.
    pub exemptions: Vec<Exemption>,
    /// Whether `kanon.dev/exempt` annotations are honoured.
    pub allow_annotation_exemptions: bool,
    /// Lowest severity that fails a scan (`never`: findings never fail it).
    pub fail_on: Option<Item>,
    /// Paths left out of directory walks: globs in `.gitignore` syntax, matched against the
    /// path under each directory scanned.
    pub exclude: Vec<Item>,
    /// How Helm charts and Kustomize overlays are rendered (`render:`).
    pub render: crate::render::Settings,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            path: None,
            name: String::new(),
            text: String::new(),
            version: VERSION,
            select: None,
            ignore: Vec::new(),
            severity: Vec::new(),
            params: Vec::new(),
            rules: Vec::new(),
            default_rules: true,
            exemptions: Vec::new(),
            allow_annotation_exemptions: true,
            fail_on: None,
            exclude: Vec::new(),
            render: crate::render::Settings::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    select: Option<Vec<String>>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    #[serde(default)]
    params: BTreeMap<String, serde_yaml::Value>,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    default_rules: Option<bool>,
    #[serde(default)]
    exemptions: Vec<RawExemption>,
    #[serde(default)]
    allow_annotation_exemptions: Option<bool>,
    #[serde(default)]
    fail_on: Option<String>,
    #[serde(default)]
    exclude: Vec<String>,
    render: Option<crate::render::Settings>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExemption {
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    expires: Option<String>,
}

/// One step of a path into the configuration document.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Finds spans of keys and values in the parsed configuration document.
struct Locator {
    doc: Option<Document>,
}

impl Locator {
    fn node(&self, path: &[Seg<'_>]) -> Option<(&Document, NodeId)> {
        let doc = self.doc.as_ref()?;
        let mut id = doc.root;
        for seg in path {
            id = match seg {
                Seg::Key(k) => doc.get(id, k)?,
                Seg::Index(i) => *doc.seq(id).get(*i)?,
            };
        }
        Some((doc, id))
    }

    fn value(&self, path: &[Seg<'_>]) -> Option<Range<usize>> {
        let (doc, id) = self.node(path)?;
        Some(doc.node(id)?.span.range())
    }

    fn key(&self, path: &[Seg<'_>]) -> Option<Range<usize>> {
        let (doc, id) = self.node(path)?;
        let n = doc.node(id)?;
        Some(n.key_span.unwrap_or(n.span).range())
    }
}

/// Reads and checks a configuration file.
pub fn load(path: &Path, sources: &mut SourceMap) -> Result<Config, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::error(
            "E0600",
            format!(
                "cannot read configuration `{}`: {}",
                path.display(),
                io_message(&e)
            ),
        )]
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut config = parse(&path.display().to_string(), text, base, sources)?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

/// Checks a configuration text registered under `name`; relative rule paths are resolved
/// against `base`.
pub fn parse(
    name: &str,
    text: String,
    base: &Path,
    sources: &mut SourceMap,
) -> Result<Config, Vec<Diagnostic>> {
    let file = sources.add(name, text.clone());
    let mut config = Config {
        name: name.to_string(),
        text: text.clone(),
        ..Config::default()
    };
    let is_empty = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if is_empty {
        return Ok(config);
    }
    // a byte order mark is allowed (yaml_serde would read `<BOM>---` as a scalar)
    let raw: Raw = match serde_yaml::from_str(text.strip_prefix('\u{feff}').unwrap_or(&text)) {
        Ok(r) => r,
        Err(e) => return Err(vec![serde_error(&e, &text, file)]),
    };
    let parsed =
        crate::model::yaml::parse(&std::sync::Arc::new(text.clone()), file, &Limits::default());
    let loc = Locator {
        doc: parsed.docs.into_iter().find_map(Result::ok),
    };
    let span = |r: Option<Range<usize>>| r.map(|r| Span::new(file, r));
    let mut diags = Vec::new();
    let err = |code: &'static str, msg: String, at: Option<Range<usize>>, label: &str| {
        let mut d = Diagnostic::error(code, msg);
        if let Some(s) = span(at) {
            d = d.at(s, label);
        }
        d
    };

    if let Some(v) = raw.version {
        if v != VERSION {
            diags.push(
                err(
                    "E0602",
                    format!("unsupported configuration version `{v}`"),
                    loc.value(&[Seg::Key("version")]),
                    "kanon reads version 1",
                )
                .with_help("write `version: 1`"),
            );
        }
    }
    let items = |key: &'static str, list: Vec<String>| -> Vec<Item> {
        list.into_iter()
            .enumerate()
            .map(|(i, value)| Item {
                value,
                range: loc.value(&[Seg::Key(key), Seg::Index(i)]),
            })
            .collect()
    };
    config.select = raw.select.map(|s| items("select", s));
    config.ignore = items("ignore", raw.ignore);
    let mut bad_selectors = Vec::new();
    for item in config.select.iter().flatten().chain(&config.ignore) {
        if let Some(sev) = item.value.strip_prefix("severity:") {
            if Severity::parse(sev).is_none() {
                bad_selectors.push(bad_severity(sev, item.range.clone(), file));
            }
        } else if item.value.trim().is_empty() || item.value == "tag:" {
            bad_selectors.push(
                Diagnostic::error("E0603", "empty rule selector")
                    .at(
                        Span::new(file, item.range.clone().unwrap_or(0..0)),
                        "selects nothing",
                    )
                    .with_help(
                        "write a rule id, a category such as `K01`, `severity:high` or `tag:NAME`",
                    ),
            );
        }
    }
    diags.extend(bad_selectors);

    for (id, sev) in raw.severity {
        let key_range = loc.key(&[Seg::Key("severity"), Seg::Key(&id)]);
        let value_range = loc.value(&[Seg::Key("severity"), Seg::Key(&id)]);
        match Severity::parse(&sev) {
            Some(s) => config.severity.push((
                Item {
                    value: id,
                    range: key_range,
                },
                s,
            )),
            None => diags.push(bad_severity(&sev, value_range, file)),
        }
    }

    for (name, value) in raw.params {
        let key_range = loc.key(&[Seg::Key("params"), Seg::Key(&name)]);
        match const_of(&value, true) {
            Some(c) => config.params.push((
                Item {
                    value: name,
                    range: key_range,
                },
                c,
            )),
            None => {
                diags.push(err(
                    "E0607",
                    format!("parameter `{name}` must be a string, number, boolean or list of them"),
                    loc.value(&[Seg::Key("params"), Seg::Key(&name)]),
                    "not a parameter value",
                ));
            }
        }
    }

    config.exclude = items("exclude", raw.exclude);
    for item in &config.exclude {
        if let Err(e) = crate::model::walk::check_glob(&item.value) {
            diags.push(
                err(
                    "E0608",
                    format!("invalid `exclude` glob `{}`: {e}", item.value),
                    item.range.clone(),
                    "not a glob",
                )
                .with_help("write a glob in `.gitignore` syntax, such as `target/` or `charts/**/values.yaml`"),
            );
        }
    }

    config.rules = raw.rules.iter().map(|r| base.join(r)).collect();
    if let Some(r) = raw.render {
        config.render = r.resolve(base);
    }
    if let Some(b) = raw.default_rules {
        config.default_rules = b;
    }
    if let Some(b) = raw.allow_annotation_exemptions {
        config.allow_annotation_exemptions = b;
    }
    if let Some(f) = raw.fail_on {
        let range = loc.value(&[Seg::Key("fail-on")]);
        if FAIL_ON.contains(&f.as_str()) {
            config.fail_on = Some(Item { value: f, range });
        } else {
            let mut d = Diagnostic::error("E0603", format!("unknown `fail-on` value `{f}`"))
                .with_suggestion(&f, FAIL_ON)
                .with_note(
                    "`fail-on` is one of `info`, `low`, `medium`, `high`, `critical`, `never`",
                );
            if let Some(s) = span(range) {
                d = d.at(s, "not a severity");
            }
            diags.push(d);
        }
    }

    for (i, e) in raw.exemptions.into_iter().enumerate() {
        let at = |k: &'static str| loc.value(&[Seg::Key("exemptions"), Seg::Index(i), Seg::Key(k)]);
        // the entry's first line, so that diagnostics underline one line
        let entry = loc
            .value(&[Seg::Key("exemptions"), Seg::Index(i)])
            .map(|r| {
                let first = text
                    .get(r.clone())
                    .and_then(|t| t.find('\n'))
                    .map_or(r.end, |n| r.start + n);
                r.start..first
            });
        let rules: Vec<Item> = e
            .rules
            .into_iter()
            .enumerate()
            .map(|(j, value)| Item {
                value,
                range: loc.value(&[
                    Seg::Key("exemptions"),
                    Seg::Index(i),
                    Seg::Key("rules"),
                    Seg::Index(j),
                ]),
            })
            .collect();
        if rules.is_empty() {
            diags.push(err(
                "E0606",
                "exemption without `rules`".to_string(),
                entry.clone(),
                "exempts no rule",
            ).with_help("list the rule ids it applies to: `rules: [K01-001]` (globs such as `K01-*` are allowed)"));
        }
        let reason = e.reason.unwrap_or_default();
        if reason.trim().is_empty() {
            diags.push(err(
                "E0606",
                "exemption without a `reason`".to_string(),
                at("reason").or_else(|| entry.clone()),
                "no reason given",
            ).with_help(
                "add `reason: ...` saying why these findings are accepted; exemptions are audited",
            ));
        }
        let mut expires = None;
        let expires_range = at("expires");
        if let Some(x) = &e.expires {
            match Date::parse(x) {
                Some(d) => expires = Some(d),
                None => diags.push(
                    err(
                        "E0604",
                        format!("invalid date `{x}`"),
                        expires_range.clone(),
                        "not a date",
                    )
                    .with_help("write dates as `YYYY-MM-DD`, e.g. `2027-01-31`"),
                ),
            }
        }
        config.exemptions.push(Exemption {
            rules,
            namespace: e.namespace,
            kind: e.kind,
            name: e.name,
            reason,
            expires,
            expires_range,
            range: entry,
        });
    }
    diags.sort_by_key(|d| d.primary.as_ref().map(|p| p.span.start));
    if diags.is_empty() {
        Ok(config)
    } else {
        Err(diags)
    }
}

/// An I/O error as a lowercase message without the OS error number.
pub(crate) fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string().to_lowercase();
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            s.trim_end_matches('.').to_string()
        }
    }
}

fn bad_severity(value: &str, range: Option<Range<usize>>, file: FileId) -> Diagnostic {
    let names = Severity::ALL.map(Severity::as_str);
    let mut d = Diagnostic::error("E0603", format!("unknown severity `{value}`"))
        .with_suggestion(value, names)
        .with_note("severities are `info`, `low`, `medium`, `high` and `critical`");
    if let Some(r) = range {
        d = d.at(Span::new(file, r), "not a severity");
    }
    d
}

/// Converts a YAML value to a parameter value: scalars, and lists of scalars at the top.
fn const_of(v: &serde_yaml::Value, top: bool) -> Option<Const> {
    use serde_yaml::Value as Y;
    Some(match v {
        Y::Null => Const::Null,
        Y::Bool(b) => Const::Bool(*b),
        Y::Number(n) => match n.as_i64() {
            Some(i) => Const::Int(i),
            None => Const::Float(n.as_f64()?),
        },
        Y::String(s) => Const::Str(Arc::from(s.as_str())),
        Y::Sequence(items) if top => Const::List(Arc::new(
            items
                .iter()
                .map(|x| const_of(x, false))
                .collect::<Option<Vec<_>>>()?,
        )),
        Y::Tagged(t) => const_of(&t.value, top)?,
        _ => return None,
    })
}

/// Turns a serde error into a located diagnostic, with a suggestion for unknown keys.
fn serde_error(e: &serde_yaml::Error, text: &str, file: FileId) -> Diagnostic {
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full.get(..i).unwrap_or(&full),
        None => &full,
    };
    let span = e
        .location()
        .map(|l| token_span(text, file, l.line(), l.column()));
    if let Some(rest) = message
        .find("unknown field `")
        .and_then(|i| message.get(i + "unknown field `".len()..))
    {
        let key = rest.split('`').next().unwrap_or_default();
        let nested = message.contains("exemptions[");
        let (candidates, where_): (&[&str], &str) = if nested {
            (&EXEMPTION_KEYS, "in an exemption")
        } else if message.starts_with("render.charts") {
            (&crate::render::CHART_KEYS, "in a chart of `render`")
        } else if message.starts_with("render") {
            (&crate::render::KEYS, "in `render`")
        } else {
            (&KEYS, "in the configuration")
        };
        let mut d = Diagnostic::error("E0601", format!("unknown key `{key}` {where_}"))
            .with_suggestion(key, candidates.iter().copied());
        if d.help.is_none() {
            let list: Vec<String> = candidates.iter().map(|k| format!("`{k}`")).collect();
            d = d.with_help(format!("expected one of {}", list.join(", ")));
        }
        if let Some(s) = span {
            d = d.at(s, "unknown key");
        }
        return d;
    }
    // `path: invalid type: string "x", expected a sequence`
    let (path, detail) = match message.split_once(": ") {
        Some((p, rest)) if !p.contains(' ') => (Some(p), rest),
        _ => (None, message),
    };
    let (msg, label) = match detail
        .strip_prefix("invalid type: ")
        .or_else(|| detail.strip_prefix("invalid value: "))
        .and_then(|r| r.rsplit_once(", expected "))
    {
        Some((found, expected)) => (
            match path {
                Some(p) => format!("invalid value for `{p}`: expected {expected}, found {found}"),
                None => format!("invalid configuration: expected {expected}, found {found}"),
            },
            format!("expected {expected}"),
        ),
        None => (
            match path {
                Some(p) => format!("invalid configuration at `{p}`: {detail}"),
                None => format!("invalid configuration: {detail}"),
            },
            "here".to_string(),
        ),
    };
    let mut d = Diagnostic::error("E0601", msg);
    if let Some(s) = span {
        d = d.at(s, label);
    }
    d
}

/// The span of the word at a 1-based line and column.
fn token_span(text: &str, file: FileId, line: usize, column: usize) -> Span {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line_text = text
        .get(line_start..)
        .and_then(|t| t.split('\n').next())
        .unwrap_or("");
    let start_in_line = line_text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line_text.len(), |(i, _)| i);
    let rest = line_text.get(start_in_line..).unwrap_or("");
    let len = rest.find([':', ',', ']', '}', '#']).unwrap_or(rest.len());
    let len = rest.get(..len).map_or(len, |s| s.trim_end().len()).max(1);
    let start = line_start + start_in_line;
    Span::new(file, start..(start + len).min(text.len().max(start)))
}

impl Config {
    /// The effective configuration as a JSON value (also rendered as YAML by
    /// `kanon config show`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let strs = |v: &[Item]| v.iter().map(|i| i.value.clone()).collect::<Vec<_>>();
        let severity: serde_json::Map<String, serde_json::Value> = self
            .severity
            .iter()
            .map(|(k, s)| (k.value.clone(), json!(s.as_str())))
            .collect();
        let params: serde_json::Map<String, serde_json::Value> = self
            .params
            .iter()
            .map(|(k, c)| (k.value.clone(), const_json(c)))
            .collect();
        let mut out = json!({
            "version": self.version,
            "select": self.select.as_ref().map_or_else(|| vec!["*".to_string()], |s| strs(s)),
            "ignore": strs(&self.ignore),
            "severity": severity,
            "params": params,
            "rules": self.rules.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "default-rules": self.default_rules,
            "exemptions": self.exemptions.iter().map(|e| {
                let mut m = serde_json::Map::new();
                m.insert("rules".into(), json!(strs(&e.rules)));
                for (k, v) in [("namespace", &e.namespace), ("kind", &e.kind), ("name", &e.name)] {
                    if let Some(v) = v {
                        m.insert(k.into(), json!(v));
                    }
                }
                m.insert("reason".into(), json!(e.reason));
                if let Some(d) = e.expires {
                    m.insert("expires".into(), json!(d.to_string()));
                }
                serde_json::Value::Object(m)
            }).collect::<Vec<_>>(),
            "allow-annotation-exemptions": self.allow_annotation_exemptions,
            "fail-on": self.fail_on.as_ref().map_or("low", |f| f.value.as_str()),
            "exclude": strs(&self.exclude),
        });
        // shown when set, so that configurations without it print as before
        if self.render != crate::render::Settings::default() {
            if let (Some(m), Ok(r)) = (out.as_object_mut(), serde_json::to_value(&self.render)) {
                m.insert("render".into(), r);
            }
        }
        out
    }
}

/// A parameter value as JSON.
pub fn const_json(c: &Const) -> serde_json::Value {
    use serde_json::Value as J;
    match c {
        Const::Null => J::Null,
        Const::Bool(b) => J::Bool(*b),
        Const::Int(i) => J::from(*i),
        Const::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Const::Str(s) => J::String(s.to_string()),
        Const::List(items) => J::Array(items.iter().map(const_json).collect()),
        Const::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), const_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            Date::parse("2027-01-31"),
            Some(Date {
                year: 2027,
                month: 1,
                day: 31
            })
        );
        assert!(Date::parse("2027-02-30").is_none());
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("27-01-31").is_none());
        assert!(Date::parse("2027-1-31").is_none());
        assert_eq!(Date::from_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days(19_723).to_string(), "2024-01-01");
        assert_eq!(Date::from_days(20_513).to_string(), "2026-03-01");
    }

    #[test]
    fn token_spans() {
        let t = "version: 1\nselct: [a]\n";
        let s = token_span(t, 0, 2, 1);
        assert_eq!(&t[s.range()], "selct");
    }
}

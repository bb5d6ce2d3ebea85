//! Output formats of one scan agree; SARIF and JUnit are well-formed; several outputs in one
//! run; atomic files; `kanon rules`, completions and the man page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use common::kanon;
use kanon::engine::{ScanOptions, scan};
use kanon::report::sarif;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

type Key = (String, String, usize, usize);

fn run(args: &[&str]) -> Output {
    kanon().args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kanon-formats-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sorted(mut v: Vec<Key>) -> Vec<Key> {
    v.sort();
    v
}

/// (rule id, file, line, column) of each finding in text output.
fn text_keys(text: &str) -> Vec<Key> {
    let mut out = Vec::new();
    let mut rule: Option<String> = None;
    for line in text.lines() {
        for sev in ["error[", "warning[", "note[", "help["] {
            if let Some(rest) = line.strip_prefix(sev) {
                rule = rest.split(']').next().map(str::to_string);
            }
        }
        if let Some((_, loc)) = line.split_once("┌─ ") {
            let mut parts = loc.trim().rsplitn(3, ':');
            let col = parts.next().unwrap().parse().unwrap();
            let line_no = parts.next().unwrap().parse().unwrap();
            let file = parts.next().unwrap().to_string();
            out.push((rule.take().unwrap(), file, line_no, col));
        }
    }
    sorted(out)
}

fn json_keys(v: &Value) -> Vec<Key> {
    sorted(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"]["id"].as_str().unwrap().to_string(),
                    f["location"]["file"].as_str().unwrap().to_string(),
                    f["location"]["line"].as_u64().unwrap() as usize,
                    f["location"]["column"].as_u64().unwrap() as usize,
                )
            })
            .collect(),
    )
}

fn sarif_keys(v: &Value) -> Vec<Key> {
    sorted(
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let pl = &r["locations"][0]["physicalLocation"];
                (
                    r["ruleId"].as_str().unwrap().to_string(),
                    pl["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                    pl["region"]["startLine"].as_u64().unwrap() as usize,
                    pl["region"]["startColumn"].as_u64().unwrap() as usize,
                )
            })
            .collect(),
    )
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in a start tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag.get(start..)?.find('"')? + start;
    Some(unescape(tag.get(start..end)?))
}

/// A minimal well-formedness check: declaration, balanced tags, quoted attributes, no raw
/// `<`, `>` or `&` outside markup and entities. Returns the start tags in order.
fn check_xml(xml: &str) -> Vec<String> {
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    let body = &xml[xml.find("?>").unwrap() + 2..];
    let mut stack: Vec<String> = Vec::new();
    let mut tags = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        assert!(!text.contains('>'), "raw `>` in text: {text:?}");
        check_entities(text);
        let close = rest[open..].find('>').unwrap() + open;
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "`<` inside a tag: {tag:?}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "unbalanced `</{name}>`");
        } else {
            let name = tag.split([' ', '/']).next().unwrap().to_string();
            // attribute values are quoted and hold no raw `&` or `<`
            assert_eq!(
                tag.matches('"').count() % 2,
                0,
                "unquoted attribute: {tag:?}"
            );
            check_entities(tag);
            tags.push(tag.to_string());
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
        rest = &rest[close + 1..];
    }
    assert!(rest.trim().is_empty());
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    tags
}

fn check_entities(s: &str) {
    for (i, _) in s.match_indices('&') {
        let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
            .iter()
            .any(|e| s[i..].starts_with(e));
        assert!(ok, "raw `&` in {s:?}");
    }
}

fn junit_keys(xml: &str) -> Vec<Key> {
    let tags = check_xml(xml);
    let mut out = Vec::new();
    for (i, t) in tags.iter().enumerate() {
        if t.starts_with("testcase ") && tags.get(i + 1).is_some_and(|n| n.starts_with("failure "))
        {
            let name = attr(t, "name").unwrap();
            let loc = name.rsplit(" at ").next().unwrap();
            let mut parts = loc.rsplitn(3, ':');
            let col = parts.next().unwrap().parse().unwrap();
            let line = parts.next().unwrap().parse().unwrap();
            let file = parts.next().unwrap().to_string();
            out.push((attr(t, "classname").unwrap(), file, line, col));
        }
    }
    sorted(out)
}

#[test]
fn every_format_lists_the_same_findings_from_one_run() {
    let dir = temp_dir("same");
    let (j, s, x) = (dir.join("k.json"), dir.join("k.sarif"), dir.join("k.xml"));
    let o = run(&[
        "scan",
        "examples/manifests",
        "--format",
        "json",
        "--output",
        j.to_str().unwrap(),
        "--format",
        "text",
        "--format",
        "sarif",
        "-o",
        s.to_str().unwrap(),
        "--format",
        "junit",
        "--output",
        x.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = text_keys(&stdout(&o));
    assert!(text.len() >= 5, "{text:?}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&s).unwrap()).unwrap();
    let junit = std::fs::read_to_string(&x).unwrap();
    assert_eq!(text, json_keys(&json));
    assert_eq!(text, sarif_keys(&sarif));
    assert_eq!(text, junit_keys(&junit));
    // the JSON file is exactly what `--format json` prints
    let alone = run(&["scan", "examples/manifests", "--format", "json"]);
    assert_eq!(stdout(&alone), std::fs::read_to_string(&j).unwrap());
    // atomic writes leave only the three outputs behind
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["k.json", "k.sarif", "k.xml"]);
    std::fs::remove_dir_all(&dir).ok();
}

/// (rule id, file, line, column) of each `path:line:col: severity RULE-ID message` line.
fn concise_keys(text: &str) -> Vec<Key> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((loc, rest)) = line.split_once(": ") else {
            continue;
        };
        let mut parts = loc.rsplitn(3, ':');
        let (Some(col), Some(line_no), Some(file)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (Ok(col), Ok(line_no)) = (col.parse(), line_no.parse()) else {
            continue;
        };
        let mut words = rest.split(' ');
        let sev = words.next().unwrap();
        assert!(
            ["critical", "high", "medium", "low", "info"].contains(&sev),
            "{line}"
        );
        let rule = words.next().unwrap().to_string();
        out.push((rule, file.to_string(), line_no, col));
    }
    sorted(out)
}

/// Decodes a workflow command property value (actions/toolkit `escapeProperty`).
fn unescape_property(s: &str) -> String {
    s.replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

/// (rule id, file, line, column) of each finding's `::error file=...` workflow command.
fn github_keys(text: &str) -> Vec<Key> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(cmd) = line.strip_prefix("::") else {
            continue;
        };
        let (head, message) = cmd.split_once("::").unwrap();
        assert!(!message.contains('\n'));
        let (command, props) = head.split_once(' ').unwrap();
        assert!(["error", "warning", "notice"].contains(&command), "{line}");
        let props: std::collections::BTreeMap<&str, String> = props
            .split(',')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k, unescape_property(v))
            })
            .collect();
        let title = &props["title"];
        // diagnostics carry their code (`E1001`) as the title; findings `RULE-ID title`
        let rule = title.split(' ').next().unwrap().to_string();
        if !title.contains(' ') {
            continue;
        }
        out.push((
            rule,
            props["file"].clone(),
            props["line"].parse().unwrap(),
            props["col"].parse().unwrap(),
        ));
    }
    sorted(out)
}

#[test]
fn concise_github_and_gitlab_list_the_same_findings_as_json() {
    let json = run(&["scan", "examples/manifests", "--format", "json"]);
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    let expected = json_keys(&json);
    assert!(expected.len() >= 5, "{expected:?}");

    let concise = run(&["scan", "examples/manifests", "--format", "concise"]);
    assert_eq!(concise.status.code(), Some(1));
    let concise = stdout(&concise);
    assert_eq!(concise_keys(&concise), expected);
    // one line per finding, then the same summary as text
    let text = stdout(&run(&["scan", "examples/manifests"]));
    let summary = text.rsplit("\n\n").next().unwrap();
    assert!(summary.starts_with("scanned "), "{summary}");
    assert!(concise.ends_with(summary));
    assert_eq!(
        concise.lines().count(),
        expected.len() + summary.lines().count()
    );

    let github = stdout(&run(&["scan", "examples/manifests", "--format", "github"]));
    assert_eq!(github_keys(&github), expected);

    let gitlab = run(&["scan", "examples/manifests", "--format", "gitlab"]);
    let gitlab: Value = serde_json::from_slice(&gitlab.stdout).unwrap();
    let issues = gitlab.as_array().unwrap();
    let mut fingerprints = std::collections::BTreeSet::new();
    let mut keys = Vec::new();
    for (issue, f) in issues.iter().zip(json["findings"].as_array().unwrap()) {
        for field in ["description", "check_name", "fingerprint", "severity"] {
            assert!(issue[field].is_string(), "{field} in {issue}");
        }
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap())
        );
        assert!(fingerprints.insert(issue["fingerprint"].as_str().unwrap().to_string()));
        assert_eq!(issue["check_name"], f["rule"]["id"]);
        keys.push((
            issue["check_name"].as_str().unwrap().to_string(),
            issue["location"]["path"].as_str().unwrap().to_string(),
            issue["location"]["lines"]["begin"].as_u64().unwrap() as usize,
            f["location"]["column"].as_u64().unwrap() as usize,
        ));
    }
    assert_eq!(sorted(keys), expected);
}

#[test]
fn sarif_has_the_required_fields() {
    let o = run(&["scan", "examples/manifests", "--format", "sarif"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["$schema"]
            .as_str()
            .unwrap()
            .contains("sarif-schema-2.1.0")
    );
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"].as_array().unwrap().len(), 1);
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "kanon");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    let listed = self::run(&["rules", "--format", "json"]);
    let all: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(
        rules.len(),
        all.as_array().unwrap().len(),
        "every rule that ran, findings or not"
    );
    for r in rules {
        assert!(r["id"].is_string() && r["name"].is_string());
        assert!(!r["shortDescription"]["text"].as_str().unwrap().is_empty());
        assert!(!r["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert!(!r["help"]["text"].as_str().unwrap().is_empty());
        assert!(!r["help"]["markdown"].as_str().unwrap().is_empty());
        let sev: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
        let tags = r["properties"]["tags"].as_array().unwrap();
        assert!(
            tags.iter().any(|t| t.as_str().unwrap().starts_with('K')),
            "{tags:?}"
        );
        assert!(
            ["error", "warning", "note"]
                .contains(&r["defaultConfiguration"]["level"].as_str().unwrap())
        );
    }
    let k01 = rules.iter().find(|r| r["id"] == "K01-001").unwrap();
    assert_eq!(k01["properties"]["security-severity"], "9.5");
    assert!(
        k01["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("Why it matters")
    );
    for r in run["results"].as_array().unwrap() {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let art = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(art["uriBaseId"], "%SRCROOT%");
        assert!(
            art["uri"]
                .as_str()
                .unwrap()
                .starts_with("examples/manifests/")
        );
        let region = &r["locations"][0]["physicalLocation"]["region"];
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[k].as_u64().unwrap() >= 1, "{k}");
        }
        assert!(
            r["partialFingerprints"][sarif::FINGERPRINT_KEY]
                .as_str()
                .unwrap()
                .len()
                > 32
        );
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert_eq!(run["columnKind"], "unicodeCodePoints");
}

fn sarif_of(dir: &Path) -> Value {
    let r = scan(&ScanOptions {
        inputs: vec![dir.to_string_lossy().into_owned()],
        bundled: true,
        threads: Some(1),
        ..ScanOptions::default()
    })
    .unwrap();
    sarif::report(
        &r.compiled.program.rules,
        &r.findings,
        &r.diagnostics,
        &r.sources,
        Some(dir),
    )
}

/// (rule id, message) → (fingerprint, line).
fn fingerprints(v: &Value) -> Vec<(String, String, String, u64)> {
    let mut out: Vec<_> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["message"]["text"].as_str().unwrap().to_string(),
                r["partialFingerprints"][sarif::FINGERPRINT_KEY]
                    .as_str()
                    .unwrap()
                    .to_string(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn sarif_fingerprints_survive_inserted_lines() {
    let dir = temp_dir("fingerprints");
    let app = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/manifests/app.yaml"),
    )
    .unwrap();
    std::fs::write(dir.join("app.yaml"), &app).unwrap();
    let before = fingerprints(&sarif_of(&dir));
    assert!(before.len() >= 4);
    // relative to the base: a plain relative URI
    let v = sarif_of(&dir);
    assert_eq!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "app.yaml"
    );
    std::fs::write(
        dir.join("app.yaml"),
        format!("# a comment\n# another\n\n{app}"),
    )
    .unwrap();
    let after = fingerprints(&sarif_of(&dir));
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((&b.0, &b.1, &b.2), (&a.0, &a.1, &a.2), "fingerprint moved");
        assert_eq!(b.3 + 3, a.3, "the line did move");
    }
    // fingerprints are unique within a run
    let mut fps: Vec<&String> = after.iter().map(|x| &x.2).collect();
    fps.sort();
    fps.dedup();
    assert_eq!(fps.len(), after.len());
    std::fs::remove_dir_all(&dir).ok();
}

const TRICKY: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"p<&>\\\"q'\"\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n      securityContext:\n        privileged: true\n";

#[test]
fn junit_escapes_markup_and_reports_passing_rules_and_errors() {
    let dir = temp_dir("junit");
    std::fs::write(dir.join("pod.yaml"), TRICKY).unwrap();
    std::fs::write(dir.join("bad.yaml"), "kind: [unclosed\n").unwrap();
    let o = run(&["scan", dir.to_str().unwrap(), "--format", "junit"]);
    assert_eq!(o.status.code(), Some(2), "input errors exit 2");
    let xml = stdout(&o);
    let tags = check_xml(&xml);
    let failure = tags
        .iter()
        .find(|t| t.starts_with("failure ") && t.contains("privileged"))
        .unwrap();
    assert_eq!(
        attr(failure, "message").unwrap(),
        "regular container `c` of Pod `p<&>\"q'` runs privileged"
    );
    // a rule without findings passes
    let host_pid = tags
        .iter()
        .position(|t| t.starts_with("testsuite name=\"K01-011"))
        .unwrap();
    assert!(tags[host_pid].contains("failures=\"0\""));
    assert!(tags[host_pid + 1].starts_with("testcase ") && tags[host_pid + 1].ends_with('/'));
    // the input error is an erroring test case
    assert!(
        tags.iter()
            .any(|t| t.starts_with("error ") && t.contains("E1001"))
    );
    // SARIF of the same run: a notification, and the execution is not successful
    let o = run(&["scan", dir.to_str().unwrap(), "--format", "sarif"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let inv = &v["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["descriptor"]["id"] == "E1001" && n["level"] == "error"),
        "{notes:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn output_pairing_errors_and_failed_writes() {
    let dir = temp_dir("pairing");
    // two formats to standard output
    let o = run(&[
        "scan",
        "examples/manifests",
        "--format",
        "json",
        "--format",
        "sarif",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("only one format can go to standard output")
    );
    // `--output` alone writes text
    let f = dir.join("out.txt");
    let o = run(&["scan", "examples/manifests", "-o", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        text.contains("error[K01-001]") && text.contains(" findings: "),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour in files");
    // an output into a missing directory: exit 2, a clear error, no temporary file
    let missing = dir.join("nope").join("k.sarif");
    let o = run(&[
        "scan",
        "examples/manifests",
        "--format",
        "sarif",
        "--output",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error: cannot write `"), "{err}");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["out.txt"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn no_progress_line_when_stderr_is_not_a_terminal() {
    let o = run(&["scan", "examples/manifests"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains("kanon:") && !err.contains('\u{1b}'),
        "{err:?}"
    );
}

#[test]
fn rules_lists_and_filters() {
    let o = run(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    let table = stdout(&o);
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("ID "));
    let all: Value = serde_json::from_slice(&run(&["rules", "--format", "json"]).stdout).unwrap();
    let all = all.as_array().unwrap().clone();
    assert!(all.len() >= 60);
    assert_eq!(lines.count(), all.len(), "{table}");
    let ids = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["rules", "--format", "json"];
        a.extend_from_slice(args);
        let o = run(&a);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    // the filters agree with the metadata of every rule
    let expect = |f: &dyn Fn(&Value) -> bool| -> Vec<String> {
        all.iter()
            .filter(|r| f(r))
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    let has_cat = |r: &Value, c: &str| {
        r["owasp"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().starts_with(c))
    };
    let sev_rank = |s: &str| {
        ["info", "low", "medium", "high", "critical"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    let k01 = ids(&["--category", "K01"]);
    assert!(k01.contains(&"K01-001".to_string()));
    assert_eq!(k01, expect(&|r| has_cat(r, "K01:2022")));
    // K03-001 is K03 in 2022 and K02 in 2025
    let k02_2025 = ids(&["--category", "K02:2025"]);
    assert!(k02_2025.contains(&"K03-001".to_string()));
    assert_eq!(k02_2025, expect(&|r| has_cat(r, "K02:2025")));
    // a bare category is the 2022 edition: K02 is supply chain, not 2025's authorization
    let k02 = ids(&["--category", "K02"]);
    assert!(!k02.contains(&"K03-001".to_string()));
    assert_eq!(k02, expect(&|r| has_cat(r, "K02:2022")));
    let critical = ids(&["--severity", "critical"]);
    assert!(critical.contains(&"K01-001".to_string()));
    assert_eq!(critical, expect(&|r| r["severity"] == "critical"));
    assert_eq!(
        ids(&["--severity", "high", "--category", "k01:2025"]),
        expect(&|r| has_cat(r, "K01:2025") && sev_rank(r["severity"].as_str().unwrap()) >= 3)
    );
    let o = run(&["rules", "--format", "json", "--category", "K01"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in [
        "id", "name", "title", "severity", "owasp", "refs", "tags", "fix",
    ] {
        assert!(!v[0][k].is_null(), "{k}");
    }
    let o = run(&["rules", "--category", "A01"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn rules_show_prints_the_documentation() {
    let o = run(&["rules", "show", "K01-001"]);
    assert_eq!(o.status.code(), Some(0));
    let t = stdout(&o);
    for want in [
        "K01-001 privileged-container",
        "Container runs in privileged mode",
        "severity: critical",
        "K01:2022, K01:2025",
        "CKV_K8S_16",
        "## Why it matters",
        "fix: Remove securityContext.privileged or set it to false.",
        "rulesets/owasp-k8s-top10/K01/K01-001-privileged-container.kanon",
    ] {
        assert!(t.contains(want), "{want}: {t}");
    }
    let o = run(&["rules", "show", "K01-01"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `K01-001`?"));
}

#[test]
fn completions_and_man_page_mention_scan() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let s = stdout(&o);
        assert!(s.contains("scan") && s.contains("--format"), "{shell}: {s}");
    }
    let o = run(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    assert!(s.starts_with(".ie") || s.contains(".TH kanon"), "{s}");
    assert!(s.contains("scan"), "{s}");
}

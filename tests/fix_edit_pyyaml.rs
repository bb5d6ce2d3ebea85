//! Differential test of the scalars `fix::edit` writes: PyYAML (YAML 1.1, as Kubernetes
//! tooling reads it) must read every written value back as the same value and type, in
//! block and in flow context, and in JSON files.
//!
//! PyYAML is found at `$KANON_PYTHON` or `.ci/venv/bin/python`; without it the test says so
//! and passes, unless `KANON_REQUIRE_TOOLS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::fix::edit::{EditOp, FixValue, PathStep, apply_ops};
use serde_json::{Value as Json, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common;
use common::{python_with_pyyaml, skip};

/// PyYAML's reading of each text (its first document), as JSON (`{"error": ...}` when it
/// fails; dates and other non-JSON scalars as `{"other": repr}`).
fn pyyaml(python: &PathBuf, texts: &[String]) -> Vec<Json> {
    const SCRIPT: &str = r#"
import json, sys, yaml
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
def plain(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    return {"other": repr(v)}
out = []
for text in json.load(sys.stdin):
    try:
        out.append(plain(yaml.load(text, Loader=Loader)))
    except Exception as e:
        out.append({"error": str(e)})
print(json.dumps(out))
"#;
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_string(texts).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const STRINGS: &[&str] = &[
    "ALL",
    "NET_RAW",
    "runtime/default",
    "nginx:1.25",
    "a b",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "n",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "",
    " a",
    "a ",
    "1",
    "-1",
    "+1",
    "0755",
    "0o17",
    "0x1F",
    "1e3",
    "1_000",
    ".5",
    "-.inf",
    ".NaN",
    "1:20",
    "2001-12-14",
    "=",
    "<<",
    "#a",
    "a#b",
    "a #b",
    "a: b",
    "a:b",
    "a,b",
    "[a]",
    "{a}",
    "@x",
    "`x",
    "%x",
    "!x",
    "&x",
    "*x",
    "|",
    ">",
    "'",
    "\"",
    "- a",
    "-a",
    "? a",
    "?a",
    "---",
    "...",
    "é",
    "a\tb",
    "line\nbreak",
    "back\\slash",
    "tab\t",
    "\u{2028}",
    "100m",
    "1Gi",
    "1.5Gi",
    "512Mi",
    "2e",
    "0x1G",
    "1e3m",
    "0b1z",
    "12h",
    "1_0m",
    "3.4.5",
    "1e+3",
];

fn values() -> Vec<FixValue> {
    let mut v: Vec<FixValue> = STRINGS
        .iter()
        .map(|s| FixValue::Str(s.to_string()))
        .collect();
    v.extend([
        FixValue::Null,
        FixValue::Bool(true),
        FixValue::Bool(false),
        FixValue::Int(0),
        FixValue::Int(-7),
        FixValue::Int(i64::MAX),
        FixValue::Float(0.25),
        FixValue::Float(1.0),
        FixValue::Float(-3.5e-7),
        FixValue::Float(1e20),
        FixValue::List(vec![FixValue::Str("yes".into()), FixValue::Int(1)]),
    ]);
    v
}

fn to_json(v: &FixValue) -> Json {
    match v {
        FixValue::Null => Json::Null,
        FixValue::Bool(b) => json!(b),
        FixValue::Int(i) => json!(i),
        FixValue::Float(x) => json!(x),
        FixValue::Str(s) => json!(s),
        FixValue::List(items) => Json::Array(items.iter().map(to_json).collect()),
    }
}

#[test]
fn pyyaml_reads_written_values_back() {
    let python = match python_with_pyyaml() {
        Ok(p) => p,
        Err(why) => return skip(&why),
    };
    let key = |k: &str| PathStep::Key(k.to_string());
    let mut texts = Vec::new();
    let mut wanted = Vec::new();
    for v in values() {
        // block value, flow item, a new entry in a flow mapping, a new block entry, JSON
        let cases: [(&str, Vec<PathStep>, Json); 5] = [
            ("k: 0\n", vec![key("k")], json!({"k": to_json(&v)})),
            (
                "k: [0, 1]\n",
                vec![key("k"), PathStep::Index(0)],
                json!({"k": [to_json(&v), 1]}),
            ),
            (
                "m: {a: 1}\n",
                vec![key("m"), key("b")],
                json!({"m": {"a": 1, "b": to_json(&v)}}),
            ),
            (
                "m:\n  a: 1\n",
                vec![key("m"), key("b"), key("c")],
                json!({"m": {"a": 1, "b": {"c": to_json(&v)}}}),
            ),
            ("{\"k\": 0}", vec![key("k")], json!({"k": to_json(&v)})),
        ];
        for (text, path, want) in cases {
            let op = EditOp::Set {
                path,
                value: v.clone(),
            };
            let new = apply_ops(text, 0, &[op]).unwrap_or_else(|e| panic!("{e} for {v:?}"));
            texts.push(new);
            wanted.push(want);
        }
    }
    // the reference is YAML 1.1: unquoted, these would not be strings
    let control = pyyaml(
        &python,
        &["k: yes\n".into(), "k: 0755\n".into(), "k: 1:20\n".into()],
    );
    assert_eq!(
        control,
        [json!({"k": true}), json!({"k": 493}), json!({"k": 80})]
    );
    let got = pyyaml(&python, &texts);
    assert_eq!(got.len(), texts.len());
    let mut bad = Vec::new();
    for ((text, want), got) in texts.iter().zip(&wanted).zip(&got) {
        // JSON numbers: PyYAML reads 1.0 as the float 1.0, which serde_json compares as a float
        if got != want {
            bad.push(format!("{text:?}: pyyaml read {got}, wanted {want}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

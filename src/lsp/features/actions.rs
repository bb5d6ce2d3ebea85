//! Code actions, code lenses and the test command.

use super::*;

pub(super) fn code_actions(s: &Snapshot, params: &Value) -> Result<Vec<Value>, Failure> {
    let (path, t) = document(s, params)?;
    let uri = params
        .pointer("/textDocument/uri")
        .cloned()
        .unwrap_or(Value::Null);
    let mut out = Vec::new();
    let diags = params
        .pointer("/context/diagnostics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for d in diags {
        let Some(sugg) = d.pointer("/data/suggestion").and_then(Value::as_str) else {
            continue;
        };
        out.push(json!({
            "title": format!("replace with `{sugg}`"),
            "kind": "quickfix",
            "diagnostics": [d],
            "isPreferred": true,
            "edit": {"changes": {uri.as_str().unwrap_or(""): [{"range": d["range"], "newText": sugg}]}},
        }));
    }
    // a rule file without fixtures: offer to create `X.test.yaml`
    let range: lsp_types::Range = params
        .get("range")
        .cloned()
        .and_then(|r| serde_json::from_value(r).ok())
        .unwrap_or_default();
    let sel = text::byte_range(&t, range);
    let (ast, _) = crate::syntax::parse(0, &t);
    if crate::harness::fixtures_of(&path).is_empty() {
        let ids: Vec<&ast::Rule> = ast
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Rule(r) => Some(r),
                _ => None,
            })
            .collect();
        let touched = ids
            .iter()
            .any(|r| (r.loc.0.start as usize) <= sel.end && sel.start <= r.loc.0.end as usize);
        if touched {
            let fixture = path.with_extension("test.yaml");
            let name = fixture
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let furi = text::path_to_uri(&fixture);
            let body: String = ids
                .iter()
                .map(|r| fixture_template(&r.id.text))
                .collect::<Vec<_>>()
                .join("---\n");
            out.push(json!({
                "title": format!("add a fixture file `{name}`"),
                "kind": "quickfix",
                "edit": {"documentChanges": [
                    {"kind": "create", "uri": furi, "options": {"ignoreIfExists": true}},
                    {"textDocument": {"uri": furi, "version": null}, "edits": [
                        {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "newText": body}
                    ]},
                ]},
            }));
        }
    }
    Ok(out)
}

pub(super) fn fixture_template(id: &str) -> String {
    format!(
        "# a manifest the rule must report: `# expect: {id}` on the reported line\n\
         apiVersion: v1\nkind: Pod\nmetadata:\n  name: flagged # expect: {id}\nspec:\n  containers:\n    - name: app\n      image: registry.example/app:1.0\n\
         ---\n# ok: {id}\n\
         apiVersion: v1\nkind: Pod\nmetadata:\n  name: fine\nspec:\n  containers:\n    - name: app\n      image: registry.example/app:1.0\n"
    )
}

pub(super) fn code_lenses(s: &Snapshot, params: &Value) -> Result<Vec<CodeLens>, Failure> {
    let (path, t) = document(s, params)?;
    let uri = params
        .pointer("/textDocument/uri")
        .cloned()
        .unwrap_or(Value::Null);
    let (ast, _) = crate::syntax::parse(0, &t);
    let results = s.shared.tests.lock().map(|m| m.clone()).unwrap_or_default();
    Ok(ast
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Rule(r) => Some(r),
            _ => None,
        })
        .map(|r| {
            let title = results.get(&(path.clone(), r.id.text.clone())).map_or_else(
                || "▶ run tests".to_string(),
                |res| format!("{res} · ▶ run again"),
            );
            CodeLens {
                range: text::range(&t, r.id.loc.0.range()),
                command: Some(Command {
                    title,
                    command: RUN_TESTS.to_string(),
                    arguments: Some(vec![uri.clone(), json!(r.id.text)]),
                }),
                data: None,
            }
        })
        .collect())
}

/// `kanon.runTests URI ID`: runs the fixtures of the rule file (`kanon test FILE`) and
/// reports the rule's outcome: in the result, a message, the code lens title, and
/// diagnostics on the fixture lines that failed.
pub(super) fn execute(s: &Snapshot, params: &Value) -> Result<Value, Failure> {
    let command = params.get("command").and_then(Value::as_str).unwrap_or("");
    if command != RUN_TESTS {
        return Err(Failure::params(format!("unknown command `{command}`")));
    }
    let args = params
        .get("arguments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let uri = args.first().and_then(Value::as_str).unwrap_or("");
    let id = args.get(1).and_then(Value::as_str).unwrap_or("");
    let path = uri_to_path(uri).ok_or_else(|| Failure::params(format!("not a file: `{uri}`")))?;
    let report = crate::harness::run(
        std::slice::from_ref(&path),
        &crate::harness::TestOptions::default(),
    )
    .map_err(Failure::params)?;
    let rule = report.rules.iter().find(|r| r.id == id);
    let (passed, summary, failures) = match rule {
        Some(r) if r.passed() => (
            true,
            format!("✓ {id} passed ({} expect, {} ok)", r.expected, r.ok),
            Vec::new(),
        ),
        Some(r) => (
            false,
            format!(
                "✗ {id} failed: {} failure{}",
                r.failures.len(),
                if r.failures.len() == 1 { "" } else { "s" }
            ),
            r.failures.clone(),
        ),
        None => (
            false,
            format!("✗ {id}: no such rule in the file"),
            Vec::new(),
        ),
    };
    // failing fixture lines become diagnostics of the fixture files
    let mut by_file: HashMap<PathBuf, Vec<Value>> = HashMap::new();
    for f in crate::harness::fixtures_of(&path) {
        by_file.entry(f).or_default();
    }
    for f in &failures {
        if f.line == 0 {
            continue;
        }
        let fp = PathBuf::from(&f.file);
        let line = u32::try_from(f.line - 1).unwrap_or(0);
        let mut message = f.summary.clone();
        if let Some(e) = &f.expected {
            message.push_str(&format!("\nexpected: {e}"));
        }
        if let Some(x) = &f.found {
            message.push_str(&format!("\nfound: {x}"));
        }
        by_file.entry(fp).or_default().push(json!({
            "range": {"start": {"line": line, "character": 0}, "end": {"line": line + 1, "character": 0}},
            "severity": 1,
            "source": "kanon test",
            "code": id,
            "message": message,
        }));
    }
    for (file, diags) in &by_file {
        s.shared.notify(
            "textDocument/publishDiagnostics",
            json!({"uri": text::path_to_uri(file), "diagnostics": diags}),
        );
    }
    if let Ok(mut m) = s.shared.tests.lock() {
        m.insert((path.clone(), id.to_string()), summary.clone());
    }
    s.shared.notify(
        "window/showMessage",
        json!({"type": if passed { 3 } else { 1 }, "message": summary}),
    );
    s.shared.refresh_lenses();
    Ok(json!({
        "rule": id,
        "passed": passed,
        "summary": summary,
        "failures": failures.iter().map(|f| json!({
            "file": f.file, "line": f.line, "summary": f.summary,
        })).collect::<Vec<_>>(),
    }))
}

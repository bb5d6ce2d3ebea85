//! `kanon lsp` driven by a JSON-RPC client over stdio, through each feature, on the
//! bundled rules and `examples/org-rules`. What the client receives is snapshot-tested.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::lsp_client;

use lsp_client::{Client, copy_dir, position_of, temp_dir, uri};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bundled() -> PathBuf {
    repo().join("rulesets/owasp-k8s-top10")
}

/// Pretty JSON with the machine's paths replaced.
fn show(v: &Value, root: &Path) -> String {
    serde_json::to_string_pretty(v)
        .unwrap()
        .replace(&uri(root), "$ROOT")
        .replace(&root.display().to_string(), "$ROOT")
}

fn hover_text(c: &mut Client, path: &Path, needle: &str, shift: u32) -> String {
    let h = c.at("textDocument/hover", path, needle, shift);
    // the first lines only: the rest is rule docs, which other changes may edit
    let text = h["contents"]["value"].as_str().unwrap_or("(nothing)");
    let lines: Vec<&str> = text.lines().take(8).collect();
    format!("{needle} (+{shift}):\n{}\n", lines.join("\n"))
}

fn labels(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn diagnostics_follow_edits_with_did_you_mean() {
    let root = temp_dir("diagnostics");
    copy_dir(&repo().join("examples/org-rules"), &root);
    let file = root.join("ORG-001-team-label.kanon");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut c = Client::start(&root);
    c.open(&file, None);
    assert_eq!(c.diagnostics(&file), json!([]));
    // a typo typed in: one incremental change
    let pos = position_of(&text, "labels[\"team\"]", 0);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&file), "version": 2}, "contentChanges": [
            {"range": {"start": pos, "end": {"line": pos["line"], "character": pos["character"].as_u64().unwrap() + 6}}, "text": "lables"}
        ]}),
    );
    let d = c.diagnostics(&file);
    insta::assert_snapshot!("diagnostics_typo", show(&d, &root));
    // the quick fix applies the suggestion
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&file)}, "range": d[0]["range"], "context": {"diagnostics": d}}),
    );
    insta::assert_snapshot!("code_action_did_you_mean", show(&actions, &root));
    // fixed again: the diagnostics are cleared
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&file), "version": 3}, "contentChanges": [{"text": text}]}),
    );
    assert_eq!(c.diagnostics(&file), json!([]));
    c.shutdown();
}

#[test]
fn diagnostics_reach_the_files_that_import_a_changed_file() {
    let root = temp_dir("imports");
    std::fs::write(
        root.join("lib.kanon"),
        "def no_team(w) = w.labels[\"team\"] == null\n",
    )
    .unwrap();
    std::fs::write(
        root.join("rule.kanon"),
        "import \"lib.kanon\"\n\nrule ACME-001 no-team {\n  severity low\n\n  for w in workloads\n  where no_team(w)\n  report at w\n    \"`{w.name}` has no team\"\n}\n",
    )
    .unwrap();
    let lib = root.join("lib.kanon");
    let rule = root.join("rule.kanon");
    let mut c = Client::start(&root);
    c.open(&rule, None);
    assert_eq!(c.diagnostics(&rule), json!([]));
    // the def's parameter renamed, so its body names an unknown binding; and the rule
    // calls it with a wrong number of arguments
    c.open(
        &lib,
        Some("def no_team(w, x) = w.labels[\"team\"] == null\n"),
    );
    let d = c.diagnostics(&rule);
    insta::assert_snapshot!("diagnostics_importer", show(&d, &root));
    // closed unsaved: the file on disk counts again
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri(&lib)}}),
    );
    assert_eq!(c.diagnostics(&rule), json!([]));
    // changed on disk
    std::fs::write(&lib, "def no_team(w, x) = w.labels[\"team\"] == null\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&lib), "type": 2}]}),
    );
    let d = c.diagnostics(&rule);
    assert_eq!(d[0]["code"], json!("E0302"), "{d}");
    c.shutdown();
}

#[test]
fn hover_on_fields_bindings_sources_functions_and_rule_ids() {
    let root = bundled();
    let k01 = root.join("K01/K01-001-privileged-container.kanon");
    let k01_003 = root.join("K01/K01-003-runs-as-root.kanon");
    let k03 = root.join("K03/K03-006-escalate-bind-impersonate.kanon");
    let mut c = Client::start(&root);
    let mut out = String::new();
    out += &hover_text(&mut c, &k01, "privileged == true", 2);
    out += &hover_text(&mut c, &k01, "securityContext.privileged ==", 3);
    out += &hover_text(&mut c, &k01, "w.containers", 4);
    out += &hover_text(&mut c, &k01, "workloads, c", 1);
    out += &hover_text(&mut c, &k01, "c in w", 0);
    out += &hover_text(&mut c, &k01, "w in workloads", 0);
    out += &hover_text(&mut c, &k03, "v in r.verbs", 0);
    out += &hover_text(&mut c, &k01, "K01-001", 2);
    out += &hover_text(&mut c, &k01_003, "effective(c, w).runAsNonRoot", 1);
    out += &hover_text(&mut c, &k03, "custom_role(ro)", 1);
    out += &hover_text(&mut c, &k03, "all_roles", 1);
    out += &hover_text(&mut c, &k03, "severity high", 10);
    let rbac = root.join("K03/rbac.kanon");
    out += &hover_text(&mut c, &rbac, "bootstrap_roles from", 2);
    let paths = root.join("K01/host-paths.kanon");
    out += &hover_text(&mut c, &paths, "param sensitive_host_dirs", 8);
    insta::assert_snapshot!("hover", out.replace(&root.display().to_string(), "$ROOT"));
    c.shutdown();
}

#[test]
fn completion_offers_fields_sources_metadata_and_categories() {
    let root = temp_dir("completion");
    copy_dir(&repo().join("examples/org-rules"), &root);
    let file = root.join("ORG-001-team-label.kanon");
    let mut c = Client::start(&root);
    let mut check = |text: &str, needle: &str, shift: u32| -> Vec<String> {
        std::fs::write(&file, text).unwrap();
        c.open(&file, Some(text));
        let pos = position_of(text, needle, shift);
        let items = c.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri(&file)}, "position": pos}),
        );
        labels(&items)
    };
    let base = std::fs::read_to_string(repo().join("examples/org-rules/ORG-001-team-label.kanon"))
        .unwrap();
    let mut out = String::new();
    // fields after `.`, from the schema of the binding's kinds, attributes included
    let t = base.replace(
        "where w.labels[\"team\"] == null",
        "where w.podSpec.securityContext.ru == null",
    );
    let l = check(&t, "ru == null", 2);
    out += &format!("after `w.podSpec.securityContext.`: {}\n", l.join(" "));
    let t = base.replace("where w.labels[\"team\"] == null", "where w. == null");
    let l = check(&t, "w. == null", 2);
    assert!(
        l.contains(&"containers".to_string()) && l.contains(&"spec".to_string()),
        "{l:?}"
    );
    out += &format!(
        "after `w.` ({} items), first: {}\n",
        l.len(),
        l[..12].join(" ")
    );
    // sources after `in`
    let t = base.replace("for w in workloads", "for w in ");
    let l = check(&t, "for w in ", 9);
    assert!(l.contains(&"pods".to_string()) && l.contains(&"workloads".to_string()));
    out += &format!(
        "after `in`: {} items, including pods, workloads, all_roles\n",
        l.len()
    );
    // metadata keywords, severities, OWASP categories
    let t = base.replace("  fix      \"Add", "  \n  fix      \"Add");
    let l = check(&t, "  \n  fix", 2);
    out += &format!("rule metadata: {}\n", l.join(" "));
    let t = base.replace("severity low", "severity ");
    let l = check(&t, "severity \n", 9);
    out += &format!("after `severity`: {}\n", l.join(" "));
    let t = base.replace("severity low", "severity low\n  owasp ");
    let l = check(&t, "owasp \n", 6);
    out += &format!("after `owasp`: {}\n", l.join(" "));
    // functions, params and bindings in an expression
    let t = base.replace("where w.labels[\"team\"] == null", "where le");
    let l = check(&t, "where le", 8);
    for name in ["len", "w", "allowed_registries", "and", "exists"] {
        assert!(l.contains(&name.to_string()), "{name} not in {l:?}");
    }
    out += "in an expression: built-in functions, parameters, bindings and keywords\n";
    // fix keywords after `report`, fix actions inside a fix block
    let t = base.replace("has no `team` label\"\n", "has no `team` label\"\n  \n");
    let l = check(&t, "  \n  fix safe", 2);
    assert!(
        l.contains(&"fix safe".to_string()) && l.contains(&"fix unsafe".to_string()),
        "{l:?}"
    );
    assert!(!l.contains(&"set".to_string()), "{l:?}");
    let t = base.replace(
        "    set w.labels[\"team\"] = unowned_team\n",
        "    set w.labels[\"team\"] = unowned_team\n    \n",
    );
    let l = check(&t, "    \n  }", 4);
    for k in ["set", "remove", "add"] {
        assert!(l.contains(&k.to_string()), "{k} not in {l:?}");
    }
    // parameters and tables after `in` too
    let t = base.replace("where w.labels[\"team\"] == null", "where w.name in ");
    let l = check(&t, "w.name in ", 10);
    assert!(l.contains(&"allowed_registries".to_string()), "{l:?}");
    insta::assert_snapshot!("completion", out);
    c.shutdown();
}

#[test]
fn definition_and_references_of_defs_params_tables_imports_and_bindings() {
    let root = bundled();
    let k03 = root.join("K03/K03-006-escalate-bind-impersonate.kanon");
    let rbac = root.join("K03/rbac.kanon");
    let mut c = Client::start(&root);
    let mut out = String::new();
    let mut loc = |c: &mut Client, path: &Path, needle: &str, shift: u32| {
        let d = c.at("textDocument/definition", path, needle, shift);
        out += &format!("definition of `{needle}`: {}\n", short_loc(&d, &root));
    };
    loc(&mut c, &k03, "custom_role(ro)", 1);
    loc(&mut c, &k03, "ro.rules", 0);
    loc(&mut c, &k03, "v in [", 0);
    loc(&mut c, &k03, "\"rbac.kanon\"", 1);
    loc(&mut c, &rbac, "bootstrap_roles from", 25);
    let refs = c.at("textDocument/references", &rbac, "def custom_role", 5);
    let mut files: Vec<String> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| short_loc(l, &root))
        .collect();
    files.sort();
    assert!(files.len() > 3, "{files:?}");
    out += &format!("references of `custom_role`: {}\n", files.len());
    let refs = c.at("textDocument/references", &k03, "ro in all_roles", 0);
    let lines: Vec<String> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| short_loc(l, &root))
        .collect();
    out += &format!("references of binding `ro`: {}\n", lines.join(", "));
    insta::assert_snapshot!("definition_references", out);
    c.shutdown();
}

fn short_loc(l: &Value, root: &Path) -> String {
    let uri = l["uri"].as_str().unwrap_or("?").replace(&uri(root), "");
    format!(
        "{uri}:{}:{}",
        l["range"]["start"]["line"].as_u64().unwrap_or(0) + 1,
        l["range"]["start"]["character"].as_u64().unwrap_or(0) + 1
    )
}

#[test]
fn formatting_symbols_and_semantic_tokens() {
    let root = temp_dir("format");
    let file = root.join("messy.kanon");
    let messy = "param team: string = \"team\"\ndef  bad(w)=w.labels[team]==null\nrule ACME-001   messy { severity low\n for w in workloads where bad(w) report at w \"{w.name} is bad\" }\n";
    std::fs::write(&file, messy).unwrap();
    let mut c = Client::start(&root);
    c.open(&file, None);
    let edits = c.request("textDocument/formatting", json!({"textDocument": {"uri": uri(&file)}, "options": {"tabSize": 2, "insertSpaces": true}}));
    let formatted = edits[0]["newText"].as_str().unwrap().to_string();
    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri(&file)}}),
    );
    let names: Vec<String> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{} (kind {})", s["name"].as_str().unwrap(), s["kind"]))
        .collect();
    // semantic tokens of the formatted text, decoded
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&file), "version": 2}, "contentChanges": [{"text": formatted}]}),
    );
    let tokens = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": uri(&file)}}),
    );
    let data: Vec<u64> = tokens["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let types = kanon::lsp::features::TOKEN_TYPES;
    let lines: Vec<&str> = formatted.lines().collect();
    let (mut line, mut col) = (0u64, 0u64);
    let mut decoded = Vec::new();
    for t in data.chunks(5) {
        if t[0] > 0 {
            col = 0;
        }
        line += t[0];
        col += t[1];
        let text: String = lines[line as usize]
            .chars()
            .skip(col as usize)
            .take(t[2] as usize)
            .collect();
        decoded.push(format!(
            "{}:{} {text:?} {}{}",
            line + 1,
            col + 1,
            types[t[3] as usize],
            if t[4] > 0 {
                format!(" +{}", t[4])
            } else {
                String::new()
            }
        ));
    }
    insta::assert_snapshot!(
        "format_symbols_tokens",
        format!(
            "{formatted}\n--- symbols\n{}\n--- tokens\n{}\n",
            names.join("\n"),
            decoded.join("\n")
        )
    );
    // a file with a syntax error is left alone
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&file), "version": 3}, "contentChanges": [{"text": "rule X-1 x {"}]}),
    );
    let none = c.request("textDocument/formatting", json!({"textDocument": {"uri": uri(&file)}, "options": {"tabSize": 2, "insertSpaces": true}}));
    assert_eq!(none, Value::Null);
    // a rule without fixtures: a code action creates one
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&file)}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": []}}),
    );
    assert_eq!(actions, json!([]), "no rule in a file that does not parse");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&file), "version": 4}, "contentChanges": [{"text": formatted}]}),
    );
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&file)}, "range": {"start": {"line": 5, "character": 0}, "end": {"line": 5, "character": 0}}, "context": {"diagnostics": []}}),
    );
    insta::assert_snapshot!("code_action_fixture", show(&actions, &root));
    c.shutdown();
}

#[test]
fn code_lens_runs_a_rules_fixtures_and_marks_failures() {
    let root = temp_dir("lens");
    copy_dir(&repo().join("examples/org-rules"), &root);
    let file = root.join("ORG-001-team-label.kanon");
    let fixture = root.join("ORG-001-team-label.test.yaml");
    let mut c = Client::start(&root);
    c.open(&file, None);
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri(&file)}}),
    );
    insta::assert_snapshot!("code_lens", show(&lenses, &root));
    let cmd = &lenses[0]["command"];
    let run = |c: &mut Client| {
        c.request(
            "workspace/executeCommand",
            json!({"command": cmd["command"], "arguments": cmd["arguments"]}),
        )
    };
    let passed = run(&mut c);
    assert_eq!(passed["passed"], json!(true), "{passed}");
    assert_eq!(c.diagnostics(&fixture), json!([]));
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri(&file)}}),
    );
    assert!(
        lenses[0]["command"]["title"]
            .as_str()
            .unwrap()
            .starts_with("✓ ORG-001 passed"),
        "{lenses}"
    );
    // an expectation the rule does not meet: the fixture line is marked
    let text = std::fs::read_to_string(&fixture).unwrap();
    let broken = text.replacen("# ok: ORG-001", "# expect: ORG-001", 1);
    assert_ne!(broken, text);
    std::fs::write(&fixture, broken).unwrap();
    let failed = run(&mut c);
    assert_eq!(failed["passed"], json!(false), "{failed}");
    let d = c.diagnostics(&fixture);
    insta::assert_snapshot!(
        "test_failures",
        show(&json!({"result": failed, "diagnostics": d}), &root)
    );
    c.shutdown();
}

#[test]
fn unknown_methods_and_cancelled_requests_are_answered() {
    let root = temp_dir("misc");
    let mut c = Client::start(&root);
    let r = c.request_raw("textDocument/unknown", json!({}));
    assert_eq!(r["error"]["code"], json!(-32601), "{r}");
    let r = c.request_raw(
        "textDocument/hover",
        json!({"textDocument": {"uri": "untitled:1"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r["error"]["code"], json!(-32602), "{r}");
    c.shutdown();
}

/// The hover descriptions are the generator's output (when the source data and python3
/// are at hand; the build never reads them).
#[test]
fn committed_schema_docs_match_the_generator() {
    let root = repo();
    let src = root.join("../shared/k8s-schema/definitions.json.gz");
    if !src.exists() {
        eprintln!("skip: {} not found", src.display());
        return;
    }
    let out = temp_dir("schema-docs").join("docs.json");
    match std::process::Command::new("python3")
        .arg(root.join("tools/gen_schema_docs.py"))
        .arg(&src)
        .arg(&out)
        .status()
    {
        Err(e) => eprintln!("skip: cannot run python3: {e}"),
        Ok(s) => {
            assert!(s.success(), "gen_schema_docs.py failed: {s}");
            assert!(
                std::fs::read(&out).unwrap()
                    == std::fs::read(root.join("schema/k8s-1.37-docs.json")).unwrap(),
                "schema/k8s-1.37-docs.json is stale: rerun `python3 tools/gen_schema_docs.py ../shared/k8s-schema/definitions.json.gz`"
            );
        }
    }
}

/// The server sits on top: no stage below it refers to `crate::lsp`.
#[test]
fn no_stage_reaches_the_language_server() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = repo().join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let bad: Vec<String> = files
        .iter()
        .filter(|p| !p.starts_with(src.join("lsp")) && !p.ends_with("cli/lsp.rs"))
        .filter(|p| std::fs::read_to_string(p).unwrap().contains("crate::lsp"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    assert!(
        std::fs::read_to_string(src.join("cli/lsp.rs"))
            .unwrap()
            .contains("crate::lsp"),
        "the scan is not vacuous"
    );
}

/// A burst of edits is compiled once its last edit is in (debounced); a compile made
/// stale by a newer edit is never published after it.
#[test]
fn a_burst_of_edits_is_debounced_and_stale_results_are_dropped() {
    let root = temp_dir("burst");
    copy_dir(&repo().join("examples/org-rules"), &root);
    let file = root.join("ORG-001-team-label.kanon");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut c = Client::start(&root);
    c.open(&file, None);
    assert_eq!(c.diagnostics(&file), json!([]));
    for v in 0..20 {
        let t = if v % 2 == 0 {
            text.replace("labels", "lables")
        } else {
            text.clone()
        };
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(&file), "version": v + 2}, "contentChanges": [{"text": t}]}),
        );
    }
    c.drain(std::time::Duration::from_secs(2));
    let published: Vec<Value> = c
        .notifications
        .iter()
        .filter(|n| {
            n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri(&file)
        })
        .map(|n| n["params"]["diagnostics"].clone())
        .collect();
    eprintln!("20 edits, {} publication(s)", published.len());
    assert!(
        !published.is_empty() && published.len() < 20,
        "{} publications",
        published.len()
    );
    assert_eq!(published.last(), Some(&json!([])), "the last text is clean");
    c.shutdown();
}

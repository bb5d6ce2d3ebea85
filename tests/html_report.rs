//! The HTML report: self-contained, the same findings as JSON, and checked in a real browser
//! (Debian's `chromium`, headless): its DOM after the scripts ran has one row per finding,
//! filtering and sorting from the URL work, and it renders to a screenshot.
//!
//! The browser is found as `KANON_CHROMIUM`, else `chromium` on PATH. Without it these
//! tests say so and skip, unless `KANON_REQUIRE_TOOLS=1` (set by `.ci/run`), where a missing
//! browser fails them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use common::kanon;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kanon-html-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes the HTML and JSON reports of one scan; returns the HTML and the JSON findings.
fn reports(dir: &Path, inputs: &[&str]) -> (PathBuf, Vec<Value>) {
    let html = dir.join("report.html");
    let json = dir.join("report.json");
    let o = kanon()
        .arg("scan")
        .args(inputs)
        .args(["--fail-on", "never", "--format", "html", "--output"])
        .arg(&html)
        .args(["--format", "json", "--output"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (html, v["findings"].as_array().unwrap().clone())
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KANON_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
}

fn browser_or_skip(test: &str) -> Option<PathBuf> {
    let b = chromium();
    if b.is_none() {
        assert!(
            std::env::var_os("KANON_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "{test}: chromium is required (KANON_REQUIRE_TOOLS=1) but was not found"
        );
        eprintln!("skipping {test}: chromium is not installed (apt-get install chromium)");
    }
    b
}

/// Chromium headless, as root, with no network and a fresh profile.
fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn dump_dom(browser: &Path, profile: &Path, url: &str) -> String {
    let o = headless(browser, profile)
        .args(["--virtual-time-budget=5000", "--dump-dom", url])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// The `<tr class="finding" ...>` start tags of a DOM.
fn finding_rows(dom: &str) -> Vec<&str> {
    dom.match_indices("<tr class=\"finding\"")
        .map(|(i, _)| &dom[i..i + dom[i..].find('>').unwrap()])
        .collect()
}

#[test]
fn the_report_is_self_contained_and_lists_every_finding() {
    let dir = temp_dir("static");
    let (html, findings) = reports(&dir, &["examples/manifests"]);
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(findings.len() >= 5);
    assert_eq!(finding_rows(&text).len(), findings.len());
    // nothing is fetched: no external script, style, font, image or frame
    // (rule docs name their references as text, never as something to load)
    for needle in [
        "<link",
        " src=",
        "@import",
        "url(",
        "href=\"http",
        "<iframe",
        "<img",
    ] {
        assert!(!text.contains(needle), "`{needle}` in the report");
    }
    // each finding has its snippet, the evidence chains their graphs, rules their docs
    assert_eq!(
        text.matches("<pre class=\"snippet\">").count(),
        findings.len()
    );
    let chains = findings
        .iter()
        .filter(|f| {
            let r = &f["resource"];
            f["evidence"].as_array().is_some_and(|e| {
                e.iter().any(|x| {
                    (&x["kind"], &x["namespace"], &x["name"])
                        != (&r["kind"], &r["namespace"], &r["name"])
                })
            })
        })
        .count();
    assert!(chains > 0);
    assert_eq!(text.matches("<svg class=\"evidence\"").count(), chains);
    assert!(text.contains("<details class=\"rule\" id=\"rule-K03-001\">"));
    assert!(text.contains("id=\"skipped\""));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn input_text_cannot_inject_markup() {
    let dir = temp_dir("inject");
    let m = dir.join("evil.yaml");
    std::fs::write(
        &m,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  namespace: ns\nspec:\n  containers:\n    - name: \"<script>document.title='pwned'</script>\"\n      image: \"nginx\"\n      securityContext:\n        privileged: true\n",
    )
    .unwrap();
    let (html, findings) = reports(&dir, &[m.to_str().unwrap()]);
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(!findings.is_empty());
    assert!(!text.contains("<script>document.title"));
    assert!(text.contains("&lt;script&gt;document.title"));
    if let Some(b) = browser_or_skip("input_text_cannot_inject_markup") {
        let dom = dump_dom(
            &b,
            &dir.join("profile"),
            &format!("file://{}", html.display()),
        );
        assert!(
            dom.contains("<title>kanon report</title>"),
            "the title was changed"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn chromium_renders_filters_and_sorts_the_report() {
    let Some(browser) = browser_or_skip("chromium_renders_filters_and_sorts_the_report") else {
        return;
    };
    let dir = temp_dir("browser");
    let (html, findings) = reports(&dir, &["examples/manifests"]);
    let url = format!("file://{}", html.display());
    let profile = dir.join("profile");

    // after the scripts ran: one row per finding, none hidden
    let dom = dump_dom(&browser, &profile, &url);
    assert!(
        dom.contains("data-ready=\"1\""),
        "the report's script did not finish"
    );
    let rows = finding_rows(&dom);
    assert_eq!(rows.len(), findings.len());
    assert!(rows.iter().all(|r| !r.contains(" hidden")));

    // filtering by rule from the URL hides every other row
    let rule = findings[0]["rule"]["id"].as_str().unwrap();
    let expected = findings.iter().filter(|f| f["rule"]["id"] == rule).count();
    let dom = dump_dom(&browser, &profile, &format!("{url}#rule={rule}"));
    let shown: Vec<&str> = finding_rows(&dom)
        .into_iter()
        .filter(|r| !r.contains(" hidden"))
        .collect();
    assert_eq!(shown.len(), expected);
    assert!(
        shown
            .iter()
            .all(|r| r.contains(&format!("data-rule=\"{rule}\"")))
    );
    assert!(dom.contains(&format!("<span id=\"shown\">{expected}</span>")));

    // sorting by severity (descending rank = least severe first) reorders the rows
    let dom = dump_dom(&browser, &profile, &format!("{url}#sort=rank&dir=desc"));
    let ranks: Vec<u32> = finding_rows(&dom)
        .iter()
        .map(|r| {
            let i = r.find("data-rank=\"").unwrap() + 11;
            r[i..i + r[i..].find('"').unwrap()].parse().unwrap()
        })
        .collect();
    let mut sorted = ranks.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ranks, sorted);
    assert_ne!(ranks.first(), ranks.last());

    // and it renders: a screenshot of a real size
    let shot = dir.join("report.png");
    let o = headless(&browser, &profile)
        .arg(format!("--screenshot={}", shot.display()))
        .args(["--window-size=1280,1600", &url])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "a {} byte screenshot is blank",
        png.len()
    );
    if let Some(keep) = std::env::var_os("KANON_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
    std::fs::remove_dir_all(&dir).ok();
}

//! Hostile input: every case loads without a panic, gives a located error or warning,
//! leaves every other input scanned, and the summary's counts add up
//! (documents read = documents evaluated + documents skipped).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::diag::Level;
use kanon::engine::{ScanOptions, ScanResult, scan};
use std::path::{Path, PathBuf};

const GOOD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: good\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n      securityContext:\n        privileged: true\n";

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("kanon-hostile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scan_dir(dir: &Path) -> ScanResult {
    scan(&ScanOptions {
        inputs: vec![dir.to_string_lossy().into_owned()],
        bundled: true,
        threads: Some(2),
        ..ScanOptions::default()
    })
    .unwrap()
}

/// The good pod beside a hostile file: the pod's finding is still there, the hostile file
/// gives a located diagnostic with `code`, and the counts add up.
fn check_case(name: &str, file: &str, bytes: &[u8], code: &str) -> ScanResult {
    let dir = TempDir::new(name);
    dir.write("good.yaml", GOOD.as_bytes());
    dir.write(file, bytes);
    let r = scan_dir(&dir.0);
    assert!(
        r.findings
            .iter()
            .any(|f| &*f.rule.id == "K01-001" && &*f.resource.name == "good"),
        "{name}: the good file was not scanned"
    );
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("{name}: no {code} in {:#?}", r.diagnostics));
    let at = d
        .primary
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: {code} has no location"));
    assert!(
        r.sources.name(at.span.file).ends_with(file),
        "{name}: located in the wrong file"
    );
    let s = &r.summary;
    let skipped: usize = s.documents_skipped.iter().map(|(_, n)| n).sum();
    assert_eq!(
        s.documents,
        s.documents_evaluated + skipped,
        "{name}: counts do not add up: {s:?}"
    );
    r
}

#[test]
fn alias_bomb() {
    let mut y = String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for i in 1..12 {
        y.push_str(&format!(
            "{}: &{} [*{},*{},*{},*{},*{},*{},*{},*{},*{}]\n",
            (b'a' + i) as char,
            (b'a' + i) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char,
            (b'a' + i - 1) as char
        ));
    }
    let r = check_case("alias", "bomb.yaml", y.as_bytes(), "E1003");
    assert!(
        r.summary
            .documents_skipped
            .iter()
            .any(|(reason, n)| reason == "over a limit" && *n == 1)
    );
}

#[test]
fn deep_nesting() {
    let depth = 100_000;
    let y = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    check_case("deep-flow", "deep.yaml", y.as_bytes(), "E1003");
    let mut block = String::new();
    // block nesting costs its indentation: 3,000 levels is a 4.5 MB document, far past
    // the depth limit
    for i in 0..3_000 {
        block.push_str(&" ".repeat(i));
        block.push_str("a:\n");
    }
    check_case("deep-block", "deep.yaml", block.as_bytes(), "E1003");
    let json = format!("{}{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    check_case("deep-json", "deep.json", json.as_bytes(), "E1003");
}

#[test]
fn invalid_utf8_and_binary() {
    check_case(
        "latin1",
        "latin1.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
        "E1004",
    );
    check_case(
        "binary",
        "blob.yaml",
        &[0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 3, 0xff, 0xfe],
        "E1004",
    );
}

#[test]
fn utf16_bom_and_crlf_are_read() {
    let dir = TempDir::new("encodings");
    let mut utf16 = vec![0xff, 0xfe];
    for u in GOOD.replace("good", "utf16").encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    dir.write("utf16.yaml", &utf16);
    let mut bom = vec![0xef, 0xbb, 0xbf];
    bom.extend_from_slice(GOOD.replace("good", "bom").as_bytes());
    dir.write("bom.yaml", &bom);
    dir.write(
        "crlf.yaml",
        GOOD.replace("good", "crlf")
            .replace('\n', "\r\n")
            .as_bytes(),
    );
    let r = scan_dir(&dir.0);
    for name in ["utf16", "bom", "crlf"] {
        let f = r
            .findings
            .iter()
            .find(|f| &*f.rule.id == "K01-001" && &*f.resource.name == name)
            .unwrap_or_else(|| panic!("{name} not scanned: {:#?}", r.diagnostics));
        assert_eq!((f.location.line, f.location.column), (10, 9), "{name}");
    }
}

#[test]
fn tabs_unterminated_quotes_and_duplicates() {
    check_case(
        "tabs",
        "tabs.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n\tname: t\n",
        "E1001",
    );
    check_case(
        "quote",
        "quote.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"open\n",
        "E1001",
    );
    let r = check_case(
        "dup",
        "dup.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
        "W1001",
    );
    let d = r.diagnostics.iter().find(|d| d.code == "W1001").unwrap();
    assert_eq!(d.level, Level::Warning);
    assert_eq!(r.sources.line_col(d.primary.as_ref().unwrap().span), (5, 3));
}

#[test]
fn empty_comment_only_and_non_kubernetes() {
    let dir = TempDir::new("empty");
    dir.write("good.yaml", GOOD.as_bytes());
    dir.write("empty.yaml", b"");
    dir.write("comments.yaml", b"# nothing here\n# at all\n");
    dir.write("values.yaml", b"replicaCount: 3\nimage:\n  tag: latest\n");
    let r = scan_dir(&dir.0);
    let s = &r.summary;
    let count = |reason: &str| {
        s.documents_skipped
            .iter()
            .find(|(r, _)| r == reason)
            .map_or(0, |(_, n)| *n)
    };
    assert_eq!(count("empty"), 2, "{s:?}");
    assert_eq!(count("not kubernetes"), 1, "{s:?}");
    // found by walking the directory: counted, not warned about
    assert!(!r.diagnostics.iter().any(|d| d.code == "W1003"));
    assert_eq!(s.documents, 4);
    assert_eq!(s.documents_evaluated, 1);
    // `--verbose` warns
    let r = scan(&ScanOptions {
        inputs: vec![dir.0.to_string_lossy().into_owned()],
        bundled: true,
        verbose: true,
        ..ScanOptions::default()
    })
    .unwrap();
    assert!(r.diagnostics.iter().any(|d| d.code == "W1003"));
}

#[test]
fn list_with_non_objects_and_objects_missing_metadata() {
    let y = b"apiVersion: v1\nkind: List\nitems:\n  - 42\n  - just a string\n  - apiVersion: v1\n    kind: Pod\n    spec:\n      containers:\n        - name: c\n          image: nginx\n          securityContext: {privileged: true}\n";
    let r = check_case("list", "list.yaml", y, "W1002");
    // the nameless pod is still evaluated
    assert!(
        r.findings
            .iter()
            .any(|f| &*f.rule.id == "K01-001" && f.resource.name.is_empty()),
        "{:#?}",
        r.findings
    );
    let r = check_case(
        "nometa",
        "nometa.yaml",
        b"apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: true\n  containers: [{name: c, image: nginx:1.27}]\n",
        "W2002",
    );
    // still evaluated: the host network finding is reported for the nameless pod
    assert!(
        r.findings
            .iter()
            .any(|f| &*f.rule.id == "K01-010" && f.resource.name.is_empty())
    );
}

#[test]
fn symlink_loop_in_a_scanned_directory() {
    let dir = TempDir::new("symlink");
    dir.write("good.yaml", GOOD.as_bytes());
    std::fs::create_dir_all(dir.0.join("sub")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&dir.0, dir.0.join("sub/loop")).unwrap();
    let r = scan_dir(&dir.0);
    let good: Vec<_> = r
        .findings
        .iter()
        .filter(|f| &*f.rule.id == "K01-001")
        .collect();
    assert_eq!(
        good.len(),
        1,
        "the loop must not scan a file twice or forever"
    );
}

#[test]
fn many_small_files() {
    many_files(20_000);
}

#[test]
#[ignore = "creates 100,000 files; run with --ignored"]
fn one_hundred_thousand_small_files() {
    many_files(100_000);
}

fn many_files(n: usize) {
    let dir = TempDir::new(&format!("many-{n}"));
    for i in 0..n {
        dir.write(
            &format!("cm-{i:05}.yaml"),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\ndata:\n  k: v\n")
                .as_bytes(),
        );
    }
    dir.write("good.yaml", GOOD.as_bytes());
    let r = scan_dir(&dir.0);
    assert_eq!(r.summary.files, n + 1);
    assert_eq!(r.summary.objects, n + 1);
    assert!(r.findings.iter().any(|f| &*f.rule.id == "K01-001"));
}

#[test]
#[ignore = "writes and scans a 1 GB document; run with --ignored"]
fn one_gigabyte_document() {
    let dir = TempDir::new("huge");
    let mut y = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n");
    let line = format!("  k{{}}: {}\n", "x".repeat(1000));
    let mut i = 0;
    while y.len() < 1 << 30 {
        y.push_str(&line.replace("{}", &i.to_string()));
        i += 1;
    }
    dir.write("huge.yaml", y.as_bytes());
    drop(y);
    dir.write("good.yaml", GOOD.as_bytes());
    // over the default 512 MiB file limit: a located error, and the good file still scanned
    let r = scan_dir(&dir.0);
    assert!(r.diagnostics.iter().any(|d| d.code == "E1003"));
    assert!(r.findings.iter().any(|f| &*f.rule.id == "K01-001"));
}

#[test]
fn input_path_order_does_not_change_output() {
    let dir = TempDir::new("order");
    let a = dir.write("a.yaml", GOOD.as_bytes());
    let b = dir.write("b.yaml", GOOD.replace("good", "other").as_bytes());
    let run = |paths: &[&Path]| {
        let r = scan(&ScanOptions {
            inputs: paths
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
            bundled: true,
            ..ScanOptions::default()
        })
        .unwrap();
        serde_json::to_string(&kanon::report::json::report(
            &r.findings,
            &r.summary,
            &r.diagnostics,
            &r.sources,
        ))
        .unwrap()
    };
    assert_eq!(run(&[&a, &b]), run(&[&b, &a]));
}

#[test]
fn manifests_cannot_inject_terminal_escapes() {
    let evil = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"evil\\e[31m\"\nspec:\n  containers:\n    - name: \"c\\e]0;pwned\\a\"\n      image: nginx:1\n      securityContext:\n        privileged: true\n";
    let dir = TempDir::new("escape");
    dir.write("evil.yaml", evil.as_bytes());
    let r = scan_dir(&dir.0);
    let f = r
        .findings
        .iter()
        .find(|f| &*f.rule.id == "K01-001")
        .unwrap();
    let message = f.message.to_string();
    assert!(
        !message.contains('\u{1b}') && !message.contains('\u{7}'),
        "{message:?}"
    );
    // nor any other control character (the values' separator included)
    assert!(
        !message
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{message:?}"
    );
    assert!(!f.resource.name.contains('\u{1b}'));
    let text = kanon::report::text::render_plain(&r.sources, &r.findings);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'));
}

//! `kanon lsp` with a real client: headless Neovim opens a rule file with a typo,
//! attaches the server and reads the diagnostic back. Skips with a notice when `nvim`
//! is not installed, unless `KANON_REQUIRE_TOOLS=1` (set by `.ci/run`, which installs
//! Debian's `neovim` when missing).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn nvim_or_skip() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|d| d.join("nvim"))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("KANON_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "neovim is required (KANON_REQUIRE_TOOLS=1) but `nvim` was not found"
        );
        eprintln!("skipping the Neovim test: `nvim` is not installed (apt-get install neovim)");
    }
    found
}

#[test]
fn neovim_shows_the_diagnostic_of_a_typo() {
    let Some(nvim) = nvim_or_skip() else { return };
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("neovim");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(repo.join("examples/org-rules/ORG-001-team-label.kanon"))
        .unwrap()
        .replace("w.labels[\"team\"]", "w.lables[\"team\"]");
    let file = dir.join("ORG-001-team-label.kanon");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("diagnostics.txt");
    let status = Command::new(nvim)
        .args(["--headless", "--clean", "-n", "-c"])
        .arg(format!(
            "luafile {}",
            repo.join("tests/data/nvim_lsp.lua").display()
        ))
        .env("KANON_BIN", env!("CARGO_BIN_EXE_kanon"))
        .env("KANON_FILE", &file)
        .env("KANON_OUT", &out)
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success(), "{status}");
    let got = std::fs::read_to_string(&out).unwrap();
    insta::assert_snapshot!(got, @"15:11 E0104 workloads have no field or relation `lables` | help: did you mean `labels`?");
}

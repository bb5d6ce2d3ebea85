//! The report stage: findings and diagnostics to text, concise text, JSON, SARIF, JUnit,
//! GitHub workflow commands, GitLab Code Quality and a self-contained HTML report, one file per format, and atomic writing
//! of output files.

pub mod atomic;
pub mod baseline;
pub mod concise;
pub mod diagnostics;
pub mod fingerprint;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod summary;
pub mod text;

use std::path::Path;

/// A file name as CI systems and editors want it: relative to `base` (normally the working
/// directory) when it is under it, with forward slashes and no leading `./`.
pub fn display_path(file: &str, base: Option<&Path>) -> String {
    let path = Path::new(file);
    let shown = match base.and_then(|b| path.strip_prefix(b).ok()) {
        Some(rel) if path.is_absolute() => rel.to_string_lossy().into_owned(),
        _ => file.to_string(),
    };
    let mut shown = shown.replace('\\', "/");
    while let Some(rest) = shown.strip_prefix("./") {
        shown = rest.to_string();
    }
    shown
}

/// Appends the pretty JSON of `v` with `line` (a line break and an indentation) before each
/// of its lines: the value as a pretty printer writes it at that depth of a larger value,
/// since JSON strings hold no raw line breaks. Reports stream their items with it.
pub(crate) fn pretty_at(
    out: &mut Vec<u8>,
    v: &serde_json::Value,
    line: &[u8],
) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(v).map_err(std::io::Error::other)?;
    for l in text.split(|b| *b == b'\n') {
        out.extend_from_slice(line);
        out.extend_from_slice(l);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_relative_to_the_base() {
        let base = Path::new("/repo");
        assert_eq!(display_path("/repo/k8s/a.yaml", Some(base)), "k8s/a.yaml");
        assert_eq!(display_path("./k8s/a.yaml", Some(base)), "k8s/a.yaml");
        assert_eq!(
            display_path("/elsewhere/a.yaml", Some(base)),
            "/elsewhere/a.yaml"
        );
        assert_eq!(display_path("<stdin>", None), "<stdin>");
    }
}

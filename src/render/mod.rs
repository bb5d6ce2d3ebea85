//! Rendering Helm charts and Kustomize overlays with the real tools, and mapping rendered
//! documents back to the files that wrote them.
//!
//! A directory with a `Chart.yaml` (or a packaged `.tgz` chart) is a chart; a directory with a
//! `kustomization.yaml`, `kustomization.yml` or `Kustomization` is an overlay. The loader asks
//! [`expand`] which walked files belong to such a unit, and reads each unit as one rendered
//! text ([`Renderer::render`]) instead of its files: templates are never parsed as YAML on
//! their own, and a base that an overlay builds is not also read as loose files.
//!
//! Rendering runs an external process (`helm template`, `kustomize build` or
//! `kubectl kustomize`): never through a shell, bounded by a timeout, with no cluster
//! configuration (`KUBECONFIG` points at an empty file), its standard error shown when it
//! fails. The result carries an [`Origin`] through which a finding's position in the rendered
//! text is translated back to the template or resource file ([`Origin::map`]).
//!
//! This module knows nothing of rules, the graph or output; the model calls it.
//!
//! Diagnostic codes: `E1010` the tool is not available, `E1011` rendering failed or timed out,
//! `W1010` a chart not rendered because rendering is off.

pub mod helm;
pub mod kustomize;
pub mod locate;
mod process;

use crate::diag::Diagnostic;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use locate::Step;

/// The default bound on one rendering.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The keys of `render:` in `.kanon.yaml`.
pub const KEYS: [&str; 8] = [
    "enabled",
    "helm",
    "kustomize",
    "kubectl",
    "timeout",
    "values",
    "set",
    "charts",
];

/// The keys of one chart under `render.charts`.
pub const CHART_KEYS: [&str; 2] = ["values", "set"];

/// The names of a Kustomize overlay's file.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Values and `--set` flags for one chart (also the ones for every chart).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChartValues {
    /// Values files (`helm template -f FILE`), in order.
    #[serde(default)]
    pub values: Vec<PathBuf>,
    /// `key=value` settings (`helm template --set`), in order.
    #[serde(default)]
    pub set: Vec<String>,
}

/// How inputs are rendered: from `.kanon.yaml` (`render:`) and the command line.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Whether charts and overlays are rendered at all (`--no-render`: no).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The `helm` to run (default: `helm` on `PATH`).
    #[serde(default)]
    pub helm: Option<PathBuf>,
    /// The `kustomize` to run (default: `kustomize` on `PATH`, else `kubectl kustomize`).
    #[serde(default)]
    pub kustomize: Option<PathBuf>,
    /// The `kubectl` to run for `kubectl kustomize` (default: `kubectl` on `PATH`).
    #[serde(default)]
    pub kubectl: Option<PathBuf>,
    /// Seconds one rendering may take.
    #[serde(default)]
    pub timeout: Option<u64>,
    /// Values files for every chart (`helm template -f FILE`), in order.
    #[serde(default)]
    pub values: Vec<PathBuf>,
    /// `key=value` settings for every chart (`helm template --set`), in order.
    #[serde(default)]
    pub set: Vec<String>,
    /// Values and settings per chart path (applied after those for every chart).
    #[serde(default)]
    pub charts: BTreeMap<PathBuf, ChartValues>,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enabled: true,
            helm: None,
            kustomize: None,
            kubectl: None,
            timeout: None,
            values: Vec::new(),
            set: Vec::new(),
            charts: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// Resolves relative paths against `base` (the configuration file's directory).
    pub fn resolve(mut self, base: &Path) -> Settings {
        let join = |p: &PathBuf| -> PathBuf {
            if p.is_absolute() || p.components().count() == 1 && p.extension().is_none() {
                // a bare command name is looked up on `PATH`
                p.clone()
            } else {
                base.join(p)
            }
        };
        self.helm = self.helm.as_ref().map(join);
        self.kustomize = self.kustomize.as_ref().map(join);
        self.kubectl = self.kubectl.as_ref().map(join);
        self.values = self.values.iter().map(|p| base.join(p)).collect();
        self.charts = self
            .charts
            .into_iter()
            .map(|(k, mut v)| {
                v.values = v.values.iter().map(|p| base.join(p)).collect();
                (base.join(k), v)
            })
            .collect();
        self
    }

    /// The timeout of one rendering.
    pub fn timeout(&self) -> Duration {
        self.timeout.map_or(DEFAULT_TIMEOUT, Duration::from_secs)
    }

    /// The values and settings for the chart at `chart`: those for every chart, then those
    /// given for this chart's path.
    pub fn chart_values(&self, chart: &Path) -> ChartValues {
        let mut out = ChartValues {
            values: self.values.clone(),
            set: self.set.clone(),
        };
        let me = canonical(chart);
        for (path, v) in &self.charts {
            if canonical(path) == me {
                out.values.extend(v.values.iter().cloned());
                out.set.extend(v.set.iter().cloned());
            }
        }
        out
    }
}

/// A path with links and `..` resolved, for comparing (the path itself when it cannot be).
pub fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// What a path to render is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// A chart directory (it holds `Chart.yaml`).
    Chart(PathBuf),
    /// A packaged chart (`.tgz`).
    Archive(PathBuf),
    /// A Kustomize overlay directory.
    Overlay(PathBuf),
}

impl Unit {
    /// The unit a directory or file is, if any.
    pub fn at(path: &Path) -> Option<Unit> {
        if path.is_dir() {
            if path.join("Chart.yaml").is_file() {
                return Some(Unit::Chart(path.to_path_buf()));
            }
            if kustomization_file(path).is_some() {
                return Some(Unit::Overlay(path.to_path_buf()));
            }
            return None;
        }
        (is_archive(path) && path.is_file()).then(|| Unit::Archive(path.to_path_buf()))
    }

    /// The unit's path.
    pub fn path(&self) -> &Path {
        match self {
            Unit::Chart(p) | Unit::Archive(p) | Unit::Overlay(p) => p,
        }
    }

    /// The file a diagnostic about the unit points at (`Chart.yaml`, the kustomization).
    pub fn anchor(&self) -> PathBuf {
        match self {
            Unit::Chart(p) => p.join("Chart.yaml"),
            Unit::Archive(p) => p.clone(),
            Unit::Overlay(p) => kustomization_file(p).unwrap_or_else(|| p.clone()),
        }
    }
}

/// Whether a file name is a packaged chart's (`.tgz`).
pub fn is_archive(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tgz"))
}

/// Whether a walked `.tgz` is named as `helm package` names a chart: `NAME-VERSION.tgz`,
/// the version starting with a digit (other archives in a tree are not charts).
fn is_chart_package(path: &Path) -> bool {
    is_archive(path)
        && path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| {
                // the version starts at the first `-` followed by a digit
                s.match_indices('-').map(|(i, _)| i).find(|&i| {
                    s.get(i + 1..)
                        .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
                })
            })
            .is_some_and(|i| i > 0)
}

/// The kustomization file of a directory, if it has one.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// One input after grouping a directory's files into charts and overlays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A plain file, read as it is.
    File(PathBuf),
    /// A chart or overlay, read as its rendered output.
    Unit(Unit),
}

/// Groups the files walked under `root` (in walk order): a file inside a chart or overlay
/// directory (the outermost one under `root`, `root` included) stands for that unit, which
/// appears once, where its first file was; a unit or file that another overlay in the list
/// builds (its `resources`, `bases`, `components`, patches) is left out, so nothing is read
/// twice. With `overlays` false (rendering off), only charts are units: an overlay's files
/// are plain files, as they are without rendering.
pub fn expand(root: &Path, files: Vec<PathBuf>, overlays: bool) -> Vec<Entry> {
    let mut units: HashMap<PathBuf, Option<Unit>> = HashMap::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut out = Vec::new();
    for file in files {
        let unit = file.strip_prefix(root).ok().and_then(|rel| {
            // root, then each directory below it on the way to the file
            let mut dir = root.to_path_buf();
            let mut dirs = vec![dir.clone()];
            let parts: Vec<_> = rel.components().collect();
            for c in parts.iter().take(parts.len().saturating_sub(1)) {
                dir.push(c);
                dirs.push(dir.clone());
            }
            dirs.into_iter().find_map(|d| {
                units
                    .entry(d.clone())
                    .or_insert_with(|| {
                        Unit::at(&d).filter(|u| overlays || !matches!(u, Unit::Overlay(_)))
                    })
                    .clone()
            })
        });
        match unit {
            Some(u) => {
                if seen.insert(u.path().to_path_buf()) {
                    out.push(Entry::Unit(u));
                }
            }
            // a packaged chart found while walking is rendered; another archive is not an
            // input
            None if is_archive(&file) => {
                if is_chart_package(&file) {
                    out.push(Entry::Unit(Unit::Archive(file)));
                }
            }
            None => out.push(Entry::File(file)),
        }
    }
    // what the overlays in the list build
    let mut built: HashSet<PathBuf> = HashSet::new();
    for e in &out {
        if let Entry::Unit(Unit::Overlay(dir)) = e {
            for p in kustomize::references(dir) {
                built.insert(canonical(&p));
            }
        }
    }
    if built.is_empty() {
        return out;
    }
    out.into_iter()
        .filter(|e| {
            let p = match e {
                Entry::File(f) => f.as_path(),
                Entry::Unit(u) => u.path(),
            };
            !built.contains(&canonical(p))
        })
        .collect()
}

/// A rendered unit: the text the tool printed and how to map it back.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The name the text is registered under (`<helm template examples/helm/web>`).
    pub name: String,
    /// The rendered YAML stream.
    pub text: String,
    /// How positions in `text` map back to the user's files.
    pub origin: Origin,
}

/// Where a rendered text came from, to map positions in it back to the user's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `helm template` output: each document names its template in a `# Source:` comment.
    Helm {
        /// The chart directory.
        chart: PathBuf,
        /// Values files in the order Helm merged them (`values.yaml` first).
        values: Vec<PathBuf>,
    },
    /// `kustomize build` output.
    Kustomize {
        /// The overlay directory.
        dir: PathBuf,
        /// The file each rendered document (by its 0-based position) came from, when known.
        files: Vec<Option<PathBuf>>,
        /// The overlay's (and its bases') patch files.
        patches: Vec<PathBuf>,
    },
}

/// What a rendered document is, for [`Origin::map`].
#[derive(Clone, Copy, Debug)]
pub struct DocInfo<'a> {
    /// 0-based position in the rendered text.
    pub index: usize,
    /// Its `# Source:` comment.
    pub helm_source: Option<&'a str>,
    /// `kind`.
    pub kind: &'a str,
    /// `metadata.name`.
    pub name: &'a str,
}

/// A position in a user's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// The file.
    pub file: PathBuf,
    /// Its text.
    pub text: String,
    /// The byte range in `text`.
    pub range: std::ops::Range<usize>,
}

/// Where a value written by a template came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueOrigin {
    /// The template expression, such as `.Values.securityContext.privileged`.
    pub expr: String,
    /// Its key in a values file, when found.
    pub at: Option<Mapped>,
}

impl Origin {
    /// The position in the user's files of the node at `path` in the rendered document `doc`,
    /// and where its value came from when a template took it from the values.
    pub fn map(&self, doc: DocInfo<'_>, path: &[Step]) -> Option<(Mapped, Option<ValueOrigin>)> {
        match self {
            Origin::Helm { chart, values } => helm::map(chart, values, doc, path),
            Origin::Kustomize { files, patches, .. } => {
                let file = files.get(doc.index)?.as_ref()?;
                kustomize::map(file, patches, doc, path).map(|m| (m, None))
            }
        }
    }
}

/// Renders charts and overlays.
#[derive(Clone, Debug, Default)]
pub struct Renderer {
    /// The settings.
    pub settings: Settings,
}

impl Renderer {
    /// A renderer with these settings.
    pub fn new(settings: Settings) -> Renderer {
        Renderer { settings }
    }

    /// What the overlays among `paths` build (canonical paths), so that a base given beside
    /// its overlay is not read twice. Nothing when rendering is off.
    pub fn built_by(&self, paths: &[String]) -> HashSet<PathBuf> {
        if !self.settings.enabled {
            return HashSet::new();
        }
        paths
            .iter()
            .map(Path::new)
            .filter(|p| matches!(Unit::at(p), Some(Unit::Overlay(_))))
            .flat_map(kustomize::references)
            .map(|p| canonical(&p))
            .collect()
    }

    /// Renders a unit; a failure is one error about it, with the tool's message.
    pub fn render(&self, unit: &Unit) -> Result<Rendered, Box<Diagnostic>> {
        match unit {
            Unit::Chart(p) | Unit::Archive(p) => helm::render(&self.settings, p, unit),
            Unit::Overlay(p) => kustomize::render(&self.settings, p),
        }
    }
}

/// Finds a command: a path as given, or a bare name on `PATH`.
pub fn find_command(cmd: &Path) -> Option<PathBuf> {
    if cmd.components().count() > 1 {
        return cmd.is_file().then(|| cmd.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(cmd))
        .find(|p| p.is_file())
}

/// A path as a command-line argument: one that starts with `-` gets `./` in front, so the
/// tool cannot read it as a flag.
pub(crate) fn arg(p: &Path) -> String {
    let s = p.display().to_string();
    if s.starts_with('-') {
        format!("./{s}")
    } else {
        s
    }
}

/// How a path is shown in messages.
pub(crate) fn shown(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "kanon-render-{}-{}",
            std::process::id(),
            files.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for (p, text) in files {
            let f = dir.join(p);
            if let Some(parent) = f.parent() {
                std::fs::create_dir_all(parent).ok();
            }
            std::fs::write(&f, text).ok();
        }
        dir
    }

    #[test]
    fn a_walked_archive_is_a_chart_when_named_as_helm_packages_them() {
        assert!(is_chart_package(Path::new("dist/web-0.1.0.tgz")));
        assert!(is_chart_package(Path::new("my-app-1.2.3-rc.1.tgz")));
        assert!(!is_chart_package(Path::new("backup.tgz")));
        assert!(!is_chart_package(Path::new("logs-old.tgz")));
        assert!(!is_chart_package(Path::new("web-0.1.0.zip")));
    }

    #[test]
    fn a_path_is_never_an_option() {
        assert_eq!(arg(Path::new("--set=x")), "./--set=x");
        assert_eq!(arg(Path::new("charts/web")), "charts/web");
    }

    #[test]
    fn a_chart_and_an_overlay_are_one_entry_each_and_built_bases_are_left_out() {
        let root = tree(&[
            ("plain.yaml", "kind: A\n"),
            ("chart/Chart.yaml", "name: c\n"),
            ("chart/templates/a.yaml", "{{ x }}\n"),
            ("chart/templates/b.yaml", "{{ y }}\n"),
            ("k/base/kustomization.yaml", "resources: [d.yaml]\n"),
            ("k/base/d.yaml", "kind: D\n"),
            ("k/prod/kustomization.yaml", "resources: [../base]\n"),
        ]);
        let files = vec![
            root.join("chart/Chart.yaml"),
            root.join("chart/templates/a.yaml"),
            root.join("chart/templates/b.yaml"),
            root.join("k/base/d.yaml"),
            root.join("k/base/kustomization.yaml"),
            root.join("k/prod/kustomization.yaml"),
            root.join("plain.yaml"),
        ];
        let got = expand(&root, files.clone(), true);
        // rendering off: the overlay's files are plain files
        let off = expand(&root, files, false);
        assert_eq!(off.len(), 5);
        assert_eq!(
            off.first(),
            Some(&Entry::Unit(Unit::Chart(root.join("chart"))))
        );
        assert_eq!(
            got,
            vec![
                Entry::Unit(Unit::Chart(root.join("chart"))),
                Entry::Unit(Unit::Overlay(root.join("k/prod"))),
                Entry::File(root.join("plain.yaml")),
            ]
        );
        // the chart directory itself given as the root is one unit
        let got = expand(
            &root.join("chart"),
            vec![
                root.join("chart/Chart.yaml"),
                root.join("chart/templates/a.yaml"),
            ],
            true,
        );
        assert_eq!(got, vec![Entry::Unit(Unit::Chart(root.join("chart")))]);
        let _ = std::fs::remove_dir_all(&root);
    }
}

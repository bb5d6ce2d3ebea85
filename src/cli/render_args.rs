//! The rendering flags of `kanon scan`: Helm charts and Kustomize overlays.

use crate::render::Settings;
use clap::Args;
use std::path::PathBuf;

/// How charts and overlays are rendered (over `render:` in `.kanon.yaml`).
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Do not render Helm charts or Kustomize overlays (charts are then left out with a
    /// warning; an overlay's files are read as they are).
    #[arg(long)]
    pub no_render: bool,
    /// The `helm` to run for charts (default: `helm` on `PATH`).
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
    /// A values file for every chart (`helm template -f FILE`; repeatable).
    #[arg(long = "helm-values", value_name = "FILE")]
    pub helm_values: Vec<PathBuf>,
    /// A value for every chart (`helm template --set key=value`; repeatable).
    #[arg(long = "helm-set", value_name = "KEY=VALUE")]
    pub helm_set: Vec<String>,
    /// The `kustomize` to run for overlays (default: `kustomize` on `PATH`, else
    /// `kubectl kustomize`).
    #[arg(long, value_name = "PATH")]
    pub kustomize: Option<PathBuf>,
    /// Seconds one chart or overlay may take to render (default 60).
    #[arg(long, value_name = "SECONDS")]
    pub render_timeout: Option<u64>,
}

impl RenderArgs {
    /// The flags over the configuration's settings.
    pub fn settings(&self, config: &Settings) -> Settings {
        let mut s = config.clone();
        if self.no_render {
            s.enabled = false;
        }
        if let Some(h) = &self.helm {
            s.helm = Some(h.clone());
        }
        if let Some(k) = &self.kustomize {
            s.kustomize = Some(k.clone());
        }
        if let Some(t) = self.render_timeout {
            s.timeout = Some(t.max(1));
        }
        s.values.extend(self.helm_values.iter().cloned());
        s.set.extend(self.helm_set.iter().cloned());
        s
    }
}

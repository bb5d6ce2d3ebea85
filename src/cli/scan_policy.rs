//! The `kanon scan` flags for configuration, exemptions and baselines, and the work they do
//! around [`crate::engine::scan`].

use super::Color;
use crate::check::Overrides;
use crate::config::{self, Config, Date, Item};
use crate::diag::SourceMap;
use crate::engine::ScanResult;
use crate::policy::Policy;
use crate::report::{baseline, diagnostics};
use clap::Args;
use std::path::{Path, PathBuf};

/// Environment variable that sets "today" for exemption expiry (`YYYY-MM-DD`), for tests
/// and reproducible CI runs.
pub const TODAY_ENV: &str = "KANON_TODAY";

/// Where the configuration comes from.
#[derive(Clone, Debug, Default, Args)]
pub struct ConfigArgs {
    /// Configuration file (default: `.kanon.yaml` in the current directory or a parent, up to
    /// the repository root).
    #[arg(long, value_name = "PATH", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore any `.kanon.yaml`.
    #[arg(long)]
    pub no_config: bool,
}

/// Rule selection, exemption and baseline flags of `kanon scan`.
#[derive(Clone, Debug, Default, Args)]
pub struct PolicyArgs {
    /// Where the configuration comes from.
    #[command(flatten)]
    pub source: ConfigArgs,
    /// Run only these rules (ids, globs, categories such as `K01`, `severity:high`,
    /// `tag:NAME`; comma-separated); replaces `select` of the configuration.
    #[arg(long, value_name = "SELECTOR", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not run these rules (same selectors); added to `ignore` of the configuration.
    #[arg(long, value_name = "SELECTOR", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// List exempted findings with the reason and source of each exemption.
    #[arg(long)]
    pub show_exempted: bool,
    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the reported findings in this baseline file (the run then exits 0 unless an
    /// error occurred).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
}

/// Loads the configuration the flags name: `--config PATH`, none with `--no-config`, else
/// the discovered `.kanon.yaml`. Errors are printed; the exit code is returned.
pub(super) fn load_config(args: &ConfigArgs, color: Color) -> Result<Config, u8> {
    if args.no_config {
        return Ok(Config::default());
    }
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None => std::env::current_dir()
            .ok()
            .and_then(|d| config::discover(&d))
            .map(|p| relative_to_cwd(&p)),
    };
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let mut sources = SourceMap::new();
    config::load(&path, &mut sources).map_err(|diags| {
        let mut err = color.stderr();
        let _ = diagnostics::emit(&mut err, &sources, &diags);
        2
    })
}

/// A discovered path shown relative to the current directory when it is below it.
fn relative_to_cwd(p: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| p.to_path_buf())
}

/// Builds the scan policy from the flags and the configuration.
pub(super) fn policy(args: &PolicyArgs, color: Color) -> Result<Policy, u8> {
    let mut config = load_config(&args.source, color)?;
    if !args.select.is_empty() {
        config.select = Some(args.select.iter().map(Item::cli).collect());
    }
    config.ignore.extend(args.ignore.iter().map(Item::cli));
    for s in args.select.iter().chain(&args.ignore) {
        if let Some(sev) = s.strip_prefix("severity:") {
            if crate::check::ir::Severity::parse(sev).is_none() {
                super::error_line(&format!(
                    "unknown severity `{sev}` in `{s}`; severities are `info`, `low`, `medium`, `high` and `critical`"
                ));
                return Err(2);
            }
        }
    }
    let baseline = match &args.baseline {
        Some(p) => match baseline::Baseline::read(p) {
            Ok(b) => Some(b),
            Err(e) => {
                super::error_line(&e);
                return Err(2);
            }
        },
        None => None,
    };
    let today = match std::env::var(TODAY_ENV) {
        Ok(s) if !s.is_empty() => match Date::parse(&s) {
            Some(d) => Some(d),
            None => {
                super::error_line(&format!(
                    "`{TODAY_ENV}={s}` is not a date; write it as `YYYY-MM-DD`"
                ));
                return Err(2);
            }
        },
        _ => None,
    };
    Ok(Policy {
        config,
        baseline,
        today,
    })
}

/// Parameter values of the configuration (command-line `--param` values go over them).
pub(super) fn config_params(policy: &Policy) -> Overrides {
    policy
        .config
        .params
        .iter()
        .map(|(k, v)| (k.value.clone(), v.clone()))
        .collect()
}

/// Writes the baseline file when asked. Returns false (after printing why) on failure.
pub(super) fn write_baseline(args: &PolicyArgs, result: &ScanResult) -> bool {
    let Some(path) = &args.write_baseline else {
        return true;
    };
    // the findings shown and those the baseline in use hid, in report order
    let mut all: Vec<&crate::eval::Finding> =
        result.findings.iter().chain(&result.baselined).collect();
    all.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let written = std::fs::File::create(path).and_then(|f| {
        let mut w = std::io::BufWriter::new(f);
        baseline::write(&mut w, &all)?;
        std::io::Write::flush(&mut w)
    });
    match written {
        Ok(()) => {
            eprintln!(
                "wrote {} finding{} to baseline `{}`",
                all.len(),
                if all.len() == 1 { "" } else { "s" },
                path.display()
            );
            true
        }
        Err(e) => {
            super::error_line(&format!(
                "cannot write baseline `{}`: {}",
                path.display(),
                config::io_message(&e)
            ));
            false
        }
    }
}

//! `kanon config show`: the effective configuration and where it was found.

use super::scan_policy::{ConfigArgs, load_config};
use super::{Color, DiagFormat};
use clap::{Args, Subcommand};

/// Arguments of `kanon config`.
#[derive(Debug, Args)]
pub struct ConfigCommand {
    /// What to do.
    #[command(subcommand)]
    pub action: ConfigAction,
}

/// `kanon config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective configuration (YAML, or JSON with `--format json`).
    Show {
        /// Where the configuration comes from.
        #[command(flatten)]
        source: ConfigArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiagFormat::Text)]
        format: DiagFormat,
    },
}

pub(super) fn run(cmd: &ConfigCommand, color: Color) -> u8 {
    match &cmd.action {
        ConfigAction::Show { source, format } => {
            let config = match load_config(source, color) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let found = config.path.as_ref().map(|p| p.display().to_string());
            match format {
                DiagFormat::Json => {
                    let v = serde_json::json!({ "source": found, "config": config.to_json() });
                    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                }
                DiagFormat::Text => {
                    match &found {
                        Some(p) => println!("# configuration: {p}"),
                        None => println!("# configuration: none found, defaults"),
                    }
                    match serde_yaml::to_string(&config.to_json()) {
                        Ok(y) => print!("{y}"),
                        Err(e) => {
                            super::error_line(&format!("cannot render the configuration: {e}"));
                            return 2;
                        }
                    }
                }
            }
            0
        }
    }
}

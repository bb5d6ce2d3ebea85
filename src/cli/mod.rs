//! The command line: argument parsing (clap) and one function per subcommand.
//! `src/main.rs` only calls [`main`].

mod check;
mod config;
pub mod explain;
mod fmt;
mod graph;
mod scan;
pub mod scan_policy;

use clap::{Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// kanon: a declarative rule engine for Kubernetes security.
#[derive(Debug, Parser)]
#[command(name = "kanon", version, about, long_about = None)]
pub struct Cli {
    /// When to use colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Colour choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Colour on a terminal unless `NO_COLOR` is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Output format of diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiagFormat {
    /// Human text.
    Text,
    /// JSON for tools.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Compile rule files and print diagnostics (exit 0 clean, 2 on errors).
    Check {
        /// Rule files or directories (default: the bundled ruleset).
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiagFormat::Text)]
        format: DiagFormat,
    },
    /// Scan manifests or cluster exports with the bundled and given rules.
    Scan(scan::ScanArgs),
    /// Show a rule's logical, optimized and physical plans.
    Explain {
        /// Rule id or name.
        rule: String,
        /// Also show the plan after each optimizer rule and the physical plan.
        #[arg(long)]
        verbose: bool,
        /// Extra rule files or directories.
        #[arg(long = "rules", value_name = "PATH")]
        rules: Vec<PathBuf>,
        /// Use only the rules given with `--rules`.
        #[arg(long)]
        no_default_rules: bool,
    },
    /// Write the resource graph of the inputs (nodes and relation edges).
    Graph {
        /// Files or directories (`-` reads stdin).
        #[arg(required = true)]
        paths: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = graph::GraphFormat::Dot)]
        format: graph::GraphFormat,
    },
    /// Format rule files canonically, keeping comments and docs.
    Fmt {
        /// Only report files that are not formatted (exit 1 if any).
        #[arg(long)]
        check: bool,
        /// Rule files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Show the effective configuration (`.kanon.yaml` over the defaults).
    Config(config::ConfigCommand),
}

impl Color {
    pub(crate) fn choice(self, stream_is_tty: bool) -> ColorChoice {
        match self {
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
            Color::Auto => {
                if stream_is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) {
                    ColorChoice::Auto
                } else {
                    ColorChoice::Never
                }
            }
        }
    }

    pub(crate) fn stderr(self) -> StandardStream {
        StandardStream::stderr(self.choice(std::io::stderr().is_terminal()))
    }

    pub(crate) fn stdout(self) -> StandardStream {
        StandardStream::stdout(self.choice(std::io::stdout().is_terminal()))
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match &cli.command {
        Command::Check { paths, format } => check::run(paths, *format, cli.color),
        Command::Fmt { check, paths } => fmt::run(paths, *check),
        Command::Scan(args) => scan::run(args, cli.color),
        Command::Explain {
            rule,
            verbose,
            rules,
            no_default_rules,
        } => explain::run(rule, *verbose, rules, *no_default_rules),
        Command::Graph { paths, format } => graph::run(paths, *format, cli.color),
        Command::Config(c) => config::run(c, cli.color),
    };
    ExitCode::from(code)
}

/// Prints a one-line error for a usage or I/O problem.
pub(crate) fn error_line(msg: &str) {
    eprintln!("error: {msg}");
}

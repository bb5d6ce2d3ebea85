//! The command line: argument parsing (clap) and one function per subcommand.
//! `src/main.rs` only calls [`main`].

mod check;
mod config;
pub mod explain;
mod fix;
mod fmt;
mod graph;
mod lsp;
pub mod outputs;
pub mod progress;
mod render_args;
pub mod rules;
mod scan;
pub mod scan_policy;
mod test;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{BufferedStandardStream, ColorChoice, StandardStream};
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
        /// Manifests to compute the rule's relations on: shows the rounds each stratum took.
        #[arg(long = "input", value_name = "PATH")]
        input: Vec<String>,
        /// Largest input file read (`512M`, `2G`, `64k`); larger files are skipped and reported.
        #[arg(long, value_name = "SIZE", value_parser = crate::limits::parse_size)]
        max_file_size: Option<u64>,
    },
    /// Write the resource graph of the inputs (nodes and relation edges).
    Graph {
        /// Files or directories (`-` reads stdin).
        #[arg(required = true)]
        paths: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = graph::GraphFormat::Dot)]
        format: graph::GraphFormat,
        /// Largest input file read (`512M`, `2G`, `64k`); larger files are skipped and reported.
        #[arg(long, value_name = "SIZE", value_parser = crate::limits::parse_size)]
        max_file_size: Option<u64>,
    },
    /// Run the fixtures of rule files: `# expect: ID` and `# ok: ID` markers in
    /// `X.test.yaml` / `X.tests/*.yaml` beside each `X.kanon` (exit 1 on a failure).
    Test(test::TestArgs),
    /// Format rule files canonically, keeping comments and docs.
    Fmt {
        /// Only report files that are not formatted (exit 1 if any).
        #[arg(long)]
        check: bool,
        /// Rule files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// List the rules (filter by OWASP category and severity), or show one rule's docs.
    Rules(rules::RulesArgs),
    /// Print a shell completion script (e.g. `kanon completions bash > /etc/bash_completion.d/kanon`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output (e.g. `kanon man | man -l -`).
    Man,
    /// Show the effective configuration (`.kanon.yaml` over the defaults).
    Config(config::ConfigCommand),
    /// Run the language server for rule files (Language Server Protocol over stdio).
    Lsp,
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

    /// Standard output, buffered (flushed when dropped): one write per finding would cost
    /// a system call each.
    pub(crate) fn stdout(self) -> BufferedStandardStream {
        BufferedStandardStream::stdout(self.choice(std::io::stdout().is_terminal()))
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (mut cli, matches) = match parsed {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let (Command::Scan(args), Some(("scan", sub))) = (&mut cli.command, matches.subcommand()) {
        args.placement = Some(outputs::Placement::from_matches(sub));
    }
    let code = match &cli.command {
        Command::Check { paths, format } => check::run(paths, *format, cli.color),
        Command::Fmt { check, paths } => fmt::run(paths, *check),
        Command::Scan(args) => scan::run(args, cli.color),
        Command::Explain {
            rule,
            verbose,
            rules,
            no_default_rules,
            input,
            max_file_size,
        } => explain::run(
            rule,
            *verbose,
            rules,
            *no_default_rules,
            input,
            input_limits(*max_file_size),
        ),
        Command::Graph {
            paths,
            format,
            max_file_size,
        } => graph::run(paths, *format, cli.color, input_limits(*max_file_size)),
        Command::Test(args) => test::run(args),
        Command::Rules(args) => rules::run(args, cli.color),
        Command::Completions { shell } => completions(*shell),
        Command::Man => man(),
        Command::Config(c) => config::run(c, cli.color),
        Command::Lsp => lsp::run(),
    };
    ExitCode::from(code)
}

/// Writes to standard output. A closed pipe (`kanon ... | head`) is not an error, and
/// must not become a panic as `print!` would.
pub(crate) fn out(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Writes one line to standard error, ignoring a closed stream.
pub(crate) fn err_line(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Writes a completion script for `shell` to standard output.
fn completions(shell: clap_complete::Shell) -> u8 {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kanon", &mut out);
    write_stdout(&out)
}

/// The man page of kanon, as roff.
pub fn man_page() -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| format!("cannot render the man page: {e}"))?;
    Ok(out)
}

fn man() -> u8 {
    match man_page() {
        Ok(page) => write_stdout(&page),
        Err(e) => {
            error_line(&e);
            2
        }
    }
}

fn write_stdout(bytes: &[u8]) -> u8 {
    out(&String::from_utf8_lossy(bytes));
    0
}

/// The default limits, with `--max-file-size` where it is given.
pub(crate) fn input_limits(max_file_size: Option<u64>) -> crate::limits::Limits {
    let mut l = crate::limits::Limits::default();
    if let Some(v) = max_file_size {
        l.max_file_bytes = v;
    }
    l
}

/// Prints a one-line error for a usage or I/O problem.
pub(crate) fn error_line(msg: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "error: {msg}");
}

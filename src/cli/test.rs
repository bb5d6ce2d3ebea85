//! `kanon test`: run the fixtures of rule files (see [`crate::harness`]).

use crate::harness::{self, TestOptions};
use clap::{Args, ValueEnum};
use std::io::Write as _;
use std::path::PathBuf;

/// Output formats of `kanon test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// A line per rule, failures as diffs, then `N passed, M failed`.
    Text,
    /// JUnit XML: one testsuite, one testcase per rule.
    Junit,
}

/// Arguments of `kanon test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rule files or directories whose rules to test (default: the current directory).
    /// Fixtures of `X.kanon` are `X.test.yaml` and the YAML files under `X.tests/`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
    /// Also report which rules have positive and negative cases, and which atomic
    /// conditions of each `where` clause the fixtures made both true and false.
    #[arg(long)]
    pub coverage: bool,
}

pub(super) fn run(args: &TestArgs) -> u8 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let opts = TestOptions {
        coverage: args.coverage,
    };
    let report = match harness::run(&paths, &opts) {
        Ok(r) => r,
        Err(e) => {
            super::error_line(&e);
            return 2;
        }
    };
    let text = match args.format {
        TestFormat::Text => harness::render::text(&report),
        TestFormat::Junit => harness::render::junit(&report),
    };
    let mut out = std::io::stdout().lock();
    // a closed pipe still leaves the exit code to tell the result
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    u8::from(!report.is_ok())
}

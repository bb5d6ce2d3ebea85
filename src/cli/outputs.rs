//! `kanon scan --format F [--output FILE]...`: which format goes where, and writing them.
//!
//! Each `--output FILE` writes the format of the nearest `--format` before it; a format
//! without an `--output` goes to standard output (at most one may), as does one whose
//! `--output` is `-`. With no `--format`, one text report is written, to `--output` if
//! given. Files are written atomically.

use super::Color;
use super::scan::ScanFormat;
use crate::engine::ScanResult;
use crate::report::{atomic, concise, github, gitlab, html, json, junit, sarif, text};
use clap::ValueEnum;
use codespan_reporting::term::termcolor::{NoColor, WriteColor};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where `--format` and `--output` stood on the command line (clap argument indices).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// Index of each `--format` value.
    pub formats: Vec<usize>,
    /// Index of each `--output` value.
    pub outputs: Vec<usize>,
}

impl Placement {
    /// Reads the indices from the `scan` subcommand's matches.
    pub fn from_matches(m: &clap::ArgMatches) -> Placement {
        let idx = |id: &str| -> Vec<usize> {
            m.try_get_raw(id)
                .ok()
                .flatten()
                .and_then(|_| m.indices_of(id))
                .map(|i| i.collect())
                .unwrap_or_default()
        };
        Placement {
            formats: idx("format"),
            outputs: idx("output"),
        }
    }
}

/// One report to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The format.
    pub format: ScanFormat,
    /// The file, or `None` for standard output.
    pub path: Option<PathBuf>,
}

fn name(f: ScanFormat) -> String {
    f.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// The file an `--output` names: `None` for `-`, standard output.
fn file_of(out: &Path) -> Option<PathBuf> {
    (out.as_os_str() != "-").then(|| out.to_path_buf())
}

/// Pairs formats with outputs. Without a placement (a library caller), the i-th output
/// goes with the i-th format.
pub fn plan(
    formats: &[ScanFormat],
    outputs: &[PathBuf],
    placement: Option<&Placement>,
) -> Result<Vec<Target>, String> {
    if formats.is_empty() {
        if outputs.len() > 1 {
            return Err("several `--output` files need a `--format` before each".to_string());
        }
        return Ok(vec![Target {
            format: ScanFormat::Text,
            path: outputs.first().and_then(|o| file_of(o)),
        }]);
    }
    let usable =
        placement.filter(|p| p.formats.len() == formats.len() && p.outputs.len() == outputs.len());
    let (fpos, opos): (Vec<usize>, Vec<usize>) = match usable {
        Some(p) => (p.formats.clone(), p.outputs.clone()),
        None => (
            (0..formats.len()).map(|i| 2 * i).collect(),
            (0..outputs.len()).map(|i| 2 * i + 1).collect(),
        ),
    };
    let mut targets: Vec<Target> = formats
        .iter()
        .map(|f| Target {
            format: *f,
            path: None,
        })
        .collect();
    // the output each format was given (`-` included), to tell a second one
    let mut given: Vec<Option<&PathBuf>> = vec![None; targets.len()];
    for (out, at) in outputs.iter().zip(&opos) {
        let owner = fpos.iter().rposition(|p| p < at).or_else(|| {
            // `--output x --format y` with one of each is unambiguous
            (formats.len() == 1 && outputs.len() == 1).then_some(0)
        });
        let Some(i) = owner else {
            return Err(format!(
                "`--output {}` must follow the `--format` it writes",
                out.display()
            ));
        };
        let (Some(t), Some(g)) = (targets.get_mut(i), given.get_mut(i)) else {
            continue;
        };
        if let Some(prev) = g {
            return Err(format!(
                "`--format {}` has two outputs, `{}` and `{}`; repeat `--format` before each",
                name(t.format),
                prev.display(),
                out.display()
            ));
        }
        *g = Some(out);
        t.path = file_of(out);
    }
    let to_stdout: Vec<String> = targets
        .iter()
        .filter(|t| t.path.is_none())
        .map(|t| format!("`--format {}`", name(t.format)))
        .collect();
    if to_stdout.len() > 1 {
        return Err(format!(
            "only one format can go to standard output, but {} have no `--output FILE`",
            to_stdout.join(" and ")
        ));
    }
    for (i, a) in outputs.iter().enumerate() {
        if outputs.iter().skip(i + 1).any(|b| b == a) {
            return Err(format!("`--output {}` is given twice", a.display()));
        }
    }
    Ok(targets)
}

/// How writing the reports went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    /// Everything was written.
    All,
    /// Standard output was closed early (`| head`): not worth an error.
    StdoutClosed,
    /// An output file could not be written (the message says why).
    Failed(String),
}

/// Writes one format, without colour. With `show_exempted`, text and JSON also list the
/// exempted findings. Reports are streamed: a large one is never held in memory whole.
pub fn render(
    w: &mut dyn Write,
    format: ScanFormat,
    result: &ScanResult,
    show_exempted: bool,
) -> std::io::Result<()> {
    let rules = &result.compiled.program.rules;
    match format {
        ScanFormat::Text => {
            let mut nc = NoColor::new(w);
            if write_text(&mut nc, result, show_exempted) {
                Ok(())
            } else {
                Err(std::io::Error::other("cannot write the text report"))
            }
        }
        ScanFormat::Json => {
            let exempted = show_exempted.then(|| crate::policy::exempted_json(&result.exempted));
            json::write(
                w,
                &result.findings,
                &result.summary,
                &result.diagnostics,
                &result.sources,
                exempted,
            )
        }
        ScanFormat::Sarif => {
            let base = std::env::current_dir().ok();
            sarif::write(
                w,
                rules,
                &result.findings,
                &result.diagnostics,
                &result.sources,
                base.as_deref(),
            )
        }
        ScanFormat::Concise => {
            let base = std::env::current_dir().ok();
            concise::write(w, &result.findings, base.as_deref())?;
            if show_exempted {
                write!(w, "{}", crate::policy::exempted_text(&result.exempted))?;
            }
            write!(w, "{}", result.summary.text())
        }
        ScanFormat::Github => {
            let base = std::env::current_dir().ok();
            github::write(
                w,
                &result.findings,
                &result.diagnostics,
                &result.sources,
                base.as_deref(),
            )?;
            write!(w, "{}", result.summary.text())
        }
        ScanFormat::Gitlab => {
            let base = std::env::current_dir().ok();
            gitlab::write(w, &result.findings, base.as_deref())
        }
        ScanFormat::Html => {
            let base = std::env::current_dir().ok();
            html::write(
                w,
                &html::Report {
                    rules,
                    findings: &result.findings,
                    diagnostics: &result.diagnostics,
                    sources: &result.sources,
                    summary: &result.summary,
                    base: base.as_deref(),
                },
            )
        }
        ScanFormat::Junit => junit::write(
            w,
            rules,
            &result.findings,
            &result.diagnostics,
            &result.sources,
        ),
    }
}

fn write_text(w: &mut dyn WriteColor, result: &ScanResult, show_exempted: bool) -> bool {
    text::write(w, &result.sources, &result.findings).is_ok()
        && (!show_exempted
            || write!(w, "{}", crate::policy::exempted_text(&result.exempted)).is_ok())
        && write!(w, "{}", result.summary.text()).is_ok()
}

/// Writes every target: files first (atomically), then standard output.
pub fn write_all(
    targets: &[Target],
    result: &ScanResult,
    color: Color,
    show_exempted: bool,
) -> Written {
    for t in targets {
        if let Some(path) = &t.path {
            let stream = |w: &mut dyn Write| render(w, t.format, result, show_exempted);
            if let Err(e) = atomic::write_with(path, stream) {
                return Written::Failed(e);
            }
        }
    }
    for t in targets.iter().filter(|t| t.path.is_none()) {
        let ok = match t.format {
            ScanFormat::Text => {
                let mut out = color.stdout();
                write_text(&mut out, result, show_exempted)
            }
            other => {
                let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
                render(&mut out, other, result, show_exempted).is_ok() && out.flush().is_ok()
            }
        };
        if !ok {
            return Written::StdoutClosed;
        }
    }
    Written::All
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn outputs_pair_with_the_format_before_them() {
        use ScanFormat::*;
        let place = Placement {
            formats: vec![3, 7],
            outputs: vec![5],
        };
        let t = plan(&[Sarif, Text], &[p("k.sarif")], Some(&place)).unwrap();
        assert_eq!(t[0].path, Some(p("k.sarif")));
        assert_eq!(t[1].path, None);
        // `--format text --format sarif --output k.sarif`
        let place = Placement {
            formats: vec![3, 5],
            outputs: vec![7],
        };
        let t = plan(&[Text, Sarif], &[p("k.sarif")], Some(&place)).unwrap();
        assert_eq!(t[0].path, None);
        assert_eq!(t[1].path, Some(p("k.sarif")));
        // no format: text, to the output if any
        let t = plan(&[], &[p("o.txt")], None).unwrap();
        assert_eq!(
            t,
            [Target {
                format: Text,
                path: Some(p("o.txt"))
            }]
        );
        // `--output o.json --format json`
        let place = Placement {
            formats: vec![5],
            outputs: vec![3],
        };
        assert!(plan(&[Json], &[p("o.json")], Some(&place)).is_ok());
    }

    #[test]
    fn a_dash_output_is_standard_output() {
        use ScanFormat::*;
        let t = plan(&[], &[p("-")], None).unwrap();
        assert_eq!(t[0].path, None);
        // `--format json --output - --format sarif --output k.sarif`
        let place = Placement {
            formats: vec![1, 5],
            outputs: vec![3, 7],
        };
        let t = plan(&[Json, Sarif], &[p("-"), p("k.sarif")], Some(&place)).unwrap();
        assert_eq!(t[0].path, None);
        assert_eq!(t[1].path, Some(p("k.sarif")));
        // two formats cannot both go to standard output, whether or not through `-`
        let e = plan(
            &[Json, Sarif],
            &[p("-")],
            Some(&Placement {
                formats: vec![1, 5],
                outputs: vec![3],
            }),
        )
        .unwrap_err();
        assert!(
            e.contains("only one format can go to standard output"),
            "{e}"
        );
        // nor can one format go both there and to a file
        let e = plan(
            &[Json],
            &[p("-"), p("k.json")],
            Some(&Placement {
                formats: vec![1],
                outputs: vec![3, 5],
            }),
        )
        .unwrap_err();
        assert!(e.contains("has two outputs, `-` and `k.json`"), "{e}");
    }

    #[test]
    fn ambiguous_outputs_are_errors() {
        use ScanFormat::*;
        let e = plan(&[Json, Sarif], &[], None).unwrap_err();
        assert!(
            e.contains("only one format can go to standard output"),
            "{e}"
        );
        let place = Placement {
            formats: vec![3, 5],
            outputs: vec![1],
        };
        let e = plan(&[Json, Sarif], &[p("x")], Some(&place)).unwrap_err();
        assert!(e.contains("must follow the `--format`"), "{e}");
        let place = Placement {
            formats: vec![1],
            outputs: vec![3, 5],
        };
        let e = plan(&[Json], &[p("a"), p("b")], Some(&place)).unwrap_err();
        assert!(e.contains("has two outputs"), "{e}");
        let e = plan(&[Json, Sarif], &[p("a"), p("a")], None).unwrap_err();
        assert!(e.contains("given twice"), "{e}");
    }
}

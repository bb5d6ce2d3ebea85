//! Helm charts: `helm template` and mapping its output back to the templates.

use super::locate::{self, Step};
use super::process::{self, Failure};
use super::{
    DocInfo, Mapped, Origin, Rendered, Settings, Unit, ValueOrigin, arg, find_command, shown,
};
use crate::diag::Diagnostic;
use std::path::{Path, PathBuf};

/// The release name charts are rendered with.
pub const RELEASE: &str = "release-name";

/// Renders a chart directory or archive with `helm template`.
pub fn render(settings: &Settings, chart: &Path, unit: &Unit) -> Result<Rendered, Box<Diagnostic>> {
    let name = shown(chart);
    let wanted = settings
        .helm
        .clone()
        .unwrap_or_else(|| PathBuf::from("helm"));
    let Some(helm) = find_command(&wanted) else {
        return Err(Box::new(Diagnostic::error(
            "E1010",
            format!(
                "cannot render the helm chart `{name}`: `{}` is not installed",
                shown(&wanted)
            ),
        )
        .with_help(format!(
            "install Helm (https://helm.sh/docs/intro/install/) or give its path with `--helm PATH`; or render the chart yourself: `helm template {name} | kanon scan -`"
        ))));
    };
    let values = settings.chart_values(chart);
    let mut args = vec!["template".to_string(), RELEASE.to_string(), arg(chart)];
    for v in &values.values {
        args.push("--values".to_string());
        args.push(arg(v));
    }
    for s in &values.set {
        args.push("--set".to_string());
        args.push(s.clone());
    }
    let out = match process::run(&helm, &args, settings.timeout()) {
        Ok(o) => o,
        Err(Failure::Spawn(e)) => {
            return Err(Box::new(Diagnostic::error(
                "E1011",
                format!(
                    "cannot run `{}` for the helm chart `{name}`: {e}",
                    shown(&helm)
                ),
            )));
        }
        Err(Failure::Timeout) => {
            return Err(Box::new(
                Diagnostic::error(
                    "E1011",
                    format!(
                        "rendering the helm chart `{name}` took longer than {} seconds",
                        settings.timeout().as_secs()
                    ),
                )
                .with_help("raise the bound with `--render-timeout SECONDS`"),
            ));
        }
    };
    if !out.success {
        return Err(Box::new(
            Diagnostic::error("E1011", format!("helm cannot render the chart `{name}`"))
                .with_note(format!("helm said:\n{}", process::tail(&out.stderr)))
                .with_help(format!(
                    "run `{} {}` to see the whole error",
                    shown(&helm),
                    args.join(" ")
                )),
        ));
    }
    let mut files = Vec::new();
    if matches!(unit, Unit::Chart(_)) {
        files.push(chart.join("values.yaml"));
    }
    files.extend(values.values);
    Ok(Rendered {
        name: format!("<helm template {name}>"),
        text: out.stdout,
        origin: Origin::Helm {
            chart: match unit {
                Unit::Chart(_) => chart.to_path_buf(),
                // an archive's templates are not on disk: nothing maps back
                _ => PathBuf::new(),
            },
            values: files,
        },
    })
}

/// The template file a `# Source: CHART/templates/x.yaml` comment names, inside `chart`.
fn template_file(chart: &Path, source: &str) -> Option<PathBuf> {
    if chart.as_os_str().is_empty() {
        return None;
    }
    let rest = source.split_once('/')?.1;
    let p = chart.join(rest);
    // stay inside the chart
    let inside = Path::new(rest)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    (inside && p.is_file()).then_some(p)
}

/// Maps a node of a rendered document to its template line, and its value to the values
/// file when the line reads `{{ .Values.x.y }}`.
pub fn map(
    chart: &Path,
    values: &[PathBuf],
    doc: DocInfo<'_>,
    path: &[Step],
) -> Option<(Mapped, Option<ValueOrigin>)> {
    let file = template_file(chart, doc.helm_source?)?;
    let text = std::fs::read_to_string(&file).ok()?;
    let within = locate::document_of(&text, doc.kind, doc.name);
    let written = locate::find_written(&text, within.clone(), path);
    let range = written
        .as_ref()
        .map(|(r, _)| r.clone())
        .or_else(|| locate::object_line(&text, within))
        .unwrap_or(0..0);
    // the values expression: on the key's line, or in the action that writes its block
    // (`toYaml .Values.x`), followed by the keys the action writes
    let expr = written.and_then(|(r, action)| match action {
        None => text.get(r).and_then(values_expr),
        Some((action, rest)) => {
            let base = values_expr(action).filter(|_| action.contains("toYaml"))?;
            let mut expr = base;
            for step in rest {
                match step {
                    Step::Key(k) => {
                        expr.push('.');
                        expr.push_str(&k);
                    }
                    Step::Index(_) => return None,
                }
            }
            Some(expr)
        }
    });
    let value = expr.map(|expr| {
        let keys: Vec<Step> = expr
            .trim_start_matches(".Values.")
            .split('.')
            .map(|k| Step::Key(k.to_string()))
            .collect();
        // the last values file that sets the key wins, as in Helm
        let at = values.iter().rev().find_map(|f| {
            let t = std::fs::read_to_string(f).ok()?;
            let r = locate::find(&t, 0..t.len(), &keys)?;
            Some(Mapped {
                file: f.clone(),
                text: t,
                range: r,
            })
        });
        ValueOrigin { expr, at }
    });
    Some((Mapped { file, text, range }, value))
}

/// The `.Values.x.y` a template line writes verbatim (`{{ .Values.x.y }}`, also with a
/// `quote` or `default` pipeline after it).
fn values_expr(line: &str) -> Option<String> {
    // with two actions on the line the value has two sources: none is named
    if line.matches("{{").count() != 1 {
        return None;
    }
    let at = line.find("{{")?;
    let inner = line.get(at + 2..)?.trim_start_matches('-').trim_start();
    let inner = inner.strip_prefix("toYaml ").unwrap_or(inner).trim_start();
    let rest = inner.strip_prefix(".Values.")?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let keys = rest.get(..end)?.trim_end_matches('.');
    (!keys.is_empty()).then(|| format!(".Values.{keys}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_values_expression_is_read_from_the_line() {
        assert_eq!(
            values_expr("privileged: {{ .Values.securityContext.privileged }}").as_deref(),
            Some(".Values.securityContext.privileged")
        );
        assert_eq!(
            values_expr("image: {{- .Values.image | quote }}").as_deref(),
            Some(".Values.image")
        );
        assert_eq!(values_expr("name: {{ include \"x\" . }}"), None);
        assert_eq!(values_expr("name: web"), None);
        assert_eq!(
            values_expr("image: \"{{ .Values.a }}:{{ .Values.b }}\""),
            None
        );
    }
}

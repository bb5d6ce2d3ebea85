//! The HTML report: one self-contained file (no network, no external script, style or font)
//! for people who would rather look than read: totals by severity and by OWASP category as
//! charts, a sortable and filterable table of findings, each with its snippet, message, fix,
//! evidence chain drawn as a small graph and the rule's documentation, and what was skipped
//! and why.
//!
//! Everything is rendered here, on the server side: the table works without scripts; the
//! small inline script only sorts and filters rows that are already there, so thousands of
//! findings stay fast. Every text from the input is escaped.

use super::display_path;
use super::summary::Summary;
use crate::check::ir::{Rule, Severity};
use crate::diag::{Diagnostic, Level, SourceMap};
use crate::eval::Finding;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

/// Severities from the most to the least severe, with their colours.
const SEVERITIES: [(Severity, &str); 5] = [
    (Severity::Critical, "#8e1b1b"),
    (Severity::High, "#d9480f"),
    (Severity::Medium, "#e8a200"),
    (Severity::Low, "#3b7dd8"),
    (Severity::Info, "#6c757d"),
];

/// Rows of the table rendered together by one thread.
const ROWS: usize = 64;

/// Lines of context shown around a finding in its snippet.
const CONTEXT: usize = 2;
/// Most lines a snippet shows.
const MAX_SNIPPET: usize = 14;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let bytes = s.as_bytes();
    // runs of ordinary text are copied whole; a byte that may start something to replace
    // (an HTML special, a C0 control or DEL, the first byte of a C1 control) ends a run
    let mut from = 0;
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let replacement = match b {
            b'&' => Some("&amp;"),
            b'<' => Some("&lt;"),
            b'>' => Some("&gt;"),
            b'"' => Some("&quot;"),
            b'\'' => Some("&#39;"),
            b'\t' | b'\n' => None,
            0..0x20 | 0x7f => Some("?"),
            // U+0080 to U+009F: C1 controls, written as `0xC2 0x80..=0x9F`
            0xc2 if bytes.get(at + 1).is_some_and(|n| (0x80..=0x9f).contains(n)) => Some("?"),
            _ => None,
        };
        match replacement {
            Some(r) => {
                out.push_str(s.get(from..at).unwrap_or(""));
                out.push_str(r);
                at += if b == 0xc2 { 2 } else { 1 };
                from = at;
            }
            None => at += 1,
        }
    }
    out.push_str(s.get(from..).unwrap_or(""));
    out
}

/// Inline markdown of rule docs: `code`, **bold** and links as text, escaped.
fn inline(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            out.push_str(&escape(part).replace("**", ""));
        }
    }
    out
}

/// The small markdown subset rule docs use: `##` headings, paragraphs, `-` lists.
pub fn markdown(doc: &str) -> String {
    let mut out = String::new();
    let mut para: Vec<&str> = Vec::new();
    let mut in_list = false;
    let flush = |out: &mut String, para: &mut Vec<&str>| {
        if !para.is_empty() {
            let _ = write!(out, "<p>{}</p>", inline(&para.join(" ")));
            para.clear();
        }
    };
    for line in doc.lines() {
        let t = line.trim();
        let item = t.strip_prefix("- ").or_else(|| t.strip_prefix("* "));
        if in_list && item.is_none() {
            out.push_str("</ul>");
            in_list = false;
        }
        if let Some(h) = t.strip_prefix('#') {
            flush(&mut out, &mut para);
            let _ = write!(out, "<h4>{}</h4>", inline(h.trim_start_matches('#').trim()));
        } else if let Some(item) = item {
            flush(&mut out, &mut para);
            if !in_list {
                out.push_str("<ul>");
                in_list = true;
            }
            let _ = write!(out, "<li>{}</li>", inline(item));
        } else if t.is_empty() {
            flush(&mut out, &mut para);
        } else {
            para.push(t);
        }
    }
    flush(&mut out, &mut para);
    if in_list {
        out.push_str("</ul>");
    }
    out
}

fn colour(s: Severity) -> &'static str {
    SEVERITIES
        .iter()
        .find(|(x, _)| *x == s)
        .map_or("#6c757d", |(_, c)| c)
}

fn rank(s: Severity) -> usize {
    SEVERITIES.iter().position(|(x, _)| *x == s).unwrap_or(0)
}

/// A horizontal bar chart as inline SVG: one bar per `(label, count, colour)`.
fn bar_chart(title: &str, bars: &[(String, usize, &str)]) -> String {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let row = 24;
    let height = bars.len() * row + 8;
    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" width=\"420\" height=\"{height}\" viewBox=\"0 0 420 {height}\">",
        escape(title),
        escape(title)
    );
    for (i, (label, n, c)) in bars.iter().enumerate() {
        let y = i * row + 4;
        let w = (n * 250).div_ceil(max).max(usize::from(*n > 0) * 2);
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" class=\"lbl\">{}</text><rect class=\"bar\" x=\"110\" y=\"{y}\" width=\"{w}\" height=\"18\" fill=\"{c}\"><title>{}: {n}</title></rect><text x=\"{}\" y=\"{}\" class=\"num\">{n}</text>",
            y + 14,
            escape(label),
            escape(label),
            115 + w,
            y + 14
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

/// The evidence chain as a small graph: the finding's object, then each evidence object
/// (workload, service account, binding, role...), joined by arrows.
fn evidence_graph(f: &Finding) -> String {
    if f.evidence.is_empty() {
        return String::new();
    }
    let qualified = |ns: Option<&str>, name: &str| match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    };
    let mut nodes: Vec<(String, String, Option<String>)> = vec![(
        f.resource.kind.to_string(),
        qualified(f.resource.namespace.as_deref(), &f.resource.name),
        Some(format!("{}:{}", f.location.file, f.location.line)),
    )];
    for e in &f.evidence {
        let node = (
            e.kind.to_string(),
            qualified(e.namespace.as_deref(), &e.name),
            e.location
                .as_ref()
                .map(|l| format!("{}:{}", l.file, l.line)),
        );
        // the chain often starts at the finding's own object
        if nodes.iter().any(|n| n.0 == node.0 && n.1 == node.1) {
            continue;
        }
        nodes.push(node);
    }
    if nodes.len() < 2 {
        return String::new();
    }
    let (w, gap, h) = (170, 36, 46);
    let width = nodes.len() * (w + gap) - gap + 2;
    let mut svg = format!(
        "<svg class=\"evidence\" role=\"img\" aria-label=\"evidence chain\" width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\">",
        h + 2,
        h + 2
    );
    let clip = |s: &str, n: usize| -> String {
        if s.chars().count() > n {
            let mut t: String = s.chars().take(n - 1).collect();
            t.push('…');
            t
        } else {
            s.to_string()
        }
    };
    for (i, (kind, name, loc)) in nodes.iter().enumerate() {
        let x = i * (w + gap) + 1;
        if i > 0 {
            let _ = write!(
                svg,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"edge\"/><polygon points=\"{},{} {},{} {},{}\" class=\"arrow\"/>",
                x - gap,
                h / 2 + 1,
                x - 6,
                h / 2 + 1,
                x - 6,
                h / 2 - 4,
                x,
                h / 2 + 1,
                x - 6,
                h / 2 + 6
            );
        }
        let title = match loc {
            Some(l) => format!("{kind} {name} ({l})"),
            None => format!("{kind} {name} (not in the input)"),
        };
        let _ = write!(
            svg,
            "<g class=\"node\"><title>{}</title><rect x=\"{x}\" y=\"1\" width=\"{w}\" height=\"{h}\" rx=\"6\"/><text x=\"{}\" y=\"19\" class=\"kind\">{}</text><text x=\"{}\" y=\"36\">{}</text></g>",
            escape(&title),
            x + 8,
            escape(&clip(kind, 24)),
            x + 8,
            escape(&clip(name, 24))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The lines around a finding, the offending ones marked.
fn snippet(f: &Finding, sources: &SourceMap) -> String {
    let Some(file) = sources.file(f.location.span.file) else {
        return String::new();
    };
    let (first, last) = (
        f.location.line as usize,
        f.location.end_line.max(f.location.line) as usize,
    );
    let from = first.saturating_sub(CONTEXT).max(1);
    let to = (last + CONTEXT).min(from + MAX_SNIPPET - 1);
    let mut out = String::from("<pre class=\"snippet\">");
    for n in from..=to {
        let text = file.line_text(n - 1);
        if n > first && text.is_empty() && n > last {
            break;
        }
        let hit = (first..=last).contains(&n);
        let _ = writeln!(
            out,
            "<span class=\"ln{}\"><span class=\"no\">{n:>5}</span> {}</span>",
            if hit { " hit" } else { "" },
            escape(text)
        );
    }
    out.push_str("</pre>");
    out
}

const STYLE: &str = r#"
:root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f6f7f9}
body{margin:0 auto;max-width:1200px;padding:16px 24px}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .4em}h4{margin:.6em 0 .2em}
.meta{color:#555}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{background:#fff;border-radius:8px;padding:10px 16px;box-shadow:0 1px 2px #0002;min-width:90px}
.card b{display:block;font-size:1.6em}.charts{display:flex;gap:24px;flex-wrap:wrap}
.chart{background:#fff;border-radius:8px;padding:10px 14px;margin:0;box-shadow:0 1px 2px #0002}
.chart figcaption{font-weight:600;margin-bottom:6px}.lbl,.num{font-size:12px;fill:#333}
.controls{display:flex;gap:8px;flex-wrap:wrap;margin:8px 0}.controls input,.controls select{padding:4px 6px}
table{width:100%;table-layout:fixed;border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0002}
th,td{text-align:left;padding:5px 8px;overflow-wrap:anywhere;border-bottom:1px solid #e4e6ea;vertical-align:top;font-size:14px}
th{background:#eef0f3;cursor:pointer;user-select:none;white-space:nowrap}th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
.sev{color:#fff;border-radius:4px;padding:1px 6px;font-size:12px;white-space:nowrap}
tr.detail>td{background:#fafbfc;padding:8px 16px}details>summary{cursor:pointer}
.snippet{background:#1e2230;color:#e6e6e6;padding:8px;border-radius:6px;overflow:auto;font-size:12.5px;line-height:1.35}
.snippet .no{color:#7f8594}.snippet .hit{background:#5b2a2a;display:inline-block;min-width:100%}
.fix{background:#e9f6ec;border-left:4px solid #2f9e44;padding:4px 8px}
.evidence .node rect{fill:#eef3ff;stroke:#3b5bdb}.evidence text{font-size:12px;fill:#1d2330}.evidence .kind{font-weight:600}
.evidence .edge{stroke:#3b5bdb;stroke-width:1.5}.evidence .arrow{fill:#3b5bdb}
code{background:#eef0f3;padding:0 3px;border-radius:3px}.docs{font-size:14px}
th[data-key=rank]{width:80px}th[data-key=rule]{width:78px}th[data-key=object]{width:20%}th[data-key=file]{width:24%}
.skipped li{margin:2px 0}.empty{padding:16px;background:#fff;border-radius:8px}
"#;

const SCRIPT: &str = r#"
(function(){
var table=document.getElementById('findings');if(!table){document.documentElement.setAttribute('data-ready','1');return;}
var body=table.tBodies[0];
var rows=Array.prototype.slice.call(body.querySelectorAll('tr.finding'));
var q=document.getElementById('q'),sev=document.getElementById('sev'),rule=document.getElementById('rule'),shown=document.getElementById('shown');
function apply(){var t=q.value.toLowerCase(),s=sev.value,r=rule.value,n=0;
rows.forEach(function(tr){var ok=(!s||tr.dataset.severity===s)&&(!r||tr.dataset.rule===r)&&(!t||tr.dataset.text.indexOf(t)>=0);
tr.hidden=!ok;tr.detailRow.hidden=!ok;if(ok)n++;});shown.textContent=n;}
[q,sev,rule].forEach(function(e){e.addEventListener('input',apply);});
var ths=table.tHead.rows[0].cells;
Array.prototype.forEach.call(ths,function(th,i){th.addEventListener('click',function(){
var asc=th.getAttribute('aria-sort')!=='ascending';
Array.prototype.forEach.call(ths,function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');
var key=th.dataset.key;
rows.sort(function(a,b){var x=a.dataset[key],y=b.dataset[key];
var c=(key==='line'||key==='rank')?(+x)-(+y):(x<y?-1:x>y?1:0);if(c===0)c=(+a.dataset.order)-(+b.dataset.order);return asc?c:-c;});
var frag=document.createDocumentFragment();rows.forEach(function(tr){frag.appendChild(tr);frag.appendChild(tr.detailRow);});body.appendChild(frag);});});
rows.forEach(function(tr){tr.detailRow=tr.nextElementSibling;});
var h={};location.hash.replace(/^#/,'').split('&').forEach(function(p){var i=p.indexOf('=');if(i>0)h[p.slice(0,i)]=decodeURIComponent(p.slice(i+1));});
if(h.q)q.value=h.q;if(h.severity)sev.value=h.severity;if(h.rule)rule.value=h.rule;
if(h.sort){Array.prototype.forEach.call(ths,function(th){if(th.dataset.key===h.sort){th.click();if(h.dir==='desc')th.click();}});}
apply();
})();
document.documentElement.setAttribute('data-ready','1');
"#;

/// Everything the HTML report shows.
pub struct Report<'a> {
    /// The rules that ran (for their documentation).
    pub rules: &'a [Rule],
    /// The findings, sorted.
    pub findings: &'a [Finding],
    /// Rule, input and graph diagnostics.
    pub diagnostics: &'a [Diagnostic],
    /// Every file read.
    pub sources: &'a SourceMap,
    /// The totals.
    pub summary: &'a Summary,
    /// The directory file names are shown relative to.
    pub base: Option<&'a Path>,
}

/// Writes the report.
pub fn write(w: &mut dyn Write, r: &Report<'_>) -> io::Result<()> {
    let rules: BTreeMap<&str, &Rule> = r.rules.iter().map(|x| (x.id.as_str(), x)).collect();
    let mut head = String::with_capacity(16 * 1024);
    head.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\"><title>kanon report</title><style>");
    head.push_str(STYLE);
    head.push_str("</style></head><body>\n<h1>kanon report</h1>");
    let _ = write!(
        head,
        "<p class=\"meta\">{}</p>",
        escape(r.summary.text().trim()).replace('\n', "<br>")
    );

    // totals
    let total = r.findings.len();
    head.push_str("<section class=\"cards\" id=\"totals\">");
    let _ = write!(
        head,
        "<div class=\"card\" data-severity=\"all\"><b>{total}</b>findings</div>"
    );
    let mut by_sev: BTreeMap<usize, usize> = BTreeMap::new();
    for f in r.findings {
        *by_sev.entry(rank(f.severity)).or_default() += 1;
    }
    for (i, (s, c)) in SEVERITIES.iter().enumerate() {
        let n = by_sev.get(&i).copied().unwrap_or(0);
        let _ = write!(
            head,
            "<div class=\"card\" data-severity=\"{s}\" style=\"border-top:4px solid {c}\"><b>{n}</b>{s}</div>"
        );
    }
    head.push_str("</section>");

    // charts
    let sev_bars: Vec<(String, usize, &str)> = SEVERITIES
        .iter()
        .enumerate()
        .map(|(i, (s, c))| (s.to_string(), by_sev.get(&i).copied().unwrap_or(0), *c))
        .collect();
    let mut by_cat: BTreeMap<&str, usize> = BTreeMap::new();
    for f in r.findings {
        for c in f.rule.owasp.iter() {
            *by_cat.entry(c.as_str()).or_default() += 1;
        }
    }
    head.push_str("<section class=\"charts\">");
    head.push_str(&bar_chart("Findings by severity", &sev_bars));
    for edition in ["2022", "2025"] {
        let bars: Vec<(String, usize, &str)> = by_cat
            .iter()
            .filter(|(c, _)| c.ends_with(edition))
            .map(|(c, n)| ((*c).to_string(), *n, "#3b5bdb"))
            .collect();
        if !bars.is_empty() {
            head.push_str(&bar_chart(
                &format!("Findings by OWASP Kubernetes Top 10 ({edition})"),
                &bars,
            ));
        }
    }
    head.push_str("</section>");
    w.write_all(head.as_bytes())?;

    // the table
    if r.findings.is_empty() {
        w.write_all(b"<h2>Findings</h2><p class=\"empty\" id=\"no-findings\">No findings.</p>")?;
    } else {
        let mut ids: Vec<&str> = r.findings.iter().map(|f| &*f.rule.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut t = String::from(
            "<h2>Findings</h2><div class=\"controls\"><input id=\"q\" type=\"search\" placeholder=\"filter: text, object, file\" aria-label=\"filter\"><select id=\"sev\" aria-label=\"severity\"><option value=\"\">every severity</option>",
        );
        for (s, _) in SEVERITIES {
            let _ = write!(t, "<option value=\"{s}\">{s}</option>");
        }
        t.push_str("</select><select id=\"rule\" aria-label=\"rule\"><option value=\"\">every rule</option>");
        for id in &ids {
            let title = rules.get(id).map_or("", |x| x.title.as_str());
            let _ = write!(
                t,
                "<option value=\"{}\">{} {}</option>",
                escape(id),
                escape(id),
                escape(title)
            );
        }
        let _ = write!(
            t,
            "</select><span><span id=\"shown\">{total}</span> of {total} shown</span></div><table id=\"findings\"><thead><tr><th data-key=\"rank\">severity</th><th data-key=\"rule\">rule</th><th data-key=\"object\">object</th><th data-key=\"file\">location</th><th data-key=\"message\">message</th></tr></thead><tbody>"
        );
        w.write_all(t.as_bytes())?;
        // the rows of a chunk on every thread, written in order
        let numbered: Vec<(usize, &Finding)> = r.findings.iter().enumerate().collect();
        super::write_chunked(w, &numbered, ROWS, |chunk| {
            let mut rows = String::with_capacity(chunk.len() * 8192);
            for (i, f) in chunk {
                write_row(&mut rows, *i, f, r);
            }
            Ok(rows.into_bytes())
        })?;
        w.write_all(b"</tbody></table>")?;
    }

    // rules
    let mut tail = String::from("<h2>Rules with findings</h2><div class=\"docs\" id=\"rules\">");
    let mut seen: Vec<&str> = r.findings.iter().map(|f| &*f.rule.id).collect();
    seen.sort_unstable();
    seen.dedup();
    for id in seen {
        let Some(rule) = rules.get(id) else { continue };
        let _ = write!(
            tail,
            "<details class=\"rule\" id=\"rule-{}\"><summary><b>{}</b> {} <span class=\"sev\" style=\"background:{}\">{}</span> {}</summary>{}</details>",
            escape(id),
            escape(id),
            escape(&rule.title),
            colour(rule.severity),
            rule.severity,
            escape(&rule.owasp.join(", ")),
            markdown(&rule.docs)
        );
    }
    tail.push_str("</div>");

    // what was skipped and why
    tail.push_str("<h2>Skipped and diagnostics</h2><ul class=\"skipped\" id=\"skipped\">");
    let mut any = false;
    for (reason, n) in &r.summary.documents_skipped {
        any = true;
        let _ = write!(tail, "<li>{n} document(s) skipped: {}</li>", escape(reason));
    }
    for d in r.diagnostics {
        any = true;
        let level = match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let at = d
            .primary
            .as_ref()
            .map(|p| {
                let (line, col) = r.sources.line_col(p.span);
                format!(
                    "{}:{line}:{col}: ",
                    display_path(r.sources.name(p.span.file), r.base)
                )
            })
            .unwrap_or_default();
        let help = d
            .help
            .as_deref()
            .map(|h| format!(" (help: {})", escape(h)))
            .unwrap_or_default();
        let _ = write!(
            tail,
            "<li class=\"diag {level}\">{}{level}[{}]: {}{help}</li>",
            escape(&at),
            d.code,
            escape(&d.message)
        );
    }
    if !any {
        tail.push_str("<li>Nothing was skipped.</li>");
    }
    tail.push_str("</ul>\n<script>");
    tail.push_str(SCRIPT);
    tail.push_str("</script></body></html>\n");
    w.write_all(tail.as_bytes())
}

fn write_row(out: &mut String, i: usize, f: &Finding, r: &Report<'_>) {
    let file = display_path(&f.location.file, r.base);
    let ns = super::ns_prefix(f.resource.namespace.as_deref());
    let object = format!("{} {ns}{}", f.resource.kind, f.resource.name);
    let text = format!(
        "{} {} {object} {file} {}",
        f.rule.id, f.rule.title, f.message
    )
    .to_lowercase();
    let _ = write!(
        out,
        "<tr class=\"finding\" data-order=\"{i}\" data-rank=\"{}\" data-severity=\"{}\" data-rule=\"{}\" data-object=\"{}\" data-file=\"{}\" data-line=\"{}\" data-message=\"{}\" data-text=\"{}\"><td><span class=\"sev\" style=\"background:{}\">{}</span></td><td><a href=\"#rule-{}\">{}</a></td><td>{}</td><td>{}:{}:{}</td><td>{}</td></tr>",
        rank(f.severity),
        f.severity,
        escape(&f.rule.id),
        escape(&object),
        escape(&file),
        f.location.line,
        escape(&f.message.to_string()),
        escape(&text),
        colour(f.severity),
        f.severity,
        escape(&f.rule.id),
        escape(&f.rule.id),
        escape(&object),
        escape(&file),
        f.location.line,
        f.location.column,
        inline(&f.message.to_string())
    );
    let _ = write!(
        out,
        "<tr class=\"detail\"><td colspan=\"5\"><details><summary>{} — snippet, fix and evidence</summary>",
        escape(&f.rule.title)
    );
    out.push_str(&snippet(f, r.sources));
    if !f.rule.fix.is_empty() {
        let _ = write!(out, "<p class=\"fix\">Fix: {}</p>", inline(&f.rule.fix));
    }
    if let Some(h) = &f.resource.helm_source {
        let _ = write!(out, "<p>From Helm template <code>{}</code></p>", escape(h));
    }
    out.push_str(&evidence_graph(f));
    out.push_str("</details></td></tr>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_text_is_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>\u{1b}[31m"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;?[31m"
        );
    }

    /// Every character, alone and between ordinary text, is escaped as a character at a
    /// time would escape it: the five HTML specials as entities, the C0 and C1 controls
    /// (but tab and line feed) and DEL as `?`, everything else as it is.
    #[test]
    fn escape_agrees_with_every_character() {
        let one = |c: char| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c if c.is_control() && c != '\t' && c != '\n' => "?".to_owned(),
            c => c.to_string(),
        };
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            assert_eq!(escape(&c.to_string()), one(c), "{c:?}");
            if u32::from(c) < 0x800 {
                let mixed = format!("é{c}ok\u{85}\t<");
                let want: String = mixed.chars().map(one).collect();
                assert_eq!(escape(&mixed), want, "{c:?}");
            }
        }
    }

    #[test]
    fn rule_docs_markdown_subset() {
        let html = markdown(
            "## What it flags\nPods that set `hostPID: true`\nand more.\n\n- one <b>\n- two\n\nafter",
        );
        assert_eq!(
            html,
            "<h4>What it flags</h4><p>Pods that set <code>hostPID: true</code> and more.</p><ul><li>one &lt;b&gt;</li><li>two</li></ul><p>after</p>"
        );
    }

    #[test]
    fn bars_scale_to_the_largest() {
        let svg = bar_chart("t", &[("a".into(), 10, "#000"), ("b".into(), 5, "#000")]);
        assert!(svg.contains("width=\"250\""), "{svg}");
        assert!(svg.contains("width=\"125\""), "{svg}");
    }
}

//! The report page: a header, the training curves, the sample grids over time, the latest
//! evaluation, every experiment's output and the resolved config, each section present only
//! when the run has it.

use std::fmt::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

use super::contents::{Contents, Output};
use super::curves::curves;
use super::html::{escape, json, markdown, png_img};
use super::stamp;
use crate::eval::report::EvalReport;
use crate::paper::continual::report::ContinualReport;
use crate::paper::plan::report::{PlanEntry, table as plan_table};
use crate::run::metrics::{self, MetricsLine};

const STYLE: &str = "body{font-family:sans-serif;margin:16px 24px;color:#222;background:#fff}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;border-bottom:1px solid #ccc;margin-top:28px}\
h3{font-size:15px}.curves{display:grid;grid-template-columns:repeat(3,1fr);gap:8px}\
.curves img{width:100%;height:auto}.grids{display:flex;flex-wrap:wrap;gap:12px}\
figure{margin:0}figcaption{font-size:12px;color:#555}img{image-rendering:pixelated;max-width:100%}\
table{border-collapse:collapse;margin:6px 0;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;\
text-align:left;vertical-align:top}th{background:#f2f2f2}table.kv>tbody>tr>th{background:#fafafa}\
.note{color:#666;font-size:13px}";

/// Reports images that did not decode on the console, so a browser test sees them.
const CHECK: &str = "window.addEventListener('load',function(){document.querySelectorAll('img')\
.forEach(function(i){if(!(i.complete&&i.naturalWidth>0))console.error('image did not load: '+i.alt);});});";

/// The live view asks for the run's stamp every two seconds and reloads when it changed.
const LIVE: &str = "(function(){var s=document.querySelector('meta[name=ebm-stamp]').content;\
setInterval(function(){fetch('stamp',{cache:'no-store'}).then(function(r){return r.text();})\
.then(function(t){if(t&&t!==s)location.reload();}).catch(function(){});},2000);})();";

/// The report of the run in `run` as one HTML page; `live` adds the refresh of the live view.
pub fn render(run: &Path, live: bool) -> Result<String> {
    let contents = Contents::scan(run)?;
    let config = match &contents.config {
        Some(p) => Some(read_json(p)?),
        None => None,
    };
    let lines = match &contents.metrics {
        Some(p) => metrics::read(p)?,
        None => Vec::new(),
    };
    let name = run
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| run.display().to_string());
    let mut body = String::new();
    let _ = write!(body, "<h1>{}</h1>", escape(&name));
    body += &summary(config.as_ref(), lines.last());
    if live {
        body += "<p class=\"note\">Live view: the page reloads when the run writes metrics, samples or results.</p>";
    }
    let charts = curves(&lines)?;
    if !charts.is_empty() {
        body += "<h2 id=\"curves\">Training curves</h2><div class=\"curves\">";
        for c in &charts {
            body += &png_img(&c.png, &c.title);
        }
        body += "</div>";
    }
    if !contents.grids.is_empty() {
        body += "<h2 id=\"samples\">Samples over training</h2><div class=\"grids\">";
        for g in &contents.grids {
            let bytes = std::fs::read(g).with_context(|| format!("reading {}", g.display()))?;
            let label = grid_label(g);
            let _ = write!(
                body,
                "<figure>{}<figcaption>{}</figcaption></figure>",
                png_img(&bytes, &label),
                escape(&label)
            );
        }
        body += "</div>";
    }
    if let Some(p) = &contents.eval {
        body += "<h2 id=\"eval\">Evaluation (eval.json)</h2>";
        let value = read_json(p)?;
        match serde_json::from_value::<EvalReport>(value.clone()) {
            Ok(report) => body += &markdown(&report.table()),
            Err(_) => body += &json(&value),
        }
    }
    if !contents.outputs.is_empty() {
        body += "<h2 id=\"experiments\">Experiments</h2>";
        for output in &contents.outputs {
            body += &experiment(output)?;
        }
    }
    if let Some(c) = &config {
        body += "<h2 id=\"config\">Resolved config (config.json)</h2>";
        body += &json(c);
    }
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"ebm-stamp\" content=\"{}\"><title>{} - ebm report</title>\
         <style>{STYLE}</style></head>\n<body data-metrics-lines=\"{}\" data-grids=\"{}\">\n{body}\n\
         <script>{CHECK}{}</script></body></html>\n",
        stamp(run),
        escape(&name),
        lines.len(),
        contents.grids.len(),
        if live { LIVE } else { "" }
    ))
}

/// One line under the title: what was trained, how far, and the latest numbers.
fn summary(config: Option<&Value>, last: Option<&MetricsLine>) -> String {
    let mut parts = Vec::new();
    if let Some(c) = config {
        let field = |k: &str| {
            c.get(k)
                .map(|v| v.to_string().trim_matches('"').to_string())
        };
        if let (Some(p), Some(d)) = (field("preset"), field("dataset")) {
            parts.push(format!("preset {p} on {d}"));
        }
        // A time-limited run's iteration count is "no limit" (usize::MAX).
        if let Some(n) = c.get("iterations").and_then(Value::as_u64)
            && n < u64::MAX / 2
        {
            parts.push(format!("{n} iterations configured"));
        }
        if let Some(t) = c.get("time_limit_secs").and_then(Value::as_f64) {
            parts.push(format!("time limit {t:.0} s"));
        }
    }
    if let Some(m) = last {
        parts.push(format!(
            "logged up to iteration {} after {:.0} s of training: E+ {:+.4}, E- {:+.4}, loss {:+.4}",
            m.iteration, m.seconds, m.e_pos, m.e_neg, m.loss
        ));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("<p class=\"note\">{}</p>", escape(&parts.join("; ")))
}

/// One experiment's section: its table (the command's own where the JSON is one this version
/// knows, else the JSON as tables) and its pictures.
fn experiment(output: &Output) -> Result<String> {
    let mut out = format!("<h3>{}</h3>", escape(&output.stem));
    if let Some(p) = &output.json {
        let value = read_json(p)?;
        let own = if output.stem == "continual" {
            serde_json::from_value::<ContinualReport>(value.clone())
                .ok()
                .map(|r| r.table())
        } else if output.stem == "plan" {
            serde_json::from_value::<Vec<PlanEntry>>(value.clone())
                .ok()
                .map(|e| plan_table(&e))
        } else {
            None
        };
        match own {
            Some(table) => {
                out += &markdown(&table);
                let _ = write!(
                    out,
                    "<details><summary>{} in full</summary>{}</details>",
                    escape(&file_name(p)),
                    json(&value)
                );
            }
            None => out += &json(&value),
        }
    }
    for pic in &output.pictures {
        let bytes = std::fs::read(pic).with_context(|| format!("reading {}", pic.display()))?;
        let _ = write!(
            out,
            "<figure>{}<figcaption>{}</figcaption></figure>",
            png_img(&bytes, &file_name(pic)),
            escape(&file_name(pic))
        );
    }
    Ok(out)
}

/// `iter-00000200.png` is "iteration 200", `final.png` "final".
fn grid_label(p: &Path) -> String {
    let stem = p
        .file_stem()
        .map_or(String::new(), |s| s.to_string_lossy().into_owned());
    match stem.strip_prefix("iter-").map(str::parse::<usize>) {
        Some(Ok(n)) => format!("iteration {n}"),
        _ => stem,
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned())
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

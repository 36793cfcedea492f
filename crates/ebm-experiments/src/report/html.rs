//! HTML pieces of the report: escaping, inline images, markdown tables (the commands' own
//! tables) and any JSON as nested tables, long arrays folded away.

use std::fmt::Write;

use base64::Engine;
use serde_json::Value;

/// Arrays longer than this are shown folded (ROC curves, trajectories), not as rows.
const MAX_ROWS: usize = 24;

/// `text` with `&`, `<`, `>` and `"` escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// An `<img>` with the PNG `bytes` inline as a data URI.
pub fn png_img(bytes: &[u8], alt: &str) -> String {
    format!(
        "<img alt=\"{}\" src=\"data:image/png;base64,{}\">",
        escape(alt),
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Markdown as the commands print it (paragraphs and `|`-tables) to HTML.
pub fn markdown(text: &str) -> String {
    let mut out = String::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let flush = |rows: &mut Vec<Vec<String>>, out: &mut String| {
        if rows.is_empty() {
            return;
        }
        out.push_str("<table>");
        for (i, row) in rows.iter().enumerate() {
            let tag = if i == 0 { "th" } else { "td" };
            out.push_str("<tr>");
            for cell in row {
                let _ = write!(out, "<{tag}>{}</{tag}>", escape(cell));
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>\n");
        rows.clear();
    };
    for line in text.lines().map(str::trim) {
        if let Some(inner) = line.strip_prefix('|') {
            let cells: Vec<String> = inner
                .trim_end_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            let separator = cells
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')));
            if !separator {
                rows.push(cells);
            }
            continue;
        }
        flush(&mut rows, &mut out);
        if !line.is_empty() {
            let _ = writeln!(out, "<p>{}</p>", escape(line));
        }
    }
    flush(&mut rows, &mut out);
    out
}

/// Any JSON value as HTML: objects as key/value tables, arrays of objects as tables with a
/// column per key, short arrays inline, long ones folded with their length.
pub fn json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut out = String::from("<table class=\"kv\">");
            for (k, v) in map {
                let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", escape(k), json(v));
            }
            out + "</table>"
        }
        Value::Array(items) if items.len() > MAX_ROWS => format!(
            "<details><summary>{} items</summary><code>{}</code></details>",
            items.len(),
            escape(&abbreviated(value))
        ),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            records(items)
        }
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
            escape(&value.to_string())
        }
        Value::Array(items) => items.iter().map(json).collect::<Vec<_>>().join("<br>"),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => escape(&format_number(f)),
            _ => n.to_string(),
        },
        Value::String(s) => escape(s),
        other => other.to_string(),
    }
}

/// A table with one row per object and one column per key (in order of first appearance).
fn records(items: &[Value]) -> String {
    let mut keys: Vec<&str> = Vec::new();
    for item in items {
        for k in item.as_object().into_iter().flat_map(|m| m.keys()) {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    let mut out = String::from("<table><tr>");
    for k in &keys {
        let _ = write!(out, "<th>{}</th>", escape(k));
    }
    out.push_str("</tr>");
    for item in items {
        out.push_str("<tr>");
        for k in &keys {
            let cell = item.get(*k).map_or(String::new(), json);
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out + "</table>"
}

/// Four significant digits, the way the tables print them.
fn format_number(f: f64) -> String {
    if f == 0.0 || (1e-3..1e5).contains(&f.abs()) {
        let s = format!("{f:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{f:.3e}")
    }
}

/// The first characters of a long value's JSON.
fn abbreviated(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(400) {
        Some((i, _)) => format!("{} ...", &text[..i]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_tables_become_html_tables() {
        let html = markdown("title <x>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert_eq!(
            html,
            "<p>title &lt;x&gt;</p>\n<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>\n"
        );
    }

    #[test]
    fn json_objects_records_and_long_arrays() {
        let v: Value = serde_json::json!({
            "sets": [{"name": "uniform", "auroc": 0.98765}, {"name": "svhn", "auroc": 0.5}],
            "curve": (0..100).collect::<Vec<_>>(),
            "eps": [0.0, 0.1],
        });
        let html = json(&v);
        // serde_json keeps keys sorted.
        assert!(html.contains("<th>auroc</th><th>name</th>"), "{html}");
        assert!(html.contains("<td>0.9877</td>"), "{html}");
        assert!(html.contains("<summary>100 items</summary>"), "{html}");
        assert!(html.contains("[0.0,0.1]"), "{html}");
    }
}

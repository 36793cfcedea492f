//! `ebm report`: a run directory as one self-contained HTML page (every image inline as a
//! data URI, no script or style fetched from anywhere), and the live view that serves it
//! while a run trains.
//!
//! `contents.rs` finds the pieces of a run, `curves.rs` draws the training curves,
//! `html.rs` turns tables and JSON into HTML, `page.rs` lays the page out, `serve.rs` is the
//! live view.

pub mod contents;
pub mod curves;
pub mod html;
pub mod page;
pub mod serve;

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result};

pub use contents::Contents;
pub use page::render;

/// Where `ebm report RUN` writes the page unless told `--out`.
pub fn default_out(run: &Path) -> PathBuf {
    run.join("report.html")
}

/// Writes the report of `run` to `out` (static: no live refresh).
pub fn write(run: &Path, out: &Path) -> Result<()> {
    let html = render(run, false)?;
    std::fs::write(out, html).with_context(|| format!("writing {}", out.display()))
}

/// A fingerprint of the run directory's reported files (names, sizes, modification times):
/// it changes when metrics, grids, the evaluation or an experiment's output arrive.
pub fn stamp(run: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut add = |path: &Path| {
        if let Ok(meta) = std::fs::metadata(path) {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_millis());
            parts.push(format!("{}:{}:{modified}", path.display(), meta.len()));
        }
    };
    for dir in [run.to_path_buf(), run.join("samples")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files.iter().filter(|f| {
            f.is_file()
                && matches!(
                    f.extension().and_then(|e| e.to_str()),
                    Some("json" | "jsonl" | "png")
                )
        }) {
            add(f);
        }
    }
    // FNV-1a of the listing: short, and the same listing gives the same stamp.
    let hash = parts
        .join("\n")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{hash:016x}")
}

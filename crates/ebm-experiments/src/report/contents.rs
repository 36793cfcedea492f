//! What a run directory holds that the report shows: found by name, each piece optional.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::run::paths::RunPaths;

/// Sample grids shown at most (evenly spaced over training, the last always among them).
pub const MAX_GRIDS: usize = 12;

/// How the JSON files of the experiment commands begin: a directory with one of them (and no
/// training run) is an experiment's output folder. Every JSON and PNG is shown, these or not.
const EXPERIMENTS: [&str; 7] = [
    "ood",
    "robust-",
    "crossclass-",
    "inpaint-",
    "continual",
    "plan",
    "compose",
];

/// One experiment's output: its JSON and the pictures named after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// File stem of the JSON (`ood`, `robust-linf`, `crossclass-3-8`, `continual`, ...).
    pub stem: String,
    /// The JSON file, if any (a picture may come without one).
    pub json: Option<PathBuf>,
    /// Pictures: `<stem>.png` and `<stem>-*.png`.
    pub pictures: Vec<PathBuf>,
}

/// The pieces of a run directory, each optional.
#[derive(Clone, Debug, Default)]
pub struct Contents {
    /// `config.json`.
    pub config: Option<PathBuf>,
    /// `metrics.jsonl`.
    pub metrics: Option<PathBuf>,
    /// `eval.json`.
    pub eval: Option<PathBuf>,
    /// Sample grids, oldest first (`samples/iter-*.png`, then `samples/final.png`).
    pub grids: Vec<PathBuf>,
    /// The experiments' outputs, by stem.
    pub outputs: Vec<Output>,
}

impl Contents {
    /// Scans `dir`. A directory with neither a training run's files nor any experiment output
    /// is an error, as is one that does not exist.
    pub fn scan(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            bail!("{} is not a directory", dir.display());
        }
        let paths = RunPaths::new(dir);
        let file = |p: PathBuf| p.is_file().then_some(p);
        let mut contents = Contents {
            config: file(paths.config()),
            metrics: file(paths.metrics()),
            eval: file(dir.join("eval.json")),
            grids: grids(&paths.samples())?,
            outputs: Vec::new(),
        };
        let (mut jsons, mut pngs) = (Vec::new(), Vec::new());
        for path in sorted_files(dir)? {
            match path.extension().and_then(|e| e.to_str()) {
                Some("json") if !matches!(name(&path), "config.json" | "eval.json") => {
                    jsons.push(path)
                }
                Some("png") => pngs.push(path),
                _ => {}
            }
        }
        contents.outputs = pair(jsons, pngs);
        let experiment = contents
            .outputs
            .iter()
            .any(|o| o.json.is_some() && EXPERIMENTS.iter().any(|e| o.stem.starts_with(e)));
        if contents.config.is_none() && contents.metrics.is_none() && !experiment {
            bail!(
                "{} is not a run directory: no config.json, metrics.jsonl or experiment output ({}*.json) in it",
                dir.display(),
                EXPERIMENTS.join("*.json, ")
            );
        }
        Ok(contents)
    }
}

fn name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

fn stem(path: &Path) -> &str {
    path.file_stem().and_then(|n| n.to_str()).unwrap_or("")
}

/// The plain files of `dir`, by name.
fn sorted_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("listing {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// The sample grids in training order, thinned to [`MAX_GRIDS`] (the last one always kept).
fn grids(samples: &Path) -> Result<Vec<PathBuf>> {
    if !samples.is_dir() {
        return Ok(Vec::new());
    }
    let mut iters: Vec<PathBuf> = sorted_files(samples)?
        .into_iter()
        .filter(|p| name(p).starts_with("iter-") && name(p).ends_with(".png"))
        .collect();
    let final_grid = samples.join("final.png");
    if final_grid.is_file() {
        iters.push(final_grid);
    }
    let n = iters.len();
    if n <= MAX_GRIDS {
        return Ok(iters);
    }
    let picks: Vec<usize> = (0..MAX_GRIDS)
        .map(|k| k * (n - 1) / (MAX_GRIDS - 1))
        .collect();
    Ok(picks.into_iter().map(|i| iters[i].clone()).collect())
}

/// Groups pictures with the JSON whose stem is the longest prefix of theirs (`ood-roc.png`
/// with `ood.json`); pictures of no JSON make outputs of their own.
fn pair(jsons: Vec<PathBuf>, pngs: Vec<PathBuf>) -> Vec<Output> {
    let mut outputs: Vec<Output> = jsons
        .into_iter()
        .map(|j| Output {
            stem: stem(&j).to_string(),
            json: Some(j),
            pictures: Vec::new(),
        })
        .collect();
    for png in pngs {
        let s = stem(&png);
        let owner = outputs
            .iter()
            .enumerate()
            .filter(|(_, o)| o.json.is_some())
            .filter(|(_, o)| s == o.stem || s.starts_with(&format!("{}-", o.stem)))
            .max_by_key(|(_, o)| o.stem.len())
            .map(|(i, _)| i);
        match owner {
            Some(i) => outputs[i].pictures.push(png),
            None => outputs.push(Output {
                stem: s.to_string(),
                json: None,
                pictures: vec![png],
            }),
        }
    }
    outputs.sort_by(|a, b| a.stem.cmp(&b.stem));
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_go_with_the_longest_matching_json() {
        let p = |s: &str| PathBuf::from(format!("/r/{s}"));
        let outputs = pair(
            vec![p("ood.json"), p("ood-typicality.json"), p("robust-l2.json")],
            vec![
                p("ood-roc.png"),
                p("ood-typicality-roc.png"),
                p("robust-l2.png"),
                p("heatmap-ebm.png"),
            ],
        );
        let find = |s: &str| outputs.iter().find(|o| o.stem == s).unwrap();
        assert_eq!(find("ood").pictures, vec![p("ood-roc.png")]);
        assert_eq!(
            find("ood-typicality").pictures,
            vec![p("ood-typicality-roc.png")]
        );
        assert_eq!(find("robust-l2").pictures, vec![p("robust-l2.png")]);
        assert_eq!(find("heatmap-ebm").json, None);
        assert_eq!(outputs.len(), 4);
    }

    #[test]
    fn a_directory_without_a_run_is_refused() {
        let dir = std::env::temp_dir().join(format!("ebm-notarun-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        std::fs::write(dir.join("settings.json"), "{}").unwrap();
        let err = Contents::scan(&dir).unwrap_err().to_string();
        assert!(err.contains("not a run directory"), "{err}");
        std::fs::write(dir.join("plan.json"), "[]").unwrap();
        let found = Contents::scan(&dir).unwrap();
        assert_eq!(found.outputs.len(), 2, "every JSON is shown");
        assert!(Contents::scan(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
        // Every experiment command's output folder is one: `ebm compose --measure` writes
        // compose.json beside its grids.
        let compose = dir.with_extension("compose");
        std::fs::create_dir_all(&compose).unwrap();
        std::fs::write(compose.join("compose.json"), "{}").unwrap();
        std::fs::write(compose.join("compose-composed.png"), "").unwrap();
        let found = Contents::scan(&compose).unwrap();
        assert_eq!(found.outputs.len(), 1);
        assert_eq!(found.outputs[0].pictures.len(), 1);
        std::fs::remove_dir_all(&compose).unwrap();
    }

    #[test]
    fn many_grids_are_thinned_keeping_the_last() {
        let dir = std::env::temp_dir().join(format!("ebm-grids-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..30 {
            std::fs::write(dir.join(format!("iter-{i:08}.png")), "").unwrap();
        }
        std::fs::write(dir.join("final.png"), "").unwrap();
        let g = grids(&dir).unwrap();
        assert_eq!(g.len(), MAX_GRIDS);
        assert_eq!(name(&g[0]), "iter-00000000.png");
        assert_eq!(name(g.last().unwrap()), "final.png");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

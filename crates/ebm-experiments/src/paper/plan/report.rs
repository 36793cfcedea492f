//! `plan.json` (one entry per environment, merged into an existing file) and the markdown
//! table `ebm plan` prints.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The paper's average returns of the pretrained EBM (Du, Lin & Mordatch 2019, the table the
/// issue quotes), by environment.
pub fn paper_return(env: &str) -> Option<f64> {
    match env {
        "particle" => Some(-5.14),
        "maze" => Some(-72.07),
        "reacher" => Some(-19.38),
        _ => None,
    }
}

/// Mean and standard deviation (population) of returns.
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    (m, var.sqrt())
}

/// One environment's result.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlanEntry {
    /// Environment.
    pub env: String,
    /// `mppi` or `langevin`.
    pub planner: String,
    /// Trained online from the agent's own transitions.
    pub online: bool,
    /// Episodes averaged.
    pub episodes: usize,
    /// Average return of the energy planner.
    pub ours: f64,
    /// Standard deviation of its returns over the episodes.
    pub ours_std: f64,
    /// Average return of the feed-forward baseline under the same planner.
    pub baseline: f64,
    /// Standard deviation of the baseline's returns.
    pub baseline_std: f64,
    /// The paper's average return for the pretrained EBM.
    pub paper: Option<f64>,
    /// The highest return an agent reaching the goal can score (`Environment::best_return`:
    /// a search under the true dynamics); `None` where not searched (the arm).
    #[serde(default)]
    pub best: Option<f64>,
    /// The search planner only: its average return with every move allowed (no model; walls
    /// learned from failed moves alone), the floor that the models' knowledge is measured from.
    #[serde(default)]
    pub no_model: Option<f64>,
    /// Every episode's return, ours.
    pub ours_returns: Vec<f64>,
    /// Every episode's return, baseline.
    pub baseline_returns: Vec<f64>,
    /// Mean steps per episode, ours and baseline.
    pub steps: [f64; 2],
    /// Mean distance to the goal at the end of an episode, ours and baseline.
    pub final_distance: [f64; 2],
    /// Mean gap between planned and reached states ([`EpisodeLog::plan_gap`]), ours and
    /// baseline.
    ///
    /// [`EpisodeLog::plan_gap`]: super::episode::EpisodeLog::plan_gap
    #[serde(default)]
    pub plan_gap: Option<[f64; 2]>,
    /// Seconds: training the energy (and inverse model), training the baseline, evaluating
    /// ours, evaluating the baseline.
    pub seconds: [f64; 4],
    /// Held-out mean squared error of the inverse model and of the baseline's next state.
    pub test_mse: [f64; 2],
    /// Mean energies of positives and negatives over the last training iterations.
    pub energies: [f64; 2],
    /// The resolved settings.
    pub config: serde_json::Value,
}

/// Replaces (or adds) `entry` in the JSON list at `path`, keeping the entries of other
/// environments, planners and training modes.
pub fn merge_into(path: &Path, entry: &PlanEntry) -> Result<()> {
    let mut entries: Vec<PlanEntry> = if path.exists() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
    } else {
        Vec::new()
    };
    entries
        .retain(|e| (&e.env, &e.planner, e.online) != (&entry.env, &entry.planner, entry.online));
    entries.push(entry.clone());
    let order = |e: &PlanEntry| {
        ["particle", "maze", "reacher"]
            .iter()
            .position(|n| *n == e.env)
    };
    entries.sort_by_key(|e| {
        let rank = order(e).unwrap_or(usize::MAX);
        (rank, e.env.clone(), e.online, e.planner.clone())
    });
    let text = serde_json::to_string_pretty(&entries)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// The markdown table of entries.
pub fn table(entries: &[PlanEntry]) -> String {
    let mut s = String::from(
        "| env | planner | episodes | ours (EBM) | baseline (FF) | paper (EBM) | best possible | train s | eval s |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for e in entries {
        let value = |v: Option<f64>| v.map_or("-".to_string(), |p| format!("{p:.2}"));
        s += &format!(
            "| {}{} | {} | {} | {:.2} ± {:.2} | {:.2} ± {:.2} | {} | {} | {:.0} | {:.0} |\n",
            e.env,
            if e.online { " (online)" } else { "" },
            e.planner,
            e.episodes,
            e.ours,
            e.ours_std,
            e.baseline,
            e.baseline_std,
            value(e.paper),
            value(e.best),
            e.seconds[0] + e.seconds[1],
            e.seconds[2] + e.seconds[3],
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(env: &str, ours: f64) -> PlanEntry {
        PlanEntry {
            env: env.into(),
            planner: "mppi".into(),
            online: false,
            episodes: 2,
            ours,
            ours_std: 0.5,
            baseline: -9.0,
            baseline_std: 1.0,
            paper: paper_return(env),
            best: (env == "maze").then_some(-71.9),
            no_model: None,
            ours_returns: vec![ours - 0.5, ours + 0.5],
            baseline_returns: vec![-10.0, -8.0],
            steps: [10.0, 20.0],
            final_distance: [0.0, 0.1],
            plan_gap: Some([0.01, 0.02]),
            seconds: [1.0, 2.0, 3.0, 4.0],
            test_mse: [0.1, 0.2],
            energies: [-0.1, 0.1],
            config: serde_json::json!({}),
        }
    }

    #[test]
    fn merging_replaces_one_environment_and_keeps_the_others() {
        let dir = std::env::temp_dir().join(format!("ebm-planjson-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("plan.json");
        merge_into(&path, &entry("maze", -80.0)).unwrap();
        merge_into(&path, &entry("particle", -6.0)).unwrap();
        merge_into(&path, &entry("maze", -75.0)).unwrap();
        let back: Vec<PlanEntry> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!((back[0].env.as_str(), back[0].ours), ("particle", -6.0));
        assert_eq!((back[1].env.as_str(), back[1].ours), ("maze", -75.0));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for field in ["env", "ours", "baseline", "paper", "episodes"] {
            assert!(json[0].get(field).is_some(), "plan.json lacks {field}");
        }
        assert_eq!(json[1]["paper"], serde_json::json!(-72.07));
        assert_eq!(json[0]["best"], serde_json::Value::Null);
        // Files written before `best` existed still merge.
        let mut old = json.clone();
        old.as_array_mut().unwrap()[1]
            .as_object_mut()
            .unwrap()
            .remove("best");
        std::fs::write(&path, old.to_string()).unwrap();
        merge_into(&path, &entry("particle", -6.0)).unwrap();
        let t = table(&back);
        assert!(
            t.contains(
                "| maze | mppi | 2 | -75.00 ± 0.50 | -9.00 ± 1.00 | -72.07 | -71.90 | 3 | 7 |"
            ),
            "{t}"
        );
        assert!(t.contains("| particle | mppi | 2 | -6.00 ± 0.50 | -9.00 ± 1.00 | -5.14 | - |"));
        // Another planner or training mode on the same environment is a separate entry.
        let online = PlanEntry {
            online: true,
            ..entry("particle", -5.5)
        };
        merge_into(&path, &online).unwrap();
        let all: Vec<PlanEntry> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!((all[0].online, all[1].online), (false, true));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mean_and_std() {
        assert_eq!(mean_std(&[1.0, 3.0]), (2.0, 1.0));
    }
}

//! The PyTorch reference of `ebm bench`: `benches/reference/igebm_torch.py` (embedded in the
//! binary) run by a Python that has torch, answering one timed measurement per request so that
//! its measurements interleave with ours.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::{Value, json};

/// The reference script, the same file as `benches/reference/igebm_torch.py`.
pub const SCRIPT: &str = include_str!("../../../../benches/reference/igebm_torch.py");

/// What the reference reports about itself.
#[derive(Clone, Debug, Serialize)]
pub struct ReferenceInfo {
    /// The Python interpreter.
    pub python: String,
    /// `torch.__version__`.
    pub torch: String,
    /// `torch.get_num_threads()`.
    pub threads: u64,
}

/// A running reference process.
pub struct Reference {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Its version and threads.
    pub info: ReferenceInfo,
    _dir: TempDir,
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Python to use: `requested`, else `.venv-torch/bin/python` in the working directory,
/// else `python3`, whichever can import torch. `None` when none can.
pub fn find_python(requested: Option<&Path>) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match requested {
        Some(p) => vec![p.to_path_buf()],
        None => vec![
            PathBuf::from(".venv-torch/bin/python"),
            PathBuf::from("python3"),
        ],
    };
    candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import torch"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

impl Reference {
    /// Starts the reference with `python`, `threads` torch threads.
    pub fn start(python: &Path, threads: usize) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("ebm-bench-ref-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let script = dir.join("igebm_torch.py");
        std::fs::write(&script, SCRIPT).with_context(|| format!("writing {}", script.display()))?;
        let mut child = Command::new(python)
            .arg(&script)
            .args(["--threads", &threads.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", python.display()))?;
        let stdin = child.stdin.take().context("reference stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("reference stdout")?);
        let mut reference = Self {
            child,
            stdin,
            stdout,
            info: ReferenceInfo {
                python: python.display().to_string(),
                torch: String::new(),
                threads: 0,
            },
            _dir: TempDir(dir),
        };
        let info = reference.request(&json!({"op": "info"}))?;
        reference.info.torch = info["torch"].as_str().unwrap_or("?").to_string();
        reference.info.threads = info["threads"].as_u64().unwrap_or(0);
        Ok(reference)
    }

    /// Sends one command and waits for its answer.
    pub fn request(&mut self, command: &Value) -> Result<Value> {
        writeln!(self.stdin, "{command}").context("writing to the reference")?;
        self.stdin.flush().context("writing to the reference")?;
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .context("reading from the reference")?;
        if n == 0 {
            bail!("the PyTorch reference exited (its error is above)");
        }
        let answer: Value = serde_json::from_str(&line)
            .with_context(|| format!("the reference answered {line:?}"))?;
        if let Some(e) = answer.get("error") {
            bail!("the reference failed: {e}");
        }
        Ok(answer)
    }

    /// Seconds of one measurement (`op` "step" or "train").
    pub fn seconds(&mut self, command: &Value) -> Result<f64> {
        self.request(command)?["seconds"]
            .as_f64()
            .context("the reference answered without seconds")
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"op": "quit"}));
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

//! The PyTorch reference of `ebm bench`: `benches/reference/igebm_torch.py` (embedded in the
//! binary) run by a Python that has torch, answering one timed measurement per request so that
//! its measurements interleave with ours. One process per configuration a PyTorch user would
//! try ([`ReferenceMode`]), each with an allocator that keeps freed pages ([`allocator_env`]).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::{Value, json};

/// The reference script, the same file as `benches/reference/igebm_torch.py`.
pub const SCRIPT: &str = include_str!("../../../../benches/reference/igebm_torch.py");

/// How the reference runs the networks: the configurations PyTorch's CPU performance guide
/// suggests trying, the fastest of which the bench compares against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceMode {
    /// NCHW tensors, eager execution: PyTorch as most scripts run it.
    Eager,
    /// Weights and inputs in `torch.channels_last` (oneDNN's native layout for convnets).
    ChannelsLast,
    /// Channels-last and `torch.compile` (TorchInductor, C++ code generation on a CPU).
    Compile,
}

impl ReferenceMode {
    /// Every mode, in the order they are measured.
    pub const ALL: [ReferenceMode; 3] = [Self::Eager, Self::ChannelsLast, Self::Compile];

    /// The name on the command line, in the tables and for the script's `--mode`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Eager => "eager",
            Self::ChannelsLast => "channels-last",
            Self::Compile => "compile",
        }
    }

    /// Parses a [`ReferenceMode::name`].
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .with_context(|| {
                format!("unknown reference mode {s:?}: eager, channels-last or compile")
            })
    }
}

/// What the reference reports about itself.
#[derive(Clone, Debug, Serialize)]
pub struct ReferenceInfo {
    /// The Python interpreter.
    pub python: String,
    /// `torch.__version__`.
    pub torch: String,
    /// `torch.get_num_threads()`.
    pub threads: u64,
    /// The mode this process runs.
    pub mode: String,
    /// The allocator, as the script sees it (`jemalloc`, `tcmalloc` or glibc with tunables).
    pub allocator: String,
}

/// Shared libraries of allocators that keep freed pages, preloaded into the reference when
/// found (PyTorch's CPU performance guide recommends jemalloc or tcmalloc; `ebm` itself uses
/// mimalloc with purging off). Debian: `apt install libjemalloc2`.
const PRELOADS: [&str; 6] = [
    "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
    "/usr/lib64/libjemalloc.so.2",
    "/usr/local/lib/libjemalloc.so.2",
    "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
    "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4",
];

/// Without a preloadable allocator: glibc told never to return memory to the OS (no mmap for
/// large blocks, no trimming), which keeps freed pages as jemalloc and mimalloc do.
const GLIBC_TUNABLES: &str = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184";

/// The environment that gives the reference an allocator keeping freed pages: `LD_PRELOAD` of
/// the first library of [`PRELOADS`] that exists (`EBM_BENCH_PRELOAD` overrides), else
/// `GLIBC_TUNABLES`. An `LD_PRELOAD` already set by the user is kept as it is.
pub fn allocator_env() -> Vec<(&'static str, String)> {
    if std::env::var_os("LD_PRELOAD").is_some() {
        return Vec::new();
    }
    let preload = std::env::var("EBM_BENCH_PRELOAD").ok().or_else(|| {
        PRELOADS
            .iter()
            .find(|p| Path::new(p).exists())
            .map(|p| p.to_string())
    });
    match preload {
        Some(lib) => vec![("LD_PRELOAD", lib)],
        None => vec![("GLIBC_TUNABLES", GLIBC_TUNABLES.to_string())],
    }
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
    /// Starts the reference with `python`, `threads` torch threads, in `mode`.
    pub fn start(python: &Path, threads: usize, mode: ReferenceMode) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "ebm-bench-ref-{}-{}",
            std::process::id(),
            mode.name()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let script = dir.join("igebm_torch.py");
        std::fs::write(&script, SCRIPT).with_context(|| format!("writing {}", script.display()))?;
        let mut child = Command::new(python)
            .arg(&script)
            .args(["--threads", &threads.to_string(), "--mode", mode.name()])
            .envs(allocator_env())
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
                mode: mode.name().to_string(),
                allocator: String::new(),
            },
            _dir: TempDir(dir),
        };
        let info = reference.request(&json!({"op": "info"}))?;
        reference.info.torch = info["torch"].as_str().unwrap_or("?").to_string();
        reference.info.threads = info["threads"].as_u64().unwrap_or(0);
        reference.info.allocator = info["allocator"].as_str().unwrap_or("?").to_string();
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

impl Reference {
    /// The peak resident set of the reference process so far, MiB.
    pub fn peak_rss_mib(&mut self) -> Result<f64> {
        self.request(&json!({"op": "rss"}))?["mib"]
            .as_f64()
            .context("the reference answered without mib")
    }
}

/// Runs `request` once on every reference as a warm-up (allocations, and `torch.compile`'s
/// compilation); a reference that fails is dropped with a note saying why, so that one mode
/// that does not work on a machine leaves the others.
pub fn warm_up(references: &mut Vec<Reference>, request: &Value) {
    references.retain_mut(|r| match r.seconds(request) {
        Ok(_) => true,
        Err(e) => {
            println!("reference mode {} dropped: {e:#}", r.info.mode);
            false
        }
    });
}

/// The index and median of the fastest of several references' samples.
pub fn fastest(medians: &[f64]) -> Option<usize> {
    (0..medians.len()).min_by(|&a, &b| medians[a].total_cmp(&medians[b]))
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"op": "quit"}));
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

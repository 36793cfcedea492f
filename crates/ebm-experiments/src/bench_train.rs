//! `ebm bench`, training part: real `ebm train` runs in a child process, timed per iteration
//! from their `metrics.jsonl`, with the child's peak resident memory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use ebm_data::{ImageSet, write_cifar10};

/// One finished `ebm train` child.
#[derive(Clone, Debug)]
pub struct TrainRun {
    /// Seconds of each training iteration (checkpoints and sample grids excluded).
    pub iteration_seconds: Vec<f64>,
    /// Peak resident set of the child, MiB (`None` where the OS does not report it).
    pub peak_rss_mib: Option<f64>,
}

/// Writes a CIFAR-10 folder of random images (`per_file` records in each of the six files), so
/// that the CIFAR presets run with the real shapes where CIFAR-10 is not at hand.
pub fn write_cifar_fixture(dir: &Path, per_file: usize) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut byte = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 24) as u8
    };
    let names = (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        .chain(["test_batch.bin".to_string()]);
    for name in names {
        let pixels: Vec<u8> = (0..per_file * 3 * 32 * 32).map(|_| byte()).collect();
        let labels: Vec<u16> = (0..per_file).map(|i| (i % 10) as u16).collect();
        let set = ImageSet::new(&name, pixels, labels, [3, 32, 32], 10)?;
        let path = dir.join(&name);
        std::fs::write(&path, write_cifar10(&set))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Runs `exe train <args>` into `run_dir` and reads back its iteration times and peak memory.
pub fn run_train(exe: &Path, args: &[String], run_dir: &Path) -> Result<TrainRun> {
    let mut cmd = Command::new(exe);
    cmd.arg("train")
        .args(args)
        .arg("--out")
        .arg(run_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {} train", exe.display()))?;
    let (ok, stderr, peak_rss_mib) = wait_with_peak_rss(child)?;
    if !ok {
        bail!("`ebm train {}` failed:\n{stderr}", args.join(" "));
    }
    let metrics = run_dir.join("metrics.jsonl");
    let text = std::fs::read_to_string(&metrics)
        .with_context(|| format!("reading {}", metrics.display()))?;
    let mut cumulative = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("parsing {}", metrics.display()))?;
        cumulative.push(
            v["seconds"]
                .as_f64()
                .context("metrics line without seconds")?,
        );
    }
    let iteration_seconds = cumulative
        .iter()
        .scan(0.0, |prev, &c| {
            let d = c - *prev;
            *prev = c;
            Some(d)
        })
        .collect();
    Ok(TrainRun {
        iteration_seconds,
        peak_rss_mib,
    })
}

/// Waits for `child`; returns success, its stderr and its peak resident set in MiB.
#[cfg(unix)]
fn wait_with_peak_rss(mut child: std::process::Child) -> Result<(bool, String, Option<f64>)> {
    use std::io::Read;
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain FFI call with valid pointers to locals; `pid` is our own unwaited child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        // Fall back to the portable wait (no memory figure).
        let ok = child.wait().context("waiting for ebm train")?.success();
        return Ok((ok, stderr, None));
    }
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    // ru_maxrss is in KiB on Linux (bytes on macOS).
    let kib = if cfg!(target_os = "macos") {
        usage.ru_maxrss as f64 / 1024.0
    } else {
        usage.ru_maxrss as f64
    };
    Ok((ok, stderr, Some(kib / 1024.0)))
}

#[cfg(not(unix))]
fn wait_with_peak_rss(child: std::process::Child) -> Result<(bool, String, Option<f64>)> {
    let out = child.wait_with_output().context("waiting for ebm train")?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        None,
    ))
}

/// A fresh scratch directory for bench runs, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// Creates `<tmp>/ebm-bench-<pid>`.
    pub fn new() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("ebm-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

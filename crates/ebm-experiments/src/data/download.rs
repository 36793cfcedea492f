//! Dataset and weights downloads for users with internet: checksummed, resumable-safe (a
//! temporary file renamed into place only when complete and verified), retried, with progress
//! on stderr.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use md5::{Digest, Md5};
use sha2::Sha256;

use super::DatasetName;
use super::sources::{Source, sources};
use super::unpack::unpack;

/// Download settings.
#[derive(Clone, Debug)]
pub struct DownloadOptions {
    /// Attempts per file (network errors and checksum mismatches are retried).
    pub attempts: usize,
    /// Pause between attempts.
    pub backoff: Duration,
    /// Replace each URL's directory with this base (a mirror, or a local server in tests).
    pub mirror: Option<String>,
    /// Print progress on stderr.
    pub progress: bool,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Duration::from_secs(2),
            mirror: None,
            progress: true,
        }
    }
}

fn url_for(source: &Source, options: &DownloadOptions) -> String {
    match &options.mirror {
        Some(base) => format!("{}/{}", base.trim_end_matches('/'), source.file),
        None => source.url.to_string(),
    }
}

struct Progress {
    enabled: bool,
    terminal: bool,
    label: String,
    last_quarter: u64,
}

impl Progress {
    fn update(&mut self, done: u64, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let mb = |b: u64| b as f64 / 1e6;
        match (self.terminal, total) {
            (true, Some(t)) if t > 0 => {
                eprint!(
                    "\r{}: {:5.1}% {:.1}/{:.1} MB",
                    self.label,
                    100.0 * done as f64 / t as f64,
                    mb(done),
                    mb(t)
                );
            }
            (true, _) => eprint!("\r{}: {:.1} MB", self.label, mb(done)),
            (false, Some(t)) if t > 0 => {
                let quarter = 4 * done / t;
                if quarter > self.last_quarter {
                    self.last_quarter = quarter;
                    eprintln!("{}: {}% of {:.1} MB", self.label, 25 * quarter, mb(t));
                }
            }
            (false, _) => {}
        }
    }

    fn finish(&self) {
        if self.enabled && self.terminal {
            eprintln!();
        }
    }
}

/// What a downloaded file must hash to.
#[derive(Clone, Copy, Debug)]
pub enum Checksum<'a> {
    /// The whole MD5, in lower-case hex (the datasets' published checksums).
    Md5(&'a str),
    /// The start of the SHA-256 in lower-case hex: what `torch.hub` checks of a file whose
    /// name carries it (the FID Inception weights).
    Sha256Prefix(&'a str),
}

/// The digests of one file, in lower-case hex.
struct Digests {
    md5: String,
    sha256: String,
}

impl Checksum<'_> {
    /// `Ok` when `got` matches, else the mismatch naming `url`.
    fn verify(self, url: &str, got: &Digests) -> Result<()> {
        match self {
            Checksum::Md5(md5) if got.md5 == md5 => Ok(()),
            Checksum::Md5(md5) => {
                bail!(
                    "{url}: checksum mismatch: expected MD5 {md5}, got {}",
                    got.md5
                )
            }
            Checksum::Sha256Prefix(p) if got.sha256.starts_with(p) => Ok(()),
            Checksum::Sha256Prefix(p) => bail!(
                "{url}: checksum mismatch: expected a SHA-256 starting {p}, got {}",
                got.sha256
            ),
        }
    }
}

/// One attempt: stream `url` into `tmp`, hashing as it goes; returns the digests.
fn fetch_once(url: &str, tmp: &Path, progress: &mut Progress) -> Result<Digests> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_body(Some(Duration::from_secs(60)))
        .build()
        .into();
    let response = agent
        .get(url)
        .call()
        .with_context(|| format!("requesting {url}"))?;
    let total = response.body().content_length();
    let mut reader = response.into_body().into_reader();
    let mut file =
        std::fs::File::create(tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut hasher = Md5::new();
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("reading {url}"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        sha.update(&buf[..n]);
        file.write_all(&buf[..n])
            .with_context(|| format!("writing {}", tmp.display()))?;
        done += n as u64;
        progress.update(done, total);
    }
    if let Some(t) = total
        && done != t
    {
        bail!("{url}: connection closed after {done} of {t} bytes");
    }
    file.sync_all()
        .with_context(|| format!("syncing {}", tmp.display()))?;
    Ok(Digests {
        md5: format!("{:x}", hasher.finalize()),
        sha256: format!("{:x}", sha.finalize()),
    })
}

/// Downloads `url` to `dest`, verifying `md5`. The data goes to `dest.part` and is renamed to
/// `dest` only when complete and verified; on failure nothing is left behind.
pub fn download_file(url: &str, dest: &Path, md5: &str, options: &DownloadOptions) -> Result<()> {
    download_checked(url, dest, Checksum::Md5(md5), options)
}

/// [`download_file`] with any [`Checksum`].
pub fn download_checked(
    url: &str,
    dest: &Path,
    checksum: Checksum<'_>,
    options: &DownloadOptions,
) -> Result<()> {
    let tmp = PathBuf::from(format!("{}.part", dest.display()));
    let mut last_error = None;
    for attempt in 1..=options.attempts.max(1) {
        let mut progress = Progress {
            enabled: options.progress,
            terminal: std::io::stderr().is_terminal(),
            label: dest
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            last_quarter: 0,
        };
        let result =
            fetch_once(url, &tmp, &mut progress).and_then(|got| checksum.verify(url, &got));
        progress.finish();
        match result {
            Ok(()) => {
                std::fs::rename(&tmp, dest)
                    .with_context(|| format!("renaming {} to {}", tmp.display(), dest.display()))?;
                return Ok(());
            }
            Err(err) => {
                let _ = std::fs::remove_file(&tmp);
                if options.progress {
                    eprintln!("attempt {attempt} of {} failed: {err:#}", options.attempts);
                }
                last_error = Some(err);
                if attempt < options.attempts {
                    std::thread::sleep(options.backoff);
                }
            }
        }
    }
    Err(last_error.expect("at least one attempt").context(format!(
        "could not download {url}; without internet, fetch it elsewhere and put it at {}",
        dest.display()
    )))
}

/// Downloads (and unpacks the archives of) a dataset into `data_dir/<name>/`, skipping files
/// already present.
pub fn download_dataset(
    name: DatasetName,
    data_dir: &Path,
    options: &DownloadOptions,
) -> Result<PathBuf> {
    download_from(name, data_dir, sources(name), options)
}

/// [`download_dataset`] from the given files instead of the dataset's published ones (a test's
/// fixtures on a local server, with their own checksums).
pub fn download_from(
    name: DatasetName,
    data_dir: &Path,
    files: &[Source],
    options: &DownloadOptions,
) -> Result<PathBuf> {
    let dir = data_dir.join(name.name());
    if name == DatasetName::Mnist10k {
        bail!("mnist-10k is embedded in the binary; nothing to download");
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for source in files {
        let dest = dir.join(source.file);
        if !dest.is_file() {
            download_file(&url_for(source, options), &dest, source.md5, options)?;
        }
        unpack(name, &dest, &dir)?;
    }
    Ok(dir)
}

/// Downloads the FID Inception weights (pytorch-fid's `pt_inception-2015-12-05-6726825d.pth`)
/// to `data_dir/inception/`, checking that their SHA-256 starts with the `6726825d` their name
/// carries (all `torch.hub` checks: no full digest is published). A file already there is
/// checked the same way and kept. Returns its path.
pub fn download_inception(data_dir: &Path, options: &DownloadOptions) -> Result<PathBuf> {
    use crate::eval::inception::weights::{
        WEIGHTS_FILE, WEIGHTS_SHA256_PREFIX, WEIGHTS_URL, weights_path,
    };
    let dest = weights_path(data_dir);
    let dir = dest.parent().expect("the weights path has a folder");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let checksum = Checksum::Sha256Prefix(WEIGHTS_SHA256_PREFIX);
    if dest.is_file() {
        let bytes = std::fs::read(&dest).with_context(|| format!("reading {}", dest.display()))?;
        let got = Digests {
            md5: String::new(),
            sha256: format!("{:x}", Sha256::digest(&bytes)),
        };
        checksum
            .verify(&dest.display().to_string(), &got)
            .context("the file in place is not the published one: delete it and download again")?;
        return Ok(dest);
    }
    let url = match &options.mirror {
        Some(base) => format!("{}/{WEIGHTS_FILE}", base.trim_end_matches('/')),
        None => WEIGHTS_URL.to_string(),
    };
    download_checked(&url, &dest, checksum, options)?;
    Ok(dest)
}

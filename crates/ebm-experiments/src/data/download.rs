//! Dataset downloads for users with internet: checksummed, resumable-safe (a temporary file
//! renamed into place only when complete and verified), retried, with progress on stderr.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use md5::{Digest, Md5};

use crate::data::DatasetName;

/// One file of a dataset and where it comes from.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    /// Canonical URL.
    pub url: &'static str,
    /// File name under the dataset folder.
    pub file: &'static str,
    /// MD5 of the file as published: MNIST and Fashion-MNIST as torchvision's
    /// `datasets/mnist.py` lists them (Fashion-MNIST's also in the dataset's own README,
    /// zalandoresearch/fashion-mnist), CIFAR-10 as its page (cs.toronto.edu/~kriz/cifar.html)
    /// gives it.
    pub md5: &'static str,
}

// Where each host serves: MNIST from PyTorch's S3 bucket (the REST endpoint, HTTPS), CIFAR-10
// from the University of Toronto (HTTPS), Fashion-MNIST from its S3 *website* endpoint, which
// serves plain HTTP only (S3 website endpoints have no TLS), so its URLs are `http://`; the
// checksums guard the content either way.

const MNIST: [Source; 4] = [
    Source {
        url: "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        file: "train-images-idx3-ubyte.gz",
        md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    },
    Source {
        url: "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
        file: "train-labels-idx1-ubyte.gz",
        md5: "d53e105ee54ea40749a09fcbcd1e9432",
    },
    Source {
        url: "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
        file: "t10k-images-idx3-ubyte.gz",
        md5: "9fb629c4189551a2d022fa330f9573f3",
    },
    Source {
        url: "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
        file: "t10k-labels-idx1-ubyte.gz",
        md5: "ec29112dd5afa0611ce80d1b7f02629c",
    },
];

const FASHION_MNIST: [Source; 4] = [
    Source {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
        file: "train-images-idx3-ubyte.gz",
        md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    },
    Source {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz",
        file: "train-labels-idx1-ubyte.gz",
        md5: "25c81989df183df01b3e8a0aad5dffbe",
    },
    Source {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz",
        file: "t10k-images-idx3-ubyte.gz",
        md5: "bef4ecab320f06d8554ea6380940ec79",
    },
    Source {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz",
        file: "t10k-labels-idx1-ubyte.gz",
        md5: "bb300cfdad3c16e7a12a480ee83cd310",
    },
];

const CIFAR10: [Source; 1] = [Source {
    url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    file: "cifar-10-binary.tar.gz",
    md5: "c32a1d4ab5d03f1284b67883e8d87530",
}];

/// The files of a dataset (empty for the embedded `mnist-10k`).
pub fn sources(name: DatasetName) -> &'static [Source] {
    match name {
        DatasetName::Mnist => &MNIST,
        DatasetName::FashionMnist => &FASHION_MNIST,
        DatasetName::Cifar10 => &CIFAR10,
        DatasetName::Mnist10k => &[],
    }
}

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

/// One attempt: stream `url` into `tmp`, hashing as it goes; returns the MD5.
fn fetch_once(url: &str, tmp: &Path, progress: &mut Progress) -> Result<String> {
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
    Ok(format!("{:x}", hasher.finalize()))
}

/// Downloads `url` to `dest`, verifying `md5`. The data goes to `dest.part` and is renamed to
/// `dest` only when complete and verified; on failure nothing is left behind.
pub fn download_file(url: &str, dest: &Path, md5: &str, options: &DownloadOptions) -> Result<()> {
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
        let result = fetch_once(url, &tmp, &mut progress).and_then(|got| {
            if got == md5 {
                Ok(())
            } else {
                bail!("{url}: checksum mismatch: expected MD5 {md5}, got {got}")
            }
        });
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

/// Unpacks the CIFAR-10 archive's binary batches into `dir/cifar-10-batches-bin/`, writing
/// only the expected regular files (never paths taken from the archive).
fn unpack_cifar(archive: &Path, dir: &Path) -> Result<()> {
    let out = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let file =
        std::fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let wanted: Vec<String> = (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        .chain(["test_batch.bin".to_string(), "batches.meta.txt".to_string()])
        .collect();
    let mut found = 0;
    for entry in tar
        .entries()
        .with_context(|| format!("reading {}", archive.display()))?
    {
        let mut entry = entry.with_context(|| format!("reading {}", archive.display()))?;
        let path = entry.path()?.into_owned();
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if !entry.header().entry_type().is_file() || !wanted.contains(&name) {
            continue;
        }
        let dest = out.join(&name);
        let tmp = out.join(format!("{name}.part"));
        let mut f =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        std::io::copy(&mut entry, &mut f).with_context(|| format!("unpacking {name}"))?;
        std::fs::rename(&tmp, &dest).with_context(|| format!("renaming {}", tmp.display()))?;
        found += 1;
    }
    if found < wanted.len() {
        bail!(
            "{}: expected {} files ({}), found {found}",
            archive.display(),
            wanted.len(),
            wanted.join(", ")
        );
    }
    Ok(())
}

/// Downloads (and for CIFAR-10 unpacks) a dataset into `data_dir/<name>/`, skipping files
/// already present.
pub fn download_dataset(
    name: DatasetName,
    data_dir: &Path,
    options: &DownloadOptions,
) -> Result<PathBuf> {
    let dir = data_dir.join(name.name());
    if name == DatasetName::Mnist10k {
        bail!("mnist-10k is embedded in the binary; nothing to download");
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for source in sources(name) {
        let dest = dir.join(source.file);
        if !dest.is_file() {
            download_file(&url_for(source, options), &dest, source.md5, options)?;
        }
        if name == DatasetName::Cifar10 {
            unpack_cifar(&dest, &dir)?;
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_uses_the_scheme_its_host_serves() {
        for name in [
            DatasetName::Mnist,
            DatasetName::FashionMnist,
            DatasetName::Cifar10,
        ] {
            for s in sources(name) {
                // S3 website endpoints answer HTTP only; every other host here serves HTTPS.
                let scheme = if s.url.contains(".s3-website") {
                    "http://"
                } else {
                    "https://"
                };
                assert!(s.url.starts_with(scheme), "{}", s.url);
                assert!(s.url.ends_with(s.file), "{} is not {}", s.url, s.file);
                assert_eq!(s.md5.len(), 32, "{}", s.url);
            }
        }
    }
}

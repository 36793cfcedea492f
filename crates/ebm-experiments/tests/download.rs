//! Downloads against a local HTTP server on 127.0.0.1: a good file, a corrupted one, a server
//! that drops the connection once, and one that always drops it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ebm_experiments::data::download::{
    Checksum, DownloadOptions, download_checked, download_file, download_inception,
};
use md5::{Digest, Md5};
use sha2::Sha256;

const BODY: &[u8] = b"the quick brown fox jumps over the lazy dog, many times over; ";

fn body() -> Vec<u8> {
    BODY.repeat(2000)
}

/// Serves `/good` (and any `.pth` name), `/corrupt`, `/flaky` (drops the first request
/// mid-body), `/drop` (always drops) for a bounded number of connections; returns the base URL.
fn serve(connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let flaky_hits = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            let full = body();
            let (payload, truncate) = match path.as_str() {
                p if p == "/good" || p.ends_with(".pth") => (full.clone(), false),
                "/corrupt" => {
                    let mut b = full.clone();
                    b[100] ^= 0xff;
                    (b, false)
                }
                "/flaky" => (full.clone(), flaky_hits.fetch_add(1, Ordering::SeqCst) == 0),
                "/drop" => (full.clone(), true),
                _ => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                }
            };
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                payload.len()
            );
            let _ = stream.write_all(header.as_bytes());
            let send = if truncate {
                &payload[..payload.len() / 3]
            } else {
                &payload[..]
            };
            let _ = stream.write_all(send);
            let _ = stream.flush();
        }
    });
    base
}

fn md5_hex(bytes: &[u8]) -> String {
    format!("{:x}", Md5::digest(bytes))
}

fn options() -> DownloadOptions {
    DownloadOptions {
        attempts: 2,
        backoff: Duration::from_millis(10),
        mirror: None,
        progress: false,
    }
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn downloads_verify_retry_and_leave_nothing_behind_on_failure() {
    let base = serve(16);
    let dir = std::env::temp_dir().join(format!("ebm-download-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let good_md5 = md5_hex(&body());

    // A good file lands complete and verified.
    let dest = dir.join("good.bin");
    download_file(&format!("{base}/good"), &dest, &good_md5, &options()).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body());

    // A corrupted file is rejected, and neither it nor its temporary file remains.
    let dest = dir.join("corrupt.bin");
    let err = download_file(&format!("{base}/corrupt"), &dest, &good_md5, &options()).unwrap_err();
    assert!(format!("{err:#}").contains("checksum mismatch"), "{err:#}");
    assert!(!dest.exists());

    // A dropped connection is retried and the second attempt succeeds.
    let dest = dir.join("flaky.bin");
    download_file(&format!("{base}/flaky"), &dest, &good_md5, &options()).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body());

    // A server that always drops fails cleanly, naming the URL and where to put the file.
    let dest = dir.join("drop.bin");
    let err = download_file(&format!("{base}/drop"), &dest, &good_md5, &options()).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("/drop") && msg.contains("drop.bin"), "{msg}");
    assert!(!dest.exists());

    let mut files = leftovers(&dir);
    files.sort();
    assert_eq!(
        files,
        vec!["flaky.bin", "good.bin"],
        "no partial files may remain"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sha256_prefix_is_checked_and_the_inception_weights_refuse_another_file() {
    let base = serve(8);
    let dir = std::env::temp_dir().join(format!("ebm-download-sha-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sha = format!("{:x}", Sha256::digest(body()));

    // The prefix of the body's SHA-256 passes; another prefix fails and leaves nothing.
    let dest = dir.join("prefix.bin");
    let check = Checksum::Sha256Prefix(&sha[..8]);
    download_checked(&format!("{base}/good"), &dest, check, &options()).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body());
    let dest = dir.join("wrong.bin");
    let check = Checksum::Sha256Prefix("00000000");
    let err = download_checked(&format!("{base}/good"), &dest, check, &options()).unwrap_err();
    assert!(
        format!("{err:#}").contains("SHA-256 starting 00000000"),
        "{err:#}"
    );
    assert!(!dest.exists());

    // `ebm data download inception` from a mirror serving some other file under the weights'
    // name: refused (the name promises a SHA-256 starting 6726825d), nothing left behind.
    let data = dir.join("data");
    let opts = DownloadOptions {
        mirror: Some(base.clone()),
        ..options()
    };
    let err = download_inception(&data, &opts).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("6726825d") && msg.contains("pt_inception-2015-12-05-6726825d.pth"),
        "{msg}"
    );
    assert!(leftovers(&data.join("inception")).is_empty());

    // A wrong file put in place by hand is named as such.
    std::fs::write(
        data.join("inception/pt_inception-2015-12-05-6726825d.pth"),
        b"x",
    )
    .unwrap();
    let err = download_inception(&data, &opts).unwrap_err();
    assert!(
        format!("{err:#}").contains("not the published one"),
        "{err:#}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

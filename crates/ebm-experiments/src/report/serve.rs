//! The live view: the report of a run served over HTTP (`tiny_http`, one thread, no async
//! runtime), rebuilt on every request. The page asks for `/stamp` every two seconds and
//! reloads when the run's files changed. It listens on loopback unless given another address.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Result, anyhow};
use tiny_http::{Header, Request, Response, Server};

use super::html::escape;
use super::{render, stamp};

/// Where the live view listens by default: loopback, a free port.
pub const DEFAULT_ADDR: &str = "127.0.0.1:0";

/// A running live view; dropping it stops the server.
pub struct LiveView {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LiveView {
    /// Serves the report of `run` on `addr` (`host:port`; port 0 picks a free one) from a
    /// thread of its own.
    pub fn start(run: &Path, addr: &str) -> Result<Self> {
        let server = Server::http(addr).map_err(|e| anyhow!("listening on {addr}: {e}"))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| anyhow!("{addr} is not an IP address"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (run, flag) = (run.to_path_buf(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("ebm-live-view".into())
            .spawn(move || serve(&server, &run, &flag))
            .map_err(|e| anyhow!("starting the live view: {e}"))?;
        Ok(Self {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's URL.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for LiveView {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(server: &Server, run: &Path, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        if let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(200)) {
            // A client that went away is no concern of the run's.
            let _ = respond(request, run);
        }
    }
}

fn respond(request: Request, run: &Path) -> std::io::Result<()> {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    let (status, kind, body) = match path.as_str() {
        "/" | "/index.html" => match render(run, true) {
            Ok(html) => (200, "text/html; charset=utf-8", html),
            Err(e) => (
                500,
                "text/html; charset=utf-8",
                format!(
                    // Retried every two seconds: a run that is starting has no files yet.
                    "<!DOCTYPE html><html><head><meta http-equiv=\"refresh\" content=\"2\"></head><body><p>{}</p></body></html>",
                    escape(&format!("{e:#}"))
                ),
            ),
        },
        "/stamp" => (200, "text/plain", stamp(run)),
        _ => (404, "text/plain", "not found".to_string()),
    };
    let header = |k: &str, v: &str| Header::from_bytes(k.as_bytes(), v.as_bytes()).ok();
    let mut response = Response::from_string(body).with_status_code(status);
    for h in [
        header("Content-Type", kind),
        header("Cache-Control", "no-store"),
    ]
    .into_iter()
    .flatten()
    {
        response.add_header(h);
    }
    request.respond(response)
}

//! The report of a real (tiny) run: rendered by headless Chromium from disk with no console
//! error and with its charts on the screenshot, and served live while the run trains, the
//! page's data growing as it goes.
//!
//! One test binary, tests run one after the other: the device RNG is process-wide.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use ebm_experiments::data::embedded_mnist10k;
use ebm_experiments::plot::chart::{Chart, Series, write_line_chart};
use ebm_experiments::report::serve::LiveView;
use ebm_experiments::run::model::ModelConfig;
use ebm_experiments::run::presets::preset;
use ebm_experiments::run::{RunStart, TrainConfig, train};
use ebm_experiments::testing::chromium_or_skip;
use ebm_model::MnistNetConfig;

static SERIAL: Mutex<()> = Mutex::new(());

fn tiny(iterations: usize) -> TrainConfig {
    let mut c = preset("mnist-10k").unwrap();
    c.model = ModelConfig::MnistNet(MnistNetConfig::new().with_filters(4).with_hidden(8));
    c.sampler.steps = 3;
    c.replay.capacity = 64;
    c.with_batch_size(8)
        .with_iterations(iterations)
        .with_log_every(1)
        .with_sample_every(4)
        .with_checkpoint_every(1000)
        .with_grid_size(16)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs Chromium headless on `url`, returning its stderr (console messages are logged there)
/// and the screenshot.
fn screenshot(chromium: &Path, url: &str, work: &Path, size: (u32, u32)) -> (String, PathBuf) {
    let shot = work.join("shot.png");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--force-device-scale-factor=1",
            "--virtual-time-budget=3000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ))
        .arg(format!("--window-size={},{}", size.0, size.1))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting chromium");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            child.kill().ok();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).ok();
    (err, shot)
}

/// Pixels in the rectangle that are coloured (a series) and that are dark (axes and text).
fn ink(img: &image::RgbImage, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> (usize, usize) {
    let (mut coloured, mut dark) = (0, 0);
    for y in y0..y1.min(img.height()) {
        for x in x0..x1.min(img.width()) {
            let [r, g, b] = img.get_pixel(x, y).0;
            let (hi, lo) = (r.max(g).max(b), r.min(g).min(b));
            coloured += usize::from(hi - lo > 80);
            dark += usize::from(hi < 90);
        }
    }
    (coloured, dark)
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(chromium) = chromium_or_skip("report_renders_in_headless_chromium") else {
        return;
    };
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmp("report-browser");
    train(
        &tiny(12),
        &dir,
        &embedded_mnist10k(),
        &Device::flex(),
        RunStart::New,
    )
    .unwrap();
    // An experiment's output beside the run, written by the chart writer the commands use.
    let roc = Series {
        name: "uniform (AUROC 0.90)".into(),
        points: vec![(0.0, 0.0), (0.1, 0.7), (1.0, 1.0)],
    };
    let chart = Chart::roc("ROC", "false positive rate");
    write_line_chart(&dir.join("ood-roc.png"), &chart, &[roc]).unwrap();
    let ood = r#"{"dataset":"mnist-10k","sets":[{"name":"uniform","auroc":0.9}]}"#;
    std::fs::write(dir.join("ood.json"), ood).unwrap();

    let page = dir.join("report.html");
    ebm_experiments::report::write(&dir, &page).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    for section in [
        "id=\"curves\"",
        "id=\"samples\"",
        "id=\"experiments\"",
        "id=\"config\"",
    ] {
        assert!(html.contains(section), "no {section} in the page");
    }
    assert!(html.contains("data-metrics-lines=\"12\""));
    assert!(html.contains("ood-roc.png") && html.contains("<td>uniform</td>"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing fetched"
    );

    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let (stderr, shot) = screenshot(&chromium, &url, &dir, (1400, 1200));
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let img = image::open(&shot).expect("the screenshot").to_rgb8();
    // The five curves: three charts in the first row, two in the second, each about 440
    // pixels wide and 300 high below the title.
    for (row, cols) in [(0u32, 3u32), (1, 2)] {
        for col in 0..cols {
            let x0 = 30 + col * 455;
            let y0 = 130 + row * 310;
            let (coloured, dark) = ink(&img, (x0, y0, x0 + 400, y0 + 240));
            assert!(
                coloured > 200 && dark > 200,
                "chart at row {row}, column {col}: {coloured} coloured and {dark} dark pixels"
            );
        }
    }
    // Beside the second row's two charts the page is blank: the check can fail.
    let (coloured, dark) = ink(&img, (30 + 2 * 455, 440, 30 + 2 * 455 + 400, 680));
    assert!(coloured + dark < 50, "{coloured} + {dark} pixels of ink");
    std::fs::remove_dir_all(&dir).ok();
}

/// GET `path` from the live view: status line and body.
fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

/// The status code of a response.
fn status(response: &str) -> &str {
    response.split(' ').nth(1).unwrap_or("")
}

fn metrics_lines(page: &str) -> Option<usize> {
    let rest = page.split("data-metrics-lines=\"").nth(1)?;
    rest.split('"').next()?.parse().ok()
}

#[test]
fn live_view_grows_while_training() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmp("report-live");
    let view = LiveView::start(&dir, "127.0.0.1:0").unwrap();
    assert!(view.addr().ip().is_loopback());
    let before = get(view.addr(), "/");
    assert_eq!(status(&before), "500", "no run yet: {before:.80}");
    assert!(
        before.contains("http-equiv=\"refresh\""),
        "the error page retries"
    );

    let config = tiny(150);
    let run = dir.clone();
    let trainer = std::thread::spawn(move || {
        train(
            &config,
            &run,
            &embedded_mnist10k(),
            &Device::flex(),
            RunStart::New,
        )
        .unwrap();
    });
    let mut seen = Vec::new();
    let mut stamps = Vec::new();
    while !trainer.is_finished() {
        if let Some(n) = metrics_lines(&get(view.addr(), "/")) {
            seen.push(n);
            stamps.push(get(view.addr(), "/stamp"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    trainer.join().unwrap();
    eprintln!("metrics lines on the live page while training ran: {seen:?}");
    let last = metrics_lines(&get(view.addr(), "/")).unwrap();
    assert_eq!(last, 150);
    let distinct: std::collections::BTreeSet<_> = seen.iter().filter(|&&n| n < 150).collect();
    assert!(
        distinct.len() >= 2,
        "the page grew only through {seen:?} while training ran"
    );
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    stamps.dedup();
    assert!(stamps.len() >= 2, "the stamp changed as the run wrote");
    let page = get(view.addr(), "/");
    assert!(
        page.contains("location.reload()"),
        "the live page refreshes"
    );
    assert_eq!(status(&get(view.addr(), "/nothing")), "404");
    drop(view);
    std::fs::remove_dir_all(&dir).ok();
}

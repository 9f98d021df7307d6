//! The screen-sharing benchmark (`--screen`): a 1920×1080 picture of changing text shared once by the native
//! client (`kaiwa call --share screen`, from an Xvfb display painted here) and once by Chromium (the browser
//! client's Share screen, sharing its own tab, which its bench mode covers with the same picture:
//! `assets/web/benchscreen.js`), each time to the same receiver (a native `kaiwa call`). Runs alternate so
//! machine noise hits both. (A headed Chromium capturing the Xvfb display itself failed here with
//! "NotReadableError: Could not start video source", its X11 capturer's portal-less path included.)
//!
//! The screen: a page of text-like strokes that scrolls by a line every 250 ms, below a strip that carries
//! the test pattern's stamp (frame counter and wall-clock paint time), repainted every 100 ms; the receiver reads the stamp
//! from each decoded picture, so latency is paint → decoded (both capturers add up to one frame interval
//! at 15 fps). Measured over the window after the warm-up: the sender's CPU (its whole process tree), the
//! bitrate and frame rate the receiver got (its once-a-second stats log), the picture size, freezes, and
//! the latency percentiles. Writes `SCREEN.md` beside the other results.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kaiwa_bench::{procstat, stats};
use kaiwa_browser_tests::{Browser, LaunchOptions, Page, TestServer};
use kaiwa_devices::testing::{Xvfb, text_page};
use kaiwa_media::video::TestPattern;
use serde_json::Value;

use crate::Args;

const W: u16 = 1920;
const H: u16 = 1080;
const STAMP_EVERY: Duration = Duration::from_millis(100);
/// The text scrolls by a line this often (a document or a log read on the shared screen).
const SCROLL_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sender {
    Native,
    Chromium,
}

impl Sender {
    fn label(self) -> &'static str {
        match self {
            Sender::Native => "native",
            Sender::Chromium => "Chromium",
        }
    }
}

/// One shared-screen call, as measured.
#[derive(Debug, Clone)]
struct Figures {
    sender: Sender,
    cpu_pct: f64,
    kbps: f64,
    fps: f64,
    size: (u64, u64),
    freezes: u64,
    latency_p50: Option<f64>,
    latency_p95: Option<f64>,
    codec: String,
}

/// The painter: stamps every 100 ms, a new page every second, until stopped; owns the display.
struct Painter {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    display: String,
}

impl Painter {
    fn start() -> anyhow::Result<Painter> {
        let mut xvfb = Xvfb::start(W, H)?;
        let display = xvfb.display.clone();
        let pattern = TestPattern::new(u32::from(W), u32::from(H))?;
        let strip = pattern.strip_height() as usize;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new().name("bench-screen-painter".into()).spawn(move || {
            let mut rgba = vec![0u8; usize::from(W) * usize::from(H) * 4];
            let mut frame = pattern.frame(0, 0);
            let (mut counter, mut seed) = (0u32, 1u32);
            let mut next_page = Instant::now();
            while !stopped.load(Relaxed) {
                let now = Instant::now();
                if now >= next_page {
                    let page = text_page(W, H - strip as u16, seed);
                    xvfb.put_rgb((0, strip as i16), W, &page);
                    seed += 1;
                    next_page = now + SCROLL_EVERY;
                }
                pattern.render_into(&mut frame, counter, kaiwa_devices::wall_clock_us());
                if frame.write_rgba(&mut rgba).is_ok() {
                    let pixels: Vec<u32> = rgba[..usize::from(W) * strip * 4]
                        .chunks_exact(4)
                        .map(|p| u32::from(p[0]) << 16 | u32::from(p[1]) << 8 | u32::from(p[2]))
                        .collect();
                    xvfb.put_rgb((0, 0), W, &pixels);
                }
                counter += 1;
                std::thread::sleep(STAMP_EVERY.saturating_sub(now.elapsed()));
            }
        })?;
        Ok(Painter { stop, thread: Some(thread), display })
    }
}

impl Drop for Painter {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Child2(Child);

impl Drop for Child2 {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kaiwa_call(kaiwa: &Path, server: &TestServer, room: &str, name: &str, seconds: u64) -> Command {
    let mut cmd = Command::new(kaiwa);
    cmd.args(["call", "--server", &format!("ws://{}/ws", server.addr), "--bind", "127.0.0.1:0", "--quiet"])
        .args(["--room", room, "--name", name, "--audio", "none", "--video", "none"])
        .args(["--duration", &seconds.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Chromium sharing its own tab, which the browser client covers with the same picture in bench mode
/// (`?bench=screen`, `assets/web/benchscreen.js`), at 1920×1080.
async fn chromium_sharing(server: &TestServer, room: &str) -> anyhow::Result<(Browser, Page)> {
    let browser = Browser::launch(LaunchOptions {
        // The tab as large as the picture (the last --window-size wins).
        extra_args: vec!["--auto-accept-this-tab-capture".into(), format!("--window-size={W},{H}")],
        real_devices: true,
        ..Default::default()
    })
    .await?;
    let url = server.url(&format!("/r/{room}?name=C&autojoin=1&share=tab&bench=screen"));
    let page = browser.new_page("C", &url).await?;
    page.set_viewport(u32::from(W), u32::from(H)).await?;
    page.wait_for("window.kaiwa && kaiwa.state().myId", Duration::from_secs(30)).await?;
    // No camera or microphone (no fake devices, or the tab's capture would be fake too): the tab is all
    // it sends.
    page.click("#toggle-share").await?;
    page.wait_for("kaiwa.state().sharing", Duration::from_secs(20))
        .await
        .context("Chromium did not share")?;
    Ok((browser, page))
}

/// The receiver's stats log lines: (seconds since its start, its only peer's figures).
fn stats_log(path: &Path) -> Vec<(f64, Value)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| Some((v["t"].as_f64()?, v["peers"].get(0)?.clone())))
        .collect()
}

async fn one_call(
    args: &Args,
    kaiwa: &Path,
    server: &TestServer,
    work: &Path,
    n: usize,
    sender: Sender,
) -> anyhow::Result<Figures> {
    let painter = Painter::start()?;
    let room = format!("screen-{n}-{}", sender.label());
    let total = args.warmup + args.seconds + 10;
    let log = work.join(format!("{room}.log.jsonl"));
    let json = work.join(format!("{room}.json"));
    let mut receiver = kaiwa_call(kaiwa, server, &room, "R", total);
    receiver.arg("--stats-log").arg(&log).arg("--stats-json").arg(&json);
    if let Some(dir) = std::env::var_os("KAIWA_BENCH_RECORD") {
        receiver.arg("--record").arg(PathBuf::from(dir).join(&room));
    }
    let mut receiver = Child2(receiver.spawn().context("receiver")?);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut native: Option<Child2> = None;
    let mut chromium: Option<(Browser, Page)> = None;
    let pid = match sender {
        Sender::Native => {
            let mut cmd = kaiwa_call(kaiwa, server, &room, "N", total);
            cmd.arg("--share").arg("screen").env("DISPLAY", &painter.display);
            cmd.env_remove("WAYLAND_DISPLAY").env_remove("XDG_SESSION_TYPE");
            let child = Child2(cmd.spawn().context("native sender")?);
            let pid = child.0.id();
            native = Some(child);
            pid
        }
        Sender::Chromium => {
            let (browser, page) = chromium_sharing(server, &room).await?;
            let pid = browser.pid();
            chromium = Some((browser, page));
            pid
        }
    };
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let cpu0 = procstat::cpu_seconds(pid);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let cpu_pct = (procstat::cpu_seconds(pid) - cpu0) / t0.elapsed().as_secs_f64() * 100.0;
    let window = (started.elapsed().as_secs_f64() - args.seconds as f64, started.elapsed().as_secs_f64());
    drop(chromium);
    drop(native);
    // The receiver writes its summary when its duration is over.
    let deadline = Instant::now() + Duration::from_secs(total + 30);
    while receiver.0.try_wait()?.is_none() {
        if Instant::now() > deadline {
            bail!("the receiver did not finish");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let lines = stats_log(&log);
    // The receiver started ~1 s before the sender's clock: its log's times are a little ahead.
    let at = |t: f64| lines.iter().min_by(|a, b| (a.0 - t).abs().total_cmp(&(b.0 - t).abs())).cloned();
    let (Some((ta, a)), Some((tb, b))) = (at(window.0 + 1.0), at(window.1 + 1.0)) else {
        bail!("the receiver logged no stats");
    };
    let span = (tb - ta).max(1.0);
    if std::env::var_os("KAIWA_BENCH_DUMP").is_some() {
        println!("receiver at {ta:.1} s: {a}\nreceiver at {tb:.1} s: {b}");
        println!("summary: {}", std::fs::read_to_string(&json).unwrap_or_default().replace('\n', " "));
    }
    let num = |v: &Value, path: &[&str]| path.iter().fold(v, |v, k| &v[*k]).as_f64().unwrap_or(0.0);
    let kbps = (num(&b, &["bytes_received"]) - num(&a, &["bytes_received"])) * 8.0 / 1000.0 / span;
    let fps = (num(&b, &["screen_in", "frames_decoded"]) - num(&a, &["screen_in", "frames_decoded"])) / span;
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default()).unwrap_or_default();
    let peer = &summary[0];
    Ok(Figures {
        sender,
        cpu_pct,
        kbps,
        fps,
        size: (b["screen_in"]["width"].as_u64().unwrap_or(0), b["screen_in"]["height"].as_u64().unwrap_or(0)),
        freezes: (num(&b, &["screen_in", "freezes"]) - num(&a, &["screen_in", "freezes"])) as u64,
        latency_p50: peer["screen_latency"]["p50_ms"].as_f64(),
        latency_p95: peer["screen_latency"]["p95_ms"].as_f64(),
        codec: b["screen_in"]["codec"].as_str().unwrap_or("-").to_owned(),
    })
}

fn line(f: &Figures) -> String {
    let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
    format!(
        "| {} | {:.1} | {:.0} | {:.1} | {}×{} | {} | {} / {} | {} |",
        f.sender.label(),
        f.cpu_pct,
        f.kbps,
        f.fps,
        f.size.0,
        f.size.1,
        f.freezes,
        ms(f.latency_p50),
        ms(f.latency_p95),
        f.codec
    )
}

pub async fn run_screen(args: &Args, kaiwa: PathBuf) -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let work = std::env::temp_dir().join(format!("kaiwa-bench-screen-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let mut all: Vec<Figures> = Vec::new();
    let mut failures = Vec::new();
    let mut n = 0;
    for run in 0..args.runs {
        let order = if run % 2 == 0 {
            [Sender::Native, Sender::Chromium]
        } else {
            [Sender::Chromium, Sender::Native]
        };
        for sender in order {
            n += 1;
            let what = format!("run {}/{} screen {}", run + 1, args.runs, sender.label());
            let limit = Duration::from_secs(args.warmup + args.seconds + 120);
            if let Some(f) =
                crate::bounded(&what, limit, one_call(args, &kaiwa, &server, &work, n, sender), &mut failures)
                    .await
            {
                println!("{what}: {}", line(&f));
                all.push(f);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    let mut md = String::from(
        "# Sharing a 1920×1080 screen with changing text: native vs Chromium\n\n\
         Written by `scripts/bench.sh --screen` (crates/kaiwa-bench/src/screen.rs). A page of text scrolling \
         by a line every 250 ms and a stamped strip repainted every 100 ms, shared at up to 15 fps by \
         `kaiwa call --share screen` from an Xvfb display or by the browser client sharing its own tab, which shows the same picture, to \
         a native receiver on loopback. CPU: the sender's process tree, % of one core; bitrate and frame \
         rate: what the receiver got over the measured window; latency: paint → decoded, from the stamp.\n\n",
    );
    md += &format!(
        "{} s measured after {} s of warm-up per call, {} runs.\n\n",
        args.seconds, args.warmup, args.runs
    );
    md += "| sender | CPU % | kbit/s | fps | size | freezes | latency p50 / p95 ms | codec |\n|---|---|---|---|---|---|---|---|\n";
    for sender in [Sender::Native, Sender::Chromium] {
        let of: Vec<&Figures> = all.iter().filter(|f| f.sender == sender).collect();
        let median = |get: &dyn Fn(&Figures) -> Option<f64>| {
            stats::percentile(&of.iter().filter_map(|f| get(f)).collect::<Vec<_>>(), 0.5)
        };
        if let Some(first) = of.first() {
            let m = Figures {
                sender,
                cpu_pct: median(&|f| Some(f.cpu_pct)).unwrap_or(0.0),
                kbps: median(&|f| Some(f.kbps)).unwrap_or(0.0),
                fps: median(&|f| Some(f.fps)).unwrap_or(0.0),
                size: first.size,
                freezes: of.iter().map(|f| f.freezes).sum(),
                latency_p50: median(&|f| f.latency_p50),
                latency_p95: median(&|f| f.latency_p95),
                codec: first.codec.clone(),
            };
            md += &line(&m);
            md.push('\n');
        }
    }
    md += "\nMedians over runs (freezes: the sum). Every call:\n\n| sender | CPU % | kbit/s | fps | size | freezes | latency p50 / p95 ms | codec |\n|---|---|---|---|---|---|---|---|\n";
    for f in &all {
        md += &line(f);
        md.push('\n');
    }
    for failure in &failures {
        md += &format!("\nFailed: {failure}\n");
    }
    std::fs::create_dir_all(&args.out_dir)?;
    let path = args.out_dir.join("SCREEN.md");
    std::fs::write(&path, md)?;
    println!("wrote {}", path.display());
    Ok(())
}

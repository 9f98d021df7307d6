//! The contenders as call participants: a `kaiwa call` process, or the browser client in its own headless
//! Chromium or Firefox (bench mode, see `assets/web/bench.js`). Each reports, per remote peer, what it
//! measured: first frame, video and audio latency samples, received size and frame rate.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kaiwa_browser_tests::{Browser, Firefox, FirefoxPage, LaunchOptions, Page, TestServer};
use serde_json::{Value, json};

/// Upper bound for a client to start and join its room.
const JOIN_TIMEOUT: Duration = Duration::from_secs(40);
/// Upper bound for a `kaiwa call` to leave and write its stats after SIGINT.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Native,
    Chromium,
    /// Firefox without OpenH264: calls with it are VP8.
    Firefox,
}

impl Kind {
    pub fn letter(self) -> char {
        match self {
            Kind::Native => 'N',
            Kind::Chromium => 'C',
            Kind::Firefox => 'F',
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Native => "native",
            Kind::Chromium => "Chromium",
            Kind::Firefox => "Firefox",
        }
    }

    /// Participants are named `N1`, `C2`, …: the kind is the first letter.
    fn of_name(name: &str) -> Option<Kind> {
        match name.chars().next()? {
            'N' => Some(Kind::Native),
            'C' => Some(Kind::Chromium),
            'F' => Some(Kind::Firefox),
            _ => None,
        }
    }
}

/// What the clients send: live stamped sources (latency) or the same files on both sides (CPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Latency,
    File,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Latency => "latency",
            Mode::File => "file",
        }
    }
}

/// Everything a client needs to join one call.
pub struct Setup<'a> {
    pub kaiwa: &'a Path,
    pub server: &'a TestServer,
    pub room: &'a str,
    pub mode: Mode,
    pub size: (u32, u32),
    pub fps: u32,
    pub max_kbps: u32,
    pub video_file: &'a Path,
    pub audio_file: &'a Path,
    pub work: &'a Path,
    /// Environment for Chromium (its PulseAudio server).
    pub browser_env: &'a [(String, String)],
}

/// What a client measured of one remote peer.
#[derive(Debug, Clone)]
pub struct Remote {
    pub from: Kind,
    pub first_frame_ms: Option<f64>,
    pub video_ms: Vec<f64>,
    pub audio_ms: Vec<f64>,
    /// Share of the received audio that was concealment (no packet to play), %: a sender that delivers
    /// its audio in bursts shows here, and its latency figures are then not to be trusted.
    pub audio_concealed_pct: Option<f64>,
    pub size: (u32, u32),
    pub fps: f64,
}

pub enum Client {
    Native(NativeClient),
    Chromium(ChromiumClient),
    Firefox(FirefoxClient),
}

pub struct NativeClient {
    child: Child,
    json: PathBuf,
    log: PathBuf,
    started: Instant,
}

pub struct FirefoxClient {
    firefox: Firefox,
    page: FirefoxPage,
    tag: String,
}

pub struct ChromiumClient {
    browser: Browser,
    page: Page,
    /// `ROOM-NAME`, for `KAIWA_BENCH_DUMP`.
    tag: String,
}

impl Drop for NativeClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn f64_of(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

pub(crate) fn samples(v: &Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().filter_map(f64_of).collect()).unwrap_or_default()
}

impl Client {
    pub async fn start(kind: Kind, name: &str, s: &Setup<'_>) -> anyhow::Result<Client> {
        match kind {
            Kind::Native => NativeClient::start(name, s).map(Client::Native),
            Kind::Chromium => ChromiumClient::start(name, s).await.map(Client::Chromium),
            Kind::Firefox => FirefoxClient::start(name, s).await.map(Client::Firefox),
        }
    }

    /// The root of the client's process tree.
    pub fn pid(&self) -> u32 {
        match self {
            Client::Native(n) => n.child.id(),
            Client::Chromium(c) => c.browser.pid(),
            Client::Firefox(f) => f.firefox.pid(),
        }
    }

    pub async fn wait_joined(&mut self) -> anyhow::Result<()> {
        match self {
            Client::Native(n) => n.wait_joined().await,
            Client::Chromium(c) => {
                c.page.wait_for("window.kaiwa && window.kaiwa.state().myId", JOIN_TIMEOUT).await?;
                Ok(())
            }
            Client::Firefox(f) => {
                f.page.wait_for("window.kaiwa && window.kaiwa.state().myId", JOIN_TIMEOUT).await?;
                Ok(())
            }
        }
    }

    /// Ends the client's call and returns what it measured.
    pub async fn finish(self) -> anyhow::Result<Vec<Remote>> {
        match self {
            Client::Native(n) => n.finish().await,
            Client::Chromium(c) => c.finish().await,
            Client::Firefox(f) => {
                // As one string: BiDi serializes a result value by value (every number an object of its
                // own), which took Firefox more than 30 s for a call's samples.
                let text = f.page.eval("JSON.stringify(window.kaiwa.bench())").await?;
                let v: serde_json::Value = serde_json::from_str(text.as_str().unwrap_or("null"))?;
                dump(Path::new(&format!("{}.json", f.tag)), &serde_json::to_string_pretty(&v)?)?;
                Ok(browser_remotes(&v))
            }
        }
    }
}

impl NativeClient {
    fn start(name: &str, s: &Setup<'_>) -> anyhow::Result<NativeClient> {
        let json = s.work.join(format!("{}-{name}.json", s.room));
        let log = s.work.join(format!("{}-{name}.log", s.room));
        let (video, audio) = match s.mode {
            Mode::Latency => ("testpattern".to_string(), "clicks".to_string()),
            Mode::File => (s.video_file.display().to_string(), s.audio_file.display().to_string()),
        };
        let mut cmd = Command::new(s.kaiwa);
        cmd.args(["call", "--server", &format!("ws://{}/ws", s.server.addr), "--room", s.room])
            .args(["--name", name, "--bind", "127.0.0.1:0", "--quiet", "--latency-samples"])
            .args(["--size", &format!("{}x{}", s.size.0, s.size.1), "--fps", &s.fps.to_string()])
            .args(["--max-bitrate", &s.max_kbps.to_string(), "--video", &video, "--audio", &audio])
            .arg("--stats-json")
            .arg(&json);
        if s.mode == Mode::File {
            // As Chromium's getUserMedia microphone (and the desktop app) do: echo cancellation, noise
            // suppression and gain control on the sent audio, so CPU calls compare like with like.
            cmd.args(["--audio-processing", "on"]);
        }
        if let Some(dir) = std::env::var_os("KAIWA_BENCH_RECORD") {
            // What this client received, for checking the measurements by hand.
            cmd.arg("--record").arg(Path::new(&dir).join(format!("{}-{name}", s.room)));
        }
        let child = cmd
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log)?)
            .spawn()
            .with_context(|| format!("cannot start {}", s.kaiwa.display()))?;
        Ok(NativeClient { child, json, log, started: Instant::now() })
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" / ")
    }

    async fn wait_joined(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + JOIN_TIMEOUT;
        loop {
            if std::fs::read_to_string(&self.log).is_ok_and(|t| t.contains("joined room")) {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("kaiwa call exited ({status}) before joining: {}", self.log_tail());
            }
            if Instant::now() >= deadline {
                bail!("kaiwa call did not join within {JOIN_TIMEOUT:?}: {}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn finish(mut self) -> anyhow::Result<Vec<Remote>> {
        let call_s = self.started.elapsed().as_secs_f64();
        interrupt(&mut self.child).await?;
        let text = std::fs::read_to_string(&self.json)
            .with_context(|| format!("no stats from kaiwa call: {}", self.log_tail()))?;
        if let Some(name) = self.json.file_name() {
            dump(Path::new(name), &text)?;
        }
        let v: Value = serde_json::from_str(&text)?;
        let mut out = Vec::new();
        for p in v.as_array().into_iter().flatten() {
            let Some(from) = p["name"].as_str().and_then(Kind::of_name) else { continue };
            let first_frame_ms = f64_of(&p["first_frame_ms"]);
            let frames = f64_of(&p["video_in"]["frames_decoded"]).unwrap_or(0.0);
            let receiving_s = call_s - first_frame_ms.unwrap_or(0.0) / 1000.0;
            out.push(Remote {
                from,
                first_frame_ms,
                video_ms: samples(&p["video_latency_samples_ms"]),
                audio_ms: samples(&p["audio_latency_samples_ms"]),
                audio_concealed_pct: share_pct(
                    f64_of(&p["audio_in"]["concealed_frames"]),
                    f64_of(&p["audio_in"]["frames_played"]),
                ),
                size: (
                    p["video_in"]["width"].as_u64().unwrap_or(0) as u32,
                    p["video_in"]["height"].as_u64().unwrap_or(0) as u32,
                ),
                fps: if receiving_s > 0.0 { frames / receiving_s } else { 0.0 },
            });
        }
        Ok(out)
    }
}

/// Ends a `kaiwa call` with SIGINT, as Ctrl-C does (it leaves and writes its statistics), and waits for it.
pub(crate) async fn interrupt(child: &mut Child) -> anyhow::Result<()> {
    // SAFETY: a plain syscall on our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    while child.try_wait()?.is_none() {
        if Instant::now() >= deadline {
            bail!("kaiwa call did not stop within {STOP_TIMEOUT:?} of SIGINT");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

impl ChromiumClient {
    async fn start(name: &str, s: &Setup<'_>) -> anyhow::Result<ChromiumClient> {
        let mut extra_args = Vec::new();
        if s.mode == Mode::File {
            extra_args.push(format!("--use-file-for-fake-video-capture={}", s.video_file.display()));
            extra_args.push(format!("--use-file-for-fake-audio-capture={}", s.audio_file.display()));
        }
        let browser =
            Browser::launch(LaunchOptions { extra_args, env: s.browser_env.to_vec(), ..Default::default() })
                .await?;
        let page = browser.new_page(name, &bench_url(name, s)).await?;
        // The tab Chromium opened at launch would be a second renderer to pay for: close it.
        close_blank_tabs(&browser).await?;
        Ok(ChromiumClient { browser, page, tag: format!("{}-{name}", s.room) })
    }

    async fn finish(self) -> anyhow::Result<Vec<Remote>> {
        let v = self.page.eval("window.kaiwa.bench()").await?;
        dump(Path::new(&format!("{}.json", self.tag)), &serde_json::to_string_pretty(&v)?)?;
        drop(self.browser);
        Ok(browser_remotes(&v))
    }
}

impl FirefoxClient {
    async fn start(name: &str, s: &Setup<'_>) -> anyhow::Result<FirefoxClient> {
        anyhow::ensure!(s.mode == Mode::Latency, "Firefox takes part in latency calls only (no file camera)");
        let firefox = Firefox::launch_with_env(s.browser_env).await?;
        let page = firefox.new_page(name, &bench_url(name, s)).await?;
        Ok(FirefoxClient { firefox, page, tag: format!("{}-{name}", s.room) })
    }
}

/// The page URL of a browser client in bench mode.
fn bench_url(name: &str, s: &Setup<'_>) -> String {
    s.server.url(&format!(
        "/r/{}?name={name}&autojoin=1&bench={}&size={}x{}&fps={}&maxkbps={}",
        s.room,
        s.mode.label(),
        s.size.0,
        s.size.1,
        s.fps,
        s.max_kbps
    ))
}

/// What a browser client in bench mode measured (`window.kaiwa.bench()`), per remote peer.
fn browser_remotes(v: &Value) -> Vec<Remote> {
    let mut out = Vec::new();
    for p in v["peers"].as_array().into_iter().flatten() {
        let Some(from) = p["name"].as_str().and_then(Kind::of_name) else { continue };
        let received: Vec<&Value> = p["received"].as_array().into_iter().flatten().collect();
        let size = received
            .last()
            .map(|r| (r["width"].as_u64().unwrap_or(0) as u32, r["height"].as_u64().unwrap_or(0) as u32))
            .unwrap_or((0, 0));
        // getStats' framesPerSecond once frames flow (the first readings are 0 or missing).
        let fps: Vec<f64> = received.iter().filter_map(|r| f64_of(&r["fps"])).filter(|&f| f > 0.0).collect();
        out.push(Remote {
            from,
            first_frame_ms: f64_of(&p["firstFrameMs"]),
            video_ms: samples(&p["videoLatencyMs"]),
            audio_ms: samples(&p["audioLatencyMs"]),
            audio_concealed_pct: share_pct(
                f64_of(&p["audioIn"]["concealedSamples"]),
                f64_of(&p["audioIn"]["totalSamples"]),
            ),
            size,
            fps: crate::stats::median(&fps).unwrap_or(0.0),
        });
    }
    out
}

/// `part` as a percentage of `whole`, when both are known and `whole` is not zero.
pub(crate) fn share_pct(part: Option<f64>, whole: Option<f64>) -> Option<f64> {
    match (part, whole) {
        (Some(p), Some(w)) if w > 0.0 => Some(p / w * 100.0),
        _ => None,
    }
}

/// Keeps a copy of a client's raw results in `KAIWA_BENCH_DUMP` (made if missing), when it is set.
/// Closes the tab Chromium opens at launch (a second renderer to pay for).
pub(crate) async fn close_blank_tabs(browser: &Browser) -> anyhow::Result<()> {
    let targets = browser.call("Target.getTargets", json!({})).await?;
    for t in targets["targetInfos"].as_array().into_iter().flatten() {
        if t["type"] == "page"
            && t["url"] == "about:blank"
            && let Some(id) = t["targetId"].as_str()
        {
            browser.call("Target.closeTarget", json!({ "targetId": id })).await?;
        }
    }
    Ok(())
}

fn dump(name: &Path, text: &str) -> anyhow::Result<()> {
    let Some(dir) = std::env::var_os("KAIWA_BENCH_DUMP") else { return Ok(()) };
    let path = Path::new(&dir).join(name);
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, text))
        .with_context(|| format!("KAIWA_BENCH_DUMP: writing {}", path.display()))
}

//! `--networks`: calls through the network lab (`kaiwa_testkit::lab`), native ↔ native, Chromium ↔ Chromium
//! and native ↔ Chromium, per link profile, side by side in one run.
//!
//! Each call gets its own [`Lab`] with hosts `srv` (the signaling server, in-process, its listener bound
//! inside that namespace), `a` and `b` (the callers: `kaiwa call` started with `ip netns exec`, or a
//! headless Chromium running there whose DevTools socket is opened from inside the namespace). The profile
//! goes on `a`'s access link just before the callers start, so both directions of the call cross it and
//! a profile's later changes (the `drop`) count from then. Two kinds of content ([`Content`]): the same
//! files on both sides (the test pattern as Y4M and a WAV of tone bursts: the same pixels, so encoders and
//! bitrates compare), or live stamped sources (the latency mode of the loopback runs: the test pattern +
//! clicks, the bench page's canvas port + WebAudio clicks) for glass-to-glass and mouth-to-ear latency.
//! Everything is sent at 640×480, 30 fps, 2.5 Mbit/s at most; Chromium adapts as for a camera
//! (`&adapt=1`: no `maintain-resolution`). Each receiver's figures are followed once a second
//! (`kaiwa call --stats-log`, the page's `getStats` series) on one clock: seconds since the profile was
//! applied.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::client::{Kind, close_blank_tabs};
use anyhow::{Context, bail};
use kaiwa_browser_tests::{Browser, LaunchOptions, Page, TestServer};
use kaiwa_testkit::lab::{Host, Lab, Profile};

/// Upper bound for a client to start and join.
const JOIN_TIMEOUT: Duration = Duration::from_secs(40);
/// What every sender sends.
pub const SIZE: (u32, u32) = (640, 480);
pub const FPS: u32 = 30;
pub const MAX_KBPS: u32 = 2500;
/// After a profile's last change, the call goes on at least this long (recovery is measured in it).
const AFTER_LAST_CHANGE: Duration = Duration::from_secs(20);

/// What the callers send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Content {
    /// The same Y4M and WAV files on both sides.
    File,
    /// Live stamped video and clicks (latency).
    Live,
}

impl Content {
    pub fn label(self) -> &'static str {
        match self {
            Content::File => "file",
            Content::Live => "live",
        }
    }
}

/// Who calls whom: the caller on host `a` (whose link carries a two-party profile) and the others, on
/// `b` (`c`, `d` in a mesh).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pair {
    pub name: &'static str,
    pub a: Kind,
    pub b: Kind,
    /// Participants: 2, or 4 for a mesh (all of kind `b` after `a`).
    pub n: usize,
}

pub const PAIRS: [Pair; 3] = [
    Pair { name: "nn", a: Kind::Native, b: Kind::Native, n: 2 },
    Pair { name: "cc", a: Kind::Chromium, b: Kind::Chromium, n: 2 },
    Pair { name: "nc", a: Kind::Chromium, b: Kind::Native, n: 2 },
];

/// The 4-person meshes, for the mesh profiles (`mesh-uplink-3m`): on every caller's link.
pub const MESH_PAIRS: [Pair; 2] = [
    Pair { name: "mesh-nn", a: Kind::Native, b: Kind::Native, n: 4 },
    Pair { name: "mesh-cc", a: Kind::Chromium, b: Kind::Chromium, n: 4 },
];

/// Host names, in order of joining.
pub const HOSTS: [&str; 4] = ["a", "b", "c", "d"];

impl Pair {
    pub fn label(self) -> &'static str {
        match self.name {
            "nn" => "native ↔ native",
            "cc" => "Chromium ↔ Chromium",
            "mesh-nn" => "4 native (mesh)",
            "mesh-cc" => "4 Chromium (mesh)",
            _ => "native ↔ Chromium",
        }
    }

    /// The kind of the `i`-th participant.
    pub fn kind(self, i: usize) -> Kind {
        if i == 0 { self.a } else { self.b }
    }
}

/// A profile meant for every host of a mesh rather than one caller's link.
pub fn is_mesh(profile: &Profile) -> bool {
    profile.name.starts_with("mesh")
}

/// The calls to make through `profile` from the wanted two-party pairs: a mesh profile gets the mesh of
/// each wanted contender (nn → 4 native, cc → 4 Chromium; no mixed mesh).
pub fn pairs_for(profile: &Profile, wanted: &[Pair]) -> Vec<Pair> {
    if !is_mesh(profile) {
        return wanted.to_vec();
    }
    wanted
        .iter()
        .filter_map(|p| match p.name {
            "nn" => Some(MESH_PAIRS[0]),
            "cc" => Some(MESH_PAIRS[1]),
            _ => None,
        })
        .collect()
}

/// One second of what a receiver got; counters are totals since the call started.
#[derive(Debug, Clone, Default)]
pub struct Point {
    /// Seconds since the profile was applied.
    pub t: f64,
    pub frames: f64,
    pub freezes: f64,
    pub freeze_s: f64,
    pub width: u32,
    pub height: u32,
    /// Everything received on the connection (video, audio, RTCP), bytes.
    pub bytes: f64,
}

/// One receiver in one call.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Host of the receiver: `a` (behind the profile's link) or `b`.
    pub host: &'static str,
    pub kind: Kind,
    pub from: Kind,
    pub series: Vec<Point>,
    pub video_ms: Vec<f64>,
    pub audio_ms: Vec<f64>,
    pub audio_concealed_pct: Option<f64>,
    /// Luma PSNR of sampled frames against the sent frame with the same stamp, dB (file content only).
    pub psnr_db: Vec<f64>,
}

#[derive(Debug, Clone)]
pub struct NetCall {
    pub profile: String,
    pub pair: Pair,
    pub content: Content,
    /// Length of the call from the profile's application, s.
    pub seconds: f64,
    /// When the profile's link came back (its last change), s after application.
    pub restored_at: Option<f64>,
    pub drop_at: Option<f64>,
    pub receivers: Vec<Receiver>,
}

/// Settings of the network runs.
pub struct NetBench {
    pub kaiwa: PathBuf,
    pub work: PathBuf,
    pub browser_env: Vec<(String, String)>,
    pub seconds: u64,
    pub calls: usize,
    /// The files of [`Content::File`] (see `content.rs`).
    pub video_file: PathBuf,
    pub audio_file: PathBuf,
}

/// How long a call through `profile` lasts: `seconds`, or longer to see the profile's last change and
/// what follows it.
pub fn call_length(profile: &Profile, seconds: u64) -> Duration {
    let last = profile.changes.iter().map(|(at, _)| *at).max();
    Duration::from_secs(seconds).max(last.map_or(Duration::ZERO, |l| l + AFTER_LAST_CHANGE))
}

fn wall_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// A caller in the lab.
enum Caller {
    Native { child: Child, log: PathBuf, stats_log: PathBuf, json: PathBuf, started: Instant },
    Chromium { browser: Browser, page: Option<Page> },
}

impl Drop for Caller {
    fn drop(&mut self) {
        if let Caller::Native { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" / ")
}

async fn launch_chromium(
    host: &Host,
    server: &TestServer,
    env: &[(String, String)],
    files: Option<(&Path, &Path)>,
) -> anyhow::Result<Browser> {
    let mut extra_args = vec![
        format!("--unsafely-treat-insecure-origin-as-secure={}", server.url("")),
        "--no-proxy-server".into(),
    ];
    if let Some((video, audio)) = files {
        extra_args.push(format!("--use-file-for-fake-video-capture={}", video.display()));
        extra_args.push(format!("--use-file-for-fake-audio-capture={}", audio.display()));
    }
    let opts = LaunchOptions { extra_args, env: env.to_vec(), ..Default::default() }.in_lab(host);
    Browser::launch(opts).await
}

impl NetBench {
    /// One call through `profile` (seeded by `seed`, the same for every pair of a run).
    pub async fn call(
        &mut self,
        profile: &Profile,
        pair: Pair,
        content: Content,
        seed: u64,
    ) -> anyhow::Result<NetCall> {
        self.calls += 1;
        let room = format!("net-{}-{}-{}-{}", self.calls, profile.name, pair.name, content.label());
        let files =
            (content == Content::File).then_some((self.video_file.as_path(), self.audio_file.as_path()));
        let lab = Lab::new(seed).context("the network lab (needs root and /dev/net/tun)")?;
        let srv = lab.add_host("srv")?;
        let hosts: Vec<Host> = HOSTS[..pair.n].iter().map(|h| lab.add_host(h)).collect::<Result<_, _>>()?;
        let server = TestServer::from_listener(srv.tcp_listener(0)?)?;
        let kinds: Vec<Kind> = (0..pair.n).map(|i| pair.kind(i)).collect();
        // Browsers start before the profile goes on (their start is not part of the call); pages load
        // after, through the link.
        let mut callers: Vec<Option<Caller>> = Vec::new();
        for (host, &kind) in hosts.iter().zip(&kinds) {
            callers.push(match kind {
                Kind::Chromium => Some(Caller::Chromium {
                    browser: launch_chromium(host, &server, &self.browser_env, files).await?,
                    page: None,
                }),
                Kind::Native => None,
                Kind::Firefox => anyhow::bail!("the network bench has no Firefox pairs"),
            });
        }
        let length = call_length(profile, self.seconds);
        if is_mesh(profile) {
            for host in &hosts {
                lab.apply(host, profile)?;
            }
        } else {
            lab.apply(&hosts[0], profile)?;
        }
        let applied = Instant::now();
        let applied_wall = wall_ms();
        for (i, (host, &kind)) in hosts.iter().zip(&kinds).enumerate() {
            let name = format!("{}{}", kind.letter(), host.name);
            match kind {
                Kind::Firefox => anyhow::bail!("the network bench has no Firefox pairs"),
                Kind::Native => {
                    let base = self.work.join(format!("{room}-{name}"));
                    let (log, stats_log, json) = (
                        base.with_extension("log"),
                        base.with_extension("jsonl"),
                        base.with_extension("json"),
                    );
                    let (video, audio) = match files {
                        Some((v, a)) => (v.display().to_string(), a.display().to_string()),
                        None => ("testpattern".into(), "clicks".into()),
                    };
                    let mut cmd = host.command(&self.kaiwa);
                    cmd.args(["call", "--server", &format!("ws://{}/ws", server.addr), "--room", &room])
                        .args(["--name", &name, "--bind", &format!("{}:0", host.addr), "--quiet"])
                        .args(["--size", &format!("{}x{}", SIZE.0, SIZE.1), "--fps", &FPS.to_string()])
                        .args(["--max-bitrate", &MAX_KBPS.to_string(), "--video", &video])
                        .args(["--audio", &audio, "--latency-samples", "--stats-json"])
                        .arg(&json)
                        .arg("--stats-log")
                        .arg(&stats_log);
                    if let Some((video, _)) = files {
                        cmd.arg("--psnr-reference").arg(video);
                    }
                    let child = cmd
                        .env("RUST_LOG", "error")
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(std::fs::File::create(&log)?)
                        .spawn()
                        .with_context(|| format!("cannot start {}", self.kaiwa.display()))?;
                    let started = Instant::now();
                    let deadline = started + JOIN_TIMEOUT;
                    let mut caller = Caller::Native { child, log: log.clone(), stats_log, json, started };
                    let Caller::Native { child, .. } = &mut caller else { unreachable!() };
                    while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("joined room")) {
                        if let Some(status) = child.try_wait()? {
                            bail!("{name}: kaiwa call exited ({status}) before joining: {}", log_tail(&log));
                        }
                        if Instant::now() >= deadline {
                            bail!(
                                "{name}: kaiwa call did not join within {JOIN_TIMEOUT:?}: {}",
                                log_tail(&log)
                            );
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    callers[i] = Some(caller);
                }
                Kind::Chromium => {
                    let Some(Caller::Chromium { browser, page }) = callers[i].as_mut() else {
                        unreachable!()
                    };
                    let url = server.url(&format!(
                        "/r/{room}?name={name}&autojoin=1&bench={}&adapt=1&psnr=1&size={}x{}&fps={FPS}&maxkbps={MAX_KBPS}",
                        if files.is_some() { "file" } else { "latency" },
                        SIZE.0,
                        SIZE.1
                    ));
                    let p = browser.new_page(&name, &url).await?;
                    close_blank_tabs(browser).await?;
                    p.wait_for("window.kaiwa && window.kaiwa.state().myId", JOIN_TIMEOUT).await?;
                    *page = Some(p);
                }
            }
        }
        let end = applied + length;
        while Instant::now() < end {
            tokio::time::sleep((end - Instant::now()).min(Duration::from_secs(1))).await;
        }
        let mut receivers = Vec::new();
        for (i, caller) in callers.iter_mut().enumerate() {
            let host = HOSTS[i];
            let caller = caller.as_mut().context("a caller did not start")?;
            let mut got = finish(caller, host, applied, applied_wall).await?;
            if files.is_some() {
                // The files' stamps carry no capture time and their bursts no click timing.
                for r in &mut got {
                    r.video_ms.clear();
                    r.audio_ms.clear();
                }
            }
            receivers.extend(got);
        }
        drop(callers);
        drop(server);
        drop(lab);
        let changes: Vec<f64> = profile.changes.iter().map(|(at, _)| at.as_secs_f64()).collect();
        Ok(NetCall {
            profile: profile.name.clone(),
            pair,
            content,
            seconds: length.as_secs_f64(),
            drop_at: changes.first().copied().filter(|_| changes.len() > 1),
            restored_at: changes.last().copied().filter(|_| changes.len() > 1),
            receivers,
        })
    }
}

mod finish;
use finish::finish;
mod figures;
pub use figures::{Figures, figures};

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

use anyhow::{Context, bail};
use kaiwa_browser_tests::{Browser, LaunchOptions, Page, TestServer};
use kaiwa_testkit::lab::{Host, Lab, Profile};
use serde_json::Value;

use crate::client::{Kind, close_blank_tabs, f64_of, samples, share_pct};

/// Upper bound for a client to start and join.
const JOIN_TIMEOUT: Duration = Duration::from_secs(40);
/// Upper bound for a `kaiwa call` to leave after SIGINT.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
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

/// Ends a caller's call and reads what it received.
async fn finish(
    caller: &mut Caller,
    host: &'static str,
    applied: Instant,
    applied_wall: f64,
) -> anyhow::Result<Vec<Receiver>> {
    match caller {
        Caller::Native { child, log, stats_log, json, started } => {
            // SAFETY: a plain syscall on our own child (`ip netns exec` has exec'd `kaiwa` in its place).
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
            let offset = started.duration_since(applied).as_secs_f64();
            let text = std::fs::read_to_string(&*json)
                .with_context(|| format!("no stats from kaiwa call: {}", log_tail(log)))?;
            let fin: Value = serde_json::from_str(&text)?;
            let lines = std::fs::read_to_string(&*stats_log).unwrap_or_default();
            let mut out = Vec::new();
            for p in fin.as_array().into_iter().flatten() {
                let Some(from) = p["name"].as_str().and_then(kind_of) else { continue };
                let id = p["id"].as_str().unwrap_or_default();
                let series = lines
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .filter_map(|v| {
                        let t = f64_of(&v["t"])? + offset;
                        let peer = v["peers"].as_array()?.iter().find(|q| q["id"] == id)?.clone();
                        Some(native_point(t, &peer))
                    })
                    .collect();
                out.push(Receiver {
                    host,
                    kind: Kind::Native,
                    from,
                    series,
                    psnr_db: samples(&p["psnr_db"]),
                    video_ms: samples(&p["video_latency_samples_ms"]),
                    audio_ms: samples(&p["audio_latency_samples_ms"]),
                    audio_concealed_pct: share_pct(
                        f64_of(&p["audio_in"]["concealed_frames"]),
                        f64_of(&p["audio_in"]["frames_played"]),
                    ),
                });
            }
            Ok(out)
        }
        Caller::Chromium { page, .. } => {
            let page = page.as_ref().context("Chromium never opened its page")?;
            let v = page.eval("window.kaiwa.bench()").await?;
            let mut out = Vec::new();
            for p in v["peers"].as_array().into_iter().flatten() {
                let Some(from) = p["name"].as_str().and_then(kind_of) else { continue };
                let series = p["series"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|s| s.get("framesDecoded").is_some())
                    .filter_map(|s| {
                        Some(Point {
                            t: (f64_of(&s["t"])? - applied_wall) / 1000.0,
                            frames: f64_of(&s["framesDecoded"]).unwrap_or(0.0),
                            freezes: f64_of(&s["freezeCount"]).unwrap_or(0.0),
                            freeze_s: f64_of(&s["totalFreezesDuration"]).unwrap_or(0.0),
                            width: s["width"].as_u64().unwrap_or(0) as u32,
                            height: s["height"].as_u64().unwrap_or(0) as u32,
                            bytes: f64_of(&s["bytesReceived"]).unwrap_or(0.0),
                        })
                    })
                    .collect();
                out.push(Receiver {
                    host,
                    kind: Kind::Chromium,
                    from,
                    series,
                    psnr_db: samples(&p["psnrDb"]),
                    video_ms: samples(&p["videoLatencyMs"]),
                    audio_ms: samples(&p["audioLatencyMs"]),
                    audio_concealed_pct: share_pct(
                        f64_of(&p["audioIn"]["concealedSamples"]),
                        f64_of(&p["audioIn"]["totalSamples"]),
                    ),
                });
            }
            if let Some(dir) = std::env::var_os("KAIWA_BENCH_DUMP") {
                let _ = std::fs::create_dir_all(&dir);
                let _ = std::fs::write(
                    Path::new(&dir).join(format!("{}-{host}.json", page.label)),
                    serde_json::to_string_pretty(&v)?,
                );
            }
            Ok(out)
        }
    }
}

fn kind_of(name: &str) -> Option<Kind> {
    match name.chars().next()? {
        'N' => Some(Kind::Native),
        'C' => Some(Kind::Chromium),
        _ => None,
    }
}

fn native_point(t: f64, peer: &Value) -> Point {
    let v = &peer["video_in"];
    Point {
        t,
        frames: f64_of(&v["frames_decoded"]).unwrap_or(0.0),
        freezes: f64_of(&v["freezes"]).unwrap_or(0.0),
        freeze_s: f64_of(&v["freeze_ms"]).unwrap_or(0.0) / 1000.0,
        width: v["width"].as_u64().unwrap_or(0) as u32,
        height: v["height"].as_u64().unwrap_or(0) as u32,
        bytes: f64_of(&peer["bytes_received"]).unwrap_or(0.0),
    }
}

/// The figures of one receiver in one call.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub freezes: f64,
    pub freeze_s: f64,
    /// Frames decoded per second from the first decoded frame to the end.
    pub fps: Option<f64>,
    /// The size shown longest, and the share of seconds (after the first frame) at the full size.
    pub size: (u32, u32),
    pub full_pct: Option<f64>,
    /// Received on the connection, kbit/s, from the first frame to the end.
    pub kbps: Option<f64>,
    pub video_p50: Option<f64>,
    pub video_p95: Option<f64>,
    pub audio_p50: Option<f64>,
    pub audio_p95: Option<f64>,
    pub concealed_pct: Option<f64>,
    /// Seconds from the link coming back to full size for good (drop profiles only); `None` = never.
    pub recovery_s: Option<f64>,
    /// Median and 10th percentile of the sampled frames' luma PSNR, dB.
    pub psnr_p50: Option<f64>,
    pub psnr_p10: Option<f64>,
    /// Seconds from the start to the first decoded frame.
    pub first_frame_s: Option<f64>,
}

pub fn figures(call: &NetCall, r: &Receiver) -> Figures {
    use crate::stats::percentile;
    let flowing: Vec<&Point> = r.series.iter().filter(|p| p.frames > 0.0).collect();
    let last = r.series.last();
    let mut f = Figures {
        freezes: last.map_or(0.0, |p| p.freezes),
        freeze_s: last.map_or(0.0, |p| p.freeze_s),
        video_p50: percentile(&r.video_ms, 0.5),
        video_p95: percentile(&r.video_ms, 0.95),
        audio_p50: percentile(&r.audio_ms, 0.5),
        audio_p95: percentile(&r.audio_ms, 0.95),
        concealed_pct: r.audio_concealed_pct,
        psnr_p50: percentile(&r.psnr_db, 0.5),
        psnr_p10: percentile(&r.psnr_db, 0.1),
        first_frame_s: flowing.first().map(|p| p.t),
        ..Default::default()
    };
    if let (Some(a), Some(b)) = (flowing.first(), flowing.last())
        && b.t > a.t
    {
        f.fps = Some((b.frames - a.frames) / (b.t - a.t));
        f.kbps = Some((b.bytes - a.bytes) * 8.0 / 1000.0 / (b.t - a.t));
    }
    let shown: Vec<&&Point> = flowing.iter().filter(|p| p.width > 0).collect();
    if !shown.is_empty() {
        let mut counts: std::collections::BTreeMap<(u32, u32), usize> = Default::default();
        for p in &shown {
            *counts.entry((p.width, p.height)).or_default() += 1;
        }
        f.size = counts.iter().max_by_key(|(s, n)| (**n, s.0)).map(|(s, _)| *s).unwrap_or_default();
        let full = shown.iter().filter(|p| (p.width, p.height) == SIZE).count();
        f.full_pct = Some(full as f64 * 100.0 / shown.len() as f64);
    }
    if let Some(back) = call.restored_at {
        // The first second after the link came back from which every sample is at the full size.
        let after: Vec<&Point> = r.series.iter().filter(|p| p.t >= back).collect();
        let mut from = None;
        for (i, p) in after.iter().enumerate() {
            if after[i..].iter().all(|q| (q.width, q.height) == SIZE) {
                from = Some(p.t - back);
                break;
            }
        }
        f.recovery_s = from;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: f64, frames: f64, height: u32) -> Point {
        Point { t, frames, width: height * 4 / 3, height, bytes: t * 50_000.0, ..Default::default() }
    }

    #[test]
    fn recovery_is_the_first_second_from_which_the_size_stays_full() {
        let heights = [480, 480, 240, 240, 480, 240, 480, 480, 480];
        let series: Vec<Point> =
            heights.iter().enumerate().map(|(i, &h)| point(i as f64, i as f64 * 30.0, h)).collect();
        let receiver = Receiver {
            host: "a",
            kind: Kind::Native,
            from: Kind::Native,
            series,
            video_ms: vec![],
            audio_ms: vec![],
            audio_concealed_pct: None,
            psnr_db: vec![],
        };
        let call = NetCall {
            profile: "drop".into(),
            pair: PAIRS[0],
            content: Content::File,
            seconds: 9.0,
            drop_at: Some(1.0),
            restored_at: Some(3.0),
            receivers: vec![],
        };
        let f = figures(&call, &receiver);
        // Full size at 4 s but small again at 5 s: it stays full from 6 s, 3 s after the link came back.
        assert_eq!(f.recovery_s, Some(3.0));
        assert_eq!(f.fps, Some(30.0));
        assert_eq!(f.kbps, Some(400.0));
        assert_eq!(f.size, (640, 480));
        assert_eq!(f.full_pct.map(f64::round), Some(63.0));
        // The first sample has no frames yet: the window starts at the first decoded frame.
        assert_eq!(f.first_frame_s, Some(1.0));
    }

    #[test]
    fn calls_last_until_well_after_the_last_change() {
        let drop = Profile::by_name("drop").unwrap();
        assert_eq!(call_length(&drop, 20), Duration::from_secs(50));
        assert_eq!(call_length(&Profile::by_name("cap-500k").unwrap(), 20), Duration::from_secs(20));
    }
}

//! What the big-room tests share: a lab host with Janus, the signaling server(s) and Chromium in it, and
//! native clients (`kaiwa call`) that log what they receive.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use kaiwa_browser_tests::{Browser, Firefox, FirefoxPage, LaunchOptions, Page};
use kaiwa_testkit::ServerProcess;
use kaiwa_testkit::janus::Janus;
use kaiwa_testkit::lab::{Host, Lab, Profile};
use kaiwa_testkit::redis::RedisServer;

/// Bound for anything that involves ICE, DTLS and decoded frames on a loaded machine.
pub const MEDIA_WAIT: Duration = Duration::from_secs(60);

/// `kaiwa serve` inside `host`, with Janus for rooms of more than `sfu_above`, and `more` arguments.
fn serve(host: &Host, janus: &Janus, sfu_above: usize, more: &[&str]) -> ServerProcess {
    let mut command = host.command(env!("CARGO_BIN_EXE_kaiwa"));
    command
        .args(["serve", "--listen", &format!("{}:0", host.addr), "--janus", &janus.url])
        .args(["--sfu-above", &sfu_above.to_string(), "--max-room-size", "12"])
        .args(more)
        .env("RUST_LOG", "warn,kaiwa_signaling=info");
    ServerProcess::spawn(command).expect("start kaiwa serve")
}

/// A lab host with Janus, `kaiwa serve` (rooms of more than `sfu_above` through Janus; several of them
/// sharing rooms through Redis in a cluster) and Chromium in it.
pub struct Room {
    pub browser: Browser,
    /// The servers; everyone joins through the first unless told otherwise.
    pub servers: Vec<ServerProcess>,
    pub janus: Option<Janus>,
    pub host: Host,
    pub dir: tempfile::TempDir,
    _redis: Option<RedisServer>,
    lab: Lab,
}

impl Room {
    pub async fn start(seed: u64, sfu_above: usize) -> Result<Room> {
        Self::start_cluster(seed, sfu_above, 0).await
    }

    /// With `nodes` servers in a cluster on one Redis (0: one server on its own).
    pub async fn start_cluster(seed: u64, sfu_above: usize, nodes: usize) -> Result<Room> {
        let lab = Lab::new(seed).context("the network lab needs root and /dev/net/tun")?;
        let host = lab.add_host("sfu")?;
        let dir = tempfile::tempdir()?;
        let janus = Janus::start(dir.path(), &host);
        let (servers, redis) = if nodes == 0 {
            (vec![serve(&host, &janus, sfu_above, &[])], None)
        } else {
            let redis = RedisServer::start_in(dir.path(), &host);
            let servers: Vec<ServerProcess> =
                (0..nodes).map(|_| serve(&host, &janus, sfu_above, &["--redis", &redis.url()])).collect();
            for server in &servers {
                let addr = server.addr;
                let deadline = std::time::Instant::now() + MEDIA_WAIT;
                while !host.enter(move || kaiwa_testkit::healthy(addr))? {
                    anyhow::ensure!(std::time::Instant::now() < deadline, "{addr} never joined the cluster");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            (servers, Some(redis))
        };
        let browser = launch(&host, &servers).await?;
        Ok(Room { browser, servers, janus: Some(janus), host, dir, _redis: redis, lab })
    }

    pub async fn join(&self, room: &str, name: &str) -> Result<Page> {
        self.join_on(0, room, name).await
    }

    /// Firefox (no H.264 here: VP8 only) joins in the room's lab host.
    pub async fn join_firefox(&self, firefox: &Firefox, room: &str, name: &str) -> Result<FirefoxPage> {
        let url = format!("http://{}/r/{room}?name={name}&autojoin=1", self.servers[0].addr);
        let page = firefox.new_page(name, &url).await?;
        page.wait_for("window.kaiwa && kaiwa.state().myId", MEDIA_WAIT).await.context("joining the room")?;
        Ok(page)
    }

    /// A browser joins through server `server`.
    pub async fn join_on(&self, server: usize, room: &str, name: &str) -> Result<Page> {
        join(&self.browser, &self.servers[server], room, name).await
    }

    /// The native client joins: `kaiwa call` with a 320×240 test pattern (what a browser sends through
    /// the SFU), saying "hi from NAME" in the chat once someone is there, logging what it receives twice
    /// a second.
    pub fn native(&self, room: &str, name: &str) -> Result<Native> {
        self.native_with(room, name, 30, &[])
    }

    /// [`Room::native`] through server `server`.
    pub fn native_on(&self, server: usize, room: &str, name: &str) -> Result<Native> {
        self.spawn_native(&self.host, server, room, name, 30, &[])
    }

    /// [`Room::native`] sending `fps` frames a second, with more arguments for `kaiwa call`.
    pub fn native_with(&self, room: &str, name: &str, fps: u32, more: &[&str]) -> Result<Native> {
        self.spawn_native(&self.host, 0, room, name, fps, more)
    }

    /// A native client in a host of its own behind a link with `profile`, through the first server.
    pub fn native_behind(&self, profile: &Profile, room: &str, name: &str) -> Result<Native> {
        let host = self.lab.add_host(&name.to_lowercase())?;
        self.lab.apply(&host, profile)?;
        self.spawn_native(&host, 0, room, name, 30, &[])
    }

    fn spawn_native(
        &self,
        host: &Host,
        server: usize,
        room: &str,
        name: &str,
        fps: u32,
        more: &[&str],
    ) -> Result<Native> {
        let log = self.dir.path().join(format!("{name}.jsonl"));
        let output = std::fs::File::create(self.dir.path().join(format!("{name}.log")))?;
        let mut command = host.command(env!("CARGO_BIN_EXE_kaiwa"));
        command
            .args(["call", "--server", &format!("ws://{}/ws", self.servers[server].addr), "--room", room])
            .args(["--say", &format!("hi from {name}")])
            .args(["--name", name, "--bind", &format!("{}:0", host.addr), "--size", "320x240"])
            .args(["--fps", &fps.to_string()])
            .args(more)
            .args(["--quiet", "--duration", "600", "--stats-every", "500ms", "--stats-log"])
            .arg(&log)
            .env(
                "RUST_LOG",
                "warn,kaiwa_engine=info,kaiwa_engine::peer::estimator=debug,kaiwa_engine::sfu=debug",
            )
            .stdout(Stdio::null())
            .stderr(output);
        let child = command.spawn().context("start kaiwa call")?;
        Ok(Native { child, log, name: name.to_owned() })
    }
}

/// A `kaiwa call` process, killed when dropped.
pub struct Native {
    child: Child,
    log: PathBuf,
    name: String,
}

impl Drop for Native {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line of a native client's log about one participant it receives.
#[derive(Debug)]
pub struct Sample {
    /// Seconds since the client started.
    pub t: f64,
    pub frames: u64,
    pub freezes: u64,
    pub width: u64,
    pub via_sfu: bool,
}

impl Native {
    /// What the client's log says of participant `name`, line by line.
    pub fn samples(&self, name: &str) -> Vec<Sample> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                let line: serde_json::Value = serde_json::from_str(line).ok()?;
                let peer = line["peers"].as_array()?.iter().find(|p| p["name"] == name)?.clone();
                let video = &peer["video_in"];
                Some(Sample {
                    t: line["t"].as_f64()?,
                    frames: video["frames_decoded"].as_u64()?,
                    freezes: video["freezes"].as_u64()?,
                    width: video["width"].as_u64().unwrap_or(0),
                    via_sfu: peer["via_sfu"] == true,
                })
            })
            .collect()
    }

    /// The newest line of the log.
    fn last_line(&self) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(&self.log).ok()?;
        serde_json::from_str(text.lines().last()?).ok()
    }

    /// Each other participant's decoded frames in the newest line of the log, when it shows exactly `n`
    /// others, every one received through the SFU at 320×240.
    fn through_sfu(&self, n: usize) -> Option<Vec<(String, u64)>> {
        let line = self.last_line()?;
        let peers = line["peers"].as_array()?;
        let all = peers.len() == n
            && peers.iter().all(|p| {
                let video = &p["video_in"];
                p["via_sfu"] == true && video["width"] == 320 && video["height"] == 240
            });
        all.then(|| {
            peers
                .iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or_default().to_owned(),
                        p["video_in"]["frames_decoded"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
    }

    /// Waits until this client's sending connection to the SFU has an estimate over `bps`.
    pub async fn wait_for_estimate_above(&self, bps: f64) -> Result<()> {
        let estimate = || self.last_line()?["peers"][0]["out"]["target_bitrate_bps"].as_f64();
        let deadline = tokio::time::Instant::now() + MEDIA_WAIT;
        while tokio::time::Instant::now() < deadline {
            if estimate().is_some_and(|e| e > bps) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        anyhow::bail!("{}'s estimate towards the SFU stays at {:?}, not over {bps}", self.name, estimate())
    }

    /// The frames decoded of the screen participant `name` shares, in the newest line of the log (`None`
    /// while they share none).
    fn screen_frames(&self, name: &str) -> Option<u64> {
        let line = self.last_line()?;
        let peer = line["peers"].as_array()?.iter().find(|p| p["name"] == name)?.clone();
        peer["screen_in"]["frames_decoded"].as_u64()
    }

    /// Waits until this client receives the screen participant `name` shares, more of it a moment later
    /// (`sharing`), or until it receives none from them.
    pub async fn wait_for_screen(&self, name: &str, sharing: bool) -> Result<()> {
        let deadline = tokio::time::Instant::now() + MEDIA_WAIT;
        let mut first = None;
        while tokio::time::Instant::now() < deadline {
            match (self.screen_frames(name), first) {
                (None, _) if !sharing => return Ok(()),
                (Some(now), Some(before)) if sharing && now > before => return Ok(()),
                (Some(now), None) if sharing && now > 0 => first = Some(now),
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let what = if sharing { "receive" } else { "stop receiving" };
        anyhow::bail!("{} does not {what} the screen {name} shares", self.name)
    }

    /// Waits until the client prints `line` (e.g. a chat line it received).
    pub async fn wait_for_line(&self, line: &str) -> Result<()> {
        let output = self.log.with_extension("log");
        let deadline = tokio::time::Instant::now() + MEDIA_WAIT;
        while tokio::time::Instant::now() < deadline {
            if std::fs::read_to_string(&output).unwrap_or_default().lines().any(|l| l == line) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        anyhow::bail!("{} never printed {line:?}", self.name)
    }

    /// Waits until this client receives `n` others through the SFU, and their video goes on (more frames
    /// from every one of them a moment later).
    pub async fn wait_through_sfu(&mut self, n: usize) -> Result<()> {
        let deadline = tokio::time::Instant::now() + MEDIA_WAIT;
        let mut first: Option<Vec<(String, u64)>> = None;
        while tokio::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                anyhow::bail!("{} ended: {status}", self.name);
            }
            match (self.through_sfu(n), &first) {
                (Some(now), None) => first = Some(now),
                (Some(now), Some(before)) => {
                    let grew = before.iter().all(|(name, frames)| {
                        now.iter().any(|(other, later)| other == name && later > frames)
                    });
                    if grew {
                        return Ok(());
                    }
                }
                (None, _) => first = None,
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let last = std::fs::read_to_string(&self.log).unwrap_or_default();
        anyhow::bail!(
            "{} does not receive {n} through the SFU; last: {}",
            self.name,
            last.lines().last().unwrap_or("")
        )
    }
}

/// Chromium inside `host`, treating the servers' pages as secure contexts (a lab address is none by
/// itself, and the page would get no camera).
async fn launch(host: &Host, servers: &[ServerProcess]) -> Result<Browser> {
    let origins: Vec<String> = servers.iter().map(|s| format!("http://{}", s.addr)).collect();
    let secure = format!("--unsafely-treat-insecure-origin-as-secure={}", origins.join(","));
    Browser::launch(LaunchOptions { extra_args: vec![secure], ..Default::default() }.in_lab(host)).await
}

async fn join(browser: &Browser, server: &ServerProcess, room: &str, name: &str) -> Result<Page> {
    let url = format!("http://{}/r/{room}?name={name}&autojoin=1", server.addr);
    let page = browser.new_page(name, &url).await?;
    page.wait_for("window.kaiwa && kaiwa.state().myId", MEDIA_WAIT).await.context("joining the room")?;
    Ok(page)
}

/// Waits until the page receives `n` others' video through Janus at 320×240 (half the fake camera's
/// 640×480: what clients send through the SFU), with no mesh connection left.
pub async fn wait_through_sfu(page: &Page, n: usize) -> Result<serde_json::Value> {
    page.wait_for(&through_sfu(n), MEDIA_WAIT).await
}

/// [`wait_through_sfu`] in Firefox.
pub async fn firefox_through_sfu(page: &FirefoxPage, n: usize) -> Result<serde_json::Value> {
    page.wait_for(&through_sfu(n), MEDIA_WAIT).await
}

/// The page's stats once it receives `n` others through the SFU at 320×240, else null.
fn through_sfu(n: usize) -> String {
    format!(
        "kaiwa.stats().then(st => {{ const s = kaiwa.state(); return s.sfu && s.peers.length === {n} && \
         s.peers.every(p => p.sfuFlowing && !p.meshOpen && p.videoFlowing) && \
         st.peers.every(p => p.video.frameWidth === 320 && p.video.frameHeight === 240) ? st : null; }})"
    )
}

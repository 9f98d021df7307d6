//! Big rooms through Janus: the signaling server (`kaiwa serve --janus`), Debian's Janus, headless
//! Chromium and the native client (`kaiwa call`), all inside one network-lab host (Janus gathers no
//! loopback candidates). A room that grows past the mesh limit moves to Janus: everyone publishes once and
//! receives the others through it, the mesh connections close only once Janus's media flows, and chat
//! goes on.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use kaiwa_browser_tests::{Browser, LaunchOptions, Page, SERIAL};
use kaiwa_testkit::ServerProcess;
use kaiwa_testkit::janus::Janus;
use kaiwa_testkit::lab::{Host, Lab};

/// Bound for anything that involves ICE, DTLS and decoded frames on a loaded machine.
const MEDIA_WAIT: Duration = Duration::from_secs(60);

/// `kaiwa serve` inside `host`, with Janus for rooms of more than `sfu_above`.
fn serve(host: &Host, janus: &Janus, sfu_above: usize) -> ServerProcess {
    let mut command = host.command(env!("CARGO_BIN_EXE_kaiwa"));
    command
        .args(["serve", "--listen", &format!("{}:0", host.addr), "--janus", &janus.url])
        .args(["--sfu-above", &sfu_above.to_string(), "--max-room-size", "12"])
        .env("RUST_LOG", "warn,kaiwa_signaling=info");
    ServerProcess::spawn(command).expect("start kaiwa serve")
}

/// A lab host with Janus, `kaiwa serve` (rooms of more than `sfu_above` through Janus) and Chromium in it.
struct Room {
    browser: Browser,
    server: ServerProcess,
    janus: Option<Janus>,
    host: Host,
    dir: tempfile::TempDir,
    _lab: Lab,
}

impl Room {
    async fn start(seed: u64, sfu_above: usize) -> Result<Room> {
        let lab = Lab::new(seed).context("the network lab needs root and /dev/net/tun")?;
        let host = lab.add_host("sfu")?;
        let dir = tempfile::tempdir()?;
        let janus = Janus::start(dir.path(), &host);
        let server = serve(&host, &janus, sfu_above);
        let browser = launch(&host, &server).await?;
        Ok(Room { browser, server, janus: Some(janus), host, dir, _lab: lab })
    }

    async fn join(&self, room: &str, name: &str) -> Result<Page> {
        join(&self.browser, &self.server, room, name).await
    }

    /// The native client joins: `kaiwa call` with a 320×240 test pattern (what a browser sends through
    /// the SFU), saying "hi from NAME" in the chat once someone is there, logging what it receives twice
    /// a second.
    fn native(&self, room: &str, name: &str) -> Result<Native> {
        self.native_with(room, name, 30, &[])
    }

    /// [`Room::native`] sending `fps` frames a second, with more arguments for `kaiwa call`.
    fn native_with(&self, room: &str, name: &str, fps: u32, more: &[&str]) -> Result<Native> {
        let log = self.dir.path().join(format!("{name}.jsonl"));
        let output = std::fs::File::create(self.dir.path().join(format!("{name}.log")))?;
        let mut command = self.host.command(env!("CARGO_BIN_EXE_kaiwa"));
        command
            .args(["call", "--server", &format!("ws://{}/ws", self.server.addr), "--room", room])
            .args(["--say", &format!("hi from {name}")])
            .args(["--name", name, "--bind", &format!("{}:0", self.host.addr), "--size", "320x240"])
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
struct Native {
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

impl Native {
    /// Each other participant's decoded frames in the newest line of the log, when it shows exactly `n`
    /// others, every one received through the SFU at 320×240.
    fn through_sfu(&self, n: usize) -> Option<Vec<(String, u64)>> {
        let text = std::fs::read_to_string(&self.log).ok()?;
        let line: serde_json::Value = serde_json::from_str(text.lines().last()?).ok()?;
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

    /// Waits until the client prints `line` (e.g. a chat line it received).
    async fn wait_for_line(&self, line: &str) -> Result<()> {
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
    async fn wait_through_sfu(&mut self, n: usize) -> Result<()> {
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

/// Chromium inside `host`, treating the server's page as a secure context (a lab address is none by
/// itself, and the page would get no camera).
async fn launch(host: &Host, server: &ServerProcess) -> Result<Browser> {
    let secure = format!("--unsafely-treat-insecure-origin-as-secure=http://{}", server.addr);
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
async fn wait_through_sfu(page: &Page, n: usize) -> Result<serde_json::Value> {
    page.wait_for(
        &format!(
            "kaiwa.stats().then(st => {{ const s = kaiwa.state(); return s.sfu && s.peers.length === {n} && \
             s.peers.every(p => p.sfuFlowing && !p.meshOpen && p.videoFlowing) && \
             st.peers.every(p => p.video.frameWidth === 320 && p.video.frameHeight === 240) ? st : null; }})"
        ),
        MEDIA_WAIT,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_past_the_mesh_limit_moves_to_janus_and_nobody_loses_the_call() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(18, 2).await?;

    // Two: a mesh, as always.
    let ann = room.join("big-room", "Ann").await?;
    let bo = room.join("big-room", "Bo").await?;
    for page in [&ann, &bo] {
        page.wait_for(
            "(() => { const s = kaiwa.state(); return !s.sfu && s.peers.length === 1 && \
             s.peers[0].connectionState === 'connected' && s.peers[0].videoFlowing; })()",
            MEDIA_WAIT,
        )
        .await
        .context("the mesh of two")?;
    }

    // A third takes the room past the limit: everyone moves to Janus.
    let cy = room.join("big-room", "Cy").await?;
    for (name, page) in [("Ann", &ann), ("Bo", &bo), ("Cy", &cy)] {
        wait_through_sfu(page, 2).await.with_context(|| format!("{name} through Janus"))?;
    }

    // Chat reaches everyone through the server now.
    ann.type_and_enter("#chat-input", "hello big room").await?;
    for page in [&bo, &cy] {
        page.wait_for(
            "kaiwa.state().chat.some(m => m.from === 'Ann' && m.text === 'hello big room')",
            MEDIA_WAIT,
        )
        .await
        .context("chat through the SFU room")?;
    }

    // Someone leaves: the others keep each other.
    cy.click("#leave").await?;
    for page in [&ann, &bo] {
        wait_through_sfu(page, 1).await.context("after Cy left")?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_through_janus_each_receive_the_other_seven() -> Result<()> {
    let _serial = SERIAL.lock().await;
    // Every room through Janus from its first participant.
    let room = Room::start(19, 0).await?;
    let names = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"];
    let mut pages = Vec::new();
    for name in names {
        pages.push(room.join("eight", name).await?);
    }
    for (name, page) in names.iter().zip(&pages) {
        wait_through_sfu(page, 7).await.with_context(|| format!("{name} receiving the other seven"))?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_janus_restarts_everyone_comes_back_through_it() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let mut room = Room::start(20, 0).await?;
    let ann = room.join("restart", "Ann").await?;
    let bo = room.join("restart", "Bo").await?;
    for page in [&ann, &bo] {
        wait_through_sfu(page, 1).await.context("before the restart")?;
    }
    room.janus = None;
    // The pages are told `unavailable` and rejoin, until Janus is back: then a new Janus room takes them.
    for page in [&ann, &bo] {
        page.wait_for("kaiwa.state().errors.includes('unavailable')", MEDIA_WAIT).await.context("told")?;
    }
    room.janus = Some(Janus::start(room.dir.path(), &room.host));
    for page in [&ann, &bo] {
        wait_through_sfu(page, 1).await.context("after the restart")?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_clients_move_to_janus_with_a_browser_and_nobody_loses_the_call() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(21, 2).await?;

    // A native client and a browser: a mesh of two.
    let mut ann = room.native("move", "Ann")?;
    let bo = room.join("move", "Bo").await?;
    bo.wait_for(
        "(() => { const s = kaiwa.state(); return !s.sfu && s.peers.length === 1 && s.peers[0].videoFlowing; })()",
        MEDIA_WAIT,
    )
    .await
    .context("the mesh of two")?;

    // A second native client takes the room past the limit: everyone moves to Janus.
    let mut cy = room.native("move", "Cy")?;
    ann.wait_through_sfu(2).await?;
    cy.wait_through_sfu(2).await?;
    wait_through_sfu(&bo, 2).await.context("Bo through Janus")?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_and_browser_clients_through_janus_each_receive_everyone() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(22, 0).await?;
    // The browsers first, so that the natives' chat lines (said once someone announces their media)
    // find them there.
    let pages = vec![room.join("mixed", "Cy").await?, room.join("mixed", "Di").await?];
    // Bo tries to share a screen, which a room through Janus does not carry yet: he is told so.
    let bo = room.native_with("mixed", "Bo", 30, &["--share", "testpattern"])?;
    let mut natives = vec![room.native("mixed", "Ann")?, bo];
    for native in &mut natives {
        native.wait_through_sfu(3).await?;
    }
    natives[1]
        .wait_for_line("screen sharing stopped: a room this big does not carry shared screens yet")
        .await?;
    for page in &pages {
        wait_through_sfu(page, 3).await.context("a browser receiving the other three")?;
    }
    // Chat between the two kinds of client, through the server.
    pages[0].type_and_enter("#chat-input", "hello natives").await?;
    for native in &natives {
        native.wait_for_line("[chat] Cy: hello natives").await?;
    }
    for page in &pages {
        page.wait_for(
            "kaiwa.state().chat.some(m => m.from === 'Ann' && m.text === 'hi from Ann')",
            MEDIA_WAIT,
        )
        .await
        .context("a native's chat line in a browser")?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_through_janus_each_receive_the_other_eleven() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(23, 0).await?;
    // Native clients at 5 frames a second: 132 streams decoded on the machine's two cores.
    let names = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ida", "Jo", "Kai", "Lu"];
    let mut natives = Vec::new();
    for name in names {
        natives.push(room.native_with("twelve", name, 5, &[])?);
    }
    for native in &mut natives {
        native.wait_through_sfu(11).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_native_and_browser_clients_through_janus_each_receive_the_other_seven() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(24, 0).await?;
    let mut natives = Vec::new();
    for name in ["Ann", "Bo", "Cy", "Di"] {
        natives.push(room.native("eight-mixed", name)?);
    }
    let mut pages = Vec::new();
    for name in ["Ed", "Flo", "Gus", "Hal"] {
        pages.push(room.join("eight-mixed", name).await?);
    }
    for native in &mut natives {
        native.wait_through_sfu(7).await?;
    }
    for (name, page) in ["Ed", "Flo", "Gus", "Hal"].iter().zip(&pages) {
        wait_through_sfu(page, 7).await.with_context(|| format!("{name} receiving the other seven"))?;
    }
    Ok(())
}

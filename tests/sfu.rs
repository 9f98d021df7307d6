//! Big rooms through Janus: the signaling server (`kaiwa serve --janus`), Debian's Janus and headless
//! Chromium, all inside one network-lab host (Janus gathers no loopback candidates). A room that grows past
//! the mesh limit moves to Janus: everyone publishes once and receives the others through it, the mesh
//! connections close only once Janus's media flows, and chat goes on.

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

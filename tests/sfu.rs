//! Big rooms through Janus: the signaling server (`kaiwa serve --janus`), Debian's Janus and headless
//! Chromium, all inside one network-lab host (Janus gathers no loopback candidates). A room that grows past
//! the mesh limit moves to Janus: everyone publishes once and receives the others through it, the mesh
//! connections close only once Janus's media flows, and chat goes on.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use kaiwa_browser_tests::{Browser, LaunchOptions, Page, SERIAL};
use kaiwa_testkit::janus::Janus;
use kaiwa_testkit::lab::{Host, Lab};

/// Bound for anything that involves ICE, DTLS and decoded frames on a loaded machine.
const MEDIA_WAIT: Duration = Duration::from_secs(60);

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// `kaiwa serve` inside `host`, with Janus for rooms of more than `sfu_above`.
    fn start(host: &Host, janus: &Janus, sfu_above: usize) -> Server {
        let mut child = host
            .command(env!("CARGO_BIN_EXE_kaiwa"))
            .args(["serve", "--listen", &format!("{}:0", host.addr), "--janus", &janus.url])
            .args(["--sfu-above", &sfu_above.to_string(), "--max-room-size", "12"])
            .env("RUST_LOG", "warn,kaiwa_signaling=info")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start kaiwa serve");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first.strip_prefix("kaiwa-signaling listening on ").unwrap().split(' ').next().unwrap();
        let addr = addr.parse().unwrap();
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, addr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Chromium inside `host`, treating the server's page as a secure context (a lab address is none by
/// itself, and the page would get no camera).
async fn launch(host: &Host, server: &Server) -> Result<Browser> {
    let secure = format!("--unsafely-treat-insecure-origin-as-secure=http://{}", server.addr);
    Browser::launch(LaunchOptions { extra_args: vec![secure], ..Default::default() }.in_lab(host)).await
}

async fn join(browser: &Browser, server: &Server, room: &str, name: &str) -> Result<Page> {
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
    let lab = Lab::new(18).context("the network lab needs root and /dev/net/tun")?;
    let host = lab.add_host("sfu")?;
    let dir = tempfile::tempdir()?;
    let janus = Janus::start(dir.path(), &host);
    let server = Server::start(&host, &janus, 2);
    // The page on the lab address is no secure context by itself, and gets no camera without this.
    let secure = format!("--unsafely-treat-insecure-origin-as-secure=http://{}", server.addr);
    let browser =
        Browser::launch(LaunchOptions { extra_args: vec![secure], ..Default::default() }.in_lab(&host))
            .await?;

    // Two: a mesh, as always.
    let ann = join(&browser, &server, "big-room", "Ann").await?;
    let bo = join(&browser, &server, "big-room", "Bo").await?;
    for page in [&ann, &bo] {
        let mesh = page
            .wait_for(
                "(() => { const s = kaiwa.state(); return !s.sfu && s.peers.length === 1 && \
                 s.peers[0].connectionState === 'connected' && s.peers[0].videoFlowing; })()",
                MEDIA_WAIT,
            )
            .await;
        if mesh.is_err() {
            eprintln!("state: {}", page.eval("JSON.stringify(kaiwa.state())").await?);
        }
        mesh.context("the mesh of two")?;
    }

    // A third takes the room past the limit: everyone moves to Janus.
    let cy = join(&browser, &server, "big-room", "Cy").await?;
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
    drop(janus);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_through_janus_each_receive_the_other_seven() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let lab = Lab::new(19).context("the network lab needs root and /dev/net/tun")?;
    let host = lab.add_host("sfu")?;
    let dir = tempfile::tempdir()?;
    let janus = Janus::start(dir.path(), &host);
    // Every room through Janus from its first participant.
    let server = Server::start(&host, &janus, 0);
    let browser = launch(&host, &server).await?;
    let names = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"];
    let mut pages = Vec::new();
    for name in names {
        pages.push(join(&browser, &server, "eight", name).await?);
    }
    for (name, page) in names.iter().zip(&pages) {
        wait_through_sfu(page, 7).await.with_context(|| format!("{name} receiving the other seven"))?;
    }
    drop(janus);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_janus_restarts_everyone_comes_back_through_it() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let lab = Lab::new(20).context("the network lab needs root and /dev/net/tun")?;
    let host = lab.add_host("sfu")?;
    let dir = tempfile::tempdir()?;
    let janus = Janus::start(dir.path(), &host);
    let server = Server::start(&host, &janus, 0);
    let browser = launch(&host, &server).await?;
    let ann = join(&browser, &server, "restart", "Ann").await?;
    let bo = join(&browser, &server, "restart", "Bo").await?;
    for page in [&ann, &bo] {
        wait_through_sfu(page, 1).await.context("before the restart")?;
    }
    drop(janus);
    // The pages are told `unavailable` and rejoin, until Janus is back: then a new Janus room takes them.
    for page in [&ann, &bo] {
        page.wait_for("kaiwa.state().errors.includes('unavailable')", MEDIA_WAIT).await.context("told")?;
    }
    let janus = Janus::start(dir.path(), &host);
    for page in [&ann, &bo] {
        wait_through_sfu(page, 1).await.context("after the restart")?;
    }
    drop(janus);
    Ok(())
}

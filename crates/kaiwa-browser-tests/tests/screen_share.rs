//! Screen sharing between the native engine and the browser client in real headless Chromium: a screen the
//! native side shares (an Xvfb display painted with a page of text-like strokes, captured through MIT-SHM)
//! arrives in Chromium readable (PSNR of the text, read back from the page's `<video>`) on a tile of its
//! own that takes the spotlight; and the tab Chromium shares (`getDisplayMedia` with `preferCurrentTab`,
//! `--auto-accept-this-tab-capture`: the call page itself) reaches the native side. Sharing stops on both
//! sides without the call missing a beat. (Chromium runs without fake devices here, which would make its
//! shared tab a fake picture too: the page sends no camera, the native side's camera shows on it.)

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use kaiwa_browser_tests::{Browser, LaunchOptions, Page, SERIAL, TestServer, variance};
use kaiwa_devices::testing::{Xvfb, as_i420, text_page};
use kaiwa_devices::{ScreenSource, TestPatternSource, ToneSource};
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_engine::signaling::{ServerUrl, SignalingConfig};
use kaiwa_engine::sinks::{DecodedVideo, MediaSinks, VideoSink};
use kaiwa_engine::{Engine, EngineConfig, EngineEvent};
use kaiwa_media::video::plane_psnr;
use kaiwa_protocol::PeerInfo;
use serde_json::Value;

const W: u16 = 640;
const H: u16 = 360;
/// The text rows compared: the top 40 % (the X cursor sits in the middle of the screen).
const TEXT_ROWS: usize = H as usize * 2 / 5;
const MEDIA_WAIT: Duration = Duration::from_secs(60);

/// What the native side decoded of the peer's camera and shared screen.
#[derive(Default)]
struct Seen {
    camera_frames: u64,
    screen_frames: u64,
    /// The newest screen picture's size and luma variance.
    screen_size: (u32, u32),
    screen_variance: f64,
}

#[derive(Default)]
struct Sinks(Arc<Mutex<Seen>>);

impl MediaSinks for Sinks {
    fn video(&self, _peer: &PeerInfo) -> Option<VideoSink> {
        let seen = self.0.clone();
        Some(Box::new(move |_: &DecodedVideo| seen.lock().unwrap().camera_frames += 1))
    }

    fn screen(&self, _peer: &PeerInfo) -> Option<VideoSink> {
        let seen = self.0.clone();
        Some(Box::new(move |d: &DecodedVideo| {
            let mut s = seen.lock().unwrap();
            s.screen_frames += 1;
            s.screen_size = (d.frame.width(), d.frame.height());
            if s.screen_frames % 10 == 1 {
                s.screen_variance = variance(d.frame.y());
            }
        }))
    }
}

fn native(server: &TestServer, room: &str, seen: Arc<Mutex<Seen>>) -> Result<Engine> {
    let url = ServerUrl::parse(&format!("ws://{}/ws", server.addr))?;
    Ok(Engine::start(EngineConfig {
        signaling: SignalingConfig::new(url, room, "Native"),
        network: NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() },
        extra_ice_servers: Vec::new(),
        video: Some(Box::new(TestPatternSource::new(320, 240, 30)?)),
        audio: Some(Box::new(ToneSource::new(440.0))),
        sinks: Arc::new(Sinks(seen)),
        video_send: Default::default(),
        audio_processing: kaiwa_media::audio::ProcessingConfig::OFF,
    })?)
}

/// Chromium whose tab can be shared for real: without fake devices (with them `getDisplayMedia` returns a
/// fake picture), so the page has no camera or microphone of its own.
async fn launch() -> Result<Browser> {
    Browser::launch(LaunchOptions {
        extra_args: vec!["--auto-accept-this-tab-capture".into()],
        real_devices: true,
        ..Default::default()
    })
    .await
}

async fn join(browser: &Browser, server: &TestServer, room: &str) -> Result<Page> {
    let page = browser
        .new_page("Chromium", &server.url(&format!("/r/{room}?name=Chromium&autojoin=1&share=tab")))
        .await?;
    page.wait_for("window.kaiwa && kaiwa.state().myId", Duration::from_secs(20)).await.context("joining")?;
    Ok(page)
}

/// Waits for the native engine's next announcement from its peer saying whether it shares.
async fn wait_sharing(engine: &mut Engine, sharing: bool) -> Result<()> {
    let deadline = tokio::time::Instant::now() + MEDIA_WAIT;
    loop {
        match tokio::time::timeout_at(deadline, engine.next_event()).await {
            Ok(Some(EngineEvent::PeerMedia { screen, .. })) if screen == sharing => return Ok(()),
            Ok(Some(EngineEvent::Failed(why))) => bail!("native failed: {why}"),
            Ok(Some(_)) => {}
            Ok(None) => bail!("native engine stopped"),
            Err(_) => bail!("native never heard sharing = {sharing}"),
        }
    }
}

/// The page's picture of the screen tile, as BT.601 luma of its text rows (read through a canvas).
async fn page_screen_luma(page: &Page) -> Result<Vec<u8>> {
    let js = format!(
        "(() => {{ const v = document.querySelector('.tile.screen video'); \
         if (!v || v.videoWidth !== {W} || v.videoHeight !== {H}) return null; \
         const c = document.createElement('canvas'); c.width = {W}; c.height = {TEXT_ROWS}; \
         const g = c.getContext('2d'); g.drawImage(v, 0, 0, {W}, {TEXT_ROWS}, 0, 0, {W}, {TEXT_ROWS}); \
         const d = g.getImageData(0, 0, {W}, {TEXT_ROWS}).data; const y = new Uint8Array({W} * {TEXT_ROWS}); \
         for (let i = 0; i < y.length; i++) y[i] = Math.round(16 + (65.481 * d[4*i] + 128.553 * d[4*i+1] + 24.966 * d[4*i+2]) / 255); \
         let s = ''; for (let i = 0; i < y.length; i += 8192) s += String.fromCharCode(...y.subarray(i, i + 8192)); \
         return btoa(s); }})()"
    );
    let b64 = page.wait_for(&js, MEDIA_WAIT).await?;
    Ok(base64::engine::general_purpose::STANDARD.decode(b64.as_str().context("base64")?)?)
}

/// The best text PSNR of a few looks at the page's screen tile against `page_painted` (the first frames of
/// a new page are still being refined): up to 20 s, until one reaches 30 dB.
async fn best_text_psnr(page: &Page, page_painted: &[u32]) -> Result<f64> {
    let want = as_i420(page_painted, W, H);
    let want = &want.y()[..TEXT_ROWS * usize::from(W)];
    let mut best = 0.0f64;
    let deadline = Instant::now() + Duration::from_secs(20);
    while best < 30.0 && Instant::now() < deadline {
        best = best.max(plane_psnr(&page_screen_luma(page).await?, want));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(best)
}

async fn state(page: &Page) -> Result<Value> {
    page.eval("kaiwa.state()").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_native_shared_screen_reaches_chromium_readable_in_the_spotlight() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let mut xvfb = Xvfb::start(W, H)?;
    let text = text_page(W, H, 7);
    xvfb.put_rgb((0, 0), W, &text);
    let server = TestServer::start().await?;
    let browser = launch().await?;
    let page = join(&browser, &server, "share-native").await?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let engine = native(&server, "share-native", seen)?;
    page.wait_for("kaiwa.stats().then(s => s.peers[0]?.video?.framesDecoded > 10)", MEDIA_WAIT).await?;

    engine.share_screen(Some(Box::new(ScreenSource::open(Some(&xvfb.display), None, 15)?))).await;
    let stats = page
        .wait_for(
            &format!(
                "kaiwa.stats().then(s => {{ const p = s.peers[0]; return p?.screen?.framesDecoded > 20 && \
                 p.screen.frameWidth === {W} && p.video?.frameWidth === 320 ? p : null; }})"
            ),
            MEDIA_WAIT,
        )
        .await?;
    eprintln!("[Chromium] screen {} / camera {}", stats["screen"], stats["video"]);
    let s = state(&page).await?;
    let native_id = s["peers"][0]["id"].as_str().context("peer id")?.to_owned();
    ensure!(s["peers"][0]["remoteScreen"] == true, "the page was not told: {}", s["peers"][0]);
    ensure!(
        s["layout"] == "spotlight" && s["spotlight"] == format!("screen:{native_id}"),
        "the screen does not have the spotlight: {} / {}",
        s["layout"],
        s["spotlight"]
    );
    let best = best_text_psnr(&page, &text).await?;
    eprintln!("[Chromium] text PSNR of the native screen: {best:.1} dB");
    ensure!(best >= 30.0, "the shared text arrived at {best:.1} dB");
    // And it follows a new page.
    let second = text_page(W, H, 500);
    xvfb.put_rgb((0, 0), W, &second);
    let best = best_text_psnr(&page, &second).await?;
    eprintln!("[Chromium] text PSNR after the page changed: {best:.1} dB");
    ensure!(best >= 30.0, "the changed page arrived at {best:.1} dB");

    engine.share_screen(None).await;
    page.wait_for(
        "(() => { const s = kaiwa.state(); return !s.peers[0].remoteScreen && !s.peers[0].screenShown && \
         !document.querySelector('.tile.screen') && s.spotlight === null; })()",
        MEDIA_WAIT,
    )
    .await
    .context("the screen tile did not go when sharing ended")?;
    let frames = |v: &Value| v["video"]["framesDecoded"].as_u64().unwrap_or(0);
    let before = frames(&page.eval("kaiwa.stats().then(s => s.peers[0])").await?);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = frames(&page.eval("kaiwa.stats().then(s => s.peers[0])").await?);
    ensure!(after > before + 10, "the camera stalled after sharing ended ({before} -> {after})");
    engine.leave().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tab_chromium_shares_reaches_native_while_the_call_goes_on() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let browser = launch().await?;
    let page = join(&browser, &server, "share-tab").await?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut engine = native(&server, "share-tab", seen.clone())?;
    page.wait_for("kaiwa.stats().then(s => s.peers[0]?.video?.framesDecoded > 10)", MEDIA_WAIT).await?;

    page.click("#toggle-share").await?;
    page.wait_for("kaiwa.state().sharing", Duration::from_secs(20))
        .await
        .context("the page did not share")?;
    wait_sharing(&mut engine, true).await?;
    let deadline = Instant::now() + MEDIA_WAIT;
    loop {
        let (frames, size, var, camera) = {
            let s = seen.lock().unwrap();
            (s.screen_frames, s.screen_size, s.screen_variance, s.camera_frames)
        };
        if frames > 20 && var > 10.0 {
            eprintln!(
                "[native] Chromium's tab: {frames} frames of {size:?}, luma variance {var:.0}; camera {camera}"
            );
            break;
        }
        if Instant::now() > deadline {
            let sent = page.eval("kaiwa.stats().then(s => [s.peers[0], kaiwa.state().peers[0]])").await?;
            let native = engine.stats().await;
            bail!(
                "native got {frames} frames of Chromium's tab ({size:?}, variance {var:.0}); the page: {sent}; \
                 native: {:?}",
                native.first().map(|s| (&s.screen_in, &s.video_in))
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stats = engine.stats().await;
    let screen_in = stats[0].screen_in.as_ref().context("native stats have no screen")?;
    ensure!(screen_in.width > 0 && screen_in.codec.is_some(), "{screen_in:?}");
    // The call page itself, with the native side's picture in it (not a flat frame).
    let size = seen.lock().unwrap().screen_size;
    ensure!(size.0 >= 640 && size.1 >= 360, "the tab arrived at {size:?}");
    let frames = |v: &Value| v["video"]["framesDecoded"].as_u64().unwrap_or(0);
    let before = frames(&page.eval("kaiwa.stats().then(s => s.peers[0])").await?);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = frames(&page.eval("kaiwa.stats().then(s => s.peers[0])").await?);
    ensure!(
        after > before + 10,
        "the page stopped showing native's camera while sharing ({before} -> {after})"
    );
    let sent = page.eval("kaiwa.stats().then(s => s.peers[0].outScreen)").await?;
    eprintln!("[Chromium] sent of its tab: {sent}");
    ensure!(sent["framesEncoded"].as_u64().unwrap_or(0) > 0, "the page's stats show no screen sent: {sent}");

    page.click("#toggle-share").await?;
    wait_sharing(&mut engine, false).await?;
    page.wait_for("!kaiwa.state().sharing", Duration::from_secs(20)).await?;
    let stopped = seen.lock().unwrap().screen_frames;
    tokio::time::sleep(Duration::from_secs(1)).await;
    ensure!(seen.lock().unwrap().screen_frames <= stopped + 3, "the tab kept coming after sharing ended");
    ensure!(engine.stats().await[0].screen_in.is_none(), "native still plays a screen");
    engine.leave().await;
    Ok(())
}

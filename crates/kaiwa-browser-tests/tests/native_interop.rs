//! The native engine (`kaiwa-engine`) and the browser client (`assets/web/`) in real headless Chromium, in
//! the same room of the real signaling server, over loopback.
//!
//! The native side sends its synthetic test pattern (640×480 at 30 fps) and a 440 Hz tone; Chromium sends
//! its fake camera and, from a WAV file it loops as its fake microphone, bursts of a 660 Hz tone (880 Hz for
//! the second browser of the three-way call; bursts, because Chromium's noise suppression, on as the client
//! asks for it, removes a steady sine within half a second). Both sides check what
//! they decode: Chromium through `getStats` (`window.kaiwa.stats()`), the native side through its own
//! sinks (sizes, luma variance, the tone's frequency) and `Engine::stats`. Tests run one at a time; every
//! wait polls a condition with a generous bound.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use kaiwa_browser_tests::{
    Browser, Firefox, FirefoxPage, LaunchOptions, Page, SERIAL, TestServer, screenshot_dir, variance,
};
use kaiwa_devices::{TestPatternSource, ToneSource};
use kaiwa_engine::chat::ChatMessage;
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_engine::signaling::{ServerUrl, SignalingConfig, Trust};
use kaiwa_engine::sinks::{AudioSink, DecodedVideo, MediaSinks, VideoSink};
use kaiwa_engine::stats::PeerStats;
use kaiwa_engine::testing::{Action, Hostile, Mitm, hostile_cases, media_cases};
use kaiwa_engine::{Engine, EngineConfig, EngineEvent, PeerState};
use kaiwa_media::audio::analysis::{dominant_frequency, rms};
use kaiwa_protocol::PeerInfo;
use serde_json::{Value, json};

/// Bound for anything that involves ICE, DTLS and the first decoded frames on a loaded machine.
const MEDIA_WAIT: Duration = Duration::from_secs(60);
/// Bound for page-local UI changes and chat.
const UI_WAIT: Duration = Duration::from_secs(20);
/// How long the measured part of a call lasts.
const CALL: Duration = Duration::from_secs(10);

/// The native side's tone and Chromium's (from the WAV file it loops as its microphone).
const NATIVE_TONE: f64 = 440.0;
const BROWSER_TONE: f64 = 660.0;
/// The second browser's in the three-way call (a tone of its own, so the native side can tell them apart).
const OTHER_BROWSER_TONE: f64 = 880.0;
const RATE: u32 = 48_000;

/// What the native side decoded from one browser.
#[derive(Default)]
struct FromPeer {
    frames: u64,
    /// Every size seen, with how many frames had it.
    sizes: HashMap<(u32, u32), u64>,
    /// Luma variance of every 10th frame.
    luma_variance: Vec<f64>,
    audio: Vec<i16>,
}

#[derive(Default)]
struct Recorder {
    by_name: Mutex<HashMap<String, Arc<Mutex<FromPeer>>>>,
}

impl Recorder {
    fn peer(&self, name: &str) -> Arc<Mutex<FromPeer>> {
        self.by_name.lock().unwrap().entry(name.to_owned()).or_default().clone()
    }
}

impl MediaSinks for Recorder {
    fn video(&self, peer: &PeerInfo) -> Option<VideoSink> {
        let received = self.peer(&peer.name);
        Some(Box::new(move |decoded: &DecodedVideo| {
            let mut r = received.lock().unwrap();
            r.frames += 1;
            *r.sizes.entry((decoded.frame.width(), decoded.frame.height())).or_default() += 1;
            if r.frames % 10 == 1 {
                r.luma_variance.push(variance(decoded.frame.y()));
            }
        }))
    }

    fn audio(&self, peer: &PeerInfo) -> Option<AudioSink> {
        let received = self.peer(&peer.name);
        Some(Box::new(move |pcm: &[i16]| received.lock().unwrap().audio.extend_from_slice(pcm)))
    }
}

/// A native participant: the engine with synthetic sources, its recorder and the chat it received.
struct Native {
    engine: Engine,
    recorder: Arc<Recorder>,
    chat: Vec<ChatMessage>,
    /// The last `{"type":"media"}` state a peer announced: (mic, camera).
    media: Option<(bool, bool)>,
}

impl Native {
    fn start(server: &TestServer, room: &str, name: &str) -> Result<Native> {
        let network = NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() };
        Native::start_with(server, room, name, network)
    }

    fn start_with(server: &TestServer, room: &str, name: &str, network: NetworkConfig) -> Result<Native> {
        let scheme = if server.tls { "wss" } else { "ws" };
        Native::start_at(&format!("{scheme}://{}/ws", server.addr), server.fingerprint, room, name, network)
    }

    /// With its signaling at `ws_url` (a relay in front of the server, say).
    fn start_at(
        ws_url: &str,
        pinned: Option<kaiwa_tls::Fingerprint>,
        room: &str,
        name: &str,
        network: NetworkConfig,
    ) -> Result<Native> {
        let url = ServerUrl::parse(ws_url)?;
        let mut signaling = SignalingConfig::new(url, room, name);
        if let Some(fingerprint) = pinned {
            signaling.trust = Trust::Pinned(fingerprint);
        }
        let recorder = Arc::new(Recorder::default());
        let engine = Engine::start(EngineConfig {
            signaling,
            network,
            extra_ice_servers: Vec::new(),
            video: Some(Box::new(TestPatternSource::new(640, 480, 30)?)),
            audio: Some(Box::new(ToneSource::new(NATIVE_TONE))),
            sinks: recorder.clone(),
            video_send: Default::default(),
            audio_processing: kaiwa_media::audio::ProcessingConfig::OFF,
        })?;
        Ok(Native { engine, recorder, chat: Vec::new(), media: None })
    }

    /// Takes the events that are waiting (keeps chat, fails on `Failed`).
    fn drain(&mut self) -> Result<()> {
        while let Some(event) = self.engine.try_next_event() {
            match event {
                EngineEvent::Chat { message, .. } => self.chat.push(message),
                EngineEvent::PeerMedia { mic, camera, .. } => self.media = Some((mic, camera)),
                EngineEvent::Failed(why) => bail!("native engine failed: {why}"),
                _ => {}
            }
        }
        Ok(())
    }

    /// Waits until the peer has announced microphone and camera state `want` (`{"type":"media"}`).
    async fn wait_media_state(&mut self, want: (bool, bool)) -> Result<()> {
        let deadline = Instant::now() + UI_WAIT;
        loop {
            self.drain()?;
            if self.media == Some(want) {
                return Ok(());
            }
            ensure!(Instant::now() < deadline, "native: media state {:?}, expected {want:?}", self.media);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls the engine's stats until `pred` holds; returns them.
    async fn wait_stats(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&[PeerStats]) -> bool,
    ) -> Result<Vec<PeerStats>> {
        let deadline = Instant::now() + timeout;
        loop {
            self.drain()?;
            let stats = self.engine.stats().await;
            if pred(&stats) {
                return Ok(stats);
            }
            if Instant::now() >= deadline {
                bail!(
                    "native: timed out after {timeout:?} waiting for {what}; stats: {}",
                    serde_json::to_string(&stats)?
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until the native side is connected to exactly the peers `names`.
    async fn wait_connected(&mut self, names: &[&str]) -> Result<Vec<PeerStats>> {
        self.wait_stats(&format!("connected to {names:?}"), MEDIA_WAIT, |stats| {
            stats.len() == names.len()
                && names.iter().all(|n| stats.iter().any(|s| s.name == *n && s.state == PeerState::Connected))
        })
        .await
    }

    /// One text from the stats for the peer called `name`.
    async fn stat_text(
        &mut self,
        name: &str,
        f: impl Fn(&PeerStats) -> Option<String>,
    ) -> Result<Option<String>> {
        self.drain()?;
        Ok(self.engine.stats().await.iter().find(|s| s.name == name).and_then(f))
    }

    /// One number from the stats for the peer called `name` (0 while there is none).
    async fn stat(&mut self, name: &str, f: impl Fn(&PeerStats) -> u64) -> Result<u64> {
        self.drain()?;
        Ok(self.engine.stats().await.iter().find(|s| s.name == name).map(f).unwrap_or(0))
    }

    /// Waits until frames (> `frames`) and audio (> 1 s) from `name` reached the sinks.
    async fn wait_media_from(&mut self, name: &str, frames: u64) -> Result<()> {
        let received = self.recorder.peer(name);
        let deadline = Instant::now() + MEDIA_WAIT;
        loop {
            self.drain()?;
            {
                let r = received.lock().unwrap();
                if r.frames > frames && r.audio.len() > RATE as usize {
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    bail!(
                        "native: from {name} only {} frames and {} audio samples after {MEDIA_WAIT:?}",
                        r.frames,
                        r.audio.len()
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until the native side is in the room.
    async fn wait_joined(&mut self) -> Result<()> {
        let deadline = Instant::now() + UI_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            ensure!(!left.is_zero(), "native: not joined after {UI_WAIT:?}");
            match tokio::time::timeout(left, self.engine.next_event()).await {
                Ok(Some(EngineEvent::Joined { .. })) => return Ok(()),
                Ok(Some(EngineEvent::Chat { message, .. })) => self.chat.push(message),
                Ok(Some(EngineEvent::Failed(why))) => bail!("native engine failed: {why}"),
                Ok(Some(_)) | Err(_) => {}
                Ok(None) => bail!("native engine stopped"),
            }
        }
    }

    /// Waits for a chat message from `from` with `text`.
    async fn wait_chat(&mut self, from: &str, text: &str) -> Result<()> {
        let deadline = Instant::now() + UI_WAIT;
        loop {
            if self.chat.iter().any(|m| m.from == from && m.text == text) {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            ensure!(!left.is_zero(), "native: no chat {text:?} from {from}; got {:?}", self.chat);
            match tokio::time::timeout(left, self.engine.next_event()).await {
                Ok(Some(EngineEvent::Chat { message, .. })) => self.chat.push(message),
                Ok(Some(EngineEvent::Failed(why))) => bail!("native engine failed: {why}"),
                Ok(Some(_)) | Err(_) => {}
                Ok(None) => bail!("native engine stopped"),
            }
        }
    }

    /// Checks what the native side decoded from the browser `name`: Chromium's fake camera at its
    /// 640×480 (not blank), and the `tone` bursts of its fake microphone, non-silent and within 1 %.
    ///
    /// The audio is polled (bounded): Chromium's audio processing (gain control, echo canceller and noise
    /// suppressor, all on as the client asks for them) takes a few seconds to settle on a synthetic signal,
    /// and in a mesh its echo canceller at times gates most of a burst while other peers' tones play.
    async fn check_received(&mut self, name: &str, tone: f64) -> Result<()> {
        self.check_received_sized(name, tone, (640, 480)).await
    }

    /// [`Self::check_received`] from a browser whose largest frame must be at least `min_size` (Firefox
    /// starts its fake camera small and grows it as its bandwidth estimate does).
    async fn check_received_sized(&mut self, name: &str, tone: f64, min_size: (u32, u32)) -> Result<()> {
        let received = self.recorder.peer(name);
        let (frames, sizes, mean_var) = {
            let r = received.lock().unwrap();
            let (&biggest, _) =
                r.sizes.iter().max_by_key(|(size, _)| size.0 * size.1).context("no frames")?;
            ensure!(
                biggest.0 >= min_size.0 && biggest.1 >= min_size.1 && biggest.0 <= 640,
                "native <- {name}: largest frame {biggest:?}, sizes {:?}",
                r.sizes
            );
            // Chromium may scale down under CPU load, but keeps the aspect ratio.
            for &(w, h) in r.sizes.keys() {
                ensure!(w * 3 == h * 4, "native <- {name}: frame {w}x{h} is not 4:3");
            }
            let mean_var = r.luma_variance.iter().sum::<f64>() / r.luma_variance.len().max(1) as f64;
            let min_var = r.luma_variance.iter().copied().fold(f64::INFINITY, f64::min);
            ensure!(min_var > 20.0, "native <- {name}: a blank picture (luma variance {min_var:.1})");
            (r.frames, r.sizes.clone(), mean_var)
        };
        let deadline = Instant::now() + MEDIA_WAIT;
        loop {
            self.drain()?;
            let (level, hz, blocks) = {
                let r = received.lock().unwrap();
                // The last 3 s.
                let audio = &r.audio[r.audio.len().saturating_sub(3 * RATE as usize)..];
                let (level, hz) = tone_of(audio);
                let blocks: Vec<f64> =
                    audio.chunks(960).map(|b| (rms(b) * 1000.0).round() / 1000.0).collect();
                (level, hz, blocks)
            };
            if blocks.len() >= 150 && level > 0.01 && (hz - tone).abs() <= tone * 0.01 {
                eprintln!(
                    "native <- {name}: {frames} frames, sizes {sizes:?}, luma variance mean {mean_var:.0}, \
                     tone {hz:.1} Hz at rms {level:.3}"
                );
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "native <- {name}: no {tone} Hz tone in the last 3 s of audio after {MEDIA_WAIT:?}: rms {level:.4}, \
                 tone {hz:.1} Hz; rms of the 20 ms blocks: {blocks:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// The level of `samples` and the median of the dominant frequencies of its bursts (runs of at least 80 ms
/// of loud 20 ms blocks, as [`write_tone_wav`] makes them).
fn tone_of(samples: &[i16]) -> (f64, f64) {
    let blocks: Vec<&[i16]> = samples.chunks(960).collect();
    let mut freqs = Vec::new();
    let mut run_start = 0;
    for i in 0..=blocks.len() {
        if i < blocks.len() && rms(blocks[i]) > 0.02 {
            continue;
        }
        if i >= run_start + 4 {
            let run: Vec<i16> = blocks[run_start..i].concat();
            freqs.extend(dominant_frequency(&run, RATE));
        }
        run_start = i + 1;
    }
    freqs.sort_by(f64::total_cmp);
    (rms(samples), freqs.get(freqs.len() / 2).copied().unwrap_or(0.0))
}

/// A WAV file with bursts of `hz` (2 s, so it loops without a click) for Chromium's fake microphone.
fn write_tone_wav(path: &Path, hz: f64) -> Result<()> {
    let samples = 2 * RATE as usize;
    let mut data = Vec::with_capacity(44 + samples * 2);
    let bytes = (samples * 2) as u32;
    data.extend_from_slice(b"RIFF");
    data.extend_from_slice(&(36 + bytes).to_le_bytes());
    data.extend_from_slice(b"WAVEfmt ");
    data.extend_from_slice(&16u32.to_le_bytes());
    data.extend_from_slice(&1u16.to_le_bytes()); // PCM
    data.extend_from_slice(&1u16.to_le_bytes()); // mono
    data.extend_from_slice(&RATE.to_le_bytes());
    data.extend_from_slice(&(RATE * 2).to_le_bytes());
    data.extend_from_slice(&2u16.to_le_bytes());
    data.extend_from_slice(&16u16.to_le_bytes());
    data.extend_from_slice(b"data");
    data.extend_from_slice(&bytes.to_le_bytes());
    for i in 0..samples {
        // Bursts (300 ms of tone, 200 ms of silence, with 10 ms ramps) rather than a steady tone: Chromium's
        // noise suppression takes a steady sine for noise and removes it within half a second.
        let t = i as f64 / f64::from(RATE);
        let in_burst = t % 0.5;
        let envelope =
            if in_burst < 0.3 { (in_burst / 0.01).min((0.3 - in_burst) / 0.01).min(1.0) } else { 0.0 };
        let v = (std::f64::consts::TAU * hz * t).sin() * envelope * 0.5 * 32767.0;
        data.extend_from_slice(&(v.round() as i16).to_le_bytes());
    }
    std::fs::write(path, data)?;
    Ok(())
}

/// Chromium with the tone as its microphone (the directory holding the WAV lives as long as the browser).
async fn launch(ignore_certificate_errors: bool, tone: f64) -> Result<(Browser, tempfile::TempDir)> {
    let dir = tempfile::Builder::new().prefix("kaiwa-interop-").tempdir()?;
    let wav = dir.path().join("tone.wav");
    write_tone_wav(&wav, tone)?;
    let browser = Browser::launch(LaunchOptions {
        ignore_certificate_errors,
        extra_args: vec![format!("--use-file-for-fake-audio-capture={}", wav.display())],
        ..Default::default()
    })
    .await?;
    Ok((browser, dir))
}

async fn join(browser: &Browser, server: &TestServer, room: &str, name: &str) -> Result<Page> {
    let page = browser.new_page(name, &server.url(&format!("/r/{room}?name={name}&autojoin=1"))).await?;
    page.wait_for("window.kaiwa && kaiwa.state().myId", UI_WAIT).await.context("joining the room")?;
    Ok(page)
}

/// What the page helpers need of a browser page: Chromium's (CDP) or Firefox's (WebDriver BiDi).
trait Js {
    async fn eval(&self, expr: &str) -> Result<Value>;
    async fn wait_for(&self, expr: &str, timeout: Duration) -> Result<Value>;
}

impl Js for Page {
    async fn eval(&self, expr: &str) -> Result<Value> {
        Page::eval(self, expr).await
    }
    async fn wait_for(&self, expr: &str, timeout: Duration) -> Result<Value> {
        Page::wait_for(self, expr, timeout).await
    }
}

impl Js for FirefoxPage {
    async fn eval(&self, expr: &str) -> Result<Value> {
        FirefoxPage::eval(self, expr).await
    }
    async fn wait_for(&self, expr: &str, timeout: Duration) -> Result<Value> {
        FirefoxPage::wait_for(self, expr, timeout).await
    }
}

/// Waits until the page is connected to exactly the peers `names`, each with chat open.
async fn wait_page_connected(page: &impl Js, names: &[&str]) -> Result<Value> {
    page.wait_for(
        &format!(
            "(() => {{ const s = kaiwa.state(); const want = {}; return s.peers.length === want.length && \
             want.every(n => s.peers.some(p => p.name === n && p.connectionState === 'connected' && p.chatOpen)) \
             ? s : null; }})()",
            json!(names)
        ),
        MEDIA_WAIT,
    )
    .await
}

/// Waits until every peer's inbound video is H.264 at 640×480 with > `frames` frames decoded and Opus audio
/// packets are arriving; returns the stats.
async fn wait_page_media(page: &impl Js, frames: u64) -> Result<Value> {
    wait_page_media_from(page, &[], frames, "video/H264").await
}

/// Waits until the inbound video from each of `names` (every peer when empty) is `codec` at 640×480 with >
/// `frames` frames decoded and Opus audio packets are arriving; returns the stats.
async fn wait_page_media_from(page: &impl Js, names: &[&str], frames: u64, codec: &str) -> Result<Value> {
    page.wait_for(
        &format!(
            "kaiwa.stats().then(s => {{ const want = {}; const ps = s.peers.filter(p => !want.length || want.includes(p.name)); \
             return ps.length > 0 && ps.every(p => p.video && p.audio && \
             p.video.framesDecoded > {frames} && p.video.codec === {} && \
             p.video.frameWidth === 640 && p.video.frameHeight === 480 && \
             p.audio.packetsReceived > 25 && p.audio.bytesReceived > 0 && p.audio.codec === 'audio/opus') ? s : null; }})",
            json!(names),
            json!(codec)
        ),
        MEDIA_WAIT,
    )
    .await
}

/// The page's stats for the peer called `name`.
async fn page_peer_stats(page: &impl Js, name: &str) -> Result<Value> {
    let v =
        page.eval(&format!("kaiwa.stats().then(s => s.peers.find(p => p.name === {}))", json!(name))).await?;
    ensure!(v.is_object(), "no stats for {name}");
    Ok(v)
}

/// Headless Firefox (no OpenH264: VP8, VP9, AV1) in `room` as `name`, joined.
async fn join_firefox(firefox: &Firefox, server: &TestServer, room: &str, name: &str) -> Result<FirefoxPage> {
    let page = firefox.new_page(name, &server.url(&format!("/r/{room}?name={name}&autojoin=1"))).await?;
    page.wait_for("window.kaiwa && kaiwa.state().myId", UI_WAIT).await.context("Firefox joining the room")?;
    Ok(page)
}

/// Chat typed in the page reaches the native side, and the native side's chat shows in the page.
async fn chat_both_ways(page: &Page, page_name: &str, native: &mut Native, native_name: &str) -> Result<()> {
    let to_page = "こんにちは from the native side <b>&</b>";
    native.engine.send_chat(to_page).await;
    page.wait_for(
        &format!(
            "kaiwa.state().chat.some(m => !m.self && m.from === {} && m.text === {})",
            json!(native_name),
            json!(to_page)
        ),
        UI_WAIT,
    )
    .await?;
    let shown =
        page.eval("[...document.querySelectorAll('#chat-log .text')].map(e => e.textContent)").await?;
    ensure!(shown.as_array().is_some_and(|a| a.contains(&json!(to_page))), "chat log shows {shown}");
    let to_native = "hello from Chromium 🎉";
    page.type_and_enter("#chat-input", to_native).await?;
    native.wait_chat(page_name, to_native).await
}

/// Waits until the number `stat` of the native side's peer `name` stays the same over 1.5 s.
async fn native_stopped(
    native: &mut Native,
    name: &str,
    what: &str,
    stat: fn(&PeerStats) -> u64,
) -> Result<u64> {
    let deadline = Instant::now() + MEDIA_WAIT;
    let mut last = native.stat(name, stat).await?;
    loop {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = native.stat(name, stat).await?;
        if now == last {
            return Ok(now);
        }
        ensure!(Instant::now() < deadline, "native: {what} from {name} kept growing ({last} -> {now})");
        last = now;
    }
}

/// Waits until the number `stat` of the native side's peer `name` exceeds `from + by`.
async fn native_grows(
    native: &mut Native,
    name: &str,
    what: &str,
    stat: fn(&PeerStats) -> u64,
    from: u64,
    by: u64,
) -> Result<u64> {
    let deadline = Instant::now() + MEDIA_WAIT;
    loop {
        let now = native.stat(name, stat).await?;
        if now > from + by {
            return Ok(now);
        }
        if Instant::now() >= deadline {
            let stats = native.engine.stats().await;
            bail!(
                "native: {what} from {name} stuck at {now} (from {from}); stats {}",
                serde_json::to_string(&stats)?
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn frames_in(s: &PeerStats) -> u64 {
    s.video_in.frames_decoded
}

fn audio_packets_in(s: &PeerStats) -> u64 {
    s.audio_in.packets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_and_chromium_call_with_h264_audio_and_chat() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let (browser, _wav) = launch(false, BROWSER_TONE).await?;
    let page = join(&browser, &server, "interop", "Chromium").await?;
    let mut native = Native::start(&server, "interop", "Native")?;

    let stats = native.wait_connected(&["Chromium"]).await?;
    eprintln!(
        "native: connected via {:?} / {:?}, codecs {:?}",
        stats[0].local_candidate, stats[0].remote_candidate, stats[0].codecs
    );
    // The native side knows which route the call took, even when it learned Chromium's address from its
    // connectivity checks (peer-reflexive) before the trickled candidate arrived.
    ensure!(
        stats[0].local_candidate.is_some() && stats[0].remote_candidate.is_some(),
        "native: route unknown"
    );
    let state = wait_page_connected(&page, &["Native"]).await?;
    ensure!(state["peers"][0]["label"] == "connected via direct", "page: {}", state["peers"][0]);
    wait_page_media(&page, 30).await?;
    native.wait_media_from("Chromium", 30).await?;

    // A measured stretch of call.
    tokio::time::sleep(CALL).await;

    // Chromium decoded (nearly) every frame the native side sent it. Read what was sent first, so frames
    // still in flight count against the receiver.
    let sent = native.stat("Chromium", |s| s.out.video_frames).await?;
    let audio_frames_sent = native.stat("Chromium", |s| s.out.audio_frames).await?;
    let got = page_peer_stats(&page, "Native").await?;
    eprintln!("[Chromium] stats for Native: {got}");
    let decoded = got["video"]["framesDecoded"].as_u64().context("framesDecoded")?;
    ensure!(sent > 150, "native sent only {sent} frames");
    ensure!(
        decoded * 100 >= sent * 90,
        "Chromium decoded {decoded} of the {sent} frames native sent (< 90 %)"
    );
    ensure!(got["video"]["codec"] == "video/H264", "codec {}", got["video"]["codec"]);
    ensure!(got["video"]["frameWidth"] == 640 && got["video"]["frameHeight"] == 480, "size {got}");
    let packets = got["audio"]["packetsReceived"].as_u64().context("packetsReceived")?;
    ensure!(got["audio"]["codec"] == "audio/opus", "audio codec {}", got["audio"]["codec"]);
    ensure!(
        packets * 100 >= audio_frames_sent * 80 && packets > 250,
        "Chromium got {packets} audio packets of the {audio_frames_sent} native sent"
    );
    eprintln!("Chromium <- native: {decoded}/{sent} frames, {packets}/{audio_frames_sent} audio packets");

    // The native side decoded (nearly) every frame Chromium sent it (the sender's count read first again)...
    let chromium_sent =
        page_peer_stats(&page, "Native").await?["outVideo"]["framesSent"].as_u64().unwrap_or(0);
    let ns = native.engine.stats().await;
    let native_decoded = ns[0].video_in.frames_decoded;
    ensure!(chromium_sent > 100, "Chromium sent only {chromium_sent} frames");
    ensure!(
        native_decoded * 100 >= chromium_sent * 90,
        "native decoded {native_decoded} of the {chromium_sent} frames Chromium sent (< 90 %): {}",
        serde_json::to_string(&ns[0])?
    );
    ensure!(ns[0].video_in.decode_errors == 0, "native decode errors: {}", serde_json::to_string(&ns[0])?);
    eprintln!("native <- Chromium: {native_decoded}/{chromium_sent} frames");
    // ...and it is Chromium's camera and microphone.
    native.check_received("Chromium", BROWSER_TONE).await?;

    chat_both_ways(&page, "Chromium", &mut native, "Native").await?;

    // The same verification code on both ends (the page computes it from its getStats certificates), and
    // on the tile.
    let native_code = native.stat_text("Chromium", |s| s.verification_code.clone()).await?;
    let page_code = page_peer_stats(&page, "Native").await?["verificationCode"].clone();
    ensure!(
        native_code.is_some() && page_code == json!(native_code),
        "codes: native {native_code:?}, page {page_code}"
    );
    let shown = page.wait_for(
        "(() => { const c = [...document.querySelectorAll('#grid .tile .tile-code')].find(e => !e.hidden); return c ? c.textContent : null; })()",
        UI_WAIT,
    ).await?;
    ensure!(shown == json!(format!("🔒 {}", native_code.unwrap_or_default())), "tile shows {shown}");

    // The native side leaves: the page drops it.
    native.engine.leave().await;
    page.wait_for(
        "kaiwa.state().peers.length === 0 && document.querySelectorAll('#grid .tile').length === 1",
        UI_WAIT,
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_chromium_pages_and_native_three_way() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    // One browser each: tabs of one browser share its echo canceller, which removes a tab's microphone
    // tone when another tab plays the same one.
    let (browser_a, _wav_a) = launch(false, BROWSER_TONE).await?;
    let (browser_b, _wav_b) = launch(false, OTHER_BROWSER_TONE).await?;
    let ann = join(&browser_a, &server, "interop-mesh", "Ann").await?;
    let bo = join(&browser_b, &server, "interop-mesh", "Bo").await?;
    // The native side arrives last and offers to both pages.
    let mut native = Native::start(&server, "interop-mesh", "Native")?;

    native.wait_connected(&["Ann", "Bo"]).await?;
    wait_page_connected(&ann, &["Bo", "Native"]).await?;
    wait_page_connected(&bo, &["Ann", "Native"]).await?;
    for page in [&ann, &bo] {
        let stats = wait_page_media(page, 30).await?;
        for p in stats["peers"].as_array().context("peers")? {
            eprintln!("[{}] <- {}: {} {}", page.label, p["name"], p["video"], p["audio"]);
        }
    }
    native.wait_media_from("Ann", 30).await?;
    native.wait_media_from("Bo", 30).await?;
    // Let each stream run a few seconds for a steady tone measurement.
    tokio::time::sleep(Duration::from_secs(4)).await;
    native.check_received("Ann", BROWSER_TONE).await?;
    native.check_received("Bo", OTHER_BROWSER_TONE).await?;

    // Chat from the native side reaches both pages, and from each page the native side.
    native.engine.send_chat("hi both").await;
    for page in [&ann, &bo] {
        page.wait_for("kaiwa.state().chat.some(m => m.from === 'Native' && m.text === 'hi both')", UI_WAIT)
            .await?;
    }
    ann.type_and_enter("#chat-input", "from Ann").await?;
    bo.type_and_enter("#chat-input", "from Bo").await?;
    native.wait_chat("Ann", "from Ann").await?;
    native.wait_chat("Bo", "from Bo").await?;

    // Ann leaves; Bo and the native side go on.
    ann.click("#leave").await?;
    native.wait_connected(&["Bo"]).await?;
    wait_page_connected(&bo, &["Native"]).await?;
    let before = native.stat("Bo", frames_in).await?;
    native_grows(&mut native, "Bo", "frames", frames_in, before, 30).await?;
    native.engine.leave().await;
    bo.wait_for("kaiwa.state().peers.length === 0", UI_WAIT).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_and_chromium_over_self_signed_tls() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start_tls().await?;
    ensure!(server.url("/").starts_with("https://"));
    let (browser, _wav) = launch(true, BROWSER_TONE).await?;
    // The native side first this time (it answers the page's offer), pinning the certificate.
    let mut native = Native::start(&server, "interop-tls", "Native")?;
    native.wait_joined().await.context("native join over wss")?;
    let page = join(&browser, &server, "interop-tls", "Chromium").await?;
    ensure!(page.eval("location.protocol").await? == "https:");
    ensure!(page.eval("window.isSecureContext").await? == json!(true));

    native.wait_connected(&["Chromium"]).await?;
    wait_page_connected(&page, &["Native"]).await?;
    wait_page_media(&page, 60).await?;
    native.wait_media_from("Chromium", 60).await?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    native.check_received("Chromium", BROWSER_TONE).await?;
    chat_both_ways(&page, "Chromium", &mut native, "Native").await?;
    native.engine.leave().await;
    page.wait_for("kaiwa.state().peers.length === 0", UI_WAIT).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_camera_and_mic_toggles_reach_native() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let (browser, _wav) = launch(false, BROWSER_TONE).await?;
    let page = join(&browser, &server, "interop-toggle", "Chromium").await?;
    let mut native = Native::start(&server, "interop-toggle", "Native")?;
    native.wait_connected(&["Chromium"]).await?;
    wait_page_connected(&page, &["Native"]).await?;
    native.wait_media_from("Chromium", 30).await?;
    wait_page_media(&page, 30).await?;

    // Camera off: frames from Chromium stop, its audio goes on.
    page.click("#toggle-cam").await?;
    page.wait_for("kaiwa.state().camera === false", UI_WAIT).await?;
    native.wait_media_state((true, false)).await?;
    let frames_off = native_stopped(&mut native, "Chromium", "frames", frames_in).await?;
    let audio = native.stat("Chromium", audio_packets_in).await?;
    native_grows(&mut native, "Chromium", "audio packets", audio_packets_in, audio, 50).await?;
    // Camera on again: frames resume, from the same stream, and decode.
    page.click("#toggle-cam").await?;
    page.wait_for("kaiwa.state().camera === true", UI_WAIT).await?;
    native.wait_media_state((true, true)).await?;
    let frames_on = native_grows(&mut native, "Chromium", "frames", frames_in, frames_off, 30).await?;
    eprintln!("native: camera off at {frames_off} frames, on again: {frames_on}");

    // Mute: audio packets from Chromium stop, its video goes on.
    page.click("#toggle-mic").await?;
    page.wait_for("kaiwa.state().mic === false", UI_WAIT).await?;
    native.wait_media_state((false, true)).await?;
    let packets_off = native_stopped(&mut native, "Chromium", "audio packets", audio_packets_in).await?;
    let received = native.recorder.peer("Chromium");
    let samples_at_mute = received.lock().unwrap().audio.len();
    let frames = native.stat("Chromium", frames_in).await?;
    native_grows(&mut native, "Chromium", "frames", frames_in, frames, 30).await?;
    {
        // Whatever the playout hands the sink while no packets come is silence (or nothing at all).
        let r = received.lock().unwrap();
        let tail = &r.audio[samples_at_mute..];
        ensure!(rms(tail) < 0.01, "native: {} samples at rms {:.4} while muted", tail.len(), rms(tail));
    }
    // Unmute: the tone comes back.
    page.click("#toggle-mic").await?;
    page.wait_for("kaiwa.state().mic === true", UI_WAIT).await?;
    native.wait_media_state((true, true)).await?;
    let packets_on =
        native_grows(&mut native, "Chromium", "audio packets", audio_packets_in, packets_off, 100).await?;
    let samples_at_unmute = received.lock().unwrap().audio.len();
    let deadline = Instant::now() + MEDIA_WAIT;
    loop {
        {
            let r = received.lock().unwrap();
            let tail = &r.audio[samples_at_unmute..];
            if tail.len() >= 2 * RATE as usize {
                let (level, hz) = tone_of(tail);
                ensure!(
                    level > 0.01 && (hz - BROWSER_TONE).abs() <= BROWSER_TONE * 0.01,
                    "native: after unmute rms {level:.4}, tone {hz:.1} Hz"
                );
                break;
            }
        }
        ensure!(Instant::now() < deadline, "native: no audio after unmute");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!("native: muted at {packets_off} audio packets, unmuted: {packets_on}");

    // The call goes on both ways.
    let before = page_peer_stats(&page, "Native").await?["video"]["framesDecoded"].as_u64().unwrap_or(0);
    page.wait_for(
        &format!("kaiwa.stats().then(s => s.peers[0] && s.peers[0].video.framesDecoded > {})", before + 30),
        MEDIA_WAIT,
    )
    .await?;
    let state = page.eval("kaiwa.state()").await?;
    ensure!(state["peers"][0]["connectionState"] == "connected", "page state {state}");
    let ns = native.wait_connected(&["Chromium"]).await?;
    eprintln!("native stats after the toggles: {}", serde_json::to_string(&ns[0])?);
    let v = &ns[0].video_in;
    ensure!(v.decode_errors == 0, "native decode errors after the toggles");
    // Nothing was lost on loopback, so the picture never broke: the padding Chromium sends while the
    // camera is off is not mistaken for loss (no dropped frames, no recoveries).
    ensure!(
        v.packets_lost == 0 && v.frames_dropped == 0 && v.recoveries == 0,
        "native video broke without loss: {}",
        serde_json::to_string(v)?
    );

    // The other way: the native side's mute and camera off reach the page as `{"type":"media"}`.
    page.wait_for(
        "kaiwa.state().peers[0].remoteMic === true && kaiwa.state().peers[0].remoteCamera === true",
        UI_WAIT,
    )
    .await?;
    native.engine.set_muted(true);
    page.wait_for("kaiwa.state().peers[0].remoteMic === false", UI_WAIT).await?;
    native.engine.set_video_enabled(false).await;
    page.wait_for("kaiwa.state().peers[0].remoteCamera === false", UI_WAIT).await?;
    native.engine.set_muted(false);
    page.wait_for("kaiwa.state().peers[0].remoteMic === true", UI_WAIT).await?;
    Ok(())
}

/// The tone of Firefox's fake microphone (`media.navigator.streams.fake`).
const FIREFOX_TONE: f64 = 1000.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_and_firefox_call_in_vp8() -> Result<()> {
    // Firefox without its OpenH264 plugin offers VP8, VP9 and AV1: the call must fall back to VP8.
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let firefox = Firefox::launch().await?;
    let page = join_firefox(&firefox, &server, "interop-firefox", "Firefox").await?;
    let mut native = Native::start(&server, "interop-firefox", "Native")?;
    native.wait_connected(&["Firefox"]).await?;
    wait_page_connected(&page, &["Native"]).await?;
    let got = wait_page_media_from(&page, &["Native"], 30, "video/VP8").await?;
    eprintln!("[Firefox] <- Native: {}", got["peers"][0]);
    native.wait_media_from("Firefox", 30).await?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let ns = native.wait_connected(&["Firefox"]).await?;
    let vp8 = Some("video/VP8".to_owned());
    ensure!(
        ns[0].out.video_codec == vp8 && ns[0].video_in.codec == vp8,
        "native: {}",
        serde_json::to_string(&ns[0])?
    );
    ensure!(ns[0].video_in.decode_errors == 0, "native decode errors: {}", serde_json::to_string(&ns[0])?);
    native.check_received_sized("Firefox", FIREFOX_TONE, (320, 240)).await?;
    // Firefox decodes (nearly) every frame the native side sends it.
    let sent = native.stat("Firefox", |s| s.out.video_frames).await?;
    let decoded = page_peer_stats(&page, "Native").await?["video"]["framesDecoded"].as_u64().unwrap_or(0);
    ensure!(
        decoded * 100 >= sent * 90,
        "Firefox decoded {decoded} of the {sent} frames native sent (< 90 %)"
    );
    native.engine.leave().await;
    page.wait_for("kaiwa.state().peers.length === 0", UI_WAIT).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_and_chromium_call_on_our_page() -> Result<()> {
    // Our page keeps every codec the browser offers (H.264 first): Firefox and Chromium meet on VP8.
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let firefox = Firefox::launch().await?;
    let (browser, _wav) = launch(false, BROWSER_TONE).await?;
    let fox = join_firefox(&firefox, &server, "interop-browsers", "Firefox").await?;
    let chromium = join(&browser, &server, "interop-browsers", "Chromium").await?;
    wait_page_connected(&fox, &["Chromium"]).await?;
    wait_page_connected(&chromium, &["Firefox"]).await?;
    let at_fox = wait_page_media_from(&fox, &["Chromium"], 30, "video/VP8").await?;
    let at_chromium = wait_page_media_from(&chromium, &["Firefox"], 30, "video/VP8").await?;
    eprintln!(
        "[Firefox] <- Chromium: {}\n[Chromium] <- Firefox: {}",
        at_fox["peers"][0], at_chromium["peers"][0]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_firefox_and_chromium_in_one_room() -> Result<()> {
    // The native side sends H.264 to Chromium and VP8 to Firefox: two encoders, one per codec.
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let firefox = Firefox::launch().await?;
    let (browser, _wav) = launch(false, BROWSER_TONE).await?;
    let fox = join_firefox(&firefox, &server, "interop-three", "Firefox").await?;
    let chromium = join(&browser, &server, "interop-three", "Chromium").await?;
    let mut native = Native::start(&server, "interop-three", "Native")?;
    native.wait_connected(&["Firefox", "Chromium"]).await?;
    wait_page_connected(&fox, &["Chromium", "Native"]).await?;
    wait_page_connected(&chromium, &["Firefox", "Native"]).await?;
    wait_page_media_from(&fox, &["Chromium", "Native"], 30, "video/VP8").await?;
    wait_page_media_from(&chromium, &["Native"], 30, "video/H264").await?;
    wait_page_media_from(&chromium, &["Firefox"], 30, "video/VP8").await?;
    native.wait_media_from("Firefox", 30).await?;
    native.wait_media_from("Chromium", 30).await?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    native.check_received_sized("Firefox", FIREFOX_TONE, (320, 240)).await?;
    native.check_received("Chromium", BROWSER_TONE).await?;
    let stats = native.engine.stats().await;
    let codec = |name: &str| {
        let s = stats.iter().find(|s| s.name == name);
        (s.and_then(|s| s.out.video_codec.clone()), s.and_then(|s| s.video_in.codec.clone()))
    };
    let (h264, vp8) = (Some("video/H264".to_owned()), Some("video/VP8".to_owned()));
    ensure!(codec("Chromium") == (h264.clone(), h264), "native <-> Chromium: {:?}", codec("Chromium"));
    ensure!(codec("Firefox") == (vp8.clone(), vp8), "native <-> Firefox: {:?}", codec("Firefox"));
    ensure!(native.engine.video_encoders() == 2, "native runs {} encoders", native.engine.video_encoders());
    native.engine.leave().await;
    Ok(())
}

/// Runs in the page before its own scripts: the browser's video capabilities without H.264, so the client's
/// `setCodecPreferences` leaves it out of every offer and answer (a browser that has no H.264).
const WITHOUT_H264: &str = "(() => { const caps = RTCRtpReceiver.getCapabilities; \
    RTCRtpReceiver.getCapabilities = function (kind) { const c = caps.call(this, kind); \
    if (c && kind === 'video') c.codecs = c.codecs.filter((x) => x.mimeType.toLowerCase() !== 'video/h264'); \
    return c; }; })()";

/// Joins `room` as `name` in a page whose client has no H.264 ([`WITHOUT_H264`]).
async fn join_without_h264(browser: &Browser, server: &TestServer, room: &str, name: &str) -> Result<Page> {
    let page = browser.new_page(name, "about:blank").await?;
    page.call("Page.addScriptToEvaluateOnNewDocument", json!({ "source": WITHOUT_H264 })).await?;
    page.goto(&server.url(&format!("/r/{room}?name={name}&autojoin=1"))).await?;
    page.wait_for("window.kaiwa && kaiwa.state().myId", UI_WAIT).await.context("joining the room")?;
    Ok(page)
}

/// The note on the page's tile of `name` (empty when none is shown).
async fn tile_note(page: &Page, name: &str) -> Result<String> {
    let v = page
        .eval(&format!(
            "(() => {{ const t = [...document.querySelectorAll('#grid .tile')].find(t => \
             t.querySelector('.tile-name')?.textContent === {}); const n = t?.querySelector('.tile-note'); \
             return n && !n.hidden ? n.textContent : ''; }})()",
            json!(name)
        ))
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

/// A native client with only H.264 and two Chromiums without it: one there before the native side (the
/// native side offers, Chromium answers without video) and one after (Chromium offers VP8 and more, the
/// native side answers without video). Each pair gets audio and chat both ways, both ends say why there is
/// no video on the tile and in their stats, and the two Chromiums see each other in VP8.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_and_chromium_without_a_common_video_codec_keep_audio_and_chat() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let room = "no-common-video";
    let (browser, _wav) = launch(false, BROWSER_TONE).await?;
    let (other_browser, _other_wav) = launch(false, OTHER_BROWSER_TONE).await?;
    let before = join_without_h264(&browser, &server, room, "Cleo").await?;
    let network = NetworkConfig {
        udp_addrs: vec!["127.0.0.1:0".into()],
        video_codecs: vec![kaiwa_media::video::VideoCodec::H264],
        ..Default::default()
    };
    let mut native = Native::start_with(&server, room, "Nat", network)?;
    native.wait_connected(&["Cleo"]).await?;
    let after = join_without_h264(&other_browser, &server, room, "Dan").await?;
    native.wait_connected(&["Cleo", "Dan"]).await?;
    for page in [&before, &after] {
        let others: &[&str] = if std::ptr::eq(page, &before) { &["Nat", "Dan"] } else { &["Nat", "Cleo"] };
        wait_page_connected(page, others).await?;
    }

    // Audio both ways on both pairs.
    native
        .wait_stats("audio from both", MEDIA_WAIT, |s| {
            s.len() == 2 && s.iter().all(|p| p.audio_in.packets > 50)
        })
        .await?;
    for page in [&before, &after] {
        page.wait_for(
            "kaiwa.stats().then(s => { const p = s.peers.find(p => p.name === 'Nat'); \
             return p && p.audio && p.audio.packetsReceived > 50 && p.audio.codec === 'audio/opus'; })",
            MEDIA_WAIT,
        )
        .await
        .context("audio from the native side")?;
    }
    // The two Chromiums share VP8.
    wait_page_media_from(&before, &["Dan"], 30, "video/VP8").await?;
    wait_page_media_from(&after, &["Cleo"], 30, "video/VP8").await?;

    after.screenshot(&screenshot_dir().join("no-common-video.png")).await?;
    // Both ends say why there is no video.
    let stats = native.engine.stats().await;
    for s in &stats {
        ensure!(s.video_formats.unavailable(), "native with {}: {:?}", s.name, s.video_formats);
        ensure!(
            s.video_in.frames_decoded == 0 && s.out.video_codec.is_none(),
            "native video with {}",
            s.name
        );
    }
    // Each side knows what the other has (from its offer, or the `media` message when it answered with
    // the video rejected): VP8 and whatever else Chromium has but H.264, and H.264 alone.
    for s in &stats {
        let theirs = &s.video_formats.peer_codecs;
        ensure!(
            theirs.iter().any(|c| c == "VP8") && !theirs.iter().any(|c| c.eq_ignore_ascii_case("H264")),
            "{}'s codecs as the native side saw them: {theirs:?}",
            s.name
        );
    }
    for page in [&before, &after] {
        let got = page_peer_stats(page, "Nat").await?;
        ensure!(got["videoFormats"]["shared"] == json!(false), "page sees {}", got["videoFormats"]);
        let note = tile_note(page, "Nat").await?;
        ensure!(note == "Video can't be shown: no common video format", "tile note for Nat: {note:?}");
        let other = if std::ptr::eq(page, &before) { "Dan" } else { "Cleo" };
        ensure!(tile_note(page, other).await?.is_empty(), "a note on {other}'s tile");
        ensure!(page_peer_stats(page, other).await?["videoFormats"]["shared"] == json!(true), "{other}");
    }
    for page in [&before, &after] {
        let got = page_peer_stats(page, "Nat").await?;
        ensure!(
            got["videoFormats"]["peerCodecs"] == json!(["H264"]),
            "the page sees {}",
            got["videoFormats"]
        );
    }

    chat_both_ways(&before, "Cleo", &mut native, "Nat").await?;
    chat_both_ways(&after, "Dan", &mut native, "Nat").await?;

    // A renegotiation (the native side offers to both again) changes none of it.
    let offers = |s: &PeerStats| s.negotiation.offers;
    let offered = (native.stat("Cleo", offers).await?, native.stat("Dan", offers).await?);
    native.engine.renegotiate().await;
    native_grows(&mut native, "Cleo", "offers", offers, offered.0, 0).await?;
    native_grows(&mut native, "Dan", "offers", offers, offered.1, 0).await?;
    for name in ["Cleo", "Dan"] {
        let heard = native.stat(name, audio_packets_in).await?;
        native_grows(&mut native, name, "audio", audio_packets_in, heard, 50).await?;
    }
    let stats = native.wait_connected(&["Cleo", "Dan"]).await?;
    ensure!(stats.iter().all(|s| s.video_formats.unavailable()), "after renegotiating: {stats:?}");
    // One offer each at the start (to Cleo) or none (Dan offered), one for the renegotiation: no storm.
    let offers: Vec<u64> = stats.iter().map(|s| s.negotiation.offers).collect();
    ensure!(offers.iter().all(|&n| n <= 2), "offers made: {offers:?}");
    for page in [&before, &after] {
        let heard = page_peer_stats(page, "Nat").await?["audio"]["packetsReceived"].as_u64().unwrap_or(0);
        page.wait_for(
            &format!(
                "kaiwa.stats().then(s => {{ const p = s.peers.find(p => p.name === 'Nat'); \
                 return p && p.label.startsWith('connected') && p.videoFormats.shared === false && \
                 p.audio.packetsReceived > {heard} + 50; }})"
            ),
            MEDIA_WAIT,
        )
        .await
        .context("the page after the renegotiation")?;
        ensure!(tile_note(page, "Nat").await? == "Video can't be shown: no common video format", "note gone");
    }
    native.engine.leave().await;
    Ok(())
}

/// A man in the middle ([`Mitm`], a signaling relay in front of the server that answers each side with a
/// connection of its own) between the native client and Chromium: both connect, to it, and the codes they
/// show differ. (Without it they match: `native_and_chromium_call_with_h264_audio_and_chat`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_man_in_the_middle_between_native_and_chromium_shows_as_different_codes() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let mitm = Mitm::start(server.addr).await?;
    let (browser, _wav) = launch(false, BROWSER_TONE).await?;
    let page = join(&browser, &server, "mitm", "Chromium").await?;
    let network = NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() };
    let mut native = Native::start_at(&mitm.ws_url(), None, "mitm", "Native", network)?;
    native.wait_connected(&["Chromium"]).await?;
    wait_page_connected(&page, &["Native"]).await?;
    let native_code = native.stat_text("Chromium", |s| s.verification_code.clone()).await?;
    let page_code = page
        .wait_for(
            "kaiwa.stats().then(s => s.peers.find(p => p.name === 'Native')?.verificationCode ?? null)",
            UI_WAIT,
        )
        .await?;
    ensure!(
        native_code.is_some() && page_code.is_string(),
        "codes: native {native_code:?}, page {page_code}"
    );
    ensure!(page_code != json!(native_code), "the same code ({page_code}) through a man in the middle");
    native.engine.leave().await;
    Ok(())
}

/// The engine's hostile cases ([`hostile_cases`]) against the browser client: Mallory connects to Cleo's
/// page while Cleo and the native client are in a call. After each case the page still answers, Cleo is
/// still connected to Nat, and video kept coming both ways; chat from Mallory shows only at the limit's pace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_participant_breaks_nothing_in_the_browser() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await?;
    let room = "hostile-page";
    let (browser, _wav) = launch(false, BROWSER_TONE).await?;
    let page = join(&browser, &server, room, "Cleo").await?;
    let mut native = Native::start(&server, room, "Nat")?;
    native.wait_connected(&["Cleo"]).await?;
    wait_page_media(&page, 30).await?;
    native.wait_media_from("Cleo", 30).await?;
    let mut mallory = Hostile::join(&format!("ws://{}/ws", server.addr), room, "Mallory").await?;
    let (cleo, nat) = (mallory.id_of("Cleo")?, mallory.id_of("Nat")?);
    mallory.connect(&cleo).await?;
    let offer = mallory.throwaway_offer().await?;
    let started = Instant::now();
    let page_frames = async |page: &Page| -> Result<u64> {
        let s = page_peer_stats(page, "Nat").await?;
        ensure!(
            s["label"].as_str().is_some_and(|l| l.starts_with("connected")),
            "Cleo's link to Nat: {}",
            s["label"]
        );
        Ok(s["video"]["framesDecoded"].as_u64().unwrap_or(0))
    };
    // Mallory's RTP packets as the page counts them (video and audio).
    let page_packets_from_mallory = async |page: &Page| -> Result<u64> {
        let s = page_peer_stats(page, "Mallory").await?;
        Ok(s["video"]["packetsReceived"].as_u64().unwrap_or(0)
            + s["audio"]["packetsReceived"].as_u64().unwrap_or(0))
    };
    // The media cases first, while Mallory's own connection is as it was made.
    let media: Vec<&str> = media_cases().iter().map(|(name, _)| *name).collect();
    for (case, actions) in media_cases().into_iter().chain(hostile_cases(&cleo, &nat, &offer)) {
        let before = (page_frames(&page).await?, native.stat("Cleo", frames_in).await?);
        let packets_before = if media.contains(&case) { page_packets_from_mallory(&page).await? } else { 0 };
        let rtp = actions.iter().any(|a| matches!(a, Action::Rtp { .. }));
        for action in actions {
            let must_get_through = matches!(action, Action::AddVideoTracks(_));
            let went = mallory.act(&cleo, action).await;
            assert!(went || !must_get_through, "{case}: the added tracks were not negotiated");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        if rtp {
            let packets_after = page_packets_from_mallory(&page).await?;
            ensure!(packets_after > packets_before, "{case}: none of Mallory's packets reached the page");
        }
        let after = (
            tokio::time::timeout(UI_WAIT, page_frames(&page)).await.context(case)?.context(case)?,
            native.stat("Cleo", frames_in).await?,
        );
        ensure!(
            after.0 >= before.0 + 30 && after.1 >= before.1 + 30,
            "{case}: video stalled: {before:?} -> {after:?}"
        );
    }
    let state = page.eval("kaiwa.state()").await?;
    let from_mallory =
        state["chat"].as_array().map_or(0, |c| c.iter().filter(|m| m["from"] == "Mallory").count());
    let allowed = 20 + (started.elapsed().as_secs_f64() * 5.0) as usize + 1;
    ensure!(
        (20..=allowed).contains(&from_mallory),
        "{from_mallory} chat lines from Mallory shown (limit {allowed})"
    );
    ensure!(
        state["peers"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == "Nat" && p["id"] == json!(nat))),
        "Nat's entry on the page: {}",
        state["peers"]
    );
    mallory.leave().await;
    native.engine.leave().await;
    Ok(())
}

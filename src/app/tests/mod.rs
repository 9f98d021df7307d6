//! UI tests with egui_kittest: the app against a real signaling server (in this process) and a headless
//! peer (a second engine with a test pattern and a tone), driven in real time. Here the harness and Bob,
//! the headless peer; the tests by subject in `call.rs`, `trust.rs` and `hosting.rs`.

mod call;
mod hosting;
mod languages;
mod scripts;
mod sharing;
mod trust;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kaiwa_devices::{TestPatternSource, ToneSource};
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_engine::signaling::{ServerUrl, SignalingConfig};
use kaiwa_engine::sinks::{AudioSink, MediaSinks};
use kaiwa_engine::{Engine, EngineConfig, EngineEvent};
use kaiwa_protocol::PeerInfo;
use kaiwa_testkit::SignalingServer;
use kaiwa_tls::Fingerprint;
use tokio_util::sync::CancellationToken;

use super::settings::{ServerMode, Settings};
use super::{KaiwaApp, Options, Screen};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn app_for(rt: &tokio::runtime::Runtime, server: &str, room: &str) -> KaiwaApp {
    let settings = Settings {
        name: "Alice".into(),
        server_mode: ServerMode::Remote,
        media_bind: "127.0.0.1:0".into(),
        width: 320,
        height: 240,
        fps: 15,
        language: crate::app::i18n::LanguageChoice::Fixed(crate::app::i18n::Language::En),
        ..Settings::default()
    };
    let options = Options { server: Some(server.into()), room: Some(room.into()), ..Options::default() };
    let mut app = KaiwaApp::new(rt.handle().clone(), settings, options);
    app.persist = false;
    app
}

/// The app in a 1280×800 harness. Each event is its own frame, and frames are 1/60 s apart (kittest's
/// default 1/4 s puts the two clicks of a double-click 0.5 s apart, too slow to count as one).
fn harness<'a>(app: KaiwaApp) -> Harness<'a, KaiwaApp> {
    Harness::builder().with_size(egui::vec2(1280.0, 800.0)).with_step_dt(1.0 / 60.0).build_eframe(|_cc| app)
}

/// Steps the UI in real time until `done` holds.
fn wait_until(
    h: &mut Harness<'_, KaiwaApp>,
    what: &str,
    timeout: Duration,
    done: impl Fn(&Harness<'_, KaiwaApp>) -> bool,
) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h) {
            return;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what} (screen {:?}, error {:?})",
            h.state().screen,
            h.state().start.error
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A few real-time frames, so that the accessibility tree (and so click positions) follow layout changes.
/// Double-clicks the node labelled `label` (after a second of frames, so clicks before do not make it a
/// triple-click) and lets the app settle.
fn double_click(h: &mut Harness<'_, KaiwaApp>, label: &str) {
    for _ in 0..60 {
        h.step();
    }
    let node = h.get_by_label(label);
    node.click();
    node.click();
    settle(h);
}

/// From the start screen into the call: `next` ("Continue"), then `join` ("Join now") once it shows.
fn enter_call(h: &mut Harness<'_, KaiwaApp>, [next, join]: [&str; 2]) {
    h.get_by_label(next).click();
    wait_until(h, "the join button", Duration::from_secs(20), |h| h.query_by_label(join).is_some());
    click_until(h, join, |h| h.state().screen == Screen::Call);
}

fn settle(h: &mut Harness<'_, KaiwaApp>) {
    for _ in 0..5 {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Clicks the button labelled `label` until `done` holds: a click can miss while the layout still moves
/// (device notices appearing), as clicks go to where the button was in the last frame.
fn click_until(h: &mut Harness<'_, KaiwaApp>, label: &str, done: impl Fn(&Harness<'_, KaiwaApp>) -> bool) {
    for _ in 0..10 {
        h.get_by_label(label).click();
        settle(h);
        if done(h) {
            return;
        }
    }
    panic!(
        "clicking {label} had no effect (screen {:?}, error {:?})",
        h.state().screen,
        h.state().start.error
    );
}

/// Bob's ears: everything he hears from the others, in one buffer (20 ms at a time).
#[derive(Default)]
struct Heard(std::sync::Arc<std::sync::Mutex<Vec<i16>>>);

impl MediaSinks for Heard {
    fn audio(&self, _peer: &PeerInfo) -> Option<AudioSink> {
        let heard = self.0.clone();
        Some(Box::new(move |pcm: &[i16]| {
            if let Ok(mut h) = heard.lock() {
                h.extend_from_slice(pcm);
            }
        }))
    }
}

/// A headless participant: test pattern and tone; reports chat, media announcements and departures,
/// answers chat with `reply`. The chat line "mute" turns his microphone and camera off, "share" and
/// "unshare" share a test pattern as a screen. What he hears goes to `heard`.
struct Peer {
    name: &'static str,
    reply: &'static str,
    hz: f64,
    heard: std::sync::Arc<std::sync::Mutex<Vec<i16>>>,
    network: NetworkConfig,
}

impl Default for Peer {
    fn default() -> Self {
        Peer {
            name: "Bob",
            reply: "hi from bob",
            hz: 440.0,
            heard: Default::default(),
            network: NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() },
        }
    }
}

fn spawn_bob_hearing(
    rt: &tokio::runtime::Runtime,
    ws: &str,
    room: &str,
    hz: f64,
    heard: std::sync::Arc<std::sync::Mutex<Vec<i16>>>,
) -> (mpsc::Receiver<String>, tokio::sync::oneshot::Sender<()>) {
    spawn_peer(rt, ws, room, Peer { hz, heard, ..Peer::default() })
}

fn spawn_peer(
    rt: &tokio::runtime::Runtime,
    ws: &str,
    room: &str,
    peer: Peer,
) -> (mpsc::Receiver<String>, tokio::sync::oneshot::Sender<()>) {
    let (tx, rx) = mpsc::channel();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel();
    let signaling = SignalingConfig::new(ServerUrl::parse(ws).unwrap(), room.to_string(), peer.name);
    rt.spawn(async move {
        let mut engine = Engine::start(EngineConfig {
            signaling,
            network: peer.network,
            extra_ice_servers: Vec::new(),
            video: Some(Box::new(TestPatternSource::new(320, 240, 15).unwrap())),
            audio: Some(Box::new(ToneSource::new(peer.hz))),
            sinks: std::sync::Arc::new(Heard(peer.heard)),
            video_send: Default::default(),
            audio_processing: kaiwa_media::audio::ProcessingConfig::OFF,
        })
        .unwrap();
        loop {
            tokio::select! {
                _ = &mut stop_rx => break,
                event = engine.next_event() => match event {
                    Some(EngineEvent::Chat { message, .. }) if message.text == "mute" => {
                        engine.set_muted(true);
                        engine.set_video_enabled(false).await;
                    }
                    Some(EngineEvent::Chat { message, .. }) if message.text == "share" => {
                        let screen = TestPatternSource::new(640, 360, 15).unwrap();
                        engine.share_screen(Some(Box::new(screen))).await;
                    }
                    Some(EngineEvent::Chat { message, .. }) if message.text == "unshare" => {
                        engine.share_screen(None).await;
                    }
                    Some(EngineEvent::Chat { message, .. }) => {
                        let _ = tx.send(format!("chat:{}", message.text));
                        engine.send_chat(peer.reply).await;
                    }
                    Some(EngineEvent::PeerMedia { mic, camera, .. }) => {
                        let _ = tx.send(format!("media:{mic}:{camera}"));
                    }
                    Some(EngineEvent::PeerLeft(p)) => { let _ = tx.send(format!("left:{}", p.name)); }
                    Some(EngineEvent::Joined { .. }) => {
                        let _ = tx.send("in-room".to_string());
                    }
                    Some(EngineEvent::PeerJoined(p)) => { let _ = tx.send(format!("joined:{}", p.name)); }
                    Some(_) => {}
                    None => break,
                },
            }
        }
        engine.leave().await;
    });
    (rx, stop_tx)
}

fn spawn_bob(
    rt: &tokio::runtime::Runtime,
    ws: &str,
    room: &str,
    hz: f64,
) -> (mpsc::Receiver<String>, tokio::sync::oneshot::Sender<()>) {
    spawn_peer(rt, ws, room, Peer { hz, ..Peer::default() })
}

fn wait_for(rx: &mpsc::Receiver<String>, h: &mut Harness<'_, KaiwaApp>, want: &str) {
    let start = Instant::now();
    loop {
        h.step();
        if let Ok(msg) = rx.try_recv() {
            if msg == want {
                return;
            }
            continue;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "Bob never saw {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

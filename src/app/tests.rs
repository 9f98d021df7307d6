//! UI tests with egui_kittest: the app against a real signaling server (in this process) and a headless
//! peer (a second engine with a test pattern and a tone), driven in real time.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kaiwa_devices::{TestPatternSource, ToneSource};
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_engine::signaling::{ServerUrl, SignalingConfig};
use kaiwa_engine::sinks::DiscardSinks;
use kaiwa_engine::{Engine, EngineConfig, EngineEvent};
use kaiwa_testkit::SignalingServer;

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
        ..Settings::default()
    };
    let options = Options { server: Some(server.into()), room: Some(room.into()), ..Options::default() };
    let mut app = KaiwaApp::new(rt.handle().clone(), settings, options);
    app.persist = false;
    app
}

fn harness<'a>(app: KaiwaApp) -> Harness<'a, KaiwaApp> {
    Harness::builder().with_size(egui::vec2(1280.0, 800.0)).build_eframe(|_cc| app)
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

/// A headless participant: test pattern and tone; reports chat and departures, answers chat.
fn spawn_bob(
    rt: &tokio::runtime::Runtime,
    ws: &str,
    room: &str,
    hz: f64,
) -> (mpsc::Receiver<String>, tokio::sync::oneshot::Sender<()>) {
    let (tx, rx) = mpsc::channel();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel();
    let signaling = SignalingConfig::new(ServerUrl::parse(ws).unwrap(), room.to_string(), "Bob");
    rt.spawn(async move {
        let mut engine = Engine::start(EngineConfig {
            signaling,
            network: NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() },
            extra_ice_servers: Vec::new(),
            video: Some(Box::new(TestPatternSource::new(320, 240, 15).unwrap())),
            audio: Some(Box::new(ToneSource::new(hz))),
            sinks: std::sync::Arc::new(DiscardSinks),
            video_send: Default::default(),
            audio_processing: kaiwa_media::audio::ProcessingConfig::OFF,
        })
        .unwrap();
        loop {
            tokio::select! {
                _ = &mut stop_rx => break,
                event = engine.next_event() => match event {
                    Some(EngineEvent::Chat { message, .. }) => {
                        let _ = tx.send(format!("chat:{}", message.text));
                        engine.send_chat("hi from bob").await;
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

#[test]
fn no_camera_falls_back_to_test_pattern_with_a_message() {
    let rt = runtime();
    let server = rt.block_on(SignalingServer::start(kaiwa_signaling::Config::default()));
    let mut h = harness(app_for(&rt, &server.ws_url(), "nocam-room"));
    h.step();
    h.get_by_label("Continue").click();
    wait_until(&mut h, "the pre-join screen", Duration::from_secs(5), |h| {
        h.state().screen == Screen::Prejoin
    });
    wait_until(&mut h, "the device scan", Duration::from_secs(15), |h| {
        h.state().preview.as_ref().is_some_and(|p| p.info.lock().unwrap().devices.is_some())
    });
    if kaiwa_devices::list_cameras().is_empty() {
        wait_until(&mut h, "the no-camera message", Duration::from_secs(5), |h| {
            h.query_all_by_label_contains("No camera found").next().is_some()
        });
        // The preview shows the test pattern instead.
        wait_until(&mut h, "a preview frame", Duration::from_secs(5), |h| {
            h.state().preview_texture.has_frame()
        });
    }
    h.get_by_label("Back").click();
    wait_until(&mut h, "the start screen", Duration::from_secs(5), |h| h.state().screen == Screen::Start);
}

#[test]
fn start_prejoin_call_chat_leave_with_a_headless_peer() {
    let rt = runtime();
    let server = rt.block_on(SignalingServer::start(kaiwa_signaling::Config::default()));
    let ws = server.ws_url();
    let (bob, stop_bob) = spawn_bob(&rt, &ws, "kittest-room", 440.0);
    assert_eq!(bob.recv_timeout(Duration::from_secs(20)).as_deref(), Ok("in-room"), "Bob could not join");
    let mut h = harness(app_for(&rt, &ws, "kittest-room"));
    h.step();
    // The start screen shows how full the room is before joining.
    wait_until(&mut h, "the room status", Duration::from_secs(20), |h| {
        h.query_all_by_label_contains("1 of ").next().is_some()
    });
    h.get_by_label("Continue").click();
    wait_until(&mut h, "the pre-join screen", Duration::from_secs(5), |h| {
        h.state().screen == Screen::Prejoin
    });
    wait_until(&mut h, "the Join button", Duration::from_secs(15), |h| {
        h.query_by_label("Join now").is_some()
    });
    // Echo cancellation & noise suppression: on by default, switchable before joining…
    assert!(h.state().settings.audio_processing);
    click_until(&mut h, AUDIO_PROCESSING, |h| !h.state().settings.audio_processing);
    click_until(&mut h, AUDIO_PROCESSING, |h| h.state().settings.audio_processing);
    click_until(&mut h, "Join now", |h| h.state().screen == Screen::Call);
    wait_for(&bob, &mut h, "joined:Alice");
    // Bob's test pattern reaches a tile.
    wait_until(&mut h, "Bob's video", Duration::from_secs(20), |h| {
        h.state().call.as_ref().is_some_and(|c| c.peers.iter().any(|p| p.info.name == "Bob" && p.has_video()))
    });

    h.get_by_role(egui::accesskit::Role::TextInput).focus();
    h.step();
    h.get_by_role(egui::accesskit::Role::TextInput).type_text("hello from gui");
    h.step();
    h.get_by_label("Send").click();
    wait_for(&bob, &mut h, "chat:hello from gui");
    wait_until(&mut h, "Bob's answer", Duration::from_secs(10), |h| {
        h.query_all_by_label("hi from bob").next().is_some()
    });

    h.get_by_label("Mute (M)").click();
    wait_until(&mut h, "muted", Duration::from_secs(2), |h| h.state().call.as_ref().is_some_and(|c| c.muted));
    // …and during the call.
    h.get_by_label(AUDIO_PROCESSING).click();
    wait_until(&mut h, "processing off", Duration::from_secs(2), |h| {
        h.state().call.as_ref().is_some_and(|c| !c.session.audio_processing)
            && !h.state().settings.audio_processing
    });

    // Leave with the keyboard shortcut.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    wait_until(&mut h, "the start screen", Duration::from_secs(5), |h| h.state().screen == Screen::Start);
    wait_for(&bob, &mut h, "left:Alice");
    let _ = stop_bob.send(());
}

const AUDIO_PROCESSING: &str = "Echo cancellation & noise suppression";

/// Bob's 660 Hz tone comes out of the speaker the app picked: recorded from the private PulseAudio
/// daemon's `spk.monitor`.
#[test]
fn remote_tone_reaches_the_speaker() {
    let name = "app::tests::remote_tone_reaches_the_speaker";
    kaiwa_devices::testing::run_with_pulse(name, Duration::from_secs(60), || {
        use kaiwa_media::audio::analysis::{dominant_frequency, rms};
        let rt = runtime();
        let server = rt.block_on(SignalingServer::start(kaiwa_signaling::Config::default()));
        let ws = server.ws_url();
        let (bob, stop_bob) = spawn_bob(&rt, &ws, "pulse-room", 660.0);
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("spk.raw");
        let mut parec = std::process::Command::new("parec")
            .args(["-d", "spk.monitor", "--raw", "--rate=48000", "--channels=1", "--format=s16le"])
            .stdout(std::fs::File::create(&raw).unwrap())
            .spawn()
            .expect("parec (pulseaudio-utils)");
        let mut h = harness(app_for(&rt, &ws, "pulse-room"));
        h.step();
        click_until(&mut h, "Continue", |h| h.state().screen == Screen::Prejoin);
        wait_until(&mut h, "the device scan", Duration::from_secs(15), |h| {
            h.state().preview.as_ref().is_some_and(|p| p.info.lock().unwrap().devices.is_some())
        });
        settle(&mut h);
        click_until(&mut h, "Join now", |h| h.state().screen == Screen::Call);
        wait_for(&bob, &mut h, "joined:Alice");
        wait_until(&mut h, "Bob's video", Duration::from_secs(20), |h| {
            h.state().call.as_ref().is_some_and(|c| c.peers.iter().any(|p| p.has_video()))
        });
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            h.step();
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = parec.kill();
        let _ = parec.wait();
        let bytes = std::fs::read(&raw).unwrap();
        let samples: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        let loud: Vec<i16> =
            samples.chunks(960).filter(|c| c.len() == 960 && rms(c) > 0.03).flatten().copied().collect();
        let secs = loud.len() as f64 / 48_000.0;
        assert!(secs >= 1.0, "only {secs:.2} s of sound reached the speaker (rms {:.3})", rms(&samples));
        let f = dominant_frequency(&loud, 48_000).expect("a dominant frequency");
        assert!((f - 660.0).abs() < 660.0 * 0.02, "speaker played {f:.1} Hz, expected 660 Hz");
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
        settle(&mut h);
        let _ = stop_bob.send(());
    });
}

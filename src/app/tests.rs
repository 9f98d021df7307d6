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
/// answers chat. The chat line "mute" turns his microphone and camera off. What he hears goes to `heard`.
fn spawn_bob_hearing(
    rt: &tokio::runtime::Runtime,
    ws: &str,
    room: &str,
    hz: f64,
    heard: std::sync::Arc<std::sync::Mutex<Vec<i16>>>,
) -> (mpsc::Receiver<String>, tokio::sync::oneshot::Sender<()>) {
    let network = NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() };
    spawn_bob_with(rt, ws, room, hz, heard, network)
}

fn spawn_bob_with(
    rt: &tokio::runtime::Runtime,
    ws: &str,
    room: &str,
    hz: f64,
    heard: std::sync::Arc<std::sync::Mutex<Vec<i16>>>,
    network: NetworkConfig,
) -> (mpsc::Receiver<String>, tokio::sync::oneshot::Sender<()>) {
    let (tx, rx) = mpsc::channel();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel();
    let signaling = SignalingConfig::new(ServerUrl::parse(ws).unwrap(), room.to_string(), "Bob");
    rt.spawn(async move {
        let mut engine = Engine::start(EngineConfig {
            signaling,
            network,
            extra_ice_servers: Vec::new(),
            video: Some(Box::new(TestPatternSource::new(320, 240, 15).unwrap())),
            audio: Some(Box::new(ToneSource::new(hz))),
            sinks: std::sync::Arc::new(Heard(heard)),
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
                    Some(EngineEvent::Chat { message, .. }) => {
                        let _ = tx.send(format!("chat:{}", message.text));
                        engine.send_chat("hi from bob").await;
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
    spawn_bob_hearing(rt, ws, room, hz, Default::default())
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
    // The network check runs beside the preview: the test server answers, and STUN on its own port.
    wait_until(&mut h, "the network check", Duration::from_secs(15), |h| {
        h.query_all_by_label_contains("Direct calls likely").next().is_some()
    });
    assert!(h.query_all_by_label_contains("Server: answers").next().is_some());
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

    // Bob's tone lights up his tile's speaking border.
    let bob_view = |h: &Harness<'_, KaiwaApp>, f: &dyn Fn(&super::call_view::PeerView) -> bool| {
        h.state().call.as_ref().is_some_and(|c| c.peers.iter().any(|p| p.info.name == "Bob" && f(p)))
    };
    wait_until(&mut h, "Bob speaking", Duration::from_secs(10), |h| bob_view(h, &|p| p.is_speaking()));
    assert!(bob_view(&h, &|p| p.mic_on && p.camera_on), "Bob starts with microphone and camera on");

    // Our mute reaches Bob as {"type":"media","mic":false,"camera":true}.
    h.get_by_label("Mute (M)").click();
    wait_until(&mut h, "muted", Duration::from_secs(2), |h| h.state().call.as_ref().is_some_and(|c| c.muted));
    wait_for(&bob, &mut h, "media:false:true");

    // Bob mutes and turns his camera off: his tile gets the badges and stops looking like he speaks.
    h.get_by_role(egui::accesskit::Role::TextInput).focus();
    h.step();
    h.get_by_role(egui::accesskit::Role::TextInput).type_text("mute");
    h.step();
    h.get_by_label("Send").click();
    wait_until(&mut h, "Bob's muted / camera off badges", Duration::from_secs(10), |h| {
        bob_view(h, &|p| !p.mic_on && !p.camera_on)
    });
    wait_until(&mut h, "Bob quiet", Duration::from_secs(5), |h| bob_view(h, &|p| !p.is_speaking()));

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

/// The app offers only H.264 (`--video-codec h264`), Bob only VP8: the call still connects, Bob's tone
/// and chat come through, and his tile and stats popover say why there is no picture.
#[test]
fn a_peer_without_a_common_video_codec_is_heard_and_its_tile_says_why() {
    use kaiwa_media::video::VideoCodec;
    let rt = runtime();
    let server = rt.block_on(SignalingServer::start(kaiwa_signaling::Config::default()));
    let ws = server.ws_url();
    let network = NetworkConfig {
        udp_addrs: vec!["127.0.0.1:0".into()],
        video_codecs: vec![VideoCodec::Vp8],
        ..Default::default()
    };
    let (bob, stop_bob) = spawn_bob_with(&rt, &ws, "kittest-codecs", 440.0, Default::default(), network);
    assert_eq!(bob.recv_timeout(Duration::from_secs(20)).as_deref(), Ok("in-room"), "Bob could not join");
    let mut app = app_for(&rt, &ws, "kittest-codecs");
    app.settings.video_codecs = vec![VideoCodec::H264];
    app.auto_join = true;
    let mut h = harness(app);
    wait_for(&bob, &mut h, "joined:Alice");
    let bob_view = |h: &Harness<'_, KaiwaApp>, f: &dyn Fn(&super::call_view::PeerView) -> bool| {
        h.state().call.as_ref().is_some_and(|c| c.peers.iter().any(|p| p.info.name == "Bob" && f(p)))
    };
    wait_until(&mut h, "the no-common-video note", Duration::from_secs(20), |h| {
        bob_view(h, &|p| p.overlay() == Some(super::call_view::NO_COMMON_VIDEO))
    });
    // Bob's formats: from his media message, which may come a moment after the verdict.
    wait_until(&mut h, "the stats popover naming Bob's formats", Duration::from_secs(10), |h| {
        bob_view(h, &|p| {
            super::call_view::stats_text(p).contains("Their video formats  VP8 (none in common)")
        })
    });
    // Audio: Bob's tone lights his tile up. Chat: both ways.
    wait_until(&mut h, "Bob speaking", Duration::from_secs(10), |h| bob_view(h, &|p| p.is_speaking()));
    h.get_by_role(egui::accesskit::Role::TextInput).focus();
    h.step();
    h.get_by_role(egui::accesskit::Role::TextInput).type_text("can you see me");
    h.step();
    h.get_by_label("Send").click();
    wait_for(&bob, &mut h, "chat:can you see me");
    wait_until(&mut h, "Bob's answer", Duration::from_secs(10), |h| {
        h.query_all_by_label("hi from bob").next().is_some()
    });
    assert!(bob_view(&h, &|p| !p.has_video()), "no picture from Bob");
    let _ = stop_bob.send(());
}

const AUDIO_PROCESSING: &str = "Echo cancellation & noise suppression";

/// Audio both ways through the app's real devices, on a private PulseAudio daemon: Bob's 660 Hz tone comes
/// out of the speaker the app picked (recorded from `spk.monitor`), and an 880 Hz tone played into the
/// `mic` null sink (whose monitor is the default microphone) reaches Bob.
#[test]
fn remote_tone_reaches_the_speaker_and_the_microphone_reaches_the_peer() {
    let name = "app::tests::remote_tone_reaches_the_speaker_and_the_microphone_reaches_the_peer";
    kaiwa_devices::testing::run_with_pulse(name, Duration::from_secs(90), || {
        use kaiwa_media::audio::analysis::{dominant_frequency, rms};
        const MIC_HZ: f64 = 880.0;
        let rt = runtime();
        let server = rt.block_on(SignalingServer::start(kaiwa_signaling::Config::default()));
        let ws = server.ws_url();
        let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (bob, stop_bob) = spawn_bob_hearing(&rt, &ws, "pulse-room", 660.0, heard.clone());
        let dir = tempfile::tempdir().unwrap();
        // 30 s of an 880 Hz tone at half scale, raw 48 kHz mono, played into the `mic` sink.
        let tone_path = dir.path().join("mic.raw");
        let tone: Vec<u8> = (0..48_000 * 30)
            .map(|i| {
                let t = i as f64 / 48_000.0;
                ((t * MIC_HZ * std::f64::consts::TAU).sin() * 16_000.0) as i16
            })
            .flat_map(i16::to_le_bytes)
            .collect();
        std::fs::write(&tone_path, tone).unwrap();
        let mut pacat = std::process::Command::new("pacat")
            .args(["--playback", "-d", "mic", "--raw", "--rate=48000", "--channels=1", "--format=s16le"])
            .stdin(std::fs::File::open(&tone_path).unwrap())
            .spawn()
            .expect("pacat (pulseaudio-utils)");
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
        let heard_from = heard.lock().unwrap().len();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            h.step();
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = parec.kill();
        let _ = parec.wait();
        let _ = pacat.kill();
        let _ = pacat.wait();

        // Speaker direction.
        let bytes = std::fs::read(&raw).unwrap();
        let samples: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        let loud: Vec<i16> =
            samples.chunks(960).filter(|c| c.len() == 960 && rms(c) > 0.03).flatten().copied().collect();
        let secs = loud.len() as f64 / 48_000.0;
        assert!(secs >= 1.0, "only {secs:.2} s of sound reached the speaker (rms {:.3})", rms(&samples));
        let f = dominant_frequency(&loud, 48_000).expect("a dominant frequency");
        assert!((f - 660.0).abs() < 660.0 * 0.02, "speaker played {f:.1} Hz, expected 660 Hz");

        // Microphone direction: what Bob heard from Alice during those 3 s.
        let heard = heard.lock().unwrap()[heard_from..].to_vec();
        let loud: Vec<i16> =
            heard.chunks(960).filter(|c| c.len() == 960 && rms(c) > 0.03).flatten().copied().collect();
        let secs = loud.len() as f64 / 48_000.0;
        assert!(secs >= 1.0, "only {secs:.2} s of Alice's microphone reached Bob (rms {:.3})", rms(&heard));
        let f = dominant_frequency(&loud, 48_000).expect("a dominant frequency");
        assert!((f - MIC_HZ).abs() < MIC_HZ * 0.02, "Bob heard {f:.1} Hz from Alice, expected {MIC_HZ} Hz");
        println!("speaker and microphone directions: {secs:.2} s of {f:.1} Hz reached Bob");

        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
        settle(&mut h);
        let _ = stop_bob.send(());
    });
}

/// A `wss://` signaling server in this process with a fresh self-signed certificate for 127.0.0.1.
struct TlsServer {
    addr: std::net::SocketAddr,
    fingerprint: Fingerprint,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TlsServer {
    async fn start(addr: &str) -> TlsServer {
        let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let tls = kaiwa_signaling::tls::self_signed(None, names).unwrap();
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let config = kaiwa_signaling::Config::default();
        let task = tokio::spawn(kaiwa_signaling::serve(listener, config, Some(tls.config), stop.clone()));
        TlsServer { addr, fingerprint: tls.fingerprint, stop, task }
    }

    fn ws_url(&self) -> String {
        format!("wss://{}/ws", self.addr)
    }

    async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// An app that goes straight into `room` (`--join`) on `server`, remembering hosts in `known_hosts`.
fn joining_app(
    rt: &tokio::runtime::Runtime,
    server: &str,
    room: &str,
    known_hosts: &std::path::Path,
) -> KaiwaApp {
    let mut app = app_for(rt, server, room);
    app.set_known_hosts(known_hosts.to_path_buf());
    app.auto_join = true;
    app
}

/// Trust on first use: the first connection to a self-signed server shows its fingerprint and joins only
/// after **Trust**, which writes the known-hosts file; on a later run the same address with another
/// certificate is refused with a warning naming both fingerprints, and forgetting the old entry leads to
/// the first-use question again.
#[test]
fn self_signed_server_is_trusted_on_first_use_and_a_changed_certificate_is_refused() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let known_hosts = dir.path().join("known_hosts");
    let first = rt.block_on(TlsServer::start("127.0.0.1:0"));
    let (addr, first_fp) = (first.addr, first.fingerprint);

    let mut h = harness(joining_app(&rt, &first.ws_url(), "tofu-room", &known_hosts));
    wait_until(&mut h, "the trust question", Duration::from_secs(10), |h| {
        h.query_all_by_label_contains(&first_fp.to_string()).next().is_some()
    });
    assert!(matches!(
        &h.state().trust.prompt,
        Some(super::trust::Prompt::Unknown { fingerprint, port, .. }) if *fingerprint == first_fp && *port == addr.port()
    ));
    assert!(h.state().call.is_none(), "joined before the server was trusted");
    assert!(!known_hosts.exists(), "remembered before the user said so");
    settle(&mut h);
    click_until(&mut h, "Trust", |h| h.state().screen == Screen::Call);
    wait_until(&mut h, "in the room", Duration::from_secs(10), |h| {
        h.state().call.as_ref().is_some_and(|c| c.joined && c.failed.is_none())
    });
    let text = std::fs::read_to_string(&known_hosts).unwrap();
    assert!(text.contains(&format!("127.0.0.1:{} {first_fp}", addr.port())), "{text}");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    wait_until(&mut h, "the start screen", Duration::from_secs(5), |h| h.state().screen == Screen::Start);
    drop(h);

    // A later run: the same address now presents another certificate.
    rt.block_on(first.shutdown());
    let second = rt.block_on(TlsServer::start(&addr.to_string()));
    assert_ne!(second.fingerprint, first_fp);
    let mut h = harness(joining_app(&rt, &second.ws_url(), "tofu-room", &known_hosts));
    wait_until(&mut h, "the changed-certificate warning", Duration::from_secs(10), |h| {
        h.query_all_by_label_contains("certificate has changed").next().is_some()
    });
    assert!(h.query_all_by_label_contains(&first_fp.to_string()).next().is_some(), "old fingerprint shown");
    assert!(
        h.query_all_by_label_contains(&second.fingerprint.to_string()).next().is_some(),
        "new fingerprint shown"
    );
    // Refused: however long we wait, no call starts.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(h.state().call.is_none() && h.state().screen == Screen::Start, "joined a changed server");

    // Forget the old entry (ssh-keygen -R): the next Continue asks about the new certificate.
    settle(&mut h);
    click_until(&mut h, "Forget the old fingerprint", |h| h.state().trust.prompt.is_none());
    let text = std::fs::read_to_string(&known_hosts).unwrap();
    assert!(!text.contains(&first_fp.to_string()), "{text}");
    click_until(&mut h, "Continue", |h| h.state().trust.probing() || h.state().trust.prompt.is_some());
    wait_until(&mut h, "the trust question for the new certificate", Duration::from_secs(10), |h| {
        matches!(&h.state().trust.prompt,
            Some(super::trust::Prompt::Unknown { fingerprint, .. }) if *fingerprint == second.fingerprint)
    });
    settle(&mut h);
    click_until(&mut h, "Cancel", |h| h.state().trust.prompt.is_none());
    assert!(h.state().call.is_none() && h.state().screen == Screen::Start);
    rt.block_on(second.shutdown());
}

#[test]
fn a_hosting_app_takes_ice_over_tcp_and_one_joining_a_server_does_not() {
    // ICE-TCP lets a LAN browser whose UDP is blocked reach the desktop that hosts (tests/nat.rs calls
    // through it with `kaiwa call --ice-tcp`, the same engine setting).
    let rt = runtime();
    let settings = Settings {
        server_mode: ServerMode::Host,
        host_listen: "127.0.0.1:0".into(),
        media_bind: "127.0.0.1:0".into(),
        ..Settings::default()
    };
    let options = Options { room: Some("ice-tcp".into()), ..Options::default() };
    let mut app = KaiwaApp::new(rt.handle().clone(), settings, options);
    app.persist = false;
    let mut h = harness(app);
    wait_until(&mut h, "the built-in server", Duration::from_secs(20), |h| h.state().hosting().is_some());
    let target = h.state().target().expect("a target on the built-in server");
    assert!(target.hosted, "hosting: ICE over TCP");
    let remote = app_for(&rt, "wss://kaiwa.example:8443/ws", "ice-tcp").target().expect("a remote target");
    assert!(!remote.hosted, "joining another server: UDP (and its TURN) only");
}

#[test]
fn hosting_hands_out_a_coturn_with_minted_credentials_after_a_restart() {
    // A self-hoster sets a coturn and its use-auth-secret in the settings while the built-in server runs:
    // the start screen says the server still hands out the old settings, a restart (on the same port)
    // applies them, and the pre-join network check gets a relay from coturn with the minted credentials.
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let coturn = kaiwa_testkit::Coturn::start(dir.path(), "hosting-secret");
    let settings = Settings {
        server_mode: ServerMode::Host,
        host_listen: "127.0.0.1:0".into(),
        media_bind: "127.0.0.1:0".into(),
        width: 320,
        height: 240,
        ..Settings::default()
    };
    let options = Options { room: Some("own-relay".into()), ..Options::default() };
    let mut app = KaiwaApp::new(rt.handle().clone(), settings, options);
    app.persist = false;
    let mut h = harness(app);
    wait_until(&mut h, "the built-in server", Duration::from_secs(20), |h| h.state().hosting().is_some());
    let port = h.state().hosting().unwrap().addr.port();
    h.state_mut().settings.turn = vec![coturn.url(), coturn.tcp_url()];
    h.state_mut().settings.turn_secret = "hosting-secret".into();
    settle(&mut h);
    assert!(h.query_all_by_label_contains("still hands out the STUN and TURN settings").next().is_some());
    h.get_by_label("Restart the built-in server").click();
    wait_until(&mut h, "the restarted server", Duration::from_secs(20), |h| {
        h.state().hosting().is_some_and(|s| s.ice.turn.len() == 2)
    });
    assert_eq!(h.state().hosting().unwrap().addr.port(), port, "restarted on its port (links stay valid)");
    assert!(h.query_all_by_label_contains("still hands out").next().is_none());
    h.get_by_label("Continue").click();
    wait_until(&mut h, "the pre-join screen", Duration::from_secs(5), |h| {
        h.state().screen == Screen::Prejoin
    });
    wait_until(&mut h, "the relay in the network check", Duration::from_secs(20), |h| {
        h.query_all_by_label_contains("Relay over UDP: works").next().is_some()
            && h.query_all_by_label_contains("Relay over TCP: works").next().is_some()
    });
}

//! A call through the app: start, pre-join, call, chat, leave; without a camera; without a common video
//! codec; audio through real (PulseAudio) devices.

use super::*;

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
        h.state()
            .call
            .as_ref()
            .is_some_and(|c| c.state.peers.iter().any(|p| p.info.name == "Bob" && c.has_video(p)))
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

    // Two people: Bob fills the stage, we are a small picture in its bottom-right corner. A double-click on
    // ours pins it big (Bob moves to the strip); another unpins.
    let (bob_rect, own_rect) =
        (h.get_by_label("Bob's picture").rect(), h.get_by_label("Your picture").rect());
    assert!(own_rect.width() < bob_rect.width() / 3.0, "self-view {own_rect:?} vs Bob {bob_rect:?}");
    assert!(
        bob_rect.contains_rect(own_rect) && own_rect.center().x > bob_rect.center().x,
        "{own_rect:?} in {bob_rect:?}"
    );
    double_click(&mut h, "Your picture");
    assert!(
        h.state().call.as_ref().is_some_and(|c| c.state.pinned == Some(crate::app::call::Pin::Own)),
        "double-click pinned our tile"
    );
    let (bob_rect, own_rect) =
        (h.get_by_label("Bob's picture").rect(), h.get_by_label("Your picture").rect());
    assert!(
        own_rect.width() > bob_rect.width() * 3.0 && bob_rect.top() > own_rect.bottom(),
        "{own_rect:?} over {bob_rect:?}"
    );
    double_click(&mut h, "Your picture");
    assert!(
        h.state().call.as_ref().is_some_and(|c| c.state.pinned.is_none()),
        "a second double-click unpinned"
    );

    // Bob's tone lights up his tile's speaking border.
    let bob_view = |h: &Harness<'_, KaiwaApp>, f: &dyn Fn(&crate::app::call::PeerView) -> bool| {
        h.state().call.as_ref().is_some_and(|c| c.state.peers.iter().any(|p| p.info.name == "Bob" && f(p)))
    };
    wait_until(&mut h, "Bob speaking", Duration::from_secs(10), |h| bob_view(h, &|p| p.is_speaking()));
    assert!(bob_view(&h, &|p| p.mic_on && p.camera_on), "Bob starts with microphone and camera on");

    // Our mute reaches Bob as {"type":"media","mic":false,"camera":true}.
    h.get_by_label("Mute (M)").click();
    wait_until(&mut h, "muted", Duration::from_secs(2), |h| {
        h.state().call.as_ref().is_some_and(|c| c.state.muted)
    });
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
    let (bob, stop_bob) = spawn_peer(&rt, &ws, "kittest-codecs", Peer { network, ..Peer::default() });
    assert_eq!(bob.recv_timeout(Duration::from_secs(20)).as_deref(), Ok("in-room"), "Bob could not join");
    let mut app = app_for(&rt, &ws, "kittest-codecs");
    app.settings.video_codecs = vec![VideoCodec::H264];
    app.auto_join = true;
    let mut h = harness(app);
    wait_for(&bob, &mut h, "joined:Alice");
    let bob_view = |h: &Harness<'_, KaiwaApp>, f: &dyn Fn(&crate::app::call::PeerView) -> bool| {
        h.state().call.as_ref().is_some_and(|c| c.state.peers.iter().any(|p| p.info.name == "Bob" && f(p)))
    };
    wait_until(&mut h, "the no-common-video note", Duration::from_secs(20), |h| {
        bob_view(h, &|p| p.overlay(false) == Some(crate::app::call::Overlay::NoCommonVideo))
    });
    // Bob's formats: from his media message, which may come a moment after the verdict.
    wait_until(&mut h, "the stats popover naming Bob's formats", Duration::from_secs(10), |h| {
        bob_view(h, &|p| {
            crate::app::call::stats_text(p).contains("Their video formats  VP8 (none in common)")
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
    let call = h.state().call.as_ref().expect("in the call");
    assert!(call.state.peers.iter().all(|p| !call.has_video(p)), "no picture from Bob");
    let _ = stop_bob.send(());
}

const AUDIO_PROCESSING: &str = "Echo cancellation & noise suppression";

/// Audio both ways through the app's real devices, on a private PulseAudio daemon: Bob's 660 Hz tone comes
/// out of the speaker the app picked (recorded from `spk.monitor`), and an 880 Hz tone played into the
/// `mic` null sink (whose monitor is the default microphone) reaches Bob.
#[test]
fn remote_tone_reaches_the_speaker_and_the_microphone_reaches_the_peer() {
    let name = "app::tests::call::remote_tone_reaches_the_speaker_and_the_microphone_reaches_the_peer";
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
            h.state().call.as_ref().is_some_and(|c| c.state.peers.iter().any(|p| c.has_video(p)))
        });
        let heard_from = heard.lock().unwrap().len();
        let run = |h: &mut Harness<'_, KaiwaApp>, secs: u64| {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(secs) {
                h.step();
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        run(&mut h, 3);
        let full_until = std::fs::metadata(&raw).unwrap().len() as usize / 2;

        // Bob's volume from his tile's popover: 50 %, then 0 %. The speaker plays him at half, then not at
        // all (the last second of each step is measured).
        h.get_by_label("Bob: details and volume").click();
        settle(&mut h);
        h.get_by_role_and_label(egui::accesskit::Role::Slider, "Volume").set_value_accesskit(50.0);
        run(&mut h, 2);
        let half_until = std::fs::metadata(&raw).unwrap().len() as usize / 2;
        assert!(
            h.state().call.as_ref().is_some_and(|c| c.state.volumes.get("Bob") == Some(&0.5)),
            "the slider set Bob's volume"
        );
        h.get_by_role_and_label(egui::accesskit::Role::Slider, "Volume").set_value_accesskit(0.0);
        run(&mut h, 2);
        let off_until = std::fs::metadata(&raw).unwrap().len() as usize / 2;
        let _ = parec.kill();
        let _ = parec.wait();
        let _ = pacat.kill();
        let _ = pacat.wait();

        // Speaker direction.
        let bytes = std::fs::read(&raw).unwrap();
        let recorded: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
        let last_second = |until: usize| {
            &recorded[until.min(recorded.len()).saturating_sub(48_000)..until.min(recorded.len())]
        };
        let (full, half, off) =
            (rms(last_second(full_until)), rms(last_second(half_until)), rms(last_second(off_until)));
        println!("speaker RMS with Bob at 100 / 50 / 0 %: {full:.4} / {half:.4} / {off:.4}");
        assert!((half / full - 0.5).abs() < 0.1, "Bob at 50 % played at {:.2} of full", half / full);
        assert!(off < 0.002, "Bob at 0 % still played (RMS {off:.4})");
        let samples = &recorded[..full_until.min(recorded.len())];
        let loud: Vec<i16> =
            samples.chunks(960).filter(|c| c.len() == 960 && rms(c) > 0.03).flatten().copied().collect();
        let secs = loud.len() as f64 / 48_000.0;
        assert!(secs >= 1.0, "only {secs:.2} s of sound reached the speaker (rms {:.3})", rms(samples));
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

//! Per-peer video codecs: a peer that offers only VP8 (as a Firefox without OpenH264 does) gets VP8, the
//! others H.264; each engine runs one encoder per codec in use, not one per peer; every picture decodes.

mod common;

use std::time::Duration;

use common::{party_with, start_server, wait_connected, wait_for};
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_engine::{EngineEvent, PeerState};
use kaiwa_media::video::VideoCodec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vp8_only_peer_gets_vp8_and_the_others_h264_with_one_encoder_per_codec() {
    let server = start_server(Default::default()).await;
    let network = |codecs: &[VideoCodec]| NetworkConfig {
        udp_addrs: vec!["127.0.0.1:0".into()],
        video_codecs: codecs.to_vec(),
        ..Default::default()
    };
    let both = [VideoCodec::H264, VideoCodec::Vp8];
    let people = [("Ann", 440.0, &both[..]), ("Bo", 550.0, &[VideoCodec::Vp8][..]), ("Cy", 660.0, &both[..])];
    let mut parties = Vec::new();
    for (name, hz, codecs) in people {
        parties.push(party_with(&server, "codecs", name, hz, (320, 240), network(codecs)));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for p in parties.iter_mut() {
        wait_connected(&mut p.engine, 2).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let vp8 = Some(VideoCodec::Vp8.mime_type().to_owned());
    let h264 = Some(VideoCodec::H264.mime_type().to_owned());
    let mut encoders = Vec::new();
    for p in &parties {
        encoders.push(p.engine.video_encoders());
        for s in p.engine.stats().await {
            // Whoever talks to Bo does it in VP8; Ann and Cy speak H.264 between them.
            let want = if p.name == "Bo" || s.name == "Bo" { &vp8 } else { &h264 };
            assert_eq!(&s.out.video_codec, want, "{} sends {} in {:?}", p.name, s.name, s.out.video_codec);
            assert_eq!(&s.video_in.codec, want, "{} receives {} in {:?}", p.name, s.name, s.video_in.codec);
        }
    }
    // Ann and Cy each encode in both codecs for their two peers; Bo once, in VP8, for both of his.
    assert_eq!(encoders, vec![2, 1, 2], "encoders running (Ann, Bo, Cy)");
    for p in parties {
        p.engine.leave().await;
        for (other, _, _) in people.iter().filter(|(n, _, _)| *n != p.name) {
            let r = p.recorder.peer(other);
            let r = r.lock().unwrap();
            assert!(
                r.counters.len() > 60,
                "{} decoded only {} frames from {other}",
                p.name,
                r.counters.len()
            );
            assert!(
                r.counters.windows(2).all(|w| w[0] < w[1]),
                "{}: pictures from {other} out of order",
                p.name
            );
        }
    }
}

/// Bo has only VP8, Ann and Cy only H.264: Bo offers to Ann (Ann answers without video) and Cy offers to
/// Bo (Bo answers without video). Both pairs still get audio and chat both ways, both ends know why there
/// is no video and what the other offered, and it stays so through camera toggles (renegotiation), while
/// Ann and Cy see each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_without_a_common_video_codec_get_audio_and_chat_and_are_told_why() {
    let server = start_server(Default::default()).await;
    let network = |codec: VideoCodec| NetworkConfig {
        udp_addrs: vec!["127.0.0.1:0".into()],
        video_codecs: vec![codec],
        ..Default::default()
    };
    let people =
        [("Ann", 440.0, VideoCodec::H264), ("Bo", 550.0, VideoCodec::Vp8), ("Cy", 660.0, VideoCodec::H264)];
    let mut parties = Vec::new();
    for (name, hz, codec) in people {
        parties.push(party_with(&server, "no-common-video", name, hz, (320, 240), network(codec)));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for p in parties.iter_mut() {
        wait_connected(&mut p.engine, 2).await;
    }
    for p in &parties {
        p.engine.send_chat(&format!("hello from {}", p.name)).await;
    }
    for p in parties.iter_mut() {
        let mut heard = Vec::new();
        while heard.len() < 2 {
            if let EngineEvent::Chat { message, .. } =
                wait_for(&mut p.engine, "chat", |e| matches!(e, EngineEvent::Chat { .. })).await
            {
                heard.push(message.text);
            }
        }
        heard.sort();
        let mut want: Vec<String> =
            people.iter().filter(|(n, ..)| *n != p.name).map(|(n, ..)| format!("hello from {n}")).collect();
        want.sort();
        assert_eq!(heard, want, "{} heard", p.name);
    }

    let check = async |parties: &[common::Party], stage: &str| {
        let mut audio = Vec::new();
        for p in parties {
            for s in p.engine.stats().await {
                let (name, peer) = (p.name.as_str(), s.name.as_str());
                let bo_involved = name == "Bo" || peer == "Bo";
                assert_eq!(s.state, PeerState::Connected, "{stage}: {name} with {peer}");
                assert_eq!(
                    s.video_formats.unavailable(),
                    bo_involved,
                    "{stage}: {name} with {peer}: {:?}",
                    s.video_formats
                );
                if bo_involved {
                    let theirs = if peer == "Bo" { "VP8" } else { "H264" };
                    assert_eq!(
                        s.video_formats.peer_codecs,
                        vec![theirs.to_owned()],
                        "{stage}: {name} sees {peer} offer"
                    );
                    assert_eq!(s.out.video_codec, None, "{stage}: {name} sends {peer} video");
                }
                audio.push((format!("{name}<-{peer}"), s.audio_in.packets));
                // No renegotiation storm: a first offer, one per camera toggle and `renegotiate` at most.
                assert!(
                    s.negotiation.offers <= 6,
                    "{stage}: {name} made {} offers to {peer}",
                    s.negotiation.offers
                );
            }
        }
        audio
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = check(&parties, "after joining").await;
    // Renegotiation: Bo and Ann turn their cameras off and on again (Ann's toggles renegotiate with Cy),
    // then each offers everyone a new round.
    for i in [1, 0] {
        parties[i].engine.set_video_enabled(false).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        parties[i].engine.set_video_enabled(true).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for p in &parties {
        p.engine.renegotiate().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = check(&parties, "after camera toggles").await;
    for ((pair, b), (_, a)) in before.iter().zip(&after) {
        // 50 packets a second: at least 100 in the first two seconds, and still coming.
        assert!(*b > 100 && a > &(b + 100), "audio {pair}: {b} then {a} packets");
    }
    let ann_from_cy = common::decoded(&parties[0], "Cy");
    let cy_from_ann = common::decoded(&parties[2], "Ann");
    for p in parties {
        p.engine.leave().await;
    }
    assert!(ann_from_cy > 60 && cy_from_ann > 60, "Ann and Cy video: {ann_from_cy}, {cy_from_ann} frames");
}

//! Per-peer video codecs: a peer that offers only VP8 (as a Firefox without OpenH264 does) gets VP8, the
//! others H.264; each engine runs one encoder per codec in use, not one per peer; every picture decodes.

mod common;

use std::time::Duration;

use common::{party_with, start_server, wait_connected};
use kaiwa_engine::peer::factory::NetworkConfig;
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

//! Real calls between engines in this process, through the real signaling server, over loopback UDP.

mod common;

use std::time::Duration;

use common::{party, start_server, wait_for};
use kaiwa_engine::{EngineEvent, PeerState};
use kaiwa_media::audio::analysis::dominant_frequency;

fn check_received(receiver: &str, from: &str, r: &common::Received, frames_sent: u64, tone_hz: f64) {
    let decoded = r.counters.len() as u64 + r.unreadable;
    assert!(frames_sent > 200, "{from} sent only {frames_sent} frames");
    assert!(
        decoded * 100 >= frames_sent * 90,
        "{receiver} decoded {decoded} of the {frames_sent} frames {from} sent (< 90 %)"
    );
    assert_eq!(r.unreadable, 0, "{receiver}: unreadable stamps from {from}");
    assert!(
        r.counters.windows(2).all(|w| w[0] < w[1]),
        "{receiver}: frame counters from {from} not increasing"
    );
    let mean_psnr = r.psnr.iter().sum::<f64>() / r.psnr.len().max(1) as f64;
    let min_psnr = r.psnr.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        mean_psnr >= 30.0 && min_psnr >= 30.0,
        "{receiver}: PSNR from {from} mean {mean_psnr:.1} min {min_psnr:.1}"
    );
    // Skip the first second (jitter buffer filling, codec warm-up).
    let audio = &r.audio[r.audio.len().min(48_000)..];
    assert!(audio.len() >= 48_000 * 5, "{receiver}: only {} samples of audio from {from}", audio.len());
    let hz = dominant_frequency(audio, 48_000).expect("a tone");
    assert!(
        (hz - tone_hz).abs() <= tone_hz * 0.01,
        "{receiver}: tone from {from} at {hz:.1} Hz, sent {tone_hz} Hz"
    );
    println!(
        "{receiver} <- {from}: {decoded}/{frames_sent} frames, PSNR mean {mean_psnr:.1} dB (min {min_psnr:.1}), tone {hz:.1} Hz, latency p50 {} µs",
        {
            let mut l = r.latency_us.clone();
            l.sort_unstable();
            l.get(l.len() / 2).copied().unwrap_or(0)
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_party_call_carries_video_audio_and_chat() {
    let server = start_server(Default::default()).await;
    let mut a = party(&server, "two-party", "Ann", 440.0);
    wait_for(&mut a.engine, "Ann joined", |e| matches!(e, EngineEvent::Joined { .. })).await;
    let mut b = party(&server, "two-party", "Bo", 660.0);
    for p in [&mut a, &mut b] {
        wait_for(&mut p.engine, "connected", |e| {
            matches!(e, EngineEvent::PeerState { state: PeerState::Connected, .. })
        })
        .await;
    }
    // Chat both ways, in order.
    for i in 0..3 {
        a.engine.send_chat(&format!("from Ann {i}")).await;
        b.engine.send_chat(&format!("from Bo {i}")).await;
    }
    for (p, other) in [(&mut a, "Bo"), (&mut b, "Ann")] {
        for i in 0..3 {
            match wait_for(&mut p.engine, "chat", |e| matches!(e, EngineEvent::Chat { .. })).await {
                EngineEvent::Chat { message, .. } => {
                    assert_eq!(message.from, other);
                    assert_eq!(message.text, format!("from {other} {i}"));
                }
                _ => unreachable!(),
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let a_stats = a.engine.stats().await;
    let b_stats = b.engine.stats().await;
    println!("{}", serde_json::to_string_pretty(&a_stats).unwrap());
    assert_eq!(a_stats.len(), 1);
    assert_eq!(b_stats.len(), 1);
    assert_eq!(a_stats[0].local_candidate.as_deref(), Some("host"));
    // Both ends show the same verification code (no one in between).
    let code = a_stats[0].verification_code.clone();
    assert!(code.as_ref().is_some_and(|c| c.len() == 7), "Ann's code {code:?}");
    assert_eq!(b_stats[0].verification_code, code, "Bo's code differs from Ann's");
    assert!(
        a_stats[0].codecs.iter().any(|c| c.eq_ignore_ascii_case("video/H264")),
        "{:?}",
        a_stats[0].codecs
    );
    let a_sent = a_stats[0].out.video_frames;
    let b_sent = b_stats[0].out.video_frames;
    a.engine.leave().await;
    b.engine.leave().await;
    check_received("Bo", "Ann", &b.recorder.peer("Ann").lock().unwrap(), a_sent, 440.0);
    check_received("Ann", "Bo", &a.recorder.peer("Bo").lock().unwrap(), b_sent, 660.0);
}

//! Microphone / camera state and speaking levels between two engines: each side announces
//! `{"type":"media"}` when the data channel opens and on every change, and the receiver reports it as
//! `EngineEvent::PeerMedia`; the playout's per-peer level follows the remote tone and drops on mute.

mod common;

use std::time::Duration;

use common::{party, start_server, wait_for};
use kaiwa_engine::EngineEvent;
use kaiwa_engine::media::audio_playout::AudioLevel;

/// Waits for Ann to hear Bo's microphone and camera state as `want`.
async fn wait_media(p: &mut common::Party, want: (bool, bool), level: &mut Option<AudioLevel>) {
    loop {
        match wait_for(&mut p.engine, "a media announcement", |e| {
            matches!(e, EngineEvent::PeerMedia { .. } | EngineEvent::PeerAudioLevel { .. })
        })
        .await
        {
            EngineEvent::PeerMedia { mic, camera, .. } if (mic, camera) == want => return,
            EngineEvent::PeerAudioLevel { level: l, .. } => *level = Some(l),
            _ => {}
        }
    }
}

/// Polls `level` (bounded) until `ok` holds; returns the last reading.
async fn wait_level(level: &AudioLevel, what: &str, ok: impl Fn(f32) -> bool) -> f32 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = level.get();
        if ok(now) {
            return now;
        }
        assert!(tokio::time::Instant::now() < deadline, "level never became {what} (last {now})");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mute_and_camera_off_reach_the_other_side() {
    let server = start_server(Default::default()).await;
    let mut ann = party(&server, "media-state", "Ann", 440.0);
    wait_for(&mut ann.engine, "Ann joined", |e| matches!(e, EngineEvent::Joined { .. })).await;
    let bo = party(&server, "media-state", "Bo", 660.0);
    let mut level = None;
    // Announced when the channel opens.
    wait_media(&mut ann, (true, true), &mut level).await;
    let level = match level {
        Some(l) => l,
        None => match wait_for(&mut ann.engine, "Bo's audio level", |e| {
            matches!(e, EngineEvent::PeerAudioLevel { .. })
        })
        .await
        {
            EngineEvent::PeerAudioLevel { level, .. } => level,
            _ => unreachable!(),
        },
    };
    // ToneSource plays at a fixed amplitude: Bo is clearly "speaking".
    let loud = wait_level(&level, "loud", |l| l > 0.1).await;

    bo.engine.set_muted(true);
    let mut unused = None;
    wait_media(&mut ann, (false, true), &mut unused).await;
    // Muted: silence arrives, the level falls.
    wait_level(&level, "silent", |l| l < 0.01).await;

    bo.engine.set_video_enabled(false).await;
    wait_media(&mut ann, (false, false), &mut unused).await;
    bo.engine.set_muted(false);
    wait_media(&mut ann, (true, false), &mut unused).await;
    wait_level(&level, "loud again", |l| l > 0.1).await;
    println!("Bo's level at Ann: {loud:.3} while speaking");
    ann.engine.leave().await;
    bo.engine.leave().await;
}

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

/// RMS of the last `ms` milliseconds the speaker played.
fn played_rms(p: &common::Party, ms: usize) -> f64 {
    let played = p.recorder.speaker.lock().unwrap();
    let tail = &played[played.len().saturating_sub(48 * ms)..];
    (tail.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / tail.len().max(1) as f64).sqrt()
}

/// Waits (bounded) until the speaker's last 200 ms have an RMS that `ok` accepts; returns it.
async fn wait_played(p: &common::Party, what: &str, mut ok: impl FnMut(f64) -> bool) -> f64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rms = played_rms(p, 200);
        if ok(rms) {
            return rms;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the speaker never played {what} (last RMS {rms:.0})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_volume_scales_them_in_the_speaker_mix_only() {
    let server = start_server(Default::default()).await;
    let mut ann = party(&server, "volume", "Ann", 440.0);
    wait_for(&mut ann.engine, "Ann joined", |e| matches!(e, EngineEvent::Joined { .. })).await;
    let _bo = party(&server, "volume", "Bo", 660.0);
    let (level, volume) =
        match wait_for(&mut ann.engine, "Bo's audio", |e| matches!(e, EngineEvent::PeerAudioLevel { .. }))
            .await
        {
            EngineEvent::PeerAudioLevel { level, volume, .. } => (level, volume),
            _ => unreachable!(),
        };
    assert_eq!(volume.get(), 1.0, "everyone starts at 100 %");
    wait_played(&ann, "Bo's tone", |rms| rms > 1000.0).await;
    // Steady: the 200 ms window holds only the tone (not the silence before it).
    let mut previous = 0.0;
    let full = wait_played(&ann, "a steady tone", |rms| {
        let steady = (rms - previous).abs() < rms * 0.02;
        previous = rms;
        steady
    })
    .await;
    let full_level = wait_level(&level, "loud", |l| l > 0.1).await;

    // Half: the tone plays at half its amplitude (the mixer's soft clip is linear this far down).
    volume.set(0.5);
    let half = wait_played(&ann, "Bo at half volume", |rms| (rms / full - 0.5).abs() < 0.05).await;
    // Muted by us: silence from the speaker, yet Bo still shows as speaking (his level is his own).
    volume.set(0.0);
    wait_played(&ann, "silence", |rms| rms < 1.0).await;
    assert!(level.get() > full_level * 0.8, "Bo's level follows him, not our volume: {}", level.get());
    // Out of range is clamped.
    volume.set(7.0);
    assert_eq!(volume.get(), 2.0);
    volume.set(f32::NAN);
    assert_eq!(volume.get(), 0.0);
    println!("speaker RMS: {full:.0} at 100 %, {half:.0} at 50 %");
    ann.engine.leave().await;
}

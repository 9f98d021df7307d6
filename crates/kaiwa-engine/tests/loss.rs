//! 5 % random packet loss, injected in user space on every UDP socket of both clients (these machines
//! have no netem): video recovers within 1 s of every keyframe request, audio has no gap over 100 ms.

mod common;

use std::time::Duration;

use common::{party_with, start_server, wait_connected};
use kaiwa_engine::net::{ImpairedRuntime, Impairment};
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_media::audio::analysis::{dominant_frequency, longest_gap_ms};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_percent_loss_video_recovers_and_audio_has_no_gaps() {
    let server = start_server(Default::default()).await;
    let impairments = [Impairment::loss(5.0, 0x5eed_0001), Impairment::loss(5.0, 0x5eed_0002)];
    let network = |i: usize| NetworkConfig {
        udp_addrs: vec!["127.0.0.1:0".into()],
        runtime: Some(ImpairedRuntime::shared(impairments[i].clone())),
        ..Default::default()
    };
    let mut a = party_with(&server, "lossy", "Ann", 440.0, (640, 480), network(0));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut b = party_with(&server, "lossy", "Bo", 660.0, (640, 480), network(1));
    wait_connected(&mut a.engine, 1).await;
    wait_connected(&mut b.engine, 1).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let stats = [a.engine.stats().await, b.engine.stats().await];
    let (ra, rb) = (a.recorder.clone(), b.recorder.clone());
    a.engine.leave().await;
    b.engine.leave().await;
    for imp in &impairments {
        let (sent, dropped) = (
            imp.sent.load(std::sync::atomic::Ordering::Relaxed),
            imp.dropped.load(std::sync::atomic::Ordering::Relaxed),
        );
        let pct = dropped as f64 * 100.0 / sent.max(1) as f64;
        println!("dropped {dropped} of {sent} datagrams ({pct:.1} %)");
        assert!((3.5..=6.5).contains(&pct), "loss was {pct:.1} %");
    }
    for (name, recorder, s, from, hz) in
        [("Ann", &ra, &stats[0][0], "Bo", 660.0), ("Bo", &rb, &stats[1][0], "Ann", 440.0)]
    {
        let v = &s.video_in;
        println!("{name}: congestion control target {:.0} kbps", s.out.target_bitrate_bps / 1000.0);
        println!(
            "{} <- {from}: {} frames, {} recoveries (max {} ms), {} keyframe requests, {} freezes, audio concealed {}",
            name,
            v.frames_decoded,
            v.recoveries,
            v.max_recovery_ms,
            v.keyframe_requests_sent,
            v.freezes,
            s.audio_in.concealed_frames
        );
        assert!(v.frames_decoded > 150, "{}: only {} frames decoded under loss", name, v.frames_decoded);
        assert!(v.max_recovery_ms < 1000, "{}: video took {} ms to recover", name, v.max_recovery_ms);
        let received = recorder.peer(from);
        let r = received.lock().unwrap();
        let audio = &r.audio[r.audio.len().min(48_000)..];
        let gap = longest_gap_ms(audio, 48_000, 0.05);
        assert!(gap <= 100, "{}: {gap} ms audio gap from {from}", name);
        let got = dominant_frequency(audio, 48_000).unwrap_or(0.0);
        assert!((got - hz).abs() < hz * 0.01, "{}: tone {got:.1} Hz", name);
    }
}

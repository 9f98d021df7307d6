//! When congestion control starves the sender, it lowers the resolution and then, at the smallest size,
//! the frame rate, and recovers both when bandwidth returns; the receiver decodes every size.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use kaiwa_devices::TestPatternSource;
use kaiwa_engine::media::video_send::{VideoSendConfig, VideoSender};
use kaiwa_media::video::{VideoCodec, VideoDecoder};
use tokio::sync::broadcast;

/// Decodes what the sender broadcasts for `window` and returns the sizes seen and the frame count.
async fn decode_for(
    rx: &mut broadcast::Receiver<std::sync::Arc<kaiwa_engine::media::video_send::EncodedVideo>>,
    decoder: &mut VideoDecoder,
    window: Duration,
) -> (Vec<(u32, u32)>, usize) {
    let deadline = tokio::time::Instant::now() + window;
    let (mut sizes, mut frames) = (Vec::new(), 0);
    while let Ok(Ok(frame)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if let Ok(Some(picture)) = decoder.decode(&frame.data) {
            frames += 1;
            let size = (picture.width(), picture.height());
            if sizes.last() != Some(&size) {
                sizes.push(size);
            }
        }
    }
    (sizes, frames)
}

#[tokio::test]
async fn starved_sender_shrinks_the_picture_then_the_frame_rate_and_recovers() {
    starve(VideoCodec::H264).await;
}

#[tokio::test]
async fn starved_vp8_sender_shrinks_the_picture_then_the_frame_rate_and_recovers() {
    starve(VideoCodec::Vp8).await;
}

async fn starve(codec: VideoCodec) {
    let (tx, mut rx) = broadcast::channel(64);
    let source = Box::new(TestPatternSource::new(640, 480, 30).unwrap());
    let sender = VideoSender::start(
        source,
        VideoSendConfig { max_bitrate_bps: 1_500_000, keyframe_interval_s: 5 },
        tx,
    )
    .unwrap();
    // A peer takes this codec: its encoder runs.
    let _peer = sender.control.use_codec(codec);
    let mut decoder = VideoDecoder::new(codec).unwrap();
    let (sizes, full_rate) = decode_for(&mut rx, &mut decoder, Duration::from_secs(1)).await;
    assert_eq!(sizes, vec![(640, 480)]);

    // 300 kbit/s: too little for 640x480 at 30 fps, plenty for 320x240.
    sender.control.set_target_bitrate(300_000);
    let (sizes, half_rate) = decode_for(&mut rx, &mut decoder, Duration::from_secs(1)).await;
    assert_eq!(sizes.last(), Some(&(320, 240)), "sizes at 300 kbit/s: {sizes:?}");
    assert_eq!(sender.control.halvings.load(Relaxed), 1);
    assert_eq!(sender.control.frame_rate_divider.load(Relaxed), 1, "the frame rate is kept");
    assert!(half_rate * 10 >= full_rate * 8, "{half_rate} frames at 320x240 vs {full_rate} at full size");

    // 5 kbit/s: even the smallest size (a quarter) is starved at the full frame rate.
    sender.control.set_target_bitrate(5_000);
    let (sizes, starved_rate) = decode_for(&mut rx, &mut decoder, Duration::from_secs(2)).await;
    assert_eq!(sizes.last(), Some(&(160, 120)), "sizes while starved: {sizes:?}");
    assert_eq!(sender.control.halvings.load(Relaxed), 2);
    assert!(sender.control.frame_rate_divider.load(Relaxed) > 1, "the frame rate drops too");
    assert!(starved_rate < full_rate * 2, "starved: {starved_rate} frames in 2 s vs {full_rate} in 1 s");

    // Bandwidth is back: one size up per second of enough bits.
    sender.control.set_target_bitrate(1_500_000);
    let (sizes, _) = decode_for(&mut rx, &mut decoder, Duration::from_secs(3)).await;
    assert_eq!(sizes.last(), Some(&(640, 480)), "sizes after recovery: {sizes:?}");
    assert_eq!(sender.control.halvings.load(Relaxed), 0);
    assert_eq!(sender.control.frame_rate_divider.load(Relaxed), 1);
}

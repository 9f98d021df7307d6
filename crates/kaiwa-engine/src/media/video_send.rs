//! Capture and encode thread: pulls frames from a [`VideoSource`], encodes them with openh264 and hands the
//! access units to every peer's writer through a broadcast channel (a peer that falls behind skips frames
//! and asks for a keyframe, it never slows the others down).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kaiwa_devices::VideoSource;
use kaiwa_media::video::{EncoderConfig, H264Encoder, I420Frame};
use tokio::sync::broadcast;
use tracing::{debug, info, warn};

use super::adaptation::Adaptation;

/// One encoded access unit, ready for `write_sample`.
#[derive(Debug)]
pub struct EncodedVideo {
    /// Annex-B H.264.
    pub data: Bytes,
    pub keyframe: bool,
    /// Time since the previous frame: drives the RTP timestamp.
    pub duration: Duration,
    pub captured_at: Instant,
}

/// Shared knobs and counters of the video sender.
#[derive(Debug, Default)]
pub struct VideoSendControl {
    keyframe: AtomicBool,
    target_bps: AtomicU32,
    stop: AtomicBool,
    paused: AtomicBool,
    pub frames_encoded: AtomicU64,
    pub keyframes: AtomicU64,
    pub bytes: AtomicU64,
    pub encode_errors: AtomicU64,
    /// 1 = every frame; 2 or 4 when the bitrate is too low for the full frame rate.
    pub frame_rate_divider: AtomicU32,
    /// How many times the source picture is halved because the bitrate is too low for it (0 = full).
    pub halvings: AtomicU32,
}

impl VideoSendControl {
    /// The next frame will be an IDR (on PLI/FIR from any peer, or a new peer).
    pub fn request_keyframe(&self) {
        self.keyframe.store(true, Relaxed);
    }

    /// New target from congestion control; applied at the next frame, capped at the opening bitrate.
    pub fn set_target_bitrate(&self, bps: u32) {
        self.target_bps.store(bps, Relaxed);
    }

    /// Camera off: frames are still taken from the source (a camera keeps running) but not encoded.
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Relaxed);
    }

    pub fn stop(&self) {
        self.stop.store(true, Relaxed);
    }
}

pub struct VideoSendConfig {
    pub max_bitrate_bps: u32,
    /// Seconds between safety keyframes.
    pub keyframe_interval_s: u32,
}

impl Default for VideoSendConfig {
    fn default() -> Self {
        VideoSendConfig { max_bitrate_bps: 1_500_000, keyframe_interval_s: 5 }
    }
}

pub struct VideoSender {
    pub control: Arc<VideoSendControl>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl VideoSender {
    /// Starts the `kaiwa-video-send` thread.
    pub fn start(
        mut source: Box<dyn VideoSource>,
        config: VideoSendConfig,
        out: broadcast::Sender<Arc<EncodedVideo>>,
    ) -> std::io::Result<VideoSender> {
        let control = Arc::new(VideoSendControl::default());
        control.target_bps.store(config.max_bitrate_bps, Relaxed);
        let ctl = control.clone();
        let thread = std::thread::Builder::new().name("kaiwa-video-send".into()).spawn(move || {
            let (w, h) = source.size();
            let fps = source.fps();
            let make_encoder = |width: u32, height: u32| {
                H264Encoder::new(EncoderConfig {
                    width,
                    height,
                    max_fps: fps as f32,
                    bitrate_bps: config.max_bitrate_bps,
                    intra_period: fps * config.keyframe_interval_s,
                })
            };
            let mut adaptation = Adaptation::new(w, h, fps);
            let mut halvings = 0;
            let mut encoder = match make_encoder(w, h) {
                Ok(e) => e,
                Err(e) => {
                    warn!(error = %e, "cannot start the H.264 encoder; sending no video");
                    return;
                }
            };
            let mut last_capture: Option<Instant> = None;
            let mut frame_index: u64 = 0;
            let nominal = Duration::from_secs(1) / fps.max(1);
            while !ctl.stop.load(Relaxed) {
                let captured = match source.next_frame() {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(e) => {
                        warn!(error = %e, source = %source.describe(), "video source failed");
                        break;
                    }
                };
                if ctl.paused.load(Relaxed) {
                    last_capture = None;
                    source.recycle(captured.frame);
                    continue;
                }
                let target = ctl.target_bps.load(Relaxed);
                let layout = adaptation.update(target, captured.captured_at);
                if layout.halvings != halvings {
                    // A new size needs a new encoder; its first frame is a keyframe.
                    match make_encoder(layout.width, layout.height) {
                        Ok(e) => {
                            info!(width = layout.width, height = layout.height, target, "video size changed");
                            encoder = e;
                            halvings = layout.halvings;
                            ctl.halvings.store(halvings, Relaxed);
                        }
                        Err(e) => warn!(error = %e, "cannot switch the encoder to {}x{}", layout.width, layout.height),
                    }
                }
                if target != encoder.bitrate() {
                    encoder.set_bitrate(target);
                }
                ctl.frame_rate_divider.store(layout.frame_rate_divider, Relaxed);
                frame_index += 1;
                if !frame_index.is_multiple_of(u64::from(layout.frame_rate_divider)) {
                    source.recycle(captured.frame);
                    continue;
                }
                let small = downscale(&captured.frame, halvings);
                let frame = small.as_ref().unwrap_or(&captured.frame);
                let force = ctl.keyframe.swap(false, Relaxed);
                let result = encoder.encode(frame, force);
                // The encoder does not keep the picture: the source may fill it again.
                source.recycle(captured.frame);
                match result {
                    Ok(Some(encoded)) => {
                        let duration = last_capture.map_or(nominal, |t| captured.captured_at - t);
                        last_capture = Some(captured.captured_at);
                        ctl.frames_encoded.fetch_add(1, Relaxed);
                        ctl.bytes.fetch_add(encoded.annex_b.len() as u64, Relaxed);
                        if encoded.keyframe {
                            ctl.keyframes.fetch_add(1, Relaxed);
                        }
                        let _ = out.send(Arc::new(EncodedVideo {
                            data: Bytes::from(encoded.annex_b),
                            keyframe: encoded.keyframe,
                            duration,
                            captured_at: captured.captured_at,
                        }));
                    }
                    Ok(None) => debug!("encoder skipped a frame"),
                    Err(e) => {
                        ctl.encode_errors.fetch_add(1, Relaxed);
                        debug!(error = %e, "encode failed");
                    }
                }
            }
        })?;
        Ok(VideoSender { control, thread: Some(thread) })
    }
}

impl Drop for VideoSender {
    fn drop(&mut self) {
        self.control.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The frame halved `halvings` times (`None` for full size, or when it cannot be halved that far).
fn downscale(frame: &I420Frame, halvings: u32) -> Option<I420Frame> {
    let mut small = if halvings > 0 { frame.downscale_half()? } else { return None };
    for _ in 1..halvings {
        small = small.downscale_half()?;
    }
    Some(small)
}

//! Capture and encode thread: pulls frames from a [`VideoSource`], encodes them with openh264 and hands the
//! access units to every peer's writer through a broadcast channel (a peer that falls behind skips frames
//! and asks for a keyframe, it never slows the others down).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kaiwa_devices::VideoSource;
use kaiwa_media::video::{EncoderConfig, H264Encoder};
use tokio::sync::broadcast;
use tracing::{debug, warn};

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
    /// Sending at half the source resolution because the bitrate is too low for the full one.
    pub half_resolution: AtomicBool,
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

/// Bits per pixel per frame below which the frame rate is lowered: 640x480@30 keeps its full rate down to
/// ~185 kbit/s, 1280x720@30 down to ~550 kbit/s.
const MIN_BITS_PER_PIXEL: f64 = 0.02;

/// How many captured frames to take one of, for this bitrate at this size and frame rate.
pub fn frame_rate_divider(target_bps: u32, width: u32, height: u32, fps: u32) -> u32 {
    let needed = f64::from(width) * f64::from(height) * f64::from(fps) * MIN_BITS_PER_PIXEL;
    let target = f64::from(target_bps);
    if target >= needed {
        1
    } else if target >= needed / 2.0 {
        2
    } else {
        4
    }
}

/// Whether to send at half resolution: when even a quarter of the frame rate would be starved at full size
/// (and the halved picture is still at least 32×32); back to full size only when full size gets its full
/// frame rate again, so the encoder does not flap between sizes.
pub fn use_half_resolution(target_bps: u32, width: u32, height: u32, fps: u32, currently_half: bool) -> bool {
    if width / 2 < 32 || height / 2 < 32 {
        return false;
    }
    let full = frame_rate_divider(target_bps, width, height, fps);
    if currently_half { full > 1 } else { full == 4 }
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
            let mut half = false;
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
                // Starved beyond what a lower frame rate absorbs: half the resolution (a new encoder, so
                // the first frame is a keyframe). Back to full size once full size gets its full rate.
                let want_half = use_half_resolution(target, w, h, fps, half);
                if want_half != half {
                    let (ew, eh) = if want_half { ((w / 2) & !1, (h / 2) & !1) } else { (w, h) };
                    match make_encoder(ew, eh) {
                        Ok(e) => {
                            encoder = e;
                            half = want_half;
                            ctl.half_resolution.store(half, Relaxed);
                        }
                        Err(e) => warn!(error = %e, "cannot switch the encoder to {ew}x{eh}"),
                    }
                }
                if target != encoder.bitrate() {
                    encoder.set_bitrate(target);
                }
                let small = half.then(|| captured.frame.downscale_half()).flatten();
                let frame = small.as_ref().unwrap_or(&captured.frame);
                // Starved: fewer, better frames rather than a smeared full rate.
                let divider = frame_rate_divider(target, frame.width(), frame.height(), fps);
                ctl.frame_rate_divider.store(divider, Relaxed);
                frame_index += 1;
                if !frame_index.is_multiple_of(u64::from(divider)) {
                    source.recycle(captured.frame);
                    continue;
                }
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

#[cfg(test)]
mod tests {
    use super::frame_rate_divider;

    #[test]
    fn frame_rate_drops_when_starved() {
        assert_eq!(frame_rate_divider(1_000_000, 640, 480, 30), 1);
        assert_eq!(frame_rate_divider(200_000, 640, 480, 30), 1);
        assert_eq!(frame_rate_divider(150_000, 640, 480, 30), 2);
        assert_eq!(frame_rate_divider(50_000, 640, 480, 30), 4);
        assert_eq!(frame_rate_divider(2_500_000, 1280, 720, 30), 1);
        assert_eq!(frame_rate_divider(400_000, 1280, 720, 30), 2);
    }

    #[test]
    fn resolution_halves_when_starved_and_comes_back_with_hysteresis() {
        use super::use_half_resolution as half;
        // 1280x720@30 needs ~550 kbit/s for its full rate, ~275 for half the rate.
        assert!(!half(1_000_000, 1280, 720, 30, false));
        assert!(!half(400_000, 1280, 720, 30, false)); // a lower frame rate is enough
        assert!(half(200_000, 1280, 720, 30, false)); // starved: halve the picture
        assert!(half(400_000, 1280, 720, 30, true)); // recovered a little: stay small
        assert!(!half(600_000, 1280, 720, 30, true)); // enough for the full size at full rate
        assert!(!half(10_000, 60, 60, 30, false)); // too small to halve
    }
}

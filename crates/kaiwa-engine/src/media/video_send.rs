//! Capture and encode thread: pulls frames from a [`VideoSource`], encodes each once per codec in use (H.264
//! with openh264, VP8 with libvpx: one encoder per codec, not per peer) and hands the frames to every
//! peer's writer through a broadcast channel; each writer takes those of its peer's codec (a peer that falls
//! behind skips frames and asks for a keyframe, it never slows the others down).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kaiwa_devices::VideoSource;
use kaiwa_media::video::{EncoderConfig, I420Frame, VideoCodec, VideoEncoder};
use tokio::sync::broadcast;
use tracing::{debug, info, warn};

use super::adaptation::Adaptation;

/// One encoded frame, ready to be packetized.
#[derive(Debug)]
pub struct EncodedVideo {
    pub codec: VideoCodec,
    /// H.264: Annex-B; VP8: the compressed frame.
    pub data: Bytes,
    pub keyframe: bool,
    /// Time since the previous frame: drives the RTP timestamp.
    pub duration: Duration,
    pub captured_at: Instant,
}

/// One video sender's output and knobs, as the peer sessions take them.
#[derive(Debug, Clone)]
pub struct VideoFeed {
    pub frames: broadcast::Sender<Arc<EncodedVideo>>,
    pub control: Arc<VideoSendControl>,
}

/// Shared knobs and counters of the video sender.
#[derive(Debug, Default)]
pub struct VideoSendControl {
    /// Per codec ([`VideoCodec::index`]): a keyframe is wanted.
    keyframe: [AtomicBool; 2],
    /// Per codec: how many peers take it (its encoder runs while any do).
    users: [AtomicU32; 2],
    target_bps: AtomicU32,
    stop: AtomicBool,
    paused: AtomicBool,
    pub frames_encoded: AtomicU64,
    pub keyframes: AtomicU64,
    pub bytes: AtomicU64,
    pub encode_errors: AtomicU64,
    /// Encoders running (one per codec in use).
    pub encoders: AtomicU32,
    /// 1 = every frame; 2 or 4 when the bitrate is too low for the full frame rate.
    pub frame_rate_divider: AtomicU32,
    /// How many times the source picture is halved because the bitrate is too low for it (0 = full).
    pub halvings: AtomicU32,
    /// Why the source stopped giving frames (a shared window closed, a camera unplugged), once it has.
    pub ended: std::sync::OnceLock<String>,
}

impl VideoSendControl {
    /// The next frame in `codec` will be a keyframe (on PLI/FIR from a peer, or a new peer).
    pub fn request_keyframe(&self, codec: VideoCodec) {
        self.keyframe[codec.index()].store(true, Relaxed);
    }

    /// A peer takes `codec`: its encoder runs until the returned guard is dropped (by every such peer).
    pub fn use_codec(self: &Arc<Self>, codec: VideoCodec) -> CodecUse {
        self.users[codec.index()].fetch_add(1, Relaxed);
        self.request_keyframe(codec);
        CodecUse { control: self.clone(), codec }
    }

    fn in_use(&self, codec: VideoCodec) -> bool {
        self.users[codec.index()].load(Relaxed) > 0
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

/// A peer's use of one codec's encoder ([`VideoSendControl::use_codec`]).
#[derive(Debug)]
pub struct CodecUse {
    control: Arc<VideoSendControl>,
    codec: VideoCodec,
}

impl CodecUse {
    pub fn codec(&self) -> VideoCodec {
        self.codec
    }
}

impl Drop for CodecUse {
    fn drop(&mut self) {
        self.control.users[self.codec.index()].fetch_sub(1, Relaxed);
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

impl VideoSendConfig {
    /// A shared screen: text at up to 1920×1080 wants more bits than a camera, and its keyframes are large
    /// (a safety keyframe every 10 s; requests bring one sooner).
    pub fn screen() -> Self {
        VideoSendConfig { max_bitrate_bps: 2_500_000, keyframe_interval_s: 10 }
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
            let content = source.content();
            let make_encoder = |codec: VideoCodec, width: u32, height: u32| {
                VideoEncoder::new(
                    codec,
                    EncoderConfig {
                        width,
                        height,
                        max_fps: fps as f32,
                        bitrate_bps: config.max_bitrate_bps,
                        intra_period: fps * config.keyframe_interval_s,
                        content,
                    },
                )
            };
            let mut adaptation = Adaptation::new(w, h, fps, content);
            let mut halvings = 0;
            let (mut width, mut height) = (w, h);
            // One encoder per codec some peer takes, opened when the first such peer comes.
            let mut encoders: [Option<VideoEncoder>; 2] = [None, None];
            let mut last_capture: [Option<Instant>; 2] = [None, None];
            let mut frame_index: u64 = 0;
            let nominal = Duration::from_secs(1) / fps.max(1);
            while !ctl.stop.load(Relaxed) {
                let captured = match source.next_frame() {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        let _ = ctl.ended.set("it has no more pictures".into());
                        break;
                    }
                    Err(e) => {
                        warn!(error = %e, source = %source.describe(), "video source failed");
                        let _ = ctl.ended.set(e.to_string());
                        break;
                    }
                };
                if ctl.paused.load(Relaxed) {
                    last_capture = [None, None];
                    source.recycle(captured.frame);
                    continue;
                }
                let target = ctl.target_bps.load(Relaxed);
                let layout = adaptation.update(target, captured.captured_at);
                if layout.halvings != halvings {
                    // A new size needs new encoders; their first frames are keyframes.
                    info!(width = layout.width, height = layout.height, target, "video size changed");
                    halvings = layout.halvings;
                    (width, height) = (layout.width, layout.height);
                    encoders = [None, None];
                    ctl.halvings.store(halvings, Relaxed);
                }
                for codec in VideoCodec::ALL {
                    let slot = &mut encoders[codec.index()];
                    if !ctl.in_use(codec) {
                        *slot = None;
                        continue;
                    }
                    if slot.is_none() {
                        match make_encoder(codec, width, height) {
                            Ok(e) => *slot = Some(e),
                            Err(e) => {
                                warn!(%codec, error = %e, "cannot start the encoder for {width}x{height}");
                                continue;
                            }
                        }
                    }
                    if let Some(encoder) = slot
                        && target != encoder.bitrate()
                        && let Err(e) = encoder.set_bitrate(target)
                    {
                        debug!(%codec, error = %e, "bitrate change failed");
                    }
                }
                ctl.encoders.store(encoders.iter().flatten().count() as u32, Relaxed);
                ctl.frame_rate_divider.store(layout.frame_rate_divider, Relaxed);
                frame_index += 1;
                if !frame_index.is_multiple_of(u64::from(layout.frame_rate_divider))
                    || encoders.iter().all(Option::is_none)
                {
                    source.recycle(captured.frame);
                    continue;
                }
                let small = downscale(&captured.frame, halvings);
                let frame = small.as_ref().unwrap_or(&captured.frame);
                for encoder in encoders.iter_mut().flatten() {
                    let codec = encoder.codec();
                    let force = ctl.keyframe[codec.index()].swap(false, Relaxed);
                    match encoder.encode(frame, force) {
                        Ok(Some(encoded)) => {
                            let last = &mut last_capture[codec.index()];
                            let duration = last.map_or(nominal, |t| captured.captured_at - t);
                            *last = Some(captured.captured_at);
                            ctl.frames_encoded.fetch_add(1, Relaxed);
                            ctl.bytes.fetch_add(encoded.data.len() as u64, Relaxed);
                            if encoded.keyframe {
                                ctl.keyframes.fetch_add(1, Relaxed);
                            }
                            let _ = out.send(Arc::new(EncodedVideo {
                                codec,
                                data: Bytes::from(encoded.data),
                                keyframe: encoded.keyframe,
                                duration,
                                captured_at: captured.captured_at,
                            }));
                        }
                        Ok(None) => debug!(%codec, "encoder skipped a frame"),
                        Err(e) => {
                            ctl.encode_errors.fetch_add(1, Relaxed);
                            debug!(%codec, error = %e, "encode failed");
                        }
                    }
                }
                // The encoders do not keep the picture: the source may fill it again.
                source.recycle(captured.frame);
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

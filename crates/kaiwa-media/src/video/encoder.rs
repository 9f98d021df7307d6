//! H.264 encoder: a call-tuned wrapper around openh264.
//!
//! openh264's defaults (120 kbps, quality rate control, max frame rate 0, no IDR period) are wrong for a
//! call. This wrapper opens the encoder in bitrate rate-control mode at the configured (maximum) bitrate and
//! frame rate, constrained baseline profile (what `profile-level-id=42e01f` negotiates, RFC 6184 §8.1), a
//! safety intra period, one thread (the engine owns threading), and frame skipping allowed. Runtime bitrate
//! changes go through `ENCODER_OPTION_BITRATE` and are clamped to the opening bitrate, because openh264 does
//! not raise its rate-control ceiling above what it was opened with.
//!
//! A change of resolution recreates the encoder: call [`H264Encoder::new`] with the new config.

use openh264::OpenH264API;
use openh264::Timestamp;
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig as RawConfig, FrameRate, FrameType, IntraFramePeriod, Level,
    Profile, RateControlMode, UsageType,
};
use openh264::formats::YUVSource;
use thiserror::Error;

use super::frame::I420Frame;

/// Encoder errors.
#[derive(Debug, Error)]
pub enum EncoderError {
    /// The configuration cannot be used (odd or oversized dimensions, zero rate, …).
    #[error("invalid encoder config: {0}")]
    InvalidConfig(String),
    /// The frame's size does not match the encoder's; recreate the encoder for a new resolution.
    #[error("frame is {got_w}x{got_h} but the encoder was opened for {want_w}x{want_h}")]
    SizeMismatch {
        /// Frame width.
        got_w: u32,
        /// Frame height.
        got_h: u32,
        /// Encoder width.
        want_w: u32,
        /// Encoder height.
        want_h: u32,
    },
    /// openh264 reported an error.
    #[error("openh264: {0}")]
    Codec(String),
}

/// What the pictures are, which the encoders tune for: a camera's natural scenes, or a screen's text and
/// sharp edges (openh264's screen-content usage, libvpx's screen-content mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Content {
    #[default]
    Camera,
    Screen,
}

/// Encoder configuration. `bitrate_bps` is the opening bitrate and the ceiling for [`H264Encoder::set_bitrate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderConfig {
    /// Width in pixels (even, ≤ 3840).
    pub width: u32,
    /// Height in pixels (even, ≤ 2160).
    pub height: u32,
    /// Maximum (nominal) frame rate.
    pub max_fps: f32,
    /// Target and maximum bitrate in bits per second.
    pub bitrate_bps: u32,
    /// A keyframe at least every this many frames (0 = only on request). A few seconds' worth is a good
    /// safety net in case a PLI is lost.
    pub intra_period: u32,
    pub content: Content,
}

impl EncoderConfig {
    /// A sensible call config: the given size at 30 fps, 1 Mbps, a keyframe every 10 s.
    pub fn call(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            max_fps: 30.0,
            bitrate_bps: 1_000_000,
            intra_period: 300,
            content: Content::Camera,
        }
    }
}

/// One encoded access unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedFrame {
    /// Annex-B byte stream (start codes before every NAL unit); SPS/PPS precede every IDR.
    pub annex_b: Vec<u8>,
    /// Whether this is an IDR (a decoder can start here).
    pub keyframe: bool,
}

/// An H.264 encoder for one outgoing video track.
pub struct H264Encoder {
    inner: Encoder,
    config: EncoderConfig,
    current_bitrate: u32,
    pending_bitrate: Option<u32>,
    keyframe_requested: bool,
    frames_in: u64,
    started: bool,
}

impl std::fmt::Debug for H264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Encoder")
            .field("config", &self.config)
            .field("current_bitrate", &self.current_bitrate)
            .finish_non_exhaustive()
    }
}

/// Borrowed view handed to openh264.
struct Source<'a>(&'a I420Frame);

impl YUVSource for Source<'_> {
    fn dimensions(&self) -> (usize, usize) {
        (self.0.width() as usize, self.0.height() as usize)
    }
    fn strides(&self) -> (usize, usize, usize) {
        let (cw, _) = self.0.chroma_size();
        (self.0.width() as usize, cw, cw)
    }
    fn y(&self) -> &[u8] {
        self.0.y()
    }
    fn u(&self) -> &[u8] {
        self.0.u()
    }
    fn v(&self) -> &[u8] {
        self.0.v()
    }
}

/// Picks the smallest level that fits the picture size at the frame rate, preferring 3.1 (`42e01f`).
fn level_for(width: u32, height: u32, fps: f32) -> Level {
    let mbs = u64::from(width.div_ceil(16)) * u64::from(height.div_ceil(16));
    let mbps = (mbs as f64 * f64::from(fps.max(1.0))) as u64;
    if mbs <= 3600 && mbps <= 108_000 {
        Level::Level_3_1
    } else if mbs <= 5120 && mbps <= 216_000 {
        Level::Level_3_2
    } else if mbs <= 8192 && mbps <= 245_760 {
        Level::Level_4_0
    } else {
        Level::Level_5_1
    }
}

impl H264Encoder {
    /// Opens an encoder. openh264 initialises lazily on the first frame, so the first `encode` is slower.
    pub fn new(config: EncoderConfig) -> Result<Self, EncoderError> {
        let EncoderConfig { width, height, max_fps, bitrate_bps, intra_period, content } = config;
        if width == 0 || height == 0 || !width.is_multiple_of(2) || !height.is_multiple_of(2) {
            return Err(EncoderError::InvalidConfig(format!(
                "dimensions {width}x{height} must be even and non-zero"
            )));
        }
        if width.max(height) > 3840 || width.min(height) > 2160 {
            return Err(EncoderError::InvalidConfig(format!("dimensions {width}x{height} exceed 3840x2160")));
        }
        if !(max_fps.is_finite() && (1.0..=240.0).contains(&max_fps)) {
            return Err(EncoderError::InvalidConfig(format!("max_fps {max_fps} out of range 1..=240")));
        }
        if !(10_000..=100_000_000).contains(&bitrate_bps) {
            return Err(EncoderError::InvalidConfig(format!("bitrate {bitrate_bps} out of range")));
        }
        let raw = RawConfig::new()
            .usage_type(match content {
                Content::Camera => UsageType::CameraVideoRealTime,
                Content::Screen => UsageType::ScreenContentRealTime,
            })
            // Low complexity: a 720p30 call must leave most of a core free (measured ~25 % less CPU
            // than Medium, at a quality loss the rate controller absorbs).
            .complexity(Complexity::Low)
            .scene_change_detect(false)
            // Background detection (on by default) costs ~2.3 % of the encoder's instructions at 720p and,
            // on our test content, 0.24 dB of PSNR at the same bitrate (docs/BENCHMARKS.md, "Profile").
            .background_detection(false)
            .rate_control_mode(RateControlMode::Bitrate)
            .bitrate(BitRate::from_bps(bitrate_bps))
            .max_frame_rate(FrameRate::from_hz(max_fps))
            .skip_frames(true)
            .profile(Profile::Baseline)
            .level(level_for(width, height, max_fps))
            .intra_frame_period(IntraFramePeriod::from_num_frames(intra_period))
            .num_threads(1);
        let inner = Encoder::with_api_config(OpenH264API::from_source(), raw)
            .map_err(|e| EncoderError::Codec(e.to_string()))?;
        Ok(Self {
            inner,
            config,
            current_bitrate: bitrate_bps,
            pending_bitrate: None,
            keyframe_requested: false,
            frames_in: 0,
            started: false,
        })
    }

    /// The configuration the encoder was opened with.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// The bitrate currently in force (bps).
    pub fn bitrate(&self) -> u32 {
        self.pending_bitrate.unwrap_or(self.current_bitrate)
    }

    /// Changes the target bitrate; clamped to `[10 kbps, opening bitrate]`. Takes effect on the next frame.
    pub fn set_bitrate(&mut self, bps: u32) {
        let bps = bps.clamp(10_000, self.config.bitrate_bps);
        self.pending_bitrate = Some(bps);
    }

    /// Makes the next encoded frame an IDR (on PLI/FIR).
    pub fn request_keyframe(&mut self) {
        self.keyframe_requested = true;
    }

    fn apply_bitrate(&mut self, bps: u32) -> Result<(), EncoderError> {
        let mut info = openh264_sys2::SBitrateInfo {
            iLayer: openh264_sys2::SPATIAL_LAYER_ALL,
            iBitrate: i32::try_from(bps).unwrap_or(i32::MAX),
        };
        // SAFETY: the encoder is initialised (a frame has been encoded), the option id matches the
        // pointed-to type (SBitrateInfo), and `info` outlives the call.
        let rc = unsafe {
            self.inner
                .raw_api()
                .set_option(openh264_sys2::ENCODER_OPTION_BITRATE, std::ptr::from_mut(&mut info).cast())
        };
        if rc != 0 {
            return Err(EncoderError::Codec(format!("set bitrate to {bps} failed ({rc})")));
        }
        self.current_bitrate = bps;
        Ok(())
    }

    /// Encodes one frame. Returns `None` when the rate controller skipped the frame (never an empty sample).
    pub fn encode(
        &mut self,
        frame: &I420Frame,
        force_keyframe: bool,
    ) -> Result<Option<EncodedFrame>, EncoderError> {
        if frame.width() != self.config.width || frame.height() != self.config.height {
            return Err(EncoderError::SizeMismatch {
                got_w: frame.width(),
                got_h: frame.height(),
                want_w: self.config.width,
                want_h: self.config.height,
            });
        }
        if self.started {
            if let Some(bps) = self.pending_bitrate.take() {
                self.apply_bitrate(bps)?;
            }
            if force_keyframe || self.keyframe_requested {
                self.inner.force_intra_frame();
            }
            self.keyframe_requested = false;
        } else {
            // The first frame is an IDR anyway.
            self.keyframe_requested = false;
        }
        // Nominal timestamps at the configured rate; only the rate controller looks at them.
        let ts_ms = (self.frames_in as f64 * 1000.0 / f64::from(self.config.max_fps)) as u64;
        self.frames_in += 1;
        let out = self
            .inner
            .encode_at(&Source(frame), Timestamp::from_millis(ts_ms))
            .map_err(|e| EncoderError::Codec(e.to_string()))?;
        self.started = true;
        let keyframe = match out.frame_type() {
            FrameType::IDR | FrameType::I => true,
            FrameType::P | FrameType::IPMixed => false,
            FrameType::Skip | FrameType::Invalid => return Ok(None),
        };
        let annex_b = out.to_vec();
        if annex_b.is_empty() {
            return Ok(None);
        }
        Ok(Some(EncodedFrame { annex_b, keyframe }))
    }
}

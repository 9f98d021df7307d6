//! The VP8 encoder, set up for a live call (see the module's documentation).

use std::ffi::c_int;
use std::mem::MaybeUninit;
use std::ptr;

use vpx_sys::{vp8e_enc_control_id, vpx_codec_ctx_t, vpx_codec_enc_cfg_t, vpx_image_t, vpx_img_fmt};

use super::check;
use crate::video::encoder::{Content, EncoderConfig, EncoderError};
use crate::video::frame::I420Frame;

/// libvpx's speed for a live call: negative values are "real time, at least this fast"; -6 is WebRTC's on
/// desktops. Measured here (`cargo bench -p kaiwa-media`): -8 is no faster, -4 costs twice the time for
/// 0.8 dB.
const CPU_USED: c_int = -6;
/// Quantizer range: libvpx's 0–63 scale (WebRTC's 2–56: never waste bits on a near-lossless picture,
/// never let it fall apart entirely).
const MIN_QUANTIZER: u32 = 2;
const MAX_QUANTIZER: u32 = 56;
/// Rate-control buffer, in ms of the target rate (WebRTC's values: start at 500 ms, aim for 600, hold 1 s).
const BUFFER_MS: (u32, u32, u32) = (500, 600, 1000);
/// Drop a frame rather than let the buffer fall below this share (%): keeps delay from building up.
const DROP_FRAME_THRESHOLD: u32 = 30;
/// A keyframe may be at most this share (%) of the per-frame budget times 100 (WebRTC's rule: half the
/// optimal buffer's worth of frames), so a keyframe on request does not stall the link.
const MAX_INTRA_BITRATE_PCT: u32 = 300;
/// RTP's 90 kHz video clock, also the encoder's timebase.
const CLOCK_HZ: i32 = 90_000;

/// One encoded VP8 frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vp8Frame {
    /// The compressed frame, as RFC 7741 carries it (after the payload descriptor).
    pub data: Vec<u8>,
    /// A keyframe: a decoder can start here.
    pub keyframe: bool,
}

/// A VP8 encoder for one outgoing video stream.
pub struct Vp8Encoder {
    ctx: Box<vpx_codec_ctx_t>,
    cfg: vpx_codec_enc_cfg_t,
    config: EncoderConfig,
    current_bitrate: u32,
    keyframe_requested: bool,
    pts: i64,
}

// SAFETY: the libvpx context is used only through `&mut self`; libvpx keeps no thread-local state for it.
unsafe impl Send for Vp8Encoder {}

impl std::fmt::Debug for Vp8Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vp8Encoder")
            .field("config", &self.config)
            .field("current_bitrate", &self.current_bitrate)
            .finish_non_exhaustive()
    }
}

impl Vp8Encoder {
    /// Opens an encoder (same limits as the H.264 one).
    pub fn new(config: EncoderConfig) -> Result<Self, EncoderError> {
        let EncoderConfig { width, height, max_fps, bitrate_bps, intra_period, content } = config;
        if width == 0 || height == 0 || !width.is_multiple_of(2) || !height.is_multiple_of(2) {
            return Err(EncoderError::InvalidConfig(format!(
                "dimensions {width}x{height} must be even and non-zero"
            )));
        }
        if width > 16_383 || height > 16_383 {
            return Err(EncoderError::InvalidConfig(format!("dimensions {width}x{height} exceed VP8's")));
        }
        if !(max_fps.is_finite() && (1.0..=240.0).contains(&max_fps)) {
            return Err(EncoderError::InvalidConfig(format!("max_fps {max_fps} out of range 1..=240")));
        }
        if !(10_000..=100_000_000).contains(&bitrate_bps) {
            return Err(EncoderError::InvalidConfig(format!("bitrate {bitrate_bps} out of range")));
        }
        // SAFETY: `vpx_codec_vp8_cx` returns libvpx's static interface; the config is plain data that
        // `vpx_codec_enc_config_default` fills in completely.
        let mut cfg = unsafe {
            let mut cfg = MaybeUninit::<vpx_codec_enc_cfg_t>::zeroed();
            check(
                "default config",
                vpx_sys::vpx_codec_enc_config_default(vpx_sys::vpx_codec_vp8_cx(), cfg.as_mut_ptr(), 0),
            )
            .map_err(EncoderError::Codec)?;
            cfg.assume_init()
        };
        cfg.g_w = width;
        cfg.g_h = height;
        cfg.g_threads = 1;
        cfg.g_timebase = vpx_sys::vpx_rational { num: 1, den: CLOCK_HZ };
        cfg.g_lag_in_frames = 0;
        cfg.g_pass = vpx_sys::vpx_enc_pass::VPX_RC_ONE_PASS;
        cfg.g_error_resilient = vpx_sys::VPX_ERROR_RESILIENT_DEFAULT;
        cfg.rc_end_usage = vpx_sys::vpx_rc_mode::VPX_CBR;
        cfg.rc_target_bitrate = bitrate_bps / 1000;
        cfg.rc_min_quantizer = MIN_QUANTIZER;
        cfg.rc_max_quantizer = MAX_QUANTIZER;
        cfg.rc_undershoot_pct = 100;
        cfg.rc_overshoot_pct = 15;
        (cfg.rc_buf_initial_sz, cfg.rc_buf_optimal_sz, cfg.rc_buf_sz) = BUFFER_MS;
        cfg.rc_dropframe_thresh = DROP_FRAME_THRESHOLD;
        cfg.rc_resize_allowed = 0;
        if intra_period == 0 {
            cfg.kf_mode = vpx_sys::vpx_kf_mode::VPX_KF_DISABLED;
        } else {
            cfg.kf_mode = vpx_sys::vpx_kf_mode::VPX_KF_AUTO;
            cfg.kf_max_dist = intra_period;
        }
        // SAFETY: a zeroed context is what `vpx_codec_enc_init_ver` expects to initialise; it lives in a
        // Box so its address stays put for libvpx.
        let mut ctx: Box<vpx_codec_ctx_t> = Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        // SAFETY: ctx and cfg are valid for the call; the ABI version is the one the bindings were made for.
        let err = unsafe {
            vpx_sys::vpx_codec_enc_init_ver(
                ctx.as_mut(),
                vpx_sys::vpx_codec_vp8_cx(),
                &cfg,
                0,
                vpx_sys::VPX_ENCODER_ABI_VERSION as c_int,
            )
        };
        check("encoder init", err).map_err(EncoderError::Codec)?;
        let mut encoder =
            Vp8Encoder { ctx, cfg, config, current_bitrate: bitrate_bps, keyframe_requested: false, pts: 0 };
        for (id, value) in [
            (vp8e_enc_control_id::VP8E_SET_CPUUSED, CPU_USED),
            (vp8e_enc_control_id::VP8E_SET_NOISE_SENSITIVITY, 0),
            (vp8e_enc_control_id::VP8E_SET_STATIC_THRESHOLD, 1),
            (vp8e_enc_control_id::VP8E_SET_TOKEN_PARTITIONS, 0),
            (vp8e_enc_control_id::VP8E_SET_MAX_INTRA_BITRATE_PCT, MAX_INTRA_BITRATE_PCT as c_int),
            // Text and sharp edges: libvpx's screen-content tools (1 = on, without its extra frame dropping).
            (vp8e_enc_control_id::VP8E_SET_SCREEN_CONTENT_MODE, c_int::from(content == Content::Screen)),
        ] {
            encoder.control(id, value)?;
        }
        Ok(encoder)
    }

    fn control(&mut self, id: vp8e_enc_control_id, value: c_int) -> Result<(), EncoderError> {
        // SAFETY: every control used here takes an int, passed by value through the variadic call.
        let err = unsafe { vpx_sys::vpx_codec_control_(self.ctx.as_mut(), id as c_int, value) };
        check(&format!("control {id:?}"), err).map_err(EncoderError::Codec)
    }

    /// The configuration the encoder was opened with.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// The bitrate in force (bps).
    pub fn bitrate(&self) -> u32 {
        self.current_bitrate
    }

    /// Changes the target bitrate at once; clamped to `[10 kbps, opening bitrate]` like the H.264 encoder.
    pub fn set_bitrate(&mut self, bps: u32) -> Result<(), EncoderError> {
        let bps = bps.clamp(10_000, self.config.bitrate_bps);
        if bps == self.current_bitrate {
            return Ok(());
        }
        self.cfg.rc_target_bitrate = bps / 1000;
        // SAFETY: the context is initialised and the config is the one it was opened with, changed only
        // in its target bitrate.
        let err = unsafe { vpx_sys::vpx_codec_enc_config_set(self.ctx.as_mut(), &self.cfg) };
        check("set bitrate", err).map_err(EncoderError::Codec)?;
        self.current_bitrate = bps;
        Ok(())
    }

    /// Makes the next encoded frame a keyframe (on PLI/FIR).
    pub fn request_keyframe(&mut self) {
        self.keyframe_requested = true;
    }

    /// Encodes one frame. `None` when rate control dropped it (the link cannot take it now).
    pub fn encode(
        &mut self,
        frame: &I420Frame,
        force_keyframe: bool,
    ) -> Result<Option<Vp8Frame>, EncoderError> {
        if frame.width() != self.config.width || frame.height() != self.config.height {
            return Err(EncoderError::SizeMismatch {
                got_w: frame.width(),
                got_h: frame.height(),
                want_w: self.config.width,
                want_h: self.config.height,
            });
        }
        let (cw, _) = frame.chroma_size();
        // SAFETY: a zeroed image is a valid "no image" that `vpx_img_wrap` fills in.
        let mut image: vpx_image_t = unsafe { MaybeUninit::zeroed().assume_init() };
        // SAFETY: `vpx_img_wrap` only records the pointer; the planes are then pointed at the frame's own
        // (which libvpx reads and never writes) and stay borrowed until `vpx_codec_encode` returns.
        unsafe {
            let wrapped = vpx_sys::vpx_img_wrap(
                &mut image,
                vpx_img_fmt::VPX_IMG_FMT_I420,
                frame.width(),
                frame.height(),
                1,
                frame.y().as_ptr().cast_mut(),
            );
            if wrapped.is_null() {
                return Err(EncoderError::Codec("cannot wrap the picture".into()));
            }
        }
        image.planes[0] = frame.y().as_ptr().cast_mut();
        image.planes[1] = frame.u().as_ptr().cast_mut();
        image.planes[2] = frame.v().as_ptr().cast_mut();
        image.stride[0] = frame.width() as c_int;
        image.stride[1] = cw as c_int;
        image.stride[2] = cw as c_int;
        let flags = if force_keyframe || std::mem::take(&mut self.keyframe_requested) {
            vpx_sys::VPX_EFLAG_FORCE_KF as vpx_sys::vpx_enc_frame_flags_t
        } else {
            0
        };
        let duration = (f64::from(CLOCK_HZ) / f64::from(self.config.max_fps)) as u64;
        // SAFETY: the context is initialised; `image` points at planes that outlive the call.
        let err = unsafe {
            vpx_sys::vpx_codec_encode(
                self.ctx.as_mut(),
                &image,
                self.pts,
                duration as _,
                flags,
                vpx_sys::VPX_DL_REALTIME as _,
            )
        };
        self.pts += duration as i64;
        check("encode", err).map_err(EncoderError::Codec)?;
        let mut out: Option<Vp8Frame> = None;
        let mut iter: vpx_sys::vpx_codec_iter_t = ptr::null();
        loop {
            // SAFETY: iterating the packets of the encode call above; each is valid until the next call.
            let packet = unsafe { vpx_sys::vpx_codec_get_cx_data(self.ctx.as_mut(), &mut iter) };
            if packet.is_null() {
                break;
            }
            // SAFETY: non-null packets from libvpx are valid; a frame packet's union member is `frame`.
            unsafe {
                if (*packet).kind != vpx_sys::vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                    continue;
                }
                let f = (*packet).data.frame;
                let data = std::slice::from_raw_parts(f.buf as *const u8, f.sz);
                let keyframe = f.flags & vpx_sys::VPX_FRAME_IS_KEY != 0;
                // One frame in gives at most one frame packet without lag; keep the last if not.
                out = Some(Vp8Frame { data: data.to_vec(), keyframe });
            }
        }
        Ok(out.filter(|f| !f.data.is_empty()))
    }
}

impl Drop for Vp8Encoder {
    fn drop(&mut self) {
        // SAFETY: the context was initialised in `new` and is destroyed once.
        unsafe {
            vpx_sys::vpx_codec_destroy(self.ctx.as_mut());
        }
    }
}

//! VP8 encoder and decoder: a call-tuned wrapper around libvpx (Debian's `libvpx`, through the
//! `env-libvpx-sys` bindings).
//!
//! VP8 is the codec every WebRTC browser must implement ([RFC 7742 §5](https://www.rfc-editor.org/rfc/rfc7742#section-5)),
//! and the one a Firefox without its OpenH264 plugin offers. The encoder is set up the way a live call
//! wants it: one pass, no lag (every frame comes out as it goes in), constant-bitrate rate control whose
//! target follows the congestion controller at run time (`vpx_codec_enc_config_set`), frame dropping
//! allowed rather than overshooting, error-resilient mode (entropy contexts reset per frame, so a lost
//! frame damages less), one token partition, and a speed setting for real time on two cores. Keyframes come
//! on request (PLI/FIR) and as a safety net every `intra_period` frames. Like [`super::H264Encoder`], it
//! takes and gives [`I420Frame`]s, and a change of resolution recreates the encoder.
//!
//! Why not the `vpx-rs` crate: it cannot change the bitrate of a running encoder, which congestion control
//! needs every frame; this wrapper is the few calls a call needs, on the same maintained `-sys` crate.

use std::ffi::c_int;
use std::mem::MaybeUninit;
use std::ptr;

use thiserror::Error;
use vpx_sys::{
    vp8e_enc_control_id, vpx_codec_ctx_t, vpx_codec_enc_cfg_t, vpx_codec_err_t, vpx_image_t, vpx_img_fmt,
};

use super::encoder::{EncoderConfig, EncoderError};
use super::frame::I420Frame;

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

fn vpx_error(what: &str, err: vpx_codec_err_t) -> String {
    // SAFETY: `vpx_codec_err_to_string` returns a pointer to a static C string for any value.
    let text = unsafe { std::ffi::CStr::from_ptr(vpx_sys::vpx_codec_err_to_string(err)) };
    format!("{what}: {}", text.to_string_lossy())
}

fn check(what: &str, err: vpx_codec_err_t) -> Result<(), String> {
    if err == vpx_codec_err_t::VPX_CODEC_OK { Ok(()) } else { Err(vpx_error(what, err)) }
}

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
        let EncoderConfig { width, height, max_fps, bitrate_bps, intra_period } = config;
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

/// Decoder errors. After any of them [`Vp8Decoder::needs_keyframe`] is true.
#[derive(Debug, Error)]
pub enum Vp8DecoderError {
    /// Not a keyframe, and the decoder has no good reference (start, or after loss or an error).
    #[error("waiting for a keyframe")]
    AwaitingKeyframe,
    /// libvpx rejected the frame (normal after loss; ask for a keyframe).
    #[error("bitstream error: {0}")]
    Bitstream(String),
    /// The decoded picture could not be copied out.
    #[error("bad decoded picture: {0}")]
    Picture(String),
    /// The decoder could not be created.
    #[error("decoder init failed: {0}")]
    Init(String),
}

/// Whether a VP8 frame is a keyframe: bit 0 of its first byte is 0 (RFC 6386 §9.1).
pub fn is_vp8_keyframe(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 1 == 0)
}

/// A VP8 decoder for one remote track.
pub struct Vp8Decoder {
    ctx: Box<vpx_codec_ctx_t>,
    spare: Option<I420Frame>,
    needs_keyframe: bool,
    frames_decoded: u64,
    errors: u64,
}

// SAFETY: as for the encoder: used only through `&mut self`.
unsafe impl Send for Vp8Decoder {}

impl std::fmt::Debug for Vp8Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vp8Decoder")
            .field("needs_keyframe", &self.needs_keyframe)
            .field("frames_decoded", &self.frames_decoded)
            .finish_non_exhaustive()
    }
}

impl Vp8Decoder {
    /// Creates a single-threaded decoder.
    pub fn new() -> Result<Self, Vp8DecoderError> {
        let cfg = vpx_sys::vpx_codec_dec_cfg_t { threads: 1, w: 0, h: 0 };
        // SAFETY: as for the encoder's context.
        let mut ctx: Box<vpx_codec_ctx_t> = Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        // SAFETY: ctx and cfg are valid for the call.
        let err = unsafe {
            vpx_sys::vpx_codec_dec_init_ver(
                ctx.as_mut(),
                vpx_sys::vpx_codec_vp8_dx(),
                &cfg,
                0,
                vpx_sys::VPX_DECODER_ABI_VERSION as c_int,
            )
        };
        check("decoder init", err).map_err(Vp8DecoderError::Init)?;
        Ok(Vp8Decoder { ctx, spare: None, needs_keyframe: true, frames_decoded: 0, errors: 0 })
    }

    /// True until the first keyframe has been decoded, and again after any error: send a PLI.
    pub fn needs_keyframe(&self) -> bool {
        self.needs_keyframe
    }

    /// The stream lost something: drop frames until the next keyframe.
    pub fn mark_loss(&mut self) {
        self.needs_keyframe = true;
    }

    /// Pictures decoded so far.
    pub fn frames_decoded(&self) -> u64 {
        self.frames_decoded
    }

    /// Decode errors so far.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Hands a picture back for its buffers to be reused.
    pub fn recycle(&mut self, frame: I420Frame) {
        self.spare = Some(frame);
    }

    /// Decodes one frame. `Ok(None)`: no picture came out.
    pub fn decode(&mut self, data: &[u8]) -> Result<Option<I420Frame>, Vp8DecoderError> {
        if self.needs_keyframe && !is_vp8_keyframe(data) {
            return Err(Vp8DecoderError::AwaitingKeyframe);
        }
        let Ok(len) = u32::try_from(data.len()) else {
            self.fail();
            return Err(Vp8DecoderError::Bitstream("frame too large".into()));
        };
        // SAFETY: `data` is valid for `len` bytes during the call; libvpx copies what it keeps.
        let err =
            unsafe { vpx_sys::vpx_codec_decode(self.ctx.as_mut(), data.as_ptr(), len, ptr::null_mut(), 0) };
        if let Err(e) = check("decode", err) {
            self.fail();
            return Err(Vp8DecoderError::Bitstream(e));
        }
        let mut iter: vpx_sys::vpx_codec_iter_t = ptr::null();
        let mut picture = None;
        loop {
            // SAFETY: iterating the pictures of the decode call above.
            let image = unsafe { vpx_sys::vpx_codec_get_frame(self.ctx.as_mut(), &mut iter) };
            if image.is_null() {
                break;
            }
            // SAFETY: a non-null image from libvpx is valid until the next decode call.
            picture = Some(unsafe { self.copy_out(&*image) });
        }
        match picture {
            None => Ok(None),
            Some(Ok(frame)) => {
                self.needs_keyframe = false;
                self.frames_decoded += 1;
                Ok(Some(frame))
            }
            Some(Err(e)) => {
                self.fail();
                Err(e)
            }
        }
    }

    /// Copies a decoded picture into an [`I420Frame`].
    ///
    /// # Safety
    /// `image` must be a picture libvpx just returned (its planes valid for its strides and size).
    unsafe fn copy_out(&mut self, image: &vpx_image_t) -> Result<I420Frame, Vp8DecoderError> {
        if image.fmt != vpx_img_fmt::VPX_IMG_FMT_I420 {
            return Err(Vp8DecoderError::Picture(format!("format {:?}", image.fmt)));
        }
        let (w, h) = (image.d_w, image.d_h);
        let (_, ch) = super::frame::chroma_size(w, h);
        let stride = |i: usize| usize::try_from(image.stride[i]).ok().filter(|s| *s > 0);
        let (Some(ys), Some(us), Some(vs)) = (stride(0), stride(1), stride(2)) else {
            return Err(Vp8DecoderError::Picture("negative stride".into()));
        };
        // SAFETY: libvpx's planes hold `stride × rows` bytes each (rows: h for luma, ceil(h/2) chroma).
        let plane = |i: usize, s: usize, rows: usize| unsafe {
            std::slice::from_raw_parts(image.planes[i], s * rows)
        };
        let planes = ((plane(0, ys, h as usize), ys), (plane(1, us, ch), us), (plane(2, vs, ch), vs));
        match self.spare.take() {
            Some(mut f) => f.copy_from_strided(w, h, planes.0, planes.1, planes.2).map(|()| f),
            None => I420Frame::from_strided(w, h, planes.0, planes.1, planes.2),
        }
        .map_err(|e| Vp8DecoderError::Picture(e.to_string()))
    }

    fn fail(&mut self) {
        self.errors += 1;
        self.needs_keyframe = true;
    }
}

impl Drop for Vp8Decoder {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, destroyed once.
        unsafe {
            vpx_sys::vpx_codec_destroy(self.ctx.as_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::{TestPattern, psnr};

    fn pattern_frames(n: usize, w: u32, h: u32) -> Vec<I420Frame> {
        let pattern = TestPattern::new(w, h).unwrap();
        (0..n).map(|i| pattern.frame(i as u32, i as u64 * 33_333)).collect()
    }

    #[test]
    fn encodes_and_decodes_a_call_picture() {
        let config = EncoderConfig { bitrate_bps: 800_000, ..EncoderConfig::call(640, 480) };
        let mut encoder = Vp8Encoder::new(config).unwrap();
        let mut decoder = Vp8Decoder::new().unwrap();
        let frames = pattern_frames(30, 640, 480);
        let mut decoded = 0;
        let mut quality = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            let Some(out) = encoder.encode(frame, false).unwrap() else { continue };
            assert_eq!(out.keyframe, i == 0, "frame {i}: only the first is a keyframe");
            assert_eq!(is_vp8_keyframe(&out.data), out.keyframe);
            let picture = decoder.decode(&out.data).unwrap().expect("a picture per frame");
            assert_eq!((picture.width(), picture.height()), (640, 480));
            quality.push(psnr(frame, &picture).unwrap());
            decoded += 1;
        }
        assert!(decoded >= 25, "only {decoded} of 30 frames came out");
        let mean = quality.iter().sum::<f64>() / quality.len() as f64;
        assert!(mean > 30.0, "PSNR {mean:.1} dB");
    }

    #[test]
    fn keyframes_on_request_and_the_bitrate_follows_the_target() {
        let config = EncoderConfig { bitrate_bps: 1_500_000, ..EncoderConfig::call(320, 240) };
        let mut encoder = Vp8Encoder::new(config).unwrap();
        let frames = pattern_frames(120, 320, 240);
        let mut bytes = [0usize; 2];
        for (i, frame) in frames.iter().enumerate() {
            if i == 60 {
                encoder.set_bitrate(150_000).unwrap();
                encoder.request_keyframe();
            }
            if let Some(out) = encoder.encode(frame, false).unwrap() {
                if i == 60 {
                    assert!(out.keyframe, "the requested keyframe");
                }
                // Skip each half's first second (the keyframe and the rate controller settling).
                if i % 60 >= 30 {
                    bytes[i / 60] += out.data.len();
                }
            }
        }
        assert_eq!(encoder.bitrate(), 150_000);
        let kbps = bytes.map(|b| b * 8 / 1000);
        assert!(kbps[1] * 2 < kbps[0], "a tenth of the target should send far less: {kbps:?} kbit/s");
        assert!(kbps[1] < 250, "{kbps:?} kbit/s at a 150 kbit/s target");
    }

    #[test]
    fn the_decoder_waits_for_a_keyframe_and_survives_garbage() {
        let mut encoder = Vp8Encoder::new(EncoderConfig::call(320, 240)).unwrap();
        let mut decoder = Vp8Decoder::new().unwrap();
        let frames = pattern_frames(3, 320, 240);
        let key = encoder.encode(&frames[0], false).unwrap().unwrap();
        let delta = encoder.encode(&frames[1], false).unwrap().unwrap();
        assert!(matches!(decoder.decode(&delta.data), Err(Vp8DecoderError::AwaitingKeyframe)));
        assert!(decoder.decode(&key.data).unwrap().is_some());
        for junk in
            [&[][..], &[0u8; 3][..], &[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xff, 0xff, 0xff, 0xff][..]]
        {
            let _ = decoder.decode(junk);
        }
        let mut truncated = key.data.clone();
        truncated.truncate(key.data.len() / 3);
        let _ = decoder.decode(&truncated);
        // A fresh keyframe brings it back.
        let again = encoder.encode(&frames[2], true).unwrap().unwrap();
        assert!(again.keyframe);
        decoder.mark_loss();
        assert!(decoder.decode(&again.data).unwrap().is_some());
        assert!(!decoder.needs_keyframe());
    }

    #[test]
    fn bad_configs_are_refused() {
        assert!(Vp8Encoder::new(EncoderConfig::call(641, 480)).is_err());
        assert!(Vp8Encoder::new(EncoderConfig { bitrate_bps: 5, ..EncoderConfig::call(640, 480) }).is_err());
        let mut encoder = Vp8Encoder::new(EncoderConfig::call(320, 240)).unwrap();
        let other = pattern_frames(1, 640, 480);
        assert!(matches!(encoder.encode(&other[0], false), Err(EncoderError::SizeMismatch { .. })));
    }
}

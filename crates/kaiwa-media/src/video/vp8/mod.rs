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

mod decoder;
mod encoder;

use vpx_sys::vpx_codec_err_t;

pub use decoder::{Vp8Decoder, Vp8DecoderError};
pub use encoder::{Vp8Encoder, Vp8Frame};

fn vpx_error(what: &str, err: vpx_codec_err_t) -> String {
    // SAFETY: `vpx_codec_err_to_string` returns a pointer to a static C string for any value.
    let text = unsafe { std::ffi::CStr::from_ptr(vpx_sys::vpx_codec_err_to_string(err)) };
    format!("{what}: {}", text.to_string_lossy())
}

fn check(what: &str, err: vpx_codec_err_t) -> Result<(), String> {
    if err == vpx_codec_err_t::VPX_CODEC_OK { Ok(()) } else { Err(vpx_error(what, err)) }
}

/// Whether a VP8 frame is a keyframe: bit 0 of its first byte is 0 (RFC 6386 §9.1).
pub fn is_vp8_keyframe(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 1 == 0)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

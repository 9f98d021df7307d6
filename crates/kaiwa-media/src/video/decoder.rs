//! H.264 decoder: openh264 wrapper for one remote track, with "needs keyframe" bookkeeping.
//!
//! After packet loss, openh264 reports per-picture errors until the next IDR; that is normal. The wrapper
//! keeps going, and [`H264Decoder::needs_keyframe`] tells the caller to send a PLI
//! ([RFC 4585 §6.3.1](https://www.rfc-editor.org/rfc/rfc4585#section-6.3.1)). Until the first IDR (and again
//! after an error) non-IDR access units are not fed to the decoder at all: they could only produce garbage.

use openh264::OpenH264API;
use openh264::decoder::{DecodeOptions, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use thiserror::Error;

use super::frame::I420Frame;
use super::nal::{NAL_IDR, nal_type, split_annex_b};

/// Decoder errors. After any of them [`H264Decoder::needs_keyframe`] is true.
#[derive(Debug, Error)]
pub enum DecoderError {
    /// The access unit is not an IDR and the decoder has no valid reference yet (start, or after loss).
    #[error("waiting for a keyframe")]
    AwaitingKeyframe,
    /// openh264 rejected the bitstream (normal after loss; ask for a keyframe).
    #[error("bitstream error: {0}")]
    Bitstream(String),
    /// The decoded picture could not be copied out (bad dimensions/strides).
    #[error("bad decoded picture: {0}")]
    Picture(String),
    /// The decoder could not be created.
    #[error("decoder init failed: {0}")]
    Init(String),
}

/// An H.264 decoder for one remote video track (one per track; single-threaded).
pub struct H264Decoder {
    inner: Decoder,
    /// A picture handed back through [`H264Decoder::recycle`]: the next one is copied into its buffers.
    spare: Option<I420Frame>,
    needs_keyframe: bool,
    frames_decoded: u64,
    errors: u64,
}

impl std::fmt::Debug for H264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Decoder")
            .field("needs_keyframe", &self.needs_keyframe)
            .field("frames_decoded", &self.frames_decoded)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

impl H264Decoder {
    /// Creates a decoder (no flushing after decode: low delay, baseline has no reordering).
    pub fn new() -> Result<Self, DecoderError> {
        let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
        let inner = Decoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| DecoderError::Init(e.to_string()))?;
        Ok(Self { inner, spare: None, needs_keyframe: true, frames_decoded: 0, errors: 0 })
    }

    /// True until the first IDR has been decoded, and again after any decode error: send a PLI.
    pub fn needs_keyframe(&self) -> bool {
        self.needs_keyframe
    }

    /// Marks the stream as broken (e.g. the depacketizer reported loss), so non-IDR frames are dropped
    /// until the next keyframe.
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

    /// Hands a decoded picture back once the caller is done with it, so the next one reuses its buffers
    /// instead of allocating a new picture every frame.
    pub fn recycle(&mut self, frame: I420Frame) {
        self.spare = Some(frame);
    }

    /// Decodes one Annex-B access unit. `Ok(None)` means no picture came out (e.g. parameter sets only).
    pub fn decode(&mut self, annex_b: &[u8]) -> Result<Option<I420Frame>, DecoderError> {
        let has_idr = split_annex_b(annex_b).iter().any(|nal| nal_type(nal[0]) == NAL_IDR);
        if self.needs_keyframe && !has_idr {
            return Err(DecoderError::AwaitingKeyframe);
        }
        // openh264 takes the length as a C int.
        if annex_b.len() > i32::MAX as usize {
            self.fail();
            return Err(DecoderError::Bitstream("access unit too large".into()));
        }
        let result =
            self.inner.decode_with_options(annex_b, DecodeOptions::new().flush_after_decode(Flush::NoFlush));
        let picture = match result {
            Ok(p) => p,
            Err(e) => {
                self.fail();
                return Err(DecoderError::Bitstream(e.to_string()));
            }
        };
        let Some(yuv) = picture else {
            if has_idr {
                // An IDR that produced no picture and no error: openh264 may still be waiting for more
                // slices; keep asking until a picture appears.
                self.needs_keyframe = true;
            }
            return Ok(None);
        };
        let (w, h) = yuv.dimensions();
        let (ys, us, vs) = yuv.strides();
        let spare = self.spare.take();
        let frame = u32::try_from(w)
            .ok()
            .zip(u32::try_from(h).ok())
            .ok_or_else(|| DecoderError::Picture(format!("{w}x{h}")))
            .and_then(|(w, h)| {
                let planes = ((yuv.y(), ys), (yuv.u(), us), (yuv.v(), vs));
                match spare {
                    Some(mut f) => f.copy_from_strided(w, h, planes.0, planes.1, planes.2).map(|()| f),
                    None => I420Frame::from_strided(w, h, planes.0, planes.1, planes.2),
                }
                .map_err(|e| DecoderError::Picture(e.to_string()))
            });
        match frame {
            Ok(frame) => {
                self.needs_keyframe = false;
                self.frames_decoded += 1;
                Ok(Some(frame))
            }
            Err(e) => {
                self.fail();
                Err(e)
            }
        }
    }

    fn fail(&mut self) {
        self.errors += 1;
        self.needs_keyframe = true;
    }
}

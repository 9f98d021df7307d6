//! The VP8 decoder: one per remote track, single-threaded, asking for a keyframe after loss or an error.

use std::ffi::c_int;
use std::mem::MaybeUninit;
use std::ptr;

use thiserror::Error;
use vpx_sys::{vpx_codec_ctx_t, vpx_image_t, vpx_img_fmt};

use super::{check, is_vp8_keyframe};
use crate::video::frame::I420Frame;

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
        let (_, ch) = crate::video::frame::chroma_size(w, h);
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

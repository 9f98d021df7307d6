//! [`I420Frame`]: the one raw picture format the media pipeline speaks, and conversions to and from it.
//!
//! Colour conversion uses [`yuvutils_rs`]: it is pure Rust (no C toolchain, no bindgen), has SSE/AVX2
//! paths selected at run time and NEON on aarch64, covers RGBA↔I420 and YUYV→I420 directly, builds on stable
//! Rust 1.95, and reports bad dimensions/strides as errors instead of panicking. `dcv-color-primitives` was
//! the alternative; it lacks YUYV input and its API is global-state based. All conversions use BT.601
//! limited range, which is what openh264 and browsers' H.264 default to (no VUI colour description).
//!
//! NV12 → I420 is not a colour conversion (the samples are identical, only the chroma planes are
//! interleaved), so it is a plane copy plus chroma de-interleave.

use thiserror::Error;
use yuvutils_rs::{
    BufferStoreMut, YuvConversionMode, YuvPackedImage, YuvPlanarImage, YuvPlanarImageMut, YuvRange,
    YuvStandardMatrix,
};

/// yuvutils-rs's converters from 4-byte packed pixels (RGBA, BGRA) to I420.
type PackedToI420 = fn(
    &mut YuvPlanarImageMut<'_, u8>,
    &[u8],
    u32,
    YuvRange,
    YuvStandardMatrix,
    YuvConversionMode,
) -> Result<(), yuvutils_rs::YuvError>;

/// Largest width or height accepted for a frame (H.264 level 5.2 tops out at 4096 anyway).
pub const MAX_DIMENSION: u32 = 8192;

/// Errors constructing or converting frames.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Width or height is zero or above [`MAX_DIMENSION`].
    #[error("invalid frame dimensions {width}x{height}")]
    InvalidDimensions {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
    },
    /// A plane or packed buffer has the wrong size.
    #[error("buffer for {what} has {actual} bytes, expected {expected}")]
    BufferSize {
        /// Which buffer.
        what: &'static str,
        /// Bytes expected.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// The format needs even dimensions (4:2:2 packed input).
    #[error("{what} needs an even width, got {width}")]
    OddWidth {
        /// Which format.
        what: &'static str,
        /// Width given.
        width: u32,
    },
    /// The conversion library rejected the input.
    #[error("colour conversion failed: {0}")]
    Conversion(String),
}

/// A planar YUV 4:2:0 picture (I420), tightly packed: Y is `width × height`, U and V are
/// `ceil(width/2) × ceil(height/2)`, each with stride equal to its width.
#[derive(Clone, PartialEq, Eq)]
pub struct I420Frame {
    width: u32,
    height: u32,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

impl std::fmt::Debug for I420Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("I420Frame").field("width", &self.width).field("height", &self.height).finish()
    }
}

fn check_dims(width: u32, height: u32) -> Result<(), FrameError> {
    if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(FrameError::InvalidDimensions { width, height });
    }
    Ok(())
}

fn check_len(what: &'static str, buf: &[u8], expected: usize) -> Result<(), FrameError> {
    if buf.len() != expected {
        return Err(FrameError::BufferSize { what, expected, actual: buf.len() });
    }
    Ok(())
}

fn conv_err(e: yuvutils_rs::YuvError) -> FrameError {
    FrameError::Conversion(e.to_string())
}

/// 2:1 box downsampling of one plane (`src_stride` wide) into `w × h`. Row pairs are walked with
/// `chunks_exact`, which the compiler vectorises; a resampling crate would be overkill for a fixed 2:1 ratio.
fn halve_plane(src: &[u8], src_stride: usize, w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * h];
    for (row, line) in out.chunks_exact_mut(w).enumerate() {
        let top = &src[2 * row * src_stride..][..2 * w];
        let bottom = &src[(2 * row + 1) * src_stride..][..2 * w];
        for ((o, t), b) in line.iter_mut().zip(top.chunks_exact(2)).zip(bottom.chunks_exact(2)) {
            *o = ((u16::from(t[0]) + u16::from(t[1]) + u16::from(b[0]) + u16::from(b[1]) + 2) / 4) as u8;
        }
    }
    out
}

impl I420Frame {
    /// A black frame (Y = 16, U = V = 128, limited range).
    pub fn black(width: u32, height: u32) -> Result<Self, FrameError> {
        check_dims(width, height)?;
        let (cw, ch) = chroma_size(width, height);
        Ok(Self {
            width,
            height,
            y: vec![16; width as usize * height as usize],
            u: vec![128; cw * ch],
            v: vec![128; cw * ch],
        })
    }

    /// Builds a frame from tightly packed planes; sizes are checked.
    pub fn from_planes(
        width: u32,
        height: u32,
        y: Vec<u8>,
        u: Vec<u8>,
        v: Vec<u8>,
    ) -> Result<Self, FrameError> {
        check_dims(width, height)?;
        let (cw, ch) = chroma_size(width, height);
        check_len("Y plane", &y, width as usize * height as usize)?;
        check_len("U plane", &u, cw * ch)?;
        check_len("V plane", &v, cw * ch)?;
        Ok(Self { width, height, y, u, v })
    }

    /// For generators in this crate whose plane sizes are correct by construction.
    pub(crate) fn from_parts_unchecked(width: u32, height: u32, y: Vec<u8>, u: Vec<u8>, v: Vec<u8>) -> Self {
        let (cw, ch) = chroma_size(width, height);
        debug_assert!(
            y.len() == width as usize * height as usize && u.len() == cw * ch && v.len() == cw * ch
        );
        Self { width, height, y, u, v }
    }

    /// The planes as yuvutils-rs's mutable planar image (the destination of every conversion into I420).
    fn planar_mut(&mut self) -> YuvPlanarImageMut<'_, u8> {
        let (cw, _) = chroma_size(self.width, self.height);
        YuvPlanarImageMut {
            y_plane: BufferStoreMut::Borrowed(&mut self.y),
            y_stride: self.width,
            u_plane: BufferStoreMut::Borrowed(&mut self.u),
            u_stride: cw as u32,
            v_plane: BufferStoreMut::Borrowed(&mut self.v),
            v_stride: cw as u32,
            width: self.width,
            height: self.height,
        }
    }

    /// Half the width and height (rounded down to even), each output pixel the average of a 2×2 block: how
    /// the sender steps down when its bitrate is too low for the full picture. `None` below 32×32.
    pub fn downscale_half(&self) -> Option<I420Frame> {
        let (w, h) = ((self.width / 2) & !1, (self.height / 2) & !1);
        if w < 32 || h < 32 {
            return None;
        }
        let (cw, ch) = chroma_size(w, h);
        let (scw, _) = chroma_size(self.width, self.height);
        let y = halve_plane(&self.y, self.width as usize, w as usize, h as usize);
        let u = halve_plane(&self.u, scw, cw, ch);
        let v = halve_plane(&self.v, scw, cw, ch);
        Some(I420Frame::from_parts_unchecked(w, h, y, u, v))
    }

    /// Copies a frame out of strided planes (as decoders and cameras hand them out). Never panics:
    /// short planes or strides below the plane width are errors.
    pub fn from_strided(
        width: u32,
        height: u32,
        (y, y_stride): (&[u8], usize),
        (u, u_stride): (&[u8], usize),
        (v, v_stride): (&[u8], usize),
    ) -> Result<Self, FrameError> {
        let mut frame = Self { width: 0, height: 0, y: Vec::new(), u: Vec::new(), v: Vec::new() };
        frame.copy_from_strided(width, height, (y, y_stride), (u, u_stride), (v, v_stride))?;
        Ok(frame)
    }

    /// Like [`I420Frame::from_strided`], but into this frame, whose buffers are reused (no allocation
    /// when they are already big enough, e.g. for every decoded picture after the first). On error the
    /// frame is left unchanged.
    pub fn copy_from_strided(
        &mut self,
        width: u32,
        height: u32,
        (y, y_stride): (&[u8], usize),
        (u, u_stride): (&[u8], usize),
        (v, v_stride): (&[u8], usize),
    ) -> Result<(), FrameError> {
        check_dims(width, height)?;
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = chroma_size(width, height);
        check_plane("Y plane", y, y_stride, w, h)?;
        check_plane("U plane", u, u_stride, cw, ch)?;
        check_plane("V plane", v, v_stride, cw, ch)?;
        copy_plane(y, y_stride, w, h, &mut self.y);
        copy_plane(u, u_stride, cw, ch, &mut self.u);
        copy_plane(v, v_stride, cw, ch, &mut self.v);
        self.width = width;
        self.height = height;
        Ok(())
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Width and height of the U and V planes.
    pub fn chroma_size(&self) -> (usize, usize) {
        chroma_size(self.width, self.height)
    }
    /// Luma plane (stride = width).
    pub fn y(&self) -> &[u8] {
        &self.y
    }
    /// Cb plane (stride = chroma width).
    pub fn u(&self) -> &[u8] {
        &self.u
    }
    /// Cr plane (stride = chroma width).
    pub fn v(&self) -> &[u8] {
        &self.v
    }
    /// Mutable access to all three planes at once.
    pub fn planes_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        (&mut self.y, &mut self.u, &mut self.v)
    }

    /// Converts to RGBA (alpha 255), `width*height*4` bytes, BT.601 limited range.
    pub fn to_rgba(&self) -> Result<Vec<u8>, FrameError> {
        let mut rgba = vec![0u8; self.width as usize * self.height as usize * 4];
        self.write_rgba(&mut rgba)?;
        Ok(rgba)
    }

    /// Converts into a caller-provided RGBA buffer of exactly `width*height*4` bytes (reuse it per frame).
    pub fn write_rgba(&self, rgba: &mut [u8]) -> Result<(), FrameError> {
        check_len("RGBA output", rgba, self.width as usize * self.height as usize * 4)?;
        let (cw, _) = self.chroma_size();
        let planar = YuvPlanarImage {
            y_plane: &self.y,
            y_stride: self.width,
            u_plane: &self.u,
            u_stride: cw as u32,
            v_plane: &self.v,
            v_stride: cw as u32,
            width: self.width,
            height: self.height,
        };
        yuvutils_rs::yuv420_to_rgba(
            &planar,
            rgba,
            self.width * 4,
            YuvRange::Limited,
            YuvStandardMatrix::Bt601,
        )
        .map_err(conv_err)
    }

    /// Converts tightly packed RGBA (`width*height*4` bytes) to I420.
    pub fn from_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<Self, FrameError> {
        let mut frame = Self::black(width, height)?;
        check_len("RGBA input", rgba, width as usize * height as usize * 4)?;
        let mut planar = frame.planar_mut();
        yuvutils_rs::rgba_to_yuv420(
            &mut planar,
            rgba,
            width * 4,
            YuvRange::Limited,
            YuvStandardMatrix::Bt601,
            YuvConversionMode::Balanced,
        )
        .map_err(conv_err)?;
        Ok(frame)
    }

    /// Overwrites this frame with RGBA/RGBX pixels (`height` rows `stride` bytes apart).
    pub fn fill_from_rgba(&mut self, rgba: &[u8], stride: u32) -> Result<(), FrameError> {
        self.fill_from_packed("RGBA", rgba, stride, yuvutils_rs::rgba_to_yuv420)
    }

    /// Overwrites this frame with BGRA/BGRX pixels (an X11 32-bit screen image: `height` rows `stride` bytes
    /// apart).
    pub fn fill_from_bgra(&mut self, bgra: &[u8], stride: u32) -> Result<(), FrameError> {
        self.fill_from_packed("BGRA", bgra, stride, yuvutils_rs::bgra_to_yuv420)
    }

    fn fill_from_packed(
        &mut self,
        what: &'static str,
        pixels: &[u8],
        stride: u32,
        convert: PackedToI420,
    ) -> Result<(), FrameError> {
        let row = self.width() as usize * 4;
        if (stride as usize) < row {
            return Err(FrameError::BufferSize { what, expected: row, actual: stride as usize });
        }
        check_len(what, pixels, stride as usize * self.height() as usize)?;
        let (range, matrix, mode) =
            (YuvRange::Limited, YuvStandardMatrix::Bt601, YuvConversionMode::Balanced);
        convert(&mut self.planar_mut(), pixels, stride, range, matrix, mode).map_err(conv_err)
    }

    /// Converts packed YUYV 4:2:2 (the usual webcam format, `width*height*2` bytes) to I420.
    pub fn from_yuyv(width: u32, height: u32, yuyv: &[u8]) -> Result<Self, FrameError> {
        if !width.is_multiple_of(2) {
            return Err(FrameError::OddWidth { what: "YUYV", width });
        }
        let mut frame = Self::black(width, height)?;
        check_len("YUYV input", yuyv, width as usize * height as usize * 2)?;
        let packed = YuvPackedImage { yuy: yuyv, yuy_stride: width * 2, width, height };
        let mut planar = frame.planar_mut();
        yuvutils_rs::yuyv422_to_yuv420(&mut planar, &packed).map_err(conv_err)?;
        Ok(frame)
    }

    /// Converts NV12 (Y plane then interleaved UV plane, both stride = width rounded up to even) to I420.
    pub fn from_nv12(width: u32, height: u32, nv12: &[u8]) -> Result<Self, FrameError> {
        check_dims(width, height)?;
        let (cw, ch) = chroma_size(width, height);
        let y_len = width as usize * height as usize;
        let uv_len = cw * 2 * ch;
        check_len("NV12 input", nv12, y_len + uv_len)?;
        let (y, uv) = nv12.split_at(y_len);
        let mut u = Vec::with_capacity(cw * ch);
        let mut v = Vec::with_capacity(cw * ch);
        for pair in uv.chunks_exact(2) {
            u.push(pair[0]);
            v.push(pair[1]);
        }
        Self::from_planes(width, height, y.to_vec(), u, v)
    }

    /// All three planes concatenated (Y, U, V): the layout of a Y4M frame or a raw `.yuv` file.
    pub fn to_contiguous(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.y.len() + self.u.len() * 2);
        out.extend_from_slice(&self.y);
        out.extend_from_slice(&self.u);
        out.extend_from_slice(&self.v);
        out
    }
}

/// Chroma plane size for a 4:2:0 picture of the given size (rounded up for odd dimensions).
pub fn chroma_size(width: u32, height: u32) -> (usize, usize) {
    (width.div_ceil(2) as usize, height.div_ceil(2) as usize)
}

/// Checks that `h` rows of `w` bytes at `stride` fit in `src`.
fn check_plane(what: &'static str, src: &[u8], stride: usize, w: usize, h: usize) -> Result<(), FrameError> {
    let needed = if h == 0 { 0 } else { stride.saturating_mul(h - 1).saturating_add(w) };
    if stride < w || src.len() < needed {
        return Err(FrameError::BufferSize { what, expected: needed.max(w * h), actual: src.len() });
    }
    Ok(())
}

/// Copies `h` rows of `w` bytes at `stride` into `out` (cleared first, capacity kept). Call
/// [`check_plane`] first: rows that do not fit are skipped rather than panicking.
fn copy_plane(src: &[u8], stride: usize, w: usize, h: usize, out: &mut Vec<u8>) {
    out.clear();
    out.reserve(w * h);
    for row in src.chunks(stride.max(1)).take(h) {
        if let Some(row) = row.get(..w) {
            out.extend_from_slice(row);
        }
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;

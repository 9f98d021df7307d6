//! Synthetic video source: a moving pattern that carries a frame counter and a capture timestamp in its
//! pixels, so that end-to-end tests can check order, loss and latency after lossy H.264.
//!
//! The stamp is a strip of large black/white luma blocks along the top of the picture, aligned to the
//! 16×16 macroblock grid, holding 112 bits: the `u32` counter, the `u64` capture time in microseconds and a
//! CRC-16/CCITT over both. A reader averages the centre of each block; an ambiguous block or a CRC mismatch
//! gives `None`, so a misread is detected rather than silently wrong. Below the strip a smooth gradient
//! scrolls and a box moves, so the encoder has real motion to code.

use thiserror::Error;

use super::frame::I420Frame;

/// Bits in a stamp: counter (32) + capture time (64) + CRC-16.
const STAMP_BITS: usize = 32 + 64 + 16;
const WHITE: u8 = 235;
const BLACK: u8 = 16;

/// The data embedded in each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Frame counter.
    pub counter: u32,
    /// Capture timestamp in microseconds (any epoch the caller likes).
    pub capture_us: u64,
}

/// Test-pattern errors.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// The picture is too small (or odd-sized) to carry the stamp.
    #[error("{width}x{height} cannot carry a stamp (need even dimensions, at least 64x64)")]
    TooSmall {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
}

/// Generator and reader for one picture size.
#[derive(Debug, Clone)]
pub struct TestPattern {
    width: u32,
    height: u32,
    block: u32,
    per_row: u32,
    strip_height: u32,
}

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF).
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xffff;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

fn stamp_bytes(stamp: Stamp) -> [u8; 14] {
    let mut b = [0u8; 14];
    b[..4].copy_from_slice(&stamp.counter.to_be_bytes());
    b[4..12].copy_from_slice(&stamp.capture_us.to_be_bytes());
    let crc = crc16(&b[..12]);
    b[12..].copy_from_slice(&crc.to_be_bytes());
    b
}

/// Triangle wave with period 512, output 0..=255.
fn tri(v: u32) -> u32 {
    let p = v % 512;
    if p < 256 { p } else { 511 - p }
}

impl TestPattern {
    /// A pattern for `width × height` frames (even, at least 64×64). Blocks are 16 px where the strip fits
    /// in the top half of the picture, else 8 px, else 4 px (tiny pictures: will not survive lossy coding).
    pub fn new(width: u32, height: u32) -> Result<Self, PatternError> {
        let err = PatternError::TooSmall { width, height };
        if width < 64
            || height < 64
            || !width.is_multiple_of(2)
            || !height.is_multiple_of(2)
            || width > 8192
            || height > 8192
        {
            return Err(err);
        }
        for block in [16u32, 8, 4] {
            let per_row = width / block;
            let rows = (STAMP_BITS as u32).div_ceil(per_row);
            let strip_height = rows * block;
            if strip_height <= height / 2 {
                return Ok(Self { width, height, block, per_row, strip_height });
            }
        }
        Err(err)
    }

    /// Width of the frames.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height of the frames.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Rows of the stamp strip at the top of every frame.
    pub fn strip_height(&self) -> u32 {
        self.strip_height
    }

    /// Renders frame `counter` with the given capture timestamp.
    pub fn frame(&self, counter: u32, capture_us: u64) -> I420Frame {
        let (w, h) = (self.width as usize, self.height as usize);
        let c = (w / 2) * (h / 2);
        // Plane sizes are right by construction (even dimensions checked in `new`).
        let mut frame =
            I420Frame::from_parts_unchecked(self.width, self.height, vec![0; w * h], vec![0; c], vec![0; c]);
        self.render_into(&mut frame, counter, capture_us);
        frame
    }

    /// Renders frame `counter` into `frame`, reusing its buffers (a frame of another size is replaced): a
    /// source that gets its frames back renders without allocating. Every sample is written.
    pub fn render_into(&self, frame: &mut I420Frame, counter: u32, capture_us: u64) {
        let (w, h) = (self.width as usize, self.height as usize);
        let (cw, ch) = ((w / 2), (h / 2));
        if frame.width() != self.width || frame.height() != self.height {
            *frame = I420Frame::from_parts_unchecked(
                self.width,
                self.height,
                vec![0; w * h],
                vec![0; cw * ch],
                vec![0; cw * ch],
            );
        }
        let (y, u, v) = frame.planes_mut();
        let shift = counter.wrapping_mul(4);
        let strip = self.strip_height as usize;
        // The stamp strip: black background (0, below the legal range, for the reader's contrast) in grey.
        y[..strip * w].fill(0);
        u[..strip / 2 * cw].fill(128);
        v[..strip / 2 * cw].fill(128);
        // Moving box: 64x64, bouncing horizontally, below the strip.
        let box_size = 64usize.min(w / 4).min((h - strip) / 2).max(8);
        let travel = (w - box_size).max(1) as u32;
        let bx = {
            let p = counter.wrapping_mul(6) % (2 * travel);
            (if p < travel { p } else { 2 * travel - p }) as usize
        };
        let by = strip + (h - strip - box_size) / 2;
        // The gradient is periodic (512) along `col + row / 2 + shift`: every row is a window into one
        // precomputed period, so rendering is row copies rather than per-pixel arithmetic.
        let period: Vec<u8> = (0..512u32).map(|i| (40 + tri(i) * 160 / 255) as u8).collect();
        let ring: Vec<u8> = period.iter().copied().cycle().take(w + 512).collect();
        for (row, line) in y.chunks_exact_mut(w).enumerate().skip(strip) {
            let start = ((row as u32 / 2).wrapping_add(shift) % 512) as usize;
            line.copy_from_slice(&ring[start..start + w]);
            if (by..by + box_size).contains(&row) {
                line[bx..bx + box_size].fill(WHITE);
            }
        }
        // Chroma: U varies by row only, V by column only.
        let v_row: Vec<u8> = (0..cw as u32)
            .map(|col| (88 + tri((col * 3 + 256).wrapping_add(shift / 2)) * 80 / 255) as u8)
            .collect();
        for (row, (lu, lv)) in u.chunks_exact_mut(cw).zip(v.chunks_exact_mut(cw)).enumerate().skip(strip / 2)
        {
            lu.fill((88 + tri((row as u32 * 2).wrapping_add(shift)) * 80 / 255) as u8);
            lv.copy_from_slice(&v_row);
        }
        let bytes = stamp_bytes(Stamp { counter, capture_us });
        let b = self.block as usize;
        for bit in 0..STAMP_BITS {
            let value = bytes[bit / 8] >> (7 - bit % 8) & 1;
            let (bx, by) = ((bit % self.per_row as usize) * b, (bit / self.per_row as usize) * b);
            let luma = if value == 1 { WHITE } else { BLACK };
            for line in y.chunks_exact_mut(w).skip(by).take(b) {
                line[bx..bx + b].fill(luma);
            }
        }
    }

    /// Reads the stamp back, or `None` if the frame has another size, a block is ambiguous or the CRC fails.
    pub fn read_stamp(&self, frame: &I420Frame) -> Option<Stamp> {
        if frame.width() != self.width || frame.height() != self.height {
            return None;
        }
        let w = self.width as usize;
        let b = self.block as usize;
        let (lo, hi) = (b / 4, b - b / 4);
        let mut bytes = [0u8; 14];
        for bit in 0..STAMP_BITS {
            let (x0, y0) = ((bit % self.per_row as usize) * b, (bit / self.per_row as usize) * b);
            let mut sum = 0u32;
            for yy in y0 + lo..y0 + hi {
                let row = frame.y().get(yy * w + x0 + lo..yy * w + x0 + hi)?;
                sum += row.iter().map(|&p| u32::from(p)).sum::<u32>();
            }
            let mean = sum / ((hi - lo) * (hi - lo)) as u32;
            let value = match mean {
                0..=90 => 0,
                160..=255 => 1,
                _ => return None,
            };
            bytes[bit / 8] |= value << (7 - bit % 8);
        }
        let crc = u16::from_be_bytes([bytes[12], bytes[13]]);
        if crc16(&bytes[..12]) != crc {
            return None;
        }
        Some(Stamp {
            counter: u32::from_be_bytes(bytes[..4].try_into().ok()?),
            capture_us: u64::from_be_bytes(bytes[4..12].try_into().ok()?),
        })
    }
}

/// Reads stamps from pictures of any size: a receiver's pictures change size when the sender adapts, and a
/// shared screen has one of its own. The pattern of the last size is kept.
#[derive(Debug, Default)]
pub struct StampReader {
    pattern: Option<TestPattern>,
}

impl StampReader {
    /// The stamp of `frame`, read with the test pattern of its size (`None` when there is none or no stamp).
    pub fn read(&mut self, frame: &I420Frame) -> Option<Stamp> {
        let size = (frame.width(), frame.height());
        if self.pattern.as_ref().is_none_or(|p| (p.width, p.height) != size) {
            self.pattern = TestPattern::new(size.0, size.1).ok();
        }
        self.pattern.as_ref()?.read_stamp(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_reader_follows_the_picture_size() {
        let mut reader = StampReader::default();
        for (w, h, c) in [(640, 480, 1), (320, 240, 2), (640, 480, 3)] {
            let f = TestPattern::new(w, h).unwrap().frame(c, 42);
            assert_eq!(reader.read(&f), Some(Stamp { counter: c, capture_us: 42 }), "{w}x{h}");
        }
        assert_eq!(reader.read(&I420Frame::black(30, 30).unwrap()), None);
    }

    #[test]
    fn stamp_round_trips_raw() {
        for (w, h) in [(640, 480), (1280, 720), (64, 64), (160, 120), (320, 240)] {
            let p = TestPattern::new(w, h).unwrap();
            for (c, t) in [(0u32, 0u64), (1, 33_333), (u32::MAX, u64::MAX), (12345, 1_700_000_000_000_000)] {
                let f = p.frame(c, t);
                assert_eq!(p.read_stamp(&f), Some(Stamp { counter: c, capture_us: t }), "{w}x{h}");
                // Rendering over an older frame (or one of another size) gives the same picture.
                let mut reused = p.frame(c.wrapping_add(17), 5);
                p.render_into(&mut reused, c, t);
                assert_eq!(reused, f);
                let mut other = I420Frame::black(96, 64).unwrap();
                p.render_into(&mut other, c, t);
                assert_eq!(other, f);
            }
        }
    }

    #[test]
    fn corrupted_stamp_is_rejected() {
        let p = TestPattern::new(320, 240).unwrap();
        let mut f = p.frame(7, 99);
        // Flip the first bit block to the opposite colour.
        let (y, _, _) = f.planes_mut();
        let flip = if y[0] > 128 { BLACK } else { WHITE };
        for row in y.chunks_exact_mut(320).take(16) {
            row[..16].fill(flip);
        }
        assert_eq!(p.read_stamp(&f), None);
        assert!(TestPattern::new(30, 30).is_err());
        assert!(TestPattern::new(65, 64).is_err());
    }

    #[test]
    fn frames_differ_over_time() {
        let p = TestPattern::new(320, 240).unwrap();
        let a = p.frame(1, 0);
        let b = p.frame(2, 0);
        assert!(crate::video::psnr(&a, &b).unwrap() < 40.0);
    }
}

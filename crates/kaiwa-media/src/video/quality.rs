//! Objective picture quality: PSNR.

use super::frame::I420Frame;

/// Peak signal-to-noise ratio over the luma plane, in dB (`f64::INFINITY` for identical planes).
/// `None` if the frames differ in size.
pub fn psnr(a: &I420Frame, b: &I420Frame) -> Option<f64> {
    if a.width() != b.width() || a.height() != b.height() {
        return None;
    }
    Some(plane_psnr(a.y(), b.y()))
}

/// Luma PSNR over the rows from `first_row` down (e.g. below a test pattern's stamp strip), in dB.
/// `None` if the frames differ in size.
pub fn psnr_below(a: &I420Frame, b: &I420Frame, first_row: u32) -> Option<f64> {
    if a.width() != b.width() || a.height() != b.height() {
        return None;
    }
    let from = (first_row.min(a.height()) * a.width()) as usize;
    Some(plane_psnr(&a.y()[from..], &b.y()[from..]))
}

/// PSNR over all three planes together (6:1:1 weighting by sample count), in dB.
pub fn psnr_yuv(a: &I420Frame, b: &I420Frame) -> Option<f64> {
    if a.width() != b.width() || a.height() != b.height() {
        return None;
    }
    let sse = sse(a.y(), b.y()) + sse(a.u(), b.u()) + sse(a.v(), b.v());
    let n = a.y().len() + a.u().len() + a.v().len();
    Some(from_mse(sse as f64 / n.max(1) as f64))
}

/// `frame`'s luma scaled to `width × height` (bilinear, pixel centres aligned), with grey chroma: to compare
/// a picture the sender scaled down with its full-size original ([`psnr`] is luma only), as a viewer sees
/// it enlarged to the same tile. The same size is a plain copy.
pub fn scaled_luma(frame: &I420Frame, width: u32, height: u32) -> I420Frame {
    let (w, h) = (width.max(2) & !1, height.max(2) & !1);
    let (sw, sh) = (frame.width() as usize, frame.height() as usize);
    let src = frame.y();
    let mut y = vec![0u8; w as usize * h as usize];
    if (sw, sh) == (w as usize, h as usize) {
        y.copy_from_slice(src);
    } else {
        let (fx, fy) = (sw as f32 / w as f32, sh as f32 / h as f32);
        for (row, line) in y.chunks_exact_mut(w as usize).enumerate() {
            let sy = ((row as f32 + 0.5) * fy - 0.5).clamp(0.0, (sh - 1) as f32);
            let (y0, wy) = (sy as usize, sy.fract());
            let y1 = (y0 + 1).min(sh - 1);
            for (col, out) in line.iter_mut().enumerate() {
                let sx = ((col as f32 + 0.5) * fx - 0.5).clamp(0.0, (sw - 1) as f32);
                let (x0, wx) = (sx as usize, sx.fract());
                let x1 = (x0 + 1).min(sw - 1);
                let at = |yy: usize, xx: usize| f32::from(src[yy * sw + xx]);
                let top = at(y0, x0) * (1.0 - wx) + at(y0, x1) * wx;
                let bottom = at(y1, x0) * (1.0 - wx) + at(y1, x1) * wx;
                *out = (top * (1.0 - wy) + bottom * wy).round() as u8;
            }
        }
    }
    let c = (w as usize / 2) * (h as usize / 2);
    I420Frame::from_parts_unchecked(w, h, y, vec![128; c], vec![128; c])
}

fn sse(a: &[u8], b: &[u8]) -> u64 {
    a.iter().zip(b).map(|(x, y)| u64::from(x.abs_diff(*y)).pow(2)).sum()
}

/// PSNR of one plane (or a run of its rows) against another of the same length, in dB (`f64::INFINITY`
/// when identical): for pictures read back from elsewhere (a browser's canvas) or a part of a picture.
pub fn plane_psnr(a: &[u8], b: &[u8]) -> f64 {
    from_mse(sse(a, b) as f64 / a.len().max(1) as f64)
}

fn from_mse(mse: f64) -> f64 {
    if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0 * 255.0 / mse).log10() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::TestPattern;

    #[test]
    fn a_halved_pattern_scaled_back_keeps_its_stamp_and_most_of_its_detail() {
        let pattern = TestPattern::new(640, 480).unwrap();
        let original = pattern.frame(23, 0);
        let same = scaled_luma(&original, 640, 480);
        assert_eq!(psnr(&same, &original), Some(f64::INFINITY));
        let back = scaled_luma(&original.downscale_half().unwrap(), 640, 480);
        assert_eq!(pattern.read_stamp(&back).map(|s| s.counter), Some(23));
        let db = psnr_below(&back, &original, pattern.strip_height()).unwrap();
        // assets/web/bench.js's `lumaPsnr` gives 41.23 dB for the same frame halved by 2×2 averages.
        assert!((db - 41.23).abs() < 0.2, "{db} dB");
    }
}

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

/// PSNR over all three planes together (6:1:1 weighting by sample count), in dB.
pub fn psnr_yuv(a: &I420Frame, b: &I420Frame) -> Option<f64> {
    if a.width() != b.width() || a.height() != b.height() {
        return None;
    }
    let sse = sse(a.y(), b.y()) + sse(a.u(), b.u()) + sse(a.v(), b.v());
    let n = a.y().len() + a.u().len() + a.v().len();
    Some(from_mse(sse as f64 / n.max(1) as f64))
}

fn sse(a: &[u8], b: &[u8]) -> u64 {
    a.iter().zip(b).map(|(x, y)| u64::from(x.abs_diff(*y)).pow(2)).sum()
}

fn plane_psnr(a: &[u8], b: &[u8]) -> f64 {
    from_mse(sse(a, b) as f64 / a.len().max(1) as f64)
}

fn from_mse(mse: f64) -> f64 {
    if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0 * 255.0 / mse).log10() }
}

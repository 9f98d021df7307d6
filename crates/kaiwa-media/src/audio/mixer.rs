//! Mixing several participants into one output stream, with soft clipping instead of wrap-around or hard
//! clipping when loud talkers overlap.

/// Level (fraction of full scale) below which [`soft_clip`] is the identity.
pub const SOFT_CLIP_KNEE: f32 = 0.8;

/// Soft clipper on a normalised sample (1.0 = full scale): linear up to [`SOFT_CLIP_KNEE`], then a tanh
/// curve that approaches but never exceeds ±1.0.
pub fn soft_clip(x: f32) -> f32 {
    let a = x.abs();
    if !a.is_finite() {
        return if x.is_nan() { 0.0 } else { x.signum() };
    }
    if a <= SOFT_CLIP_KNEE {
        return x;
    }
    let room = 1.0 - SOFT_CLIP_KNEE;
    let y = SOFT_CLIP_KNEE + room * ((a - SOFT_CLIP_KNEE) / room).tanh();
    y.copysign(x)
}

/// Sums frames of several participants, with a gain per input.
#[derive(Debug, Clone)]
pub struct Mixer {
    acc: Vec<f32>,
}

impl Mixer {
    /// A mixer for frames of `frame_len` samples.
    pub fn new(frame_len: usize) -> Self {
        Self { acc: vec![0.0; frame_len] }
    }

    /// Mixes `inputs` (each `(samples, gain)`) into `out`. Inputs shorter than `out` are treated as padded
    /// with silence; longer ones are truncated.
    pub fn mix(&mut self, inputs: &[(&[i16], f32)], out: &mut [i16]) {
        self.acc.clear();
        self.acc.resize(out.len(), 0.0);
        for (samples, gain) in inputs {
            let gain = if gain.is_finite() { *gain } else { 0.0 };
            for (a, &s) in self.acc.iter_mut().zip(samples.iter()) {
                *a += f32::from(s) / 32768.0 * gain;
            }
        }
        for (o, &a) in out.iter_mut().zip(&self.acc) {
            *o = (soft_clip(a) * 32767.0).round() as i16;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_and_soft_clips() {
        let mut m = Mixer::new(4);
        let a = [1000i16, -1000, 30000, -30000];
        let b = [2000i16, 500, 30000, -30000];
        let mut out = [0i16; 4];
        m.mix(&[(&a, 1.0), (&b, 1.0)], &mut out);
        assert_eq!(&out[..2], &[3000, -500]);
        assert!(out[2] > 26000);
        assert!(out[3] < -26000);
        assert_eq!(soft_clip(0.5), 0.5);
        assert!(soft_clip(100.0) <= 1.0 && soft_clip(-100.0) >= -1.0);
        assert_eq!(soft_clip(f32::NAN), 0.0);
        // Short input, NaN gain.
        m.mix(&[(&a[..1], f32::NAN)], &mut out);
        assert_eq!(out, [0; 4]);
    }
}

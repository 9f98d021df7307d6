//! Test tone source: a sine at a given frequency, optionally with periodic full-scale bursts ("clicks")
//! whose onsets [`crate::audio::analysis::detect_onsets`] finds again, for latency measurements; and
//! [`speech_like`] noise for echo-cancellation tests.

/// Sine generator with optional periodic bursts. Phase is continuous across calls.
#[derive(Debug, Clone)]
pub struct ToneGenerator {
    sample_rate: u32,
    freq_hz: f64,
    amplitude: f64,
    phase: f64,
    position: u64,
    burst: Option<(u64, u64)>,
}

impl ToneGenerator {
    /// A sine of `freq_hz` at `amplitude` (0.0..=1.0 of full scale).
    pub fn new(freq_hz: f64, sample_rate: u32, amplitude: f64) -> Self {
        let amplitude = if amplitude.is_finite() { amplitude.clamp(0.0, 1.0) } else { 0.0 };
        let freq_hz = if freq_hz.is_finite() { freq_hz.max(0.0) } else { 0.0 };
        Self { sample_rate: sample_rate.max(1), freq_hz, amplitude, phase: 0.0, position: 0, burst: None }
    }

    /// Silence except for a burst of the tone, `burst_ms` long, every `period_ms` (first one at 0).
    pub fn with_bursts(mut self, period_ms: u32, burst_ms: u32) -> Self {
        let per_ms = u64::from(self.sample_rate) / 1000;
        let period = (u64::from(period_ms) * per_ms).max(1);
        self.burst = Some((period, (u64::from(burst_ms) * per_ms).min(period)));
        self
    }

    /// Samples generated so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Fills `out` with the next samples.
    pub fn fill(&mut self, out: &mut [i16]) {
        let step = std::f64::consts::TAU * self.freq_hz / f64::from(self.sample_rate);
        for s in out {
            let on = self.burst.is_none_or(|(period, len)| self.position % period < len);
            let v = if on { self.phase.sin() * self.amplitude } else { 0.0 };
            *s = (v * 32767.0).round() as i16;
            self.phase = (self.phase + step) % std::f64::consts::TAU;
            self.position += 1;
        }
    }

    /// The next `n` samples as a vector.
    pub fn take(&mut self, n: usize) -> Vec<i16> {
        let mut v = vec![0; n];
        self.fill(&mut v);
        v
    }
}

/// A deterministic speech-like test signal: low-passed noise in "syllables" of 80–300 ms (a sine envelope,
/// loudness 40–100 % of `peak`, a different spectral tilt each) separated by 30–200 ms pauses. Unlike a
/// tone it is neither stationary (noise suppression leaves it alone) nor periodic (an echo canceller cannot
/// cheat with a comb filter). Same `seed`, same samples.
pub fn speech_like(len: usize, sample_rate: u32, seed: u64, peak: f64) -> Vec<i16> {
    let peak = if peak.is_finite() { peak.clamp(0.0, 1.0) } else { 0.0 };
    let rate = f64::from(sample_rate.max(1));
    // xorshift64* (the state must not be 0).
    let mut state = seed | 1;
    let mut uniform = move |lo: f64, hi: f64| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let unit = (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * unit
    };
    let mut out = Vec::with_capacity(len);
    let (mut lp1, mut lp2) = (0.0f64, 0.0f64);
    while out.len() < len {
        let syllable = ((uniform(0.08, 0.3) * rate) as usize).max(1);
        let pause = (uniform(0.03, 0.2) * rate) as usize;
        let loudness = peak * uniform(0.4, 1.0);
        let alpha = uniform(0.1, 0.4);
        for i in 0..syllable {
            let envelope = (std::f64::consts::PI * i as f64 / syllable as f64).sin();
            lp1 += alpha * (uniform(-1.0, 1.0) - lp1);
            lp2 += alpha * (lp1 - lp2);
            // Two one-pole stages take white noise down to roughly a third of its amplitude.
            let v = (loudness * envelope * lp2 * 3.0).clamp(-1.0, 1.0);
            out.push((v * 32767.0).round() as i16);
        }
        out.extend(std::iter::repeat_n(0, pause));
    }
    out.truncate(len);
    out
}

//! Test tone source: a sine at a given frequency, optionally with periodic full-scale bursts ("clicks")
//! whose onsets [`crate::audio::analysis::detect_onsets`] finds again, for latency measurements.

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

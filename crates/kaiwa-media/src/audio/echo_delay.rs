//! Coarse echo-path delay estimation, so the echo canceller's far-end reference can be delayed to match.
//!
//! AEC3 finds the delay between far end and echo itself, but only up to about half a second; WebRTC
//! relies on the platform reporting its audio latency for the rest. Ours is whatever the speaker's queue,
//! the sound server, the room and the microphone's queue add up to (80–100 ms on the test machine's
//! PulseAudio, far more with Bluetooth or a busy sound server), and it changes when a device is replugged.
//! So we measure it: the loudness envelopes (one value per 10 ms) of the far end and of the microphone
//! are cross-correlated over the last 2 s for lags up to 1 s, twice a second. A lag that correlates clearly (normalised correlation ≥ [`MIN_CORRELATION`]) in two
//! estimates in a row becomes the new delay. Silence, near-end talk or no echo at all (headphones) give no
//! clear peak and leave the delay where it was.
//!
//! Lags count chunks in the order the two streams reach the processor: a capture chunk is compared with
//! the far-end chunk that had arrived `lag` chunks before it.

use std::collections::VecDeque;

/// Longest echo delay looked for, in 10 ms chunks.
pub const MAX_LAG_CHUNKS: usize = 100;
/// Correlation window, in chunks.
const WINDOW_CHUNKS: usize = 200;
/// Chunks between estimates.
const EVERY_CHUNKS: u64 = 50;
/// Normalised correlation a peak needs to count.
pub const MIN_CORRELATION: f64 = 0.6;
/// Two estimates agree if within this many chunks.
const AGREE_CHUNKS: usize = 2;

/// Envelope cross-correlation delay estimator (see the module docs). Sans-IO, allocation-free after `new`.
#[derive(Debug)]
pub struct EchoDelayEstimator {
    /// Far-end envelope by arrival count, a ring of `MAX_LAG_CHUNKS + WINDOW_CHUNKS + 1`.
    render: Vec<f32>,
    rendered: u64,
    /// (capture envelope, far-end chunks arrived before it), the last `WINDOW_CHUNKS`.
    capture: VecDeque<(f32, u64)>,
    captured: u64,
    candidate: Option<usize>,
    delay: Option<usize>,
    correlations: Vec<f64>,
}

impl Default for EchoDelayEstimator {
    fn default() -> Self {
        Self::new()
    }
}

impl EchoDelayEstimator {
    pub fn new() -> Self {
        EchoDelayEstimator {
            render: vec![0.0; MAX_LAG_CHUNKS + WINDOW_CHUNKS + 1],
            rendered: 0,
            capture: VecDeque::with_capacity(WINDOW_CHUNKS + 1),
            captured: 0,
            candidate: None,
            delay: None,
            correlations: vec![0.0; MAX_LAG_CHUNKS + 1],
        }
    }

    /// The estimated delay in chunks, once there has been a clear one.
    pub fn delay_chunks(&self) -> Option<usize> {
        self.delay
    }

    /// One 10 ms far-end chunk arrived.
    pub fn push_render(&mut self, chunk: &[i16]) {
        let len = self.render.len();
        self.render[(self.rendered % len as u64) as usize] = envelope(chunk);
        self.rendered += 1;
    }

    /// One 10 ms microphone chunk arrived (before processing). Returns the delay when it changed.
    pub fn push_capture(&mut self, chunk: &[i16]) -> Option<usize> {
        if self.capture.len() == WINDOW_CHUNKS {
            self.capture.pop_front();
        }
        self.capture.push_back((envelope(chunk), self.rendered));
        self.captured += 1;
        if !self.captured.is_multiple_of(EVERY_CHUNKS) || self.capture.len() < WINDOW_CHUNKS {
            return None;
        }
        let lag = self.estimate()?;
        let agrees = self.candidate.is_some_and(|c| c.abs_diff(lag) <= AGREE_CHUNKS);
        self.candidate = Some(lag);
        if agrees && self.delay.is_none_or(|d| d.abs_diff(lag) > AGREE_CHUNKS) {
            self.delay = Some(lag);
            return Some(lag);
        }
        None
    }

    /// The best-correlating lag of the current window, if it is clear.
    fn estimate(&mut self) -> Option<usize> {
        let len = self.render.len() as u64;
        let oldest_kept = self.rendered.saturating_sub(len);
        let n = self.capture.len() as f64;
        let mean_c = self.capture.iter().map(|&(c, _)| f64::from(c)).sum::<f64>() / n;
        let var_c = self.capture.iter().map(|&(c, _)| (f64::from(c) - mean_c).powi(2)).sum::<f64>();
        if var_c <= f64::EPSILON {
            return None;
        }
        for (lag, out) in self.correlations.iter_mut().enumerate() {
            *out = f64::NAN;
            let lag = lag as u64;
            // Every chunk of the window needs its far-end partner, still in the ring and already arrived.
            if self.capture.iter().any(|&(_, r)| r < lag + 1 || r - lag - 1 < oldest_kept) {
                continue;
            }
            let partner = |r: u64| f64::from(self.render[((r - lag - 1) % len) as usize]);
            let mean_r = self.capture.iter().map(|&(_, r)| partner(r)).sum::<f64>() / n;
            let (mut cov, mut var_r) = (0.0, 0.0);
            for &(c, r) in &self.capture {
                let dr = partner(r) - mean_r;
                cov += (f64::from(c) - mean_c) * dr;
                var_r += dr * dr;
            }
            if var_r > f64::EPSILON {
                *out = cov / (var_c * var_r).sqrt();
            }
        }
        let (lag, best) = self
            .correlations
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_finite())
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        (*best >= MIN_CORRELATION).then_some(lag)
    }
}

/// Mean absolute amplitude of a chunk.
fn envelope(chunk: &[i16]) -> f32 {
    if chunk.is_empty() {
        return 0.0;
    }
    (chunk.iter().map(|&s| f64::from(s).abs()).sum::<f64>() / chunk.len() as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::speech_like;

    const CHUNK: usize = 480;

    /// Feeds `far` as render and `far` delayed by `delay` chunks (× `gain`) as capture, interleaved one
    /// chunk each (render first); returns the estimates that changed.
    fn run(delay: usize, gain: f64, far: &[i16]) -> Vec<usize> {
        let mut e = EchoDelayEstimator::new();
        let mut changes = Vec::new();
        let chunks = far.len() / CHUNK;
        for k in 0..chunks {
            e.push_render(&far[k * CHUNK..(k + 1) * CHUNK]);
            let capture: Vec<i16> = if k >= delay {
                let echo = &far[(k - delay) * CHUNK..(k - delay + 1) * CHUNK];
                echo.iter().map(|&s| (f64::from(s) * gain) as i16).collect()
            } else {
                vec![0; CHUNK]
            };
            if let Some(d) = e.push_capture(&capture) {
                changes.push(d);
            }
        }
        changes
    }

    #[test]
    fn finds_short_and_long_delays() {
        let far = speech_like(48_000 * 6, 48_000, 7, 0.5);
        // Capture chunk k holds far-end chunk k - delay: `delay` chunks before the newest far-end chunk.
        for delay in [0, 4, 30, 75] {
            let changes = run(delay, 0.3, &far);
            assert_eq!(changes, vec![delay], "delay {delay} chunks");
        }
    }

    #[test]
    fn unrelated_capture_gives_no_estimate() {
        let far = speech_like(48_000 * 6, 48_000, 7, 0.5);
        let near = speech_like(48_000 * 6, 48_000, 8, 0.5);
        let mut e = EchoDelayEstimator::new();
        for k in 0..far.len() / CHUNK {
            e.push_render(&far[k * CHUNK..(k + 1) * CHUNK]);
            assert_eq!(e.push_capture(&near[k * CHUNK..(k + 1) * CHUNK]), None);
        }
        assert_eq!(e.delay_chunks(), None);
        // Silence everywhere: nothing either.
        let mut e = EchoDelayEstimator::new();
        for _ in 0..600 {
            e.push_render(&[0; CHUNK]);
            assert_eq!(e.push_capture(&[0; CHUNK]), None);
        }
    }
}

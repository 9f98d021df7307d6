use std::time::{Duration, Instant};

use kaiwa_media::audio::{FRAME_SAMPLES, SAMPLE_RATE, ToneGenerator};
use kaiwa_media::video::{I420Frame, TestPattern};

use crate::{AudioSource, CapturedFrame, Pacer, SourceError, VideoSource, wall_clock_us};

/// The moving test pattern, stamped with a frame counter and the wall-clock capture time, paced at `fps`.
pub struct TestPatternSource {
    pattern: TestPattern,
    fps: u32,
    pacer: Pacer,
    counter: u32,
    /// A frame given back by the consumer, rendered over next.
    spare: Option<I420Frame>,
}

impl TestPatternSource {
    pub fn new(width: u32, height: u32, fps: u32) -> Result<Self, SourceError> {
        let pattern = TestPattern::new(width, height).map_err(|e| SourceError::Media(e.to_string()))?;
        let fps = fps.clamp(1, 120);
        Ok(TestPatternSource {
            pattern,
            fps,
            pacer: Pacer::new(Instant::now(), Duration::from_secs(1) / fps),
            counter: 0,
            spare: None,
        })
    }

    /// The pattern generator, to read stamps back from received frames.
    pub fn pattern(&self) -> &TestPattern {
        &self.pattern
    }
}

impl VideoSource for TestPatternSource {
    fn describe(&self) -> String {
        format!("test pattern {}x{}@{}", self.pattern.width(), self.pattern.height(), self.fps)
    }

    fn size(&self) -> (u32, u32) {
        (self.pattern.width(), self.pattern.height())
    }

    fn fps(&self) -> u32 {
        self.fps
    }

    fn next_frame(&mut self) -> Result<Option<CapturedFrame>, SourceError> {
        self.pacer.wait();
        let captured_at = Instant::now();
        let frame = match self.spare.take() {
            Some(mut frame) => {
                self.pattern.render_into(&mut frame, self.counter, wall_clock_us());
                frame
            }
            None => self.pattern.frame(self.counter, wall_clock_us()),
        };
        self.counter = self.counter.wrapping_add(1);
        Ok(Some(CapturedFrame { frame, captured_at }))
    }

    fn recycle(&mut self, frame: I420Frame) {
        self.spare = Some(frame);
    }
}

/// A sine tone (optionally with periodic bursts for latency measurements), paced in real time.
pub struct ToneSource {
    tone: ToneGenerator,
    hz: f64,
    pacer: Pacer,
}

impl ToneSource {
    pub fn new(hz: f64) -> Self {
        ToneSource {
            tone: ToneGenerator::new(hz, SAMPLE_RATE, 0.3),
            hz,
            pacer: Pacer::new(Instant::now(), Duration::from_millis(20)),
        }
    }

    /// Silence with a burst of tone every `period_ms`, lasting `burst_ms`.
    pub fn with_bursts(mut self, period_ms: u32, burst_ms: u32) -> Self {
        self.tone = self.tone.with_bursts(period_ms, burst_ms);
        self
    }
}

impl AudioSource for ToneSource {
    fn describe(&self) -> String {
        format!("tone {} Hz", self.hz)
    }

    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> Result<bool, SourceError> {
        self.pacer.wait();
        self.tone.fill(out);
        Ok(true)
    }
}

/// Silence with a 10 ms 1 kHz click at every multiple of `period_ms` of the wall clock. Since the clicks
/// sit on the wall clock, a receiver on the same machine measures mouth-to-ear latency without talking to
/// the sender: it is how late after a period boundary the click is heard.
pub struct ClickSource {
    period_us: u64,
    pacer: Pacer,
}

/// Length of each click.
pub const CLICK_US: u64 = 10_000;

impl ClickSource {
    pub fn new(period_ms: u32) -> Self {
        ClickSource {
            period_us: u64::from(period_ms.max(100)) * 1000,
            pacer: Pacer::new(Instant::now(), Duration::from_millis(20)),
        }
    }
}

impl AudioSource for ClickSource {
    fn describe(&self) -> String {
        format!("clicks every {} ms", self.period_us / 1000)
    }

    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> Result<bool, SourceError> {
        self.pacer.wait();
        // This frame is captured now: its samples cover the 20 ms up to now.
        let end = wall_clock_us();
        let start = end.saturating_sub(20_000);
        for (i, s) in out.iter_mut().enumerate() {
            let t = start + i as u64 * 1_000_000 / u64::from(SAMPLE_RATE);
            let phase = t % self.period_us;
            *s = if phase < CLICK_US {
                let x = phase as f64 / 1_000_000.0 * 1000.0 * std::f64::consts::TAU;
                (x.sin() * 0.5 * 32767.0) as i16
            } else {
                0
            };
        }
        Ok(true)
    }
}

use std::time::{Duration, Instant};

use kaiwa_media::audio::{FRAME_SAMPLES, SAMPLE_RATE, ToneGenerator};
use kaiwa_media::video::TestPattern;

use crate::{AudioSource, CapturedFrame, Pacer, SourceError, VideoSource, wall_clock_us};

/// The moving test pattern, stamped with a frame counter and the wall-clock capture time, paced at `fps`.
pub struct TestPatternSource {
    pattern: TestPattern,
    fps: u32,
    pacer: Pacer,
    counter: u32,
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
        let frame = self.pattern.frame(self.counter, wall_clock_us());
        self.counter = self.counter.wrapping_add(1);
        Ok(Some(CapturedFrame { frame, captured_at }))
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

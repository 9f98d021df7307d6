//! Microphone clean-up: acoustic echo cancellation, noise suppression and automatic gain control, through
//! `sonora` (a pure-Rust port of WebRTC's audio processing module: AEC3, NS, AGC2).
//!
//! Two streams go in, both in the call format (48 kHz mono, any whole number of 10 ms, normally our
//! 20 ms [`FRAME_SAMPLES`](super::FRAME_SAMPLES)):
//! - **render** ([`AudioProcessor::analyze_render`]): the far end, i.e. exactly what goes to the speaker
//!   (the mix of every remote participant). AEC3 learns from it what the echo will sound like; it is not
//!   changed.
//! - **capture** ([`AudioProcessor::process_capture`]): the microphone, cleaned up in place before it is
//!   encoded.
//!
//! AEC3 finds the exact delay between the two itself, but only up to about half a second (measured on a
//! simulated room: 400 ms is cancelled, 600 ms is not). Our echo path (speaker queue, sound server, room,
//! microphone queue) is usually shorter but can be longer, so an [`EchoDelayEstimator`] measures it
//! coarsely and the far end is held back in a queue by that much (less 50 ms of headroom) before AEC3 sees
//! it. The caller only has to feed render frames as they go to the speaker and capture frames as they
//! are recorded, from one thread. Each of the three functions can be switched at run time
//! ([`AudioProcessor::set_config`]); with all three off the processor is a no-op and costs nothing.

use std::collections::VecDeque;

use sonora::config::{AdaptiveDigital, EchoCanceller, GainController2, NoiseSuppression};
use sonora::{AudioProcessing, Config, StreamConfig};

use super::SAMPLE_RATE;
use super::echo_delay::{EchoDelayEstimator, MAX_LAG_CHUNKS};

/// Samples in the 10 ms chunks the WebRTC processing works on.
pub const CHUNK_SAMPLES: usize = SAMPLE_RATE as usize / 100;
/// How much of the measured echo delay is left for AEC3 to find itself, in chunks.
const AEC3_HEADROOM_CHUNKS: usize = 5;

/// Which parts of the processing run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessingConfig {
    /// Acoustic echo cancellation (AEC3; brings a high-pass filter with it).
    pub echo_cancellation: bool,
    /// Stationary noise suppression (moderate: about 12 dB).
    pub noise_suppression: bool,
    /// Automatic gain control (AGC2 adaptive digital gain + limiter).
    pub gain_control: bool,
}

impl ProcessingConfig {
    /// Everything on: what a real microphone gets by default.
    pub const ON: ProcessingConfig =
        ProcessingConfig { echo_cancellation: true, noise_suppression: true, gain_control: true };
    /// Everything off: the microphone's samples pass untouched.
    pub const OFF: ProcessingConfig =
        ProcessingConfig { echo_cancellation: false, noise_suppression: false, gain_control: false };

    /// All on or all off (the one switch the app shows).
    pub fn all(on: bool) -> Self {
        if on { Self::ON } else { Self::OFF }
    }

    /// Whether anything runs at all.
    pub fn any(&self) -> bool {
        self.echo_cancellation || self.noise_suppression || self.gain_control
    }

    fn to_sonora(self) -> Config {
        Config {
            echo_canceller: self.echo_cancellation.then(EchoCanceller::default),
            noise_suppression: self.noise_suppression.then(NoiseSuppression::default),
            gain_controller2: self.gain_control.then(|| GainController2 {
                adaptive_digital: Some(AdaptiveDigital::default()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

impl Default for ProcessingConfig {
    fn default() -> Self {
        Self::ON
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProcessingError {
    #[error("audio processing needs whole 10 ms chunks ({CHUNK_SAMPLES} samples), got {0} samples")]
    FrameSize(usize),
    #[error("audio processing rejected a frame: {0}")]
    Sonora(String),
}

/// What the echo canceller reports about itself (all `None` while it is off or still learning).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessingStats {
    /// Echo return loss enhancement: how much the canceller removed, in dB.
    pub erle_db: Option<f64>,
    /// Echo return loss: how much quieter the echo is than the far end, in dB.
    pub erl_db: Option<f64>,
    /// AEC3's own estimate of the (remaining) render → capture delay, in ms.
    pub delay_ms: Option<i32>,
    /// Our coarse estimate of the echo path's delay, in ms (the far end is held back by it, less headroom).
    pub echo_path_ms: Option<u32>,
}

/// Echo cancellation, noise suppression and gain control for one microphone. Sans-IO; not thread-bound
/// but meant to be driven from one thread (the audio-send thread).
pub struct AudioProcessor {
    apm: AudioProcessing,
    config: ProcessingConfig,
    /// Render output (unused: AEC3 leaves the far end as it is) and capture input scratch.
    scratch: [i16; CHUNK_SAMPLES],
    delay: EchoDelayEstimator,
    /// Far-end chunks held back until the echo they cause reaches the microphone (less headroom).
    held: VecDeque<[i16; CHUNK_SAMPLES]>,
    hold_chunks: usize,
}

impl std::fmt::Debug for AudioProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioProcessor").field("config", &self.config).finish_non_exhaustive()
    }
}

impl AudioProcessor {
    pub fn new(config: ProcessingConfig) -> Self {
        let stream = StreamConfig::new(SAMPLE_RATE, 1);
        let apm = AudioProcessing::builder()
            .config(config.to_sonora())
            .capture_config(stream)
            .render_config(stream)
            .build();
        AudioProcessor {
            apm,
            config,
            scratch: [0; CHUNK_SAMPLES],
            delay: EchoDelayEstimator::new(),
            held: VecDeque::with_capacity(MAX_LAG_CHUNKS + 1),
            hold_chunks: 0,
        }
    }

    pub fn config(&self) -> ProcessingConfig {
        self.config
    }

    /// Switches parts on or off. Switching the echo canceller on starts it afresh: it needs a second or
    /// two of far-end audio to converge again.
    pub fn set_config(&mut self, config: ProcessingConfig) {
        if config != self.config {
            self.config = config;
            self.apm.apply_config(config.to_sonora());
        }
    }

    /// Feeds what the speaker is about to play (the far end). Ignored while echo cancellation is off.
    pub fn analyze_render(&mut self, frame: &[i16]) -> Result<(), ProcessingError> {
        check_size(frame)?;
        if !self.config.echo_cancellation {
            return Ok(());
        }
        for chunk in frame.chunks_exact(CHUNK_SAMPLES) {
            self.delay.push_render(chunk);
            if self.held.len() > MAX_LAG_CHUNKS {
                self.held.pop_front();
            }
            let mut held = [0i16; CHUNK_SAMPLES];
            held.copy_from_slice(chunk);
            self.held.push_back(held);
            while self.held.len() > self.hold_chunks {
                let Some(oldest) = self.held.pop_front() else { break };
                self.apm.process_render_i16(&oldest, &mut self.scratch).map_err(sonora_error)?;
            }
        }
        Ok(())
    }

    /// Cleans up a microphone frame in place. A no-op while everything is off.
    pub fn process_capture(&mut self, frame: &mut [i16]) -> Result<(), ProcessingError> {
        check_size(frame)?;
        if !self.config.any() {
            return Ok(());
        }
        for chunk in frame.chunks_exact_mut(CHUNK_SAMPLES) {
            if self.config.echo_cancellation
                && let Some(lag) = self.delay.push_capture(chunk)
            {
                self.hold_chunks = lag.saturating_sub(AEC3_HEADROOM_CHUNKS);
            }
            self.scratch.copy_from_slice(chunk);
            self.apm.process_capture_i16(&self.scratch, chunk).map_err(sonora_error)?;
        }
        Ok(())
    }

    pub fn stats(&self) -> ProcessingStats {
        let s = self.apm.statistics();
        ProcessingStats {
            erle_db: s.echo_return_loss_enhancement,
            erl_db: s.echo_return_loss,
            delay_ms: s.delay_ms,
            echo_path_ms: self.delay.delay_chunks().map(|c| c as u32 * 10),
        }
    }
}

fn check_size(frame: &[i16]) -> Result<(), ProcessingError> {
    if frame.is_empty() || !frame.len().is_multiple_of(CHUNK_SAMPLES) {
        return Err(ProcessingError::FrameSize(frame.len()));
    }
    Ok(())
}

fn sonora_error(e: sonora::Error) -> ProcessingError {
    ProcessingError::Sonora(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::FRAME_SAMPLES;

    #[test]
    fn rejects_partial_chunks() {
        let mut p = AudioProcessor::new(ProcessingConfig::ON);
        let mut short = [0i16; 100];
        assert_eq!(p.process_capture(&mut short), Err(ProcessingError::FrameSize(100)));
        assert_eq!(p.analyze_render(&[]), Err(ProcessingError::FrameSize(0)));
        let mut frame = [0i16; FRAME_SAMPLES];
        assert!(p.process_capture(&mut frame).is_ok());
        assert!(p.analyze_render(&frame).is_ok());
    }

    #[test]
    fn off_passes_samples_through_untouched() {
        let mut p = AudioProcessor::new(ProcessingConfig::OFF);
        let original: Vec<i16> = (0..FRAME_SAMPLES).map(|i| ((i * 37) % 2000) as i16 - 1000).collect();
        let mut frame = original.clone();
        for _ in 0..20 {
            frame.copy_from_slice(&original);
            p.process_capture(&mut frame).unwrap();
            assert_eq!(frame, original);
        }
        assert_eq!(p.stats().erle_db, None);
    }

    #[test]
    fn switches_at_run_time() {
        let mut p = AudioProcessor::new(ProcessingConfig::OFF);
        p.set_config(ProcessingConfig::ON);
        assert_eq!(p.config(), ProcessingConfig::ON);
        let mut frame = [0i16; FRAME_SAMPLES];
        for _ in 0..10 {
            p.analyze_render(&frame).unwrap();
            p.process_capture(&mut frame).unwrap();
        }
        p.set_config(ProcessingConfig::all(false));
        assert!(!p.config().any());
    }
}

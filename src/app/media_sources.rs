//! Opening the local camera and microphone, with the synthetic fallbacks when there are none, and the
//! taps that feed the self-view, the camera on/off switch and the mic level meter.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use kaiwa_devices::{AudioSource, CapturedFrame, SourceError, TestPatternSource, ToneSource, VideoSource};
use kaiwa_media::audio::FRAME_SAMPLES;
use kaiwa_media::video::I420Frame;

use super::settings::Settings;
use super::video::FrameSlot;
use crate::app::i18n::t;

/// What we could open, and what to tell the user about it.
pub struct LocalMedia {
    pub video: Box<dyn VideoSource>,
    pub audio: Box<dyn AudioSource>,
    /// `audio` is a microphone (not the stand-in tone), so echo cancellation and noise suppression apply.
    pub real_microphone: bool,
    /// e.g. "No camera found — using a test pattern."
    pub notices: Vec<String>,
}

pub fn open_local(settings: &Settings) -> LocalMedia {
    let mut notices = Vec::new();
    let (w, h, fps) = (settings.width, settings.height, settings.fps);
    let video: Box<dyn VideoSource> = if kaiwa_devices::list_cameras().is_empty() {
        notices.push(t!("notice-no-camera"));
        test_pattern(w, h, fps)
    } else {
        let request = kaiwa_devices::CameraRequest { width: w, height: h, fps };
        match kaiwa_devices::CameraSource::open_with(settings.camera.as_deref(), request) {
            Ok(cam) => Box::new(cam),
            Err(e) => {
                notices.push(t!("notice-camera-unavailable", error = e.to_string()));
                test_pattern(w, h, fps)
            }
        }
    };
    let (audio, real_microphone): (Box<dyn AudioSource>, bool) =
        if kaiwa_devices::list_microphones().is_empty() {
            notices.push(t!("notice-no-microphone"));
            (Box::new(ToneSource::new(440.0)), false)
        } else {
            match kaiwa_devices::MicSource::open(settings.microphone.as_deref()) {
                Ok(mic) => (Box::new(mic), true),
                Err(e) => {
                    notices.push(t!("notice-microphone-unavailable", error = e.to_string()));
                    (Box::new(ToneSource::new(440.0)), false)
                }
            }
        };
    LocalMedia { video, audio, real_microphone, notices }
}

fn test_pattern(w: u32, h: u32, fps: u32) -> Box<dyn VideoSource> {
    match TestPatternSource::new(w, h, fps) {
        Ok(p) => Box::new(p),
        // The settings' size was odd or zero: fall back to a size the pattern accepts.
        Err(_) => Box::new(TestPatternSource::new(640, 360, 30).expect("640x360 is a valid test pattern")),
    }
}

/// Copies each frame to the self-view and sends black while the camera is switched off.
pub struct TeeVideo {
    pub inner: Box<dyn VideoSource>,
    pub slot: Arc<FrameSlot>,
    pub enabled: Arc<AtomicBool>,
    black: Option<I420Frame>,
}

impl TeeVideo {
    pub fn new(inner: Box<dyn VideoSource>, slot: Arc<FrameSlot>, enabled: Arc<AtomicBool>) -> Self {
        TeeVideo { inner, slot, enabled, black: None }
    }
}

impl VideoSource for TeeVideo {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn size(&self) -> (u32, u32) {
        self.inner.size()
    }
    fn fps(&self) -> u32 {
        self.inner.fps()
    }
    fn next_frame(&mut self) -> Result<Option<CapturedFrame>, SourceError> {
        let Some(mut captured) = self.inner.next_frame()? else { return Ok(None) };
        if self.enabled.load(Ordering::Relaxed) {
            self.slot.put_i420(&captured.frame);
        } else {
            let (w, h) = (captured.frame.width(), captured.frame.height());
            let black = match &self.black {
                Some(b) if b.width() == w && b.height() == h => b.clone(),
                _ => {
                    let b = I420Frame::black(w, h).map_err(|e| SourceError::Media(e.to_string()))?;
                    self.black = Some(b.clone());
                    b
                }
            };
            let camera = std::mem::replace(&mut captured.frame, black);
            self.inner.recycle(camera);
        }
        Ok(Some(captured))
    }
    fn recycle(&mut self, frame: I420Frame) {
        // Even the black stand-in: to the source it is only a buffer to fill.
        self.inner.recycle(frame);
    }
}

/// Measures the level of what the microphone sends (0..=1 as f32 bits in an atomic).
pub struct MeteredAudio {
    pub inner: Box<dyn AudioSource>,
    pub level: Arc<AtomicU32>,
}

impl AudioSource for MeteredAudio {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> Result<bool, SourceError> {
        let ok = self.inner.next_frame(out)?;
        let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0) as f32 / 32768.0;
        self.level.store(peak.to_bits(), Ordering::Relaxed);
        Ok(ok)
    }
}

pub fn read_level(level: &AtomicU32) -> f32 {
    f32::from_bits(level.load(Ordering::Relaxed)).clamp(0.0, 1.0)
}

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use kaiwa_media::audio::FRAME_SAMPLES;
use kaiwa_media::video::I420Frame;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("no camera found (connect one and try again)")]
    NoCamera,
    #[error("no microphone found (connect one and try again)")]
    NoMicrophone,
    #[error("no speaker found (connect speakers or headphones and try again)")]
    NoSpeaker,
    #[error("{0}")]
    Device(String),
    #[error("{0}")]
    Media(String),
}

/// A picture and when it was captured.
#[derive(Debug, Clone)]
pub struct CapturedFrame {
    pub frame: I420Frame,
    pub captured_at: Instant,
}

/// Something that produces video: a camera, a test pattern, a file.
pub trait VideoSource: Send {
    /// A short description for logs and status lines, e.g. "test pattern 640x480@30".
    fn describe(&self) -> String;
    /// Picture size of the frames to come.
    fn size(&self) -> (u32, u32);
    /// Nominal frames per second.
    fn fps(&self) -> u32;
    /// Blocks until the next frame is due and returns it; `None` at the end of a finite source.
    fn next_frame(&mut self) -> Result<Option<CapturedFrame>, SourceError>;
    /// What the pictures are, for the encoder: a camera's (the default) or a screen's.
    fn content(&self) -> kaiwa_media::video::Content {
        kaiwa_media::video::Content::Camera
    }
    /// Gives a frame from `next_frame` back once the caller is done with it, so the source can fill it
    /// again instead of allocating (and zeroing) a new picture every frame. Optional on both sides.
    fn recycle(&mut self, _frame: I420Frame) {}
}

/// Something that produces 48 kHz mono audio in 20 ms frames: a microphone, a tone, a file.
pub trait AudioSource: Send {
    fn describe(&self) -> String;
    /// Blocks until the next 20 ms frame is due and fills `out`; false at the end of a finite source.
    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> Result<bool, SourceError>;
}

/// Microseconds since the Unix epoch: the capture timestamp stamped into test patterns, comparable across
/// processes on one machine.
pub fn wall_clock_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

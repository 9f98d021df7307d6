//! Where media enters and leaves Kaiwa. Every source and sink sits behind one trait, so a camera, a
//! synthetic test pattern and a Y4M file are interchangeable to the engine (and likewise microphone, tone
//! and WAV file; speaker and WAV recorder).
//!
//! Sources are pull-based and paced: `next_frame` blocks the calling (capture) thread until the next frame
//! is due, like a camera would. Call them from a dedicated thread, never from async code.

mod file;
mod pacer;
mod recorder;
mod source;
mod synthetic;

pub use file::{WavFileSource, Y4mFileSource};
pub use pacer::Pacer;
pub use recorder::{WavRecorder, Y4mRecorder};
pub use source::{AudioSource, CapturedFrame, SourceError, VideoSource, wall_clock_us};
pub use synthetic::{TestPatternSource, ToneSource};

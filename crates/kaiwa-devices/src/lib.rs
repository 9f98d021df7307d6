//! Where media enters and leaves Kaiwa. Every source and sink sits behind one trait, so a camera, a
//! synthetic test pattern and a Y4M file are interchangeable to the engine (and likewise microphone, tone
//! and WAV file; speaker and WAV recorder).
//!
//! Hardware: microphones ([`MicSource`]) and speakers ([`SpeakerSink`]) through cpal, cameras
//! ([`CameraSource`]) through nokhwa, the X11 screen ([`ScreenSource`], MIT-SHM) through x11rb; `list_*` functions enumerate them for the settings dialog (empty lists
//! when there are none). cpal's real-time callbacks touch only a lock-free SPSC ring and atomics;
//! downmixing, resampling and format conversion happen on the caller's thread. A failed audio device is
//! reopened (falling back to the default one) by the next `next_frame`/`play`; see `audio_device.rs` for
//! what cpal can and cannot report about hot-plug. [`testing`] runs a private PulseAudio for audio tests.
//!
//! Sources are pull-based and paced: `next_frame` blocks the calling (capture) thread until the next frame
//! is due, like a camera would. Call them from a dedicated thread, never from async code.
// What other participants send reaches this code: no slicing a string at a byte index (a multi-byte
// character there panics), and no `unwrap` outside tests (CODE_STYLE.md, "Remote input").
#![warn(clippy::string_slice)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod audio_device;
mod camera;
mod file;
mod mic;
mod pacer;
mod recorder;
mod screen;
mod source;
mod speaker;
mod synthetic;
pub mod testing;

#[cfg(feature = "portal")]
pub use screen::PortalSource;
pub use screen::{
    Area, ScreenSource, WindowInfo, monitors, share_through_portal, share_unavailable, wayland_session,
    windows,
};

pub use audio_device::{
    AudioDeviceInfo, AudioStats, default_microphone, default_speaker, list_microphones, list_speakers,
};
pub use camera::{CameraInfo, CameraRequest, CameraSource, list_cameras};
pub use file::{WavFileSource, Y4mFileSource};
pub use mic::{MicOptions, MicSource};
pub use pacer::Pacer;
pub use recorder::{WavRecorder, Y4mRecorder};
pub use source::{AudioSource, CapturedFrame, SourceError, VideoSource, wall_clock_us};
pub use speaker::{SpeakerOptions, SpeakerSink, play_test_sound, test_sound};
pub use synthetic::{CLICK_US, ClickSource, TestPatternSource, ToneSource};

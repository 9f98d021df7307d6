//! Audio: Opus codec, adaptive jitter buffer + receiver, mixer, echo cancellation / noise suppression / gain
//! control, test tones, WAV files and signal analysis.
//!
//! The call format is fixed: mono, 48 kHz, 20 ms frames of 960 samples ([`SAMPLE_RATE`], [`FRAME_SAMPLES`]).

pub mod analysis;
pub mod echo_delay;
pub mod jitter;
pub mod mixer;
pub mod opus_codec;
pub mod processing;
pub mod receiver;
pub mod tone;
pub mod wav;

pub use jitter::{JitterBuffer, JitterConfig, JitterStats, Playout};
pub use mixer::{Mixer, soft_clip};
pub use opus_codec::{OpusDecoder, OpusEncoder, OpusEncoderConfig, OpusError};
pub use processing::{AudioProcessor, ProcessingConfig, ProcessingError, ProcessingStats};
pub use receiver::{AudioReceiver, ReceiverStats};
pub use tone::{ToneGenerator, speech_like};
pub use wav::{WavAudio, WavError};

/// Sample rate of the call audio (Opus' native rate), in Hz.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms mono frame at 48 kHz.
pub const FRAME_SAMPLES: usize = 960;
/// Duration of one frame in milliseconds.
pub const FRAME_MS: u32 = 20;
/// RTP timestamp ticks per frame (the Opus RTP clock is always 48 kHz, RFC 7587 §4.1).
pub const FRAME_TICKS: u32 = 960;

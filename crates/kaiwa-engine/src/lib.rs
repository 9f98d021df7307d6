//! Kaiwa's call engine. Joins a room on a Kaiwa signaling server and holds a WebRTC call with every other
//! participant (a mesh): H.264 video and Opus audio over webrtc-rs, a `chat` data channel, statistics.
//! The desktop app and the headless `kaiwa call` CLI are views over it.
//!
//! Threads: tokio tasks for signaling and each peer's negotiation; dedicated, named threads for capture +
//! encode (`kaiwa-video-send`, `kaiwa-audio-send`, which also runs echo cancellation / noise suppression /
//! gain control), per remote video decode (`kaiwa-video-recv-*`) and audio playout (`kaiwa-audio-playout`,
//! which hands each speaker frame to the echo canceller). They meet at bounded channels; media paths never block on the network.
// What other participants send reaches this code: no slicing a string at a byte index (a multi-byte
// character there panics), and no `unwrap` outside tests (CODE_STYLE.md, "Remote input").
#![warn(clippy::string_slice)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod chat;
mod engine;
pub mod events;
pub mod media;
pub mod net;
pub mod peer;
pub mod rate_limit;
mod sfu;
pub mod signaling;
pub mod sinks;
pub mod stats;
pub mod testing;

pub use engine::{AudioProcessingReport, Engine, EngineConfig};
pub use events::{EngineEvent, Failure, PeerState, ShareEnded};
pub use kaiwa_media::audio::ProcessingConfig;
pub use media::audio_playout::{AudioLevel, AudioVolume};

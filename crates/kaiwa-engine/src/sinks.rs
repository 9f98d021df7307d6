//! Where received media goes. The engine asks its owner for a sink per remote participant when their
//! media starts: the GUI hands out texture updaters and the speaker, the CLI recorders.

use kaiwa_protocol::PeerInfo;

pub use crate::media::audio_playout::AudioSink;
pub use crate::media::video_recv::{DecodedVideo, VideoSink};

pub trait MediaSinks: Send + Sync {
    /// Decoded video of `peer`. Video is decoded (and counted) even if this returns a no-op.
    fn video(&self, _peer: &PeerInfo) -> Option<VideoSink> {
        Some(Box::new(|_| {}))
    }

    /// Decoded video of the screen `peer` shares (while it shares one). Decoded and counted even if this
    /// returns a no-op.
    fn screen(&self, _peer: &PeerInfo) -> Option<VideoSink> {
        Some(Box::new(|_| {}))
    }

    /// Decoded audio of `peer` alone, 20 ms at a time (e.g. a recorder).
    fn audio(&self, _peer: &PeerInfo) -> Option<AudioSink> {
        None
    }

    /// The mix of everyone, 20 ms at a time.
    fn speaker(&self) -> Option<AudioSink> {
        None
    }
}

/// Decodes and counts, keeps nothing.
pub struct DiscardSinks;

impl MediaSinks for DiscardSinks {}

//! Whose media each m-section of the SFU's offers carries, and when a participant's media counts as
//! arriving through the SFU (the moment their mesh connection may close, docs/PROTOCOL.md "Big rooms").

use std::collections::HashMap;

use kaiwa_protocol::{PeerId, SfuStream};

/// The participant behind each `mid` of the receiving connection, as the latest `sfu_offer` said.
#[derive(Debug, Default)]
pub struct Streams {
    by_mid: HashMap<String, PeerId>,
}

impl Streams {
    /// The streams of a new offer replace those of the last one (each offer lists every stream).
    pub fn update(&mut self, streams: &[SfuStream]) {
        self.by_mid = streams.iter().map(|s| (s.mid.clone(), s.peer.clone())).collect();
    }

    pub fn peer(&self, mid: &str) -> Option<&PeerId> {
        self.by_mid.get(mid)
    }

    /// Whether any stream of the current offer is `peer`'s.
    pub fn has(&self, peer: &PeerId) -> bool {
        self.by_mid.values().any(|p| p == peer)
    }
}

/// Audio packets that show a participant's microphone arrives (half a second of 20 ms frames).
const AUDIO_PACKETS: u64 = 25;

/// Whether a participant's media arrives through the SFU: a decoded video frame, or half a second of audio
/// (someone with their camera off still sends audio, silence while muted).
pub fn arrived(video_frames_decoded: u64, audio_packets: u64) -> bool {
    video_frames_decoded > 0 || audio_packets >= AUDIO_PACKETS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(mid: &str, peer: &str, kind: &str) -> SfuStream {
        SfuStream { mid: mid.into(), peer: peer.into(), kind: kind.into() }
    }

    #[test]
    fn each_offer_says_whose_every_section_is() {
        let mut s = Streams::default();
        s.update(&[stream("0", "ann", "audio"), stream("1", "ann", "video")]);
        assert_eq!(s.peer("1").map(String::as_str), Some("ann"));
        assert!(s.has(&"ann".to_owned()));
        // Ann leaves and Bo's media takes her sections over.
        s.update(&[stream("0", "bo", "audio"), stream("1", "bo", "video")]);
        assert_eq!(s.peer("0").map(String::as_str), Some("bo"));
        assert!(!s.has(&"ann".to_owned()));
        assert_eq!(s.peer("2"), None);
    }

    #[test]
    fn media_arrives_with_a_frame_or_half_a_second_of_audio() {
        assert!(!arrived(0, 0));
        assert!(!arrived(0, AUDIO_PACKETS - 1));
        assert!(arrived(0, AUDIO_PACKETS));
        assert!(arrived(1, 0));
    }
}

//! Whose media each m-section of the SFU's offers carries, and when a participant's media counts as
//! arriving through the SFU (the moment their mesh connection may close, docs/PROTOCOL.md "Big rooms").

use std::collections::HashMap;

use kaiwa_protocol::{PeerId, SfuStream};

/// The participant behind each `mid` of the receiving connection, and whether it is the screen they
/// share, as the latest `sfu_offer` said.
#[derive(Debug, Default)]
pub struct Streams {
    by_mid: HashMap<String, (PeerId, bool)>,
}

impl Streams {
    /// The streams of a new offer replace those of the last one (each offer lists every stream).
    pub fn update(&mut self, streams: &[SfuStream]) {
        self.by_mid = streams.iter().map(|s| (s.mid.clone(), (s.peer.clone(), s.screen))).collect();
    }

    /// Whose stream m-section `mid` carries, and whether it is their shared screen.
    pub fn peer(&self, mid: &str) -> Option<(&PeerId, bool)> {
        self.by_mid.get(mid).map(|(peer, screen)| (peer, *screen))
    }

    /// Whether any stream of the current offer is `peer`'s.
    pub fn has(&self, peer: &PeerId) -> bool {
        self.by_mid.values().any(|(p, _)| p == peer)
    }

    /// The m-sections of the current offer that carry `peer`'s streams.
    pub fn mids_of(&self, peer: &PeerId) -> Vec<String> {
        self.by_mid.iter().filter(|(_, (p, _))| p == peer).map(|(mid, _)| mid.clone()).collect()
    }

    /// Whether the current offer has a screen `peer` shares.
    pub fn shares(&self, peer: &PeerId) -> bool {
        self.by_mid.values().any(|(p, screen)| p == peer && *screen)
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

    #[test]
    fn each_offer_says_whose_every_section_is() {
        let mut s = Streams::default();
        s.update(&[SfuStream::new("0", "ann", "audio"), SfuStream::new("1", "ann", "video")]);
        assert_eq!(s.peer("1"), Some((&"ann".to_owned(), false)));
        assert!(s.has(&"ann".to_owned()));
        let mut mids = s.mids_of(&"ann".to_owned());
        mids.sort();
        assert_eq!(mids, ["0", "1"]);
        // Ann leaves and Bo's media takes her sections over.
        s.update(&[SfuStream::new("0", "bo", "audio"), SfuStream::new("1", "bo", "video")]);
        assert_eq!(s.peer("0").map(|(p, _)| p.as_str()), Some("bo"));
        assert!(!s.has(&"ann".to_owned()) && s.mids_of(&"ann".to_owned()).is_empty());
        assert_eq!(s.peer("2"), None);
    }

    #[test]
    fn a_shared_screen_is_told_from_the_camera_and_ends_with_the_offer_that_lacks_it() {
        let bo = "bo".to_owned();
        let mut s = Streams::default();
        s.update(&[SfuStream::new("1", "bo", "video"), SfuStream::screen("2", "bo")]);
        assert_eq!(s.peer("2"), Some((&bo, true)));
        assert!(s.shares(&bo));
        s.update(&[SfuStream::new("1", "bo", "video")]);
        assert!(!s.shares(&bo) && s.has(&bo));
    }

    #[test]
    fn media_arrives_with_a_frame_or_half_a_second_of_audio() {
        assert!(!arrived(0, 0));
        assert!(!arrived(0, AUDIO_PACKETS - 1));
        assert!(arrived(0, AUDIO_PACKETS));
        assert!(arrived(1, 0));
    }
}

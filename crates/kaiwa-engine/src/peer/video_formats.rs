//! Whether two peers share a video format, read from the session descriptions they exchanged.
//!
//! A peer may offer only codecs we lack (an AV1- or VP9-only sender, H.265, a future browser). The
//! m-section is then answered rejected (port 0, [RFC 8829 §5.3.1](https://www.rfc-editor.org/rfc/rfc8829#section-5.3.1))
//! while audio and the data channel go on; this module tells the session, and through it the person,
//! that video is what failed and why. Pure functions on SDP text, so both ends of every case are tested
//! here; `assets/web/sdp.js` (`videoFormats`) applies the same rule in the browser.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use std::io::Cursor;

use rtc::sdp::description::session::SessionDescription;
use serde::Serialize;

/// Payload formats that only accompany a real codec (retransmission, redundancy, FEC).
const REPAIR_FORMATS: [&str; 5] = ["rtx", "red", "ulpfec", "flexfec-03", "flexfec"];

/// What the exchanged descriptions say about video with one peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VideoFormats {
    /// `Some(false)`: both offered video but no format in common, so no video flows either way.
    /// `None` until an exchange with video on both sides has completed; an exchange where either side
    /// has no video section leaves it as it was.
    pub shared: Option<bool>,
    /// The video codecs the peer listed in its last description that had any (encoding names such as
    /// `VP9`, `AV1`), in its order of preference.
    pub peer_codecs: Vec<String>,
}

impl VideoFormats {
    /// Reads a completed exchange: `local` and `remote` are our and the peer's current descriptions
    /// (one the offer, the other the answer). Codecs the peer listed before are kept when its new
    /// description lists none (a rejected m-section names no codecs).
    pub fn after_exchange(&self, local: &str, remote: &str) -> VideoFormats {
        let (Some(local), Some(remote)) = (video_sections(local), video_sections(remote)) else {
            return self.clone();
        };
        let mut peer_codecs = Vec::new();
        for codec in remote.iter().flat_map(|s| &s.codecs) {
            if !peer_codecs.contains(codec) {
                peer_codecs.push(codec.clone());
            }
        }
        if peer_codecs.is_empty() {
            peer_codecs = self.peer_codecs.clone();
        }
        // Video sections pair up in order. An exchange where one side has none says nothing new: webrtc-rs
        // leaves a rejected section out of its next offer altogether (JSEP would keep it, port 0).
        let pairs: Vec<_> = local.iter().zip(&remote).collect();
        let shared = if pairs.is_empty() {
            self.shared
        } else {
            Some(pairs.iter().any(|(l, r)| l.accepted() && r.accepted() && l.shares_with(r)))
        };
        VideoFormats { shared, peer_codecs }
    }

    /// Whether the person should be told that video cannot be shown.
    pub fn unavailable(&self) -> bool {
        self.shared == Some(false)
    }
}

/// One `m=video` section: its port (0 when rejected) and its codecs' encoding names.
#[derive(Debug)]
struct VideoSection {
    port: isize,
    codecs: Vec<String>,
}

impl VideoSection {
    fn accepted(&self) -> bool {
        self.port != 0 && !self.codecs.is_empty()
    }

    fn shares_with(&self, other: &VideoSection) -> bool {
        self.codecs.iter().any(|c| other.codecs.iter().any(|o| o.eq_ignore_ascii_case(c)))
    }
}

/// The video sections of a description in order, or `None` when it does not parse.
fn video_sections(sdp: &str) -> Option<Vec<VideoSection>> {
    let description = SessionDescription::unmarshal(&mut Cursor::new(sdp.as_bytes())).ok()?;
    let sections = description
        .media_descriptions
        .iter()
        .filter(|m| m.media_name.media == "video")
        .map(|m| {
            let by_type = m.codecs();
            // In the m-line's order, which is the sender's preference.
            let codecs = m
                .media_name
                .formats
                .iter()
                .filter_map(|f| by_type.get(&f.parse::<u8>().ok()?))
                .map(|c| c.name.clone())
                .filter(|name| !REPAIR_FORMATS.iter().any(|r| r.eq_ignore_ascii_case(name)))
                .fold(Vec::new(), |mut names: Vec<String>, name| {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                    names
                });
            VideoSection { port: m.media_name.port.value, codecs }
        })
        .collect();
    Some(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal description with an audio section and the given video sections (port, payload types
    /// with their encoding names).
    fn sdp(videos: &[(u16, &[(u8, &str)])]) -> String {
        let mut s = String::from(
            "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
             m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n",
        );
        for (i, (port, codecs)) in videos.iter().enumerate() {
            let pts: Vec<String> = codecs.iter().map(|(pt, _)| pt.to_string()).collect();
            let pts = if pts.is_empty() { "0".to_owned() } else { pts.join(" ") };
            s +=
                &format!("m=video {port} UDP/TLS/RTP/SAVPF {pts}\r\nc=IN IP4 0.0.0.0\r\na=mid:{}\r\n", i + 1);
            for (pt, name) in codecs.iter() {
                s += &format!("a=rtpmap:{pt} {name}/90000\r\n");
                if *name == "rtx" {
                    s += &format!("a=fmtp:{pt} apt=96\r\n");
                }
            }
        }
        s
    }

    const OURS: &[(u8, &str)] = &[(102, "H264"), (96, "VP8"), (97, "rtx")];

    #[test]
    fn a_common_codec_is_shared_and_the_peer_codecs_are_listed_in_its_order() {
        let offer = sdp(&[(9, &[(45, "AV1"), (98, "VP9"), (96, "VP8"), (99, "rtx")])]);
        let answer = sdp(&[(9, &[(96, "VP8")])]);
        let f = VideoFormats::default().after_exchange(&answer, &offer);
        assert_eq!(
            f,
            VideoFormats { shared: Some(true), peer_codecs: vec!["AV1".into(), "VP9".into(), "VP8".into()] }
        );
        assert!(!f.unavailable());
    }

    #[test]
    fn a_rejected_video_section_means_no_common_format_on_both_ends() {
        let offer = sdp(&[(9, &[(45, "AV1"), (46, "rtx")])]);
        let answer = sdp(&[(0, &[])]);
        // The answerer (us) rejected their AV1-only offer.
        let answerer = VideoFormats::default().after_exchange(&answer, &offer);
        assert_eq!(answerer, VideoFormats { shared: Some(false), peer_codecs: vec!["AV1".into()] });
        assert!(answerer.unavailable());
        // The offerer (us) got our video rejected: unavailable too, the peer's codecs still unknown.
        let offerer = VideoFormats::default().after_exchange(&sdp(&[(9, OURS)]), &answer);
        assert_eq!(offerer, VideoFormats { shared: Some(false), peer_codecs: vec![] });
    }

    #[test]
    fn codecs_the_peer_named_before_outlive_a_description_that_names_none() {
        let before = VideoFormats { shared: Some(false), peer_codecs: vec!["VP9".into()] };
        let after = before.after_exchange(&sdp(&[(9, OURS)]), &sdp(&[(0, &[])]));
        assert_eq!(after.peer_codecs, vec!["VP9".to_owned()]);
    }

    #[test]
    fn one_shared_video_section_of_several_is_enough() {
        let ours = sdp(&[(9, OURS), (0, &[])]);
        let theirs = sdp(&[(9, &[(100, "h264")]), (9, &[(45, "AV1")])]);
        assert_eq!(VideoFormats::default().after_exchange(&ours, &theirs).shared, Some(true));
    }

    #[test]
    fn without_video_or_with_unreadable_text_nothing_is_claimed() {
        assert_eq!(VideoFormats::default().after_exchange(&sdp(&[]), &sdp(&[])).shared, None);
        // A later exchange without video on one side (webrtc-rs drops a rejected section from its next
        // offer) keeps the verdict.
        let before = VideoFormats { shared: Some(false), peer_codecs: vec!["VP8".into()] };
        assert_eq!(before.after_exchange(&sdp(&[]), &sdp(&[(0, &[])])), before);
        let before = VideoFormats { shared: Some(true), peer_codecs: vec!["VP8".into()] };
        assert_eq!(before.after_exchange("garbage", &sdp(&[(9, OURS)])), before);
        assert_eq!(VideoFormats::default().after_exchange("", "\u{0}\u{ffff}"), VideoFormats::default());
    }
}

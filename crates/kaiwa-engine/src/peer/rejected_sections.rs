//! Rejected m-sections in a remote description, made acceptable to webrtc-rs.
//!
//! Chromium answers a section it rejects (port 0, [RFC 8829 §5.3.1](https://www.rfc-editor.org/rfc/rfc8829#section-5.3.1))
//! with ICE credentials of its own, unlike those of the sections it accepted. A rejected section carries no
//! transport, so they mean nothing, but webrtc-rs 0.21 compares every section's `ice-ufrag`/`ice-pwd` and
//! refuses the whole description as conflicting (`extract_ice_details` skips only `a=inactive` sections).
//! Dropping those two lines from rejected sections leaves what the peer meant. Drop this module when
//! webrtc-rs ignores rejected sections there.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use std::borrow::Cow;

/// `sdp` without `a=ice-ufrag` and `a=ice-pwd` in its rejected (port 0) m-sections; unchanged (borrowed)
/// when there is nothing to drop.
pub fn without_rejected_credentials(sdp: &str) -> Cow<'_, str> {
    let mut rejected = false;
    let mut dropped = false;
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        let text = line.trim_end_matches(['\r', '\n']);
        if let Some(media) = text.strip_prefix("m=") {
            rejected = media.split(' ').nth(1) == Some("0");
        } else if rejected && (text.starts_with("a=ice-ufrag:") || text.starts_with("a=ice-pwd:")) {
            dropped = true;
            continue;
        }
        out.push_str(line);
    }
    if dropped { Cow::Owned(out) } else { Cow::Borrowed(sdp) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chromium's answer to an offer whose video it shares no codec with (cut down).
    const CHROMIUM_ANSWER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 2\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:YLsq\r\na=ice-pwd:aaaa\r\na=mid:0\r\n\
        a=rtpmap:111 opus/48000/2\r\n\
        m=video 0 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:22a+\r\na=ice-pwd:bbbb\r\na=mid:1\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:YLsq\r\n\
        a=ice-pwd:aaaa\r\na=mid:2\r\n";

    #[test]
    fn credentials_of_a_rejected_section_go_and_everything_else_stays() {
        let fixed = without_rejected_credentials(CHROMIUM_ANSWER);
        assert!(matches!(fixed, Cow::Owned(_)));
        assert!(!fixed.contains("22a+") && !fixed.contains("bbbb"), "{fixed}");
        assert_eq!(fixed.matches("a=ice-ufrag:YLsq\r\n").count(), 2);
        assert_eq!(fixed.lines().count(), CHROMIUM_ANSWER.lines().count() - 2);
        assert!(fixed.contains("m=video 0 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"));
    }

    #[test]
    fn a_description_without_rejected_sections_is_passed_through() {
        let accepted = CHROMIUM_ANSWER.replace("m=video 0 ", "m=video 9 ");
        assert!(matches!(without_rejected_credentials(&accepted), Cow::Borrowed(_)));
        assert!(matches!(without_rejected_credentials(""), Cow::Borrowed(_)));
        // Bare \n line ends, and a port given as a range, are read too.
        let lf = CHROMIUM_ANSWER.replace("\r\n", "\n");
        assert!(!without_rejected_credentials(&lf).contains("22a+"));
        assert!(matches!(
            without_rejected_credentials("m=video 0/2 RTP/AVP 0\na=ice-ufrag:x\n"),
            Cow::Borrowed(_)
        ));
    }
}

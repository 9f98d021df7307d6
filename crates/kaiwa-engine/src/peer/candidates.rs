//! ICE candidates as our signaling carries them (`kaiwa_protocol::IceCandidateInit`) and as webrtc-rs
//! takes and gives them: the same four fields.

use kaiwa_protocol::IceCandidateInit;
use webrtc::peer_connection::RTCIceCandidateInit;

/// A candidate from the peer, for webrtc-rs.
pub fn to_webrtc(c: IceCandidateInit) -> RTCIceCandidateInit {
    RTCIceCandidateInit {
        candidate: c.candidate,
        sdp_mid: c.sdp_mid,
        sdp_mline_index: c.sdp_m_line_index,
        username_fragment: c.username_fragment,
        ..Default::default()
    }
}

/// A candidate webrtc-rs gathered, for the peer.
pub fn from_webrtc(c: RTCIceCandidateInit) -> IceCandidateInit {
    IceCandidateInit {
        candidate: c.candidate,
        sdp_mid: c.sdp_mid,
        sdp_m_line_index: c.sdp_mline_index,
        username_fragment: c.username_fragment,
    }
}

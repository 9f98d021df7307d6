//! The payload of `signal` messages. The server relays it untouched; clients read and write it typed.
//! Shapes follow the browser's `RTCSessionDescriptionInit` and `RTCIceCandidate.toJSON()`
//! (<https://www.w3.org/TR/webrtc/#rtcicecandidateinit-dictionary>).
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `{"sdp":{...}}`, `{"candidate":{...}}` or `{"candidate":null}` (end of candidates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SignalData {
    Sdp {
        sdp: SessionDescription,
    },
    Candidate {
        /// Required, `null` at the end: serde takes a missing `Option` as `None`, and any other object
        /// (a chat line sent through the server, `{"type":"chat",…}`) read as the end of candidates.
        #[serde(deserialize_with = "present")]
        candidate: Option<IceCandidateInit>,
    },
}

/// A field that must be there, even if `null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<IceCandidateInit>, D::Error> {
    Option::deserialize(d)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpType {
    Offer,
    Answer,
    Pranswer,
    Rollback,
}

/// An SDP offer or answer ([RFC 8829](https://www.rfc-editor.org/rfc/rfc8829)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDescription {
    #[serde(rename = "type")]
    pub kind: SdpType,
    pub sdp: String,
}

/// A trickled ICE candidate ([RFC 8838](https://www.rfc-editor.org/rfc/rfc8838)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidateInit {
    pub candidate: String,
    #[serde(default)]
    pub sdp_mid: Option<String>,
    #[serde(default, rename = "sdpMLineIndex")]
    pub sdp_m_line_index: Option<u16>,
    #[serde(default)]
    pub username_fragment: Option<String>,
}

impl SignalData {
    /// Reads the payload of a received `signal`.
    pub fn from_raw(data: &RawValue) -> Result<Self, serde_json::Error> {
        serde_json::from_str(data.get())
    }

    /// The raw JSON to put in an outgoing `signal`.
    pub fn to_raw(&self) -> Box<RawValue> {
        serde_json::value::to_raw_value(self).expect("signal data always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_shapes_parse() {
        let c = r#"{"candidate":{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}}"#;
        let data: SignalData = serde_json::from_str(c).unwrap();
        match &data {
            SignalData::Candidate { candidate: Some(init) } => {
                assert_eq!(init.sdp_mid.as_deref(), Some("0"));
                assert_eq!(init.sdp_m_line_index, Some(0));
                assert_eq!(init.username_fragment.as_deref(), Some("abcd"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(serde_json::to_string(&data).unwrap(), c);
        let end: SignalData = serde_json::from_str(r#"{"candidate":null}"#).unwrap();
        assert_eq!(end, SignalData::Candidate { candidate: None });
        assert_eq!(end.to_raw().get(), r#"{"candidate":null}"#);
        // Anything else is not signal data (a chat line through the server is a `ChannelMessage`).
        let chat = r#"{"type":"chat","from":"Ann","text":"hi","ts":1}"#;
        assert!(serde_json::from_str::<SignalData>(chat).is_err());
        let offer: SignalData = serde_json::from_str(r#"{"sdp":{"type":"offer","sdp":"v=0"}}"#).unwrap();
        assert_eq!(
            offer,
            SignalData::Sdp { sdp: SessionDescription { kind: SdpType::Offer, sdp: "v=0".into() } }
        );
    }
}

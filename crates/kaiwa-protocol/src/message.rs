//! The messages of the signaling protocol, one JSON object per WebSocket text frame, tagged by `type`.
//!
//! `signal.data` is carried as raw JSON ([`RawValue`]) so the server relays it byte for byte without
//! re-encoding it. serde's internally tagged enums cannot hold a `RawValue`, so parsing goes through a
//! flat envelope that borrows from the frame; serialization is derived.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::ErrorCode;

/// A participant id, assigned by the server and unique on it. Ids compare as strings; in perfect
/// negotiation the peer whose id sorts lower is the polite one.
pub type PeerId = String;

/// A participant as the others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    pub id: PeerId,
    pub name: String,
    /// The DTLS certificate fingerprint the participant said it uses for all its connections
    /// ([`Fingerprint`]), if it said one; a claim to this id over a peer connection counts only when that
    /// connection's certificate has it (docs/PROTOCOL.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl PeerInfo {
    pub fn new(id: impl Into<PeerId>, name: impl Into<String>) -> PeerInfo {
        PeerInfo { id: id.into(), name: name.into(), fingerprint: None }
    }
}

/// A certificate fingerprint as SDP writes it (`sha-256 AB:CD:…`, RFC 8122 §5): the algorithm, a space,
/// and upper-case hex byte pairs joined by colons. Only SHA-256 is accepted.
pub struct Fingerprint;

impl Fingerprint {
    /// Longest accepted text: "sha-256 " and 32 byte pairs with colons.
    pub const MAX_LEN: usize = 8 + 32 * 3 - 1;

    /// `text` in the one canonical form (algorithm lower-case, hex upper-case), or `None` when it is not
    /// a SHA-256 fingerprint.
    pub fn normalize(text: &str) -> Option<String> {
        let (algorithm, hex) = text.trim().split_once(' ')?;
        if !algorithm.eq_ignore_ascii_case("sha-256") {
            return None;
        }
        let pairs: Vec<&str> = hex.trim().split(':').collect();
        let ok = pairs.len() == 32
            && pairs.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
        ok.then(|| format!("sha-256 {}", hex.trim().to_ascii_uppercase()))
    }

    /// The SDP form of a SHA-256 digest.
    pub fn of_digest(digest: &[u8]) -> String {
        let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
        format!("sha-256 {}", hex.join(":"))
    }
}

/// One ICE server in the `RTCIceServer` shape browsers take as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Client → server.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Join {
        room: String,
        name: String,
        version: u32,
        /// The sender's DTLS certificate fingerprint (optional).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fingerprint: Option<String>,
    },
    Signal {
        to: PeerId,
        data: Box<RawValue>,
    },
    Leave,
    Ping,
}

/// Server → client.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Joined { id: PeerId, room: String, peers: Vec<PeerInfo>, ice_servers: Vec<IceServer>, max_peers: usize },
    PeerJoined { peer: PeerInfo },
    PeerLeft { id: PeerId },
    Signal { from: PeerId, data: Box<RawValue> },
    Error { code: ErrorCode, message: String },
    Pong,
}

/// Why a frame is not a valid message. Every variant maps to [`ErrorCode::BadMessage`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a JSON message object: {0}")]
    Json(String),
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("message type {kind:?} needs the field {field:?}")]
    MissingField { kind: &'static str, field: &'static str },
}

impl ParseError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::BadMessage
    }
}

fn need<T>(value: Option<T>, kind: &'static str, field: &'static str) -> Result<T, ParseError> {
    value.ok_or(ParseError::MissingField { kind, field })
}

fn json_error(e: serde_json::Error) -> ParseError {
    ParseError::Json(e.to_string())
}

/// Every field any client message may carry. Unknown fields are ignored so newer clients stay compatible.
#[derive(Deserialize)]
struct ClientEnvelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    room: Option<String>,
    name: Option<String>,
    version: Option<u32>,
    fingerprint: Option<String>,
    to: Option<PeerId>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

impl ClientMessage {
    /// Parses one text frame. Never panics, whatever the input.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let env: ClientEnvelope<'_> = serde_json::from_str(text).map_err(json_error)?;
        Ok(match &*env.kind {
            "join" => ClientMessage::Join {
                room: need(env.room, "join", "room")?,
                name: need(env.name, "join", "name")?,
                version: need(env.version, "join", "version")?,
                fingerprint: env.fingerprint,
            },
            "signal" => ClientMessage::Signal {
                to: need(env.to, "signal", "to")?,
                data: need(env.data, "signal", "data")?.to_owned(),
            },
            "leave" => ClientMessage::Leave,
            "ping" => ClientMessage::Ping,
            other => return Err(ParseError::UnknownType(other.chars().take(32).collect())),
        })
    }

    /// A `signal` message carrying typed [`crate::SignalData`].
    pub fn signal(to: impl Into<PeerId>, data: &crate::SignalData) -> Self {
        ClientMessage::Signal { to: to.into(), data: data.to_raw() }
    }

    /// The JSON text frame for this message.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("client messages always serialize")
    }
}

#[derive(Deserialize)]
struct ServerEnvelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    id: Option<PeerId>,
    room: Option<String>,
    peers: Option<Vec<PeerInfo>>,
    ice_servers: Option<Vec<IceServer>>,
    max_peers: Option<usize>,
    peer: Option<PeerInfo>,
    from: Option<PeerId>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    code: Option<ErrorCode>,
    message: Option<String>,
}

impl ServerMessage {
    /// Parses one text frame from a server. Never panics, whatever the input.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let env: ServerEnvelope<'_> = serde_json::from_str(text).map_err(json_error)?;
        Ok(match &*env.kind {
            "joined" => ServerMessage::Joined {
                id: need(env.id, "joined", "id")?,
                room: need(env.room, "joined", "room")?,
                peers: need(env.peers, "joined", "peers")?,
                ice_servers: env.ice_servers.unwrap_or_default(),
                max_peers: need(env.max_peers, "joined", "max_peers")?,
            },
            "peer_joined" => ServerMessage::PeerJoined { peer: need(env.peer, "peer_joined", "peer")? },
            "peer_left" => ServerMessage::PeerLeft { id: need(env.id, "peer_left", "id")? },
            "signal" => ServerMessage::Signal {
                from: need(env.from, "signal", "from")?,
                data: need(env.data, "signal", "data")?.to_owned(),
            },
            "error" => ServerMessage::Error {
                code: need(env.code, "error", "code")?,
                message: env.message.unwrap_or_default(),
            },
            "pong" => ServerMessage::Pong,
            other => return Err(ParseError::UnknownType(other.chars().take(32).collect())),
        })
    }

    /// An `error` message.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerMessage::Error { code, message: message.into() }
    }

    /// The JSON text frame for this message.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn client_messages_parse_as_documented() {
        match ClientMessage::parse(r#"{"type":"join","room":"abc-defg-hij","name":"Ann","version":1}"#) {
            Ok(ClientMessage::Join { room, name, version, fingerprint: None }) => {
                assert_eq!((room.as_str(), name.as_str(), version), ("abc-defg-hij", "Ann", 1));
            }
            other => panic!("{other:?}"),
        }
        let fp = format!("sha-256 {}", ["AB"; 32].join(":"));
        let text = format!(r#"{{"type":"join","room":"r","name":"Ann","version":1,"fingerprint":"{fp}"}}"#);
        match ClientMessage::parse(&text) {
            Ok(ClientMessage::Join { fingerprint, .. }) => assert_eq!(fingerprint, Some(fp.clone())),
            other => panic!("{other:?}"),
        }
        // Fingerprints in one canonical form; anything else is none.
        assert_eq!(
            Fingerprint::normalize(&fp.replace("sha-256", "SHA-256").to_lowercase()),
            Some(fp.clone())
        );
        assert_eq!(Fingerprint::of_digest(&[0xab; 32]), fp);
        for bad in ["", "sha-256", "sha-1 AB:CD", "sha-256 AB:CD", "sha-256 ZZ:AB", "é", &fp.replace(':', "")]
        {
            assert_eq!(Fingerprint::normalize(bad), None, "{bad:?}");
        }
        let text = r#"{"type":"signal","to":"p1","data":{"sdp":{"type":"offer","sdp":"v=0\r\n"}}}"#;
        match ClientMessage::parse(text) {
            Ok(ClientMessage::Signal { to, data }) => {
                assert_eq!(to, "p1");
                assert_eq!(data.get(), r#"{"sdp":{"type":"offer","sdp":"v=0\r\n"}}"#);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(ClientMessage::parse(r#"{"type":"leave"}"#), Ok(ClientMessage::Leave)));
        assert!(matches!(ClientMessage::parse(r#"{"type":"ping","extra":1}"#), Ok(ClientMessage::Ping)));
    }

    #[test]
    fn bad_client_messages_are_errors() {
        assert!(matches!(ClientMessage::parse("{"), Err(ParseError::Json(_))));
        assert!(matches!(ClientMessage::parse("[]"), Err(ParseError::Json(_))));
        assert!(matches!(ClientMessage::parse(r#"{"type":"dance"}"#), Err(ParseError::UnknownType(_))));
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"join","room":"x","name":"y"}"#),
            Err(ParseError::MissingField { field: "version", .. })
        ));
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"join","room":5,"name":"y","version":1}"#),
            Err(ParseError::Json(_))
        ));
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"signal","to":"a"}"#),
            Err(ParseError::MissingField { .. })
        ));
    }

    #[test]
    fn round_trips() {
        let msgs = [
            ServerMessage::Joined {
                id: "a".into(),
                room: "abc-defg-hij".into(),
                peers: vec![PeerInfo::new("b", "Bo")],
                ice_servers: vec![IceServer {
                    urls: vec!["turn:127.0.0.1:3478".into()],
                    username: Some("1:a".into()),
                    credential: Some("x".into()),
                }],
                max_peers: 6,
            },
            ServerMessage::PeerJoined { peer: PeerInfo::new("b", "Bo") },
            ServerMessage::PeerLeft { id: "b".into() },
            ServerMessage::Signal { from: "b".into(), data: raw(r#"{"candidate":null}"#) },
            ServerMessage::error(ErrorCode::RoomFull, "room is full"),
            ServerMessage::Pong,
        ];
        for m in msgs {
            let text = m.to_json();
            let back = ServerMessage::parse(&text).unwrap();
            assert_eq!(back.to_json(), text);
        }
        assert_eq!(
            ServerMessage::Signal { from: "b".into(), data: raw(r#"{"candidate":null}"#) }.to_json(),
            r#"{"type":"signal","from":"b","data":{"candidate":null}}"#
        );
        assert_eq!(ServerMessage::Pong.to_json(), r#"{"type":"pong"}"#);
        assert_eq!(ClientMessage::Leave.to_json(), r#"{"type":"leave"}"#);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = ClientMessage::parse(&text);
            let _ = ServerMessage::parse(&text);
        }

        #[test]
        fn json_like_input_never_panics(text in r#"\{("[a-z_]{1,8}":("[a-z0-9]{0,6}"|[0-9]{1,3}|null|\[\]|\{\}|true),?){0,6}\}"#) {
            let _ = ClientMessage::parse(&text);
            let _ = ServerMessage::parse(&text);
        }

        #[test]
        fn any_type_value_never_panics(kind in ".{0,40}", room in ".{0,40}") {
            let text = serde_json::json!({"type": kind, "room": room, "name": "n", "version": 1, "to": "x", "data": {}}).to_string();
            let _ = ClientMessage::parse(&text);
        }
    }
}

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
        /// The sender can take part in a room through the SFU (`sfu_*` messages); absent means no.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        sfu: bool,
    },
    Signal {
        to: PeerId,
        data: Box<RawValue>,
    },
    /// The offer of the connection that sends our media to the SFU (after `sfu_publish`, and again when
    /// a shared screen starts or ends), with every candidate in it.
    SfuOffer {
        sdp: String,
        /// The `mid` of the m-section carrying the screen we share, while we share one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        screen: Option<String>,
    },
    /// The answer to an `sfu_offer`, with every candidate in it.
    SfuAnswer {
        sdp: String,
    },
    Leave,
    Ping,
}

/// One stream of an `sfu_offer`: the m-section `mid` carries participant `peer`'s `kind` (audio, video):
/// their microphone, their camera, or (`screen`) the screen they share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SfuStream {
    pub mid: String,
    pub peer: PeerId,
    pub kind: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub screen: bool,
}

impl SfuStream {
    /// Participant `peer`'s microphone or camera (`kind` audio or video) on m-section `mid`.
    pub fn new(mid: impl Into<String>, peer: impl Into<PeerId>, kind: impl Into<String>) -> Self {
        SfuStream { mid: mid.into(), peer: peer.into(), kind: kind.into(), screen: false }
    }

    /// The screen participant `peer` shares, on m-section `mid`.
    pub fn screen(mid: impl Into<String>, peer: impl Into<PeerId>) -> Self {
        SfuStream { screen: true, ..SfuStream::new(mid, peer, "video") }
    }
}

/// Server → client.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Joined {
        id: PeerId,
        room: String,
        peers: Vec<PeerInfo>,
        ice_servers: Vec<IceServer>,
        max_peers: usize,
        /// The room goes through the SFU: publish when told, open no connection to the others.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        sfu: bool,
    },
    PeerJoined {
        peer: PeerInfo,
    },
    PeerLeft {
        id: PeerId,
    },
    Signal {
        from: PeerId,
        data: Box<RawValue>,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
    Pong,
    /// The room now goes through the SFU: send an `sfu_offer` for our media.
    SfuPublish,
    /// The SFU's answer to our `sfu_offer`.
    SfuAnswer {
        sdp: String,
    },
    /// The SFU offers the others' media (a new offer whenever the streams change); answer with `sfu_answer`.
    SfuOffer {
        sdp: String,
        streams: Vec<SfuStream>,
    },
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
    sfu: Option<bool>,
    sdp: Option<String>,
    screen: Option<String>,
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
                sfu: env.sfu.unwrap_or(false),
            },
            "signal" => ClientMessage::Signal {
                to: need(env.to, "signal", "to")?,
                data: need(env.data, "signal", "data")?.to_owned(),
            },
            "sfu_offer" => {
                ClientMessage::SfuOffer { sdp: need(env.sdp, "sfu_offer", "sdp")?, screen: env.screen }
            }
            "sfu_answer" => ClientMessage::SfuAnswer { sdp: need(env.sdp, "sfu_answer", "sdp")? },
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
    sfu: Option<bool>,
    sdp: Option<String>,
    streams: Option<Vec<SfuStream>>,
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
                sfu: env.sfu.unwrap_or(false),
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
            "sfu_publish" => ServerMessage::SfuPublish,
            "sfu_answer" => ServerMessage::SfuAnswer { sdp: need(env.sdp, "sfu_answer", "sdp")? },
            "sfu_offer" => ServerMessage::SfuOffer {
                sdp: need(env.sdp, "sfu_offer", "sdp")?,
                streams: need(env.streams, "sfu_offer", "streams")?,
            },
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
#[path = "message_tests.rs"]
mod tests;

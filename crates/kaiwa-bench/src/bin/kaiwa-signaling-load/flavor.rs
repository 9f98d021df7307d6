//! The two wire protocols the tool speaks: ours and Socket.IO's.

use anyhow::Context;
use kaiwa_protocol::ServerMessage;

/// The wire protocol a server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Ours: one JSON object per text frame (`docs/PROTOCOL.md`).
    Kaiwa,
    /// Socket.IO 4 over Engine.IO v4 on a WebSocket: `42["event",payload]` frames, pings `2` answered by `3`.
    SocketIo,
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Kaiwa => "kaiwa-signaling",
            Flavor::SocketIo => "Socket.IO relay",
        }
    }

    pub fn ws_path(self) -> &'static str {
        match self {
            Flavor::Kaiwa => kaiwa_protocol::WS_PATH,
            Flavor::SocketIo => "/socket.io/?EIO=4&transport=websocket",
        }
    }

    pub fn join(self, room: &str) -> String {
        match self {
            Flavor::Kaiwa => format!(r#"{{"type":"join","room":"{room}","name":"load","version":1}}"#),
            Flavor::SocketIo => format!(r#"42["join",{{"room":"{room}","name":"load"}}]"#),
        }
    }

    /// A signal to `to` carrying the send time `t` (ns since the run's `t0`).
    pub fn signal(self, to: &str, t: u64) -> String {
        match self {
            Flavor::Kaiwa => format!(r#"{{"type":"signal","to":"{to}","data":{{"t":{t}}}}}"#),
            Flavor::SocketIo => format!(r#"42["signal",{{"to":"{to}","data":{{"t":{t}}}}}]"#),
        }
    }

    /// Whether `text` is the server refusing something.
    pub fn is_error(self, text: &str) -> bool {
        match self {
            Flavor::Kaiwa => text.contains(r#""type":"error""#),
            Flavor::SocketIo => text.starts_with(r#"42["failure""#),
        }
    }

    /// Engine.IO's ping, which the client must answer with `3` within the server's ping timeout.
    pub fn is_ping(self, text: &str) -> bool {
        self == Flavor::SocketIo && text == "2"
    }

    pub fn parse(self, text: &str) -> anyhow::Result<Event> {
        match self {
            Flavor::Kaiwa => Ok(match ServerMessage::parse(text)? {
                ServerMessage::Joined { id, .. } => Event::Joined(id),
                ServerMessage::PeerJoined { .. } => Event::PeerJoined,
                other => Event::Other(format!("{other:?}")),
            }),
            Flavor::SocketIo => {
                let Some(event) = text.strip_prefix("42") else {
                    return Ok(Event::Other(text.to_owned()));
                };
                let (name, payload): (String, serde_json::Value) = serde_json::from_str(event)?;
                Ok(match name.as_str() {
                    "joined" => {
                        Event::Joined(payload["id"].as_str().context("joined without id")?.to_owned())
                    }
                    "peer_joined" => Event::PeerJoined,
                    _ => Event::Other(text.to_owned()),
                })
            }
        }
    }
}

/// What the join phase needs to know about a server message.
#[derive(Debug)]
pub enum Event {
    Joined(String),
    PeerJoined,
    /// Anything else, kept for the error message.
    Other(#[allow(dead_code, reason = "only shown through Debug")] String),
}

//! What the engine tells its owner (the GUI or the CLI).

use kaiwa_protocol::{PeerId, PeerInfo};
use serde::Serialize;

use crate::chat::ChatMessage;

/// A remote participant's connection, in words a person understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerState {
    Connecting,
    Connected,
    Reconnecting,
    Closed,
}

#[derive(Debug)]
pub enum EngineEvent {
    /// In the room (again, after a signaling reconnect, when `rejoined`).
    Joined {
        id: PeerId,
        room: String,
        max_peers: usize,
        rejoined: bool,
    },
    PeerJoined(PeerInfo),
    PeerLeft(PeerInfo),
    PeerState {
        id: PeerId,
        state: PeerState,
    },
    Chat {
        from: PeerId,
        message: ChatMessage,
    },
    /// The signaling server is out of reach; calls in progress go on peer to peer meanwhile.
    SignalingLost {
        reason: String,
        retry_in: std::time::Duration,
    },
    /// The call cannot go on (server unreachable, room full, ...). One plain-language line.
    Failed(String),
}

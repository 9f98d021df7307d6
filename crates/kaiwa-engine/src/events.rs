//! What the engine tells its owner (the GUI or the CLI).

use kaiwa_protocol::{ErrorCode, PeerId, PeerInfo};
use serde::Serialize;

use crate::chat::ChatMessage;
use crate::media::audio_playout::{AudioLevel, AudioVolume};

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
    /// A participant we stay connected to rejoined the server under a new id (after a server restart),
    /// and proved it over our connection (its certificate); from now on it is known by `new`.
    PeerRenamed {
        old: PeerId,
        new: PeerId,
    },
    PeerState {
        id: PeerId,
        state: PeerState,
    },
    Chat {
        from: PeerId,
        message: ChatMessage,
    },
    /// A participant's microphone and camera are on or off, and whether it shares a screen, as it
    /// announces it on the data channel (`{"type":"media"}`; browsers and this engine send it). Without an
    /// announcement microphone and camera count as on. The shared screen's pictures go to
    /// [`crate::sinks::MediaSinks::screen`].
    PeerMedia {
        id: PeerId,
        mic: bool,
        camera: bool,
        screen: bool,
    },
    /// A participant's audio started playing; `level` follows how loud they are (for a speaking indicator),
    /// and `volume` sets how loud they play here (a per-person volume; 1.0 until set).
    PeerAudioLevel {
        id: PeerId,
        level: AudioLevel,
        volume: AudioVolume,
    },
    /// Our shared screen is no longer shared (or a share was refused), and why; the call goes on.
    ScreenShareEnded(ShareEnded),
    /// The signaling server is out of reach; calls in progress go on peer to peer meanwhile.
    SignalingLost {
        reason: String,
        retry_in: std::time::Duration,
    },
    /// The call cannot go on (server unreachable, room full, ...).
    Failed(Failure),
}

/// Why the call cannot go on: one plain-language line, and the server's error code when the server
/// refused us (room full, bad room code, version mismatch), so a client can say it in its own language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: Option<ErrorCode>,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { code: None, message }
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        message.to_owned().into()
    }
}

/// Why our screen stopped being shared: the app words it in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareEnded {
    /// The screen can no longer be captured (its window closed, the display went away), in the capture's
    /// own words.
    SourceEnded(String),
}

impl std::fmt::Display for ShareEnded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShareEnded::SourceEnded(why) => f.write_str(why),
        }
    }
}

use serde::{Deserialize, Serialize};

/// Stable error codes carried by `{"type":"error","code":...}`. Clients match on these, never on the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not valid JSON, an unknown `type`, a missing field or a field of the wrong type; binary frames too.
    BadMessage,
    /// The room code does not match `[a-z0-9-]{3,64}` (after lower-casing).
    BadRoomCode,
    /// The room already holds `max_peers` participants.
    RoomFull,
    /// `signal` or `leave` sent before `join`.
    NotJoined,
    /// A second `join` on a connection that is already in a room.
    AlreadyJoined,
    /// `signal.to` names no participant of the sender's room.
    UnknownPeer,
    /// A frame or message over the server's size limit; the server closes the connection.
    TooLarge,
    /// Messages sent faster than the server's per-connection limit; sustained flooding closes the connection.
    RateLimited,
    /// `join.version` is not a version this server speaks.
    VersionMismatch,
    /// The server holds its maximum number of connections; it closes this one.
    ServerFull,
    /// Nothing happened in time (no `join` after connecting, or the peer stopped answering pings).
    Timeout,
    /// This client could not keep up with the messages sent to it; the server closes the connection.
    SlowConsumer,
    /// The server cannot serve rooms for now (in cluster mode: its Redis is out of reach); the server closes
    /// the connection and the client should reconnect and join again.
    Unavailable,
    /// Any code this version of the crate does not know (sent by a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// Every code a server may send, in a fixed order (metrics use it).
    pub const ALL: [ErrorCode; 13] = [
        ErrorCode::BadMessage,
        ErrorCode::BadRoomCode,
        ErrorCode::RoomFull,
        ErrorCode::NotJoined,
        ErrorCode::AlreadyJoined,
        ErrorCode::UnknownPeer,
        ErrorCode::TooLarge,
        ErrorCode::RateLimited,
        ErrorCode::VersionMismatch,
        ErrorCode::ServerFull,
        ErrorCode::Timeout,
        ErrorCode::SlowConsumer,
        ErrorCode::Unavailable,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadMessage => "bad_message",
            ErrorCode::BadRoomCode => "bad_room_code",
            ErrorCode::RoomFull => "room_full",
            ErrorCode::NotJoined => "not_joined",
            ErrorCode::AlreadyJoined => "already_joined",
            ErrorCode::UnknownPeer => "unknown_peer",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::VersionMismatch => "version_mismatch",
            ErrorCode::ServerFull => "server_full",
            ErrorCode::Timeout => "timeout",
            ErrorCode::SlowConsumer => "slow_consumer",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Unknown => "unknown",
        }
    }

    /// Whether the server closes the connection after sending this error.
    pub fn closes_connection(self) -> bool {
        matches!(
            self,
            ErrorCode::TooLarge
                | ErrorCode::ServerFull
                | ErrorCode::Timeout
                | ErrorCode::SlowConsumer
                | ErrorCode::Unavailable
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_as_str() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
    }

    #[test]
    fn unknown_codes_from_newer_servers_parse() {
        assert_eq!(serde_json::from_str::<ErrorCode>("\"maintenance\"").unwrap(), ErrorCode::Unknown);
    }
}

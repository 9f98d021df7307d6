//! Kaiwa's signaling protocol: the JSON messages exchanged over the `/ws` WebSocket, their error codes,
//! and room codes. Shared by the signaling server and every client; no I/O happens here.
//!
//! The wire format is specified in `docs/PROTOCOL.md`; the examples there are tested in this crate.
// What other participants send reaches this code: no slicing a string at a byte index (a multi-byte
// character there panics), and no `unwrap` outside tests (CODE_STYLE.md, "Remote input").
#![warn(clippy::string_slice)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod error_code;
mod message;
mod room_code;
mod signal;

pub use error_code::ErrorCode;
pub use message::{
    ClientMessage, Fingerprint, IceServer, ParseError, PeerId, PeerInfo, ServerMessage, SfuStream,
};
pub use room_code::{RoomCode, RoomCodeError};
pub use signal::{IceCandidateInit, SdpType, SessionDescription, SignalData};

/// The protocol version a client announces in `join`. The server refuses any other with `version_mismatch`.
pub const PROTOCOL_VERSION: u32 = 1;

/// The WebSocket path the server accepts signaling connections on.
pub const WS_PATH: &str = "/ws";

/// Longest display name accepted in `join`, in characters.
pub const MAX_NAME_CHARS: usize = 64;

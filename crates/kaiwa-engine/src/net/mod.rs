//! Network plumbing around webrtc-rs.

mod impairment;
mod turn_framing;
mod turn_stream;

pub use impairment::{ImpairedRuntime, Impairment};
pub use turn_stream::{RelayTransports, StreamTransport, TurnStreams};

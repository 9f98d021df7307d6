//! One WebRTC peer connection per remote participant.

pub mod factory;
mod handler;
mod pacer;
mod pacing;
pub mod rtcp_forward;
mod session;
mod tracks;

pub use session::{NegotiationCounters, PeerContext, PeerHandle, PeerInput, PeerSession};
pub use tracks::SendStats;

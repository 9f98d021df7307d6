//! One WebRTC peer connection per remote participant.

mod estimator;
pub mod factory;
mod handler;
pub mod id_claims;
pub mod identity;
mod loss_based;
mod pacer;
mod pacing;
mod queue_delay;
pub mod rejected_sections;
pub mod rtcp_forward;
mod session;
mod tracks;
mod video_formats;

pub use session::{IdClaim, NegotiationCounters, PeerContext, PeerHandle, PeerInput, PeerSession};
pub use tracks::SendStats;
pub use video_formats::VideoFormats;

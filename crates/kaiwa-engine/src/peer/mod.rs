//! One WebRTC peer connection per remote participant.

pub mod candidates;
mod ceiling;
pub(crate) mod dtls_role;
mod estimator;
pub mod factory;
mod feedback_rate;
pub(crate) mod handler;
pub mod id_claims;
pub mod identity;
mod loss_based;
pub mod negotiation;
mod pacer;
mod pacing;
mod queue_delay;
pub mod rejected_sections;
pub(crate) mod remote_rtp;
pub(crate) mod remote_tracks;
pub mod rtcp_forward;
mod session;
pub(crate) mod tracks;
mod video_formats;

pub use ceiling::Ceiling;
pub use session::{IdClaim, NegotiationCounters, PeerContext, PeerHandle, PeerInput, PeerSession};
pub use tracks::SendStats;
pub use video_formats::VideoFormats;

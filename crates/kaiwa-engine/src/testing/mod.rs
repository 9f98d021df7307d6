//! Test tools, not used by the app: [`Hostile`], a participant that joins a room on the real signaling
//! server like anyone else and then misbehaves on purpose (false claims and garbage on the data channel,
//! raw signals, forged RTP and RTCP), so tests can show that the honest participants' call goes on; the
//! hostile cases themselves ([`hostile_cases`]); and [`Mitm`], a signaling relay that swaps fingerprints.

mod cases;
pub mod forge;
mod hostile;
mod mitm;

pub use cases::{Action, TRACK_FLOOD, hostile_cases, media_cases};
pub use hostile::{Hostile, HostileError};
pub use mitm::Mitm;
pub use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;

use crate::peer::candidates::{from_webrtc, to_webrtc};

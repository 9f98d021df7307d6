//! Network plumbing around webrtc-rs.

pub mod check;
mod check_run;
mod impairment;
mod turn_framing;
mod turn_stream;

pub use check_run::{CheckOptions, run as run_check};
pub use impairment::{ImpairedRuntime, Impairment};
pub use turn_stream::{RelayTransports, StreamTransport, TurnStreams};

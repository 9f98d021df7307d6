//! Network plumbing around webrtc-rs.

mod impairment;

pub use impairment::{ImpairedRuntime, Impairment};

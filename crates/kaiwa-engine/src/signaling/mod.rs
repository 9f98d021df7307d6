//! The signaling client: one WebSocket to the server, kept joined to one room across disconnects.

mod client;
mod transport;

pub use client::{SignalingClient, SignalingConfig, SignalingEvent};
pub use transport::{ConnectError, ServerUrl, Trust};

//! The signaling client: one WebSocket to the server, kept joined to one room across disconnects.

mod client;
pub mod http;
mod transport;

pub use client::{SignalingClient, SignalingConfig, SignalingEvent, SignalingFailure};
pub use kaiwa_tls::probe::PresentedCert;
pub use transport::{ConnectError, ServerUrl, Trust, client_tls_config, probe_certificate};

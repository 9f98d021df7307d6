//! Kaiwa's signaling server: rooms by code, relay of SDP offers/answers and ICE candidates between the
//! participants of a room, TURN credentials, and the embedded browser client — on one port, over HTTP or
//! HTTPS. The wire protocol is in `kaiwa-protocol` and `docs/PROTOCOL.md`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! kaiwa_signaling::serve(listener, kaiwa_signaling::Config::default(), None, shutdown).await
//! # }
//! ```
// What other participants send reaches this code: no slicing a string at a byte index (a multi-byte
// character there panics), and no `unwrap` outside tests (CODE_STYLE.md, "Remote input").
#![warn(clippy::string_slice)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod assets;
pub mod cli;
mod cluster;
pub mod config;
mod http;
mod kicker;
mod metrics;
mod rate_limit;
mod rooms;
mod server;
mod session;
mod sfu;
mod state;
pub mod stun;
pub mod tls;
pub mod turn;
mod writer;

pub use config::{Config, Limits, Settings, TlsMode, TurnAuth};
pub use server::serve;

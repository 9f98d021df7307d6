//! TLS pieces shared by Kaiwa's server and clients.
//!
//! A Kaiwa server on a LAN usually runs with a self-signed certificate (`--tls-self-signed`). No
//! certificate authority vouches for it, so clients trust it the way SSH trusts host keys: by the
//! SHA-256 fingerprint of its certificate, which the server prints at start-up. The fingerprint is either
//! given (`--trust-fingerprint`) or learnt on first contact ([`probe`]) and remembered ([`known_hosts`]).
// What other participants send reaches this code: no slicing a string at a byte index (a multi-byte
// character there panics), and no `unwrap` outside tests (CODE_STYLE.md, "Remote input").
#![warn(clippy::string_slice)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod fingerprint;
pub mod known_hosts;
mod pinning;
pub mod probe;

pub use fingerprint::{Fingerprint, FingerprintError};
pub use known_hosts::{HostCheck, KnownHosts, KnownHostsError};
pub use pinning::{PinnedServerCertVerifier, pinned_client_config};

//! TLS pieces shared by Kaiwa's server and clients.
//!
//! A Kaiwa server on a LAN usually runs with a self-signed certificate (`--tls-self-signed`). No
//! certificate authority vouches for it, so clients trust it the way SSH trusts host keys: by the
//! SHA-256 fingerprint of its certificate, which the server prints at start-up.

mod fingerprint;
mod pinning;

pub use fingerprint::{Fingerprint, FingerprintError};
pub use pinning::{PinnedServerCertVerifier, pinned_client_config};

//! TURN credentials handed to clients in `joined.ice_servers`.
//!
//! With a shared secret the server follows the TURN REST API scheme that coturn's `use-auth-secret`
//! implements (draft-uberti-behave-turn-rest-00, <https://datatracker.ietf.org/doc/html/draft-uberti-behave-turn-rest-00>):
//! username = `<expiry unix time>:<peer id>`, credential = base64(HMAC-SHA1(secret, username)).
//! The secret itself never leaves the server.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use kaiwa_protocol::IceServer;
use sha1::Sha1;

use crate::config::{Config, TurnAuth};

/// Mints a time-limited credential for `peer_id`, valid until `now + ttl`.
pub fn rest_credentials(secret: &str, peer_id: &str, ttl: Duration, now: SystemTime) -> (String, String) {
    let expiry = now.duration_since(UNIX_EPOCH).unwrap_or_default().saturating_add(ttl).as_secs();
    let username = format!("{expiry}:{peer_id}");
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, credential)
}

/// The ICE servers for one participant: STUN as configured, TURN with fresh credentials.
pub fn ice_servers_for(config: &Config, peer_id: &str, now: SystemTime) -> Vec<IceServer> {
    let mut servers = Vec::new();
    if !config.stun.is_empty() {
        servers.push(IceServer { urls: config.stun.clone(), username: None, credential: None });
    }
    if !config.turn.is_empty() {
        let (username, credential) = match &config.turn_auth {
            Some(TurnAuth::Secret { secret, ttl }) => {
                let (u, c) = rest_credentials(secret, peer_id, *ttl, now);
                (Some(u), Some(c))
            }
            Some(TurnAuth::Static { username, password }) => (Some(username.clone()), Some(password.clone())),
            None => (None, None),
        };
        servers.push(IceServer { urls: config.turn.clone(), username, credential });
    }
    servers
}

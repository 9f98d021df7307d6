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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_an_independently_computed_vector() {
        // Computed with Python's hmac module:
        // base64(hmac.new(b"kaiwa-test-secret", b"1700000000:0123456789abcdef", sha1).digest())
        let now = UNIX_EPOCH + Duration::from_secs(1_699_999_000);
        let (user, cred) =
            rest_credentials("kaiwa-test-secret", "0123456789abcdef", Duration::from_secs(1000), now);
        assert_eq!(user, "1700000000:0123456789abcdef");
        assert_eq!(cred, "vUH22SAtkdlUZFzaj1JnFUh/3ig=");
    }

    #[test]
    fn ice_servers_carry_no_secret() {
        let config = Config {
            stun: vec!["stun:127.0.0.1:3478".into()],
            turn: vec!["turn:127.0.0.1:3478".into()],
            turn_auth: Some(TurnAuth::Secret { secret: "s3cret".into(), ttl: Duration::from_secs(60) }),
            ..Config::default()
        };
        let servers = ice_servers_for(&config, "peer", SystemTime::now());
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].username, None);
        let json = serde_json::to_string(&servers).unwrap();
        assert!(!json.contains("s3cret"));
        assert!(servers[1].username.as_deref().unwrap().ends_with(":peer"));
    }
}

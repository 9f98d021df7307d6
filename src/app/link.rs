//! What people paste into the room field: a bare code or a join link `https://HOST:PORT/r/CODE`.

use kaiwa_protocol::{RoomCode, RoomCodeError};

use super::i18n::t;

/// A parsed room field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRef {
    pub code: RoomCode,
    /// `ws(s)://HOST:PORT/ws` when a link was pasted.
    pub server: Option<String>,
}

pub fn parse_room(input: &str) -> Result<RoomRef, String> {
    let input = input.trim();
    for (scheme, ws) in [("https://", "wss://"), ("http://", "ws://")] {
        if let Some(rest) = input.strip_prefix(scheme) {
            let (host, path) = rest.split_once('/').ok_or_else(|| t!("link-no-room"))?;
            let code = path.strip_prefix("r/").ok_or_else(|| t!("link-not-kaiwa"))?;
            let code = code.split(['?', '#', '/']).next().unwrap_or_default();
            let code = RoomCode::parse(code).map_err(room_code_error)?;
            return Ok(RoomRef { code, server: Some(format!("{ws}{host}/ws")) });
        }
    }
    let code = RoomCode::parse(input).map_err(room_code_error)?;
    Ok(RoomRef { code, server: None })
}

/// Why a code is not one, in the app's language.
fn room_code_error(e: RoomCodeError) -> String {
    match e {
        RoomCodeError::Length => t!("room-code-length"),
        RoomCodeError::Characters => t!("room-code-characters"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_links() {
        let r = parse_room(" abc-defg-hij ").unwrap();
        assert_eq!(r.code.key(), "abcdefghij");
        assert_eq!(r.server, None);
        let r = parse_room("https://192.168.1.5:8443/r/abc-defg-hij").unwrap();
        assert_eq!(r.code.key(), "abcdefghij");
        assert_eq!(r.server.as_deref(), Some("wss://192.168.1.5:8443/ws"));
        let r = parse_room("http://127.0.0.1:8080/r/team?x=1").unwrap();
        assert_eq!(r.server.as_deref(), Some("ws://127.0.0.1:8080/ws"));
        assert!(parse_room("https://host/x/abc").is_err());
        assert!(parse_room("a").is_err());
    }
}

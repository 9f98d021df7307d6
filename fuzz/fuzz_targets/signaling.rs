//! Arbitrary text as a signaling frame: what the server parses from clients, what clients parse from the
//! server, the signals relayed between them, and the fields both normalize (fingerprints, room codes).
//! Nothing may panic.
#![no_main]

use kaiwa_engine::peer::identity::verification_code;
use kaiwa_protocol::{ClientMessage, Fingerprint, RoomCode, ServerMessage, SignalData};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = ClientMessage::parse(&text);
    let _ = ServerMessage::parse(&text);
    let _ = serde_json::from_str::<SignalData>(&text);
    let _ = RoomCode::parse(&text);
    if let Some(normal) = Fingerprint::normalize(&text) {
        assert!(normal.len() <= Fingerprint::MAX_LEN);
        assert_eq!(Fingerprint::normalize(&normal).as_deref(), Some(normal.as_str()));
    }
    // Two fingerprints, split where the input says.
    let (a, b) = text.split_at(text.char_indices().nth(text.len() / 2).map_or(0, |(i, _)| i));
    if let Some(code) = verification_code(a, b) {
        assert_eq!(code.len(), 7, "{code:?}");
        assert_eq!(verification_code(b, a).as_deref(), Some(code.as_str()));
    }
});

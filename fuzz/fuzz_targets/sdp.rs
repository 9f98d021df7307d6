//! Arbitrary text as session descriptions, through the SDP handling we do ourselves: the video formats
//! both sides have after an exchange, and the removal of ICE credentials from rejected sections.
//! Nothing may panic, and the removal only ever takes lines away.
#![no_main]

use kaiwa_engine::peer::VideoFormats;
use kaiwa_engine::peer::rejected_sections::without_rejected_credentials;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Local and remote description, split at the first NUL (or the remote alone).
    let (local, remote) = text.split_once('\0').unwrap_or(("", &text));
    let _ = VideoFormats::default().after_exchange(local, remote);
    let cleaned = without_rejected_credentials(remote);
    assert!(cleaned.len() <= remote.len());
    assert!(cleaned.lines().count() <= remote.lines().count());
});

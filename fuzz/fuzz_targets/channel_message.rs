//! Arbitrary text as a data-channel message (chat, id and media announcements) from another
//! participant. Nothing may panic, and what is kept stays within its limits.
#![no_main]

use kaiwa_engine::chat::{ChannelMessage, ChatMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match ChannelMessage::parse(&text) {
        Some(ChannelMessage::Id(id)) => assert!(!id.is_empty() && id.len() <= 64, "{id:?}"),
        Some(ChannelMessage::Media(media)) => {
            let codecs = &media.video_codecs;
            assert!(codecs.len() <= 16);
            assert!(codecs.iter().all(|c| !c.is_empty() && c.len() <= 32), "{codecs:?}");
            let screen = media.screen.as_deref().unwrap_or("x");
            assert!(!screen.is_empty() && screen.len() <= 64, "{screen:?}");
        }
        Some(ChannelMessage::Chat(chat)) => assert!(chat.from.chars().count() <= 64, "{:?}", chat.from),
        None => {}
    }
    let _ = ChatMessage::parse(&text);
});

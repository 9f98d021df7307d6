//! Chat over the `chat` data channel: ordered, reliable, one JSON text message per chat line, the same
//! shape the browser client uses.

use serde::{Deserialize, Serialize};

/// The data channel's label.
pub const CHANNEL_LABEL: &str = "chat";
/// Longest chat text accepted, in characters.
pub const MAX_CHAT_CHARS: usize = 4000;

/// `{"type":"chat","from":NAME,"text":TEXT,"ts":UNIX_MS}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "chat")]
pub struct ChatMessage {
    pub from: String,
    pub text: String,
    /// Milliseconds since the Unix epoch, as the sender's clock had it.
    pub ts: u64,
}

impl ChatMessage {
    /// A chat line from `from`, stamped now.
    pub fn now(from: &str, text: &str) -> ChatMessage {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        ChatMessage { from: from.to_owned(), text: text.to_owned(), ts }
    }

    pub fn parse(text: &str) -> Option<ChatMessage> {
        let msg: ChatMessage = serde_json::from_str(text).ok()?;
        (msg.text.chars().count() <= MAX_CHAT_CHARS).then_some(msg)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape() {
        let m = ChatMessage { from: "Ann".into(), text: "hi <b>".into(), ts: 5 };
        assert_eq!(m.to_json(), r#"{"type":"chat","from":"Ann","text":"hi <b>","ts":5}"#);
        assert_eq!(ChatMessage::parse(&m.to_json()), Some(m));
        assert_eq!(ChatMessage::parse(r#"{"type":"other"}"#), None);
        assert_eq!(ChatMessage::parse("not json"), None);
    }
}

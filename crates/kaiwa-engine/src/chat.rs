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

/// Anything that arrives on the `chat` channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelMessage {
    Chat(ChatMessage),
    /// `{"type":"id","id":ID}`: the sender's current signaling id. After a signaling server restart
    /// everyone rejoins with new ids; announcing them over the peer-to-peer channel lets each side keep
    /// its existing connection instead of building a second one.
    Id(String),
    /// `{"type":"media","mic":BOOL,"camera":BOOL}`: the sender's microphone and camera are on or off (sent
    /// when the channel opens and on every change; the browser client sends the same).
    Media {
        mic: bool,
        camera: bool,
    },
}

#[derive(Serialize, Deserialize)]
struct IdAnnouncement {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

/// A missing field means "on", as in the browser client. (`type` is checked by hand: serde's internal tag
/// on a struct does not check the tag's value when reading.)
#[derive(Serialize, Deserialize)]
struct MediaState {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    mic: Option<bool>,
    #[serde(default)]
    camera: Option<bool>,
}

impl ChannelMessage {
    pub fn parse(text: &str) -> Option<ChannelMessage> {
        if let Some(chat) = ChatMessage::parse(text) {
            return Some(ChannelMessage::Chat(chat));
        }
        if let Ok(MediaState { kind, mic, camera }) = serde_json::from_str(text)
            && kind == "media"
        {
            return Some(ChannelMessage::Media { mic: mic.unwrap_or(true), camera: camera.unwrap_or(true) });
        }
        let id: IdAnnouncement = serde_json::from_str(text).ok()?;
        (id.kind == "id" && !id.id.is_empty() && id.id.len() <= 64).then_some(ChannelMessage::Id(id.id))
    }

    /// `{"type":"media","mic":…,"camera":…}`
    pub fn media_state(mic: bool, camera: bool) -> String {
        let state = MediaState { kind: "media".into(), mic: Some(mic), camera: Some(camera) };
        serde_json::to_string(&state).unwrap_or_default()
    }

    pub fn id_announcement(id: &str) -> String {
        serde_json::to_string(&IdAnnouncement { kind: "id".into(), id: id.to_owned() }).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape() {
        let m = ChatMessage { from: "Ann".into(), text: "hi <b>".into(), ts: 5 };
        assert_eq!(m.to_json(), r#"{"type":"chat","from":"Ann","text":"hi <b>","ts":5}"#);
        assert_eq!(ChatMessage::parse(&m.to_json()), Some(m.clone()));
        assert_eq!(ChatMessage::parse(r#"{"type":"other"}"#), None);
        assert_eq!(ChatMessage::parse("not json"), None);
        let id = ChannelMessage::id_announcement("abc");
        assert_eq!(id, r#"{"type":"id","id":"abc"}"#);
        assert_eq!(ChannelMessage::parse(&id), Some(ChannelMessage::Id("abc".into())));
        assert!(matches!(ChannelMessage::parse(&m.to_json()), Some(ChannelMessage::Chat(_))));
        // The browser client's shape (assets/web/app.js), byte for byte.
        let media = ChannelMessage::media_state(false, true);
        assert_eq!(media, r#"{"type":"media","mic":false,"camera":true}"#);
        assert_eq!(ChannelMessage::parse(&media), Some(ChannelMessage::Media { mic: false, camera: true }));
        assert_eq!(
            ChannelMessage::parse(r#"{"camera":false,"type":"media","mic":true,"extra":1}"#),
            Some(ChannelMessage::Media { mic: true, camera: false })
        );
        assert_eq!(
            ChannelMessage::parse(r#"{"type":"media","mic":false}"#),
            Some(ChannelMessage::Media { mic: false, camera: true })
        );
        assert_eq!(ChannelMessage::parse(r#"{"type":"media","mic":"yes","camera":true}"#), None);
        assert_eq!(ChannelMessage::parse(r#"{"type":"other","mic":false}"#), None);
    }
}

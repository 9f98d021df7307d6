//! Chat over the `chat` data channel: ordered, reliable, one JSON text message per chat line, the same
//! shape the browser client uses.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use serde::{Deserialize, Serialize};

/// The data channel's label.
pub const CHANNEL_LABEL: &str = "chat";
/// Longest chat text accepted, in characters.
pub const MAX_CHAT_CHARS: usize = 4000;
/// Longest sender name in a chat message (the signaling server's limit for names).
const MAX_NAME_CHARS: usize = 64;

/// How many chat lines one peer may send at once, and how many a second after that; the rest are dropped,
/// so a peer flooding the channel cannot bury the chat or grow the owner's history without end.
pub const CHAT_BURST: f64 = 20.0;
pub const CHAT_PER_SECOND: f64 = 5.0;

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
        if text.len() > MAX_CHAT_CHARS * 4 + 1024 {
            return None;
        }
        let msg: ChatMessage = serde_json::from_str(text).ok()?;
        (msg.text.chars().count() <= MAX_CHAT_CHARS && msg.from.chars().count() <= MAX_NAME_CHARS)
            .then_some(msg)
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
    /// `{"type":"media","mic":BOOL,"camera":BOOL,"videoCodecs":[NAME,…]}`: the sender's microphone and
    /// camera are on or off (sent when the channel opens and on every change; the browser client sends the
    /// same), and the video codecs it can decode (encoding names; empty when not said).
    Media {
        mic: bool,
        camera: bool,
        video_codecs: Vec<String>,
    },
}

/// At most this many announced video codecs are kept, each a short token (an encoding name like `H264`).
const MAX_ANNOUNCED_CODECS: usize = 16;
const MAX_CODEC_NAME: usize = 32;

/// Announced codec names as a peer sent them, cut down to the plausible ones.
fn codec_names(names: Option<serde_json::Value>) -> Vec<String> {
    let Some(serde_json::Value::Array(names)) = names else { return Vec::new() };
    names
        .into_iter()
        .filter_map(|n| match n {
            serde_json::Value::String(n) => Some(n),
            _ => None,
        })
        .filter(|n| {
            !n.is_empty()
                && n.len() <= MAX_CODEC_NAME
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        })
        .take(MAX_ANNOUNCED_CODECS)
        .collect()
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
    /// Read leniently: anything but an array of strings counts as not said, and the rest still holds.
    #[serde(default, rename = "videoCodecs", skip_serializing_if = "Option::is_none")]
    video_codecs: Option<serde_json::Value>,
}

impl ChannelMessage {
    pub fn parse(text: &str) -> Option<ChannelMessage> {
        if let Some(chat) = ChatMessage::parse(text) {
            return Some(ChannelMessage::Chat(chat));
        }
        if let Ok(MediaState { kind, mic, camera, video_codecs }) = serde_json::from_str(text)
            && kind == "media"
        {
            return Some(ChannelMessage::Media {
                mic: mic.unwrap_or(true),
                camera: camera.unwrap_or(true),
                video_codecs: codec_names(video_codecs),
            });
        }
        let id: IdAnnouncement = serde_json::from_str(text).ok()?;
        (id.kind == "id" && !id.id.is_empty() && id.id.len() <= 64).then_some(ChannelMessage::Id(id.id))
    }

    /// `{"type":"media","mic":…,"camera":…,"videoCodecs":[…]}`
    pub fn media_state(mic: bool, camera: bool, video_codecs: &[String]) -> String {
        let state = MediaState {
            kind: "media".into(),
            mic: Some(mic),
            camera: Some(camera),
            video_codecs: (!video_codecs.is_empty()).then(|| serde_json::json!(video_codecs)),
        };
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
        // The browser client's shape (assets/web/chat.js), byte for byte.
        let media = |mic, camera, codecs: &[&str]| ChannelMessage::Media {
            mic,
            camera,
            video_codecs: codecs.iter().map(|c| c.to_string()).collect(),
        };
        let state = ChannelMessage::media_state(false, true, &[]);
        assert_eq!(state, r#"{"type":"media","mic":false,"camera":true}"#);
        assert_eq!(ChannelMessage::parse(&state), Some(media(false, true, &[])));
        let state = ChannelMessage::media_state(true, true, &["H264".into(), "VP8".into()]);
        assert_eq!(state, r#"{"type":"media","mic":true,"camera":true,"videoCodecs":["H264","VP8"]}"#);
        assert_eq!(ChannelMessage::parse(&state), Some(media(true, true, &["H264", "VP8"])));
        assert_eq!(
            ChannelMessage::parse(r#"{"camera":false,"type":"media","mic":true,"extra":1}"#),
            Some(media(true, false, &[]))
        );
        assert_eq!(ChannelMessage::parse(r#"{"type":"media","mic":false}"#), Some(media(false, true, &[])));
        // A hostile or broken codec list is cut down or ignored; the rest of the message still counts.
        assert_eq!(
            ChannelMessage::parse(r#"{"type":"media","videoCodecs":"AV1"}"#),
            Some(media(true, true, &[]))
        );
        assert_eq!(
            ChannelMessage::parse(r#"{"type":"media","videoCodecs":["AV1",3,"<b>x</b>","","VP9"]}"#),
            Some(media(true, true, &["AV1", "VP9"]))
        );
        let many = format!(r#"{{"type":"media","videoCodecs":[{}]}}"#, vec![r#""X""#; 1000].join(","));
        let Some(ChannelMessage::Media { video_codecs, .. }) = ChannelMessage::parse(&many) else { panic!() };
        assert_eq!(video_codecs.len(), MAX_ANNOUNCED_CODECS);
        assert_eq!(ChannelMessage::parse(r#"{"type":"media","mic":"yes","camera":true}"#), None);
        assert_eq!(ChannelMessage::parse(r#"{"type":"other","mic":false}"#), None);
    }
}

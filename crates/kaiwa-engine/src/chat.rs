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
    /// `{"type":"media","mic":BOOL,"camera":BOOL,"videoCodecs":[NAME,…],"screen":STREAM}`: see
    /// [`MediaAnnouncement`].
    Media(MediaAnnouncement),
}

/// What a participant says of its media (sent when the channel opens and on every change; the browser
/// client sends the same).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaAnnouncement {
    pub mic: bool,
    pub camera: bool,
    /// The video codecs it can decode (encoding names; empty when not said).
    pub video_codecs: Vec<String>,
    /// While it shares a screen: the media stream id (the SDP's `msid`) of the shared screen's track, so
    /// the receiver tells it from the camera. Absent when not sharing.
    pub screen: Option<String>,
}

/// A media stream id as announced: a short token (browsers make UUIDs, we make `kaiwa-…`).
const MAX_STREAM_ID: usize = 64;

fn stream_id(id: Option<serde_json::Value>) -> Option<String> {
    let Some(serde_json::Value::String(id)) = id else { return None };
    let plausible = !id.is_empty()
        && id.len() <= MAX_STREAM_ID
        && id.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    plausible.then_some(id)
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
    /// Read leniently too: anything but a plausible stream id counts as not sharing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    screen: Option<serde_json::Value>,
}

impl ChannelMessage {
    pub fn parse(text: &str) -> Option<ChannelMessage> {
        if let Some(chat) = ChatMessage::parse(text) {
            return Some(ChannelMessage::Chat(chat));
        }
        if let Ok(MediaState { kind, mic, camera, video_codecs, screen }) = serde_json::from_str(text)
            && kind == "media"
        {
            return Some(ChannelMessage::Media(MediaAnnouncement {
                mic: mic.unwrap_or(true),
                camera: camera.unwrap_or(true),
                video_codecs: codec_names(video_codecs),
                screen: stream_id(screen),
            }));
        }
        let id: IdAnnouncement = serde_json::from_str(text).ok()?;
        (id.kind == "id" && !id.id.is_empty() && id.id.len() <= 64).then_some(ChannelMessage::Id(id.id))
    }

    /// `{"type":"media","mic":…,"camera":…,"videoCodecs":[…],"screen":…}`
    pub fn media_state(media: &MediaAnnouncement) -> String {
        let state = MediaState {
            kind: "media".into(),
            mic: Some(media.mic),
            camera: Some(media.camera),
            video_codecs: (!media.video_codecs.is_empty()).then(|| serde_json::json!(media.video_codecs)),
            screen: media.screen.as_ref().map(|s| serde_json::json!(s)),
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
        let announced = |mic, camera, codecs: &[&str]| MediaAnnouncement {
            mic,
            camera,
            video_codecs: codecs.iter().map(|c| c.to_string()).collect(),
            screen: None,
        };
        let media = |mic, camera, codecs: &[&str]| ChannelMessage::Media(announced(mic, camera, codecs));
        let state = ChannelMessage::media_state(&announced(false, true, &[]));
        assert_eq!(state, r#"{"type":"media","mic":false,"camera":true}"#);
        assert_eq!(ChannelMessage::parse(&state), Some(media(false, true, &[])));
        let state = ChannelMessage::media_state(&announced(true, true, &["H264", "VP8"]));
        assert_eq!(state, r#"{"type":"media","mic":true,"camera":true,"videoCodecs":["H264","VP8"]}"#);
        assert_eq!(ChannelMessage::parse(&state), Some(media(true, true, &["H264", "VP8"])));
        let sharing =
            MediaAnnouncement { screen: Some("kaiwa-0a1b2c3d".into()), ..announced(true, false, &[]) };
        let state = ChannelMessage::media_state(&sharing);
        assert_eq!(state, r#"{"type":"media","mic":true,"camera":false,"screen":"kaiwa-0a1b2c3d"}"#);
        assert_eq!(ChannelMessage::parse(&state), Some(ChannelMessage::Media(sharing)));
        // A screen that is not a plausible stream id is no screen; the rest still counts.
        for screen in [r#"3"#, r#""""#, r#""a b""#, r#"true"#, &format!(r#""{}""#, "x".repeat(65))] {
            let text = format!(r#"{{"type":"media","camera":false,"screen":{screen}}}"#);
            assert_eq!(ChannelMessage::parse(&text), Some(media(true, false, &[])), "{text}");
        }
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
        let Some(ChannelMessage::Media(m)) = ChannelMessage::parse(&many) else { panic!() };
        assert_eq!(m.video_codecs.len(), MAX_ANNOUNCED_CODECS);
        assert_eq!(ChannelMessage::parse(r#"{"type":"media","mic":"yes","camera":true}"#), None);
        assert_eq!(ChannelMessage::parse(r#"{"type":"other","mic":false}"#), None);
    }
}

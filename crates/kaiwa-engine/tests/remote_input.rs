//! Every parser of what other participants send, fed arbitrary input: data-channel messages, the session
//! descriptions we read ourselves (video formats, rejected sections), fingerprints and verification codes,
//! signal data. Nothing may panic, and what comes out stays within bounds. (The stable-Rust counterpart of
//! fuzzing, as `kaiwa-media`'s depacketizer proptests.)

use kaiwa_engine::chat::{ChannelMessage, ChatMessage};
use kaiwa_engine::peer::VideoFormats;
use kaiwa_engine::peer::identity::verification_code;
use kaiwa_engine::peer::rejected_sections::without_rejected_credentials;
use kaiwa_protocol::{Fingerprint, SignalData};
use proptest::prelude::*;

/// Lines that look like SDP (the parsers' interesting cases), mixed with anything at all.
fn sdp_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("v=0".to_owned()),
        Just("o=- 1 2 IN IP4 127.0.0.1".to_owned()),
        Just("s=-".to_owned()),
        Just("t=0 0".to_owned()),
        (prop_oneof![Just("audio"), Just("video"), Just("application")], 0u16..3, "[0-9 ]{0,12}")
            .prop_map(|(m, port, fmts)| format!("m={m} {} UDP/TLS/RTP/SAVPF {fmts}", port * 9)),
        (0u8..=255, "[A-Za-z0-9-]{0,12}").prop_map(|(pt, name)| format!("a=rtpmap:{pt} {name}/90000")),
        "a=ice-(ufrag|pwd):[a-z0-9+/]{0,8}",
        "a=[a-z-]{0,10}(:[ -~]{0,20})?",
        "[ -~]{0,40}",
        ".{0,20}",
    ];
    (prop::collection::vec(line, 0..24), prop::bool::ANY)
        .prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
}

/// Text shaped like our data-channel messages, with arbitrary values, or just anything.
fn channel_text() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        ".{0,30}".prop_map(|s| serde_json::json!(s).to_string()),
        prop::collection::vec(".{0,40}", 0..40).prop_map(|v| serde_json::json!(v).to_string()),
        Just("{}".to_owned()),
    ];
    let key = prop_oneof![
        Just("type"),
        Just("id"),
        Just("mic"),
        Just("camera"),
        Just("videoCodecs"),
        Just("screen"),
        Just("text"),
        Just("from"),
        Just("ts"),
        Just("x"),
    ];
    prop_oneof![
        prop::collection::vec((key, value), 0..6).prop_map(|fields| {
            let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", body.join(","))
        }),
        prop_oneof![Just("chat"), Just("id"), Just("media")]
            .prop_map(|t| format!(r#"{{"type":"{t}","id":"x","text":"t","from":"f","ts":1,"mic":false}}"#)),
        ".{0,200}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn data_channel_messages_never_panic_and_stay_bounded(text in channel_text()) {
        match ChannelMessage::parse(&text) {
            Some(ChannelMessage::Id(id)) => prop_assert!(!id.is_empty() && id.len() <= 64),
            Some(ChannelMessage::Media(media)) => {
                prop_assert!(media.video_codecs.len() <= 16);
                prop_assert!(media.video_codecs.iter().all(|c| !c.is_empty() && c.len() <= 32));
                prop_assert!(media.screen.is_none_or(|s| !s.is_empty() && s.len() <= 64));
            }
            _ => {}
        }
        let _ = ChatMessage::parse(&text);
    }

    #[test]
    fn video_formats_read_any_description(local in sdp_like(), remote in sdp_like(), known in prop::bool::ANY) {
        let before = if known { VideoFormats { shared: Some(false), peer_codecs: vec!["VP8".into()] } } else { VideoFormats::default() };
        let after = before.after_exchange(&local, &remote);
        // Codec names come from the peer's text: never more than its rtpmap lines.
        prop_assert!(after.peer_codecs.len() <= remote.lines().count().max(before.peer_codecs.len()));
    }

    #[test]
    fn rejected_sections_only_ever_lose_credential_lines(sdp in sdp_like()) {
        let fixed = without_rejected_credentials(&sdp);
        let kept: Vec<&str> = fixed.lines().collect();
        let all: Vec<&str> = sdp.lines().collect();
        prop_assert!(kept.len() <= all.len());
        let dropped = all.len() - kept.len();
        let credentials = all.iter().filter(|l| l.starts_with("a=ice-ufrag:") || l.starts_with("a=ice-pwd:")).count();
        prop_assert!(dropped <= credentials);
        // Idempotent.
        prop_assert_eq!(without_rejected_credentials(&fixed).into_owned(), fixed.into_owned());
    }

    #[test]
    fn fingerprints_and_codes_take_any_text(a in ".{0,120}", b in "(sha-256 )?([0-9A-Fa-f]{2}:){0,31}[0-9A-Fa-f]{2}") {
        if let Some(n) = Fingerprint::normalize(&a) {
            prop_assert!(n.len() <= Fingerprint::MAX_LEN);
            prop_assert_eq!(Fingerprint::normalize(&n), Some(n.clone()));
        }
        if let Some(code) = verification_code(&a, &b) {
            prop_assert_eq!(code.len(), 7);
            prop_assert_eq!(verification_code(&b, &a), Some(code));
        }
    }

    #[test]
    fn signal_data_parses_or_refuses_any_json(text in channel_text()) {
        let _ = serde_json::from_str::<SignalData>(&text);
        let sdp = format!(r#"{{"sdp":{{"type":"offer","sdp":{}}}}}"#, serde_json::json!(text));
        prop_assert!(serde_json::from_str::<SignalData>(&sdp).is_ok());
    }
}

/// Keyframes announcing impossible pictures (8192×8192 macroblocks, a million macroblocks wide, cropping
/// past the picture) go through the whole receive path, depacketizer then decoder, and come out as
/// errors or nothing: no panic, and no picture larger than any real one.
#[test]
fn keyframes_of_impossible_sizes_are_refused() {
    use kaiwa_engine::testing::forge::{Garbage, impossible_sizes};
    use kaiwa_media::video::{DepacketizerConfig, DepacketizerEvent, H264Decoder, H264Depacketizer};

    let mut g = Garbage::new(3);
    let mut decoder = H264Decoder::new().unwrap();
    let mut depacketizer = H264Depacketizer::new(DepacketizerConfig::default());
    let mut units = 0;
    let mut sequence = 0u16;
    for (n, unit) in impossible_sizes(&mut g).into_iter().enumerate() {
        let last = unit.len() - 1;
        for (i, payload) in unit.iter().enumerate() {
            let _ = depacketizer.push(sequence, 3000 * n as u32, i == last, payload);
            sequence = sequence.wrapping_add(1);
        }
        while let Some(event) = depacketizer.poll_event() {
            if let DepacketizerEvent::Frame(frame) = event {
                units += 1;
                if let Ok(Some(picture)) = decoder.decode(&frame.data) {
                    assert!(
                        picture.width() <= 8192 && picture.height() <= 8192,
                        "{}x{}",
                        picture.width(),
                        picture.height()
                    );
                }
            }
        }
    }
    assert_eq!(units, 4, "every forged keyframe reached the decoder");
}

use super::*;
use proptest::prelude::*;

fn raw(s: &str) -> Box<RawValue> {
    RawValue::from_string(s.to_owned()).unwrap()
}

#[test]
fn client_messages_parse_as_documented() {
    match ClientMessage::parse(r#"{"type":"join","room":"abc-defg-hij","name":"Ann","version":1}"#) {
        Ok(ClientMessage::Join { room, name, version, fingerprint: None, sfu: false }) => {
            assert_eq!((room.as_str(), name.as_str(), version), ("abc-defg-hij", "Ann", 1));
        }
        other => panic!("{other:?}"),
    }
    let text = r#"{"type":"join","room":"r","name":"Ann","version":1,"sfu":true}"#;
    assert!(matches!(ClientMessage::parse(text), Ok(ClientMessage::Join { sfu: true, .. })));
    match ClientMessage::parse(r#"{"type":"sfu_offer","sdp":"v=0"}"#) {
        Ok(ClientMessage::SfuOffer { sdp, screen: None }) => assert_eq!(sdp, "v=0"),
        other => panic!("{other:?}"),
    }
    match ClientMessage::parse(r#"{"type":"sfu_offer","sdp":"v=0","screen":"2"}"#) {
        Ok(ClientMessage::SfuOffer { screen, .. }) => assert_eq!(screen.as_deref(), Some("2")),
        other => panic!("{other:?}"),
    }
    assert!(ClientMessage::parse(r#"{"type":"sfu_answer"}"#).is_err(), "an sfu_answer needs its sdp");
    let fp = format!("sha-256 {}", ["AB"; 32].join(":"));
    let text = format!(r#"{{"type":"join","room":"r","name":"Ann","version":1,"fingerprint":"{fp}"}}"#);
    match ClientMessage::parse(&text) {
        Ok(ClientMessage::Join { fingerprint, .. }) => assert_eq!(fingerprint, Some(fp.clone())),
        other => panic!("{other:?}"),
    }
    // Fingerprints in one canonical form; anything else is none.
    assert_eq!(Fingerprint::normalize(&fp.replace("sha-256", "SHA-256").to_lowercase()), Some(fp.clone()));
    assert_eq!(Fingerprint::of_digest(&[0xab; 32]), fp);
    for bad in ["", "sha-256", "sha-1 AB:CD", "sha-256 AB:CD", "sha-256 ZZ:AB", "é", &fp.replace(':', "")] {
        assert_eq!(Fingerprint::normalize(bad), None, "{bad:?}");
    }
    let text = r#"{"type":"signal","to":"p1","data":{"sdp":{"type":"offer","sdp":"v=0\r\n"}}}"#;
    match ClientMessage::parse(text) {
        Ok(ClientMessage::Signal { to, data }) => {
            assert_eq!(to, "p1");
            assert_eq!(data.get(), r#"{"sdp":{"type":"offer","sdp":"v=0\r\n"}}"#);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(ClientMessage::parse(r#"{"type":"leave"}"#), Ok(ClientMessage::Leave)));
    assert!(matches!(ClientMessage::parse(r#"{"type":"ping","extra":1}"#), Ok(ClientMessage::Ping)));
}

#[test]
fn bad_client_messages_are_errors() {
    assert!(matches!(ClientMessage::parse("{"), Err(ParseError::Json(_))));
    assert!(matches!(ClientMessage::parse("[]"), Err(ParseError::Json(_))));
    assert!(matches!(ClientMessage::parse(r#"{"type":"dance"}"#), Err(ParseError::UnknownType(_))));
    assert!(matches!(
        ClientMessage::parse(r#"{"type":"join","room":"x","name":"y"}"#),
        Err(ParseError::MissingField { field: "version", .. })
    ));
    assert!(matches!(
        ClientMessage::parse(r#"{"type":"join","room":5,"name":"y","version":1}"#),
        Err(ParseError::Json(_))
    ));
    assert!(matches!(
        ClientMessage::parse(r#"{"type":"signal","to":"a"}"#),
        Err(ParseError::MissingField { .. })
    ));
}

#[test]
fn round_trips() {
    let msgs = [
        ServerMessage::Joined {
            id: "a".into(),
            room: "abc-defg-hij".into(),
            peers: vec![PeerInfo::new("b", "Bo")],
            ice_servers: vec![IceServer {
                urls: vec!["turn:127.0.0.1:3478".into()],
                username: Some("1:a".into()),
                credential: Some("x".into()),
            }],
            sfu: true,
            max_peers: 6,
        },
        ServerMessage::PeerJoined { peer: PeerInfo::new("b", "Bo") },
        ServerMessage::PeerLeft { id: "b".into() },
        ServerMessage::Signal { from: "b".into(), data: raw(r#"{"candidate":null}"#) },
        ServerMessage::error(ErrorCode::RoomFull, "room is full"),
        ServerMessage::Pong,
        ServerMessage::SfuPublish,
        ServerMessage::SfuAnswer { sdp: "v=0".into() },
        ServerMessage::SfuOffer {
            sdp: "v=0".into(),
            streams: vec![SfuStream::new("0", "b", "audio"), SfuStream::screen("2", "b")],
        },
    ];
    for m in msgs {
        let text = m.to_json();
        let back = ServerMessage::parse(&text).unwrap();
        assert_eq!(back.to_json(), text);
    }
    assert_eq!(
        ServerMessage::Signal { from: "b".into(), data: raw(r#"{"candidate":null}"#) }.to_json(),
        r#"{"type":"signal","from":"b","data":{"candidate":null}}"#
    );
    assert_eq!(ServerMessage::Pong.to_json(), r#"{"type":"pong"}"#);
    assert_eq!(ClientMessage::Leave.to_json(), r#"{"type":"leave"}"#);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = ClientMessage::parse(&text);
        let _ = ServerMessage::parse(&text);
    }

    #[test]
    fn json_like_input_never_panics(text in r#"\{("[a-z_]{1,8}":("[a-z0-9]{0,6}"|[0-9]{1,3}|null|\[\]|\{\}|true),?){0,6}\}"#) {
        let _ = ClientMessage::parse(&text);
        let _ = ServerMessage::parse(&text);
    }

    #[test]
    fn any_type_value_never_panics(kind in ".{0,40}", room in ".{0,40}") {
        let text = serde_json::json!({"type": kind, "room": room, "name": "n", "version": 1, "to": "x", "data": {}}).to_string();
        let _ = ClientMessage::parse(&text);
    }
}

//! Participants who misbehave on purpose ([`kaiwa_engine::testing::Hostile`]) against honest engines: the
//! honest participants' call goes on, asserted with media counts before and after.

mod common;

use std::time::Duration;

use common::{decoded, party, start_server, wait_connected, wait_for};
use kaiwa_engine::testing::Hostile;
use kaiwa_engine::{EngineEvent, PeerState};
use kaiwa_protocol::{IceCandidateInit, SdpType, SessionDescription, SignalData};

/// Regression (issue 14): Mallory told Ann over her own data channel that she was Bo; Ann filed Mallory's
/// connection under Bo's id and closed Bo's, and the video between Ann and Bo stopped for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_claiming_another_ones_id_takes_nothing_over() {
    let server = start_server(Default::default()).await;
    let mut ann = party(&server, "takeover", "Ann", 440.0);
    wait_for(&mut ann.engine, "Ann joined", |e| matches!(e, EngineEvent::Joined { .. })).await;
    let mut bo = party(&server, "takeover", "Bo", 550.0);
    wait_connected(&mut ann.engine, 1).await;
    wait_connected(&mut bo.engine, 1).await;
    let mut mallory = Hostile::join(&server.ws_url(), "takeover", "Mallory").await.unwrap();
    let (ann_id, bo_id) = (mallory.id_of("Ann").unwrap(), mallory.id_of("Bo").unwrap());
    mallory.connect(&ann_id).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = (decoded(&ann, "Bo"), decoded(&bo, "Ann"));
    mallory.send_text(&ann_id, &format!(r#"{{"type":"id","id":"{bo_id}"}}"#)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = (decoded(&ann, "Bo"), decoded(&bo, "Ann"));
    // 30 fps for 4 s: well over 60 new pictures each way if nothing broke.
    assert!(after.0 > before.0 + 60, "Ann's video from Bo stalled: {before:?} -> {after:?}");
    assert!(after.1 > before.1 + 60, "Bo's video from Ann stalled: {before:?} -> {after:?}");
    let names: Vec<String> =
        ann.engine.stats().await.into_iter().map(|s| format!("{}={}", s.name, s.id)).collect();
    assert!(names.contains(&format!("Bo={bo_id}")), "Ann's peers: {names:?}");
    mallory.leave().await;
    ann.engine.leave().await;
    bo.engine.leave().await;
}

/// What Ann got from Bo and Bo from Ann so far.
fn between(ann: &common::Party, bo: &common::Party) -> (usize, usize) {
    (decoded(ann, "Bo"), decoded(bo, "Ann"))
}

/// Mallory, connected to Ann, tries one hostile case after another while Ann and Bo are in a call. After
/// each: no panic, Ann still answers, and the video between Ann and Bo kept coming (30 fps: at least 30
/// new pictures each way in 2 s). Chat from Mallory reaches Ann only at the limit's pace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_participant_breaks_nothing_between_the_others() {
    let server = start_server(Default::default()).await;
    let mut ann = party(&server, "hostile", "Ann", 440.0);
    wait_for(&mut ann.engine, "Ann joined", |e| matches!(e, EngineEvent::Joined { .. })).await;
    let mut bo = party(&server, "hostile", "Bo", 550.0);
    wait_connected(&mut ann.engine, 1).await;
    wait_connected(&mut bo.engine, 1).await;
    let mut mallory = Hostile::join(&server.ws_url(), "hostile", "Mallory").await.unwrap();
    let (ann_id, bo_id) = (mallory.id_of("Ann").unwrap(), mallory.id_of("Bo").unwrap());
    mallory.connect(&ann_id).await.unwrap();
    let offer = mallory.throwaway_offer().await.unwrap();
    let mut chats_from_mallory = 0usize;
    let started = std::time::Instant::now();

    let cases: Vec<(&str, Vec<Action>)> = vec![
        ("malformed data-channel messages", malformed_messages()),
        (
            "a chat flood",
            (0..2000)
                .map(|i| Action::Text(format!(r#"{{"type":"chat","from":"M","text":"spam {i}","ts":1}}"#)))
                .collect(),
        ),
        (
            "false id and media claims",
            vec![
                Action::Text(format!(r#"{{"type":"id","id":"{bo_id}"}}"#)),
                Action::Text(format!(r#"{{"type":"id","id":"{ann_id}"}}"#)),
                Action::Text(r#"{"type":"id","id":"0000000000000000"}"#.into()),
                Action::Text(r#"{"type":"media","mic":false,"camera":false,"videoCodecs":["AV1"]}"#.into()),
                Action::Text(format!(r#"{{"type":"media","id":"{bo_id}","mic":false,"camera":false}}"#)),
            ],
        ),
        ("invalid and contradictory descriptions", invalid_descriptions(&offer)),
        ("a renegotiation storm", (0..200).map(|_| Action::Sdp(SdpType::Offer, offer.clone())).collect()),
        ("bogus ICE candidates", bogus_candidates()),
    ];
    for (case, actions) in cases {
        let before = between(&ann, &bo);
        for action in actions {
            match action {
                Action::Text(t) => {
                    let _ = mallory.send_text(&ann_id, &t).await;
                }
                Action::Bytes(b) => {
                    let _ = mallory.send_bytes(&ann_id, &b).await;
                }
                Action::Sdp(kind, sdp) => {
                    mallory.signal(&ann_id, SignalData::Sdp { sdp: SessionDescription { kind, sdp } })
                }
                Action::Candidate(c) => mallory.signal(&ann_id, SignalData::Candidate { candidate: Some(c) }),
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Ann's owner reads her events, as the app does.
        while let Some(event) = ann.engine.try_next_event() {
            if let EngineEvent::Chat { message, .. } = event
                && message.from == "M"
            {
                chats_from_mallory += 1;
            }
        }
        let stats = tokio::time::timeout(Duration::from_secs(5), ann.engine.stats()).await.expect(case);
        let bo_seen =
            stats.iter().find(|s| s.name == "Bo").unwrap_or_else(|| panic!("{case}: Ann lost Bo: {stats:?}"));
        assert_eq!(bo_seen.id, bo_id, "{case}: Bo's connection filed elsewhere");
        assert_eq!(bo_seen.state, PeerState::Connected, "{case}");
        let after = between(&ann, &bo);
        assert!(
            after.0 >= before.0 + 30 && after.1 >= before.1 + 30,
            "{case}: video between Ann and Bo stalled: {before:?} -> {after:?}"
        );
    }
    // The flood came through at the limit: a burst of 20 and 5 a second after.
    let allowed = 20 + (started.elapsed().as_secs_f64() * 5.0) as usize + 1;
    assert!(
        chats_from_mallory <= allowed,
        "{chats_from_mallory} chat lines from Mallory passed (limit {allowed})"
    );
    assert!(chats_from_mallory >= 20, "only {chats_from_mallory} chat lines passed");
    mallory.leave().await;
    ann.engine.leave().await;
    bo.engine.leave().await;
}

enum Action {
    Text(String),
    Bytes(Vec<u8>),
    Sdp(SdpType, String),
    Candidate(IceCandidateInit),
}

fn malformed_messages() -> Vec<Action> {
    let mut v: Vec<Action> = [
        "",
        "{",
        "}",
        "null",
        "[]",
        "\"chat\"",
        "{\"type\":null}",
        "{\"type\":\"chat\"}",
        "{\"type\":\"chat\",\"from\":1,\"text\":[],\"ts\":\"x\"}",
        "{\"type\":\"id\",\"id\":\"\"}",
        "{\"type\":\"media\",\"mic\":\"yes\"}",
        "{\"type\":\"media\",\"videoCodecs\":{\"a\":1}}",
        "{\"type\":\"unknown\",\"x\":1}",
        "\u{0}\u{1}\u{ffff}",
    ]
    .iter()
    .map(|s| Action::Text((*s).to_owned()))
    .collect();
    v.push(Action::Text("[".repeat(50_000)));
    v.push(Action::Text(format!(r#"{{"type":"chat","from":"M","text":"{}","ts":1}}"#, "x".repeat(60_000))));
    v.push(Action::Text(format!(r#"{{"type":"id","id":"{}"}}"#, "é".repeat(5_000))));
    v.push(Action::Text(format!(r#"{{"type":"chat","from":"{}","text":"hi","ts":1}}"#, "M".repeat(10_000))));
    v.push(Action::Bytes(vec![0xff, 0xfe, 0x00, 0x80]));
    v.push(Action::Bytes(vec![0x7b; 100_000]));
    v
}

fn invalid_descriptions(offer: &str) -> Vec<Action> {
    let mut v = vec![
        Action::Sdp(SdpType::Offer, String::new()),
        Action::Sdp(SdpType::Offer, "garbage".into()),
        Action::Sdp(SdpType::Answer, "v=0\r\n".into()),
        Action::Sdp(SdpType::Pranswer, offer.to_owned()),
        Action::Sdp(SdpType::Rollback, String::new()),
        Action::Sdp(SdpType::Answer, offer.to_owned()),
        Action::Sdp(SdpType::Offer, offer.replace("a=fingerprint:sha-256", "a=fingerprint:sha-1")),
        Action::Sdp(SdpType::Offer, offer.replace("m=application", "m=video")),
        Action::Sdp(
            SdpType::Offer,
            offer.replace("a=ice-ufrag:", "a=ice-ufrag:x").replace("a=mid:", "a=mid:9"),
        ),
        Action::Sdp(SdpType::Offer, format!("{offer}{}", "a=x:y\r\n".repeat(20_000))),
        Action::Sdp(SdpType::Offer, offer.lines().rev().collect::<Vec<_>>().join("\r\n")),
    ];
    v.push(Action::Sdp(SdpType::Offer, "m=video 9 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n".repeat(500)));
    v
}

fn bogus_candidates() -> Vec<Action> {
    let candidate = |c: String, mid: Option<&str>, index: Option<u16>| {
        Action::Candidate(IceCandidateInit {
            candidate: c,
            sdp_mid: mid.map(Into::into),
            sdp_m_line_index: index,
            username_fragment: None,
        })
    };
    let mut v = vec![
        candidate(String::new(), None, None),
        candidate("candidate:garbage".into(), Some("0"), Some(0)),
        candidate("candidate:1 1 udp 2122260223 127.0.0.1 notaport typ host".into(), Some("0"), Some(0)),
        candidate("candidate:1 1 udp 2122260223 999.1.1.1 9 typ host".into(), Some("0"), Some(0)),
        candidate("candidate:1 1 udp 2122260223 127.0.0.1 9 typ host".into(), Some("99"), Some(65535)),
        candidate(format!("candidate:{}", "x".repeat(100_000)), Some("0"), Some(0)),
    ];
    // Many plausible ones, to loopback addresses and ports nothing listens on (the checks stay on this
    // machine and reach no other test's sockets).
    for (i, (host, port)) in
        (2..252u32).flat_map(|h| [1u16, 7, 9, 13, 19, 37].map(move |p| (h, p))).enumerate()
    {
        v.push(candidate(
            format!("candidate:{i} 1 udp 2122260223 127.0.0.{host} {port} typ host"),
            Some("0"),
            Some(0),
        ));
    }
    v
}

//! The signaling server against real WebSocket clients on loopback: rooms, relay, HTTP API, bad input,
//! liveness and shutdown.

mod common;

use std::time::{Duration, Instant};

use common::{Client, TestServer, WAIT, room_of_three};
use kaiwa_protocol::{ErrorCode, ServerMessage};
use kaiwa_signaling::{Config, Limits};
use tokio_tungstenite::tungstenite::Message;

const OFFER: &str = r#"{"sdp":{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}"#;
const ANSWER: &str = r#"{"sdp":{"type":"answer","sdp":"v=0\r\n"}}"#;
const CANDIDATE: &str = r#"{"candidate":{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"uf"}}"#;
const END_OF_CANDIDATES: &str = r#"{"candidate":null}"#;

fn config_with(f: impl FnOnce(&mut Config)) -> Config {
    let mut c = Config::default();
    f(&mut c);
    c
}

#[tokio::test]
async fn two_clients_meet_and_relay_offer_answer_and_candidates() {
    let server = TestServer::default().await;
    let mut a = server.client().await;
    let (ida, peers) = a.join("abc-defg-hij", "Ann").await;
    assert!(peers.is_empty());
    let mut b = server.client().await;
    b.send_json(serde_json::json!({"type":"join","room":"abc-defg-hij","name":"Bo","version":1})).await;
    let (idb, peers) = match b.recv().await {
        ServerMessage::Joined { id, room, peers, ice_servers, max_peers, .. } => {
            assert_eq!(room, "abc-defg-hij");
            assert_eq!(max_peers, 6);
            assert!(ice_servers.is_empty());
            (id, peers)
        }
        other => panic!("{other:?}"),
    };
    assert_ne!(ida, idb);
    assert_eq!(peers.len(), 1);
    assert_eq!((peers[0].id.as_str(), peers[0].name.as_str()), (ida.as_str(), "Ann"));
    let joined = a.expect_peer_joined().await;
    assert_eq!((joined.id.as_str(), joined.name.as_str()), (idb.as_str(), "Bo"));

    // The newcomer offers; data is relayed byte for byte.
    for data in [OFFER, CANDIDATE, END_OF_CANDIDATES] {
        b.signal(&ida, data).await;
        assert_eq!(a.expect_signal().await, (idb.clone(), data.to_string()));
    }
    for data in [ANSWER, CANDIDATE, END_OF_CANDIDATES] {
        a.signal(&idb, data).await;
        assert_eq!(b.expect_signal().await, (ida.clone(), data.to_string()));
    }

    // Leaving tells the other, and the connection may join again.
    b.send_json(serde_json::json!({"type":"leave"})).await;
    assert_eq!(a.expect_peer_left().await, idb);
    let (idb2, peers) = b.join("abc-defg-hij", "Bo").await;
    assert_ne!(idb2, idb);
    assert_eq!(peers.len(), 1);
    assert_eq!(a.expect_peer_joined().await.id, idb2);
}

#[tokio::test]
async fn three_clients_form_a_mesh_and_departures_are_announced() {
    let server = TestServer::default().await;
    let (mut clients, ids) = room_of_three(&server, "mesh-room").await;
    // Everyone can reach everyone.
    for from in 0..3 {
        for to in 0..3 {
            if from == to {
                continue;
            }
            let data =
                format!(r#"{{"candidate":{{"candidate":"c{from}{to}","sdpMid":"0","sdpMLineIndex":0}}}}"#);
            clients[from].signal(&ids[to], &data).await;
            assert_eq!(clients[to].expect_signal().await, (ids[from].clone(), data));
        }
    }
    // An abrupt disconnect (TCP dropped, no leave) is announced at once.
    let c = clients.pop().unwrap();
    drop(c);
    assert_eq!(clients[0].expect_peer_left().await, ids[2]);
    assert_eq!(clients[1].expect_peer_left().await, ids[2]);
    // The call between the others goes on.
    clients[0].signal(&ids[1], OFFER).await;
    assert_eq!(clients[1].expect_signal().await.0, ids[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joined_always_comes_first_even_when_everyone_joins_at_once() {
    let server = TestServer::default().await;
    for round in 0..20 {
        let room = format!("rush-{round}");
        let joins = (0..6).map(|i| {
            let addr = server.addr;
            let room = room.clone();
            tokio::spawn(async move {
                let mut c = Client::connect(addr).await;
                c.send_json(
                    serde_json::json!({"type":"join","room":room,"name":format!("p{i}"),"version":1}),
                )
                .await;
                let first = c.recv().await;
                assert!(matches!(first, ServerMessage::Joined { .. }), "first message was {first:?}");
                c
            })
        });
        let clients: Vec<Client> =
            futures_util::future::join_all(joins).await.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(clients.len(), 6);
    }
}

#[tokio::test]
async fn from_is_stamped_by_the_server() {
    let server = TestServer::default().await;
    let (mut clients, ids) = room_of_three(&server, "spoof").await;
    // B claims to be A.
    let forged = format!(r#"{{"type":"signal","from":"{}","to":"{}","data":{OFFER}}}"#, ids[0], ids[2]);
    clients[1].send_text(&forged).await;
    assert_eq!(clients[2].expect_signal().await, (ids[1].clone(), OFFER.to_string()));
    clients[0].expect_silence(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn room_capacity_gives_room_full() {
    let server = TestServer::start(config_with(|c| c.max_room_size = 2)).await;
    let mut a = server.client().await;
    a.join("small", "A").await;
    let mut b = server.client().await;
    b.join("small", "B").await;
    a.expect_peer_joined().await;
    let mut c = server.client().await;
    c.send_json(serde_json::json!({"type":"join","room":"small","name":"C","version":1})).await;
    c.expect_error(ErrorCode::RoomFull).await;
    a.expect_silence(Duration::from_millis(200)).await;
    let (status, body) = server.http("GET", "/api/rooms/small").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v, serde_json::json!({"room":"small","participants":2,"capacity":2}));
    // Once someone leaves there is room again, on the same connection.
    drop(b);
    a.expect_peer_left().await;
    let (_, peers) = c.join("small", "C").await;
    assert_eq!(peers.len(), 1);
}

#[tokio::test]
async fn room_codes_are_case_insensitive_and_dashes_optional() {
    let server = TestServer::default().await;
    let mut a = server.client().await;
    a.send_json(serde_json::json!({"type":"join","room":"ABC-DEFG-HIJ","name":"A","version":1})).await;
    match a.recv().await {
        ServerMessage::Joined { room, .. } => assert_eq!(room, "abc-defg-hij"),
        other => panic!("{other:?}"),
    }
    let mut b = server.client().await;
    let (_, peers) = b.join("abcdefghij", "B").await;
    assert_eq!(peers.len(), 1);
    let mut c = server.client().await;
    let (_, peers) = c.join(" abc-defghij ", "C").await;
    assert_eq!(peers.len(), 2);
    let (_, body) = server.http("GET", "/api/rooms/ABCDEFGHIJ").await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["participants"], 3);
    assert_eq!(v["room"], "abc-defg-hij");
}

#[tokio::test]
async fn a_room_is_shown_as_its_creator_typed_it() {
    let server = TestServer::default().await;
    let mut shown = Vec::new();
    let mut clients = Vec::new();
    for (typed, name) in [("design-review", "A"), ("DesignReview", "B")] {
        let mut c = server.client().await;
        c.send_json(serde_json::json!({"type":"join","room":typed,"name":name,"version":1})).await;
        match c.recv().await {
            ServerMessage::Joined { room, peers, .. } => shown.push((room, peers.len())),
            other => panic!("{other:?}"),
        }
        clients.push(c);
    }
    assert_eq!(
        shown,
        [("design-review".to_string(), 0), ("design-review".to_string(), 1)],
        "one room, as created"
    );
    let (_, body) = server.http("GET", "/api/rooms/designreview").await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["room"], "design-review");
}

#[tokio::test]
async fn room_api_creates_and_reports_rooms() {
    let server = TestServer::default().await;
    let (status, body) = server.http("POST", "/api/rooms").await;
    assert_eq!(status, 201);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let code = v["room"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 12);
    assert!(code.chars().enumerate().all(|(i, ch)| if i == 3 || i == 8 {
        ch == '-'
    } else {
        ch.is_ascii_lowercase()
    }));
    assert_eq!(v["url"], format!("/r/{code}"));
    let (status, body) = server.http("GET", &format!("/api/rooms/{code}")).await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v, serde_json::json!({"room": code, "participants": 0, "capacity": 6}));
    let (status, body) = server.http("GET", "/api/rooms/no%20way").await;
    assert_eq!(status, 400);
    assert!(body.contains("bad_room_code"), "{body}");
    let (status, _) = server.http("DELETE", "/api/rooms").await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn ice_api_hands_out_what_a_join_would() {
    let server = TestServer::start(config_with(|c| {
        c.stun = vec!["stun:s.example:3478".into()];
        c.turn = vec!["turn:t.example:3478?transport=udp".into(), "turns:t.example:443?transport=tcp".into()];
        c.turn_auth = Some(kaiwa_signaling::TurnAuth::Secret {
            secret: "api-secret".into(),
            ttl: Duration::from_secs(600),
        });
    }))
    .await;
    let (status, body) = server.http("GET", "/api/ice").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let servers = v["ice_servers"].as_array().unwrap();
    assert_eq!(servers[0]["urls"], serde_json::json!(["stun:s.example:3478"]));
    assert_eq!(servers[1]["urls"][1], "turns:t.example:443?transport=tcp");
    let user = servers[1]["username"].as_str().unwrap();
    assert!(user.contains(":check-"), "{user}");
    assert!(!body.contains("api-secret"), "the secret leaked: {body}");
    // Each check gets its own credentials.
    let (_, again) = server.http("GET", "/api/ice").await;
    assert_ne!(again, body);
}

#[tokio::test]
async fn static_files_health_and_metrics() {
    let server = TestServer::default().await;
    let (status, body) = server.http("GET", "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Kaiwa"));
    let (status, body2) = server.http("GET", "/r/abc-defg-hij").await;
    assert_eq!((status, body2), (200, body));
    assert_eq!(server.http("GET", "/../Cargo.toml").await.0, 404);
    assert_eq!(server.http("GET", "/nope.js").await.0, 404);
    assert_eq!(server.http("GET", "/healthz").await, (200, "ok\n".to_string()));
    assert_eq!(server.http("GET", "/ws").await.0, 426);

    let mut a = server.client().await;
    a.join("metrics", "A").await;
    a.send_text("nonsense").await;
    a.expect_error(ErrorCode::BadMessage).await;
    let (status, metrics) = server.http("GET", "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "kaiwa_connections 1",
        "kaiwa_rooms 1",
        "kaiwa_participants 1",
        "kaiwa_errors_total{code=\"bad_message\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "missing {line:?} in\n{metrics}");
    }
    assert!(metrics.contains("# TYPE kaiwa_messages_relayed_total counter"));
}

/// A bystander pair (B, C) in the same room as the misbehaving client A, proving nobody else notices.
struct Bystanders {
    a: Client,
    b: Client,
    c: Client,
    ida: String,
    idb: String,
    idc: String,
}

impl Bystanders {
    async fn new(server: &TestServer) -> Bystanders {
        let (mut clients, ids) = room_of_three(server, "bystanders").await;
        let c = clients.pop().unwrap();
        let b = clients.pop().unwrap();
        let a = clients.pop().unwrap();
        Bystanders { a, b, c, ida: ids[0].clone(), idb: ids[1].clone(), idc: ids[2].clone() }
    }

    /// B and C still talk, and saw nothing of A's misbehaviour (except, if A was thrown out, its departure).
    async fn unaffected(&mut self, a_gone: bool) {
        if a_gone {
            assert_eq!(self.b.expect_peer_left().await, self.ida);
            assert_eq!(self.c.expect_peer_left().await, self.ida);
        }
        self.b.signal(&self.idc, OFFER).await;
        assert_eq!(self.c.expect_signal().await, (self.idb.clone(), OFFER.to_string()));
        self.c.signal(&self.idb, ANSWER).await;
        assert_eq!(self.b.expect_signal().await, (self.idc.clone(), ANSWER.to_string()));
        self.b.expect_silence(Duration::from_millis(100)).await;
        self.c.expect_silence(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn each_bad_input_gets_its_error_and_bystanders_notice_nothing() {
    let server = TestServer::default().await;
    let mut s = Bystanders::new(&server).await;
    let cases: &[(&str, ErrorCode)] = &[
        ("{not json", ErrorCode::BadMessage),
        ("[1,2,3]", ErrorCode::BadMessage),
        ("\"join\"", ErrorCode::BadMessage),
        (r#"{"type":"teleport"}"#, ErrorCode::BadMessage),
        (r#"{"kind":"join"}"#, ErrorCode::BadMessage),
        (r#"{"type":"signal","to":42,"data":{}}"#, ErrorCode::BadMessage),
        (r#"{"type":"signal","to":"x"}"#, ErrorCode::BadMessage),
        (r#"{"type":"join","room":"abc","name":"A","version":"1"}"#, ErrorCode::BadMessage),
        (r#"{"type":"join","room":"bystanders","name":"A","version":1}"#, ErrorCode::AlreadyJoined),
        (r#"{"type":"signal","to":"0000000000000000","data":{"candidate":null}}"#, ErrorCode::UnknownPeer),
    ];
    for (text, code) in cases {
        s.a.send_text(text).await;
        s.a.expect_error(*code).await;
    }
    // Signalling yourself is not a thing.
    let me = s.ida.clone();
    s.a.signal(&me, OFFER).await;
    s.a.expect_error(ErrorCode::UnknownPeer).await;
    // Binary frames are not part of the protocol.
    s.a.ws.send_binary(vec![0u8, 1, 2, 255]).await;
    s.a.expect_error(ErrorCode::BadMessage).await;
    // A is still a working participant.
    s.a.ping().await;
    s.unaffected(false).await;
}

trait SendBinary {
    async fn send_binary(&mut self, data: Vec<u8>);
}

impl SendBinary for tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    async fn send_binary(&mut self, data: Vec<u8>) {
        use futures_util::SinkExt;
        self.send(Message::Binary(data.into())).await.unwrap();
    }
}

#[tokio::test]
async fn join_errors_before_joining() {
    let server = TestServer::default().await;
    let mut s = Bystanders::new(&server).await;
    let mut x = server.client().await;
    x.signal(&s.idb, OFFER).await;
    x.expect_error(ErrorCode::NotJoined).await;
    x.send_json(serde_json::json!({"type":"leave"})).await;
    x.expect_error(ErrorCode::NotJoined).await;
    x.send_json(serde_json::json!({"type":"join","room":"bystanders","name":"X","version":2})).await;
    x.expect_error(ErrorCode::VersionMismatch).await;
    for room in ["a", "has space", "<script>", "ünïcode", &"x".repeat(65)] {
        x.send_json(serde_json::json!({"type":"join","room":room,"name":"X","version":1})).await;
        x.expect_error(ErrorCode::BadRoomCode).await;
    }
    for name in ["", "   ", "bell\u{7}", &"n".repeat(65)] {
        x.send_json(serde_json::json!({"type":"join","room":"other","name":name,"version":1})).await;
        x.expect_error(ErrorCode::BadMessage).await;
    }
    x.ping().await;
    s.unaffected(false).await;
    // The bystanders' ids were never exposed to X by any of this.
    let _ = &mut s.a;
}

#[tokio::test]
async fn oversized_frames_get_too_large_and_a_close() {
    let server = TestServer::default().await;
    let mut s = Bystanders::new(&server).await;
    let big = format!(r#"{{"type":"signal","to":"{}","data":"{}"}}"#, s.idb, "x".repeat(70 * 1024));
    s.a.send_text(&big).await;
    s.a.expect_error(ErrorCode::TooLarge).await;
    assert_eq!(s.a.expect_closed().await, Some(1009));
    s.unaffected(true).await;
}

#[tokio::test]
async fn flooding_is_rate_limited_then_closed() {
    let server = TestServer::start(config_with(|c| {
        c.limits.rate_per_sec = 20;
        c.limits.rate_burst = 20;
    }))
    .await;
    let mut s = Bystanders::new(&server).await;
    let flood = format!(r#"{{"type":"signal","to":"{}","data":{CANDIDATE}}}"#, s.idb);
    let started = Instant::now();
    for _ in 0..200 {
        if futures_util::SinkExt::send(&mut s.a.ws, Message::text(flood.clone())).await.is_err() {
            break; // already thrown out
        }
    }
    // However slowly this machine sent the flood, no more than the burst plus the refill got through.
    let allowed = 20 + (20.0 * started.elapsed().as_secs_f64()).ceil() as usize + 1;
    // B got at most the burst of relays; A got rate_limited and was thrown out with a policy close.
    let mut relayed = 0;
    loop {
        match s.b.recv().await {
            ServerMessage::Signal { .. } => relayed += 1,
            ServerMessage::PeerLeft { id } => {
                assert_eq!(id, s.ida);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!((10..=allowed).contains(&relayed), "{relayed} relays got through the limit of {allowed}");
    let mut saw_rate_limited = false;
    let code = loop {
        match tokio::time::timeout(WAIT, futures_util::StreamExt::next(&mut s.a.ws)).await.unwrap() {
            Some(Ok(Message::Text(t))) => {
                if let Ok(ServerMessage::Error { code, .. }) = ServerMessage::parse(&t) {
                    assert_eq!(code, ErrorCode::RateLimited);
                    saw_rate_limited = true;
                }
            }
            Some(Ok(Message::Close(f))) => break f.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break None,
        }
    };
    assert!(saw_rate_limited);
    assert_eq!(code, Some(1008));
    // C saw A leave; B and C carry on.
    assert_eq!(s.c.expect_peer_left().await, s.ida);
    s.b.signal(&s.idc, OFFER).await;
    assert_eq!(s.c.expect_signal().await.0, s.idb);
}

#[tokio::test]
async fn server_full_is_refused_with_its_code() {
    let server = TestServer::start(config_with(|c| c.limits.max_connections = 2)).await;
    let mut a = server.client().await;
    let mut b = server.client().await;
    a.join("full", "A").await;
    b.join("full", "B").await;
    let mut c = server.client().await;
    c.expect_error(ErrorCode::ServerFull).await;
    assert_eq!(c.expect_closed().await, Some(1013));
    a.expect_peer_joined().await;
    a.ping().await;
}

#[tokio::test]
async fn no_join_in_time_is_a_timeout() {
    let server = TestServer::start(config_with(|c| c.limits.join_timeout = Duration::from_millis(300))).await;
    let mut x = server.client().await;
    x.expect_error(ErrorCode::Timeout).await;
    assert_eq!(x.expect_closed().await, Some(1001));
}

#[tokio::test]
async fn a_silent_peer_is_dropped_within_ten_seconds() {
    // Default ping settings: the acceptance bound is what a user gets out of the box.
    assert!(Limits::clone(&Config::default().limits).idle_timeout < Duration::from_secs(10));
    let server = TestServer::default().await;
    let mut a = server.client().await;
    let (_, _) = a.join("silent", "A").await;
    let mut b = server.client().await;
    let (idb, _) = b.join("silent", "B").await;
    a.expect_peer_joined().await;
    // B's network vanishes: its socket stays open but it never reads again, so it answers no pings.
    let started = Instant::now();
    let left = tokio::time::timeout(Duration::from_secs(10), a.expect_peer_left())
        .await
        .expect("peer_left within 10 s");
    assert_eq!(left, idb);
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(b);
}

#[tokio::test]
async fn origin_allowlist_is_enforced() {
    let server =
        TestServer::start(config_with(|c| c.allowed_origins = vec!["https://good.example".into()])).await;
    let ws_headers = |origin: &str| {
        format!(
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: {origin}\r\n"
        )
    };
    let (status, _) =
        common::http_request(server.addr, "GET", "/ws", &ws_headers("https://evil.example")).await;
    assert_eq!(status, 403);
    let (status, _) =
        common::http_request(server.addr, "GET", "/ws", &ws_headers("https://good.example")).await;
    assert_eq!(status, 101);
    // Native clients send no Origin at all.
    server.client().await.ping().await;
}

#[tokio::test]
async fn shutdown_closes_every_connection_with_going_away() {
    let mut server = TestServer::default().await;
    let mut a = server.client().await;
    a.join("bye", "A").await;
    let mut b = server.client().await;
    server.shutdown.cancel();
    assert_eq!(a.expect_closed().await, Some(1001));
    assert_eq!(b.expect_closed().await, Some(1001));
    tokio::time::timeout(WAIT, &mut server.task).await.expect("server stops").unwrap().unwrap();
}

mod arbitrary_frames {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        /// Whatever frames a client sends, the server answers each text frame with at most one message,
        /// never closes a bystander, and stays responsive.
        #[test]
        fn arbitrary_frames_never_hurt_the_server(frames in proptest::collection::vec(
            prop_oneof![
                any::<String>().prop_map(Message::from),
                proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| Message::Binary(b.into())),
                r#"\{"type":"(join|signal|leave|ping|pong|x)"(,"(room|name|version|to|data)":("[a-z]{0,5}"|[0-9]{1,3}|null|\{\}))*\}"#.prop_map(Message::from),
            ], 1..12))
        {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let server = TestServer::default().await;
                let mut bystander = server.client().await;
                bystander.join("prop", "B").await;
                let mut x = server.client().await;
                for f in frames {
                    use futures_util::SinkExt;
                    x.ws.send(f).await.unwrap();
                }
                bystander.ping().await;
                let mut y = server.client().await;
                y.ping().await;
            });
        }
    }
}

//! Cluster mode: several `kaiwa-signaling` processes sharing rooms through a real Redis on loopback, with
//! clients spread over them; a node killed (`SIGKILL`) or frozen (`SIGSTOP`), and Redis restarted.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, WAIT, http_request};
use kaiwa_protocol::{ErrorCode, ServerMessage};
use kaiwa_testkit::ServerProcess;
use kaiwa_testkit::redis::RedisServer;

/// The servers' idle timeout (the default): a dead node's participants must be announced within it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(6);

/// One `kaiwa-signaling` process in cluster mode.
struct Node {
    process: ServerProcess,
    addr: SocketAddr,
}

impl Node {
    async fn start(redis: &RedisServer, extra: &[&str]) -> Node {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kaiwa-signaling"));
        command
            .args(["--listen", "127.0.0.1:0", "--redis", &redis.url()])
            .args(extra)
            .env("RUST_LOG", "warn,kaiwa_signaling=info")
            .stderr(Stdio::null());
        let process = ServerProcess::spawn(command).unwrap();
        let node = Node { addr: process.addr, process };
        node.wait_ready().await;
        node
    }

    /// Waits until `/healthz` says the node is in the cluster.
    async fn wait_ready(&self) {
        let started = Instant::now();
        while http_request(self.addr, "GET", "/healthz", "").await.0 != 200 {
            assert!(started.elapsed() < WAIT, "node {} never joined the cluster", self.addr);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    fn signal(&self, name: &str) {
        let pid = self.process.child.id().to_string();
        let ok = Command::new("kill").arg(format!("-{name}")).arg(pid).status().unwrap();
        assert!(ok.success());
    }
}

async fn nodes(redis: &RedisServer, n: usize, extra: &[&str]) -> Vec<Node> {
    let mut nodes = Vec::new();
    for _ in 0..n {
        nodes.push(Node::start(redis, extra).await);
    }
    nodes
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn a_room_spread_over_three_servers_behaves_as_on_one() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let n = nodes(&redis, 3, &[]).await;
    let mut a = n[0].client().await;
    let (ida, peers) = a.join("team-sync", "Ann").await;
    assert!(peers.is_empty());
    let mut b = n[1].client().await;
    let (idb, peers) = b.join("Team-Sync", "Bo").await;
    assert_eq!(peers.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [ida.as_str()]);
    assert_eq!(a.expect_peer_joined().await.id, idb);
    let mut c = n[2].client().await;
    c.send_json(serde_json::json!({"type":"join","room":"TEAMSYNC","name":"Cy","version":1})).await;
    let ServerMessage::Joined { id: idc, room, peers, max_peers, .. } = c.recv().await else {
        panic!("no joined")
    };
    assert_eq!(room, "team-sync", "the room keeps the code as its creator typed it");
    assert_eq!(max_peers, 6);
    assert_eq!(peers.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Ann", "Bo"], "join order");
    assert_eq!(a.expect_peer_joined().await.id, idc);
    assert_eq!(b.expect_peer_joined().await.id, idc);

    // Relaying across servers, in order, with `from` stamped by the sender's server.
    for i in 0..20 {
        c.signal(&ida, &format!(r#"{{"n":{i}}}"#)).await;
    }
    for i in 0..20 {
        assert_eq!(a.expect_signal().await, (idc.clone(), format!(r#"{{"n":{i}}}"#)));
    }
    a.signal(&idb, r#"{"sdp":"answer"}"#).await;
    assert_eq!(b.expect_signal().await, (ida.clone(), r#"{"sdp":"answer"}"#.into()));
    b.signal("nobody", "{}").await;
    b.expect_error(ErrorCode::UnknownPeer).await;

    // The room API of any server sees the whole room.
    let (status, body) = http_request(n[1].addr, "GET", "/api/rooms/teamsync", "").await;
    assert_eq!(status, 200);
    assert_eq!(json(&body), serde_json::json!({"room":"team-sync","participants":3,"capacity":6}));
    let (status, body) = http_request(n[2].addr, "POST", "/api/rooms", "").await;
    assert_eq!(status, 201);
    let fresh = json(&body)["room"].as_str().unwrap().to_owned();
    let (_, body) = http_request(n[0].addr, "GET", &format!("/api/rooms/{fresh}"), "").await;
    assert_eq!(json(&body)["participants"], 0);

    // Departures reach everyone, whichever server they are on.
    c.send_json(serde_json::json!({"type":"leave"})).await;
    assert_eq!(a.expect_peer_left().await, idc);
    assert_eq!(b.expect_peer_left().await, idc);
    drop(a);
    assert_eq!(b.expect_peer_left().await, ida);
    let (_, body) = http_request(n[2].addr, "GET", "/api/rooms/team-sync", "").await;
    assert_eq!(json(&body)["participants"], 1);
}

#[tokio::test]
async fn room_capacity_is_exact_when_clients_of_three_servers_race_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let n = nodes(&redis, 3, &["--max-room-size", "4"]).await;
    for round in 0..5 {
        let room = format!("race-{round}");
        let joins = (0..12).map(|i| {
            let addr = n[i % 3].addr;
            let room = room.clone();
            tokio::spawn(async move {
                let mut c = Client::connect(addr).await;
                c.send_json(
                    serde_json::json!({"type":"join","room":room,"name":format!("p{i}"),"version":1}),
                )
                .await;
                match c.recv().await {
                    ServerMessage::Joined { id, peers, .. } => Some((c, id, peers.len())),
                    ServerMessage::Error { code: ErrorCode::RoomFull, .. } => None,
                    other => panic!("first message was {other:?}"),
                }
            })
        });
        let mut admitted = Vec::new();
        for join in futures_util::future::join_all(joins).await {
            admitted.extend(join.unwrap());
        }
        assert_eq!(admitted.len(), 4, "round {round}");
        // Whoever joined k-th saw k-1 before it and hears of the 4-k after it: everyone ends up knowing everyone.
        for (c, _, before) in &mut admitted {
            for _ in *before..3 {
                c.expect_peer_joined().await;
            }
            c.ping().await;
        }
        let mut seen: Vec<usize> = admitted.iter().map(|(_, _, before)| *before).collect();
        seen.sort();
        assert_eq!(seen, [0, 1, 2, 3]);
    }
}

/// Ann on the first node, Bo on the second, introduced.
async fn ann_and_bo(n: &[Node], room: &str) -> (Client, String, Client, String) {
    let mut a = n[0].client().await;
    let (ida, _) = a.join(room, "Ann").await;
    let mut b = n[1].client().await;
    let (idb, _) = b.join(room, "Bo").await;
    assert_eq!(a.expect_peer_joined().await.id, idb);
    (a, ida, b, idb)
}

async fn expect_left_within_idle_timeout(a: &mut Client, id: &str) {
    let started = Instant::now();
    assert_eq!(a.expect_peer_left().await, id);
    let took = started.elapsed();
    assert!(took < IDLE_TIMEOUT, "announced after {took:?}");
}

#[tokio::test]
async fn a_killed_server_has_its_participants_announced_as_left() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let mut n = nodes(&redis, 2, &[]).await;
    let (mut a, _, _b, idb) = ann_and_bo(&n, "killed").await;
    n[1].signal("KILL");
    expect_left_within_idle_timeout(&mut a, &idb).await;
    // Bo's app reconnects to the server that is left and meets Ann again.
    let mut b = n[0].client().await;
    let (idb, peers) = b.join("killed", "Bo").await;
    assert_eq!(peers.len(), 1);
    assert_eq!(a.expect_peer_joined().await.id, idb);
    n.pop();
}

#[tokio::test]
async fn a_frozen_server_is_taken_out_and_its_clients_rejoin_when_it_wakes() {
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let n = nodes(&redis, 2, &[]).await;
    let (mut a, ida, mut b, idb) = ann_and_bo(&n, "frozen").await;
    n[1].signal("STOP");
    expect_left_within_idle_timeout(&mut a, &idb).await;
    n[1].signal("CONT");
    // Woken, the node finds its lease gone: Bo is told to come back, as after a server restart.
    b.expect_error(ErrorCode::Unavailable).await;
    assert_eq!(b.expect_closed().await, Some(1013));
    n[1].wait_ready().await;
    let mut b = n[1].client().await;
    let (idb, peers) = b.join("frozen", "Bo").await;
    assert_eq!(peers.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [ida.as_str()]);
    assert_eq!(a.expect_peer_joined().await.id, idb);
    b.signal(&ida, r#"{"sdp":"offer"}"#).await;
    assert_eq!(a.expect_signal().await.0, idb);
}

#[tokio::test]
async fn a_redis_outage_and_restart_are_survived() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start(dir.path());
    let n = nodes(&redis, 2, &[]).await;
    let (_a, _, mut b, _) = ann_and_bo(&n, "outage").await;
    redis.kill();
    // Clients in rooms are told to come back later; nobody may join meanwhile, and health says so.
    b.expect_error(ErrorCode::Unavailable).await;
    assert_eq!(b.expect_closed().await, Some(1013));
    let mut c = n[0].client().await;
    c.send_json(serde_json::json!({"type":"join","room":"outage","name":"Cy","version":1})).await;
    c.expect_error(ErrorCode::Unavailable).await;
    assert_eq!(http_request(n[0].addr, "GET", "/healthz", "").await.0, 503);
    assert_eq!(http_request(n[1].addr, "GET", "/api/rooms/outage", "").await.0, 503);

    redis.restart();
    for node in &n {
        node.wait_ready().await;
    }
    let (mut a, ida, mut b, idb) = ann_and_bo(&n, "outage").await;
    a.signal(&idb, r#"{"sdp":"offer"}"#).await;
    assert_eq!(b.expect_signal().await.0, ida);
    let (_, body) = http_request(n[1].addr, "GET", "/api/rooms/outage", "").await;
    assert_eq!(json(&body)["participants"], 2);
}

#[tokio::test]
async fn the_move_to_the_sfu_is_decided_once_for_every_server() {
    // Two nodes whose rooms of more than two go to a Janus nobody listens at (tests/sfu at the top of the
    // workspace has a real one): who finds a room full for a mesh is decided in Redis, and a move made on
    // one node reaches the room's clients on the other.
    let dir = tempfile::tempdir().unwrap();
    let redis = RedisServer::start(dir.path());
    let unreachable = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let janus = format!("ws://{unreachable}");
    let n = nodes(&redis, 2, &["--janus", &janus, "--sfu-above", "2", "--max-room-size", "4"]).await;

    // Someone who cannot use the SFU keeps a room at the mesh limit, whichever node the next one tries.
    let mut a = n[0].client().await;
    assert!(matches!(a.join_sfu("mixed", "Ann", false).await, ServerMessage::Joined { sfu: false, .. }));
    let mut b = n[1].client().await;
    assert!(matches!(b.join_sfu("mixed", "Bo", true).await, ServerMessage::Joined { sfu: false, .. }));
    let mut c = n[1].client().await;
    match c.join_sfu("mixed", "Cy", true).await {
        ServerMessage::Error { code: ErrorCode::RoomFull, message } => {
            assert!(message.contains("media server"), "{message}")
        }
        other => panic!("expected room_full, got {other:?}"),
    }

    // A room where everyone can moves at the third join; the SFU cannot be reached, so everyone in it is
    // told to come back (`unavailable`), on both nodes.
    let mut d = n[0].client().await;
    d.join_sfu("moving", "Di", true).await;
    let mut e = n[1].client().await;
    e.join_sfu("moving", "Ed", true).await;
    d.expect_peer_joined().await;
    let mut f = n[1].client().await;
    f.send_json(serde_json::json!({"type":"join","room":"moving","name":"Flo","version":1,"sfu":true})).await;
    for client in [&mut d, &mut e, &mut f] {
        client.expect_sent_away_by_the_sfu().await;
    }
}

//! Rooms past the mesh limit on a server with an SFU, without one running (`tests/sfu/` at the top of
//! the workspace has Janus itself): who may move a room there, who finds it full, and what everyone hears
//! when the SFU cannot be reached.

mod common;

use common::TestServer;
use kaiwa_protocol::{ErrorCode, ServerMessage};

/// A server whose rooms of more than two go to a Janus nobody listens at.
async fn server() -> TestServer {
    let unreachable = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let config = kaiwa_signaling::Config {
        janus: Some(format!("ws://{unreachable}")),
        sfu_above: 2,
        max_room_size: 4,
        ..Default::default()
    };
    TestServer::start(config).await
}

#[tokio::test]
async fn a_room_with_someone_who_cannot_use_the_sfu_is_full_at_the_mesh_limit() {
    let server = server().await;
    let mut a = server.client().await;
    assert!(matches!(a.join_sfu("mixed", "Ann", false).await, ServerMessage::Joined { sfu: false, .. }));
    let mut b = server.client().await;
    assert!(matches!(b.join_sfu("mixed", "Bo", true).await, ServerMessage::Joined { sfu: false, .. }));
    let mut c = server.client().await;
    match c.join_sfu("mixed", "Cy", true).await {
        ServerMessage::Error { code: ErrorCode::RoomFull, message } => {
            assert!(message.contains("media server"), "{message}")
        }
        other => panic!("expected room_full, got {other:?}"),
    }
    // Nobody else noticed anything.
    a.expect_peer_joined().await;
    a.ping().await;
}

#[tokio::test]
async fn an_unreachable_sfu_sends_everyone_in_the_moved_room_away_to_rejoin() {
    let server = server().await;
    let mut a = server.client().await;
    a.join_sfu("moving", "Ann", true).await;
    let mut b = server.client().await;
    b.join_sfu("moving", "Bo", true).await;
    a.expect_peer_joined().await;
    let mut c = server.client().await;
    c.send_json(serde_json::json!({"type":"join","room":"moving","name":"Cy","version":1,"sfu":true})).await;
    // The third moves the room (its `joined` says so, if it leaves before the rest), but the SFU cannot be
    // reached, so everyone in the room is told to come back (`unavailable`).
    for client in [&mut a, &mut b, &mut c] {
        client.expect_sent_away_by_the_sfu().await;
    }
}

//! The signaling server restarts mid-call: media keeps flowing peer to peer, both clients reconnect with
//! backoff and rejoin (keeping their connection, re-keyed to their new ids), and a later joiner still
//! connects to both. And one participant's signaling connection drops while the server stays: the server
//! tells the other that they left, yet the connection between them stays up and is re-keyed on rejoin.
//! No fixed sleeps: each step waits (bounded) for the events or frames it needs.

mod common;

use std::time::Duration;

use common::{
    Server, decoded, party_at, party_sized, wait_all_connected, wait_connected, wait_decoded, wait_for,
    wait_joined,
};
use kaiwa_engine::{EngineEvent, PeerState};

const SIZE: (u32, u32) = (320, 240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_survives_a_signaling_server_restart() {
    let server = Server::start(Default::default()).await;
    let addr = server.addr.to_string();
    let mut a = party_sized(&server, "restart", "Ann", 440.0, SIZE);
    wait_joined(&mut a.engine).await;
    let mut b = party_sized(&server, "restart", "Bo", 660.0, SIZE);
    wait_connected(&mut a.engine, 1).await;
    wait_connected(&mut b.engine, 1).await;

    server.shutdown().await;
    for p in [&mut a, &mut b] {
        wait_for(&mut p.engine, "signaling lost", |e| matches!(e, EngineEvent::SignalingLost { .. })).await;
    }
    // No server: the call goes on peer to peer.
    let before = (decoded(&a, "Bo"), decoded(&b, "Ann"));
    wait_decoded(&a, "Bo", before.0 + 40).await;
    wait_decoded(&b, "Ann", before.1 + 40).await;

    let server = Server::start_on(&addr, Default::default()).await;
    let mut renamed = Vec::new();
    for p in [&mut a, &mut b] {
        wait_for(&mut p.engine, "rejoined", |e| matches!(e, EngineEvent::Joined { rejoined: true, .. }))
            .await;
        // The other side proved its new id over the connection (its certificate): the owner is told.
        match wait_for(&mut p.engine, "renamed", |e| matches!(e, EngineEvent::PeerRenamed { .. })).await {
            EngineEvent::PeerRenamed { new, .. } => renamed.push(new),
            _ => unreachable!(),
        }
    }
    let during = (decoded(&a, "Bo"), decoded(&b, "Ann"));
    wait_decoded(&a, "Bo", during.0 + 60).await;
    wait_decoded(&b, "Ann", during.1 + 60).await;
    for (p, new) in [&a, &b].into_iter().zip(&renamed) {
        let stats = p.engine.stats().await;
        assert_eq!(stats.len(), 1, "{} has {} connections after the restart: {stats:?}", p.name, stats.len());
        assert_eq!(stats[0].state, PeerState::Connected);
        assert_eq!(&stats[0].id, new, "{} files the connection under the new id", p.name);
    }

    // A later joiner reaches both.
    let mut c = party_sized(&server, "restart", "Cy", 550.0, SIZE);
    wait_connected(&mut c.engine, 2).await;
    wait_decoded(&c, "Ann", 21).await;
    wait_decoded(&c, "Bo", 21).await;
    for p in [&a, &b] {
        wait_all_connected(p, 2).await;
        wait_decoded(p, "Cy", 21).await;
    }
    for p in [a, b, c] {
        p.engine.leave().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_signaling_connection_keeps_the_call() {
    // Before the fix: Bo closed the connection when the server said Ann left, while Ann, rejoined under a
    // new id, kept hers; Bo's new session waited for an offer Ann never sent, and the call stayed dead.
    let server = Server::start(Default::default()).await;
    let relay = kaiwa_testkit::TcpRelay::start(server.addr).await;
    let mut a = party_at(&relay.ws_url(), "dropped", "Ann", 440.0, SIZE, Default::default());
    wait_joined(&mut a.engine).await;
    let mut b = party_sized(&server, "dropped", "Bo", 660.0, SIZE);
    wait_connected(&mut a.engine, 1).await;
    wait_connected(&mut b.engine, 1).await;
    wait_decoded(&a, "Bo", 1).await;
    wait_decoded(&b, "Ann", 1).await;
    let before = (decoded(&a, "Bo"), decoded(&b, "Ann"));

    relay.cut();
    wait_for(&mut a.engine, "signaling lost", |e| matches!(e, EngineEvent::SignalingLost { .. })).await;
    wait_for(&mut a.engine, "rejoined", |e| matches!(e, EngineEvent::Joined { rejoined: true, .. })).await;
    let renamed = wait_for(&mut b.engine, "Ann's new id", |e| {
        assert!(!matches!(e, EngineEvent::PeerLeft(_)), "Bo dropped Ann: {e:?}");
        matches!(e, EngineEvent::PeerRenamed { .. })
    })
    .await;
    let EngineEvent::PeerRenamed { new, .. } = renamed else { unreachable!() };

    wait_decoded(&a, "Bo", before.0 + 60).await;
    wait_decoded(&b, "Ann", before.1 + 60).await;
    let stats = b.engine.stats().await;
    assert_eq!(stats.len(), 1, "Bo has {} connections: {stats:?}", stats.len());
    assert_eq!(stats[0].state, PeerState::Connected);
    assert_eq!(stats[0].id, new, "Bo files the connection under Ann's new id");
    let stats = a.engine.stats().await;
    assert_eq!(stats.len(), 1, "Ann has {} connections: {stats:?}", stats.len());
    // Leaving for real is seen at once (the data channel closes), not after the grace for a rejoin.
    let left_at = std::time::Instant::now();
    a.engine.leave().await;
    wait_for(&mut b.engine, "Ann left", |e| matches!(e, EngineEvent::PeerLeft(_))).await;
    assert!(left_at.elapsed() < Duration::from_secs(5), "Ann's leave took {:?}", left_at.elapsed());
    b.engine.leave().await;
}

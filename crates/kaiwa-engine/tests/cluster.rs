//! A call between engines on two signaling servers in cluster mode (a real Redis on loopback): they meet
//! as on one server; when Redis restarts, both servers send their clients away with `unavailable`, the
//! engines keep the call going peer to peer, retry until the servers take joins again, rejoin and re-key
//! their connection; a later joiner on either server reaches both.

mod common;

use std::time::Duration;

use common::{
    Server, decoded, eventually, party_sized, wait_all_connected, wait_connected, wait_decoded, wait_for,
    wait_joined,
};
use kaiwa_engine::EngineEvent;
use kaiwa_testkit::redis::RedisServer;

const SIZE: (u32, u32) = (320, 240);

async fn node(redis: &RedisServer) -> Server {
    let config = kaiwa_signaling::Config { redis: Some(redis.url()), ..Default::default() };
    let server = Server::start(config).await;
    let addr = server.addr;
    eventually("the server joined the cluster", || async move { kaiwa_testkit::healthy(addr) }).await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_across_two_servers_survives_a_redis_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = RedisServer::start(dir.path());
    let one = node(&redis).await;
    let two = node(&redis).await;
    let mut a = party_sized(&one, "cluster", "Ann", 440.0, SIZE);
    wait_joined(&mut a.engine).await;
    let mut b = party_sized(&two, "cluster", "Bo", 660.0, SIZE);
    wait_connected(&mut a.engine, 1).await;
    wait_connected(&mut b.engine, 1).await;
    wait_decoded(&a, "Bo", 21).await;
    wait_decoded(&b, "Ann", 21).await;

    redis.kill();
    for p in [&mut a, &mut b] {
        wait_for(&mut p.engine, "signaling lost", |e| matches!(e, EngineEvent::SignalingLost { .. })).await;
    }
    let before = (decoded(&a, "Bo"), decoded(&b, "Ann"));
    wait_decoded(&a, "Bo", before.0 + 30).await;
    wait_decoded(&b, "Ann", before.1 + 30).await;
    // Held back a while: the engines' joins meanwhile are answered `unavailable`, which they retry.
    tokio::time::sleep(Duration::from_secs(1)).await;

    redis.restart();
    for p in [&mut a, &mut b] {
        wait_for(&mut p.engine, "rejoined", |e| matches!(e, EngineEvent::Joined { rejoined: true, .. }))
            .await;
        wait_for(&mut p.engine, "renamed", |e| matches!(e, EngineEvent::PeerRenamed { .. })).await;
    }
    let during = (decoded(&a, "Bo"), decoded(&b, "Ann"));
    wait_decoded(&a, "Bo", during.0 + 30).await;
    wait_decoded(&b, "Ann", during.1 + 30).await;

    let mut c = party_sized(&two, "cluster", "Cy", 550.0, SIZE);
    wait_connected(&mut c.engine, 2).await;
    wait_decoded(&c, "Ann", 21).await;
    wait_decoded(&c, "Bo", 21).await;
    for p in [&a, &b] {
        wait_all_connected(p, 2).await;
    }
    for p in [a, b, c] {
        p.engine.leave().await;
    }
}

//! TURN relay: a real coturn with `use-auth-secret`, credentials minted by the signaling server, both
//! clients relay-only. The call carries media and the stats show a relay candidate pair: over UDP, and over
//! TCP and TLS, which webrtc-rs cannot use itself (the engine's local relays, `net/turn_stream.rs`).

mod common;

use std::time::Duration;

use common::{party_with, start_server, wait_connected};
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_engine::signaling::Trust;
use kaiwa_signaling::{Config, TurnAuth};
use kaiwa_testkit::Coturn;

/// A relay-only call whose server hands out only `turn_url`; checks media both ways through the relay.
async fn relayed_call(coturn: &Coturn, turn_url: String, turn_trust: Option<Trust>, transport: &str) {
    let config = Config {
        turn: vec![turn_url],
        turn_auth: Some(TurnAuth::Secret { secret: coturn.secret.clone(), ttl: Duration::from_secs(600) }),
        ..Config::default()
    };
    let server = start_server(config).await;
    let network = NetworkConfig {
        udp_addrs: vec!["127.0.0.1:0".into()],
        relay_only: true,
        turn_trust,
        ..Default::default()
    };
    let mut a = party_with(&server, "relay", "Ann", 440.0, (320, 240), network.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut b = party_with(&server, "relay", "Bo", 660.0, (320, 240), network);
    wait_connected(&mut a.engine, 1).await;
    wait_connected(&mut b.engine, 1).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    for p in [&a, &b] {
        let stats = p.engine.stats().await;
        let s = &stats[0];
        println!("{}: {}", p.name, serde_json::to_string(s).unwrap());
        assert_eq!(s.local_candidate.as_deref(), Some("relay"), "{} is not relayed: {s:?}", p.name);
        assert_eq!(s.relay_transport.as_deref(), Some(transport), "{}: {s:?}", p.name);
        assert!(
            s.video_in.frames_decoded > 60,
            "{}: {} frames through the relay",
            p.name,
            s.video_in.frames_decoded
        );
        assert!(
            s.audio_in.packets > 100,
            "{}: {} audio packets through the relay",
            p.name,
            s.audio_in.packets
        );
    }
    a.engine.leave().await;
    b.engine.leave().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_call_through_coturn() {
    let dir = tempfile::tempdir().unwrap();
    let coturn = Coturn::start(dir.path(), "relay-test-secret");
    relayed_call(&coturn, coturn.url(), None, "udp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_over_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let coturn = Coturn::start(dir.path(), "relay-tcp-secret");
    // Only a TCP URL is handed out: without the engine's local relay, webrtc-rs gathers no relay
    // candidate and a relay-only call cannot connect.
    relayed_call(&coturn, coturn.tcp_url(), None, "tcp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_over_tls_with_a_pinned_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    // The certificate a `--tls-self-signed` signaling server makes and keeps: coturn can share it.
    let tls = kaiwa_signaling::tls::self_signed(Some(dir.path()), vec!["127.0.0.1".into()]).unwrap();
    let coturn = Coturn::start_with_tls(
        dir.path(),
        "relay-tls-secret",
        &dir.path().join("cert.pem"),
        &dir.path().join("key.pem"),
    );
    relayed_call(&coturn, coturn.tls_url().unwrap(), Some(Trust::Pinned(tls.fingerprint)), "tls").await;
}

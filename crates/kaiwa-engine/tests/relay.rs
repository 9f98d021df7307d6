//! TURN relay: a real coturn with `use-auth-secret`, credentials minted by the signaling server, both
//! clients relay-only. The call carries media and the stats show a relay candidate pair.

mod common;

use std::time::Duration;

use common::{party_with, start_server, wait_connected};
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_signaling::{Config, TurnAuth};
use kaiwa_testkit::Coturn;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_call_through_coturn() {
    let dir = tempfile::tempdir().unwrap();
    let coturn = Coturn::start(dir.path(), "relay-test-secret");
    let config = Config {
        turn: vec![coturn.url()],
        turn_auth: Some(TurnAuth::Secret { secret: coturn.secret.clone(), ttl: Duration::from_secs(600) }),
        ..Config::default()
    };
    let server = start_server(config).await;
    let network =
        NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], relay_only: true, ..Default::default() };
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
    drop(coturn);
}

//! Verification codes against a man in the middle: a signaling relay (written for the test,
//! [`kaiwa_engine::testing::Mitm`]) that answers each side with peer connections of its own, so both
//! connect to it with its certificates in place of each other's. The two people then see different codes;
//! without it they see the same (`tests/call.rs`).

mod common;

use common::{party_at, party_with, start_server, wait_connected};
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_engine::testing::Mitm;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_man_in_the_middle_shows_as_different_verification_codes() {
    let server = start_server(Default::default()).await;
    let mitm = Mitm::start(server.addr).await.unwrap();
    let network = || NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() };
    // Ann's signaling goes through the man in the middle, Bo's straight to the server; either may offer.
    for (room, ann_first) in [("mitm-a", true), ("mitm-b", false)] {
        let (mut ann, mut bo);
        if ann_first {
            ann = party_at(&mitm.ws_url(), room, "Ann", 440.0, (320, 240), network());
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            bo = party_with(&server, room, "Bo", 550.0, (320, 240), network());
        } else {
            bo = party_with(&server, room, "Bo", 550.0, (320, 240), network());
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            ann = party_at(&mitm.ws_url(), room, "Ann", 440.0, (320, 240), network());
        }
        wait_connected(&mut ann.engine, 1).await;
        wait_connected(&mut bo.engine, 1).await;
        let ann_code = ann.engine.stats().await[0].verification_code.clone();
        let bo_code = bo.engine.stats().await[0].verification_code.clone();
        assert!(ann_code.is_some() && bo_code.is_some(), "{room}: codes {ann_code:?} / {bo_code:?}");
        assert_ne!(ann_code, bo_code, "{room}: the same code through a man in the middle");
        ann.engine.leave().await;
        bo.engine.leave().await;
    }
}

//! Participants who misbehave on purpose ([`kaiwa_engine::testing::Hostile`]) against honest engines: the
//! honest participants' call goes on, asserted with media counts before and after.

mod common;

use std::time::Duration;

use common::{decoded, party, start_server, wait_connected, wait_for};
use kaiwa_engine::EngineEvent;
use kaiwa_engine::testing::Hostile;

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

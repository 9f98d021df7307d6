//! A camera turned off and on again, three times: each time the other side gets a new track (webrtc-rs
//! does not end the old one), plays it, and stops the one before, so no decode thread is left behind.
//! Alone in its test binary, since it counts the process's threads.

mod common;

use std::time::Duration;

use common::{decoded, party_sized, start_server, threads, wait_connected};

const SIZE: (u32, u32) = (320, 240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_camera_on_plays_the_new_track_and_leaves_no_thread_behind() {
    let server = start_server(Default::default()).await;
    let mut a = party_sized(&server, "toggles", "Ann", 440.0, SIZE);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut b = party_sized(&server, "toggles", "Bo", 660.0, SIZE);
    wait_connected(&mut a.engine, 1).await;
    wait_connected(&mut b.engine, 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let threads_before = threads();
    for round in 1..=3 {
        a.engine.set_video_enabled(false).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let off = decoded(&b, "Ann");
        a.engine.set_video_enabled(true).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while decoded(&b, "Ann") < off + 30 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "video did not come back after camera on #{round}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Before: one more decode thread at Bo per toggle, for the rest of the call.
    let threads_after = threads();
    assert!(
        threads_after < threads_before + 2,
        "threads {threads_before} -> {threads_after} after three toggles"
    );
    a.engine.leave().await;
    b.engine.leave().await;
}

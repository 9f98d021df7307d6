//! A VP8-only client in a room through Janus: Firefox without OpenH264 beside Chromium and a native
//! client, which both send H.264 in a mesh. Janus forwards without transcoding, so each room is made to
//! take VP8 first (`sfu/mod.rs`); everyone receives everyone, Firefox included.

use anyhow::{Context, Result};
use kaiwa_browser_tests::{Firefox, SERIAL};

use super::harness::{Room, firefox_through_sfu, wait_through_sfu};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_without_h264_receives_and_is_received_through_janus() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(26, 0).await?;
    let firefox = Firefox::launch_in_lab(&room.host, &[room.host.addr.to_string()])
        .await
        .context("Firefox in the lab")?;
    let fy = room.join_firefox(&firefox, "vp8", "Fy").await?;
    let cy = room.join("vp8", "Cy").await?;
    let mut ann = room.native("vp8", "Ann")?;
    ann.wait_through_sfu(2).await?;
    wait_through_sfu(&cy, 2).await.context("Chromium through Janus")?;
    firefox_through_sfu(&fy, 2).await.context("Firefox through Janus")?;
    Ok(())
}

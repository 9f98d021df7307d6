//! Shared screens through Janus: a screen a native client shares reaches the browser and the other native
//! client on a tile (a recording) of its own beside the camera, its sender's estimate past the camera's
//! rate; a browser's reaches both natives, and sharing that stops ends the screen everywhere while the
//! call goes on.

use anyhow::{Context, Result};
use kaiwa_browser_tests::SERIAL;

use super::harness::{MEDIA_WAIT, Room, wait_through_sfu};

/// The page shows participant `name`'s shared screen, playing (told so, its tile's picture moving).
fn page_shows_screen_of(name: &str) -> String {
    format!(
        "(() => {{ const p = kaiwa.state().peers.find(p => p.name === '{name}'); \
         const v = document.querySelector('.tile.screen video'); \
         return p && p.remoteScreen && p.screenShown && v && v.videoWidth > 0 && v.currentTime > 1; }})()"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_screens_go_through_janus_from_native_and_browser_clients() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(25, 0).await?;
    let cy = room.join("screens", "Cy").await?;
    // Bo shares a screen (a test pattern) from the start; Ann does not share.
    let mut ann = room.native("screens", "Ann")?;
    let mut bo = room.native_with("screens", "Bo", 30, &["--share", "testpattern"])?;
    ann.wait_through_sfu(2).await?;
    bo.wait_through_sfu(2).await?;
    wait_through_sfu(&cy, 2).await.context("Cy through Janus")?;

    // Bo's screen reaches Ann and Cy beside his camera.
    ann.wait_for_line("Bo: microphone on, camera on, sharing a screen").await?;
    ann.wait_for_screen("Bo", true).await?;
    cy.wait_for(&page_shows_screen_of("Bo"), MEDIA_WAIT).await.context("Cy showing Bo's screen")?;
    // His sending connection's estimate climbs past the camera's 400 kbit/s: the screen has room.
    bo.wait_for_estimate_above(400_000.0).await?;

    // Cy shares her tab: both natives receive it, and the cameras go on.
    cy.click("#toggle-share").await?;
    cy.wait_for("kaiwa.state().sharing", MEDIA_WAIT).await.context("Cy sharing")?;
    for native in [&ann, &bo] {
        native.wait_for_screen("Cy", true).await?;
    }
    ann.wait_through_sfu(2).await.context("cameras while two share")?;

    // Cy stops: her screen ends for both, Bo's goes on.
    cy.click("#toggle-share").await?;
    for native in [&ann, &bo] {
        native.wait_for_screen("Cy", false).await?;
    }
    ann.wait_for_screen("Bo", true).await?;
    wait_through_sfu(&cy, 2).await.context("Cy after sharing")?;
    Ok(())
}

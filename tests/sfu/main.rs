//! Big rooms through Janus: the signaling server (`kaiwa serve --janus`), Debian's Janus, headless
//! Chromium and the native client (`kaiwa call`), all inside one network-lab host (Janus gathers no
//! loopback candidates). A room that grows past the mesh limit moves to Janus: everyone publishes once and
//! receives the others through it, the mesh connections close only once Janus's media flows, and chat
//! goes on.
//!
//! `harness.rs` starts the parts; `cluster.rs` has big rooms on servers sharing rooms through Redis,
//! `thin.rs` a native client sending to Janus over a thin uplink, `screens.rs` shared screens through it,
//! `firefox.rs` a VP8-only Firefox with H.264-capable clients.

mod cluster;
mod firefox;
mod harness;
mod screens;
mod thin;

use anyhow::{Context, Result};
use kaiwa_browser_tests::SERIAL;
use kaiwa_testkit::janus::Janus;

use harness::{MEDIA_WAIT, Room, wait_through_sfu};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_past_the_mesh_limit_moves_to_janus_and_nobody_loses_the_call() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(18, 2).await?;

    // Two: a mesh, as always.
    let ann = room.join("big-room", "Ann").await?;
    let bo = room.join("big-room", "Bo").await?;
    for page in [&ann, &bo] {
        page.wait_for(
            "(() => { const s = kaiwa.state(); return !s.sfu && s.peers.length === 1 && \
             s.peers[0].connectionState === 'connected' && s.peers[0].videoFlowing; })()",
            MEDIA_WAIT,
        )
        .await
        .context("the mesh of two")?;
    }

    // A third takes the room past the limit: everyone moves to Janus.
    let cy = room.join("big-room", "Cy").await?;
    for (name, page) in [("Ann", &ann), ("Bo", &bo), ("Cy", &cy)] {
        wait_through_sfu(page, 2).await.with_context(|| format!("{name} through Janus"))?;
    }

    // Chat reaches everyone through the server now.
    ann.type_and_enter("#chat-input", "hello big room").await?;
    for page in [&bo, &cy] {
        page.wait_for(
            "kaiwa.state().chat.some(m => m.from === 'Ann' && m.text === 'hello big room')",
            MEDIA_WAIT,
        )
        .await
        .context("chat through the SFU room")?;
    }

    // Someone leaves: the others keep each other.
    cy.click("#leave").await?;
    for page in [&ann, &bo] {
        wait_through_sfu(page, 1).await.context("after Cy left")?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_through_janus_each_receive_the_other_seven() -> Result<()> {
    let _serial = SERIAL.lock().await;
    // Every room through Janus from its first participant.
    let room = Room::start(19, 0).await?;
    let names = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"];
    let mut pages = Vec::new();
    for name in names {
        pages.push(room.join("eight", name).await?);
    }
    for (name, page) in names.iter().zip(&pages) {
        wait_through_sfu(page, 7).await.with_context(|| format!("{name} receiving the other seven"))?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_janus_restarts_everyone_comes_back_through_it() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let mut room = Room::start(20, 0).await?;
    let ann = room.join("restart", "Ann").await?;
    let bo = room.join("restart", "Bo").await?;
    for page in [&ann, &bo] {
        wait_through_sfu(page, 1).await.context("before the restart")?;
    }
    room.janus = None;
    // The pages are told `unavailable` and rejoin, until Janus is back: then a new Janus room takes them.
    for page in [&ann, &bo] {
        page.wait_for("kaiwa.state().errors.includes('unavailable')", MEDIA_WAIT).await.context("told")?;
    }
    room.janus = Some(Janus::start(room.dir.path(), &room.host));
    for page in [&ann, &bo] {
        wait_through_sfu(page, 1).await.context("after the restart")?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_clients_move_to_janus_with_a_browser_and_nobody_loses_the_call() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(21, 2).await?;

    // A native client and a browser: a mesh of two.
    let mut ann = room.native("move", "Ann")?;
    let bo = room.join("move", "Bo").await?;
    bo.wait_for(
        "(() => { const s = kaiwa.state(); return !s.sfu && s.peers.length === 1 && s.peers[0].videoFlowing; })()",
        MEDIA_WAIT,
    )
    .await
    .context("the mesh of two")?;

    // A second native client takes the room past the limit: everyone moves to Janus.
    let mut cy = room.native("move", "Cy")?;
    ann.wait_through_sfu(2).await?;
    cy.wait_through_sfu(2).await?;
    wait_through_sfu(&bo, 2).await.context("Bo through Janus")?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_and_browser_clients_through_janus_each_receive_everyone() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(22, 0).await?;
    // The browsers first, so that the natives' chat lines (said once someone announces their media)
    // find them there.
    let pages = vec![room.join("mixed", "Cy").await?, room.join("mixed", "Di").await?];
    let mut natives = vec![room.native("mixed", "Ann")?, room.native("mixed", "Bo")?];
    for native in &mut natives {
        native.wait_through_sfu(3).await?;
    }
    for page in &pages {
        wait_through_sfu(page, 3).await.context("a browser receiving the other three")?;
    }
    // Chat between the two kinds of client, through the server.
    pages[0].type_and_enter("#chat-input", "hello natives").await?;
    for native in &natives {
        native.wait_for_line("[chat] Cy: hello natives").await?;
    }
    for page in &pages {
        page.wait_for(
            "kaiwa.state().chat.some(m => m.from === 'Ann' && m.text === 'hi from Ann')",
            MEDIA_WAIT,
        )
        .await
        .context("a native's chat line in a browser")?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_through_janus_each_receive_the_other_eleven() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(23, 0).await?;
    // Native clients at 5 frames a second: 132 streams decoded on the machine's two cores.
    let names = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ida", "Jo", "Kai", "Lu"];
    let mut natives = Vec::new();
    for name in names {
        natives.push(room.native_with("twelve", name, 5, &[])?);
    }
    for native in &mut natives {
        native.wait_through_sfu(11).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_native_and_browser_clients_through_janus_each_receive_the_other_seven() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(24, 0).await?;
    let mut natives = Vec::new();
    for name in ["Ann", "Bo", "Cy", "Di"] {
        natives.push(room.native("eight-mixed", name)?);
    }
    let mut pages = Vec::new();
    for name in ["Ed", "Flo", "Gus", "Hal"] {
        pages.push(room.join("eight-mixed", name).await?);
    }
    for native in &mut natives {
        native.wait_through_sfu(7).await?;
    }
    for (name, page) in ["Ed", "Flo", "Gus", "Hal"].iter().zip(&pages) {
        wait_through_sfu(page, 7).await.with_context(|| format!("{name} receiving the other seven"))?;
    }
    Ok(())
}

//! Big rooms on a cluster: two servers sharing rooms through Redis, one Janus. The move to Janus is
//! decided once, in Redis, and each server moves its own clients; everyone receives everyone through the
//! one Janus room whichever server they joined through, and chat crosses the servers as before.

use anyhow::{Context, Result};
use kaiwa_browser_tests::SERIAL;

use crate::harness::{MEDIA_WAIT, Room, wait_through_sfu};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_spread_over_two_servers_moves_to_janus_together() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start_cluster(25, 2, 2).await?;

    // A native client on the first server and a browser on the second: a mesh of two.
    let mut ann = room.native_on(0, "spread", "Ann")?;
    let bo = room.join_on(1, "spread", "Bo").await?;
    bo.wait_for(
        "(() => { const s = kaiwa.state(); return !s.sfu && s.peers.length === 1 && s.peers[0].videoFlowing; })()",
        MEDIA_WAIT,
    )
    .await
    .context("the mesh of two across the servers")?;

    // A native client on the second server takes the room past the limit: Ann (on the first) moves too.
    let mut cy = room.native_on(1, "spread", "Cy")?;
    ann.wait_through_sfu(2).await?;
    cy.wait_through_sfu(2).await?;
    wait_through_sfu(&bo, 2).await.context("Bo through Janus")?;

    // A browser joining the first server after the move goes straight to Janus, and everyone gets it.
    let di = room.join_on(0, "spread", "Di").await?;
    ann.wait_through_sfu(3).await?;
    cy.wait_through_sfu(3).await?;
    for (name, page) in [("Bo", &bo), ("Di", &di)] {
        wait_through_sfu(page, 3).await.with_context(|| format!("{name} receiving the other three"))?;
    }

    // Chat from one server reaches the clients of both.
    bo.type_and_enter("#chat-input", "hello both servers").await?;
    for native in [&ann, &cy] {
        native.wait_for_line("[chat] Bo: hello both servers").await?;
    }
    di.wait_for(
        "kaiwa.state().chat.some(m => m.from === 'Bo' && m.text === 'hello both servers')",
        MEDIA_WAIT,
    )
    .await
    .context("chat to Di")?;
    Ok(())
}

//! Screen sharing between engines: a second video track beside the camera, announced on the data channel,
//! played into its own sink; sharing starts, stops and starts again during the call without the connection
//! or the camera missing a beat, and someone who joins while a screen is shared gets it too.
//! (The screen here is a test pattern of its own size, so each picture says which track it came by; the
//! X11 capture itself is tested in `tests/cli_screen.rs` and `kaiwa-devices`.)

mod common;

use std::time::Duration;

use common::{
    decoded, eventually, party_sized, screen_decoded, start_server, wait_connected, wait_for, wait_joined,
};
use kaiwa_devices::TestPatternSource;
use kaiwa_engine::{EngineEvent, PeerState, ShareEnded};

const CAMERA: (u32, u32) = (320, 240);
const SCREEN: (u32, u32) = (640, 360);

/// A shared window that closes after `frames` pictures.
struct Closing {
    inner: TestPatternSource,
    frames: u32,
}

impl kaiwa_devices::VideoSource for Closing {
    fn describe(&self) -> String {
        "a window that closes".into()
    }
    fn size(&self) -> (u32, u32) {
        self.inner.size()
    }
    fn fps(&self) -> u32 {
        self.inner.fps()
    }
    fn next_frame(&mut self) -> Result<Option<kaiwa_devices::CapturedFrame>, kaiwa_devices::SourceError> {
        if self.frames == 0 {
            return Err(kaiwa_devices::SourceError::Device("the shared window is gone".into()));
        }
        self.frames -= 1;
        self.inner.next_frame()
    }
}

fn screen_source() -> Option<Box<dyn kaiwa_devices::VideoSource>> {
    Some(Box::new(TestPatternSource::new(SCREEN.0, SCREEN.1, 15).unwrap()))
}

/// Waits for `engine`'s next announcement of `who`'s media saying whether they share.
async fn wait_sharing(engine: &mut kaiwa_engine::Engine, sharing: bool) {
    wait_for(
        engine,
        &format!("the peer announced sharing = {sharing}"),
        |e| matches!(e, EngineEvent::PeerMedia { screen, .. } if *screen == sharing),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_is_shared_beside_the_camera_and_stops_and_starts_without_dropping_the_call() {
    let server = start_server(Default::default()).await;
    let mut ann = party_sized(&server, "share", "Ann", 440.0, CAMERA);
    wait_joined(&mut ann.engine).await;
    let mut bo = party_sized(&server, "share", "Bo", 660.0, CAMERA);
    wait_connected(&mut ann.engine, 1).await;
    wait_connected(&mut bo.engine, 1).await;
    eventually("Bo sees Ann's camera", || async { decoded(&bo, "Ann") >= 10 }).await;

    for round in 1..=2 {
        ann.engine.share_screen(screen_source()).await;
        wait_sharing(&mut bo.engine, true).await;
        let (camera_before, screen_before) = (decoded(&bo, "Ann"), screen_decoded(&bo, "Ann"));
        eventually(&format!("Bo sees Ann's screen (share #{round})"), || async {
            screen_decoded(&bo, "Ann") >= screen_before + 15
        })
        .await;
        // The camera went on throughout, in its own sink, at its own size.
        assert!(decoded(&bo, "Ann") > camera_before + 10, "the camera stalled while the screen started");
        {
            let seen = bo.recorder.peer("Ann");
            let seen = seen.lock().unwrap();
            assert_eq!(seen.unreadable, 0, "a screen picture reached the camera's sink");
            assert!(seen.screen_sizes.iter().all(|s| *s == SCREEN), "{:?}", seen.screen_sizes.last());
            assert!(
                seen.screen_counters.len() + 3 >= seen.screen_sizes.len(),
                "the screen's pictures garbled"
            );
        }
        let stats = bo.engine.stats().await;
        let screen_in = stats[0].screen_in.as_ref().expect("Bo's stats show the screen");
        assert_eq!((screen_in.width, screen_in.height), (u64::from(SCREEN.0), u64::from(SCREEN.1)));
        assert!(ann.engine.stats().await[0].out.screen_frames > 0);

        ann.engine.share_screen(None).await;
        wait_sharing(&mut bo.engine, false).await;
        let stopped = screen_decoded(&bo, "Ann");
        let camera = decoded(&bo, "Ann");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(screen_decoded(&bo, "Ann") <= stopped + 2, "the screen kept coming after sharing ended");
        assert!(decoded(&bo, "Ann") > camera + 10, "the camera stopped with the screen");
        assert!(bo.engine.stats().await[0].screen_in.is_none(), "a screen still counted after sharing ended");
    }
    // Never a reconnect: sharing is a renegotiation, not a new connection.
    let stats = bo.engine.stats().await;
    assert_eq!(stats[0].state, PeerState::Connected);

    // Someone who comes while Ann shares gets her screen with their first offer.
    ann.engine.share_screen(screen_source()).await;
    eventually("Bo sees the third share", || async { screen_decoded(&bo, "Ann") > 0 }).await;
    let mut cy = party_sized(&server, "share", "Cy", 880.0, CAMERA);
    wait_connected(&mut cy.engine, 2).await;
    eventually("Cy sees Ann's screen and camera", || async {
        screen_decoded(&cy, "Ann") >= 10 && decoded(&cy, "Ann") >= 10
    })
    .await;
    assert_eq!(cy.recorder.peer("Ann").lock().unwrap().unreadable, 0);
    assert_eq!(screen_decoded(&cy, "Bo"), 0, "Bo shares nothing");

    // The shared window closes: sharing ends for everyone, Ann is told why, the call goes on (her camera
    // too: Bo has seen five screen tracks of hers by now, and still plays her camera's).
    let closing = Closing { inner: TestPatternSource::new(SCREEN.0, SCREEN.1, 15).unwrap(), frames: 30 };
    ann.engine.share_screen(Some(Box::new(closing))).await;
    let ended =
        wait_for(&mut ann.engine, "the share to end", |e| matches!(e, EngineEvent::ScreenShareEnded(_)))
            .await;
    assert!(
        matches!(&ended, EngineEvent::ScreenShareEnded(ShareEnded::SourceEnded(why)) if why.contains("gone")),
        "{ended:?}"
    );
    eventually("Bo hears that Ann stopped sharing", || async {
        bo.engine.stats().await[0].screen_in.is_none()
    })
    .await;
    let camera = decoded(&bo, "Ann");
    eventually("Ann's camera goes on", || async { decoded(&bo, "Ann") > camera + 10 }).await;

    for p in [ann, bo, cy] {
        p.engine.leave().await;
    }
}

//! Screen sharing in the app: a participant's shared screen takes the stage with the cameras in a strip
//! below, can be unpinned for a camera and comes back; it goes when they stop. Our own "Share screen"
//! opens the picker, which says plainly when there is no screen to share.

use super::*;

fn send_chat(h: &mut Harness<'_, KaiwaApp>, text: &str) {
    h.get_by_role(egui::accesskit::Role::TextInput).focus();
    h.step();
    h.get_by_role(egui::accesskit::Role::TextInput).type_text(text);
    h.step();
    h.get_by_label("Send").click();
    settle(h);
}

fn rect(h: &Harness<'_, KaiwaApp>, label: &str) -> egui::Rect {
    h.get_by_label(label).rect()
}

#[test]
fn a_shared_screen_takes_the_stage_and_leaves_it_when_sharing_ends() {
    let rt = runtime();
    let server = rt.block_on(SignalingServer::start(kaiwa_signaling::Config::default()));
    let ws = server.ws_url();
    let (bob, _stop_bob) = spawn_bob(&rt, &ws, "share-room", 440.0);
    assert_eq!(bob.recv_timeout(Duration::from_secs(20)).as_deref(), Ok("in-room"), "Bob could not join");
    let mut h = harness(app_for(&rt, &ws, "share-room"));
    h.step();
    enter_call(&mut h, ["Continue", "Join now"]);
    wait_for(&bob, &mut h, "joined:Alice");
    wait_until(&mut h, "Bob's video", Duration::from_secs(20), |h| {
        h.state().call.as_ref().is_some_and(|c| c.state.peers.iter().any(|p| c.has_video(p)))
    });

    send_chat(&mut h, "share");
    wait_until(&mut h, "Bob's screen", Duration::from_secs(20), |h| {
        h.state()
            .call
            .as_ref()
            .is_some_and(|c| c.state.peers.iter().any(|p| p.sharing && c.view.frames_shown_of_screen(p) > 5))
    });
    let (screen, camera, own) =
        (rect(&h, "Bob's screen"), rect(&h, "Bob's picture"), rect(&h, "Your picture"));
    assert!(screen.height() > 400.0, "the screen fills the stage: {screen:?}");
    for small in [camera, own] {
        assert!(
            small.top() > screen.bottom() && small.height() < screen.height() / 3.0,
            "{small:?} in the strip"
        );
    }
    // The camera pinned: it takes the stage and the screen moves to the strip; unpinned, the screen is back.
    double_click(&mut h, "Bob's picture");
    let (screen, camera) = (rect(&h, "Bob's screen"), rect(&h, "Bob's picture"));
    assert!(
        camera.height() > 400.0 && screen.top() > camera.bottom(),
        "camera {camera:?} over screen {screen:?}"
    );
    double_click(&mut h, "Bob's picture");
    assert!(rect(&h, "Bob's screen").height() > 400.0, "unpinned: the screen has the stage again");

    send_chat(&mut h, "unshare");
    wait_until(&mut h, "the screen tile gone", Duration::from_secs(20), |h| {
        h.query_by_label("Bob's screen").is_none()
    });
    // Two people again: Bob fills the stage, we are a small picture-in-picture.
    let (camera, own) = (rect(&h, "Bob's picture"), rect(&h, "Your picture"));
    assert!(camera.contains_rect(own) && own.width() < camera.width() / 3.0, "{own:?} in {camera:?}");
}

#[test]
fn share_screen_opens_the_picker_which_says_why_when_nothing_can_be_shared() {
    let rt = runtime();
    let server = rt.block_on(SignalingServer::start(kaiwa_signaling::Config::default()));
    let mut h = harness(app_for(&rt, &server.ws_url(), "picker-room"));
    h.step();
    enter_call(&mut h, ["Continue", "Join now"]);
    h.get_by_label("Share screen").click();
    settle(&mut h);
    // This process may or may not have an X display: either the screens are offered with their thumbnails,
    // or the picker says why not. Never a black picture shared without asking.
    wait_until(&mut h, "the picker", Duration::from_secs(5), |h| {
        h.query_by_label("Share your screen").is_some()
    });
    let offered = h.query_all_by_label_contains("Screen 1").next().is_some();
    let explained = h.query_all_by_label_contains("No screen to share").next().is_some()
        || h.query_all_by_label_contains("Wayland").next().is_some();
    assert!(offered || explained, "the picker neither offered a screen nor said why not");
    h.get_by_label(if offered { "Cancel" } else { "Close" }).click();
    settle(&mut h);
    assert!(h.query_by_label("Share your screen").is_none(), "the picker closed");
    assert!(h.state().call.as_ref().is_some_and(|c| c.state.sharing.is_none()), "nothing shared");
}

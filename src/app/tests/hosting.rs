//! What a hosting app hands out: ICE over TCP, TURN credentials.

use super::*;

#[test]
fn a_hosting_app_takes_ice_over_tcp_and_one_joining_a_server_does_not() {
    // ICE-TCP lets a LAN browser whose UDP is blocked reach the desktop that hosts (tests/nat.rs calls
    // through it with `kaiwa call --ice-tcp`, the same engine setting).
    let rt = runtime();
    let settings = Settings {
        server_mode: ServerMode::Host,
        host_listen: "127.0.0.1:0".into(),
        media_bind: "127.0.0.1:0".into(),
        ..Settings::default()
    };
    let options = Options { room: Some("ice-tcp".into()), ..Options::default() };
    let mut app = KaiwaApp::new(rt.handle().clone(), settings, options);
    app.persist = false;
    let mut h = harness(app);
    wait_until(&mut h, "the built-in server", Duration::from_secs(20), |h| h.state().hosting().is_some());
    let target = h.state().target().expect("a target on the built-in server");
    assert!(target.hosted, "hosting: ICE over TCP");
    let remote = app_for(&rt, "wss://kaiwa.example:8443/ws", "ice-tcp").target().expect("a remote target");
    assert!(!remote.hosted, "joining another server: UDP (and its TURN) only");
}

#[test]
fn hosting_hands_out_a_coturn_with_minted_credentials_after_a_restart() {
    // A self-hoster sets a coturn and its use-auth-secret in the settings while the built-in server runs:
    // the start screen says the server still hands out the old settings, a restart (on the same port)
    // applies them, and the pre-join network check gets a relay from coturn with the minted credentials.
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let coturn = kaiwa_testkit::Coturn::start(dir.path(), "hosting-secret");
    let settings = Settings {
        server_mode: ServerMode::Host,
        host_listen: "127.0.0.1:0".into(),
        media_bind: "127.0.0.1:0".into(),
        width: 320,
        height: 240,
        ..Settings::default()
    };
    let options = Options { room: Some("own-relay".into()), ..Options::default() };
    let mut app = KaiwaApp::new(rt.handle().clone(), settings, options);
    app.persist = false;
    let mut h = harness(app);
    wait_until(&mut h, "the built-in server", Duration::from_secs(20), |h| h.state().hosting().is_some());
    let port = h.state().hosting().unwrap().addr.port();
    h.state_mut().settings.turn = vec![coturn.url(), coturn.tcp_url()];
    h.state_mut().settings.turn_secret = "hosting-secret".into();
    settle(&mut h);
    assert!(h.query_all_by_label_contains("still hands out the STUN and TURN settings").next().is_some());
    h.get_by_label("Restart the built-in server").click();
    wait_until(&mut h, "the restarted server", Duration::from_secs(20), |h| {
        h.state().hosting().is_some_and(|s| s.ice.turn.len() == 2)
    });
    assert_eq!(h.state().hosting().unwrap().addr.port(), port, "restarted on its port (links stay valid)");
    assert!(h.query_all_by_label_contains("still hands out").next().is_none());
    h.get_by_label("Continue").click();
    wait_until(&mut h, "the pre-join screen", Duration::from_secs(5), |h| {
        h.state().screen == Screen::Prejoin
    });
    wait_until(&mut h, "the relay in the network check", Duration::from_secs(20), |h| {
        h.query_all_by_label_contains("Relay over UDP: works").next().is_some()
            && h.query_all_by_label_contains("Relay over TCP: works").next().is_some()
    });
}

//! Trust on first use of a self-signed signaling server.

use super::*;

/// A `wss://` signaling server in this process with a fresh self-signed certificate for 127.0.0.1.
struct TlsServer {
    addr: std::net::SocketAddr,
    fingerprint: Fingerprint,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TlsServer {
    async fn start(addr: &str) -> TlsServer {
        let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let tls = kaiwa_signaling::tls::self_signed(None, names).unwrap();
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let config = kaiwa_signaling::Config::default();
        let task = tokio::spawn(kaiwa_signaling::serve(listener, config, Some(tls.config), stop.clone()));
        TlsServer { addr, fingerprint: tls.fingerprint, stop, task }
    }

    fn ws_url(&self) -> String {
        format!("wss://{}/ws", self.addr)
    }

    async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// An app that goes straight into `room` (`--join`) on `server`, remembering hosts in `known_hosts`.
fn joining_app(
    rt: &tokio::runtime::Runtime,
    server: &str,
    room: &str,
    known_hosts: &std::path::Path,
) -> KaiwaApp {
    let mut app = app_for(rt, server, room);
    app.set_known_hosts(known_hosts.to_path_buf());
    app.auto_join = true;
    app
}

/// Trust on first use: the first connection to a self-signed server shows its fingerprint and joins only
/// after **Trust**, which writes the known-hosts file; on a later run the same address with another
/// certificate is refused with a warning naming both fingerprints, and forgetting the old entry leads to
/// the first-use question again.
#[test]
fn self_signed_server_is_trusted_on_first_use_and_a_changed_certificate_is_refused() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let known_hosts = dir.path().join("known_hosts");
    let first = rt.block_on(TlsServer::start("127.0.0.1:0"));
    let (addr, first_fp) = (first.addr, first.fingerprint);

    let mut h = harness(joining_app(&rt, &first.ws_url(), "tofu-room", &known_hosts));
    wait_until(&mut h, "the trust question", Duration::from_secs(10), |h| {
        h.query_all_by_label_contains(&first_fp.to_string()).next().is_some()
    });
    assert!(matches!(
        &h.state().trust.prompt,
        Some(crate::app::trust::Prompt::Unknown { fingerprint, port, .. }) if *fingerprint == first_fp && *port == addr.port()
    ));
    assert!(h.state().call.is_none(), "joined before the server was trusted");
    assert!(!known_hosts.exists(), "remembered before the user said so");
    settle(&mut h);
    click_until(&mut h, "Trust", |h| h.state().screen == Screen::Call);
    wait_until(&mut h, "in the room", Duration::from_secs(10), |h| {
        h.state().call.as_ref().is_some_and(|c| c.state.joined && c.state.failed.is_none())
    });
    let text = std::fs::read_to_string(&known_hosts).unwrap();
    assert!(text.contains(&format!("127.0.0.1:{} {first_fp}", addr.port())), "{text}");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    wait_until(&mut h, "the start screen", Duration::from_secs(5), |h| h.state().screen == Screen::Start);
    drop(h);

    // A later run: the same address now presents another certificate.
    rt.block_on(first.shutdown());
    let second = rt.block_on(TlsServer::start(&addr.to_string()));
    assert_ne!(second.fingerprint, first_fp);
    let mut h = harness(joining_app(&rt, &second.ws_url(), "tofu-room", &known_hosts));
    wait_until(&mut h, "the changed-certificate warning", Duration::from_secs(10), |h| {
        h.query_all_by_label_contains("certificate has changed").next().is_some()
    });
    assert!(h.query_all_by_label_contains(&first_fp.to_string()).next().is_some(), "old fingerprint shown");
    assert!(
        h.query_all_by_label_contains(&second.fingerprint.to_string()).next().is_some(),
        "new fingerprint shown"
    );
    // Refused: however long we wait, no call starts.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(h.state().call.is_none() && h.state().screen == Screen::Start, "joined a changed server");

    // Forget the old entry (ssh-keygen -R): the next Continue asks about the new certificate.
    settle(&mut h);
    click_until(&mut h, "Forget the old fingerprint", |h| h.state().trust.prompt.is_none());
    let text = std::fs::read_to_string(&known_hosts).unwrap();
    assert!(!text.contains(&first_fp.to_string()), "{text}");
    click_until(&mut h, "Continue", |h| h.state().trust.probing() || h.state().trust.prompt.is_some());
    wait_until(&mut h, "the trust question for the new certificate", Duration::from_secs(10), |h| {
        matches!(&h.state().trust.prompt,
            Some(crate::app::trust::Prompt::Unknown { fingerprint, .. }) if *fingerprint == second.fingerprint)
    });
    settle(&mut h);
    click_until(&mut h, "Cancel", |h| h.state().trust.prompt.is_none());
    assert!(h.state().call.is_none() && h.state().screen == Screen::Start);
    rt.block_on(second.shutdown());
}

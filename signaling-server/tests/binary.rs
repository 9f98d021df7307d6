//! The `kaiwa-signaling` binary: config file plus flag overrides, and a graceful stop on SIGTERM.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use kaiwa_protocol::ServerMessage;
use kaiwa_testkit::ServerProcess;

fn spawn(args: &[&str]) -> ServerProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kaiwa-signaling"));
    command.args(args).stderr(Stdio::null());
    ServerProcess::spawn(command).unwrap()
}

#[tokio::test]
async fn config_file_with_flag_overrides_and_graceful_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kaiwa.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\nmax-room-size = 5\nstun = [\"stun:127.0.0.1:3478\"]\nturn = [\"turn:127.0.0.1:3478\"]\nturn-user = \"u\"\nturn-password = \"p\"\n",
    )
    .unwrap();
    let mut server = spawn(&["--config", config.to_str().unwrap(), "--max-room-size", "3"]);
    let mut client = common::Client::connect(server.addr).await;
    client.send_json(serde_json::json!({"type":"join","room":"conf","name":"C","version":1})).await;
    match client.recv().await {
        ServerMessage::Joined { max_peers, ice_servers, .. } => {
            assert_eq!(max_peers, 3, "the flag overrides the file");
            assert_eq!(ice_servers.len(), 2);
            assert_eq!(ice_servers[0].urls, vec!["stun:127.0.0.1:3478".to_string()]);
            assert_eq!(ice_servers[1].username.as_deref(), Some("u"));
            assert_eq!(ice_servers[1].credential.as_deref(), Some("p"));
        }
        other => panic!("{other:?}"),
    }
    let status = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert_eq!(client.expect_closed().await, Some(1001));
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "server did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn bad_settings_are_refused_with_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_kaiwa-signaling"))
        .args(["--listen", "127.0.0.1:0", "--turn-secret", "s"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no --turn URL"), "{err}");
}

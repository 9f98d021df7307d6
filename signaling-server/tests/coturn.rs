//! TURN REST credentials minted by the server are accepted by a real coturn (`use-auth-secret`), started
//! here on loopback; tampered ones are refused.

mod common;

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::TestServer;
use kaiwa_protocol::ServerMessage;
use kaiwa_signaling::{Config, TurnAuth};

const SECRET: &str = "kaiwa-coturn-test-secret";

/// Allocates a relay with these credentials and sends data through it; true when coturn accepted.
fn uclient(port: u16, user: &str, password: &str) -> (bool, String) {
    let out = Command::new("timeout")
        .args(["20", "turnutils_uclient", "-y", "-n", "2", "-z", "5"])
        .args(["-u", user, "-w", password, "-p", &port.to_string(), "-e", "127.0.0.1", "127.0.0.1"])
        .output()
        .expect("turnutils_uclient runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test]
async fn coturn_accepts_minted_credentials_and_refuses_tampered_ones() {
    let dir = tempfile::tempdir().unwrap();
    let coturn = kaiwa_testkit::Coturn::start(dir.path(), SECRET);
    let port = coturn.port;
    let turn_url = coturn.url();
    let config = Config {
        turn: vec![turn_url.clone()],
        turn_auth: Some(TurnAuth::Secret { secret: SECRET.into(), ttl: Duration::from_secs(600) }),
        ..Config::default()
    };
    let server = TestServer::start(config).await;

    let mut client = server.client().await;
    client.send_json(serde_json::json!({"type":"join","room":"turn-test","name":"T","version":1})).await;
    let (id, ice) = match client.recv().await {
        ServerMessage::Joined { id, ice_servers, .. } => (id, ice_servers),
        other => panic!("{other:?}"),
    };
    assert_eq!(ice.len(), 1);
    assert_eq!(ice[0].urls, vec![turn_url]);
    let user = ice[0].username.clone().unwrap();
    let password = ice[0].credential.clone().unwrap();
    assert!(!password.contains(SECRET));
    let (expiry, peer) = user.split_once(':').map(|(e, p)| (e.to_owned(), p.to_owned())).unwrap();
    assert_eq!(peer, id);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let expiry: u64 = expiry.parse().unwrap();
    assert!((now + 590..=now + 610).contains(&expiry), "expiry {expiry} vs now {now}");

    let (ok, out) = tokio::task::spawn_blocking(move || uclient(port, &user, &password)).await.unwrap();
    assert!(ok, "coturn refused minted credentials:\n{out}");
    assert!(out.contains("tot_recv_msgs="), "{out}");

    let (ok, out) = tokio::task::spawn_blocking(move || {
        uclient(port, &format!("{expiry}:{peer}"), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    })
    .await
    .unwrap();
    assert!(!ok, "coturn accepted a tampered credential:\n{out}");
    drop(coturn);
}

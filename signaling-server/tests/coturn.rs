//! TURN REST credentials minted by the server are accepted by a real coturn (`use-auth-secret`), started
//! here on loopback; tampered ones are refused.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::TestServer;
use kaiwa_protocol::ServerMessage;
use kaiwa_signaling::{Config, TurnAuth};

const SECRET: &str = "kaiwa-coturn-test-secret";

struct Coturn {
    child: Child,
    port: u16,
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_coturn(dir: &Path) -> Coturn {
    let port = free_udp_port();
    // A relay port range unlikely to collide with other tests: derived from the listening port.
    let min = 40000 + (port % 200) * 100;
    let log = dir.join("turn.log");
    let child = Command::new("turnserver")
        .args(["-n", "--no-tls", "--no-dtls", "--no-cli", "--use-auth-secret", "--allow-loopback-peers"])
        .arg(format!("--static-auth-secret={SECRET}"))
        .arg("--listening-ip=127.0.0.1")
        .arg("--relay-ip=127.0.0.1")
        .arg(format!("--listening-port={port}"))
        .arg(format!("--min-port={min}"))
        .arg(format!("--max-port={}", min + 99))
        .arg("--realm=kaiwa.test")
        .arg(format!("--log-file={}", log.display()))
        .arg("--simple-log")
        .arg(format!("--pidfile={}", dir.join("turn.pid").display()))
        .arg(format!("--userdb={}", dir.join("turndb").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("coturn's turnserver must be installed (the README's test command installs it)");
    let coturn = Coturn { child, port };
    let started = Instant::now();
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("Total General servers") {
        assert!(started.elapsed() < Duration::from_secs(15), "coturn did not start: {log:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    coturn
}

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
    let coturn = start_coturn(dir.path());
    let port = coturn.port;
    let turn_url = format!("turn:127.0.0.1:{}?transport=udp", coturn.port);
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

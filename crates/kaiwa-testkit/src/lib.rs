//! Real components for tests, started on loopback and stopped on drop: Debian's coturn with
//! `use-auth-secret`, and Kaiwa's signaling server in-process; and [`lab`], a network of namespaces joined
//! by a user-space router that imposes bandwidth caps, delay, jitter and loss.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

pub mod lab;

/// A coturn `turnserver` on 127.0.0.1 using TURN REST credentials (`use-auth-secret`). Test-only settings:
/// loopback peers are allowed so relayed media can stay on this machine.
pub struct Coturn {
    child: Child,
    pub port: u16,
    pub secret: String,
    pub log: PathBuf,
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map(|a| a.port()).unwrap_or(0)
}

impl Coturn {
    /// Starts coturn with its files (log, pid, user db) in `dir`; panics with a clear message if it is not
    /// installed (the README's test command installs it) or does not come up within 15 s.
    pub fn start(dir: &Path, secret: &str) -> Coturn {
        let port = free_udp_port();
        // A relay port range unlikely to collide with other tests: derived from the listening port.
        let min = 40000 + (port % 200) * 100;
        let log = dir.join("turn.log");
        let child = Command::new("turnserver")
            .args(["-n", "--no-tls", "--no-dtls", "--no-cli", "--use-auth-secret", "--allow-loopback-peers"])
            .arg(format!("--static-auth-secret={secret}"))
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
        let coturn = Coturn { child, port, secret: secret.to_owned(), log: log.clone() };
        let started = Instant::now();
        while !std::fs::read_to_string(&log).unwrap_or_default().contains("Total General servers") {
            assert!(started.elapsed() < Duration::from_secs(15), "coturn did not start: {log:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        coturn
    }

    pub fn url(&self) -> String {
        format!("turn:127.0.0.1:{}?transport=udp", self.port)
    }
}

/// Kaiwa's signaling server running in this process on 127.0.0.1; stopped on drop.
pub struct SignalingServer {
    pub addr: std::net::SocketAddr,
    pub stop: CancellationToken,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl SignalingServer {
    /// On a fresh port.
    pub async fn start(config: kaiwa_signaling::Config) -> SignalingServer {
        Self::start_on("127.0.0.1:0", config).await
    }

    /// On a given address (e.g. the port of a server that was stopped, to restart it).
    pub async fn start_on(addr: &str, config: kaiwa_signaling::Config) -> SignalingServer {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind the signaling server");
        let addr = listener.local_addr().expect("local address");
        let stop = CancellationToken::new();
        let task = tokio::spawn(kaiwa_signaling::serve(listener, config, None, stop.clone()));
        SignalingServer { addr, stop, task }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Stops the server and waits until it is gone.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        let _ = (&mut self.task).await;
    }
}

impl Drop for SignalingServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

//! Real components for tests, started on loopback and stopped on drop: Debian's coturn with
//! `use-auth-secret`, Debian's Redis ([`redis`]) and Janus ([`janus`]), and Kaiwa's signaling server in-process; and [`lab`], a network of namespaces joined
//! by a user-space router that imposes bandwidth caps, delay, jitter and loss.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

pub mod janus;
pub mod lab;
pub mod redis;

/// A coturn `turnserver` using TURN REST credentials (`use-auth-secret`), on 127.0.0.1 or inside a lab
/// host. Test-only settings: loopback peers are allowed so relayed media can stay on this machine.
pub struct Coturn {
    child: Child,
    pub ip: Ipv4Addr,
    /// UDP and TCP (and STUN).
    pub port: u16,
    /// TLS over TCP, when started with a certificate.
    pub tls_port: Option<u16>,
    pub secret: String,
    pub log: PathBuf,
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map(|a| a.port()).unwrap_or(0)
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// Where and how [`Coturn::start_with`] runs coturn.
#[derive(Debug, Clone, Copy)]
pub struct CoturnOptions<'a> {
    /// Inside this lab host (its namespace and address, standard ports 3478 and, with TLS, 443) instead of
    /// on 127.0.0.1 with free ports.
    pub host: Option<&'a lab::Host>,
    /// TURN over TLS with this PEM certificate and key.
    pub tls: Option<(&'a Path, &'a Path)>,
}

impl Coturn {
    /// Starts coturn on 127.0.0.1 with its files (log, pid, user db) in `dir`; panics with a clear message
    /// if it is not installed (the README's test command installs it) or does not come up within 15 s.
    pub fn start(dir: &Path, secret: &str) -> Coturn {
        Coturn::start_with(dir, secret, CoturnOptions { host: None, tls: None })
    }

    /// Like [`Coturn::start`], and TURN over TLS too, with this PEM certificate and key.
    pub fn start_with_tls(dir: &Path, secret: &str, cert: &Path, key: &Path) -> Coturn {
        Coturn::start_with(dir, secret, CoturnOptions { host: None, tls: Some((cert, key)) })
    }

    pub fn start_with(dir: &Path, secret: &str, options: CoturnOptions<'_>) -> Coturn {
        let (ip, port, tls_port) = match options.host {
            Some(host) => (host.addr, 3478, options.tls.map(|_| 443)),
            None => (Ipv4Addr::LOCALHOST, free_udp_port(), options.tls.map(|_| free_tcp_port())),
        };
        // A relay port range unlikely to collide with other tests: derived from the listening port.
        let min = 40000 + (port % 200) * 100;
        let log = dir.join("turn.log");
        let mut command = match options.host {
            Some(host) => host.command("turnserver"),
            None => Command::new("turnserver"),
        };
        command.args(["-n", "--no-dtls", "--no-cli", "--use-auth-secret", "--allow-loopback-peers"]);
        // As docs/NETWORKS.md tells self-hosters: no relaying into private networks. In the lab this also
        // matters: a relay socket that cannot send (the lab has no route to a home's 10.N.0.0/24) makes
        // coturn close the whole session, where a denied peer is only a refused permission.
        command.args([
            "--denied-peer-ip=10.0.0.0-10.255.255.255",
            "--denied-peer-ip=172.16.0.0-172.31.255.255",
            "--denied-peer-ip=192.168.0.0-192.168.255.255",
        ]);
        match (options.tls, tls_port) {
            (Some((cert, key)), Some(tls_port)) => {
                command
                    .arg(format!("--cert={}", cert.display()))
                    .arg(format!("--pkey={}", key.display()))
                    .arg(format!("--tls-listening-port={tls_port}"));
            }
            _ => {
                command.arg("--no-tls");
            }
        }
        let child = command
            .arg(format!("--static-auth-secret={secret}"))
            .arg(format!("--listening-ip={ip}"))
            .arg(format!("--relay-ip={ip}"))
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
        let coturn = Coturn { child, ip, port, tls_port, secret: secret.to_owned(), log: log.clone() };
        let started = Instant::now();
        while !std::fs::read_to_string(&log).unwrap_or_default().contains("Total General servers") {
            assert!(started.elapsed() < Duration::from_secs(15), "coturn did not start: {log:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        coturn
    }

    pub fn url(&self) -> String {
        format!("turn:{}:{}?transport=udp", self.ip, self.port)
    }

    /// TURN over TCP.
    pub fn tcp_url(&self) -> String {
        format!("turn:{}:{}?transport=tcp", self.ip, self.port)
    }

    /// TURN over TLS, when started with a certificate.
    pub fn tls_url(&self) -> Option<String> {
        self.tls_port.map(|p| format!("turns:{}:{p}?transport=tcp", self.ip))
    }

    /// STUN (coturn answers it on its TURN port).
    pub fn stun_url(&self) -> String {
        format!("stun:{}:{}", self.ip, self.port)
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
        // STUN on the same port, as `kaiwa-signaling` and the desktop app's hosting do.
        tokio::spawn(kaiwa_signaling::stun::serve_on(addr, stop.clone()));
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

/// A TCP relay on 127.0.0.1 in front of `upstream` whose open connections can be cut, as a congested
/// link or a NAT that forgets a mapping cuts them; new connections are relayed as before. Stopped on drop.
pub struct TcpRelay {
    pub addr: std::net::SocketAddr,
    /// Bumped by [`TcpRelay::cut`]; each connection ends when it changes.
    cuts: tokio::sync::watch::Sender<u64>,
    stop: CancellationToken,
}

impl TcpRelay {
    pub async fn start(upstream: std::net::SocketAddr) -> TcpRelay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the relay");
        let addr = listener.local_addr().expect("local address");
        let (cuts, _) = tokio::sync::watch::channel(0u64);
        let stop = CancellationToken::new();
        let (watch, stopped) = (cuts.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let (mut client, _) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(c) => c,
                        Err(_) => return,
                    },
                    _ = stopped.cancelled() => return,
                };
                let mut cut = watch.subscribe();
                let stopped = stopped.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                        _ = stopped.cancelled() => {}
                    }
                });
            }
        });
        TcpRelay { addr, cuts, stop }
    }

    /// The signaling WebSocket URL through this relay.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Drops every connection open now, both ways.
    pub fn cut(&self) {
        self.cuts.send_modify(|n| *n += 1);
    }
}

impl Drop for TcpRelay {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A `kaiwa-signaling` (or `kaiwa serve`) process, killed on drop.
pub struct ServerProcess {
    pub child: Child,
    /// Where it listens, as it announced.
    pub addr: std::net::SocketAddr,
}

impl ServerProcess {
    /// Spawns `command` (a `kaiwa-signaling` or `kaiwa serve` command line) with its standard output piped,
    /// and reads the address it announces on its first line (`kaiwa-signaling listening on ADDR …`); the rest
    /// of its output is drained on a thread.
    pub fn spawn(mut command: Command) -> std::io::Result<ServerProcess> {
        use std::io::BufRead;
        let mut child = command.stdout(Stdio::piped()).spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout"))?;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let first = lines.next().transpose()?.unwrap_or_default();
        let addr = first
            .strip_prefix("kaiwa-signaling listening on ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|addr| addr.parse().ok());
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other(format!("the server announced no address: {first:?}")));
        };
        std::thread::spawn(move || lines.for_each(drop));
        Ok(ServerProcess { child, addr })
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the signaling server at `addr` answers `GET /healthz` with 200 (a cluster node does once it is
/// in the cluster). A short blocking exchange on loopback, bounded by 2 s timeouts.
pub fn healthy(addr: std::net::SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut tcp) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut reply = Vec::new();
    tcp.write_all(request.as_bytes()).is_ok()
        && tcp.read_to_end(&mut reply).is_ok()
        && reply.starts_with(b"HTTP/1.1 200")
}

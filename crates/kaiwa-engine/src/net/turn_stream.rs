//! TURN over TCP and TLS for webrtc-rs 0.21, which skips every `turns:` URL and every `turn:` URL whose
//! transport is not UDP (`turn_relayer.rs` in the `webrtc` crate): behind a firewall that blocks UDP the
//! native client could not reach a relay at all, where a browser in the same place uses TURN/TCP or
//! TURN/TLS on 443.
//!
//! How: each such server gets a local relay, a UDP socket on 127.0.0.1 that webrtc-rs is told is a plain
//! `turn:127.0.0.1:PORT?transport=udp` server (same credentials). Every client address that writes to it
//! gets its own TCP (or TLS) connection to the real server, as TURN wants one allocation per connection
//! ([RFC 8656 §3.1](https://www.rfc-editor.org/rfc/rfc8656#section-3.1)); datagrams go onto it framed
//! as TURN frames them on a stream ([`super::turn_framing`]) and what the server sends comes back as
//! datagrams. The relay never reads or changes the messages, so authentication, allocation refreshes,
//! permissions and channels stay webrtc-rs's. A connection the server closes or resets is dropped, and
//! the allocation on it is gone; the ICE restart that follows binds new local sockets, so webrtc-rs's new
//! TURN client writes from a new address and gets a new connection and allocation (ARCHITECTURE.md,
//! "Negotiation").
//!
//! When upstream handles TCP and TLS itself (webrtc-rs/webrtc#907 is a draft for TCP), drop this module
//! and [`TurnStreams::rewrite`]'s call in `engine.rs`; nothing else depends on it.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kaiwa_protocol::IceServer;
use rtc::ice::url::{SchemeType, Url};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::turn_framing::{StreamDecoder, to_stream};
use crate::signaling::{Trust, client_tls_config};

/// How long a connection to the TURN server may take (TCP and TLS handshakes).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Datagrams waiting for a connection (while it opens, or when it is slow); more are dropped, as UDP
/// would drop them.
const QUEUE: usize = 256;

/// How a relay reaches its TURN server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamTransport {
    Tcp,
    Tls,
}

impl StreamTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamTransport::Tcp => "tcp",
            StreamTransport::Tls => "tls",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Server {
    host: String,
    port: u16,
    transport: StreamTransport,
}

/// The local relays of one engine, one per TURN server reached over a stream. Dropping it stops them.
pub struct TurnStreams {
    tls_trust: Trust,
    relays: HashMap<Server, SocketAddr>,
    transports: RelayTransports,
    stop: CancellationToken,
}

/// Which transport each local relay really uses, for the stats of a relayed connection (shared with the
/// peer sessions).
#[derive(Debug, Clone, Default)]
pub struct RelayTransports(Arc<Mutex<HashMap<SocketAddr, StreamTransport>>>);

impl RelayTransports {
    /// How a relay candidate whose TURN URL (as webrtc-rs reports it) is `url` reaches its server: `tcp`
    /// or `tls` through one of our relays, else `udp`.
    pub fn of_url(&self, url: &str) -> &'static str {
        let Ok(url) = Url::parse_url(url) else { return "udp" };
        let Ok(ip) = url.host.parse() else { return "udp" };
        let relays = self.0.lock().unwrap_or_else(|e| e.into_inner());
        relays.get(&SocketAddr::new(ip, url.port)).map_or("udp", |t| t.as_str())
    }

    fn insert(&self, local: SocketAddr, transport: StreamTransport) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(local, transport);
    }
}

impl TurnStreams {
    /// `tls_trust`: how `turns:` servers' certificates are checked.
    pub fn new(tls_trust: Trust) -> Self {
        TurnStreams {
            tls_trust,
            relays: HashMap::new(),
            transports: RelayTransports::default(),
            stop: CancellationToken::new(),
        }
    }

    /// Which transport each relay uses, for stats.
    pub fn transports(&self) -> RelayTransports {
        self.transports.clone()
    }

    /// The ICE servers as webrtc-rs can use them: each TURN URL over TCP or TLS replaced by its local
    /// relay's `turn:127.0.0.1:PORT?transport=udp` (started on first use; needs a tokio runtime). A URL
    /// whose relay cannot start is left out, with a warning.
    pub fn rewrite(&mut self, servers: &[IceServer]) -> Vec<IceServer> {
        servers
            .iter()
            .map(|server| IceServer {
                urls: server.urls.iter().filter_map(|url| self.rewrite_url(url)).collect(),
                ..server.clone()
            })
            .filter(|server| !server.urls.is_empty())
            .collect()
    }

    fn rewrite_url(&mut self, text: &str) -> Option<String> {
        let Ok(url) = Url::parse_url(text) else { return Some(text.to_owned()) };
        if !matches!(url.scheme, SchemeType::Turn | SchemeType::Turns) {
            return Some(text.to_owned());
        }
        let transport = match (url.is_secure(), url.proto.to_string().as_str()) {
            (false, "udp") => return Some(text.to_owned()),
            (false, _) => StreamTransport::Tcp,
            (true, _) => StreamTransport::Tls,
        };
        let server = Server { host: url.host.clone(), port: url.port, transport };
        let local = match self.relays.get(&server) {
            Some(local) => *local,
            None => match self.start(server.clone()) {
                Ok(local) => {
                    info!(%text, %local, "TURN over {}: local relay", transport.as_str());
                    self.relays.insert(server, local);
                    self.transports.insert(local, transport);
                    local
                }
                Err(e) => {
                    warn!(%text, error = %e, "cannot start a local relay for this TURN server; it is not used");
                    return None;
                }
            },
        };
        Some(format!("turn:{}:{}?transport=udp", local.ip(), local.port()))
    }

    fn start(&self, server: Server) -> io::Result<SocketAddr> {
        let socket = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        socket.set_nonblocking(true)?;
        let socket = UdpSocket::from_std(socket)?;
        let local = socket.local_addr()?;
        let tls = match server.transport {
            StreamTransport::Tls => Some(Arc::new(client_tls_config(self.tls_trust))),
            StreamTransport::Tcp => None,
        };
        tokio::spawn(relay(Arc::new(socket), Arc::new(server), tls, self.stop.clone()));
        Ok(local)
    }
}

impl Drop for TurnStreams {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// One local relay: datagrams from each client address onto that client's connection.
async fn relay(
    socket: Arc<UdpSocket>,
    server: Arc<Server>,
    tls: Option<Arc<rustls::ClientConfig>>,
    stop: CancellationToken,
) {
    let mut connections: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>> = HashMap::new();
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, client) = tokio::select! {
            _ = stop.cancelled() => return,
            received = socket.recv_from(&mut buf) => match received {
                Ok(r) => r,
                // (An ICMP error from an earlier send to a client that is gone.)
                Err(e) => {
                    debug!(error = %e, "local TURN relay: receive failed");
                    continue;
                }
            },
        };
        let Some(frame) = to_stream(&buf[..n]) else { continue };
        connections.retain(|_, tx| !tx.is_closed());
        let tx = connections.entry(client).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            let (socket, server, tls, stop) = (socket.clone(), server.clone(), tls.clone(), stop.clone());
            tokio::spawn(async move {
                match connection(&socket, client, &server, tls, rx, stop).await {
                    Ok(()) => debug!(host = %server.host, "TURN connection closed"),
                    Err(e) => warn!(
                        host = %server.host, port = server.port, transport = server.transport.as_str(),
                        error = %e, "TURN connection ended"
                    ),
                }
            });
            tx
        });
        if tx.try_send(frame).is_err() {
            debug!("TURN connection busy: datagram dropped");
        }
    }
}

/// Any byte stream TURN can run over (TCP or TLS over TCP).
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// One client's connection to the server, until either side closes it.
async fn connection(
    socket: &UdpSocket,
    client: SocketAddr,
    server: &Server,
    tls: Option<Arc<rustls::ClientConfig>>,
    mut datagrams: mpsc::Receiver<Vec<u8>>,
    stop: CancellationToken,
) -> io::Result<()> {
    let open = async {
        let tcp = TcpStream::connect((server.host.as_str(), server.port)).await?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Stream> = match tls {
            None => Box::new(tcp),
            Some(config) => {
                let name = rustls::pki_types::ServerName::try_from(server.host.clone())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                Box::new(tokio_rustls::TlsConnector::from(config).connect(name, tcp).await?)
            }
        };
        io::Result::Ok(stream)
    };
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, open)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no connection within 5 s"))??;
    debug!(host = %server.host, port = server.port, transport = server.transport.as_str(), "TURN connection open");
    let (mut reader, mut writer) = tokio::io::split(stream);
    let upstream = async {
        while let Some(frame) = datagrams.recv().await {
            writer.write_all(&frame).await?;
        }
        io::Result::Ok(())
    };
    let downstream = async {
        let mut decoder = StreamDecoder::default();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"));
            }
            decoder.push(&buf[..n]);
            while let Some(datagram) = decoder.next_datagram().map_err(io::Error::other)? {
                socket.send_to(&datagram, client).await?;
            }
        }
    };
    tokio::select! {
        r = upstream => r,
        r = downstream => r,
        _ = stop.cancelled() => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(urls: &[&str]) -> IceServer {
        IceServer {
            urls: urls.iter().map(|u| u.to_string()).collect(),
            username: Some("u".into()),
            credential: Some("p".into()),
        }
    }

    #[tokio::test]
    async fn only_turn_over_streams_is_rewritten_and_each_server_gets_one_relay() {
        let mut streams = TurnStreams::new(Trust::WebPki);
        let servers = [
            server(&[
                "stun:s.example:3478",
                "turn:t.example:3478?transport=udp",
                "turn:t.example:3478?transport=tcp",
            ]),
            server(&["turns:t.example:443?transport=tcp", "turn:t.example:3478?transport=tcp"]),
        ];
        let out = streams.rewrite(&servers);
        assert_eq!(out[0].urls[..2], servers[0].urls[..2]);
        let tcp = &out[0].urls[2];
        assert!(tcp.starts_with("turn:127.0.0.1:") && tcp.ends_with("?transport=udp"), "{tcp}");
        assert_eq!(&out[1].urls[1], tcp, "one relay per server");
        let tls = &out[1].urls[0];
        assert_ne!(tls, tcp);
        assert_eq!(out[1].username.as_deref(), Some("u"));
        let transports = streams.transports();
        assert_eq!(transports.of_url(tcp), "tcp");
        assert_eq!(transports.of_url(tls), "tls");
        assert_eq!(transports.of_url("turn:t.example:3478?transport=udp"), "udp");
        assert_eq!(transports.of_url("not a url"), "udp");
    }
}

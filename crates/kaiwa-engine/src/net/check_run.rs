//! Runs the network check ([`super::check`]) against a signaling server: its HTTP API for the ICE servers,
//! STUN Binding requests from one UDP socket to every STUN destination (the STUN and UDP TURN servers it
//! names, and the signaling server itself, which answers STUN on its own port), and for each TURN URL a
//! relay-only peer connection that has to gather a relay candidate: the same code path a call uses, TCP
//! and TLS through the engine's local relays included.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kaiwa_protocol::IceServer;
use rtc::ice::url::{SchemeType, Url};
use rtc::peer_connection::transport::RTCDtlsRole;
use rtc::stun::message::{BINDING_REQUEST, BINDING_SUCCESS, Getter, Message, TransactionId};
use rtc::stun::xoraddr::XorMappedAddress;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use webrtc::peer_connection::{PeerConnectionEventHandler, RTCIceCandidateInit, RTCPeerConnectionIceEvent};

use super::check::{CheckReport, StunProbe, TurnProbe};
use super::turn_stream::TurnStreams;
use crate::peer::factory::{NetworkConfig, build_peer_connection};
use crate::signaling::{ServerUrl, Trust, http};

/// How long STUN servers have to answer (requests are sent again at 0.5 s and 1.5 s).
const STUN_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a TURN server has to hand out a relay address.
const TURN_TIMEOUT: Duration = Duration::from_secs(6);

/// Where the check runs from and whom it asks.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub server: ServerUrl,
    pub trust: Trust,
    /// The local address to send from (`0.0.0.0`: any).
    pub bind: IpAddr,
}

impl CheckOptions {
    pub fn new(server: ServerUrl, trust: Trust) -> Self {
        CheckOptions { server, trust, bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED) }
    }
}

/// Runs every probe; bounded by the timeouts above (about 10 s at worst).
pub async fn run(options: &CheckOptions) -> CheckReport {
    let started = Instant::now();
    let answer = http::request(&options.server.http_base(), options.trust, "GET", "/api/ice").await;
    let servers: Vec<IceServer> = match answer.map_err(|e| e.to_string()).and_then(|body| {
        let v: serde_json::Value =
            serde_json::from_str(&body).map_err(|_| "bad answer from the server".to_owned())?;
        serde_json::from_value(v["ice_servers"].clone()).map_err(|_| "bad answer from the server".to_owned())
    }) {
        Ok(servers) => servers,
        Err(e) => return CheckReport { server: Err(e), stun: Vec::new(), turn: Vec::new() },
    };
    let server = Ok(started.elapsed());
    let (stun, turn) = tokio::join!(stun_probes(options, &servers), turn_probes(options, &servers));
    CheckReport { server, stun, turn }
}

/// `host:port` of every STUN destination: STUN URLs, TURN URLs over UDP (TURN servers answer STUN), and
/// the signaling server's own port.
fn stun_destinations(options: &CheckOptions, servers: &[IceServer]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for url in servers.iter().flat_map(|s| &s.urls).filter_map(|u| Url::parse_url(u).ok()) {
        let udp = match url.scheme {
            SchemeType::Stun => true,
            SchemeType::Turn => url.proto.to_string() == "udp",
            _ => false,
        };
        let dest = format!("{}:{}", url.host, url.port);
        if udp && !out.contains(&dest) {
            out.push(dest);
        }
    }
    let own = format!("{}:{}", options.server.host, options.server.port);
    if !out.contains(&own) {
        out.push(own);
    }
    out
}

async fn stun_probes(options: &CheckOptions, servers: &[IceServer]) -> Vec<StunProbe> {
    let destinations = stun_destinations(options, servers);
    let fail = |why: String| {
        destinations.iter().map(|d| StunProbe { server: d.clone(), mapped: Err(why.clone()) }).collect()
    };
    let socket = match UdpSocket::bind((options.bind, 0)).await {
        Ok(s) => s,
        Err(e) => return fail(format!("no UDP socket: {e}")),
    };
    // Resolve, then one request (one transaction id) per destination.
    let mut pending: HashMap<[u8; 12], (usize, SocketAddr, Vec<u8>)> = HashMap::new();
    let mut results: Vec<Result<SocketAddr, String>> = vec![Err("no answer".into()); destinations.len()];
    for (i, dest) in destinations.iter().enumerate() {
        let addr = match tokio::net::lookup_host(dest.as_str()).await.map(|mut a| a.find(|a| a.is_ipv4())) {
            Ok(Some(addr)) => addr,
            Ok(None) | Err(_) => {
                results[i] = Err(format!("cannot resolve {dest}"));
                continue;
            }
        };
        let mut request = Message::new();
        let id = TransactionId::new();
        if request.build(&[Box::new(id), Box::new(BINDING_REQUEST)]).is_err() {
            continue;
        }
        results[i] = Err(format!("no answer within {} s", STUN_TIMEOUT.as_secs()));
        pending.insert(id.0, (i, addr, request.raw));
    }
    let deadline = tokio::time::Instant::now() + STUN_TIMEOUT;
    let resend = [Duration::ZERO, Duration::from_millis(500), Duration::from_millis(1500)];
    let start = tokio::time::Instant::now();
    let mut next_send = 0;
    let mut buf = [0u8; 1500];
    while !pending.is_empty() {
        let send_at = resend.get(next_send).map(|d| start + *d);
        let wake = send_at.map_or(deadline, |t| t.min(deadline));
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {
                if send_at.is_some_and(|t| t <= tokio::time::Instant::now()) {
                    for (_, addr, raw) in pending.values() {
                        let _ = socket.send_to(raw, *addr).await;
                    }
                    next_send += 1;
                } else if tokio::time::Instant::now() >= deadline {
                    break;
                }
            }
            received = socket.recv_from(&mut buf) => {
                let Ok((n, _)) = received else { continue };
                let mut answer = Message::new();
                if answer.unmarshal_binary(&buf[..n]).is_err() || answer.typ != BINDING_SUCCESS {
                    continue;
                }
                let Some((i, _, _)) = pending.remove(&answer.transaction_id.0) else { continue };
                let mut mapped = XorMappedAddress::default();
                results[i] = match mapped.get_from(&answer) {
                    Ok(()) => Ok(SocketAddr::new(mapped.ip, mapped.port)),
                    Err(e) => Err(format!("unreadable answer: {e}")),
                };
            }
        }
    }
    destinations.into_iter().zip(results).map(|(server, mapped)| StunProbe { server, mapped }).collect()
}

/// Forwards gathered candidates to the probe.
struct Candidates(mpsc::UnboundedSender<RTCIceCandidateInit>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Candidates {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let _ = self.0.send(init);
        }
    }
}

async fn turn_probes(options: &CheckOptions, servers: &[IceServer]) -> Vec<TurnProbe> {
    let mut streams = TurnStreams::new(options.trust);
    let mut probes = Vec::new();
    for server in servers {
        for text in &server.urls {
            let Ok(url) = Url::parse_url(text) else { continue };
            if !matches!(url.scheme, SchemeType::Turn | SchemeType::Turns) {
                continue;
            }
            let transport = match (url.is_secure(), url.proto.to_string().as_str()) {
                (true, _) => "tls",
                (false, "udp") => "udp",
                (false, _) => "tcp",
            };
            let one = IceServer { urls: vec![text.clone()], ..server.clone() };
            let usable = streams.rewrite(&[one]);
            probes.push((text.clone(), transport.to_owned(), usable));
        }
    }
    let bind = SocketAddr::new(options.bind, 0).to_string();
    let runs = probes.into_iter().map(|(url, transport, usable)| {
        let bind = bind.clone();
        async move {
            let relay = relay_address(&usable, bind).await;
            TurnProbe { url, transport, relay }
        }
    });
    let results = futures_util::future::join_all(runs).await;
    drop(streams);
    results
}

/// A relay-only connection's first relay candidate's address.
async fn relay_address(servers: &[IceServer], bind: String) -> Result<SocketAddr, String> {
    if servers.is_empty() {
        return Err("cannot start the local relay for it".into());
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let network = NetworkConfig {
        udp_addrs: vec![bind],
        relay_only: true,
        congestion_control: false,
        ..Default::default()
    };
    let pc = build_peer_connection(&network, servers, None, RTCDtlsRole::Client, Arc::new(Candidates(tx)))
        .await
        .map_err(|e| format!("cannot start a connection: {e}"))?;
    let gathered = async {
        pc.create_data_channel("check", None).await.map_err(|e| e.to_string())?;
        let offer = pc.create_offer(None).await.map_err(|e| e.to_string())?;
        pc.set_local_description(offer).await.map_err(|e| e.to_string())?;
        while let Some(candidate) = rx.recv().await {
            if let Some(addr) = relay_of(&candidate.candidate) {
                return Ok(addr);
            }
        }
        Err("no relay candidate".to_owned())
    };
    let result = tokio::time::timeout(TURN_TIMEOUT, gathered)
        .await
        .unwrap_or_else(|_| Err(format!("no relay address within {} s", TURN_TIMEOUT.as_secs())));
    let _ = pc.close().await;
    result
}

/// The address of a `typ relay` candidate line ([RFC 8839 §5.1](https://www.rfc-editor.org/rfc/rfc8839#section-5.1):
/// foundation, component, transport, priority, address, port, `typ`, type).
fn relay_of(candidate: &str) -> Option<SocketAddr> {
    let fields: Vec<&str> = candidate.trim_start_matches("candidate:").split_whitespace().collect();
    if fields.get(6) != Some(&"typ") || fields.get(7) != Some(&"relay") {
        return None;
    }
    let ip: IpAddr = fields.get(4)?.parse().ok()?;
    Some(SocketAddr::new(ip, fields.get(5)?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_candidates_are_read_and_others_ignored() {
        assert_eq!(
            relay_of("candidate:1 1 udp 16777215 203.0.113.9 50000 typ relay raddr 10.0.0.2 rport 4000"),
            Some("203.0.113.9:50000".parse().unwrap())
        );
        assert_eq!(relay_of("candidate:1 1 udp 2130706431 10.0.0.2 4000 typ host"), None);
        assert_eq!(relay_of("garbage"), None);
        assert_eq!(relay_of("candidate:1 1 udp 1 not-an-ip 5 typ relay"), None);
    }

    #[test]
    fn stun_destinations_are_stun_udp_turn_and_the_server_once_each() {
        let options =
            CheckOptions::new(ServerUrl::parse("wss://kaiwa.example:443/ws").unwrap(), Trust::WebPki);
        let servers = [
            IceServer { urls: vec!["stun:t.example:3478".into()], username: None, credential: None },
            IceServer {
                urls: vec![
                    "turn:t.example:3478?transport=udp".into(),
                    "turn:t.example:3478?transport=tcp".into(),
                    "turns:t.example:443?transport=tcp".into(),
                    "turn:u.example:3479?transport=udp".into(),
                ],
                username: Some("u".into()),
                credential: Some("p".into()),
            },
        ];
        assert_eq!(
            stun_destinations(&options, &servers),
            ["t.example:3478", "u.example:3479", "kaiwa.example:443"]
        );
    }
}

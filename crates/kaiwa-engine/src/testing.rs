//! Test tools. [`Hostile`]: a participant that joins a room on the real signaling server like anyone else
//! and then misbehaves on purpose (false claims and garbage on the data channel, raw signals), so tests can
//! show that the honest participants' call goes on. Not used by the app.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kaiwa_protocol::{IceCandidateInit, PeerId, PeerInfo, SdpType, SessionDescription, SignalData};
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionEventHandler, RTCIceCandidateInit, RTCPeerConnectionIceEvent,
    RTCSessionDescription,
};

use crate::chat::CHANNEL_LABEL;
use crate::peer::factory::{NetworkConfig, build_peer_connection};
use crate::signaling::{SignalingClient, SignalingConfig, SignalingEvent};

/// How long a [`Hostile`] waits for the server or a victim before giving up.
const WAIT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum HostileError {
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("signaling ended: {0}")]
    Signaling(String),
    #[error("no participant called {0}")]
    NoSuchPeer(String),
    #[error(transparent)]
    WebRtc(#[from] webrtc::error::Error),
}

/// A participant that misbehaves on purpose. It connects to whom it is told (as the newcomer, it offers),
/// with a `chat` data channel and no media of its own.
pub struct Hostile {
    pub id: PeerId,
    /// Everyone in the room when it joined, then everyone who joined after.
    pub peers: Vec<PeerInfo>,
    signaling: SignalingClient,
    events: mpsc::Receiver<SignalingEvent>,
    conns: HashMap<PeerId, Conn>,
}

struct Conn {
    pc: Arc<dyn PeerConnection>,
    channel: Arc<dyn DataChannel>,
    local: mpsc::UnboundedReceiver<Local>,
}

enum Local {
    Candidate(RTCIceCandidateInit),
    ChannelOpen,
}

struct Handler(mpsc::UnboundedSender<Local>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let _ = self.0.send(Local::Candidate(init));
        }
    }
}

impl Hostile {
    /// Joins `room` at `ws_url` as `name`.
    pub async fn join(ws_url: &str, room: &str, name: &str) -> Result<Hostile, HostileError> {
        let url =
            crate::signaling::ServerUrl::parse(ws_url).map_err(|e| HostileError::Signaling(e.to_string()))?;
        let (tx, mut events) = mpsc::channel(256);
        let (signaling, _task) = SignalingClient::spawn(SignalingConfig::new(url, room, name), tx);
        let joined = tokio::time::timeout(WAIT, async {
            loop {
                match events.recv().await {
                    Some(SignalingEvent::Joined { id, peers, .. }) => return Ok((id, peers)),
                    Some(SignalingEvent::Failed(f)) => return Err(HostileError::Signaling(f.to_string())),
                    Some(_) => {}
                    None => return Err(HostileError::Signaling("closed".into())),
                }
            }
        })
        .await
        .map_err(|_| HostileError::Timeout("joining"))??;
        Ok(Hostile { id: joined.0, peers: joined.1, signaling, events, conns: HashMap::new() })
    }

    /// The id of the participant called `name`.
    pub fn id_of(&self, name: &str) -> Result<PeerId, HostileError> {
        self.peers
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.id.clone())
            .ok_or(HostileError::NoSuchPeer(name.into()))
    }

    /// Sends `data` to `to` through the server as it is, whatever it holds.
    pub fn signal(&self, to: &PeerId, data: SignalData) {
        self.signaling.signal(to, data);
    }

    /// Connects to `to` (offer, answer, trickled candidates) until the `chat` channel is open.
    pub async fn connect(&mut self, to: &PeerId) -> Result<(), HostileError> {
        let (tx, local) = mpsc::unbounded_channel();
        let network = NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() };
        let pc = build_peer_connection(&network, &[], None, Arc::new(Handler(tx.clone()))).await?;
        let channel = pc.create_data_channel(CHANNEL_LABEL, None).await?;
        let opened = channel.clone();
        tokio::spawn(async move {
            while let Some(event) = opened.poll().await {
                match event {
                    DataChannelEvent::OnOpen => {
                        let _ = tx.send(Local::ChannelOpen);
                    }
                    DataChannelEvent::OnClose => break,
                    _ => {}
                }
            }
        });
        let offer = pc.create_offer(None).await?;
        let sdp = offer.sdp.clone();
        pc.set_local_description(offer).await?;
        self.signal(to, SignalData::Sdp { sdp: SessionDescription { kind: SdpType::Offer, sdp } });
        self.conns.insert(to.clone(), Conn { pc, channel, local });
        tokio::time::timeout(WAIT, self.pump_until_open(to))
            .await
            .map_err(|_| HostileError::Timeout("the channel"))?
    }

    /// Relays signals between the server and the connection to `to` until its channel opens.
    async fn pump_until_open(&mut self, to: &PeerId) -> Result<(), HostileError> {
        loop {
            let conn = self.conns.get_mut(to).ok_or(HostileError::NoSuchPeer(to.clone()))?;
            tokio::select! {
                local = conn.local.recv() => match local {
                    Some(Local::Candidate(c)) => {
                        let candidate = IceCandidateInit {
                            candidate: c.candidate,
                            sdp_mid: c.sdp_mid,
                            sdp_m_line_index: c.sdp_mline_index,
                            username_fragment: c.username_fragment,
                        };
                        self.signaling.signal(to, SignalData::Candidate { candidate: Some(candidate) });
                    }
                    Some(Local::ChannelOpen) => return Ok(()),
                    None => return Err(HostileError::Signaling("connection gone".into())),
                },
                event = self.events.recv() => match event {
                    Some(SignalingEvent::Signal { from, data }) if &from == to => match data {
                        SignalData::Sdp { sdp } if sdp.kind == SdpType::Answer => {
                            conn.pc.set_remote_description(RTCSessionDescription::answer(sdp.sdp)?).await?;
                        }
                        SignalData::Candidate { candidate: Some(c) } => {
                            let _ = conn.pc.add_ice_candidate(to_init(c)).await;
                        }
                        _ => {}
                    },
                    Some(SignalingEvent::PeerJoined(p)) => self.peers.push(p),
                    Some(SignalingEvent::Failed(f)) => return Err(HostileError::Signaling(f.to_string())),
                    Some(_) => {}
                    None => return Err(HostileError::Signaling("closed".into())),
                },
            }
        }
    }

    /// Sends `text` on the `chat` channel to `to` (connected first).
    pub async fn send_text(&self, to: &PeerId, text: &str) -> Result<(), HostileError> {
        let conn = self.conns.get(to).ok_or(HostileError::NoSuchPeer(to.clone()))?;
        conn.channel.send_text(text).await?;
        Ok(())
    }

    /// Sends `bytes` as a binary message on the `chat` channel to `to`.
    pub async fn send_bytes(&self, to: &PeerId, bytes: &[u8]) -> Result<(), HostileError> {
        let conn = self.conns.get(to).ok_or(HostileError::NoSuchPeer(to.clone()))?;
        conn.channel.send(bytes::BytesMut::from(bytes)).await?;
        Ok(())
    }

    /// A valid offer from a connection of its own that is never used (to replay).
    pub async fn throwaway_offer(&self) -> Result<String, HostileError> {
        let network = NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() };
        let (tx, _rx) = mpsc::unbounded_channel();
        let pc = build_peer_connection(&network, &[], None, Arc::new(Handler(tx))).await?;
        pc.create_data_channel(CHANNEL_LABEL, None).await?;
        let offer = pc.create_offer(None).await?;
        let _ = pc.close().await;
        Ok(offer.sdp)
    }

    /// Leaves the room and closes every connection.
    pub async fn leave(self) {
        for conn in self.conns.values() {
            let _ = conn.pc.close().await;
        }
        self.signaling.leave().await;
    }
}

/// A man in the middle for one client: a WebSocket proxy in front of the real signaling server that passes
/// everything through except the signals between its client and the others. Those it answers itself with
/// peer connections of its own (its own certificates, so the fingerprints are swapped) on each side, as a
/// hostile or compromised server could. Both sides connect, to it; their verification codes then differ.
pub struct Mitm {
    pub addr: std::net::SocketAddr,
    stop: tokio_util::sync::CancellationToken,
}

impl Mitm {
    /// Listens on loopback; a client that connects is relayed to `upstream` (`host:port` of the real
    /// server, plain `ws`).
    pub async fn start(upstream: std::net::SocketAddr) -> std::io::Result<Mitm> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let stop = tokio_util::sync::CancellationToken::new();
        let token = stop.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    Ok((stream, _)) = listener.accept() => {
                        let token = token.clone();
                        tokio::spawn(async move {
                            tokio::select! {
                                _ = token.cancelled() => {}
                                r = mitm_relay(stream, upstream) => if let Err(e) = r {
                                    tracing::debug!(error = %e, "mitm relay ended");
                                },
                            }
                        });
                    }
                }
            }
        });
        Ok(Mitm { addr, stop })
    }

    /// The signaling URL to give the victim.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }
}

impl Drop for Mitm {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The two connections the man in the middle holds for one pair: facing its client, facing the other.
struct Intercepted {
    client_side: Arc<dyn PeerConnection>,
    peer_side: Arc<dyn PeerConnection>,
    peer_side_offered: bool,
    client_side_offered: bool,
}

/// Which side a locally gathered candidate belongs to.
enum Side {
    Client(PeerId),
    Peer(PeerId),
}

struct SideHandler(Side, mpsc::UnboundedSender<(String, RTCIceCandidateInit)>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for SideHandler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let key = match &self.0 {
                Side::Client(p) => format!("c{p}"),
                Side::Peer(p) => format!("p{p}"),
            };
            let _ = self.1.send((key, init));
        }
    }
}

type MitmError = Box<dyn std::error::Error + Send + Sync>;

async fn mitm_relay(stream: tokio::net::TcpStream, upstream: std::net::SocketAddr) -> Result<(), MitmError> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let mut client = tokio_tungstenite::accept_async(stream).await?;
    let io = tokio::net::TcpStream::connect(upstream).await?;
    let (mut server, _) = tokio_tungstenite::client_async(format!("ws://{upstream}/ws"), io).await?;
    let (cand_tx, mut cand_rx) = mpsc::unbounded_channel::<(String, RTCIceCandidateInit)>();
    let mut pairs: HashMap<PeerId, Intercepted> = HashMap::new();
    let network = NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() };
    let signal_json = |kind: &str, peer: &PeerId, data: &SignalData| {
        serde_json::json!({ "type": "signal", kind: peer, "data": serde_json::value::to_value(data).unwrap_or_default() })
            .to_string()
    };

    loop {
        tokio::select! {
            frame = client.next() => {
                let Some(frame) = frame else { return Ok(()) };
                let frame = frame?;
                // Our client's signal to another: answered by the side facing the client.
                if let Message::Text(text) = &frame
                    && let Some((to, data)) = parse_signal(text, "to")
                {
                    let pair = intercepted(&mut pairs, &to, &network, &cand_tx).await?;
                    match data {
                        SignalData::Sdp { sdp } if sdp.kind == SdpType::Offer => {
                            pair.client_side_offered = true;
                            pair.client_side.set_remote_description(RTCSessionDescription::offer(sdp.sdp)?).await?;
                            let answer = pair.client_side.create_answer(None).await?;
                            let sdp = answer.sdp.clone();
                            pair.client_side.set_local_description(answer).await?;
                            let data = SignalData::Sdp { sdp: SessionDescription { kind: SdpType::Answer, sdp } };
                            client.send(Message::text(signal_json("from", &to, &data))).await?;
                            if !pair.peer_side_offered {
                                pair.peer_side_offered = true;
                                let offer = offer_with_channel(&pair.peer_side).await?;
                                server.send(Message::text(signal_json("to", &to, &offer))).await?;
                            }
                        }
                        SignalData::Sdp { sdp } if sdp.kind == SdpType::Answer => {
                            pair.client_side.set_remote_description(RTCSessionDescription::answer(sdp.sdp)?).await?;
                        }
                        SignalData::Candidate { candidate: Some(c) } => {
                            let _ = pair.client_side.add_ice_candidate(to_init(c)).await;
                        }
                        _ => {}
                    }
                    continue;
                }
                server.send(frame).await?;
            }
            frame = server.next() => {
                let Some(frame) = frame else { return Ok(()) };
                let frame = frame?;
                // Another's signal to our client: answered by the side facing the other.
                if let Message::Text(text) = &frame
                    && let Some((from, data)) = parse_signal(text, "from")
                {
                    let pair = intercepted(&mut pairs, &from, &network, &cand_tx).await?;
                    match data {
                        SignalData::Sdp { sdp } if sdp.kind == SdpType::Offer => {
                            pair.peer_side_offered = true;
                            pair.peer_side.set_remote_description(RTCSessionDescription::offer(sdp.sdp)?).await?;
                            let answer = pair.peer_side.create_answer(None).await?;
                            let sdp = answer.sdp.clone();
                            pair.peer_side.set_local_description(answer).await?;
                            let data = SignalData::Sdp { sdp: SessionDescription { kind: SdpType::Answer, sdp } };
                            server.send(Message::text(signal_json("to", &from, &data))).await?;
                            if !pair.client_side_offered {
                                pair.client_side_offered = true;
                                let offer = offer_with_channel(&pair.client_side).await?;
                                client.send(Message::text(signal_json("from", &from, &offer))).await?;
                            }
                        }
                        SignalData::Sdp { sdp } if sdp.kind == SdpType::Answer => {
                            pair.peer_side.set_remote_description(RTCSessionDescription::answer(sdp.sdp)?).await?;
                        }
                        SignalData::Candidate { candidate: Some(c) } => {
                            let _ = pair.peer_side.add_ice_candidate(to_init(c)).await;
                        }
                        _ => {}
                    }
                    continue;
                }
                client.send(frame).await?;
            }
            Some((key, c)) = cand_rx.recv() => {
                let candidate = SignalData::Candidate {
                    candidate: Some(IceCandidateInit {
                        candidate: c.candidate,
                        sdp_mid: c.sdp_mid,
                        sdp_m_line_index: c.sdp_mline_index,
                        username_fragment: c.username_fragment,
                    }),
                };
                let (side, peer) = key.split_at(1);
                let peer = peer.to_owned();
                if side == "c" {
                    client.send(Message::text(signal_json("from", &peer, &candidate))).await?;
                } else {
                    server.send(Message::text(signal_json("to", &peer, &candidate))).await?;
                }
            }
        }
    }
}

/// `(peer, data)` of a `signal` frame (`field`: `to` from a client, `from` from the server).
fn parse_signal(text: &str, field: &str) -> Option<(PeerId, SignalData)> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    if v.get("type")?.as_str()? != "signal" {
        return None;
    }
    let peer = v.get(field)?.as_str()?.to_owned();
    let data = serde_json::from_value(v.get("data")?.clone()).ok()?;
    Some((peer, data))
}

fn to_init(c: IceCandidateInit) -> RTCIceCandidateInit {
    RTCIceCandidateInit {
        candidate: c.candidate,
        sdp_mid: c.sdp_mid,
        sdp_mline_index: c.sdp_m_line_index,
        username_fragment: c.username_fragment,
        ..Default::default()
    }
}

async fn intercepted<'a>(
    pairs: &'a mut HashMap<PeerId, Intercepted>,
    peer: &PeerId,
    network: &NetworkConfig,
    candidates: &mpsc::UnboundedSender<(String, RTCIceCandidateInit)>,
) -> Result<&'a mut Intercepted, MitmError> {
    if !pairs.contains_key(peer) {
        let handler = |side| Arc::new(SideHandler(side, candidates.clone()));
        let client_side =
            build_peer_connection(network, &[], None, handler(Side::Client(peer.clone()))).await?;
        let peer_side = build_peer_connection(network, &[], None, handler(Side::Peer(peer.clone()))).await?;
        let pair =
            Intercepted { client_side, peer_side, peer_side_offered: false, client_side_offered: false };
        pairs.insert(peer.clone(), pair);
    }
    pairs.get_mut(peer).ok_or_else(|| "gone".into())
}

/// An offer from `pc` with a `chat` data channel (what our clients expect of an offerer).
async fn offer_with_channel(pc: &Arc<dyn PeerConnection>) -> Result<SignalData, MitmError> {
    pc.create_data_channel(CHANNEL_LABEL, None).await?;
    let offer = pc.create_offer(None).await?;
    let sdp = offer.sdp.clone();
    pc.set_local_description(offer).await?;
    Ok(SignalData::Sdp { sdp: SessionDescription { kind: SdpType::Offer, sdp } })
}

/// The hostile cases, in order, each a name and its steps, against a victim `victim` in a call with
/// `other`: malformed and oversized data-channel messages, a chat flood, false id and media claims, invalid
/// and contradictory descriptions (from `offer`, a valid one to mangle), a renegotiation storm, bogus ICE
/// candidates (loopback only: checks reach nothing outside this machine).
pub fn hostile_cases(victim: &str, other: &str, offer: &str) -> Vec<(&'static str, Vec<Action>)> {
    vec![
        ("malformed data-channel messages", malformed_messages()),
        (
            "a chat flood",
            (0..2000)
                .map(|i| Action::Text(format!(r#"{{"type":"chat","from":"M","text":"spam {i}","ts":1}}"#)))
                .collect(),
        ),
        (
            "false id and media claims",
            vec![
                Action::Text(format!(r#"{{"type":"id","id":"{other}"}}"#)),
                Action::Text(format!(r#"{{"type":"id","id":"{victim}"}}"#)),
                Action::Text(r#"{"type":"id","id":"0000000000000000"}"#.into()),
                Action::Text(r#"{"type":"media","mic":false,"camera":false,"videoCodecs":["AV1"]}"#.into()),
                Action::Text(format!(r#"{{"type":"media","id":"{other}","mic":false,"camera":false}}"#)),
            ],
        ),
        ("invalid and contradictory descriptions", invalid_descriptions(offer)),
        ("a renegotiation storm", (0..200).map(|_| Action::Sdp(SdpType::Offer, offer.to_owned())).collect()),
        ("bogus ICE candidates", bogus_candidates()),
    ]
}

impl Hostile {
    /// Carries out one step against `to` (errors are the point, and ignored).
    pub async fn act(&self, to: &PeerId, action: Action) {
        match action {
            Action::Text(t) => {
                let _ = self.send_text(to, &t).await;
            }
            Action::Bytes(b) => {
                let _ = self.send_bytes(to, &b).await;
            }
            Action::Sdp(kind, sdp) => {
                self.signal(to, SignalData::Sdp { sdp: SessionDescription { kind, sdp } })
            }
            Action::Candidate(c) => self.signal(to, SignalData::Candidate { candidate: Some(c) }),
        }
    }
}

/// One hostile step.
pub enum Action {
    Text(String),
    Bytes(Vec<u8>),
    Sdp(SdpType, String),
    Candidate(IceCandidateInit),
}

fn malformed_messages() -> Vec<Action> {
    let mut v: Vec<Action> = [
        "",
        "{",
        "}",
        "null",
        "[]",
        "\"chat\"",
        "{\"type\":null}",
        "{\"type\":\"chat\"}",
        "{\"type\":\"chat\",\"from\":1,\"text\":[],\"ts\":\"x\"}",
        "{\"type\":\"id\",\"id\":\"\"}",
        "{\"type\":\"media\",\"mic\":\"yes\"}",
        "{\"type\":\"media\",\"videoCodecs\":{\"a\":1}}",
        "{\"type\":\"unknown\",\"x\":1}",
        "\u{0}\u{1}\u{ffff}",
    ]
    .iter()
    .map(|s| Action::Text((*s).to_owned()))
    .collect();
    v.push(Action::Text("[".repeat(50_000)));
    v.push(Action::Text(format!(r#"{{"type":"chat","from":"M","text":"{}","ts":1}}"#, "x".repeat(60_000))));
    v.push(Action::Text(format!(r#"{{"type":"id","id":"{}"}}"#, "é".repeat(5_000))));
    v.push(Action::Text(format!(r#"{{"type":"chat","from":"{}","text":"hi","ts":1}}"#, "M".repeat(10_000))));
    v.push(Action::Bytes(vec![0xff, 0xfe, 0x00, 0x80]));
    v.push(Action::Bytes(vec![0x7b; 100_000]));
    v
}

fn invalid_descriptions(offer: &str) -> Vec<Action> {
    let mut v = vec![
        Action::Sdp(SdpType::Offer, String::new()),
        Action::Sdp(SdpType::Offer, "garbage".into()),
        Action::Sdp(SdpType::Answer, "v=0\r\n".into()),
        Action::Sdp(SdpType::Pranswer, offer.to_owned()),
        Action::Sdp(SdpType::Rollback, String::new()),
        Action::Sdp(SdpType::Answer, offer.to_owned()),
        Action::Sdp(SdpType::Offer, offer.replace("a=fingerprint:sha-256", "a=fingerprint:sha-1")),
        Action::Sdp(SdpType::Offer, offer.replace("m=application", "m=video")),
        Action::Sdp(
            SdpType::Offer,
            offer.replace("a=ice-ufrag:", "a=ice-ufrag:x").replace("a=mid:", "a=mid:9"),
        ),
        Action::Sdp(SdpType::Offer, format!("{offer}{}", "a=x:y\r\n".repeat(20_000))),
        Action::Sdp(SdpType::Offer, offer.lines().rev().collect::<Vec<_>>().join("\r\n")),
    ];
    v.push(Action::Sdp(SdpType::Offer, "m=video 9 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n".repeat(500)));
    v
}

fn bogus_candidates() -> Vec<Action> {
    let candidate = |c: String, mid: Option<&str>, index: Option<u16>| {
        Action::Candidate(IceCandidateInit {
            candidate: c,
            sdp_mid: mid.map(Into::into),
            sdp_m_line_index: index,
            username_fragment: None,
        })
    };
    let mut v = vec![
        candidate(String::new(), None, None),
        candidate("candidate:garbage".into(), Some("0"), Some(0)),
        candidate("candidate:1 1 udp 2122260223 127.0.0.1 notaport typ host".into(), Some("0"), Some(0)),
        candidate("candidate:1 1 udp 2122260223 999.1.1.1 9 typ host".into(), Some("0"), Some(0)),
        candidate("candidate:1 1 udp 2122260223 127.0.0.1 9 typ host".into(), Some("99"), Some(65535)),
        candidate(format!("candidate:{}", "x".repeat(100_000)), Some("0"), Some(0)),
    ];
    // Many plausible ones, to loopback addresses and ports nothing listens on (the checks stay on this
    // machine and reach no other test's sockets).
    for (i, (host, port)) in
        (2..252u32).flat_map(|h| [1u16, 7, 9, 13, 19, 37].map(move |p| (h, p))).enumerate()
    {
        v.push(candidate(
            format!("candidate:{i} 1 udp 2122260223 127.0.0.{host} {port} typ host"),
            Some("0"),
            Some(0),
        ));
    }
    v
}

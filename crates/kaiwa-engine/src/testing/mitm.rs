//! [`Mitm`]: a man in the middle of the signaling for one client.

use std::collections::HashMap;
use std::sync::Arc;

use kaiwa_protocol::{PeerId, SdpType, SessionDescription, SignalData};
use rtc::peer_connection::transport::RTCDtlsRole;
use tokio::sync::mpsc;
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionEventHandler, RTCIceCandidateInit, RTCPeerConnectionIceEvent,
    RTCSessionDescription,
};

use super::{from_webrtc, to_webrtc};
use crate::chat::CHANNEL_LABEL;
use crate::peer::factory::{NetworkConfig, build_peer_connection};
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
                            let _ = pair.client_side.add_ice_candidate(to_webrtc(c)).await;
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
                            let _ = pair.peer_side.add_ice_candidate(to_webrtc(c)).await;
                        }
                        _ => {}
                    }
                    continue;
                }
                client.send(frame).await?;
            }
            Some((key, c)) = cand_rx.recv() => {
                let candidate = SignalData::Candidate {
                    candidate: Some(from_webrtc(c)),
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

async fn intercepted<'a>(
    pairs: &'a mut HashMap<PeerId, Intercepted>,
    peer: &PeerId,
    network: &NetworkConfig,
    candidates: &mpsc::UnboundedSender<(String, RTCIceCandidateInit)>,
) -> Result<&'a mut Intercepted, MitmError> {
    if !pairs.contains_key(peer) {
        let handler = |side| Arc::new(SideHandler(side, candidates.clone()));
        let client_side = build_peer_connection(
            network,
            &[],
            None,
            RTCDtlsRole::Client,
            handler(Side::Client(peer.clone())),
        )
        .await?;
        let peer_side =
            build_peer_connection(network, &[], None, RTCDtlsRole::Client, handler(Side::Peer(peer.clone())))
                .await?;
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

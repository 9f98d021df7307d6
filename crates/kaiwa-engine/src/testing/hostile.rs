//! [`Hostile`]: the misbehaving participant, its connections and what it can send.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kaiwa_protocol::{PeerId, PeerInfo, SdpType, SessionDescription, SignalData};
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionEventHandler, RTCIceCandidateInit, RTCPeerConnectionIceEvent,
    RTCSessionDescription,
};

use super::{from_webrtc, to_webrtc};
use crate::chat::CHANNEL_LABEL;
use crate::peer::factory::{NetworkConfig, build_peer_connection, opus_codec, video_codec_parameters};
use crate::peer::tracks::{media_track, negotiated_payload_type};
use crate::signaling::{SignalingClient, SignalingConfig, SignalingEvent};
use bytes::Bytes;
use kaiwa_media::video::VideoCodec;
use rtc::peer_connection::transport::RTCDtlsRole;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use std::sync::atomic::{AtomicU16, Ordering::Relaxed};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::rtp_transceiver::RtpSender;

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
/// with a `chat` data channel and an audio (Opus) and a video (H.264) track that carry only what it is told
/// to send, packet by packet.
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
    audio: SentTrack,
    video: SentTrack,
    /// Video tracks added later ([`Hostile::add_video_tracks`]).
    extra: Vec<SentTrack>,
}

/// One of the hostile's own tracks: its packets are written as they are, with the negotiated payload type.
struct SentTrack {
    track: Arc<TrackLocalStaticRTP>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
    sequence: AtomicU16,
}

impl SentTrack {
    async fn add(pc: &Arc<dyn PeerConnection>, kind: RtpCodecKind) -> Result<SentTrack, HostileError> {
        let ssrc = rand::random::<u32>();
        let codec = match kind {
            RtpCodecKind::Video => video_codec_parameters(&[VideoCodec::H264]).remove(0).rtp_codec,
            _ => opus_codec(),
        };
        let track = Arc::new(TrackLocalStaticRTP::new(media_track(kind, "hostile", ssrc, codec)));
        let sender = pc.add_track(track.clone()).await?;
        Ok(SentTrack { track, sender, ssrc, sequence: AtomicU16::new(0) })
    }

    async fn write(&self, payload: Vec<u8>, marker: bool) -> Result<(), HostileError> {
        let payload_type = negotiated_payload_type(&self.sender).await.unwrap_or_default();
        let sequence_number = self.sequence.fetch_add(1, Relaxed);
        let packet = rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                marker,
                payload_type,
                sequence_number,
                timestamp: u32::from(sequence_number).wrapping_mul(3000),
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload: Bytes::from(payload),
        };
        self.track.write_rtp(packet).await?;
        Ok(())
    }
}

/// What [`Hostile::pump_until`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    ChannelOpen,
    Answered,
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
        let pc =
            build_peer_connection(&network, &[], None, RTCDtlsRole::Client, Arc::new(Handler(tx.clone())))
                .await?;
        let audio = SentTrack::add(&pc, RtpCodecKind::Audio).await?;
        let video = SentTrack::add(&pc, RtpCodecKind::Video).await?;
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
        self.conns.insert(to.clone(), Conn { pc, channel, local, audio, video, extra: Vec::new() });
        tokio::time::timeout(WAIT, self.pump_until(to, Until::ChannelOpen))
            .await
            .map_err(|_| HostileError::Timeout("the channel"))?
    }

    /// Relays signals between the server and the connection to `to` until `until`.
    async fn pump_until(&mut self, to: &PeerId, until: Until) -> Result<(), HostileError> {
        loop {
            let conn = self.conns.get_mut(to).ok_or(HostileError::NoSuchPeer(to.clone()))?;
            tokio::select! {
                local = conn.local.recv() => match local {
                    Some(Local::Candidate(c)) => {
                        let candidate = from_webrtc(c);
                        self.signaling.signal(to, SignalData::Candidate { candidate: Some(candidate) });
                    }
                    Some(Local::ChannelOpen) if until == Until::ChannelOpen => return Ok(()),
                    Some(Local::ChannelOpen) => {}
                    None => return Err(HostileError::Signaling("connection gone".into())),
                },
                event = self.events.recv() => match event {
                    Some(SignalingEvent::Signal { from, data }) if &from == to => match data {
                        SignalData::Sdp { sdp } if sdp.kind == SdpType::Answer => {
                            // (An answer to an offer we rolled back no longer applies.)
                            let applied =
                                conn.pc.set_remote_description(RTCSessionDescription::answer(sdp.sdp)?).await;
                            if applied.is_ok() && until == Until::Answered {
                                return Ok(());
                            }
                        }
                        SignalData::Sdp { sdp } if sdp.kind == SdpType::Offer => {
                            // The victim renegotiates (its own tracks, after our first offer): answer
                            // politely, rolling back an offer of ours, which goes out again after.
                            let ours_pending = conn.pc.pending_local_description().await.is_some();
                            if ours_pending {
                                conn.pc.set_local_description(RTCSessionDescription::rollback(None)?).await?;
                            }
                            conn.pc.set_remote_description(RTCSessionDescription::offer(sdp.sdp)?).await?;
                            let answer = conn.pc.create_answer(None).await?;
                            let sdp = answer.sdp.clone();
                            conn.pc.set_local_description(answer).await?;
                            let answer = SessionDescription { kind: SdpType::Answer, sdp };
                            self.signaling.signal(to, SignalData::Sdp { sdp: answer });
                            if ours_pending {
                                let offer = conn.pc.create_offer(None).await?;
                                let sdp = offer.sdp.clone();
                                conn.pc.set_local_description(offer).await?;
                                let offer = SessionDescription { kind: SdpType::Offer, sdp };
                                self.signaling.signal(to, SignalData::Sdp { sdp: offer });
                            }
                        }
                        SignalData::Candidate { candidate: Some(c) } => {
                            let _ = conn.pc.add_ice_candidate(to_webrtc(c)).await;
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

    /// Sends `payload` as one RTP packet of its video (H.264) or audio (Opus) track to `to`.
    pub async fn send_rtp(
        &self,
        to: &PeerId,
        kind: RtpCodecKind,
        payload: Vec<u8>,
        marker: bool,
    ) -> Result<(), HostileError> {
        let conn = self.conns.get(to).ok_or(HostileError::NoSuchPeer(to.clone()))?;
        let track = if kind == RtpCodecKind::Video { &conn.video } else { &conn.audio };
        track.write(payload, marker).await
    }

    /// Adds `n` more video tracks on the connection to `to` and renegotiates (offer, answer).
    pub async fn add_video_tracks(&mut self, to: &PeerId, n: usize) -> Result<(), HostileError> {
        let conn = self.conns.get_mut(to).ok_or(HostileError::NoSuchPeer(to.clone()))?;
        for _ in 0..n {
            conn.extra.push(SentTrack::add(&conn.pc, RtpCodecKind::Video).await?);
        }
        let offer = conn.pc.create_offer(None).await?;
        let sdp = offer.sdp.clone();
        conn.pc.set_local_description(offer).await?;
        self.signal(to, SignalData::Sdp { sdp: SessionDescription { kind: SdpType::Offer, sdp } });
        tokio::time::timeout(WAIT, self.pump_until(to, Until::Answered))
            .await
            .map_err(|_| HostileError::Timeout("the answer"))?
    }

    /// Sends `payload` as one RTP packet on each of the added video tracks to `to`.
    pub async fn send_rtp_on_added(&self, to: &PeerId, payload: &[u8]) -> Result<(), HostileError> {
        let conn = self.conns.get(to).ok_or(HostileError::NoSuchPeer(to.clone()))?;
        for track in &conn.extra {
            track.write(payload.to_vec(), true).await?;
        }
        Ok(())
    }

    /// Sends `bytes` to `to` as they are, as an RTCP packet of its video track.
    pub async fn send_rtcp(&self, to: &PeerId, bytes: Vec<u8>) -> Result<(), HostileError> {
        let conn = self.conns.get(to).ok_or(HostileError::NoSuchPeer(to.clone()))?;
        let packet = rtc::rtcp::raw_packet::RawPacket(Bytes::from(bytes));
        conn.video.track.write_rtcp(vec![Box::new(packet)]).await?;
        Ok(())
    }

    /// A valid offer from a connection of its own that is never used (to replay).
    pub async fn throwaway_offer(&self) -> Result<String, HostileError> {
        let network = NetworkConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..Default::default() };
        let (tx, _rx) = mpsc::unbounded_channel();
        let pc =
            build_peer_connection(&network, &[], None, RTCDtlsRole::Client, Arc::new(Handler(tx))).await?;
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

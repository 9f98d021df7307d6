//! The session with one remote participant: owns its peer connection and runs every signaling operation
//! on it, in order, in one task. Negotiation follows the protocol: the newcomer offers first, and later
//! renegotiation uses perfect negotiation, whose decisions are pure functions in `negotiation.rs`; this
//! task reads the peer connection's state, asks there, and carries the decision out.

mod connection;
mod incoming;
mod media;
mod negotiate;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::time::Instant;

use bytes::Bytes;
use kaiwa_protocol::{
    IceCandidateInit, IceServer, PeerId, PeerInfo, SdpType, SessionDescription, SignalData,
};
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    PeerConnection, RTCIceCandidateInit, RTCPeerConnectionState, RTCSessionDescription,
};
use webrtc::rtp_transceiver::RtpSender;

use super::factory::{NetworkConfig, build_peer_connection};
use super::handler::{Forwarder, PcEvent};
use super::negotiation::{self, Exchange, Ignored, OfferReason, OnOfferWanted, OnRemote};
use super::remote_rtp::{self, VideoPlayback};
use super::remote_tracks::{Playing, VideoRole, VideoTracks};
use super::tracks::{self, NO_PT, SendStats, SentVideo};
use super::video_formats::VideoFormats;
use crate::chat::{CHANNEL_LABEL, ChannelMessage, ChatMessage, MediaAnnouncement};
use crate::events::{EngineEvent, PeerState};
use crate::media::audio_playout::{AudioRecvStats, PlayoutInput};
use crate::media::video_recv::VideoRecvStats;
use crate::media::video_send::VideoFeed;
use crate::signaling::SignalingClient;
use crate::sinks::MediaSinks;
use crate::stats::PeerStats;

/// What every peer session of an engine shares.
pub struct PeerContext {
    pub my_name: String,
    pub signaling: Arc<SignalingClient>,
    pub network: NetworkConfig,
    /// Our camera (or whatever video source the call was started with).
    pub video: Option<VideoFeed>,
    /// Our shared screen, while we share one: sent as a second video track beside the camera.
    pub screen: std::sync::Mutex<Option<VideoFeed>>,
    pub audio: Option<broadcast::Sender<Bytes>>,
    pub playout: std::sync::mpsc::SyncSender<PlayoutInput>,
    pub sinks: Arc<dyn MediaSinks>,
    pub events: mpsc::Sender<EngineEvent>,
    /// Our current signaling id (it changes when we rejoin after losing the server).
    pub my_id: tokio::sync::watch::Receiver<PeerId>,
    /// A peer's claim, over our connection to it, that its signaling id is now another; the engine
    /// decides (`engine.rs` `rekey`).
    pub rekeys: mpsc::UnboundedSender<IdClaim>,
    /// Our DTLS certificate, the same on every connection.
    pub identity: super::identity::Identity,
    /// Whether our camera is on (new connections add a video track only then).
    pub video_enabled: std::sync::atomic::AtomicBool,
    /// Whether our microphone is on (not muted); announced to peers with the camera state.
    pub mic_enabled: std::sync::atomic::AtomicBool,
    /// Which transport each local TURN relay uses (`net/turn_stream.rs`), for stats.
    pub relays: crate::net::RelayTransports,
}

pub enum PeerInput {
    Remote(SignalData),
    Pc(PcEvent),
    ChatOpen(Arc<dyn DataChannel>),
    SendChat(ChatMessage),
    /// Tell the peer our (new) signaling id.
    AnnounceId,
    /// Tell the peer whether our microphone and camera are on (`{"type":"media"}`).
    AnnounceMedia,
    /// The peer's microphone, camera and screen, and the video codecs it can decode (when it said).
    RemoteMedia(MediaAnnouncement),
    /// The peer says its signaling id is now this.
    RemoteId(PeerId),
    /// The engine accepted the peer's claim: this session's peer is now known by this id.
    Renamed(PeerId),
    /// A chat line from the peer.
    RemoteChat(ChatMessage),
    /// Camera on (add our video track) or off (remove it); either renegotiates.
    SetVideo(bool),
    /// Screen sharing started (add a track for `PeerContext::screen`) or ended (remove it); either
    /// renegotiates, and the peer is told first (`{"type":"media","screen":…}`).
    SetScreen(bool),
    Renegotiate,
    /// [`RESTART_AFTER`] after the connection went down: restart ICE if it is still down.
    RestartIfStillDown,
    Stats(oneshot::Sender<PeerStats>),
    Close,
    /// Close without a word to the owner: the participant is reached through the SFU now.
    Handover,
}

/// A peer's claim that its signaling id changed from `old` to `new`, made over the connection whose peer
/// presented the certificate with `fingerprint` (none when the handshake is not done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdClaim {
    pub old: PeerId,
    pub new: PeerId,
    pub fingerprint: Option<String>,
}

/// How many offers a peer may send at once, and how many a second after that (a person toggling a camera
/// as fast as they can stays well within).
const OFFER_BURST: f64 = 10.0;
const OFFERS_PER_SECOND: f64 = 1.0;

/// How long a connection may stay disconnected before ICE is restarted (ICE itself calls it disconnected
/// after `peer/factory.rs`'s [`super::factory::ICE_DISCONNECTED`] without answers).
const RESTART_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// How negotiation went: tests use these to prove that glare really happened and was resolved.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct NegotiationCounters {
    pub offers: u64,
    pub rollbacks: u64,
    pub ignored_offers: u64,
}

/// The engine's handle on a session.
pub struct PeerHandle {
    pub info: PeerInfo,
    pub inputs: mpsc::UnboundedSender<PeerInput>,
    /// Whether an offer/answer exchange has completed (a session still waiting for an offer has not).
    pub negotiated: Arc<std::sync::atomic::AtomicBool>,
    /// The engine's signaling generation when this session was made or last re-keyed.
    pub generation: u64,
    /// Whether the connection is up: connected, its data channel not closed by the other end.
    pub connected: Arc<std::sync::atomic::AtomicBool>,
}

pub struct PeerSession {
    ctx: Arc<PeerContext>,
    remote: PeerInfo,
    pc: Arc<dyn PeerConnection>,
    polite: bool,
    /// Set once the first offer/answer exchange is done; before that, negotiation-needed is covered by it.
    negotiated: bool,
    negotiated_flag: Arc<std::sync::atomic::AtomicBool>,
    /// Shared with the engine's handle: see [`PeerHandle::connected`].
    connected_flag: Arc<std::sync::atomic::AtomicBool>,
    ignore_offer: bool,
    negotiation: NegotiationCounters,
    pending_candidates: Vec<RTCIceCandidateInit>,
    video: Option<LocalTrack>,
    /// Our shared screen's track, while we share.
    screen: Option<LocalTrack>,
    audio: Option<LocalTrack>,
    chat: Option<Arc<dyn DataChannel>>,
    chat_backlog: Vec<ChatMessage>,
    stop: CancellationToken,
    state: PeerState,
    connected_at: Option<Instant>,
    created_at: Instant,
    send_stats: Arc<SendStats>,
    /// What our screen's tracks sent (the camera's and audio's are in `send_stats`).
    screen_send_stats: Arc<SendStats>,
    /// The peer's incoming video tracks, and those playing per [`VideoRole`] (with their arrival number
    /// and decode figures).
    incoming_video: VideoTracks<Arc<dyn TrackRemote>>,
    playing_video: [Option<(u64, Playing, Arc<VideoRecvStats>)>; 2],
    /// The incoming audio track being played: the newest.
    playing_audio: Option<Playing>,
    audio_stats: Option<Arc<AudioRecvStats>>,
    /// Whether video can flow with this peer at all (a common format), as the last exchange said.
    video_formats: VideoFormats,
    chat_limit: crate::rate_limit::RateLimit,
    /// Remote offers: a peer renegotiating without pause (each offer may restart ICE and bind sockets)
    /// would starve the whole engine; past the limit its offers are ignored.
    offer_limit: crate::rate_limit::RateLimit,
    inputs_tx: mpsc::UnboundedSender<PeerInput>,
}

/// One of our tracks on this connection and the task(s) feeding it.
struct LocalTrack {
    sender: Arc<dyn RtpSender>,
    /// The media stream it belongs to (the SDP's `msid`), as a screen is announced.
    stream_id: String,
    /// Audio: the negotiated payload type.
    payload_type: Arc<AtomicU8>,
    /// Video: what it was negotiated to carry.
    video: Option<SentVideo>,
    /// Stops this track's writer (a child of the session's stop).
    stop: CancellationToken,
}

impl PeerSession {
    /// Builds the connection with our tracks and starts its task. The initiator also opens the chat
    /// channel and sends the first offer.
    pub async fn start(
        ctx: Arc<PeerContext>,
        my_id: PeerId,
        remote: PeerInfo,
        ice_servers: Vec<IceServer>,
        initiator: bool,
    ) -> Result<PeerHandle, webrtc::error::Error> {
        let (tx, rx) = mpsc::unbounded_channel();
        let pc = build_peer_connection(
            &ctx.network,
            &ice_servers,
            Some(&ctx.identity),
            super::dtls_role::answering_role(initiator),
            Arc::new(Forwarder::new({
                let tx = tx.clone();
                move |event| {
                    let _ = tx.send(PeerInput::Pc(event));
                }
            })),
        )
        .await?;
        let stop = CancellationToken::new();
        let send_stats = Arc::new(SendStats::default());
        let mut session = PeerSession {
            polite: my_id < remote.id,
            ctx,
            remote: remote.clone(),
            pc,
            negotiated: false,
            negotiated_flag: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            connected_flag: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            ignore_offer: false,
            negotiation: NegotiationCounters::default(),
            pending_candidates: Vec::new(),
            video: None,
            screen: None,
            audio: None,
            chat: None,
            chat_backlog: Vec::new(),
            stop,
            state: PeerState::Connecting,
            connected_at: None,
            created_at: Instant::now(),
            send_stats,
            screen_send_stats: Arc::new(SendStats::default()),
            incoming_video: VideoTracks::default(),
            playing_video: [None, None],
            playing_audio: None,
            audio_stats: None,
            video_formats: VideoFormats::default(),
            chat_limit: crate::rate_limit::RateLimit::new(
                crate::chat::CHAT_BURST,
                crate::chat::CHAT_PER_SECOND,
            ),
            offer_limit: crate::rate_limit::RateLimit::new(OFFER_BURST, OFFERS_PER_SECOND),
            inputs_tx: tx.clone(),
        };
        // Audio first: the first m-section tags the BUNDLE group and names the candidates we trickle
        // (`sdpMid`), and every endpoint accepts Opus. A browser that rejects our video (no codec in common)
        // would drop candidates named after a rejected section, and the call would never connect.
        session.add_audio_track().await?;
        if ctx_video_enabled(&session.ctx) {
            session.add_video_track().await?;
        }
        session.add_screen_track().await?;
        if initiator {
            let channel = session.pc.create_data_channel(CHANNEL_LABEL, None).await?;
            session.watch_chat(channel);
            session.make_offer(OfferReason::Requested).await;
        }
        let negotiated = session.negotiated_flag.clone();
        let connected = session.connected_flag.clone();
        let span = tracing::info_span!("peer", name = %remote.name);
        tokio::spawn(tracing::Instrument::instrument(session.run(rx), span));
        Ok(PeerHandle { info: remote, inputs: tx, negotiated, generation: 0, connected })
    }

    async fn run(mut self, mut inputs: mpsc::UnboundedReceiver<PeerInput>) {
        let mut handed_over = false;
        while let Some(input) = inputs.recv().await {
            match input {
                PeerInput::Remote(SignalData::Sdp { sdp }) => self.on_remote_description(sdp).await,
                PeerInput::Remote(SignalData::Candidate { candidate: Some(c) }) => {
                    self.on_remote_candidate(c).await
                }
                PeerInput::Remote(SignalData::Candidate { candidate: None }) => {}
                PeerInput::Pc(event) => self.on_pc_event(event).await,
                PeerInput::ChatOpen(channel) => {
                    let id = self.ctx.my_id.borrow().clone();
                    let _ = channel.send_text(&ChannelMessage::id_announcement(&id)).await;
                    let _ = channel.send_text(&self.media_announcement()).await;
                    for msg in std::mem::take(&mut self.chat_backlog) {
                        let _ = channel.send_text(&msg.to_json()).await;
                    }
                    self.chat = Some(channel);
                }
                PeerInput::SendChat(msg) => match &self.chat {
                    Some(channel) => {
                        if let Err(e) = channel.send_text(&msg.to_json()).await {
                            debug!(error = %e, "chat send failed");
                        }
                    }
                    None => self.chat_backlog.push(msg),
                },
                PeerInput::AnnounceId => {
                    if let Some(channel) = &self.chat {
                        let id = self.ctx.my_id.borrow().clone();
                        let _ = channel.send_text(&ChannelMessage::id_announcement(&id)).await;
                    }
                }
                PeerInput::AnnounceMedia => self.announce_media().await,
                PeerInput::RemoteMedia(media) => self.on_remote_media(media).await,
                PeerInput::RemoteId(id) => {
                    if id != self.remote.id {
                        // Bound to this connection: the certificate the peer presented in its handshake.
                        let fingerprint = super::identity::remote_fingerprint(&self.pc).await;
                        let claim = IdClaim { old: self.remote.id.clone(), new: id, fingerprint };
                        let _ = self.ctx.rekeys.send(claim);
                    }
                }
                PeerInput::Renamed(id) => {
                    info!(old = %self.remote.id, new = %id, "peer has a new signaling id");
                    self.remote.id = id;
                }
                PeerInput::RemoteChat(message) => {
                    if !self.chat_limit.allow(Instant::now()) {
                        if self.chat_limit.dropped == 1 {
                            warn!(peer = %self.remote.name, "chat flood: dropping lines over the limit");
                        }
                        continue;
                    }
                    let _ = self
                        .ctx
                        .events
                        .send(EngineEvent::Chat { from: self.remote.id.clone(), message })
                        .await;
                }
                PeerInput::Renegotiate => self.make_offer(OfferReason::Requested).await,
                PeerInput::RestartIfStillDown => {
                    if self.state == PeerState::Reconnecting {
                        self.restart_ice("connection lost").await;
                    }
                }
                PeerInput::SetVideo(on) => self.set_video(on).await,
                PeerInput::SetScreen(on) => self.set_screen(on).await,
                PeerInput::Stats(reply) => {
                    let _ = reply.send(self.stats().await);
                }
                PeerInput::Close => break,
                PeerInput::Handover => {
                    handed_over = true;
                    break;
                }
            }
        }
        self.stop.cancel();
        let _ = self.ctx.playout.try_send(PlayoutInput::Remove { key: self.remote.id.clone() });
        if let Err(e) = self.pc.close().await {
            debug!(error = %e, "close failed");
        }
        if !handed_over {
            self.set_state(PeerState::Closed).await;
        }
    }
}

/// Whether our camera track belongs on connections now.
fn ctx_video_enabled(ctx: &PeerContext) -> bool {
    ctx.video.is_some() && ctx.video_enabled.load(Relaxed)
}

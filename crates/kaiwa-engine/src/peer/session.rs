//! The session with one remote participant: owns its peer connection and runs every signaling operation
//! on it, in order, in one task. Negotiation follows the protocol: the newcomer offers first, and later
//! renegotiation uses perfect negotiation, whose decisions are pure functions in `negotiation.rs`; this
//! task reads the peer connection's state, asks there, and carries the decision out.

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
use super::remote_tracks::Playing;
use super::tracks::{self, NO_PT, SendStats};
use super::video_formats::VideoFormats;
use crate::chat::{CHANNEL_LABEL, ChannelMessage, ChatMessage};
use crate::events::{EngineEvent, PeerState};
use crate::media::audio_playout::{AudioRecvStats, PlayoutInput};
use crate::media::video_recv::{VideoReceiver, VideoRecvStats};
use crate::media::video_send::{CodecUse, EncodedVideo, VideoSendControl};
use crate::signaling::SignalingClient;
use crate::sinks::MediaSinks;
use crate::stats::PeerStats;

/// What every peer session of an engine shares.
pub struct PeerContext {
    pub my_name: String,
    pub signaling: Arc<SignalingClient>,
    pub network: NetworkConfig,
    pub video: Option<(broadcast::Sender<Arc<EncodedVideo>>, Arc<VideoSendControl>)>,
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
    /// The peer's microphone and camera state.
    RemoteMedia {
        mic: bool,
        camera: bool,
        /// The video codecs it can decode, when it said.
        video_codecs: Vec<String>,
    },
    /// The peer says its signaling id is now this.
    RemoteId(PeerId),
    /// The engine accepted the peer's claim: this session's peer is now known by this id.
    Renamed(PeerId),
    /// A chat line from the peer.
    RemoteChat(ChatMessage),
    /// Camera on (add our video track) or off (remove it); either renegotiates.
    SetVideo(bool),
    Renegotiate,
    /// [`RESTART_AFTER`] after the connection went down: restart ICE if it is still down.
    RestartIfStillDown,
    Stats(oneshot::Sender<PeerStats>),
    Close,
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
    audio: Option<LocalTrack>,
    chat: Option<Arc<dyn DataChannel>>,
    chat_backlog: Vec<ChatMessage>,
    stop: CancellationToken,
    state: PeerState,
    connected_at: Option<Instant>,
    created_at: Instant,
    send_stats: Arc<SendStats>,
    video_stats: Option<Arc<VideoRecvStats>>,
    /// The incoming video and audio tracks being played: the newest of each kind.
    playing_video: Option<Playing>,
    playing_audio: Option<Playing>,
    audio_stats: Option<Arc<AudioRecvStats>>,
    /// Whether video can flow with this peer at all (a common format), as the last exchange said.
    video_formats: VideoFormats,
    chat_limit: crate::chat::ChatLimit,
    /// Remote offers: a peer renegotiating without pause (each offer may restart ICE and bind sockets)
    /// would starve the whole engine; past the limit its offers are ignored.
    offer_limit: crate::chat::ChatLimit,
    inputs_tx: mpsc::UnboundedSender<PeerInput>,
}

/// One of our tracks on this connection and the task(s) feeding it.
struct LocalTrack {
    sender: Arc<dyn RtpSender>,
    /// Audio: the negotiated payload type.
    payload_type: Arc<AtomicU8>,
    /// Video: the negotiated payload type and codec, and our use of that codec's encoder.
    video: Option<(Arc<tracks::NegotiatedVideo>, Option<CodecUse>)>,
    /// Stops this track's writer (a child of the session's stop).
    stop: CancellationToken,
}

fn ctx_video_enabled(ctx: &PeerContext) -> bool {
    ctx.video.is_some() && ctx.video_enabled.load(Relaxed)
}

impl PeerSession {
    async fn add_video_track(&mut self) -> Result<(), webrtc::error::Error> {
        let Some((frames, control)) = &self.ctx.video else { return Ok(()) };
        let ssrc = rand::random::<u32>();
        let codecs = &self.ctx.network.video_codecs;
        let track = tracks::local_video_track(ssrc, codecs);
        let sender = self.pc.add_track(track.clone()).await?;
        tracks::offer_video_codecs(&self.pc, codecs).await;
        let negotiated = Arc::new(tracks::NegotiatedVideo::default());
        let stop = self.stop.child_token();
        tokio::spawn(tracks::write_video(
            track.clone(),
            ssrc,
            negotiated.clone(),
            frames.subscribe(),
            control.clone(),
            self.send_stats.clone(),
            stop.clone(),
        ));
        tokio::spawn(tracks::read_local_rtcp(
            track,
            negotiated.clone(),
            control.clone(),
            self.send_stats.clone(),
        ));
        self.video = Some(LocalTrack {
            sender,
            payload_type: Arc::new(AtomicU8::new(NO_PT)),
            video: Some((negotiated, None)),
            stop,
        });
        Ok(())
    }

    async fn add_audio_track(&mut self) -> Result<(), webrtc::error::Error> {
        let Some(packets) = &self.ctx.audio else { return Ok(()) };
        let ssrc = rand::random::<u32>();
        let track = tracks::local_audio_track(ssrc)?;
        let sender = self.pc.add_track(track.clone()).await?;
        let payload_type = Arc::new(AtomicU8::new(NO_PT));
        let stop = self.stop.child_token();
        tokio::spawn(tracks::write_audio(
            track,
            ssrc,
            payload_type.clone(),
            packets.subscribe(),
            self.send_stats.clone(),
            stop.clone(),
        ));
        self.audio = Some(LocalTrack { sender, payload_type, video: None, stop });
        Ok(())
    }

    /// Camera off removes our video track, camera on adds a new one; webrtc-rs then asks for negotiation
    /// and the usual offer/answer (perfect negotiation) follows.
    /// With no video format in common with the peer, the camera stays off for it (a track would only make
    /// every later offer fail: webrtc-rs refuses to describe a sender without codecs).
    async fn set_video(&mut self, on: bool) {
        if on && self.video.is_none() && !self.video_formats.unavailable() {
            if let Err(e) = self.add_video_track().await {
                warn!(error = %e, "cannot add the video track");
            }
        } else if !on {
            self.remove_video_track().await;
        }
    }

    async fn remove_video_track(&mut self) {
        if let Some(track) = self.video.take() {
            track.stop.cancel();
            if let Err(e) = self.pc.remove_track(&track.sender).await {
                warn!(error = %e, "cannot remove the video track");
            }
        }
    }

    /// Answers the current remote offer. An offer whose video we share no format with (say AV1 only) makes
    /// webrtc-rs refuse to answer while our camera track is attached; without it the video section is
    /// answered rejected and audio and chat connect as usual.
    async fn create_answer(&mut self) -> Result<RTCSessionDescription, webrtc::error::Error> {
        match self.pc.create_answer(None).await {
            Err(webrtc::error::Error::ErrSenderWithNoCodecs) if self.video.is_some() => {
                info!(peer = %self.remote.name, "no video format in common: answering without video");
                self.remove_video_track().await;
                self.pc.create_answer(None).await
            }
            result => result,
        }
    }

    /// After every completed exchange: is there video with this peer, and if that changed, act on it.
    async fn update_video_formats(&mut self) {
        let (Some(local), Some(remote)) =
            (self.pc.local_description().await, self.pc.remote_description().await)
        else {
            return;
        };
        let now = self.video_formats.after_exchange(&local.sdp, &remote.sdp);
        if now.shared != self.video_formats.shared {
            match now.shared {
                Some(false) => {
                    warn!(peer = %self.remote.name, theirs = ?now.peer_codecs, "no video format in common");
                    // Our offer was answered without video: later offers must not carry the track either.
                    self.remove_video_track().await;
                }
                Some(true) if self.video_formats.unavailable() && ctx_video_enabled(&self.ctx) => {
                    info!(peer = %self.remote.name, "a video format in common again: camera back on");
                    self.video_formats = now;
                    self.set_video(true).await;
                    return;
                }
                _ => {}
            }
        }
        self.video_formats = now;
    }

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
            Arc::new(Forwarder(tx.clone())),
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
            audio: None,
            chat: None,
            chat_backlog: Vec::new(),
            stop,
            state: PeerState::Connecting,
            connected_at: None,
            created_at: Instant::now(),
            send_stats,
            video_stats: None,
            playing_video: None,
            playing_audio: None,
            audio_stats: None,
            video_formats: VideoFormats::default(),
            chat_limit: Default::default(),
            offer_limit: crate::chat::ChatLimit::new(OFFER_BURST, OFFERS_PER_SECOND),
            inputs_tx: tx.clone(),
        };
        // Audio first: the first m-section tags the BUNDLE group and names the candidates we trickle
        // (`sdpMid`), and every endpoint accepts Opus. A browser that rejects our video (no codec in common)
        // would drop candidates named after a rejected section, and the call would never connect.
        session.add_audio_track().await?;
        if ctx_video_enabled(&session.ctx) {
            session.add_video_track().await?;
        }
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
                    let _ = channel.send_text(&media_announcement(&self.ctx)).await;
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
                PeerInput::AnnounceMedia => {
                    if let Some(channel) = &self.chat {
                        let _ = channel.send_text(&media_announcement(&self.ctx)).await;
                    }
                }
                PeerInput::RemoteMedia { mic, camera, video_codecs } => {
                    if !video_codecs.is_empty() {
                        self.video_formats.peer_codecs = video_codecs;
                    }
                    let id = self.remote.id.clone();
                    let _ = self.ctx.events.send(EngineEvent::PeerMedia { id, mic, camera }).await;
                }
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
                PeerInput::Stats(reply) => {
                    let _ = reply.send(self.stats().await);
                }
                PeerInput::Close => break,
            }
        }
        self.stop.cancel();
        let _ = self.ctx.playout.try_send(PlayoutInput::Remove { key: self.remote.id.clone() });
        if let Err(e) = self.pc.close().await {
            debug!(error = %e, "close failed");
        }
        self.set_state(PeerState::Closed).await;
    }

    fn signal(&self, data: SignalData) {
        if !self.ctx.signaling.signal(&self.remote.id, data) {
            debug!("signaling queue full or closed: signal dropped");
        }
    }

    /// Where the offer/answer exchange stands, from the peer connection.
    async fn exchange(&self) -> Exchange {
        Exchange::of(
            self.pc.pending_local_description().await.is_some(),
            self.pc.pending_remote_description().await.is_some(),
        )
    }

    async fn make_offer(&mut self, reason: OfferReason) {
        let at = self.exchange().await;
        match negotiation::on_offer_wanted(reason, at, self.negotiated, self.video_formats.unavailable()) {
            OnOfferWanted::Offer => {}
            OnOfferWanted::Postpone => {
                return debug!("not stable: offer postponed to the end of the exchange");
            }
            OnOfferWanted::Skip => return,
        }
        let result = async {
            let offer = self.pc.create_offer(None).await?;
            let sdp = offer.sdp.clone();
            self.pc.set_local_description(offer).await?;
            Ok::<_, webrtc::error::Error>(sdp)
        }
        .await;
        match result {
            Ok(sdp) => {
                self.negotiation.offers += 1;
                self.signal(SignalData::Sdp { sdp: SessionDescription { kind: SdpType::Offer, sdp } });
            }
            Err(e) => warn!(error = %e, "cannot make an offer"),
        }
    }

    async fn on_remote_description(&mut self, desc: SessionDescription) {
        let is_offer = desc.kind == SdpType::Offer;
        if is_offer && !self.offer_limit.allow(Instant::now()) {
            if self.offer_limit.dropped == 1 {
                warn!(peer = %self.remote.name, "renegotiation storm: ignoring offers over the limit");
            }
            return;
        }
        let sdp = super::rejected_sections::without_rejected_credentials(&desc.sdp).into_owned();
        let rtc_desc = match desc.kind {
            SdpType::Offer => RTCSessionDescription::offer(sdp),
            SdpType::Answer => RTCSessionDescription::answer(sdp),
            SdpType::Pranswer => RTCSessionDescription::pranswer(sdp),
            SdpType::Rollback => return,
        };
        let rtc_desc = match rtc_desc {
            Ok(d) => d,
            Err(e) => return warn!(error = %e, "unusable session description"),
        };
        let (rollback, answer) = match negotiation::on_remote(self.polite, desc.kind, self.exchange().await) {
            OnRemote::Apply { rollback, answer } => (rollback, answer),
            OnRemote::Ignore(why) => {
                self.ignore_offer = why == Ignored::CollidingOffer;
                if self.ignore_offer {
                    self.negotiation.ignored_offers += 1;
                }
                return debug!(?why, "remote description ignored");
            }
        };
        self.ignore_offer = false;
        let result = async {
            if rollback {
                debug!("polite: rolling back our offer for theirs");
                self.negotiation.rollbacks += 1;
                self.pc.set_local_description(RTCSessionDescription::rollback(None)?).await?;
            }
            self.pc.set_remote_description(rtc_desc).await?;
            for c in std::mem::take(&mut self.pending_candidates) {
                if let Err(e) = self.pc.add_ice_candidate(c).await {
                    debug!(error = %e, "queued candidate refused");
                }
            }
            if answer {
                let answer = self.create_answer().await?;
                let sdp = answer.sdp.clone();
                self.pc.set_local_description(answer).await?;
                self.signal(SignalData::Sdp { sdp: SessionDescription { kind: SdpType::Answer, sdp } });
            }
            Ok::<_, webrtc::error::Error>(())
        }
        .await;
        if let Err(e) = result {
            warn!(error = %e, offer = is_offer, "negotiation step failed");
            return;
        }
        self.negotiated = true;
        self.negotiated_flag.store(true, Relaxed);
        self.update_video_formats().await;
        for track in self.video.iter_mut().chain(self.audio.iter_mut()) {
            track
                .payload_type
                .store(tracks::negotiated_payload_type(&track.sender).await.unwrap_or(NO_PT), Relaxed);
            if let Some((negotiated, codec_use)) = &mut track.video {
                let now = tracks::negotiated_video(&track.sender).await;
                negotiated.set(now);
                let codec = now.map(|(_, c)| c);
                if codec_use.as_ref().map(CodecUse::codec) != codec {
                    if let Some(c) = codec {
                        info!(peer = %self.remote.name, codec = %c, "sending video");
                    }
                    *codec_use =
                        codec.zip(self.ctx.video.as_ref()).map(|(c, (_, control))| control.use_codec(c));
                }
            }
        }
    }

    async fn on_remote_candidate(&mut self, c: IceCandidateInit) {
        let init = RTCIceCandidateInit {
            candidate: c.candidate,
            sdp_mid: c.sdp_mid,
            sdp_mline_index: c.sdp_m_line_index,
            username_fragment: c.username_fragment,
            ..Default::default()
        };
        if negotiation::queue_candidate(self.pc.remote_description().await.is_some()) {
            self.pending_candidates.push(init);
        } else if let Err(e) = self.pc.add_ice_candidate(init).await
            && !self.ignore_offer
        {
            debug!(error = %e, "remote candidate refused");
        }
    }

    async fn on_pc_event(&mut self, event: PcEvent) {
        match event {
            // (Skipped while nothing an offer could settle: see `negotiation::on_offer_wanted`.)
            PcEvent::NegotiationNeeded => self.make_offer(OfferReason::NegotiationNeeded).await,
            PcEvent::LocalCandidate(c) => self.signal(SignalData::Candidate {
                candidate: Some(IceCandidateInit {
                    candidate: c.candidate,
                    sdp_mid: c.sdp_mid,
                    sdp_m_line_index: c.sdp_mline_index,
                    username_fragment: c.username_fragment,
                }),
            }),
            PcEvent::GatheringComplete => self.signal(SignalData::Candidate { candidate: None }),
            PcEvent::State(state) => self.on_connection_state(state).await,
            PcEvent::Track(track) => self.on_track(track).await,
            PcEvent::DataChannel(channel) => self.watch_chat(channel),
        }
    }

    async fn on_connection_state(&mut self, state: RTCPeerConnectionState) {
        match state {
            RTCPeerConnectionState::Connected => {
                if self.connected_at.is_none() {
                    self.connected_at = Some(Instant::now());
                    info!(peer = %self.remote.name, setup_ms = self.created_at.elapsed().as_millis() as u64, "connected");
                }
                if let Some((_, control)) = &self.ctx.video
                    && let Some((_, codec)) =
                        self.video.as_ref().and_then(|t| t.video.as_ref()).and_then(|(n, _)| n.get())
                {
                    control.request_keyframe(codec);
                }
                self.set_state(PeerState::Connected).await;
            }
            RTCPeerConnectionState::Disconnected => {
                self.set_state(PeerState::Reconnecting).await;
                // A path that went quiet (a TURN connection reset, a NAT mapping gone) is not coming back by
                // itself: restart soon instead of waiting for ICE to call it failed.
                let inputs = self.inputs_tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(RESTART_AFTER).await;
                    let _ = inputs.send(PeerInput::RestartIfStillDown);
                });
            }
            RTCPeerConnectionState::Failed => {
                self.set_state(PeerState::Reconnecting).await;
                self.restart_ice("connection failed").await;
            }
            _ => {}
        }
    }

    /// ICE restart: the impolite side leads, so both ends do not restart at once.
    async fn restart_ice(&mut self, why: &str) {
        if !negotiation::leads_ice_restart(self.polite) {
            return;
        }
        info!(peer = %self.remote.name, "{why}: restarting ICE");
        if let Err(e) = self.pc.restart_ice().await {
            warn!(error = %e, "ICE restart failed");
        }
        self.make_offer(OfferReason::Requested).await;
    }

    async fn set_state(&mut self, state: PeerState) {
        self.connected_flag.store(state == PeerState::Connected, Relaxed);
        if self.state != state {
            self.state = state;
            let _ = self.ctx.events.send(EngineEvent::PeerState { id: self.remote.id.clone(), state }).await;
        }
    }

    async fn on_track(&mut self, track: Arc<dyn TrackRemote>) {
        let kind = track.kind().await;
        // The newest track of a kind is played; the one before stops (see `remote_tracks.rs`).
        let previous = match kind {
            RtpCodecKind::Video => self.playing_video.take(),
            RtpCodecKind::Audio => self.playing_audio.take(),
            _ => None,
        };
        if let Some(previous) = previous {
            debug!(peer = %self.remote.name, ?kind, "a new incoming track replaces the one before");
            previous.stop().await;
        }
        match kind {
            RtpCodecKind::Video => {
                let Some(sink) = self.ctx.sinks.video(&self.remote) else { return };
                let label: String =
                    self.remote.name.chars().filter(|c| c.is_ascii_alphanumeric()).take(12).collect();
                let (pli_tx, pli_rx) = mpsc::channel(4);
                match VideoReceiver::start(&label, sink, pli_tx) {
                    Ok(receiver) => {
                        self.video_stats = Some(receiver.stats.clone());
                        self.playing_video = Some(Playing::start(&self.stop, |stop| {
                            tracks::pump_video(track, receiver, pli_rx, stop)
                        }));
                    }
                    Err(e) => warn!(error = %e, "cannot start a video decode thread"),
                }
            }
            RtpCodecKind::Audio => {
                let stats = Arc::new(AudioRecvStats::default());
                let key = self.remote.id.clone();
                let add = PlayoutInput::Add {
                    key: key.clone(),
                    sink: self.ctx.sinks.audio(&self.remote),
                    stats: stats.clone(),
                };
                if self.ctx.playout.try_send(add).is_ok() {
                    self.audio_stats = Some(stats.clone());
                    let level = EngineEvent::PeerAudioLevel { id: key.clone(), level: stats.level.clone() };
                    let _ = self.ctx.events.send(level).await;
                    let playout = self.ctx.playout.clone();
                    self.playing_audio = Some(Playing::start(&self.stop, |stop| {
                        tracks::pump_audio(track, key, playout, stats, stop)
                    }));
                }
            }
            _ => {}
        }
    }

    fn watch_chat(&mut self, channel: Arc<dyn DataChannel>) {
        let inputs = self.inputs_tx.clone();
        let connected = self.connected_flag.clone();
        tokio::spawn(async move {
            while let Some(event) = channel.poll().await {
                match event {
                    DataChannelEvent::OnOpen => {
                        let _ = inputs.send(PeerInput::ChatOpen(channel.clone()));
                    }
                    DataChannelEvent::OnMessage(msg) if msg.is_string => {
                        let Ok(text) = std::str::from_utf8(&msg.data) else { continue };
                        match ChannelMessage::parse(text) {
                            Some(ChannelMessage::Chat(chat)) => {
                                let _ = inputs.send(PeerInput::RemoteChat(chat));
                            }
                            Some(ChannelMessage::Id(id)) => {
                                let _ = inputs.send(PeerInput::RemoteId(id));
                            }
                            Some(ChannelMessage::Media { mic, camera, video_codecs }) => {
                                let _ = inputs.send(PeerInput::RemoteMedia { mic, camera, video_codecs });
                            }
                            None => debug!("unreadable data channel message"),
                        }
                    }
                    DataChannelEvent::OnClose => {
                        // The other end closed the channel: it is hanging up.
                        connected.store(false, Relaxed);
                        break;
                    }
                    _ => {}
                }
            }
        });
    }

    async fn stats(&self) -> PeerStats {
        crate::stats::collect(
            &self.pc,
            &self.remote,
            self.state,
            self.connected_at.map(|t| t - self.created_at),
            crate::stats::OwnFigures {
                sent: &self.send_stats,
                video: self.video_stats.as_deref(),
                audio: self.audio_stats.as_deref(),
                negotiation: self.negotiation,
                relays: &self.ctx.relays,
                video_out: self
                    .video
                    .as_ref()
                    .and_then(|t| t.video.as_ref())
                    .and_then(|(n, _)| n.get())
                    .map(|(_, c)| c),
                video_formats: &self.video_formats,
                verification_code: super::identity::remote_fingerprint(&self.pc).await.and_then(|theirs| {
                    super::identity::verification_code(self.ctx.identity.fingerprint(), &theirs)
                }),
            },
        )
        .await
    }
}

/// `{"type":"media",…}` with our current microphone and camera state.
fn media_announcement(ctx: &PeerContext) -> String {
    let codecs: Vec<String> = ctx.network.video_codecs.iter().map(|c| c.encoding_name().to_owned()).collect();
    ChannelMessage::media_state(
        ctx.audio.is_some() && ctx.mic_enabled.load(Relaxed),
        ctx_video_enabled(ctx),
        &codecs,
    )
}

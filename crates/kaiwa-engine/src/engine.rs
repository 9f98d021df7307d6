//! The engine: an actor owning the signaling client, the media threads and one session per remote
//! participant. Its owner talks to it through an [`Engine`] handle: commands in, [`EngineEvent`]s out.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use bytes::Bytes;
use kaiwa_devices::{AudioSource, VideoSource};
use kaiwa_media::audio::ProcessingConfig;
use kaiwa_protocol::{IceServer, PeerId, PeerInfo};

use crate::net::TurnStreams;
use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::chat::ChatMessage;
use crate::events::EngineEvent;
use crate::media::audio_playout::AudioPlayout;
use crate::media::audio_send::{AudioSendControl, AudioSender};
use crate::media::far_end::far_end_channel;
use crate::media::video_send::{VideoSendConfig, VideoSendControl, VideoSender};
use crate::peer::factory::NetworkConfig;
use crate::peer::id_claims::{self, Verdict};
use crate::peer::{IdClaim, PeerContext, PeerHandle, PeerInput, PeerSession};
use crate::signaling::{SignalingClient, SignalingConfig, SignalingEvent};
use crate::sinks::MediaSinks;
use crate::stats::PeerStats;

/// How long a rejoined engine waits for id announcements before connecting to a "new" participant.
const REKEY_GRACE: Duration = Duration::from_millis(1500);
/// How long an id claim waits for the server to announce the claimed id before it is dropped.
const CLAIM_WAIT: Duration = Duration::from_secs(10);
/// How long a connection that is still up outlives the server's word that its participant left: their
/// signaling connection may only have dropped (a congested link timed it out), and they are rejoining to
/// claim it under a new id. Measured in the lab: Ann's signaling timed out during a 400 kbit/s drop; Bo
/// closed the connection at once while Ann, rejoined, kept hers, and neither ever offered again.
const DEPARTURE_GRACE: Duration = Duration::from_secs(10);

/// Everything a call needs.
pub struct EngineConfig {
    pub signaling: SignalingConfig,
    pub network: NetworkConfig,
    /// ICE servers of the user's own, added to those the server hands out.
    pub extra_ice_servers: Vec<IceServer>,
    pub video: Option<Box<dyn VideoSource>>,
    pub audio: Option<Box<dyn AudioSource>>,
    pub sinks: Arc<dyn MediaSinks>,
    pub video_send: VideoSendConfig,
    /// Echo cancellation, noise suppression and gain control of `audio` (switchable during the call with
    /// [`Engine::set_audio_processing`]). On for microphones; off for synthetic sources, whose test tones
    /// and clicks noise suppression would eat.
    pub audio_processing: ProcessingConfig,
}

/// How the microphone clean-up is doing.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AudioProcessingReport {
    pub echo_cancellation: bool,
    pub noise_suppression: bool,
    pub gain_control: bool,
    /// Speaker frames fed to the echo canceller as its far-end reference.
    pub far_end_frames: u64,
    /// Speaker frames that could not be handed over (the audio-send thread was not draining them).
    pub far_end_dropped: u64,
    /// The echo canceller's echo return loss enhancement, dB (`None` while off or still learning).
    pub erle_db: Option<f64>,
    /// The measured delay from speaker frame to its echo in the microphone, ms (`None` until there was
    /// a clear echo).
    pub echo_path_ms: Option<u64>,
}

enum Command {
    Chat(String),
    Stats(oneshot::Sender<Vec<PeerStats>>),
    Renegotiate,
    SetVideo(bool),
    SetMuted(bool),
    Leave(oneshot::Sender<()>),
}

/// Handle to a running call.
pub struct Engine {
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<EngineEvent>,
    video: Option<Arc<VideoSendControl>>,
    audio: Option<Arc<AudioSendControl>>,
    far_end_dropped: Arc<AtomicU64>,
}

impl Engine {
    /// Starts joining the room. Must be called within a tokio runtime.
    pub fn start(mut config: EngineConfig) -> std::io::Result<Engine> {
        let identity = crate::peer::identity::Identity::generate().map_err(std::io::Error::other)?;
        config.signaling.fingerprint = Some(identity.fingerprint().to_owned());
        let (events_tx, events) = mpsc::channel(1024);
        let (commands, commands_rx) = mpsc::channel(64);
        let name = config.signaling.name.clone();
        let video = match config.video {
            Some(source) => {
                let (tx, _) = broadcast::channel(8);
                let sender = VideoSender::start(source, config.video_send, tx.clone())?;
                if config.network.congestion_control {
                    // Start where congestion control starts, not at the ceiling.
                    sender
                        .control
                        .set_target_bitrate(video_share(f64::from(config.network.initial_bitrate_bps)));
                }
                Some((tx, sender))
            }
            None => None,
        };
        let (far_end, far_end_rx, far_end_dropped) = far_end_channel();
        let audio = match config.audio {
            Some(source) => {
                let (tx, _) = broadcast::channel::<Bytes>(32);
                let sender = AudioSender::start(source, config.audio_processing, far_end_rx, tx.clone())?;
                Some((tx, sender))
            }
            None => None,
        };
        let far_end = audio.is_some().then_some(far_end);
        let playout = AudioPlayout::start(config.sinks.speaker(), far_end)?;
        let video_control = video.as_ref().map(|(_, s)| s.control.clone());
        let audio_control = audio.as_ref().map(|(_, s)| s.control.clone());
        let (sig_tx, sig_rx) = mpsc::channel(256);
        let (my_id_tx, my_id) = tokio::sync::watch::channel(PeerId::new());
        let (rekeys, rekeys_rx) = mpsc::unbounded_channel();
        let turn_streams = TurnStreams::new(config.network.turn_trust.unwrap_or(config.signaling.trust));
        let (signaling, _) = SignalingClient::spawn(config.signaling, sig_tx);
        let ctx = Arc::new(PeerContext {
            my_name: name,
            signaling: Arc::new(signaling),
            network: config.network,
            video: video.as_ref().map(|(tx, s)| (tx.clone(), s.control.clone())),
            audio: audio.as_ref().map(|(tx, _)| tx.clone()),
            playout: playout.input.clone(),
            sinks: config.sinks,
            events: events_tx.clone(),
            my_id,
            rekeys,
            identity,
            video_enabled: std::sync::atomic::AtomicBool::new(true),
            mic_enabled: std::sync::atomic::AtomicBool::new(true),
            relays: turn_streams.transports(),
        });
        let actor = Actor {
            ctx,
            extra_ice_servers: config.extra_ice_servers,
            turn_streams,
            my_id: None,
            my_id_tx,
            generation: 0,
            pending: Vec::new(),
            ice_servers: Vec::new(),
            peers: HashMap::new(),
            announced: HashMap::new(),
            claims: Vec::new(),
            departing: HashMap::new(),
            events: events_tx,
            _media: (video.map(|(_, s)| s), audio.map(|(_, s)| s), playout),
        };
        tokio::spawn(actor.run(sig_rx, commands_rx, rekeys_rx));
        Ok(Engine { commands, events, video: video_control, audio: audio_control, far_end_dropped })
    }

    /// The next event; `None` once the engine has stopped.
    pub async fn next_event(&mut self) -> Option<EngineEvent> {
        self.events.recv().await
    }

    /// An event if one is waiting (for UI loops that must not block).
    pub fn try_next_event(&mut self) -> Option<EngineEvent> {
        self.events.try_recv().ok()
    }

    /// Sends a chat line to everyone in the call.
    pub async fn send_chat(&self, text: &str) {
        let _ = self.commands.send(Command::Chat(text.to_owned())).await;
    }

    /// Current statistics of every peer.
    pub async fn stats(&self) -> Vec<PeerStats> {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Stats(tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Starts a new offer/answer round with every peer (what adding a track does; tests use it for glare).
    pub async fn renegotiate(&self) {
        let _ = self.commands.send(Command::Renegotiate).await;
    }

    /// Camera on or off: removes (or adds back) our video track on every connection, which renegotiates,
    /// and stops encoding while off.
    pub async fn set_video_enabled(&self, on: bool) {
        if let Some(v) = &self.video {
            v.set_paused(!on);
        }
        let _ = self.commands.send(Command::SetVideo(on)).await;
    }

    /// Microphone off (silence is sent) or on; peers are told either way (`{"type":"media"}`).
    pub fn set_muted(&self, muted: bool) {
        if let Some(a) = &self.audio {
            a.set_muted(muted);
        }
        if self.commands.try_send(Command::SetMuted(muted)).is_err() {
            warn!("engine busy: peers not told about the microphone");
        }
    }

    /// Switches echo cancellation, noise suppression and gain control of the microphone; takes effect on
    /// the next 20 ms frame. (Switching echo cancellation on makes it learn the room afresh: a second or
    /// two.)
    pub fn set_audio_processing(&self, config: ProcessingConfig) {
        if let Some(a) = &self.audio {
            a.set_processing(config);
        }
    }

    /// The microphone clean-up's configuration and figures (all off/zero without an audio source).
    pub fn audio_processing(&self) -> AudioProcessingReport {
        let Some(a) = &self.audio else {
            return AudioProcessingReport::default();
        };
        let config = a.processing();
        let erle = a.erle_centi_db.load(Relaxed);
        AudioProcessingReport {
            echo_cancellation: config.echo_cancellation,
            noise_suppression: config.noise_suppression,
            gain_control: config.gain_control,
            far_end_frames: a.far_end_frames.load(Relaxed),
            far_end_dropped: self.far_end_dropped.load(Relaxed),
            erle_db: (config.echo_cancellation && erle > 0).then_some(erle as f64 / 100.0),
            echo_path_ms: a.echo_path_ms.load(Relaxed).checked_sub(1),
        }
    }

    /// Frames the video encoders produced so far (a frame encoded in two codecs counts twice).
    pub fn video_frames_encoded(&self) -> u64 {
        self.video.as_ref().map_or(0, |v| v.frames_encoded.load(Relaxed))
    }

    /// How many video encoders run: one per codec some peer takes, however many peers take it.
    pub fn video_encoders(&self) -> u32 {
        self.video.as_ref().map_or(0, |v| v.encoders.load(Relaxed))
    }

    /// Leaves the room: closes every peer connection (releasing TURN allocations), stops the sources.
    pub async fn leave(self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Leave(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

struct Actor {
    ctx: Arc<PeerContext>,
    extra_ice_servers: Vec<IceServer>,
    /// Local relays for TURN over TCP and TLS, which webrtc-rs cannot use itself.
    turn_streams: TurnStreams,
    my_id: Option<PeerId>,
    my_id_tx: tokio::sync::watch::Sender<PeerId>,
    /// Incremented at every (re)join; sessions from an earlier generation may be re-keyed to new ids.
    generation: u64,
    /// Participants to connect to a little later: after a rejoin, they may turn out (by their id
    /// announcement over an existing data channel) to be someone we are still connected to.
    pending: Vec<(PeerInfo, bool, tokio::time::Instant)>,
    ice_servers: Vec<IceServer>,
    peers: HashMap<PeerId, PeerHandle>,
    /// Who the server says is in the room now (since our last join), with their certificates.
    announced: HashMap<PeerId, PeerInfo>,
    /// Id claims waiting for the server to announce their id, each until its deadline.
    claims: Vec<(IdClaim, tokio::time::Instant)>,
    /// Participants the server says left while our connection to them is up, each until its deadline
    /// ([`DEPARTURE_GRACE`]).
    departing: HashMap<PeerId, tokio::time::Instant>,
    events: mpsc::Sender<EngineEvent>,
    /// Kept alive for the call; dropping them stops the media threads.
    _media: (Option<VideoSender>, Option<AudioSender>, AudioPlayout),
}

impl Actor {
    async fn run(
        mut self,
        mut signaling: mpsc::Receiver<SignalingEvent>,
        mut commands: mpsc::Receiver<Command>,
        mut rekeys: mpsc::UnboundedReceiver<IdClaim>,
    ) {
        let mut bitrate_tick = tokio::time::interval(BITRATE_INTERVAL);
        let mut pending_tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                event = signaling.recv() => match event {
                    Some(e) => if !self.on_signaling(e).await { break },
                    None => break,
                },
                command = commands.recv() => match command {
                    Some(Command::Leave(done)) => {
                        self.close_all().await;
                        self.ctx.signaling.leave().await;
                        let _ = done.send(());
                        return;
                    }
                    Some(c) => self.on_command(c).await,
                    None => break,
                },
                _ = bitrate_tick.tick() => self.follow_congestion_control().await,
                Some(claim) = rekeys.recv() => self.on_claim(claim, tokio::time::Instant::now()).await,
                _ = pending_tick.tick(), if !self.pending.is_empty() || !self.claims.is_empty() || !self.departing.is_empty() => {
                    self.start_due_peers().await;
                    let now = tokio::time::Instant::now();
                    self.claims.retain(|(_, due)| *due > now);
                    self.end_departed(now).await;
                }
            }
        }
        self.close_all().await;
    }

    async fn emit(&self, event: EngineEvent) {
        let _ = self.events.send(event).await;
    }

    /// False when the call cannot go on.
    async fn on_signaling(&mut self, event: SignalingEvent) -> bool {
        match event {
            SignalingEvent::Joined { id, room, peers, ice_servers, max_peers, rejoined } => {
                info!(%room, %id, others = peers.len(), rejoined, "in the room");
                self.my_id = Some(id.clone());
                self.my_id_tx.send_replace(id.clone());
                self.generation += 1;
                self.pending.clear();
                self.announced = peers.iter().map(|p| (p.id.clone(), p.clone())).collect();
                let mut servers = ice_servers;
                servers.extend(self.extra_ice_servers.iter().cloned());
                self.ice_servers = self.turn_streams.rewrite(&servers);
                self.emit(EngineEvent::Joined { id, room, max_peers, rejoined }).await;
                if rejoined {
                    // Tell everyone we are still connected to who we are now.
                    for handle in self.peers.values() {
                        let _ = handle.inputs.send(PeerInput::AnnounceId);
                    }
                }
                // The newcomer offers to everyone already there, except those we are still connected to
                // (they announced their new id over our connection before we got back).
                for peer in peers {
                    match self.peers.get_mut(&peer.id) {
                        Some(handle) => handle.generation = self.generation,
                        None => self.add_peer_soon(peer, true).await,
                    }
                }
                self.retry_claims().await;
            }
            SignalingEvent::PeerJoined(peer) => {
                self.announced.insert(peer.id.clone(), peer.clone());
                self.add_peer_soon(peer, false).await;
                self.retry_claims().await;
            }
            SignalingEvent::PeerLeft(id) => {
                self.announced.remove(&id);
                self.pending.retain(|(p, _, _)| p.id != id);
                match self.peers.get(&id) {
                    Some(handle) if handle.connected.load(Relaxed) => {
                        info!(peer = %handle.info.name, "left the server, still connected: waiting for a rejoin");
                        self.departing.insert(id, tokio::time::Instant::now() + DEPARTURE_GRACE);
                    }
                    _ => self.end_session(&id).await,
                }
            }
            SignalingEvent::Signal { from, data } => {
                // A participant we meant to connect to a moment later is already talking to us.
                if let Some(pos) = self.pending.iter().position(|(p, _, _)| p.id == from) {
                    let (peer, _, _) = self.pending.swap_remove(pos);
                    self.add_peer(peer, false).await;
                }
                self.deliver_signal(from, data);
            }

            SignalingEvent::ServerError { code, message } => {
                warn!(%code, %message, "the server refused a message")
            }
            SignalingEvent::Reconnecting { reason, retry_in, .. } => {
                self.emit(EngineEvent::SignalingLost { reason, retry_in }).await;
            }
            SignalingEvent::Failed(failure) => {
                self.emit(EngineEvent::Failed(failure.to_string())).await;
                return false;
            }
        }
        true
    }

    /// Closes the connection to `id`, and the owner is told they left.
    async fn end_session(&mut self, id: &PeerId) {
        self.departing.remove(id);
        if let Some(handle) = self.peers.remove(id) {
            let _ = handle.inputs.send(PeerInput::Close);
            info!(peer = %handle.info.name, "left");
            self.emit(EngineEvent::PeerLeft(handle.info)).await;
        }
    }

    /// Ends the connections of departed participants that went down or did not come back in time.
    async fn end_departed(&mut self, now: tokio::time::Instant) {
        let over: Vec<PeerId> = self
            .departing
            .iter()
            .filter(|(id, due)| {
                **due <= now || !self.peers.get(*id).is_some_and(|h| h.connected.load(Relaxed))
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in over {
            self.end_session(&id).await;
        }
    }

    /// Connects to `peer` now, or — while sessions from before a rejoin have not all announced their new
    /// ids — in a moment, so as not to build a second connection to someone we are still talking to.
    async fn add_peer_soon(&mut self, peer: PeerInfo, initiator: bool) {
        let stale = self.peers.values().any(|h| h.generation < self.generation);
        if stale {
            let due = tokio::time::Instant::now() + REKEY_GRACE;
            self.pending.push((peer, initiator, due));
        } else {
            self.add_peer(peer, initiator).await;
        }
    }

    async fn start_due_peers(&mut self) {
        let now = tokio::time::Instant::now();
        let (due, later): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.pending).into_iter().partition(|(_, _, t)| *t <= now);
        self.pending = later;
        for (peer, initiator, _) in due {
            if !self.peers.contains_key(&peer.id) {
                self.add_peer(peer, initiator).await;
            }
        }
    }

    /// A peer we are connected to says its signaling id is now another (both of us rejoined after a
    /// server restart); [`id_claims::judge`] decides whether to believe it.
    async fn on_claim(&mut self, claim: IdClaim, now: tokio::time::Instant) {
        let known = self.peers.contains_key(&claim.old);
        match id_claims::judge(&claim, known, self.announced.get(&claim.new)) {
            Verdict::Accept => self.rekey(claim).await,
            Verdict::Wait => {
                self.claims.retain(|(c, _)| c.old != claim.old);
                self.claims.push((claim, now + CLAIM_WAIT));
            }
            Verdict::Refuse(why) => warn!(old = %claim.old, new = %claim.new, why, "id claim refused"),
        }
    }

    /// Claims that waited for the server's announcement of their id, judged again.
    async fn retry_claims(&mut self) {
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.claims)
            .into_iter()
            .partition(|(c, _)| self.announced.contains_key(&c.new));
        self.claims = waiting;
        for (claim, due) in ready {
            self.on_claim(claim, due - CLAIM_WAIT).await;
        }
    }

    /// Keeps the connection of a believed claim, filed under the new id; the owner is told.
    async fn rekey(&mut self, claim: IdClaim) {
        let IdClaim { old, new, .. } = claim;
        let Some(mut handle) = self.peers.remove(&old) else { return };
        self.departing.remove(&old);
        if let Some(duplicate) = self.peers.remove(&new) {
            // A session made for the "newcomer" before we knew it was an old friend (the same certificate).
            let _ = duplicate.inputs.send(PeerInput::Close);
        }
        self.pending.retain(|(p, _, _)| p.id != new);
        if let Some(info) = self.announced.get(&new) {
            handle.info = info.clone();
        }
        handle.generation = self.generation;
        let _ = handle.inputs.send(PeerInput::Renamed(new.clone()));
        self.peers.insert(new.clone(), handle);
        self.emit(EngineEvent::PeerRenamed { old, new }).await;
    }

    fn deliver_signal(&self, from: PeerId, data: kaiwa_protocol::SignalData) {
        match self.peers.get(&from) {
            Some(handle) => {
                let _ = handle.inputs.send(PeerInput::Remote(data));
            }
            None => debug!(%from, "signal from an unknown participant"),
        }
    }

    async fn add_peer(&mut self, peer: PeerInfo, initiator: bool) {
        let Some(my_id) = self.my_id.clone() else { return };
        if self.peers.contains_key(&peer.id) {
            return;
        }
        match PeerSession::start(self.ctx.clone(), my_id, peer.clone(), self.ice_servers.clone(), initiator)
            .await
        {
            Ok(mut handle) => {
                handle.generation = self.generation;
                self.peers.insert(peer.id.clone(), handle);
                self.emit(EngineEvent::PeerJoined(peer)).await;
            }
            Err(e) => {
                warn!(error = %e, peer = %peer.name, "cannot create a peer connection");
                self.emit(EngineEvent::Failed(format!("cannot set up a connection to {}: {e}", peer.name)))
                    .await;
            }
        }
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::Chat(text) => {
                let msg = ChatMessage::now(&self.ctx.my_name, &text);
                for handle in self.peers.values() {
                    let _ = handle.inputs.send(PeerInput::SendChat(msg.clone()));
                }
            }
            Command::Stats(reply) => {
                let _ = reply.send(self.collect_stats().await);
            }
            Command::Renegotiate => {
                for handle in self.peers.values() {
                    let _ = handle.inputs.send(PeerInput::Renegotiate);
                }
            }
            Command::SetVideo(on) => {
                self.ctx.video_enabled.store(on, std::sync::atomic::Ordering::Relaxed);
                for handle in self.peers.values() {
                    let _ = handle.inputs.send(PeerInput::SetVideo(on));
                    let _ = handle.inputs.send(PeerInput::AnnounceMedia);
                }
            }
            Command::SetMuted(muted) => {
                self.ctx.mic_enabled.store(!muted, std::sync::atomic::Ordering::Relaxed);
                for handle in self.peers.values() {
                    let _ = handle.inputs.send(PeerInput::AnnounceMedia);
                }
            }
            Command::Leave(_) => {}
        }
    }

    async fn collect_stats(&self) -> Vec<PeerStats> {
        let mut pending = Vec::new();
        for handle in self.peers.values() {
            let (tx, rx) = oneshot::channel();
            if handle.inputs.send(PeerInput::Stats(tx)).is_ok() {
                pending.push(rx);
            }
        }
        let mut all = Vec::new();
        for rx in pending {
            if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_secs(2), rx).await {
                all.push(s);
            }
        }
        all.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        all
    }

    /// One encoder serves every peer, so it follows the most constrained path's estimate.
    async fn follow_congestion_control(&self) {
        let Some((_, control)) = &self.ctx.video else { return };
        if self.peers.is_empty() || !self.ctx.network.congestion_control {
            return;
        }
        let stats = self.collect_stats().await;
        let target =
            stats.iter().map(|s| s.out.target_bitrate_bps).filter(|b| *b > 0.0).fold(f64::INFINITY, f64::min);
        if target.is_finite() {
            control.set_target_bitrate(video_share(target));
        }
    }

    async fn close_all(&mut self) {
        for (_, handle) in self.peers.drain() {
            let _ = handle.inputs.send(PeerInput::Close);
        }
        // Give the sessions a moment to close their connections cleanly (DTLS close_notify, TURN refresh 0).
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How often the encoder is told the congestion controller's estimate.
const BITRATE_INTERVAL: Duration = Duration::from_millis(250);

/// The part of a connection's estimate the video encoder may use: room is left for audio (Opus at 32 kbit/s
/// is ~55 kbit/s with RTP, SRTP, UDP and IP headers at 50 packets a second) and for video's own headers.
fn video_share(estimate_bps: f64) -> u32 {
    (estimate_bps * 0.9 - 60_000.0).max(30_000.0) as u32
}

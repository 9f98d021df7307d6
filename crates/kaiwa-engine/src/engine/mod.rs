//! The engine: an actor owning the signaling client, the media threads and one session per remote
//! participant. Its owner talks to it through an [`Engine`] handle: commands in, [`EngineEvent`]s out.

mod actor;
use actor::video_share;
mod roster;
mod sfu_room;
mod waits;
use waits::Waits;

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
use crate::events::{EngineEvent, Failure, ShareEnded};
use crate::media::audio_playout::AudioPlayout;
use crate::media::audio_send::{AudioSendControl, AudioSender};
use crate::media::far_end::far_end_channel;
use crate::media::video_send::{VideoFeed, VideoSendConfig, VideoSendControl, VideoSender};
use crate::peer::factory::NetworkConfig;
use crate::peer::id_claims::{self, Verdict};
use crate::peer::{IdClaim, PeerContext, PeerHandle, PeerInput, PeerSession};
use crate::sfu::{SfuLink, SfuNote};
use crate::signaling::{SignalingClient, SignalingConfig, SignalingEvent, SignalingFailure};
use crate::sinks::MediaSinks;
use crate::stats::PeerStats;

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
    /// Share this screen (a new sender; any share before ends) or stop sharing.
    ShareScreen(Option<Box<dyn VideoSource>>),
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
        let (sfu_notes, sfu_notes_rx) = mpsc::unbounded_channel();
        let turn_streams = TurnStreams::new(config.network.turn_trust.unwrap_or(config.signaling.trust));
        let (signaling, _) = SignalingClient::spawn(config.signaling, sig_tx);
        let ctx = Arc::new(PeerContext {
            my_name: name,
            signaling: Arc::new(signaling),
            network: config.network,
            video: video
                .as_ref()
                .map(|(frames, s)| VideoFeed { frames: frames.clone(), control: s.control.clone() }),
            screen: std::sync::Mutex::new(None),
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
            ice_servers: Vec::new(),
            peers: HashMap::new(),
            announced: HashMap::new(),
            waits: Waits::default(),
            events: events_tx,
            screen: None,
            sfu: None,
            sfu_notes,
            _media: (video.map(|(_, s)| s), audio.map(|(_, s)| s), playout),
        };
        tokio::spawn(actor.run(sig_rx, commands_rx, rekeys_rx, sfu_notes_rx));
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

    /// Shares `source` (a screen, see `kaiwa_devices::ScreenSource`) as a second video track beside the
    /// camera, on every connection and on those made later; `None` stops sharing. Peers are told which
    /// track it is before the offer that carries it (`{"type":"media","screen":…}`), and the call goes on
    /// throughout. Sharing anew while sharing replaces the source.
    pub async fn share_screen(&self, source: Option<Box<dyn VideoSource>>) {
        let _ = self.commands.send(Command::ShareScreen(source)).await;
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

/// The actor's clock (tokio's, so tests may pause it), as the [`Waits`] take it.
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
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
    ice_servers: Vec<IceServer>,
    peers: HashMap<PeerId, PeerHandle>,
    /// Who the server says is in the room now (since our last join), with their certificates.
    announced: HashMap<PeerId, PeerInfo>,
    /// Connections put off after a rejoin (they may turn out, by their id announcement over an existing
    /// data channel, to be someone we are still connected to), id claims waiting for the server's
    /// announcement, and participants the server says left while our connection to them is up.
    waits: Waits,
    events: mpsc::Sender<EngineEvent>,
    /// The screen's sender while we share one (its feed is in `ctx.screen`).
    screen: Option<VideoSender>,
    /// The connections to the SFU, while the room goes through it (`sfu_room.rs`).
    sfu: Option<SfuLink>,
    sfu_notes: mpsc::UnboundedSender<SfuNote>,
    /// Kept alive for the call; dropping them stops the media threads.
    _media: (Option<VideoSender>, Option<AudioSender>, AudioPlayout),
}

//! One call: the engine runs on the tokio runtime in a task that owns it; the UI talks to that task
//! through a bounded command channel and reads its events with `try_recv` (the UI thread never waits).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use eframe::egui;
use kaiwa_devices::SpeakerSink;
use kaiwa_engine::peer::factory::NetworkConfig;
use kaiwa_engine::signaling::{ServerUrl, SignalingConfig, Trust};
use kaiwa_engine::sinks::{AudioSink, MediaSinks, VideoSink};
use kaiwa_engine::stats::PeerStats;
use kaiwa_engine::{Engine, EngineConfig, EngineEvent, ProcessingConfig};
use kaiwa_protocol::{IceServer, PeerId, PeerInfo};

use super::media_sources::{LocalMedia, MeteredAudio, TeeVideo, open_local};
use super::preview::Preview;
use super::settings::Settings;
use super::share::ShareChoice;
use super::video::FrameSlot;
use crate::app::i18n::t;

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Chat(String),
    Mute(bool),
    /// Camera on/off: the engine removes (or re-adds) the video track on every connection.
    Camera(bool),
    /// Echo cancellation, noise suppression and gain control on/off.
    AudioProcessing(bool),
    /// Share this screen beside the camera, or stop sharing.
    Share(Option<ShareChoice>),
    Leave,
}

pub enum Update {
    Engine(EngineEvent),
    Stats(Vec<PeerStats>),
    /// What stands in for a missing camera or microphone.
    Notices(Vec<String>),
    /// What we share now (its label; none: nothing), or why sharing could not start.
    Sharing(Result<Option<String>, String>),
    /// The engine has left; the session is over.
    Ended,
}

/// The frame slot of the screen the peer with sink id `id` shares.
pub fn screen_slot_id(id: &str) -> String {
    format!("{id}#screen")
}

/// Where remote media goes: a frame slot per peer for the UI, the mix to the chosen speaker.
pub struct GuiSinks {
    repaint: egui::Context,
    pub videos: Mutex<HashMap<PeerId, Arc<FrameSlot>>>,
    speaker: Option<String>,
    play_audio: bool,
}

impl GuiSinks {
    pub fn slot(&self, peer: &str) -> Option<Arc<FrameSlot>> {
        self.videos.lock().ok()?.get(peer).cloned()
    }
}

impl MediaSinks for GuiSinks {
    fn video(&self, peer: &PeerInfo) -> Option<VideoSink> {
        let slot = FrameSlot::new(self.repaint.clone());
        if let Ok(mut v) = self.videos.lock() {
            v.insert(peer.id.clone(), slot.clone());
        }
        Some(Box::new(move |decoded| slot.put_i420(&decoded.frame)))
    }

    /// A shared screen's pictures go to a slot of their own, [`screen_slot_id`].
    fn screen(&self, peer: &PeerInfo) -> Option<VideoSink> {
        let slot = FrameSlot::new(self.repaint.clone());
        if let Ok(mut v) = self.videos.lock() {
            v.insert(screen_slot_id(&peer.id), slot.clone());
        }
        Some(Box::new(move |decoded| slot.put_i420(&decoded.frame)))
    }

    fn speaker(&self) -> Option<AudioSink> {
        if !self.play_audio {
            return None;
        }
        let device = self.speaker.clone();
        // Opened on first use, on the audio thread; without a speaker the call goes on silently.
        let mut sink: Option<SpeakerSink> = None;
        let mut failed = false;
        Some(Box::new(move |frame| {
            if sink.is_none() && !failed {
                match SpeakerSink::open(device.as_deref()) {
                    Ok(s) => sink = Some(s),
                    Err(e) => {
                        tracing::warn!("no sound output: {e}");
                        failed = true;
                    }
                }
            }
            if let Some(s) = sink.as_mut()
                && s.play(frame).is_err()
            {
                sink = None;
                failed = true;
            }
        }))
    }
}

pub struct Target {
    pub server: String,
    pub trust: Trust,
    pub room: String,
    /// The app's own built-in server: LAN browsers join us, some behind firewalls that block UDP, so ICE
    /// over TCP is taken too; the STUN and TURN servers of the settings come from the server (it hands
    /// them to everyone) rather than being added here.
    pub hosted: bool,
}

/// The UI's handle on a running call.
pub struct Session {
    commands: tokio::sync::mpsc::Sender<Command>,
    updates: mpsc::Receiver<Update>,
    pub sinks: Arc<GuiSinks>,
    pub self_view: Arc<FrameSlot>,
    pub camera_on: Arc<AtomicBool>,
    pub mic_level: Arc<AtomicU32>,
    /// Echo cancellation & noise suppression as the user last set it.
    pub audio_processing: bool,
}

impl Session {
    pub fn start(
        rt: &tokio::runtime::Handle,
        ctx: &egui::Context,
        target: Target,
        settings: &Settings,
        preview: Option<Preview>,
    ) -> Session {
        let self_view = FrameSlot::new(ctx.clone());
        let camera_on = Arc::new(AtomicBool::new(true));
        let mic_level = Arc::new(AtomicU32::new(0));
        let sinks = Arc::new(GuiSinks {
            repaint: ctx.clone(),
            videos: Mutex::new(HashMap::new()),
            speaker: settings.speaker.clone(),
            play_audio: std::env::var_os("KAIWA_NO_SPEAKER").is_none(),
        });
        let (tee_slot, tee_on, tee_level) = (self_view.clone(), camera_on.clone(), mic_level.clone());
        let device_settings = settings.clone();
        let (cmd_tx, cmd_rx) = tokio::sync::mpsc::channel(64);
        let (up_tx, up_rx) = mpsc::sync_channel(256);
        let mut extra_ice_servers = Vec::new();
        if !target.hosted && !settings.stun.is_empty() {
            extra_ice_servers.push(IceServer {
                urls: settings.stun.clone(),
                username: None,
                credential: None,
            });
        }
        if !target.hosted && !settings.turn.is_empty() {
            extra_ice_servers.push(IceServer {
                urls: settings.turn.clone(),
                username: Some(settings.turn_user.clone()).filter(|s| !s.is_empty()),
                credential: Some(settings.turn_password.clone()).filter(|s| !s.is_empty()),
            });
        }
        let name = settings.name.clone();
        let audio_processing = settings.audio_processing;
        let media_bind = settings.media_bind.clone();
        let video_codecs = settings.video_codecs.clone();
        let engine_sinks: Arc<dyn MediaSinks> = sinks.clone();
        let waker = ctx.clone();
        rt.spawn(async move {
            let send = |u: Update| {
                // A full queue means the UI is far behind; stats and duplicates may be dropped.
                let _ = up_tx.try_send(u);
                waker.request_repaint();
            };
            let url = match ServerUrl::parse(&target.server) {
                Ok(u) => u,
                Err(e) => {
                    send(Update::Engine(EngineEvent::Failed(
                        t!("server-address-error", error = e.to_string()).into(),
                    )));
                    send(Update::Ended);
                    return;
                }
            };
            // Devices open off the UI thread; the preview lets go of them first.
            let opened = tokio::task::spawn_blocking(move || {
                drop(preview);
                open_local(&device_settings)
            })
            .await;
            let Ok(LocalMedia { video, audio, real_microphone, notices }) = opened else {
                send(Update::Engine(EngineEvent::Failed(t!("call-devices-failed").into())));
                send(Update::Ended);
                return;
            };
            send(Update::Notices(notices));
            let video = TeeVideo::new(video, tee_slot, tee_on);
            let audio = MeteredAudio { inner: audio, level: tee_level };
            let mut signaling = SignalingConfig::new(url, target.room, name);
            signaling.trust = target.trust;
            let config = EngineConfig {
                signaling,
                network: NetworkConfig {
                    tcp_addrs: if target.hosted { vec![media_bind.clone()] } else { Vec::new() },
                    udp_addrs: vec![media_bind],
                    video_codecs,
                    ..Default::default()
                },
                extra_ice_servers,
                video: Some(Box::new(video)),
                audio: Some(Box::new(audio)),
                sinks: engine_sinks,
                video_send: Default::default(),
                // The stand-in tone (no microphone) is sent as it is.
                audio_processing: ProcessingConfig::all(audio_processing && real_microphone),
            };
            let mut engine = match Engine::start(config) {
                Ok(e) => e,
                Err(e) => {
                    send(Update::Engine(EngineEvent::Failed(
                        t!("call-start-failed", error = e.to_string()).into(),
                    )));
                    send(Update::Ended);
                    return;
                }
            };
            run(&mut engine, cmd_rx, &send).await;
            engine.leave().await;
            send(Update::Ended);
        });
        Session { commands: cmd_tx, updates: up_rx, sinks, self_view, camera_on, mic_level, audio_processing }
    }

    pub fn send(&self, cmd: Command) {
        if self.commands.try_send(cmd).is_err() {
            tracing::warn!("call task busy; command dropped");
        }
    }

    pub fn try_update(&self) -> Option<Update> {
        self.updates.try_recv().ok()
    }
}

/// Starts sharing `choice` (the X display is opened off the async threads) or stops; what is shared
/// after, or why not.
async fn share(engine: &Engine, choice: Option<ShareChoice>) -> Result<Option<String>, String> {
    let Some(choice) = choice else {
        engine.share_screen(None).await;
        return Ok(None);
    };
    let target = choice.target;
    let opened = tokio::task::spawn_blocking(move || super::share::open_screen(target)).await;
    match opened {
        Ok(Ok(source)) => {
            engine.share_screen(Some(source)).await;
            Ok(Some(choice.label))
        }
        Ok(Err(why)) => Err(why),
        Err(_) => Err(t!("share-open-failed")),
    }
}

async fn run(
    engine: &mut Engine,
    mut commands: tokio::sync::mpsc::Receiver<Command>,
    send: &impl Fn(Update),
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            event = engine.next_event() => match event {
                Some(e) => send(Update::Engine(e)),
                None => return,
            },
            cmd = commands.recv() => match cmd {
                Some(Command::Chat(text)) => engine.send_chat(&text).await,
                Some(Command::Mute(m)) => engine.set_muted(m),
                Some(Command::Camera(on)) => engine.set_video_enabled(on).await,
                Some(Command::AudioProcessing(on)) => engine.set_audio_processing(ProcessingConfig::all(on)),
                Some(Command::Share(choice)) => send(Update::Sharing(share(engine, choice).await)),
                Some(Command::Leave) | None => return,
            },
            _ = tick.tick() => send(Update::Stats(engine.stats().await)),
        }
    }
}

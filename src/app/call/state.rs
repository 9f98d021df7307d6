//! What the call screen shows, as state: the engine's events and figures and the user's actions turn into
//! it here, and nothing here draws or talks to the engine. The view (`view.rs`) draws it and returns
//! [`Action`]s; [`CallState::act`] says which [`Command`] each means for the running call.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kaiwa_engine::stats::PeerStats;
use kaiwa_engine::{AudioLevel, AudioVolume, EngineEvent, PeerState, ShareEnded};
use kaiwa_protocol::PeerInfo;

use super::chat::ChatLine;
use super::layout::Pinned;
pub use super::overlay::Overlay;
use crate::app::i18n::t;
use crate::app::session::{Command, Update};
use crate::app::share::ShareChoice;

/// Peak level above which someone counts as speaking (the meters' 0..1 scale; a quiet voice peaks ~0.1).
const SPEAKING_LEVEL: f32 = 0.04;
/// How long the highlight stays after the last loud 20 ms, so it does not flicker between words.
const SPEAKING_HOLD: Duration = Duration::from_millis(400);

/// What the user did on the call screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    ToggleMute,
    ToggleCamera,
    ToggleChat,
    SendChat(String),
    /// How loud one participant plays here, 0.0..=2.0 (100 % = 1.0).
    SetVolume {
        id: String,
        volume: f32,
    },
    /// Echo cancellation, noise suppression and gain control on or off.
    SetAudioProcessing(bool),
    /// Pin this tile big (the spotlight), or unpin it if it is.
    TogglePin(Pin),
    /// Open the picker of screens to share (the view's own: it needs no call state).
    OpenSharePicker,
    /// Share this screen (instead of any shared now).
    Share(ShareChoice),
    StopSharing,
    /// The window to full screen and back.
    ToggleFullscreen,
    Leave,
}

/// A tile that can be pinned: a participant's camera or shared screen (by id), or our own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    Peer(String),
    Screen(String),
    Own,
}

/// Whether someone is speaking, with a short hold.
#[derive(Debug, Default)]
pub struct Speaking {
    last_loud: Option<Instant>,
    on: bool,
}

impl Speaking {
    pub fn update(&mut self, level: f32, now: Instant) -> bool {
        if level > SPEAKING_LEVEL {
            self.last_loud = Some(now);
        }
        self.on = self.last_loud.is_some_and(|t| now.duration_since(t) < SPEAKING_HOLD);
        self.on
    }

    pub fn is_on(&self) -> bool {
        self.on
    }
}

/// One remote participant.
#[derive(Debug)]
pub struct PeerView {
    pub info: PeerInfo,
    /// The id the engine's sinks know them by (their first; `info.id` follows renames).
    pub sink_id: String,
    pub state: PeerState,
    pub stats: Option<PeerStats>,
    /// Bytes received at the previous stats tick, for the bitrate; frames decoded, for the frame rate.
    previous: Option<(u64, u64)>,
    pub kbps: f64,
    pub fps: f64,
    /// As the peer announced (`{"type":"media"}`); on until told otherwise.
    pub mic_on: bool,
    pub camera_on: bool,
    /// Whether they share a screen (its tile is beside their camera's).
    pub sharing: bool,
    /// How loud they are now (from the engine's playout), once their audio has started.
    level: Option<AudioLevel>,
    /// How loud they play here, once their audio has started.
    volume: Option<AudioVolume>,
    pub speaking: Speaking,
}

impl PeerView {
    fn new(info: PeerInfo) -> PeerView {
        PeerView {
            sink_id: info.id.clone(),
            info,
            state: PeerState::Connecting,
            stats: None,
            previous: None,
            kbps: 0.0,
            fps: 0.0,
            mic_on: true,
            camera_on: true,
            sharing: false,
            level: None,
            volume: None,
            speaking: Speaking::default(),
        }
    }

    /// Whether the engine found no video format both sides have (audio and chat work regardless).
    pub fn no_common_video(&self) -> bool {
        self.stats.as_ref().is_some_and(|s| s.video_formats.unavailable())
    }

    /// The line across the tile, if any: the connection's state, or why there is no picture (`has_video`:
    /// whether a picture of theirs has been shown).
    pub fn overlay(&self, has_video: bool) -> Option<Overlay> {
        match self.state {
            PeerState::Connected if self.no_common_video() => Some(Overlay::NoCommonVideo),
            PeerState::Connecting => Some(Overlay::Connecting),
            PeerState::Reconnecting => Some(Overlay::Reconnecting),
            PeerState::Closed => Some(Overlay::Disconnected),
            PeerState::Connected if !has_video && self.camera_on => Some(Overlay::WaitingForVideo),
            PeerState::Connected => None,
        }
    }

    /// Whether the tile shows them speaking (as of the last [`CallState::update_speaking`]).
    pub fn is_speaking(&self) -> bool {
        self.speaking.is_on()
    }
}

#[derive(Debug)]
pub struct CallState {
    pub room: String,
    pub link: Option<String>,
    pub joined: bool,
    pub capacity: usize,
    pub peers: Vec<PeerView>,
    pub chat: Vec<ChatLine>,
    /// Chat lines that arrived while the panel was closed.
    pub unread: usize,
    pub chat_open: bool,
    pub muted: bool,
    pub camera_on: bool,
    /// "Reconnecting…" while the signaling server is out of reach.
    pub signaling_lost: Option<String>,
    pub failed: Option<String>,
    pub ended: bool,
    pub notices: Vec<String>,
    names: HashMap<String, String>,
    /// Volumes set during this run of the app, by name: someone who leaves and comes back (or turns up
    /// in the next call) plays as loud as they were set.
    pub volumes: HashMap<String, f32>,
    /// The tile in the spotlight, if the user pinned one.
    pub pinned: Option<Pin>,
    /// What we share now (its label), once the call confirmed it.
    pub sharing: Option<String>,
    /// Why sharing did not start or stopped, until the next try.
    pub share_error: Option<String>,
    pub self_speaking: Speaking,
}

impl CallState {
    pub fn new(room: String, link: Option<String>, volumes: HashMap<String, f32>) -> CallState {
        CallState {
            room,
            link,
            joined: false,
            capacity: 0,
            peers: Vec::new(),
            chat: Vec::new(),
            unread: 0,
            chat_open: true,
            muted: false,
            camera_on: true,
            signaling_lost: None,
            failed: None,
            ended: false,
            notices: Vec::new(),
            names: HashMap::new(),
            volumes,
            pinned: None,
            sharing: None,
            share_error: None,
            self_speaking: Speaking::default(),
        }
    }

    /// How loud `peer` plays here (1.0 = 100 %), as set for their name.
    pub fn volume_of(&self, peer: &PeerView) -> f32 {
        self.volumes.get(&peer.info.name).copied().unwrap_or(1.0)
    }

    /// The pinned tile as the layout takes it (none when the pinned participant has left, or stopped
    /// sharing the pinned screen).
    pub fn pinned_tile(&self) -> Option<Pinned> {
        match self.pinned.as_ref()? {
            Pin::Own => Some(Pinned::Own),
            Pin::Peer(id) => self.peers.iter().position(|p| p.info.id == *id).map(Pinned::Peer),
            Pin::Screen(id) => self.sharers().position(|p| p.info.id == *id).map(Pinned::Screen),
        }
    }

    /// The participants sharing a screen, in tile order (their screens' tiles follow the cameras').
    pub fn sharers(&self) -> impl Iterator<Item = &PeerView> {
        self.peers.iter().filter(|p| p.sharing)
    }

    /// Everyone here, us included.
    pub fn here(&self) -> usize {
        self.peers.len() + 1
    }

    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Engine(e) => self.on_event(e),
            Update::Stats(stats) => self.on_stats(stats),
            Update::Notices(n) => self.notices = n,
            Update::Sharing(result) => match result {
                Ok(label) => {
                    self.sharing = label;
                    self.share_error = None;
                }
                Err(why) => {
                    self.sharing = None;
                    self.share_error = Some(why);
                }
            },
            Update::Ended => self.ended = true,
        }
    }

    fn peer_mut(&mut self, id: &str) -> Option<&mut PeerView> {
        self.peers.iter_mut().find(|p| p.info.id == id)
    }

    pub fn on_event(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::Joined { max_peers, .. } => {
                self.joined = true;
                self.capacity = max_peers;
                self.signaling_lost = None;
            }
            EngineEvent::PeerJoined(info) => {
                self.names.insert(info.id.clone(), info.name.clone());
                if !self.peers.iter().any(|p| p.info.id == info.id) {
                    self.peers.push(PeerView::new(info));
                }
            }
            EngineEvent::PeerLeft(info) => self.peers.retain(|p| p.info.id != info.id),
            // The same person under a new id (after a server restart): the tile stays, its video keeps
            // arriving under the id the engine first gave its sinks.
            EngineEvent::PeerRenamed { old, new } => {
                if let Some(name) = self.names.remove(&old) {
                    self.names.insert(new.clone(), name);
                }
                if self.pinned == Some(Pin::Peer(old.clone())) {
                    self.pinned = Some(Pin::Peer(new.clone()));
                }
                if let Some(p) = self.peer_mut(&old) {
                    p.info.id = new;
                }
            }
            EngineEvent::PeerState { id, state } => {
                if let Some(p) = self.peer_mut(&id) {
                    p.state = state;
                }
            }
            EngineEvent::PeerMedia { id, mic, camera, screen } => {
                if let Some(p) = self.peer_mut(&id) {
                    p.mic_on = mic;
                    p.camera_on = camera;
                    p.sharing = screen;
                }
            }
            EngineEvent::PeerAudioLevel { id, level, volume } => {
                let Some(p) = self.peers.iter_mut().find(|p| p.info.id == id) else { return };
                volume.set(self.volumes.get(&p.info.name).copied().unwrap_or(1.0));
                p.level = Some(level);
                p.volume = Some(volume);
            }
            EngineEvent::Chat { from, message } => {
                let name = self.names.get(&from).cloned().unwrap_or(message.from);
                self.chat.push(ChatLine { from: name, text: message.text, mine: false, at_ms: message.ts });
                if !self.chat_open {
                    self.unread += 1;
                }
            }
            EngineEvent::SignalingLost { reason, retry_in } => {
                self.signaling_lost =
                    Some(t!("call-reconnecting", reason = reason, seconds = retry_in.as_secs()));
            }
            EngineEvent::ScreenShareEnded(why) => {
                self.sharing = None;
                self.share_error = Some(match why {
                    ShareEnded::SourceEnded(why) => t!("call-sharing-stopped", reason = why),
                });
            }
            EngineEvent::Failed(why) => {
                self.failed = Some(why.code.map_or(why.message, crate::app::i18n::server_error));
            }
        }
    }

    /// The once-a-second figures; bitrate and frame rate are the change since the last.
    pub fn on_stats(&mut self, stats: Vec<PeerStats>) {
        for s in stats {
            if let Some(p) = self.peer_mut(&s.id) {
                if let Some((bytes, frames)) = p.previous {
                    p.kbps = s.bytes_received.saturating_sub(bytes) as f64 * 8.0 / 1000.0;
                    p.fps = s.video_in.frames_decoded.saturating_sub(frames) as f64;
                }
                p.previous = Some((s.bytes_received, s.video_in.frames_decoded));
                p.stats = Some(s);
            }
        }
    }

    /// Who is speaking at `now`, from their levels (a muted one is not) and ours (`own_level`).
    pub fn update_speaking(&mut self, own_level: f32, now: Instant) {
        for p in &mut self.peers {
            let level = if p.mic_on { p.level.as_ref().map_or(0.0, AudioLevel::get) } else { 0.0 };
            p.speaking.update(level, now);
        }
        let own = if self.muted { 0.0 } else { own_level };
        self.self_speaking.update(own, now);
    }

    /// What the user's action changes here, and the command it means for the call, if any. Leaving and
    /// full screen are the app's to do (the screen, the window), so they are no command here.
    pub fn act(&mut self, action: Action) -> Option<Command> {
        match action {
            Action::ToggleMute => {
                self.muted = !self.muted;
                Some(Command::Mute(self.muted))
            }
            Action::ToggleCamera => {
                self.camera_on = !self.camera_on;
                Some(Command::Camera(self.camera_on))
            }
            Action::ToggleChat => {
                self.chat_open = !self.chat_open;
                if self.chat_open {
                    self.unread = 0;
                }
                None
            }
            Action::SendChat(text) => {
                let at_ms = kaiwa_engine::chat::ChatMessage::now("", "").ts;
                self.chat.push(ChatLine { from: String::new(), text: text.clone(), mine: true, at_ms });
                Some(Command::Chat(text))
            }
            Action::SetAudioProcessing(on) => Some(Command::AudioProcessing(on)),
            Action::SetVolume { id, volume } => {
                let volume = if volume.is_nan() { 0.0 } else { volume.clamp(0.0, AudioVolume::MAX) };
                if let Some(p) = self.peers.iter().find(|p| p.info.id == id) {
                    self.volumes.insert(p.info.name.clone(), volume);
                    if let Some(handle) = &p.volume {
                        handle.set(volume);
                    }
                }
                None
            }
            Action::TogglePin(pin) => {
                self.pinned = if self.pinned.as_ref() == Some(&pin) { None } else { Some(pin) };
                None
            }
            Action::Share(choice) => {
                self.share_error = None;
                Some(Command::Share(Some(choice)))
            }
            Action::StopSharing => Some(Command::Share(None)),
            Action::Leave | Action::ToggleFullscreen | Action::OpenSharePicker => None,
        }
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;

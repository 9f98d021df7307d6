//! The call: an adaptive grid of remote videos and the self-view, controls with keyboard shortcuts
//! (M mute, V camera, C chat, Ctrl+L leave), the chat panel, per-peer quality with a stats popover and
//! plain-language connection states.

use kaiwa_media::video::VideoCodec;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, RichText};
use kaiwa_engine::stats::PeerStats;
use kaiwa_engine::{AudioLevel, EngineEvent, PeerState};
use kaiwa_protocol::PeerInfo;

use super::chat::{ChatLine, ChatState};
use super::media_sources::read_level;
use super::session::{Command, Session, Update};
use super::video::{VideoTexture, paint_fitted};
use super::{KaiwaApp, theme};

pub struct PeerView {
    pub info: PeerInfo,
    /// The id the engine's sinks know them by (their first; `info.id` follows renames).
    sink_id: String,
    pub state: PeerState,
    texture: VideoTexture,
    pub stats: Option<PeerStats>,
    /// Bytes received at the previous stats tick, for the bitrate; frames decoded, for the frame rate.
    previous: Option<(u64, u64)>,
    pub kbps: f64,
    pub fps: f64,
    /// As the peer announced (`{"type":"media"}`); on until told otherwise.
    pub mic_on: bool,
    pub camera_on: bool,
    /// How loud they are now (from the engine's playout), once their audio has started.
    level: Option<AudioLevel>,
    speaking: Speaking,
}

/// Peak level above which someone counts as speaking (the meters' 0..1 scale; a quiet voice peaks ~0.1).
const SPEAKING_LEVEL: f32 = 0.04;
/// How long the highlight stays after the last loud 20 ms, so it does not flicker between words.
const SPEAKING_HOLD: Duration = Duration::from_millis(400);

/// Whether someone is speaking, with a short hold.
#[derive(Default)]
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
}

pub struct CallState {
    pub session: Session,
    pub room: String,
    pub link: Option<String>,
    pub joined: bool,
    pub capacity: usize,
    pub peers: Vec<PeerView>,
    pub chat: ChatState,
    pub chat_open: bool,
    pub muted: bool,
    pub camera_on: bool,
    /// "Reconnecting…" while the signaling server is out of reach.
    pub signaling_lost: Option<String>,
    pub failed: Option<String>,
    pub ended: bool,
    pub notices: Vec<String>,
    self_texture: VideoTexture,
    names: HashMap<String, String>,
    self_speaking: Speaking,
}

impl PeerView {
    /// Remote video frames drawn so far.
    pub fn frames_shown(&self) -> u64 {
        self.texture.shown()
    }

    pub fn has_video(&self) -> bool {
        self.texture.has_frame()
    }

    /// Whether the engine found no video format both sides have (audio and chat work regardless).
    pub fn no_common_video(&self) -> bool {
        self.stats.as_ref().is_some_and(|s| s.video_formats.unavailable())
    }

    /// The line across the tile, if any: the connection's state, or why there is no picture.
    pub fn overlay(&self) -> Option<&'static str> {
        match self.state {
            PeerState::Connected if self.no_common_video() => Some(NO_COMMON_VIDEO),
            PeerState::Connecting => Some("Connecting…"),
            PeerState::Reconnecting => Some("Reconnecting…"),
            PeerState::Closed => Some("Disconnected"),
            PeerState::Connected if !self.has_video() && self.camera_on => Some("Waiting for video…"),
            PeerState::Connected => None,
        }
    }

    /// Whether the tile shows them speaking (as of the last frame drawn).
    #[cfg(test)]
    pub fn is_speaking(&self) -> bool {
        self.speaking.on
    }
}

impl CallState {
    pub fn new(session: Session, room: String, link: Option<String>) -> CallState {
        CallState {
            session,
            room,
            link,
            joined: false,
            capacity: 0,
            peers: Vec::new(),
            chat: ChatState::default(),
            chat_open: true,
            muted: false,
            camera_on: true,
            signaling_lost: None,
            failed: None,
            ended: false,
            notices: Vec::new(),
            self_texture: VideoTexture::new("self-view"),
            names: HashMap::new(),
            self_speaking: Speaking::default(),
        }
    }

    pub fn poll(&mut self, _ctx: &egui::Context) {
        while let Some(update) = self.session.try_update() {
            match update {
                Update::Engine(e) => self.on_event(e),
                Update::Stats(stats) => self.on_stats(stats),
                Update::Notices(n) => self.notices = n,
                Update::Ended => self.ended = true,
            }
        }
    }

    fn on_event(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::Joined { max_peers, .. } => {
                self.joined = true;
                self.capacity = max_peers;
                self.signaling_lost = None;
            }
            EngineEvent::PeerJoined(info) => {
                self.names.insert(info.id.clone(), info.name.clone());
                if !self.peers.iter().any(|p| p.info.id == info.id) {
                    let texture = VideoTexture::new(format!("peer-{}", info.id));
                    self.peers.push(PeerView {
                        sink_id: info.id.clone(),
                        info,
                        state: PeerState::Connecting,
                        texture,
                        stats: None,
                        previous: None,
                        kbps: 0.0,
                        fps: 0.0,
                        mic_on: true,
                        camera_on: true,
                        level: None,
                        speaking: Speaking::default(),
                    });
                }
            }
            EngineEvent::PeerLeft(info) => self.peers.retain(|p| p.info.id != info.id),
            // The same person under a new id (after a server restart): the tile stays, its video keeps
            // arriving under the id the engine first gave its sinks.
            EngineEvent::PeerRenamed { old, new } => {
                if let Some(name) = self.names.remove(&old) {
                    self.names.insert(new.clone(), name);
                }
                if let Some(p) = self.peers.iter_mut().find(|p| p.info.id == old) {
                    p.info.id = new;
                }
            }
            EngineEvent::PeerState { id, state } => {
                if let Some(p) = self.peers.iter_mut().find(|p| p.info.id == id) {
                    p.state = state;
                }
            }
            EngineEvent::PeerMedia { id, mic, camera } => {
                if let Some(p) = self.peers.iter_mut().find(|p| p.info.id == id) {
                    p.mic_on = mic;
                    p.camera_on = camera;
                }
            }
            EngineEvent::PeerAudioLevel { id, level } => {
                if let Some(p) = self.peers.iter_mut().find(|p| p.info.id == id) {
                    p.level = Some(level);
                }
            }
            EngineEvent::Chat { from, message } => {
                let name = self.names.get(&from).cloned().unwrap_or(message.from);
                self.chat.lines.push(ChatLine { from: name, text: message.text, mine: false });
                if !self.chat_open {
                    self.chat.unread += 1;
                }
            }
            EngineEvent::SignalingLost { reason, retry_in } => {
                self.signaling_lost = Some(format!(
                    "Reconnecting to the server… ({reason}; next try in {}s)",
                    retry_in.as_secs()
                ));
            }
            EngineEvent::Failed(why) => self.failed = Some(why),
        }
    }

    fn on_stats(&mut self, stats: Vec<PeerStats>) {
        for s in stats {
            if let Some(p) = self.peers.iter_mut().find(|p| p.info.id == s.id) {
                if let Some((bytes, frames)) = p.previous {
                    p.kbps = s.bytes_received.saturating_sub(bytes) as f64 * 8.0 / 1000.0;
                    p.fps = s.video_in.frames_decoded.saturating_sub(frames) as f64;
                }
                p.previous = Some((s.bytes_received, s.video_in.frames_decoded));
                p.stats = Some(s);
            }
        }
    }

    fn toggle_mute(&mut self) {
        self.muted = !self.muted;
        self.session.send(Command::Mute(self.muted));
    }

    fn toggle_camera(&mut self) {
        self.camera_on = !self.camera_on;
        self.session.camera_on.store(self.camera_on, Ordering::Relaxed);
        self.session.send(Command::Camera(self.camera_on));
    }
}

/// On the tile of a peer with whom no video codec is shared.
pub const NO_COMMON_VIDEO: &str = "Video can't be shown: no common video format";

/// Good / fair / poor from round-trip time, loss and freezes.
fn quality(p: &PeerView) -> (Color32, &'static str) {
    let Some(s) = &p.stats else { return (theme::MUTED_TEXT, "measuring") };
    let lost = s.video_in.packets_lost.max(0) as f64;
    let loss = lost / (s.video_in.packets as f64 + lost).max(1.0);
    let rtt = s.rtt_ms.unwrap_or(0.0);
    if p.state != PeerState::Connected {
        (theme::WARN, "connecting")
    } else if rtt > 400.0 || loss > 0.08 {
        (theme::DANGER, "poor")
    } else if rtt > 150.0 || loss > 0.02 {
        (theme::WARN, "fair")
    } else {
        (theme::GOOD, "good")
    }
}

pub fn stats_text(p: &PeerView) -> String {
    let Some(s) = &p.stats else { return "No figures yet".into() };
    let lost = s.video_in.packets_lost.max(0) as f64;
    let loss = 100.0 * lost / (s.video_in.packets as f64 + lost).max(1.0);
    let path = match (s.local_candidate.as_deref(), s.relay_transport.as_deref()) {
        (Some("relay"), Some(transport)) => format!("relayed (TURN over {})", transport.to_uppercase()),
        (Some("relay"), None) => "relayed (TURN)".to_owned(),
        (Some(_), _) if s.pair_protocol.as_deref() == Some("tcp") => "direct (over TCP)".to_owned(),
        (Some(_), _) => "direct".to_owned(),
        (None, _) => "—".to_owned(),
    };
    format!(
        "Round trip  {}\nLoss  {loss:.1} %\nReceiving  {:.0} kbit/s\nVideo  {}×{} at {:.0} fps\nCodec  {}\nFreezes  {}\nConnection  {path}",
        s.rtt_ms.map(|r| format!("{r:.0} ms")).unwrap_or("—".into()),
        p.kbps,
        s.video_in.width,
        s.video_in.height,
        p.fps,
        codecs_text(s.video_in.codec.as_deref(), s.out.video_codec.as_deref()),
        s.video_in.freezes,
    ) + &their_formats(s)
        + &s.verification_code
            .as_ref()
            .map(|code| {
                format!("\nVerification code  {code}\n(the same on their screen: no one is in between)")
            })
            .unwrap_or_default()
}

/// With no common video format: the formats the peer offered, so someone can tell what it lacks.
fn their_formats(s: &PeerStats) -> String {
    if !s.video_formats.unavailable() {
        return String::new();
    }
    match s.video_formats.peer_codecs.as_slice() {
        [] => "\nTheir video formats  unknown (none in common)".to_owned(),
        theirs => format!("\nTheir video formats  {} (none in common)", theirs.join(", ")),
    }
}

/// "VP8", or "H.264 in, VP8 out" when the two directions differ.
fn codecs_text(received: Option<&str>, sent: Option<&str>) -> String {
    let name = |m: Option<&str>| m.and_then(VideoCodec::from_mime_type).map(|c| c.to_string());
    match (name(received), name(sent)) {
        (Some(r), Some(s)) if r == s => r,
        (Some(r), Some(s)) => format!("{r} in, {s} out"),
        (Some(r), None) => format!("{r} in"),
        (None, Some(s)) => format!("{s} out"),
        (None, None) => "—".to_owned(),
    }
}

/// Columns and rows for `n` tiles in a `w`×`h` area, choosing the layout that makes 16:9 tiles largest.
pub fn grid(n: usize, w: f32, h: f32) -> (usize, usize) {
    let mut best = (1, n.max(1), 0.0f32);
    for cols in 1..=n.max(1) {
        let rows = n.max(1).div_ceil(cols);
        let tw = w / cols as f32;
        let th = h / rows as f32;
        let size = tw.min(th * 16.0 / 9.0);
        if size >= best.2 {
            best = (cols, rows, size);
        }
    }
    (best.0, best.1)
}

impl KaiwaApp {
    pub(super) fn call_screen(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let Some(call) = &mut self.call else {
            self.screen = super::Screen::Start;
            return;
        };
        // Keyboard shortcuts (letters only while no text field has focus).
        let typing = ctx.egui_wants_keyboard_input();
        let (m, v, c, leave_key) = ctx.input(|i| {
            (
                !typing && i.key_pressed(egui::Key::M),
                !typing && i.key_pressed(egui::Key::V),
                !typing && i.key_pressed(egui::Key::C),
                i.modifiers.command && i.key_pressed(egui::Key::L),
            )
        });
        if m {
            call.toggle_mute();
        }
        if v {
            call.toggle_camera();
        }
        if c {
            call.chat_open = !call.chat_open;
        }
        let mut leave = leave_key;

        egui::Panel::top("call-top")
            .frame(egui::Frame::new().fill(theme::PANEL).inner_margin(egui::vec2(16.0, 10.0)))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(RichText::new("Kaiwa").strong().size(18.0));
                    ui.label(RichText::new(format!("Room {}", call.room)).color(theme::MUTED_TEXT));
                    let here = call.peers.len() + 1;
                    if call.joined {
                        ui.label(
                            RichText::new(format!("{here} of {} here", call.capacity.max(here)))
                                .color(theme::MUTED_TEXT),
                        );
                    } else if call.failed.is_none() {
                        ui.spinner();
                        ui.label("Joining…");
                    }
                    if let Some(link) = &call.link {
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if ui.button("Copy link").on_hover_text(link.as_str()).clicked() {
                                ui.ctx().copy_text(link.clone());
                            }
                            ui.label(RichText::new(link.as_str()).monospace().small().color(theme::ACCENT));
                        });
                    }
                });
                if let Some(lost) = &call.signaling_lost {
                    ui.label(RichText::new(lost).color(theme::WARN));
                }
                if let Some(failed) = &call.failed {
                    ui.label(RichText::new(failed).color(theme::DANGER).strong());
                }
                for n in &call.notices {
                    ui.label(RichText::new(n).small().color(theme::WARN));
                }
            });

        egui::Panel::bottom("call-controls")
            .frame(egui::Frame::new().fill(theme::PANEL).inner_margin(egui::vec2(16.0, 12.0)))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    let level = if call.muted { 0.0 } else { read_level(&call.session.mic_level) };
                    let mute_label = if call.muted { "Unmute (M)" } else { "Mute (M)" };
                    let mute =
                        if call.muted { theme::danger(mute_label) } else { egui::Button::new(mute_label) };
                    if ui.add(mute).clicked() {
                        call.toggle_mute();
                    }
                    ui.add(
                        egui::ProgressBar::new((level * 1.5).min(1.0))
                            .desired_width(70.0)
                            .desired_height(8.0)
                            .corner_radius(4.0)
                            .fill(theme::GOOD),
                    );
                    let mut processing = call.session.audio_processing;
                    if super::prejoin::audio_processing_checkbox(ui, &mut processing) {
                        call.session.set_audio_processing(processing);
                        self.settings.audio_processing = processing;
                    }
                    let cam_label = if call.camera_on { "Camera off (V)" } else { "Camera on (V)" };
                    let cam =
                        if call.camera_on { egui::Button::new(cam_label) } else { theme::danger(cam_label) };
                    if ui.add(cam).clicked() {
                        call.toggle_camera();
                    }
                    let chat_label = match call.chat.unread {
                        0 => "Chat (C)".to_string(),
                        n => format!("Chat (C) · {n} new"),
                    };
                    if ui.selectable_label(call.chat_open, chat_label).clicked() {
                        call.chat_open = !call.chat_open;
                    }
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui.add(theme::danger("Leave (Ctrl+L)")).clicked() {
                            leave = true;
                        }
                    });
                });
            });

        if call.chat_open {
            egui::Panel::right("chat")
                .default_size(300.0)
                .frame(egui::Frame::new().fill(theme::PANEL).inner_margin(12.0))
                .show(ui, |ui| {
                    if let Some(text) = call.chat.show(ui) {
                        call.chat.lines.push(ChatLine {
                            from: String::new(),
                            text: text.clone(),
                            mine: true,
                        });
                        call.session.send(Command::Chat(text));
                    }
                });
        }

        egui::CentralPanel::default().frame(egui::Frame::new().fill(theme::BG).inner_margin(12.0)).show(
            ui,
            |ui| {
                let area = ui.available_rect_before_wrap();
                let now = Instant::now();
                // Speaking highlights follow audio levels, which no frame arrival announces.
                ui.ctx().request_repaint_after(Duration::from_millis(100));
                let n = call.peers.len() + 1;
                let (cols, rows) = grid(n, area.width(), area.height());
                let gap = 10.0;
                let tw = (area.width() - gap * (cols as f32 - 1.0)) / cols as f32;
                let th = (area.height() - gap * (rows as f32 - 1.0)) / rows as f32;
                let tile_rect = |i: usize| {
                    let (c, r) = (i % cols, i / cols);
                    // Centre an incomplete last row.
                    let in_row = if r == rows - 1 { n - r * cols } else { cols };
                    let offset = (cols - in_row) as f32 * (tw + gap) / 2.0;
                    egui::Rect::from_min_size(
                        area.min + egui::vec2(offset + c as f32 * (tw + gap), r as f32 * (th + gap)),
                        egui::vec2(tw, th),
                    )
                };
                for (i, peer) in call.peers.iter_mut().enumerate() {
                    let rect = tile_rect(i);
                    let slot = call.session.sinks.slot(&peer.sink_id);
                    let texture = slot.and_then(|s| peer.texture.update(&ctx, &s).cloned());
                    let painter = ui.painter_at(rect);
                    painter.rect_filled(rect, 12.0, theme::TILE);
                    match &texture {
                        Some(t) if peer.camera_on => paint_fitted(&painter, rect, t, 12.0),
                        _ => {
                            painter.text(
                                rect.center(),
                                egui::Align2::CENTER_CENTER,
                                initials(&peer.info.name),
                                egui::FontId::proportional(rect.height().min(rect.width()) * 0.25),
                                theme::MUTED_TEXT,
                            );
                        }
                    }
                    if let Some(text) = peer.overlay() {
                        badge(
                            &painter,
                            rect.center_bottom() - egui::vec2(0.0, 50.0),
                            text,
                            theme::WARN,
                            true,
                        );
                    }
                    let level =
                        if peer.mic_on { peer.level.as_ref().map_or(0.0, AudioLevel::get) } else { 0.0 };
                    let speaking = peer.speaking.update(level, now);
                    tile_status(&painter, rect, &peer.info.name, peer.mic_on, peer.camera_on, speaking);
                    let (color, word) = quality(peer);
                    let dot = egui::Rect::from_center_size(
                        rect.right_top() + egui::vec2(-22.0, 22.0),
                        egui::vec2(28.0, 28.0),
                    );
                    let response = ui.interact(
                        dot,
                        ui.scope_id().with(("quality", &peer.info.id)),
                        egui::Sense::click(),
                    );
                    painter.circle_filled(dot.center(), 13.0, Color32::from_black_alpha(150));
                    painter.circle_filled(dot.center(), 7.0, color);
                    let popup_id = ui.scope_id().with(("stats", &peer.info.id));
                    response.clone().on_hover_text(format!("Connection {word} — click for details"));
                    egui::Popup::from_response(&response)
                        .id(popup_id)
                        .open_memory(response.clicked().then_some(egui::SetOpenCommand::Toggle))
                        .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside)
                        .show(|ui| {
                            ui.label(RichText::new(format!("{} — {word}", peer.info.name)).strong());
                            ui.label(RichText::new(stats_text(peer)).monospace());
                        });
                }
                // Self-view last.
                let rect = tile_rect(n - 1);
                let painter = ui.painter_at(rect);
                painter.rect_filled(rect, 12.0, theme::TILE);
                let texture = call.self_texture.update(&ctx, &call.session.self_view).cloned();
                match (&texture, call.camera_on) {
                    (Some(t), true) => paint_fitted(&painter, rect, t, 12.0),
                    _ => {
                        painter.text(
                            rect.center(),
                            egui::Align2::CENTER_CENTER,
                            if call.camera_on { "Starting camera…" } else { "Camera off" },
                            egui::FontId::proportional(18.0),
                            theme::MUTED_TEXT,
                        );
                    }
                }
                let level = if call.muted { 0.0 } else { read_level(&call.session.mic_level) };
                let speaking = call.self_speaking.update(level, now);
                tile_status(&painter, rect, "You", !call.muted, call.camera_on, speaking);
                if call.peers.is_empty() && call.joined {
                    ui.put(
                        egui::Rect::from_center_size(
                            area.center_top() + egui::vec2(0.0, 24.0),
                            egui::vec2(400.0, 30.0),
                        ),
                        egui::Label::new(
                            RichText::new("Waiting for others to join…").color(theme::MUTED_TEXT),
                        ),
                    );
                }
            },
        );

        if leave {
            self.leave();
        }
    }
}

fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().next()).take(2).collect::<String>().to_uppercase()
}

/// The name, "muted" / "camera off" badges, and a highlighted border while speaking.
fn tile_status(
    painter: &egui::Painter,
    rect: egui::Rect,
    name: &str,
    mic_on: bool,
    camera_on: bool,
    speaking: bool,
) {
    if speaking {
        painter.rect_stroke(
            rect.shrink(1.5),
            12.0,
            egui::Stroke::new(3.0, theme::GOOD),
            egui::StrokeKind::Inside,
        );
    }
    let mut at = rect.left_bottom() + egui::vec2(10.0, -10.0);
    at.x = badge(painter, at, name, Color32::WHITE, false).right() + 6.0;
    if !mic_on {
        at.x = badge(painter, at, "muted", theme::DANGER, false).right() + 6.0;
    }
    if !camera_on {
        badge(painter, at, "camera off", theme::WARN, false);
    }
}

/// A label on a dark translucent pill; anchored at its left-bottom corner (or centred).
fn badge(painter: &egui::Painter, at: egui::Pos2, text: &str, color: Color32, centred: bool) -> egui::Rect {
    let galley = painter.layout_no_wrap(text.to_string(), egui::FontId::proportional(14.0), color);
    let size = galley.size() + egui::vec2(16.0, 8.0);
    let rect = if centred {
        egui::Rect::from_center_size(at, size)
    } else {
        egui::Rect::from_min_size(at - egui::vec2(0.0, size.y), size)
    };
    painter.rect_filled(rect, 8.0, Color32::from_black_alpha(160));
    painter.galley(rect.min + egui::vec2(8.0, 4.0), galley, color);
    rect
}

#[cfg(test)]
mod tests {
    use super::grid;

    #[test]
    fn grid_shapes() {
        assert_eq!(grid(1, 1600.0, 900.0), (1, 1));
        assert_eq!(grid(2, 1600.0, 900.0), (2, 1));
        assert_eq!(grid(4, 1600.0, 900.0), (2, 2));
        assert_eq!(grid(2, 600.0, 900.0), (1, 2));
    }
}

//! The call screen's drawing: the top bar, the controls (with keyboard shortcuts: M mute, V camera, C chat,
//! F full screen, Ctrl+L leave), the chat panel and the tiles (double-click one to pin it big). It reads the [`CallState`] and returns what the user did as
//! [`Action`]s; the only thing it changes is its own [`CallUi`] (textures, the line being typed).

use std::collections::HashMap;
use std::time::Duration;

use eframe::egui::{self, Color32, RichText};

use super::chat::chat_ui;
use super::layout::arrange;
use super::state::{Action, CallState, PeerView, Pin};
use super::words::{quality, stats_text};
use crate::app::media_sources::read_level;
use crate::app::session::Session;
use crate::app::theme;
use crate::app::video::{VideoTexture, paint_fitted};

const ROUNDING: f32 = 12.0;

/// What the view keeps between frames: one texture per stream and the chat line being typed.
pub struct CallUi {
    textures: HashMap<String, VideoTexture>,
    self_texture: VideoTexture,
    chat_input: String,
}

impl CallUi {
    pub fn new() -> CallUi {
        CallUi {
            textures: HashMap::new(),
            self_texture: VideoTexture::new("self-view"),
            chat_input: String::new(),
        }
    }

    /// Whether a picture of `peer` has been shown.
    #[cfg(test)]
    pub fn has_video(&self, peer: &PeerView) -> bool {
        self.textures.get(&peer.sink_id).is_some_and(VideoTexture::has_frame)
    }

    /// Pictures of `peer` shown so far (what `--frame-stats` calls "shown").
    pub fn frames_shown(&self, peer: &PeerView) -> u64 {
        self.textures.get(&peer.sink_id).map_or(0, VideoTexture::shown)
    }

    fn texture(&mut self, sink_id: &str) -> &mut VideoTexture {
        self.textures
            .entry(sink_id.to_owned())
            .or_insert_with(|| VideoTexture::new(format!("peer-{sink_id}")))
    }
}

/// Draws the call; returns what the user did.
pub fn call_ui(ui: &mut egui::Ui, state: &CallState, session: &Session, view: &mut CallUi) -> Vec<Action> {
    let mut actions = shortcuts(ui.ctx());
    top_bar_ui(ui, state);
    controls_ui(ui, state, session, &mut actions);
    if state.chat_open {
        egui::Panel::right("chat")
            .default_size(300.0)
            .frame(egui::Frame::new().fill(theme::PANEL).inner_margin(12.0))
            .show(ui, |ui| {
                if let Some(text) = chat_ui(ui, &state.chat, &mut view.chat_input) {
                    actions.push(Action::SendChat(text));
                }
            });
    }
    egui::CentralPanel::default()
        .frame(egui::Frame::new().fill(theme::BG).inner_margin(12.0))
        .show(ui, |ui| tiles_ui(ui, state, session, view, &mut actions));
    actions
}

/// Letters only while no text field has focus; Ctrl+L always.
fn shortcuts(ctx: &egui::Context) -> Vec<Action> {
    let typing = ctx.egui_wants_keyboard_input();
    ctx.input(|i| {
        let keys = [
            (egui::Key::M, Action::ToggleMute),
            (egui::Key::V, Action::ToggleCamera),
            (egui::Key::C, Action::ToggleChat),
            (egui::Key::F, Action::ToggleFullscreen),
        ];
        let mut actions: Vec<Action> =
            keys.into_iter().filter(|(key, _)| !typing && i.key_pressed(*key)).map(|(_, a)| a).collect();
        if i.modifiers.command && i.key_pressed(egui::Key::L) {
            actions.push(Action::Leave);
        }
        actions
    })
}

fn top_bar_ui(ui: &mut egui::Ui, state: &CallState) {
    egui::Panel::top("call-top")
        .frame(egui::Frame::new().fill(theme::PANEL).inner_margin(egui::vec2(16.0, 10.0)))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new("Kaiwa").strong().size(18.0));
                ui.label(RichText::new(format!("Room {}", state.room)).color(theme::MUTED_TEXT));
                let here = state.here();
                if state.joined {
                    ui.label(
                        RichText::new(format!("{here} of {} here", state.capacity.max(here)))
                            .color(theme::MUTED_TEXT),
                    );
                } else if state.failed.is_none() {
                    ui.spinner();
                    ui.label("Joining…");
                }
                if let Some(link) = &state.link {
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui.button("Copy link").on_hover_text(link.as_str()).clicked() {
                            ui.ctx().copy_text(link.clone());
                        }
                        ui.label(RichText::new(link.as_str()).monospace().small().color(theme::ACCENT));
                    });
                }
            });
            if let Some(lost) = &state.signaling_lost {
                ui.label(RichText::new(lost).color(theme::WARN));
            }
            if let Some(failed) = &state.failed {
                ui.label(RichText::new(failed).color(theme::DANGER).strong());
            }
            for n in &state.notices {
                ui.label(RichText::new(n).small().color(theme::WARN));
            }
        });
}

fn controls_ui(ui: &mut egui::Ui, state: &CallState, session: &Session, actions: &mut Vec<Action>) {
    egui::Panel::bottom("call-controls")
        .frame(egui::Frame::new().fill(theme::PANEL).inner_margin(egui::vec2(16.0, 12.0)))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let level = if state.muted { 0.0 } else { read_level(&session.mic_level) };
                let mute_label = if state.muted { "Unmute (M)" } else { "Mute (M)" };
                let mute =
                    if state.muted { theme::danger(mute_label) } else { egui::Button::new(mute_label) };
                if ui.add(mute).clicked() {
                    actions.push(Action::ToggleMute);
                }
                ui.add(
                    egui::ProgressBar::new((level * 1.5).min(1.0))
                        .desired_width(70.0)
                        .desired_height(8.0)
                        .corner_radius(4.0)
                        .fill(theme::GOOD),
                );
                let mut processing = session.audio_processing;
                if crate::app::prejoin::audio_processing_ui(ui, &mut processing) {
                    actions.push(Action::SetAudioProcessing(processing));
                }
                let cam_label = if state.camera_on { "Camera off (V)" } else { "Camera on (V)" };
                let cam =
                    if state.camera_on { egui::Button::new(cam_label) } else { theme::danger(cam_label) };
                if ui.add(cam).clicked() {
                    actions.push(Action::ToggleCamera);
                }
                let chat_label = match state.unread {
                    0 => "Chat (C)".to_string(),
                    n => format!("Chat (C) · {n} new"),
                };
                if ui.selectable_label(state.chat_open, chat_label).clicked() {
                    actions.push(Action::ToggleChat);
                }
                let fullscreen = ui.ctx().input(|i| i.viewport().fullscreen.unwrap_or(false));
                let label = if fullscreen { "Exit full screen (F)" } else { "Full screen (F)" };
                if ui.button(label).clicked() {
                    actions.push(Action::ToggleFullscreen);
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.add(theme::danger("Leave (Ctrl+L)")).clicked() {
                        actions.push(Action::Leave);
                    }
                });
            });
        });
}

fn tiles_ui(
    ui: &mut egui::Ui,
    state: &CallState,
    session: &Session,
    view: &mut CallUi,
    actions: &mut Vec<Action>,
) {
    let ctx = ui.ctx().clone();
    let area = ui.available_rect_before_wrap();
    // Speaking highlights follow audio levels, which no frame arrival announces.
    ctx.request_repaint_after(Duration::from_millis(100));
    let tiles = arrange(state.peers.len(), state.pinned_tile(), area);
    for (peer, &rect) in state.peers.iter().zip(&tiles.peers) {
        let pin = ui.interact(rect, ui.scope_id().with(("tile", &peer.info.id)), egui::Sense::click());
        let label = format!("{}'s picture", peer.info.name);
        pin.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
        if pin.double_clicked() {
            actions.push(Action::TogglePin(Pin::Peer(peer.info.id.clone())));
        }
        let texture = view.texture(&peer.sink_id);
        let picture = session.sinks.slot(&peer.sink_id).and_then(|slot| texture.update(&ctx, &slot).cloned());
        let tile = PeerTile {
            peer,
            picture: picture.as_ref(),
            has_video: texture.has_frame(),
            volume: state.volume_of(peer),
        };
        tile.ui(ui, rect, actions);
    }
    view.textures.retain(|id, _| state.peers.iter().any(|p| p.sink_id == *id));
    // Self-view last: on top when it is a picture-in-picture.
    let rect = tiles.own;
    let pin = ui.interact(rect, ui.scope_id().with("own-tile"), egui::Sense::click());
    pin.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, "Your picture"));
    if pin.double_clicked() {
        actions.push(Action::TogglePin(Pin::Own));
    }
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, ROUNDING, theme::TILE);
    let picture = view.self_texture.update(&ctx, &session.self_view).cloned();
    match (&picture, state.camera_on) {
        (Some(t), true) => paint_fitted(&painter, rect, t, ROUNDING),
        _ => {
            let text = if state.camera_on { "Starting camera…" } else { "Camera off" };
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                text,
                egui::FontId::proportional(18.0),
                theme::MUTED_TEXT,
            );
        }
    }
    let status = TileStatus {
        name: "You",
        mic_on: !state.muted,
        camera_on: state.camera_on,
        speaking: state.self_speaking.is_on(),
        volume: 1.0,
    };
    status.paint(&painter, rect);
    if state.peers.is_empty() && state.joined {
        ui.put(
            egui::Rect::from_center_size(area.center_top() + egui::vec2(0.0, 24.0), egui::vec2(400.0, 30.0)),
            egui::Label::new(RichText::new("Waiting for others to join…").color(theme::MUTED_TEXT)),
        );
    }
}

/// One remote participant's tile, as drawn this frame.
struct PeerTile<'a> {
    peer: &'a PeerView,
    picture: Option<&'a egui::TextureHandle>,
    /// Whether a picture of theirs has been shown.
    has_video: bool,
    /// How loud they play here (1.0 = 100 %).
    volume: f32,
}

impl PeerTile<'_> {
    /// Picture or initials, what is wrong, name and badges, and the quality dot whose popover has the
    /// figures and their volume.
    fn ui(&self, ui: &mut egui::Ui, rect: egui::Rect, actions: &mut Vec<Action>) {
        let peer = self.peer;
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, ROUNDING, theme::TILE);
        match self.picture {
            Some(t) if peer.camera_on => paint_fitted(&painter, rect, t, ROUNDING),
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
        if let Some(text) = peer.overlay(self.has_video) {
            badge(&painter, rect.center_bottom() - egui::vec2(0.0, 50.0), text, theme::WARN, Anchor::Centre);
        }
        let status = TileStatus {
            name: &peer.info.name,
            mic_on: peer.mic_on,
            camera_on: peer.camera_on,
            speaking: peer.is_speaking(),
            volume: self.volume,
        };
        status.paint(&painter, rect);
        let (color, word) = quality(peer);
        let dot =
            egui::Rect::from_center_size(rect.right_top() + egui::vec2(-22.0, 22.0), egui::vec2(28.0, 28.0));
        let response = ui.interact(dot, ui.scope_id().with(("quality", &peer.info.id)), egui::Sense::click());
        let label = format!("{}: details and volume", peer.info.name);
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
        painter.circle_filled(dot.center(), 13.0, theme::SCRIM);
        painter.circle_filled(dot.center(), 7.0, color);
        let popup_id = ui.scope_id().with(("stats", &peer.info.id));
        response.clone().on_hover_text(format!("Connection {word} — click for details and volume"));
        egui::Popup::from_response(&response)
            .id(popup_id)
            .open_memory(response.clicked().then_some(egui::SetOpenCommand::Toggle))
            .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside)
            .show(|ui| {
                ui.label(RichText::new(format!("{} — {word}", peer.info.name)).strong());
                let mut percent = self.volume * 100.0;
                let slider =
                    egui::Slider::new(&mut percent, 0.0..=200.0).suffix(" %").step_by(5.0).text("Volume");
                if ui.add(slider).changed() {
                    actions.push(Action::SetVolume { id: peer.info.id.clone(), volume: percent / 100.0 });
                }
                ui.label(RichText::new(stats_text(peer)).monospace());
            });
    }
}

fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().next()).take(2).collect::<String>().to_uppercase()
}

/// What a tile's edge says about its participant.
struct TileStatus<'a> {
    name: &'a str,
    mic_on: bool,
    camera_on: bool,
    speaking: bool,
    /// How loud they play here; a badge says so when it is not 100 %.
    volume: f32,
}

impl TileStatus<'_> {
    /// The name, "muted" / "camera off" badges, and a highlighted border while speaking.
    fn paint(&self, painter: &egui::Painter, rect: egui::Rect) {
        if self.speaking {
            painter.rect_stroke(
                rect.shrink(1.5),
                ROUNDING,
                egui::Stroke::new(3.0, theme::GOOD),
                egui::StrokeKind::Inside,
            );
        }
        let mut at = rect.left_bottom() + egui::vec2(10.0, -10.0);
        at.x = badge(painter, at, self.name, theme::ON_VIDEO, Anchor::LeftBottom).right() + 6.0;
        if !self.mic_on {
            at.x = badge(painter, at, "muted", theme::DANGER, Anchor::LeftBottom).right() + 6.0;
        }
        if !self.camera_on {
            at.x = badge(painter, at, "camera off", theme::WARN, Anchor::LeftBottom).right() + 6.0;
        }
        if (self.volume - 1.0).abs() > 0.001 {
            let text = format!("volume {:.0} %", self.volume * 100.0);
            badge(painter, at, &text, theme::MUTED_TEXT, Anchor::LeftBottom);
        }
    }
}

/// Which point of a badge its position names.
enum Anchor {
    LeftBottom,
    Centre,
}

/// A label on a dark translucent pill.
fn badge(painter: &egui::Painter, at: egui::Pos2, text: &str, color: Color32, anchor: Anchor) -> egui::Rect {
    let galley = painter.layout_no_wrap(text.to_string(), egui::FontId::proportional(14.0), color);
    let size = galley.size() + egui::vec2(16.0, 8.0);
    let rect = match anchor {
        Anchor::Centre => egui::Rect::from_center_size(at, size),
        Anchor::LeftBottom => egui::Rect::from_min_size(at - egui::vec2(0.0, size.y), size),
    };
    painter.rect_filled(rect, 8.0, theme::SCRIM);
    painter.galley(rect.min + egui::vec2(8.0, 4.0), galley, color);
    rect
}

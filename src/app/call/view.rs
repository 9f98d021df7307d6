//! The call screen's drawing: the top bar, the controls (with keyboard shortcuts: M mute, V camera, C chat,
//! F full screen, Ctrl+L leave), the chat panel and the tiles (double-click one to pin it big). It reads the [`CallState`] and returns what the user did as
//! [`Action`]s; the only thing it changes is its own [`CallUi`] (textures, the line being typed).

use std::collections::HashMap;
use std::time::Duration;

use eframe::egui::{self, RichText};

use super::chat::chat_ui;
use super::layout::arrange;
use super::state::{Action, CallState, PeerView, Pin};
use super::tile::{Anchor, PeerTile, ROUNDING, TileStatus, badge};
use crate::app::i18n::t;
use crate::app::media_sources::read_level;
use crate::app::session::{Session, screen_slot_id};
use crate::app::share::{SharePicker, portal_choice};
use crate::app::theme;
use crate::app::video::{VideoTexture, paint_fitted};

/// What the view keeps between frames: one texture per stream and the chat line being typed.
pub struct CallUi {
    textures: HashMap<String, VideoTexture>,
    self_texture: VideoTexture,
    pub(crate) chat_input: String,
    /// The picker of screens to share, while open.
    picker: Option<SharePicker>,
}

impl CallUi {
    pub fn new() -> CallUi {
        CallUi {
            textures: HashMap::new(),
            self_texture: VideoTexture::new("self-view"),
            chat_input: String::new(),
            picker: None,
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

    /// Pictures of the screen `peer` shares shown so far.
    #[cfg(test)]
    pub fn frames_shown_of_screen(&self, peer: &PeerView) -> u64 {
        self.textures.get(&screen_slot_id(&peer.sink_id)).map_or(0, VideoTexture::shown)
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
    if actions.contains(&Action::OpenSharePicker) {
        match portal_choice() {
            Some(choice) => actions.push(Action::Share(choice)),
            None => view.picker = Some(SharePicker::open(ui.ctx())),
        }
    }
    if let Some(picker) = &mut view.picker
        && let Some(chosen) = picker.ui(ui.ctx())
    {
        view.picker = None;
        actions.extend(chosen.map(Action::Share));
    }
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
                ui.label(
                    RichText::new(t!("prejoin-room", room = state.room.clone())).color(theme::MUTED_TEXT),
                );
                let here = state.here();
                if state.joined {
                    ui.label(
                        RichText::new(t!("room-count", count = here, capacity = state.capacity.max(here)))
                            .color(theme::MUTED_TEXT),
                    );
                } else if state.failed.is_none() {
                    ui.spinner();
                    ui.label(t!("call-joining"));
                }
                if let Some(link) = &state.link {
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui.button(t!("copy-link")).on_hover_text(link.as_str()).clicked() {
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
            if let Some(why) = &state.share_error {
                ui.label(RichText::new(why).color(theme::WARN));
            }
            if let Some(what) = &state.sharing {
                ui.label(RichText::new(t!("call-you-are-sharing", what = what.clone())).color(theme::ACCENT));
            }
        });
}

fn controls_ui(ui: &mut egui::Ui, state: &CallState, session: &Session, actions: &mut Vec<Action>) {
    egui::Panel::bottom("call-controls")
        .frame(egui::Frame::new().fill(theme::PANEL).inner_margin(egui::vec2(16.0, 12.0)))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let level = if state.muted { 0.0 } else { read_level(&session.mic_level) };
                let mute_label = if state.muted { t!("call-unmute") } else { t!("call-mute") };
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
                let cam_label = if state.camera_on { t!("call-camera-off") } else { t!("call-camera-on") };
                let cam =
                    if state.camera_on { egui::Button::new(cam_label) } else { theme::danger(cam_label) };
                if ui.add(cam).clicked() {
                    actions.push(Action::ToggleCamera);
                }
                if state.sharing.is_some() {
                    if ui.add(theme::danger(t!("call-stop-sharing"))).clicked() {
                        actions.push(Action::StopSharing);
                    }
                } else if ui.button(t!("call-share-screen")).clicked() {
                    actions.push(Action::OpenSharePicker);
                }
                let chat_label = match state.unread {
                    0 => t!("call-chat"),
                    n => t!("call-chat-unread", count = n),
                };
                if ui.selectable_label(state.chat_open, chat_label).clicked() {
                    actions.push(Action::ToggleChat);
                }
                let fullscreen = ui.ctx().input(|i| i.viewport().fullscreen.unwrap_or(false));
                let label = if fullscreen { t!("call-exit-full-screen") } else { t!("call-full-screen") };
                if ui.button(label).clicked() {
                    actions.push(Action::ToggleFullscreen);
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.add(theme::danger(t!("call-leave"))).clicked() {
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
    let tiles = arrange(state.peers.len(), state.sharers().count(), state.pinned_tile(), area);
    for (peer, &rect) in state.peers.iter().zip(&tiles.peers) {
        let pin = ui.interact(rect, ui.scope_id().with(("tile", &peer.info.id)), egui::Sense::click());
        let label = t!("tile-picture", name = peer.info.name.clone());
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
    for (peer, &rect) in state.sharers().zip(&tiles.screens) {
        screen_tile_ui(ui, peer, rect, session, view, actions);
    }
    view.textures.retain(|id, _| {
        state.peers.iter().any(|p| p.sink_id == *id || (p.sharing && screen_slot_id(&p.sink_id) == *id))
    });
    // Self-view last: on top when it is a picture-in-picture.
    let rect = tiles.own;
    let pin = ui.interact(rect, ui.scope_id().with("own-tile"), egui::Sense::click());
    pin.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, t!("tile-your-picture")));
    if pin.double_clicked() {
        actions.push(Action::TogglePin(Pin::Own));
    }
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, ROUNDING, theme::TILE);
    let picture = view.self_texture.update(&ctx, &session.self_view).cloned();
    match (&picture, state.camera_on) {
        (Some(t), true) => paint_fitted(&painter, rect, t, ROUNDING),
        _ => {
            let text = if state.camera_on { t!("prejoin-starting-camera") } else { t!("tile-camera-off") };
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                text,
                egui::FontId::proportional(18.0),
                theme::MUTED_TEXT,
            );
        }
    }
    let you = t!("you");
    let status = TileStatus {
        name: &you,
        mic_on: !state.muted,
        camera_on: state.camera_on,
        speaking: state.self_speaking.is_on(),
        volume: 1.0,
    };
    status.paint(&painter, rect);
    if state.peers.is_empty() && state.joined {
        ui.put(
            egui::Rect::from_center_size(area.center_top() + egui::vec2(0.0, 24.0), egui::vec2(400.0, 30.0)),
            egui::Label::new(RichText::new(t!("call-waiting-for-others")).color(theme::MUTED_TEXT)),
        );
    }
}

/// The screen a participant shares: the picture, whose it is; double-click pins it.
fn screen_tile_ui(
    ui: &mut egui::Ui,
    peer: &PeerView,
    rect: egui::Rect,
    session: &Session,
    view: &mut CallUi,
    actions: &mut Vec<Action>,
) {
    let name = t!("tile-screen", name = peer.info.name.clone());
    let response = ui.interact(rect, ui.scope_id().with(("screen", &peer.info.id)), egui::Sense::click());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &name));
    if response.double_clicked() {
        actions.push(Action::TogglePin(Pin::Screen(peer.info.id.clone())));
    }
    let id = screen_slot_id(&peer.sink_id);
    let texture = view.texture(&id);
    let picture = session.sinks.slot(&id).and_then(|slot| texture.update(ui.ctx(), &slot).cloned());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, ROUNDING, theme::TILE);
    match &picture {
        Some(t) => paint_fitted(&painter, rect, t, ROUNDING),
        None => {
            badge(&painter, rect.center(), &t!("tile-waiting-for-screen"), theme::MUTED_TEXT, Anchor::Centre);
        }
    }
    badge(&painter, rect.left_bottom() + egui::vec2(10.0, -10.0), &name, theme::ON_VIDEO, Anchor::LeftBottom);
}

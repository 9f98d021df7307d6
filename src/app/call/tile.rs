//! How a tile is drawn: the picture (or initials), what is wrong, the name and badges along its edge, and
//! the quality dot whose popover has the figures and the volume.

use eframe::egui::{self, Color32, RichText};

use super::state::{Action, PeerView};
use super::words::{quality, stats_text};
use crate::app::i18n::t;
use crate::app::theme;
use crate::app::video::paint_fitted;

pub const ROUNDING: f32 = 12.0;

/// One remote participant's tile, as drawn this frame.
pub struct PeerTile<'a> {
    pub peer: &'a PeerView,
    pub picture: Option<&'a egui::TextureHandle>,
    /// Whether a picture of theirs has been shown.
    pub has_video: bool,
    /// How loud they play here (1.0 = 100 %).
    pub volume: f32,
}

impl PeerTile<'_> {
    /// Picture or initials, what is wrong, name and badges, and the quality dot whose popover has the
    /// figures and their volume.
    pub fn ui(&self, ui: &mut egui::Ui, rect: egui::Rect, actions: &mut Vec<Action>) {
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
        if let Some(overlay) = peer.overlay(self.has_video) {
            let text = overlay.text();
            badge(&painter, rect.center_bottom() - egui::vec2(0.0, 50.0), &text, theme::WARN, Anchor::Centre);
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
        let label = t!("tile-details", name = peer.info.name.clone());
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
        painter.circle_filled(dot.center(), 13.0, theme::SCRIM);
        painter.circle_filled(dot.center(), 7.0, color);
        let popup_id = ui.scope_id().with(("stats", &peer.info.id));
        response.clone().on_hover_text(t!("tile-details-hover", quality = word.clone()));
        egui::Popup::from_response(&response)
            .id(popup_id)
            .open_memory(response.clicked().then_some(egui::SetOpenCommand::Toggle))
            .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside)
            .show(|ui| {
                ui.label(RichText::new(format!("{} — {word}", peer.info.name)).strong());
                let mut percent = self.volume * 100.0;
                let slider = egui::Slider::new(&mut percent, 0.0..=200.0)
                    .suffix(" %")
                    .step_by(5.0)
                    .text(t!("tile-volume"));
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
pub struct TileStatus<'a> {
    pub name: &'a str,
    pub mic_on: bool,
    pub camera_on: bool,
    pub speaking: bool,
    /// How loud they play here; a badge says so when it is not 100 %.
    pub volume: f32,
}

impl TileStatus<'_> {
    /// The name, "muted" / "camera off" badges, and a highlighted border while speaking.
    pub fn paint(&self, painter: &egui::Painter, rect: egui::Rect) {
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
            at.x = badge(painter, at, &t!("tile-muted"), theme::DANGER, Anchor::LeftBottom).right() + 6.0;
        }
        if !self.camera_on {
            at.x = badge(painter, at, &t!("tile-camera-off-badge"), theme::WARN, Anchor::LeftBottom).right()
                + 6.0;
        }
        if (self.volume - 1.0).abs() > 0.001 {
            let text = t!("tile-volume-badge", percent = (self.volume * 100.0).round() as i64);
            badge(painter, at, &text, theme::MUTED_TEXT, Anchor::LeftBottom);
        }
    }
}

/// Which point of a badge its position names.
pub enum Anchor {
    LeftBottom,
    Centre,
}

/// A label on a dark translucent pill.
pub fn badge(
    painter: &egui::Painter,
    at: egui::Pos2,
    text: &str,
    color: Color32,
    anchor: Anchor,
) -> egui::Rect {
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

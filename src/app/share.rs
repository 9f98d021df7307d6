//! Sharing a screen from the app: the picker (every monitor and the entire screen, each with a live
//! thumbnail) and opening the chosen screen for the call.
//!
//! Thumbnails come from a `kaiwa-share-thumbs` thread that captures each choice once a second (MIT-SHM,
//! as the share itself), shrinks it and hands it to a [`FrameSlot`]; the UI thread only uploads. The
//! thread ends when the picker closes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use eframe::egui::{self, RichText};
use kaiwa_devices::{Area, ScreenSource, VideoSource};

use super::theme;
use super::video::{FrameSlot, VideoTexture, paint_fitted};

/// Shared screens are sent at up to this frame rate: text wants sharp frames more than many.
pub const SHARE_FPS: u32 = 15;
/// Thumbnails are at most this wide.
const THUMB_WIDTH: u32 = 400;
const THUMB_INTERVAL: Duration = Duration::from_secs(1);

/// What the user picked to share: a monitor's part of the screen, or all of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareChoice {
    /// As the picker and the controls name it ("Screen 1", "Entire screen").
    pub label: String,
    pub area: Option<Area>,
}

/// Opens `area` of the screen (`None`: all of it) for sharing, or says why it cannot be.
pub fn open_screen(area: Option<Area>) -> Result<ScreenSource, String> {
    if let Some(why) = kaiwa_devices::share_unavailable() {
        return Err(why.to_owned());
    }
    ScreenSource::open(None, area, SHARE_FPS).map_err(|e| format!("Cannot share the screen: {e}"))
}

/// What can be shared: each monitor, and the entire screen when there are several.
pub fn choices() -> Result<Vec<ShareChoice>, String> {
    if let Some(why) = kaiwa_devices::share_unavailable() {
        return Err(why.to_owned());
    }
    let monitors = kaiwa_devices::monitors(None).map_err(|e| format!("No screen to share: {e}"))?;
    let mut all: Vec<ShareChoice> = monitors
        .iter()
        .enumerate()
        .map(|(i, area)| ShareChoice {
            label: format!("Screen {} ({}×{})", i + 1, area.width, area.height),
            area: Some(*area),
        })
        .collect();
    if all.len() > 1 {
        all.push(ShareChoice { label: "Entire screen".into(), area: None });
    }
    Ok(all)
}

/// The open picker: its choices with their thumbnails, or why nothing can be shared.
pub struct SharePicker {
    choices: Result<Vec<(ShareChoice, Arc<FrameSlot>, VideoTexture)>, String>,
    stop: Arc<AtomicBool>,
}

impl SharePicker {
    pub fn open(ctx: &egui::Context) -> SharePicker {
        let stop = Arc::new(AtomicBool::new(false));
        let choices = choices().map(|choices| {
            choices
                .into_iter()
                .enumerate()
                .map(|(i, c)| (c, FrameSlot::new(ctx.clone()), VideoTexture::new(format!("share-thumb-{i}"))))
                .collect::<Vec<_>>()
        });
        if let Ok(choices) = &choices {
            let targets: Vec<(Option<Area>, Arc<FrameSlot>)> =
                choices.iter().map(|(c, slot, _)| (c.area, slot.clone())).collect();
            let stop = stop.clone();
            let spawned = std::thread::Builder::new()
                .name("kaiwa-share-thumbs".into())
                .spawn(move || thumbnails(targets, &stop));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "no thumbnails of the screens");
            }
        }
        SharePicker { choices, stop }
    }

    /// The picker window; `Some` once the user chose (`Some(None)`: cancelled).
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<Option<ShareChoice>> {
        let mut outcome = None;
        let mut open = true;
        egui::Window::new("Share your screen")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| match &mut self.choices {
                Err(why) => {
                    ui.label(RichText::new(why.as_str()).color(theme::WARN));
                    if ui.button("Close").clicked() {
                        outcome = Some(None);
                    }
                }
                Ok(choices) => {
                    ui.label("Everyone in the call sees what you pick, beside your camera.");
                    ui.horizontal_wrapped(|ui| {
                        for (choice, slot, texture) in choices.iter_mut() {
                            if thumbnail_ui(ui, choice, slot, texture) {
                                outcome = Some(Some(choice.clone()));
                            }
                        }
                    });
                    if ui.button("Cancel").clicked() {
                        outcome = Some(None);
                    }
                }
            });
        if !open {
            outcome = Some(None);
        }
        outcome
    }
}

impl Drop for SharePicker {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
    }
}

/// One choice: its thumbnail (or a placeholder until the first) and label; true when clicked.
fn thumbnail_ui(
    ui: &mut egui::Ui,
    choice: &ShareChoice,
    slot: &FrameSlot,
    texture: &mut VideoTexture,
) -> bool {
    let size = egui::vec2(240.0, 135.0 + 24.0);
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &choice.label));
    let picture = egui::Rect::from_min_size(rect.min, egui::vec2(240.0, 135.0));
    let painter = ui.painter_at(rect);
    painter.rect_filled(picture, 6.0, theme::TILE);
    match texture.update(ui.ctx(), slot) {
        Some(t) => paint_fitted(&painter, picture, t, 6.0),
        None => {
            painter.text(
                picture.center(),
                egui::Align2::CENTER_CENTER,
                "…",
                egui::FontId::proportional(24.0),
                theme::MUTED_TEXT,
            );
        }
    }
    if response.hovered() {
        painter.rect_stroke(picture, 6.0, egui::Stroke::new(2.0, theme::ACCENT), egui::StrokeKind::Inside);
    }
    painter.text(
        egui::pos2(rect.center().x, rect.bottom() - 10.0),
        egui::Align2::CENTER_CENTER,
        &choice.label,
        egui::FontId::proportional(14.0),
        ui.visuals().text_color(),
    );
    response.clicked()
}

/// The thumbnail thread: each target captured and shrunk once a second until `stop`.
fn thumbnails(targets: Vec<(Option<Area>, Arc<FrameSlot>)>, stop: &AtomicBool) {
    let mut sources: Vec<(Option<ScreenSource>, Arc<FrameSlot>)> =
        targets.into_iter().map(|(area, slot)| (ScreenSource::open(None, area, 30).ok(), slot)).collect();
    while !stop.load(Relaxed) {
        for (source, slot) in &mut sources {
            let Some(captured) = source.as_mut().and_then(|s| s.next_frame().ok().flatten()) else {
                continue;
            };
            let mut small = captured.frame;
            while small.width() > THUMB_WIDTH {
                match small.downscale_half() {
                    Some(half) => small = half,
                    None => break,
                }
            }
            slot.put_i420(&small);
        }
        std::thread::sleep(THUMB_INTERVAL);
    }
}

//! Sharing a screen from the app: the picker (every monitor, the entire screen and each window, with live
//! thumbnails) and opening the chosen one for the call.
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
use crate::app::i18n::t;

/// Shared screens are sent at up to this frame rate: text wants sharp frames more than many.
pub const SHARE_FPS: u32 = 15;
/// Thumbnails are at most this wide.
const THUMB_WIDTH: u32 = 400;
const THUMB_INTERVAL: Duration = Duration::from_secs(1);

/// What the user picked to share.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareChoice {
    /// As the picker and the controls name it ("Screen 1 (1920×1080)", "Entire screen", a window's title).
    pub label: String,
    pub target: ShareTarget,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShareTarget {
    /// A monitor's part of the screen, or all of it (`None`).
    Screen(Option<Area>),
    /// One window, by id: its own picture, whatever covers it.
    Window(u32),
    /// Whatever the person picks in the desktop's own dialog (its screen-cast portal: under Wayland).
    Portal,
}

impl ShareTarget {
    fn open(self, fps: u32) -> Result<Box<dyn VideoSource>, kaiwa_devices::SourceError> {
        Ok(match self {
            ShareTarget::Screen(area) => Box::new(ScreenSource::open(None, area, fps)?),
            ShareTarget::Window(id) => Box::new(ScreenSource::open_window(None, id, fps)?),
            #[cfg(feature = "portal")]
            ShareTarget::Portal => Box::new(kaiwa_devices::PortalSource::open(fps)?),
            #[cfg(not(feature = "portal"))]
            ShareTarget::Portal => {
                return Err(kaiwa_devices::SourceError::Device(t!("share-no-portal")));
            }
        })
    }
}

/// Opens `target` for sharing (through the portal: after the person has chosen in the desktop's dialog),
/// or says why it cannot be.
pub fn open_screen(target: ShareTarget) -> Result<Box<dyn VideoSource>, String> {
    if kaiwa_devices::share_unavailable().is_some() {
        return Err(t!("share-wayland-unavailable"));
    }
    target.open(SHARE_FPS).map_err(|e| match target {
        ShareTarget::Portal => e.to_string(),
        _ => t!("share-cannot", error = e.to_string()),
    })
}

/// Under Wayland the desktop's own dialog is the picker: what "Share screen" shares at once.
pub fn portal_choice() -> Option<ShareChoice> {
    kaiwa_devices::share_through_portal()
        .then(|| ShareChoice { label: t!("share-what-you-picked"), target: ShareTarget::Portal })
}

/// What can be shared: each monitor, the entire screen when there are several, and each window.
pub fn choices() -> Result<Vec<ShareChoice>, String> {
    if kaiwa_devices::share_unavailable().is_some() {
        return Err(t!("share-wayland-unavailable"));
    }
    let monitors = kaiwa_devices::monitors(None).map_err(|e| t!("share-no-screen", error = e.to_string()))?;
    let mut all: Vec<ShareChoice> = monitors
        .iter()
        .enumerate()
        .map(|(i, area)| ShareChoice {
            label: t!("share-screen-n", n = i + 1, size = format!("{}×{}", area.width, area.height)),
            target: ShareTarget::Screen(Some(*area)),
        })
        .collect();
    if all.len() > 1 {
        all.push(ShareChoice { label: t!("share-entire-screen"), target: ShareTarget::Screen(None) });
    }
    // Windows are a bonus: a display without a window list still offers its screens.
    for window in kaiwa_devices::windows(None).unwrap_or_default() {
        all.push(ShareChoice { label: window.name, target: ShareTarget::Window(window.id) });
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
            let targets: Vec<(ShareTarget, Arc<FrameSlot>)> =
                choices.iter().map(|(c, slot, _)| (c.target, slot.clone())).collect();
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
        egui::Window::new(t!("share-title"))
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| match &mut self.choices {
                Err(why) => {
                    ui.label(RichText::new(why.as_str()).color(theme::WARN));
                    if ui.button(t!("close")).clicked() {
                        outcome = Some(None);
                    }
                }
                Ok(choices) => {
                    ui.label(t!("share-explain"));
                    egui::ScrollArea::vertical().max_height(520.0).show(ui, |ui| {
                        ui.horizontal_wrapped(|ui| {
                            ui.set_max_width(760.0);
                            for (choice, slot, texture) in choices.iter_mut() {
                                if thumbnail_ui(ui, choice, slot, texture) {
                                    outcome = Some(Some(choice.clone()));
                                }
                            }
                        });
                    });
                    if ui.button(t!("cancel")).clicked() {
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
    // Window titles can be long: cut to what fits under the thumbnail.
    let mut label: String = choice.label.chars().take(34).collect();
    if choice.label.chars().count() > 34 {
        label.pop();
        label.push('…');
    }
    painter.text(
        egui::pos2(rect.center().x, rect.bottom() - 10.0),
        egui::Align2::CENTER_CENTER,
        label,
        egui::FontId::proportional(14.0),
        ui.visuals().text_color(),
    );
    response.clicked()
}

/// The thumbnail thread: each target captured and shrunk once a second until `stop`.
fn thumbnails(targets: Vec<(ShareTarget, Arc<FrameSlot>)>, stop: &AtomicBool) {
    type Thumbnail = (Option<Box<dyn VideoSource>>, Arc<FrameSlot>);
    let mut sources: Vec<Thumbnail> =
        targets.into_iter().map(|(target, slot)| (target.open(30).ok(), slot)).collect();
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

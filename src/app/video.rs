//! Video between threads and the screen: a latest-frame slot per stream (filled on the decode or capture
//! thread, taken on the UI thread) and the texture it is uploaded into.
//!
//! Everything per pixel happens on the media thread: I420 is converted straight into the `Color32` buffer
//! egui uploads (opaque video: RGBA bytes are already premultiplied), so the UI thread only hands the
//! finished image to the renderer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use eframe::egui;
use kaiwa_media::video::I420Frame;

/// New frames wake the UI at most this often: four streams at 30 fps would otherwise ask for ~120 repaints
/// a second, each a full UI frame; within one interval they share one.
const REPAINT_COALESCE: Duration = Duration::from_millis(15);

/// Holds only the newest frame: a slow UI skips frames instead of queueing them.
pub struct FrameSlot {
    latest: Mutex<Option<egui::ColorImage>>,
    repaint: egui::Context,
}

impl FrameSlot {
    pub fn new(repaint: egui::Context) -> Arc<FrameSlot> {
        Arc::new(FrameSlot { latest: Mutex::new(None), repaint })
    }

    /// Called on a media thread: converts and stores the frame, then wakes the UI.
    pub fn put_i420(&self, frame: &I420Frame) {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let mut pixels = vec![egui::Color32::BLACK; w * h];
        if frame.write_rgba(bytemuck::cast_slice_mut(&mut pixels)).is_err() {
            return;
        }
        let image = egui::ColorImage::new([w, h], pixels);
        if let Ok(mut slot) = self.latest.lock() {
            *slot = Some(image);
        }
        self.repaint.request_repaint_after(REPAINT_COALESCE);
    }

    pub fn take(&self) -> Option<egui::ColorImage> {
        self.latest.lock().ok().and_then(|mut s| s.take())
    }
}

/// A texture that follows a [`FrameSlot`].
pub struct VideoTexture {
    name: String,
    texture: Option<egui::TextureHandle>,
    /// Frames uploaded so far (what `--frame-stats` calls "shown").
    shown: u64,
}

impl VideoTexture {
    pub fn new(name: impl Into<String>) -> Self {
        VideoTexture { name: name.into(), texture: None, shown: 0 }
    }

    pub fn has_frame(&self) -> bool {
        self.texture.is_some()
    }

    /// Frames uploaded since the texture was made.
    pub fn shown(&self) -> u64 {
        self.shown
    }

    /// Uploads the newest frame, if any; returns the texture to draw (None until the first frame).
    pub fn update(&mut self, ctx: &egui::Context, slot: &FrameSlot) -> Option<&egui::TextureHandle> {
        if let Some(image) = slot.take() {
            self.shown += 1;
            match &mut self.texture {
                Some(t) => t.set(image, egui::TextureOptions::LINEAR),
                None => {
                    self.texture = Some(ctx.load_texture(&self.name, image, egui::TextureOptions::LINEAR))
                }
            }
        }
        self.texture.as_ref()
    }
}

/// Draws `texture` into `rect` keeping its aspect ratio (letterboxed), or nothing.
pub fn paint_fitted(painter: &egui::Painter, rect: egui::Rect, texture: &egui::TextureHandle, rounding: f32) {
    let size = texture.size_vec2();
    if size.x <= 0.0 || size.y <= 0.0 {
        return;
    }
    let scale = (rect.width() / size.x).min(rect.height() / size.y);
    let fitted = egui::Rect::from_center_size(rect.center(), size * scale);
    let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
    let mut mesh = egui::Mesh::with_texture(texture.id());
    mesh.add_rect_with_uv(fitted, uv, egui::Color32::WHITE);
    let _ = rounding;
    painter.add(egui::Shape::mesh(mesh));
}

//! Video between threads and the screen: a latest-frame slot per stream (filled on the decode or capture
//! thread, taken on the UI thread) and the texture it is uploaded into.

use std::sync::{Arc, Mutex};

use eframe::egui;
use kaiwa_media::video::I420Frame;

/// One RGBA picture.
pub struct RgbaFrame {
    pub width: usize,
    pub height: usize,
    pub rgba: Vec<u8>,
}

/// Holds only the newest frame: a slow UI skips frames instead of queueing them.
pub struct FrameSlot {
    latest: Mutex<Option<RgbaFrame>>,
    repaint: egui::Context,
}

impl FrameSlot {
    pub fn new(repaint: egui::Context) -> Arc<FrameSlot> {
        Arc::new(FrameSlot { latest: Mutex::new(None), repaint })
    }

    /// Called on a media thread: converts and stores the frame, then wakes the UI.
    pub fn put_i420(&self, frame: &I420Frame) {
        let Ok(rgba) = frame.to_rgba() else { return };
        let frame = RgbaFrame { width: frame.width() as usize, height: frame.height() as usize, rgba };
        if let Ok(mut slot) = self.latest.lock() {
            *slot = Some(frame);
        }
        self.repaint.request_repaint();
    }

    pub fn take(&self) -> Option<RgbaFrame> {
        self.latest.lock().ok().and_then(|mut s| s.take())
    }
}

/// A texture that follows a [`FrameSlot`].
pub struct VideoTexture {
    name: String,
    texture: Option<egui::TextureHandle>,
}

impl VideoTexture {
    pub fn new(name: impl Into<String>) -> Self {
        VideoTexture { name: name.into(), texture: None }
    }

    pub fn has_frame(&self) -> bool {
        self.texture.is_some()
    }

    /// Uploads the newest frame, if any; returns the texture to draw (None until the first frame).
    pub fn update(&mut self, ctx: &egui::Context, slot: &FrameSlot) -> Option<&egui::TextureHandle> {
        if let Some(frame) = slot.take() {
            let image = egui::ColorImage::from_rgba_unmultiplied([frame.width, frame.height], &frame.rgba);
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

//! Colours and spacing: a calm dark theme with one accent colour.

use eframe::egui::{self, Color32, CornerRadius, Stroke};

pub const BG: Color32 = Color32::from_rgb(0x12, 0x14, 0x19);
pub const PANEL: Color32 = Color32::from_rgb(0x1b, 0x1e, 0x25);
pub const TILE: Color32 = Color32::from_rgb(0x25, 0x29, 0x32);
pub const ACCENT: Color32 = Color32::from_rgb(0x4f, 0x8c, 0xff);
pub const DANGER: Color32 = Color32::from_rgb(0xe5, 0x48, 0x4d);
pub const GOOD: Color32 = Color32::from_rgb(0x3f, 0xc1, 0x7a);
pub const WARN: Color32 = Color32::from_rgb(0xf2, 0xb1, 0x3b);
pub const MUTED_TEXT: Color32 = Color32::from_rgb(0x9a, 0xa3, 0xb2);
/// Text on video (names on tiles).
pub const ON_VIDEO: Color32 = Color32::WHITE;
/// Behind labels drawn over video, so they read on any picture.
pub const SCRIM: Color32 = Color32::from_black_alpha(160);

pub fn apply(ctx: &egui::Context) {
    install_fonts(ctx);
    ctx.set_theme(egui::Theme::Dark);
    let mut visuals = egui::Visuals::dark();
    visuals.panel_fill = BG;
    visuals.window_fill = PANEL;
    visuals.extreme_bg_color = Color32::from_rgb(0x0d, 0x0f, 0x13);
    visuals.selection.bg_fill = ACCENT;
    visuals.hyperlink_color = ACCENT;
    visuals.widgets.inactive.corner_radius = CornerRadius::same(8);
    visuals.widgets.hovered.corner_radius = CornerRadius::same(8);
    visuals.widgets.active.corner_radius = CornerRadius::same(8);
    visuals.widgets.inactive.weak_bg_fill = Color32::from_rgb(0x2c, 0x31, 0x3b);
    visuals.widgets.hovered.weak_bg_fill = Color32::from_rgb(0x36, 0x3c, 0x48);
    visuals.widgets.noninteractive.bg_stroke = Stroke::new(1.0, Color32::from_rgb(0x2c, 0x31, 0x3b));
    ctx.set_visuals(visuals);
    ctx.global_style_mut(|style| {
        style.spacing.item_spacing = egui::vec2(10.0, 10.0);
        style.spacing.button_padding = egui::vec2(14.0, 8.0);
        style.spacing.interact_size.y = 32.0;
        for (text_style, size) in [
            (egui::TextStyle::Body, 15.0),
            (egui::TextStyle::Button, 15.0),
            (egui::TextStyle::Heading, 26.0),
            (egui::TextStyle::Small, 12.0),
        ] {
            if let Some(font) = style.text_styles.get_mut(&text_style) {
                font.size = size;
            }
        }
    });
}

/// A filled accent button.
pub fn primary(text: impl Into<String>) -> egui::Button<'static> {
    egui::Button::new(egui::RichText::new(text).color(Color32::WHITE).strong()).fill(ACCENT)
}

pub fn danger(text: impl Into<String>) -> egui::Button<'static> {
    egui::Button::new(egui::RichText::new(text).color(Color32::WHITE).strong()).fill(DANGER)
}

/// A card: the rounded panel the start and pre-join screens sit in.
pub fn card() -> egui::Frame {
    egui::Frame::new().fill(PANEL).corner_radius(CornerRadius::same(14)).inner_margin(24.0)
}

/// Every script draws: egui's own fonts first (Latin, Greek, Cyrillic, symbols), then, for a character
/// none of them has, the system's font for it, found on demand through fontconfig by egui's system font
/// provider (Noto CJK, which `scripts/setup.sh` installs, for Japanese, Korean and Chinese; the system
/// locale picks between Japanese and Chinese forms of a shared ideograph). Fonts are enumerated on a
/// thread of the provider's from here, long before a first such character is drawn.
fn install_fonts(ctx: &egui::Context) {
    ctx.add_font_provider(std::sync::Arc::new(egui_system_font_provider::SystemFontProvider::new()));
}

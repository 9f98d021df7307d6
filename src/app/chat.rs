//! The chat panel: messages of this call and the input line (Enter sends).

use eframe::egui::{self, RichText};

use super::theme;

pub struct ChatLine {
    pub from: String,
    pub text: String,
    pub mine: bool,
}

#[derive(Default)]
pub struct ChatState {
    pub lines: Vec<ChatLine>,
    pub input: String,
    pub unread: usize,
}

impl ChatState {
    /// Draws the panel; returns a message to send.
    pub fn show(&mut self, ui: &mut egui::Ui) -> Option<String> {
        self.unread = 0;
        ui.label(RichText::new("Chat").strong().size(17.0));
        ui.separator();
        let mut send = None;
        egui::Panel::bottom("chat-input").frame(egui::Frame::new().inner_margin(egui::vec2(0.0, 8.0))).show(
            ui,
            |ui| {
                ui.horizontal(|ui| {
                    let edit = ui.add(
                        egui::TextEdit::singleline(&mut self.input)
                            .hint_text("Say something…")
                            .desired_width(ui.available_width() - 70.0),
                    );
                    let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    if (ui.button("Send").clicked() || enter) && !self.input.trim().is_empty() {
                        send = Some(std::mem::take(&mut self.input).trim().to_string());
                        edit.request_focus();
                    }
                });
            },
        );
        egui::ScrollArea::vertical().stick_to_bottom(true).auto_shrink([false, false]).show(ui, |ui| {
            if self.lines.is_empty() {
                ui.label(RichText::new("No messages yet.").color(theme::MUTED_TEXT));
            }
            for line in &self.lines {
                let who = if line.mine { "You".to_string() } else { line.from.clone() };
                let color = if line.mine { theme::ACCENT } else { theme::GOOD };
                ui.label(RichText::new(who).small().strong().color(color));
                ui.label(&line.text);
            }
        });
        send
    }
}

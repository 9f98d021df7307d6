//! The chat panel: messages of this call and the input line (Enter sends). Draws only: the lines are the
//! call's state, the line being typed is the view's.

use eframe::egui::{self, RichText};

use crate::app::i18n::{t, time_of_day};
use crate::app::theme;

#[derive(Debug, Clone, PartialEq)]
pub struct ChatLine {
    pub from: String,
    pub text: String,
    pub mine: bool,
    /// When it was said: milliseconds since the Unix epoch (the sender's clock, for others' lines).
    pub at_ms: u64,
}

/// Draws the panel; returns a message to send.
pub fn chat_ui(ui: &mut egui::Ui, lines: &[ChatLine], input: &mut String) -> Option<String> {
    ui.label(RichText::new(t!("chat-title")).strong().size(17.0));
    ui.separator();
    let mut send = None;
    egui::Panel::bottom("chat-input").frame(egui::Frame::new().inner_margin(egui::vec2(0.0, 8.0))).show(
        ui,
        |ui| {
            ui.horizontal(|ui| {
                let edit = ui.add(
                    egui::TextEdit::singleline(input)
                        .hint_text(t!("chat-hint"))
                        .desired_width(ui.available_width() - 84.0),
                );
                let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if (ui.button(t!("chat-send")).clicked() || enter) && !input.trim().is_empty() {
                    send = Some(std::mem::take(input).trim().to_string());
                    edit.request_focus();
                }
            });
        },
    );
    egui::ScrollArea::vertical().stick_to_bottom(true).auto_shrink([false, false]).show(ui, |ui| {
        if lines.is_empty() {
            ui.label(RichText::new(t!("chat-empty")).color(theme::MUTED_TEXT));
        }
        for line in lines {
            let who = if line.mine { t!("you") } else { line.from.clone() };
            let color = if line.mine { theme::ACCENT } else { theme::GOOD };
            ui.horizontal(|ui| {
                ui.label(RichText::new(who).small().strong().color(color));
                ui.label(RichText::new(time_of_day(line.at_ms)).small().color(theme::MUTED_TEXT));
            });
            ui.label(&line.text);
        }
    });
    send
}

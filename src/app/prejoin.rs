//! The pre-join screen: own preview (or the test pattern, said plainly), mic level, device pickers,
//! speaker test, the echo cancellation / noise suppression switch, the network check.

use eframe::egui::{self, RichText};

use super::media_sources::read_level;
use super::video::paint_fitted;
use super::{KaiwaApp, Screen, theme};
use crate::app::i18n::t;

impl KaiwaApp {
    pub(super) fn prejoin_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let Some(preview) = &self.preview else {
            self.screen = Screen::Start;
            return;
        };
        let texture = self.preview_texture.update(&ctx, &preview.slot).cloned();
        let level = read_level(&preview.level);
        let (devices, notices, source) = match preview.info.lock() {
            Ok(i) => (i.devices.clone(), i.notices.clone(), i.source.clone()),
            Err(_) => (None, Vec::new(), String::new()),
        };
        let mut join = false;
        let mut back = false;
        let mut reopen = false;
        let mut check_again = false;
        egui::CentralPanel::default().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.add_space(24.0);
                ui.label(RichText::new(t!("prejoin-ready")).size(28.0).strong());
                ui.label(
                    RichText::new(t!("prejoin-room", room = self.start.room_input.trim().to_owned()))
                        .color(theme::MUTED_TEXT),
                );
                ui.add_space(12.0);
            });
            ui.columns(2, |cols| {
                let ui = &mut cols[0];
                let width = ui.available_width().min(560.0);
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(width, width * 9.0 / 16.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 12.0, theme::TILE);
                match &texture {
                    Some(t) => paint_fitted(ui.painter(), rect, t, 12.0),
                    None => {
                        ui.painter().text(
                            rect.center(),
                            egui::Align2::CENTER_CENTER,
                            t!("prejoin-starting-camera"),
                            egui::FontId::proportional(16.0),
                            theme::MUTED_TEXT,
                        );
                    }
                }
                if !source.is_empty() {
                    ui.label(
                        RichText::new(t!("prejoin-preview", source = source.clone()))
                            .small()
                            .color(theme::MUTED_TEXT),
                    );
                }
                ui.horizontal(|ui| {
                    ui.label(t!("device-microphone"));
                    ui.add(
                        egui::ProgressBar::new((level * 1.5).min(1.0))
                            .desired_width(220.0)
                            .desired_height(8.0)
                            .corner_radius(4.0)
                            .fill(theme::GOOD),
                    );
                });

                let ui = &mut cols[1];
                theme::card().show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    match &devices {
                        None => {
                            ui.horizontal(|ui| {
                                ui.spinner();
                                ui.label(t!("prejoin-looking-for-devices"));
                            });
                        }
                        Some(d) => {
                            let s = &mut self.settings;
                            let cams: Vec<(String, String)> =
                                d.cameras.iter().map(|c| (c.id.clone(), c.name.clone())).collect();
                            reopen |= picker(
                                ui,
                                &t!("device-camera"),
                                &t!("device-no-camera"),
                                &mut s.camera,
                                &cams,
                            );
                            let mics: Vec<(String, String)> =
                                d.microphones.iter().map(|c| (c.id.clone(), c.name.clone())).collect();
                            reopen |= picker(
                                ui,
                                &t!("device-microphone"),
                                &t!("device-no-microphone"),
                                &mut s.microphone,
                                &mics,
                            );
                            let spk: Vec<(String, String)> =
                                d.speakers.iter().map(|c| (c.id.clone(), c.name.clone())).collect();
                            picker(ui, &t!("device-speaker"), &t!("device-no-speaker"), &mut s.speaker, &spk);
                            if ui
                                .add_enabled(
                                    !d.speakers.is_empty(),
                                    egui::Button::new(t!("prejoin-play-test-sound")),
                                )
                                .clicked()
                            {
                                let _ = kaiwa_devices::play_test_sound(s.speaker.clone());
                            }
                        }
                    }
                    for n in &notices {
                        ui.label(RichText::new(n).color(theme::WARN));
                    }
                    audio_processing_ui(ui, &mut self.settings.audio_processing);
                    if let Some(check) = &mut self.net_check {
                        ui.add_space(8.0);
                        check_again = check.ui(ui);
                    }
                    ui.add_space(8.0);
                    ui.horizontal(|ui| {
                        join = ui.add(theme::primary(t!("prejoin-join-now"))).clicked();
                        back = ui.button(t!("back")).clicked();
                    });
                });
            });
        });
        if check_again && let Ok(t) = self.target() {
            self.net_check = super::netcheck::NetCheck::start(&self.rt, &ctx, &t.server, t.trust);
        }
        if reopen {
            self.drop_preview();
            self.preview = Some(super::Preview::start(&ctx, &self.settings));
        }
        if join {
            self.join(&ctx);
        } else if back {
            self.drop_preview();
            self.screen = Screen::Start;
        }
    }
}

/// The switch for echo cancellation, noise suppression and gain control (here and in the call's controls).
/// Returns whether it was clicked.
pub(super) fn audio_processing_ui(ui: &mut egui::Ui, on: &mut bool) -> bool {
    ui.checkbox(on, t!("audio-processing")).on_hover_text(t!("audio-processing-hover")).changed()
}

/// A device combo box; `None` is the system default. Returns whether the choice changed.
fn picker(
    ui: &mut egui::Ui,
    label: &str,
    none: &str,
    chosen: &mut Option<String>,
    devices: &[(String, String)],
) -> bool {
    let before = chosen.clone();
    ui.label(label);
    let shown = if devices.is_empty() {
        none.to_string()
    } else {
        match chosen {
            Some(id) => devices.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone()).unwrap_or(id.clone()),
            None => t!("device-system-default"),
        }
    };
    ui.add_enabled_ui(!devices.is_empty(), |ui| {
        egui::ComboBox::from_id_salt(label).width(ui.available_width()).selected_text(shown).show_ui(
            ui,
            |ui| {
                ui.selectable_value(chosen, None, t!("device-system-default"));
                for (id, name) in devices {
                    ui.selectable_value(chosen, Some(id.clone()), name);
                }
            },
        );
    });
    *chosen != before
}

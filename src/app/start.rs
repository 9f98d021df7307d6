//! The start screen: name, room (code or pasted link), "Create room", server choice and the room's status.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use eframe::egui::{self, RichText};

use super::i18n::{self, Language, LanguageChoice, t};
use super::room_api::{self, RoomStatus};
use super::settings::ServerMode;
use super::{HostState, KaiwaApp, theme};

const STATUS_REFRESH: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct StartState {
    pub room_input: String,
    pub error: Option<String>,
    /// The room key the status below is about, and the status.
    status_for: String,
    status: Option<Result<RoomStatus, String>>,
    pending_status: Option<(String, mpsc::Receiver<Result<RoomStatus, String>>)>,
    pending_create: Option<mpsc::Receiver<Result<String, String>>>,
    /// When the status was last asked for (it is refreshed every few seconds).
    checked_at: Option<Instant>,
    stun_text: Option<String>,
    turn_text: Option<String>,
}

impl KaiwaApp {
    pub(super) fn poll_start(&mut self, ctx: &egui::Context) {
        if let Some((key, rx)) = &self.start.pending_status
            && let Ok(result) = rx.try_recv()
        {
            self.start.status_for = key.clone();
            self.start.status = Some(result);
            self.start.pending_status = None;
        }
        if let Some(rx) = &self.start.pending_create
            && let Ok(result) = rx.try_recv()
        {
            match result {
                Ok(code) => self.start.room_input = code,
                Err(e) => self.start.error = Some(t!("start-create-failed", error = e.to_string())),
            }
            self.start.pending_create = None;
        }
        // Ask how full the room is whenever the room or the server changes.
        if self.screen == super::Screen::Start
            && self.start.pending_status.is_none()
            && let Ok(target) = self.target()
        {
            let key = format!("{}|{}", target.server, target.room);
            let stale = self.start.checked_at.is_none_or(|t| t.elapsed() > STATUS_REFRESH);
            if (key != self.start.status_for || stale)
                && let Some(base) = Self::http_base(&target)
            {
                self.start.checked_at = Some(Instant::now());
                ctx.request_repaint_after(STATUS_REFRESH);
                let (tx, rx) = mpsc::channel();
                let ctx = ctx.clone();
                self.rt.spawn(async move {
                    let r = room_api::room_status(&base, &target.trust, &target.room).await;
                    let _ = tx.send(r.map_err(|e| format!("{e:#}")));
                    ctx.request_repaint();
                });
                self.start.pending_status = Some((key, rx));
            }
        }
    }

    fn create_room(&mut self, ctx: &egui::Context) {
        self.start.error = None;
        if self.settings.server_mode == ServerMode::Host {
            self.start.room_input = kaiwa_protocol::RoomCode::generate(&mut rand::rng()).to_string();
            return;
        }
        let url = self.settings.server_url.trim().to_string();
        let Some(base) = kaiwa_engine::signaling::ServerUrl::parse(&url).ok().map(|u| u.http_base()) else {
            self.start.error = Some(t!("start-enter-server"));
            return;
        };
        let trust = match self.server_trust(&url) {
            Ok(t) => t,
            Err(e) => {
                self.start.error = Some(e);
                return;
            }
        };
        let (tx, rx) = mpsc::channel();
        let ctx = ctx.clone();
        self.rt.spawn(async move {
            let _ = tx.send(room_api::create_room(&base, &trust).await.map_err(|e| format!("{e:#}")));
            ctx.request_repaint();
        });
        self.start.pending_create = Some(rx);
    }

    pub(super) fn start_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                ui.vertical_centered(|ui| {
                    ui.add_space(36.0);
                    ui.label(RichText::new("Kaiwa").size(34.0).strong());
                    ui.label(RichText::new(t!("start-tagline")).color(theme::MUTED_TEXT));
                    ui.add_space(18.0);
                    ui.allocate_ui(egui::vec2(520.0, 0.0), |ui| {
                        theme::card().show(ui, |ui| {
                            ui.set_width(470.0);
                            ui.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| {
                                self.start_form_ui(ui, &ctx)
                            });
                        });
                    });
                });
            });
        });
    }

    fn start_form_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let label = ui.label(t!("start-your-name"));
        ui.add(egui::TextEdit::singleline(&mut self.settings.name).desired_width(f32::INFINITY))
            .labelled_by(label.id);
        let label = ui.label(t!("start-room"));
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut self.start.room_input)
                    .hint_text(t!("start-room-hint"))
                    .desired_width(300.0),
            )
            .labelled_by(label.id);
            if ui.button(t!("start-create-room")).clicked() {
                self.create_room(ctx);
            }
        });
        // Room status and the join link.
        match self.target() {
            Ok(target) => {
                let key = format!("{}|{}", target.server, target.room);
                let status = match (&self.start.status, key == self.start.status_for) {
                    (Some(Ok(s)), true) => {
                        let color = if s.participants >= s.capacity { theme::DANGER } else { theme::GOOD };
                        RichText::new(s.describe()).color(color)
                    }
                    (Some(Err(e)), true) => {
                        RichText::new(t!("start-room-status-unknown", error = e.to_string()))
                            .color(theme::WARN)
                    }
                    _ => RichText::new(t!("start-checking-room")).color(theme::MUTED_TEXT),
                };
                ui.label(status);
                if let Some(h) = self.hosting() {
                    let link = h.join_link(&target.room);
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(&link).monospace().color(theme::ACCENT));
                        if ui.button(t!("copy-link")).clicked() {
                            ui.ctx().copy_text(link.clone());
                        }
                    });
                }
            }
            Err(e) if !self.start.room_input.trim().is_empty() => {
                ui.label(RichText::new(e).color(theme::WARN));
            }
            Err(_) => {}
        }
        ui.separator();
        ui.label(RichText::new(t!("start-server")).strong());
        let before = self.settings.server_mode;
        ui.radio_value(&mut self.settings.server_mode, ServerMode::Host, t!("start-host-here"));
        ui.radio_value(&mut self.settings.server_mode, ServerMode::Remote, t!("start-use-server"));
        if before != self.settings.server_mode
            && self.settings.server_mode == ServerMode::Host
            && matches!(self.host, HostState::Off | HostState::Failed(_))
        {
            self.start_hosting(Some(ctx));
        }
        let mut restart = false;
        match self.settings.server_mode {
            ServerMode::Host => match &self.host {
                HostState::Ready(h) => {
                    ui.label(
                        RichText::new(t!("start-hosting-on", port = h.addr.port())).color(theme::MUTED_TEXT),
                    );
                    ui.label(
                        RichText::new(t!(
                            "start-certificate-fingerprint",
                            fingerprint = h.fingerprint.to_string()
                        ))
                        .small()
                        .monospace()
                        .color(theme::MUTED_TEXT),
                    );
                    if h.ice != self.settings.hosted_ice() {
                        ui.label(RichText::new(t!("start-host-stale-ice")).color(theme::WARN));
                        restart = ui
                            .button(t!("start-host-restart"))
                            .on_hover_text(t!("start-host-restart-hover"))
                            .clicked();
                    }
                }
                HostState::Failed(e) => {
                    ui.label(
                        RichText::new(t!("start-host-failed", error = e.to_string())).color(theme::DANGER),
                    );
                }
                _ => {
                    ui.label(RichText::new(t!("start-host-starting")).color(theme::MUTED_TEXT));
                }
            },
            ServerMode::Remote => {
                ui.add(
                    egui::TextEdit::singleline(&mut self.settings.server_url)
                        .hint_text("wss://host:8443/ws")
                        .desired_width(f32::INFINITY),
                );
                ui.add(
                    egui::TextEdit::singleline(&mut self.settings.server_fingerprint)
                        .hint_text(t!("start-pin-hint"))
                        .desired_width(f32::INFINITY),
                );
                self.remembered_server_ui(ui);
            }
        }
        if restart {
            self.start_hosting(Some(ctx));
        }
        egui::CollapsingHeader::new(t!("start-settings")).show(ui, |ui| self.settings_form_ui(ui));
        self.language_ui(ui);
        if let Some(e) = &self.start.error {
            ui.label(RichText::new(e).color(theme::DANGER));
        }
        if let Some(n) = &self.trust.notice {
            ui.label(RichText::new(n).color(theme::WARN));
        }
        if self.trust.probing() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(RichText::new(t!("start-checking-certificate")).color(theme::MUTED_TEXT));
            });
        }
        ui.add_space(6.0);
        let ready = self.target().is_ok();
        if ui.add_enabled(ready, theme::primary(t!("continue"))).clicked() {
            self.go_prejoin(ctx);
        }
    }

    /// The certificate remembered for the remote server (trust on first use), with a way to forget it.
    fn remembered_server_ui(&mut self, ui: &mut egui::Ui) {
        if self.manual_pin() {
            return;
        }
        let Ok(url) = kaiwa_engine::signaling::ServerUrl::parse(self.settings.server_url.trim()) else {
            return;
        };
        let Some(fp) = self.trust.remembered(&url) else { return };
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(t!("start-trusted-certificate", fingerprint = fp.to_string()))
                    .small()
                    .monospace()
                    .color(theme::MUTED_TEXT),
            );
            if ui.small_button(t!("forget")).on_hover_text(t!("start-forget-hover")).clicked() {
                self.trust.forget(&url);
            }
        });
    }

    /// The language menu: the system's (named with what it is now), or one of the three.
    fn language_ui(&mut self, ui: &mut egui::Ui) {
        let name = |choice: LanguageChoice| match choice {
            LanguageChoice::System => t!("language-system", language = Language::of_system().own_name()),
            LanguageChoice::Fixed(l) => l.own_name().to_owned(),
        };
        let before = self.settings.language;
        ui.horizontal(|ui| {
            let label = ui.label(t!("language"));
            let menu =
                egui::ComboBox::from_id_salt("language").selected_text(name(before)).show_ui(ui, |ui| {
                    let choices =
                        [LanguageChoice::System].into_iter().chain(Language::ALL.map(LanguageChoice::Fixed));
                    for choice in choices {
                        ui.selectable_value(&mut self.settings.language, choice, name(choice));
                    }
                });
            menu.response.labelled_by(label.id);
        });
        if self.settings.language != before {
            i18n::set_language(self.settings.language.language());
        }
    }

    fn settings_form_ui(&mut self, ui: &mut egui::Ui) {
        let s = &mut self.settings;
        let stun = self.start.stun_text.get_or_insert_with(|| s.stun.join(" "));
        ui.label(t!("settings-stun"));
        if ui.add(egui::TextEdit::singleline(stun).hint_text("stun:stun.example.org:3478")).changed() {
            s.stun = stun.split_whitespace().map(str::to_string).collect();
        }
        let turn = self.start.turn_text.get_or_insert_with(|| s.turn.join(" "));
        ui.label(t!("settings-turn")).on_hover_text(t!("settings-turn-hover"));
        if ui.add(egui::TextEdit::singleline(turn).hint_text("turn:turn.example.org:3478")).changed() {
            s.turn = turn.split_whitespace().map(str::to_string).collect();
        }
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut s.turn_user)
                    .hint_text(t!("settings-turn-user"))
                    .desired_width(150.0),
            );
            ui.add(
                egui::TextEdit::singleline(&mut s.turn_password)
                    .hint_text(t!("settings-turn-password"))
                    .password(true)
                    .desired_width(150.0),
            );
        });
        ui.add(
            egui::TextEdit::singleline(&mut s.turn_secret)
                .hint_text(t!("settings-turn-secret"))
                .password(true)
                .desired_width(306.0),
        )
        .on_hover_text(t!("settings-turn-secret-hover"));
        ui.horizontal(|ui| {
            ui.label(t!("settings-camera-size"));
            egui::ComboBox::from_id_salt("resolution")
                .selected_text(format!("{}×{}", s.width, s.height))
                .show_ui(ui, |ui| {
                    for (w, h) in [(320, 240), (640, 360), (640, 480), (1280, 720)] {
                        if ui.selectable_label(s.width == w && s.height == h, format!("{w}×{h}")).clicked() {
                            s.width = w;
                            s.height = h;
                        }
                    }
                });
            ui.label(t!("settings-frame-rate"));
            ui.add(egui::DragValue::new(&mut s.fps).range(5..=60).suffix(t!("settings-fps-suffix")));
        });
    }
}

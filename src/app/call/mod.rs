//! The call screen: [`CallState`] (events and actions into state, tested on its own), the view that draws
//! it and returns actions (`view.rs`), and here the glue that feeds one into the other and carries the
//! actions out to the running call.

mod chat;
mod layout;
mod overlay;
mod state;
mod tile;
mod view;
mod words;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use eframe::egui;

pub use state::{Action, CallState};
#[cfg(test)]
pub use state::{Overlay, PeerView, Pin};
pub use view::CallUi;
#[cfg(test)]
pub use words::stats_text;

use super::KaiwaApp;
use super::media_sources::read_level;
use super::session::{Command, Session};

/// A call in progress: the engine's session, what the screen shows, and the view's own things.
pub struct Call {
    pub session: Session,
    pub state: CallState,
    pub view: CallUi,
}

impl Call {
    /// `volumes`: the per-person volumes set so far in this run of the app, by name.
    pub fn new(session: Session, room: String, link: Option<String>, volumes: HashMap<String, f32>) -> Call {
        Call { session, state: CallState::new(room, link, volumes), view: CallUi::new() }
    }

    /// Takes in what the call reported since the last frame, and who is speaking now.
    pub fn poll(&mut self, now: Instant) {
        while let Some(update) = self.session.try_update() {
            self.state.apply(update);
        }
        self.state.update_speaking(read_level(&self.session.mic_level), now);
    }

    /// Whether a picture of `peer` has been shown.
    #[cfg(test)]
    pub fn has_video(&self, peer: &PeerView) -> bool {
        self.view.has_video(peer)
    }

    /// Carries out an action other than leaving: the state changes, the call is told.
    fn act(&mut self, action: Action) {
        if let Action::SetAudioProcessing(on) = action {
            self.session.audio_processing = on;
        }
        match self.state.act(action) {
            Some(Command::Camera(on)) => {
                self.session.camera_on.store(on, Ordering::Relaxed);
                self.session.send(Command::Camera(on));
            }
            Some(command) => self.session.send(command),
            None => {}
        }
    }
}

impl KaiwaApp {
    pub(super) fn call_screen_ui(&mut self, ui: &mut egui::Ui) {
        let Some(call) = &mut self.call else {
            self.screen = super::Screen::Start;
            return;
        };
        let actions = view::call_ui(ui, &call.state, &call.session, &mut call.view);
        let mut leave = false;
        for action in actions {
            match action {
                Action::Leave => leave = true,
                Action::ToggleFullscreen => {
                    let on = ui.ctx().input(|i| i.viewport().fullscreen.unwrap_or(false));
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Fullscreen(!on));
                }
                Action::SetAudioProcessing(on) => {
                    // Kept for the next call too.
                    self.settings.audio_processing = on;
                    call.act(action);
                }
                action => call.act(action),
            }
        }
        if leave {
            self.leave();
        }
    }
}

//! The network check on the pre-join screen: run once the server is known (on the engine's runtime, never
//! on the UI thread), shown as the engine words it (`kaiwa_engine::net::check`), again on request.

use std::sync::mpsc;

use eframe::egui::{self, RichText};
use kaiwa_engine::net::check::CheckReport;
use kaiwa_engine::net::{CheckOptions, run_check};
use kaiwa_engine::signaling::{ServerUrl, Trust};

use super::theme;
use crate::app::i18n::t;

pub enum NetCheck {
    Running(mpsc::Receiver<CheckReport>),
    Done(CheckReport),
}

impl NetCheck {
    /// Starts the check against `server` on `rt`; the UI is repainted when it is done.
    pub fn start(
        rt: &tokio::runtime::Handle,
        ctx: &egui::Context,
        server: &str,
        trust: Trust,
    ) -> Option<NetCheck> {
        let url = ServerUrl::parse(server).ok()?;
        let (tx, rx) = mpsc::channel();
        let ctx = ctx.clone();
        rt.spawn(async move {
            let report = run_check(&CheckOptions::new(url, trust)).await;
            let _ = tx.send(report);
            ctx.request_repaint();
        });
        Some(NetCheck::Running(rx))
    }

    /// The report, once there is one.
    pub fn report(&mut self) -> Option<&CheckReport> {
        if let NetCheck::Running(rx) = self
            && let Ok(report) = rx.try_recv()
        {
            *self = NetCheck::Done(report);
        }
        match self {
            NetCheck::Done(report) => Some(report),
            NetCheck::Running(_) => None,
        }
    }

    /// The check's card; true when "Check again" was clicked.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> bool {
        let mut again = false;
        ui.label(RichText::new(t!("netcheck-title")).strong());
        match self.report() {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(t!("netcheck-checking"));
                });
            }
            Some(report) => {
                for (i, finding) in report.findings().iter().enumerate() {
                    // (The app's font has no check marks: the colour says good or bad.)
                    let color = if finding.ok { theme::GOOD } else { theme::WARN };
                    let text = RichText::new(format!("• {}", finding.text)).color(color);
                    ui.label(if i == 0 { text.strong() } else { text.small() });
                }
                again = ui.small_button(t!("netcheck-again")).clicked();
            }
        }
        again
    }
}

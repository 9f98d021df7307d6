//! The network check on the pre-join screen: run once the server is known (on the engine's runtime, never
//! on the UI thread), its findings (`kaiwa_engine::net::check::Finding`) in the app's language, again on
//! request.

use std::sync::mpsc;

use eframe::egui::{self, RichText};
use kaiwa_engine::net::check::CheckReport;
use kaiwa_engine::net::{CheckOptions, run_check};
use kaiwa_engine::signaling::{ServerUrl, Trust};

use super::theme;
use crate::app::i18n::t;
use kaiwa_engine::net::check::Finding;

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
                    let color = if finding.ok() { theme::GOOD } else { theme::WARN };
                    let text = RichText::new(format!("• {}", words(finding))).color(color);
                    ui.label(if i == 0 { text.strong() } else { text.small() });
                }
                again = ui.small_button(t!("netcheck-again")).clicked();
            }
        }
        again
    }
}

/// A finding in the app's language.
fn words(finding: &Finding) -> String {
    use Finding as K;
    match finding {
        K::NoCalls => t!("check-no-calls"),
        K::DirectLikely => t!("check-direct-likely"),
        K::RelayNeeded { via } => t!("check-relay-needed", via = via.clone()),
        K::Unchecked => t!("check-unchecked"),
        K::NoPath => t!("check-no-path"),
        K::ServerAnswers { ms } => t!("check-server-answers", ms = *ms),
        K::ServerSilent { error } => t!("check-server-silent", error = error.clone()),
        K::PublicAddress { ip } => t!("check-public-address", ip = ip.clone()),
        K::NoStunServer => t!("check-no-stun-server"),
        K::StunSilent => t!("check-stun-silent"),
        K::RouterOneForAll => t!("check-router-one-for-all"),
        K::RouterPerDestination => t!("check-router-per-destination"),
        K::NoRelay => t!("check-no-relay"),
        K::RelayWorks { transport } => t!("check-relay-works", transport = transport.clone()),
        K::RelaySilent { transport, error } => {
            t!("check-relay-silent", transport = transport.clone(), error = error.clone())
        }
    }
}

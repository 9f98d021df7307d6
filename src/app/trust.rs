//! Trust on first use for remote `wss://` servers, like SSH host keys. Before the first connection to a server
//! this run, a probe handshake learns the certificate it presents (`kaiwa_engine::signaling::probe_certificate`):
//! - a certificate the known-hosts file (`known_hosts` in the config folder) has for this `host:port`: go on,
//!   pinned to it;
//! - no entry and a certificate authority vouches for it: go on as before (Web PKI);
//! - no entry and self-signed: a dialog shows host and SHA-256 fingerprint; **Trust** remembers it;
//! - an entry with another fingerprint: refused with a warning naming both, until the user forgets the old
//!   entry (like `ssh-keygen -R`).
//!
//! A fingerprint typed into the start screen (or `--trust-fingerprint`) is pinned as given, without a probe.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use eframe::egui::{self, RichText};
use kaiwa_engine::signaling::{PresentedCert, ServerUrl, Trust, probe_certificate};
use kaiwa_tls::{Fingerprint, HostCheck, KnownHosts};

use super::{KaiwaApp, theme};
use crate::app::i18n::t;

const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where to go once the server is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Prejoin,
    Join,
}

/// What the dialog asks or says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// A self-signed server seen for the first time.
    Unknown { host: String, port: u16, fingerprint: Fingerprint, next: Next },
    /// The server's certificate is not the one trusted before.
    Changed { host: String, port: u16, known: Fingerprint, seen: Fingerprint },
}

type ProbeResult = Result<PresentedCert, String>;

pub struct TrustState {
    /// The known-hosts file's entries (None: nothing is remembered, e.g. no config folder).
    known: Option<KnownHosts>,
    /// A probe under way: for which `host:port`, what to do after, its answer.
    probe: Option<(String, Next, mpsc::Receiver<ProbeResult>)>,
    /// The `host:port` checked this run and the trust to use for it.
    verified: Option<(String, Trust)>,
    pub prompt: Option<Prompt>,
    /// A line for the start screen (e.g. after forgetting a host).
    pub notice: Option<String>,
}

impl TrustState {
    /// Reads the known-hosts file at `path`; an unreadable file counts as empty (and is logged).
    pub fn new(path: Option<PathBuf>) -> TrustState {
        let known = path.as_ref().map(|path| {
            let hosts = KnownHosts::load(path).unwrap_or_else(|e| {
                tracing::warn!("{e}");
                KnownHosts::empty(path)
            });
            if !hosts.malformed_lines().is_empty() {
                tracing::warn!("{}: ignoring lines {:?}", path.display(), hosts.malformed_lines());
            }
            hosts
        });
        TrustState { known, probe: None, verified: None, prompt: None, notice: None }
    }

    pub fn default_path() -> Option<PathBuf> {
        super::paths::config_dir().map(|d| d.join("known_hosts"))
    }

    /// Points at another file (tests), dropping what was loaded.
    #[cfg(test)]
    pub fn set_path(&mut self, path: PathBuf) {
        *self = TrustState::new(Some(path));
    }

    fn known(&mut self) -> Option<&mut KnownHosts> {
        self.known.as_mut()
    }

    /// The remembered fingerprint of a server, used as the pin for signaling and the room API.
    pub fn remembered(&self, url: &ServerUrl) -> Option<Fingerprint> {
        self.known.as_ref()?.get(&url.host, url.port)
    }

    /// Forgets a server's certificate (the start screen's **Forget**); the next connection asks again.
    pub fn forget(&mut self, url: &ServerUrl) {
        self.verified = None;
        if let Some(known) = self.known.as_mut()
            && let Err(e) = known.forget(&url.host, url.port)
        {
            self.notice = Some(e.to_string());
        }
    }

    pub fn probing(&self) -> bool {
        self.probe.is_some()
    }
}

fn key(url: &ServerUrl) -> String {
    kaiwa_tls::known_hosts::host_key(&url.host, url.port)
}

impl KaiwaApp {
    /// True when `server` may be connected to now with `trust`; otherwise a probe starts (or runs) and the
    /// app goes on to `next` by itself once the user has decided.
    pub(super) fn server_trusted(
        &mut self,
        ctx: &egui::Context,
        server: &str,
        trust: Trust,
        next: Next,
    ) -> bool {
        let Ok(url) = ServerUrl::parse(server) else { return true };
        // Plain ws://, a typed fingerprint, or the server this app hosts: nothing to learn.
        if !url.secure || self.manual_pin() || self.hosting().is_some_and(|h| h.ws_url() == server) {
            return true;
        }
        let k = key(&url);
        if self.trust.verified.as_ref().is_some_and(|(v, t)| *v == k && *t == trust) {
            return true;
        }
        if self.trust.prompt.is_some() || self.trust.probe.as_ref().is_some_and(|(p, _, _)| *p == k) {
            return false;
        }
        let (tx, rx) = mpsc::channel();
        let ctx = ctx.clone();
        self.rt.spawn(async move {
            let r = probe_certificate(&url, PROBE_TIMEOUT).await.map_err(|e| e.to_string());
            let _ = tx.send(r);
            ctx.request_repaint();
        });
        self.trust.probe = Some((k, next, rx));
        false
    }

    /// Whether the user pinned a fingerprint by hand (start screen or `--trust-fingerprint`).
    pub(super) fn manual_pin(&self) -> bool {
        !self.settings.server_fingerprint.trim().is_empty()
    }

    /// Takes a finished probe's answer.
    pub(super) fn poll_trust(&mut self, ctx: &egui::Context) {
        let Some((k, next, rx)) = &self.trust.probe else { return };
        let result = match rx.try_recv() {
            Ok(r) => r,
            Err(mpsc::TryRecvError::Empty) => return,
            Err(mpsc::TryRecvError::Disconnected) => Err(t!("trust-check-interrupted")),
        };
        let (k, next) = (k.clone(), *next);
        self.trust.probe = None;
        let Ok(target) = self.target() else { return };
        let Ok(url) = ServerUrl::parse(&target.server) else { return };
        if key(&url) != k {
            return; // The address changed meanwhile; the next Continue checks again.
        }
        let cert = match result {
            Ok(cert) => cert,
            Err(e) => {
                self.start.error = Some(t!("trust-check-failed", error = e.to_string()));
                self.auto_join = false;
                return;
            }
        };
        let (host, port) = (url.host.clone(), url.port);
        let check = match self.trust.known() {
            Some(known) => known.check(&host, port, cert.fingerprint),
            None => HostCheck::Unknown,
        };
        match check {
            HostCheck::Known => self.trusted(ctx, k, Trust::Pinned(cert.fingerprint), next),
            HostCheck::Unknown if cert.authority_valid => self.trusted(ctx, k, Trust::WebPki, next),
            HostCheck::Unknown => {
                self.trust.prompt = Some(Prompt::Unknown { host, port, fingerprint: cert.fingerprint, next });
            }
            HostCheck::Changed { known } => {
                tracing::warn!(%host, port, %known, seen = %cert.fingerprint, "server certificate changed");
                self.trust.prompt = Some(Prompt::Changed { host, port, known, seen: cert.fingerprint });
            }
        }
    }

    fn trusted(&mut self, ctx: &egui::Context, k: String, trust: Trust, next: Next) {
        self.trust.verified = Some((k, trust));
        match next {
            Next::Prejoin => self.go_prejoin(ctx),
            Next::Join => self.join(ctx),
        }
    }

    /// The trust dialog, over whatever screen is showing.
    pub(super) fn trust_dialog_ui(&mut self, ui: &mut egui::Ui) {
        let Some(prompt) = self.trust.prompt.clone() else { return };
        let ctx = ui.ctx().clone();
        let mut decision: Option<bool> = None;
        egui::Modal::new(egui::Id::unique("trust-dialog")).show(&ctx, |ui| {
            ui.set_max_width(560.0);
            match &prompt {
                Prompt::Unknown { host, port, fingerprint, .. } => {
                    ui.label(RichText::new(t!("trust-title")).size(20.0).strong());
                    ui.label(t!("trust-explain", server = format!("{host}:{port}")));
                    ui.label(RichText::new(t!("trust-fingerprint")).strong());
                    ui.label(RichText::new(fingerprint.to_string()).monospace().color(theme::ACCENT));
                    ui.horizontal(|ui| {
                        if ui.add(theme::primary(t!("trust-trust"))).clicked() {
                            decision = Some(true);
                        }
                        if ui.button(t!("cancel")).clicked() {
                            decision = Some(false);
                        }
                    });
                }
                Prompt::Changed { host, port, known, seen } => {
                    ui.label(
                        RichText::new(t!("trust-changed-title")).size(20.0).strong().color(theme::DANGER),
                    );
                    ui.label(t!("trust-changed-explain", server = format!("{host}:{port}")));
                    ui.label(RichText::new(t!("trust-before")).strong());
                    ui.label(RichText::new(known.to_string()).monospace());
                    ui.label(RichText::new(t!("trust-now")).strong());
                    ui.label(RichText::new(seen.to_string()).monospace().color(theme::DANGER));
                    ui.label(RichText::new(t!("trust-changed-advice")).color(theme::MUTED_TEXT));
                    ui.horizontal(|ui| {
                        if ui.add(theme::danger(t!("trust-forget-old"))).clicked() {
                            decision = Some(true);
                        }
                        if ui.button(t!("cancel")).clicked() {
                            decision = Some(false);
                        }
                    });
                }
            }
        });
        let Some(yes) = decision else { return };
        self.trust.prompt = None;
        self.auto_join = false;
        match (prompt, yes) {
            (Prompt::Unknown { host, port, fingerprint, next }, true) => {
                let saved = match self.trust.known() {
                    Some(known) => known.trust(&host, port, fingerprint).map_err(|e| e.to_string()),
                    None => Err(t!("trust-no-config-folder")),
                };
                if let Err(e) = saved {
                    self.start.error = Some(t!("trust-not-remembered", error = e.to_string()));
                }
                let k = kaiwa_tls::known_hosts::host_key(&host, port);
                self.trusted(&ctx, k, Trust::Pinned(fingerprint), next);
            }
            (Prompt::Changed { host, port, .. }, true) => {
                let forgot = match self.trust.known() {
                    Some(known) => known.forget(&host, port).map_err(|e| e.to_string()),
                    None => Ok(false),
                };
                match forgot {
                    Ok(_) => self.trust.notice = Some(t!("trust-forgot", server = format!("{host}:{port}"))),
                    Err(e) => self.start.error = Some(t!("trust-forget-failed", error = e.to_string())),
                }
            }
            (Prompt::Unknown { .. }, false) => self.start.error = Some(t!("trust-refused")),
            (Prompt::Changed { .. }, false) => self.start.error = Some(t!("trust-mismatch")),
        }
    }
}

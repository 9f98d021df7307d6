//! The desktop app: eframe views over the engine. Screens: start (name, room, server) → pre-join (preview,
//! devices) → call (video grid, chat, stats). The engine and the hosted server run on the tokio runtime;
//! this thread only draws and polls channels.

mod call;
mod frame_stats;
mod host;
pub mod i18n;
pub mod link;
mod media_sources;
mod netcheck;
mod options;
mod paths;
mod prejoin;
mod preview;
pub mod room_api;
mod session;
pub mod settings;
mod share;
mod start;
#[cfg(test)]
mod tests;
mod theme;
mod trust;
mod video;

use std::sync::mpsc;

use eframe::egui;
use kaiwa_engine::signaling::{ServerUrl, Trust};

use crate::app::i18n::t;
pub use host::Hosting;
pub use options::Options;
use preview::Preview;
use session::Target;
use settings::{ServerMode, Settings};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Start,
    Prejoin,
    Call,
}

enum HostState {
    Off,
    Starting(mpsc::Receiver<Result<Hosting, String>>),
    Ready(Hosting),
    Failed(String),
}

pub struct KaiwaApp {
    rt: tokio::runtime::Handle,
    pub settings: Settings,
    pub screen: Screen,
    start: start::StartState,
    host: HostState,
    preview: Option<Preview>,
    /// The network check of the pre-join screen.
    net_check: Option<netcheck::NetCheck>,
    preview_texture: video::VideoTexture,
    call: Option<call::Call>,
    /// Per-person volumes set in this run of the app, by name (kept from call to call).
    volumes: std::collections::HashMap<String, f32>,
    /// `--join`: enter the call as soon as the server is known.
    auto_join: bool,
    /// `--prejoin`: open the pre-join screen as soon as the server is known.
    auto_prejoin: bool,
    styled: bool,
    /// Whether to write settings back (tests turn this off).
    pub persist: bool,
    /// Trust on first use of remote self-signed servers (the known-hosts file and the dialog).
    trust: trust::TrustState,
    frame_stats: Option<frame_stats::FrameStats>,
    exit_at: Option<std::time::Instant>,
}

impl KaiwaApp {
    /// `rt` runs the engine and the hosted server; it must outlive the app.
    pub fn new(rt: tokio::runtime::Handle, mut settings: Settings, options: Options) -> KaiwaApp {
        if let Some(name) = options.name.clone() {
            settings.name = name;
        }
        if let Some(server) = options.server.clone() {
            settings.server_mode = ServerMode::Remote;
            settings.server_url = server;
        }
        if options.host {
            settings.server_mode = ServerMode::Host;
        }
        if let Some(fp) = options.trust_fingerprint.clone() {
            settings.server_fingerprint = fp;
        }
        if let Some(bind) = options.bind.clone() {
            settings.media_bind = bind;
        }
        if let Some(listen) = options.listen.clone() {
            settings.host_listen = listen;
        }
        if let Some(codec) = options.video_codec {
            settings.video_codecs = vec![codec];
        }
        i18n::set_language(settings.language.language());
        let mut start = start::StartState::default();
        if let Some(room) = options.room.clone() {
            start.room_input = room;
            if let Ok(link::RoomRef { server: Some(_), .. }) = link::parse_room(&start.room_input) {
                settings.server_mode = ServerMode::Remote;
            }
        }
        let mut app = KaiwaApp {
            rt,
            settings,
            screen: Screen::Start,
            start,
            host: HostState::Off,
            preview: None,
            net_check: None,
            preview_texture: video::VideoTexture::new("preview"),
            call: None,
            volumes: Default::default(),
            auto_join: options.join && options.room.is_some(),
            auto_prejoin: options.prejoin && options.room.is_some(),
            styled: false,
            persist: true,
            trust: trust::TrustState::new(trust::TrustState::default_path()),
            frame_stats: options.frame_stats.then(frame_stats::FrameStats::new),
            exit_at: options
                .exit_after
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| std::time::Instant::now() + std::time::Duration::from_secs_f64(s)),
        };
        if app.settings.server_mode == ServerMode::Host {
            app.start_hosting(None);
        }
        app
    }

    fn start_hosting(&mut self, ctx: Option<&egui::Context>) {
        let (tx, rx) = mpsc::channel();
        let ice = self.settings.hosted_ice();
        let ctx = ctx.cloned();
        // A restart lets the running server go first and takes its address, so links given out stay valid.
        let previous = match std::mem::replace(&mut self.host, HostState::Off) {
            HostState::Ready(h) => Some(h),
            _ => None,
        };
        let listen =
            previous.as_ref().map_or_else(|| self.settings.host_listen.clone(), |h| h.addr.to_string());
        self.rt.spawn(async move {
            if let Some(h) = previous {
                h.stop().await;
            }
            let _ = tx.send(Hosting::start(&listen, ice).await.map_err(|e| format!("{e:#}")));
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        });
        self.host = HostState::Starting(rx);
    }

    pub fn hosting(&self) -> Option<&Hosting> {
        match &self.host {
            HostState::Ready(h) => Some(h),
            _ => None,
        }
    }

    /// Where to connect and whom to trust, from the room field and the server settings.
    fn target(&self) -> Result<Target, String> {
        let room = link::parse_room(&self.start.room_input)?;
        let pinned = |server: &str| self.server_trust(server);
        let room_text = room.code.to_string();
        if let Some(server) = room.server {
            return Ok(Target { trust: pinned(&server)?, server, room: room_text, hosted: false });
        }
        match self.settings.server_mode {
            ServerMode::Host => match &self.host {
                HostState::Ready(h) => {
                    Ok(Target { server: h.ws_url(), trust: h.trust(), room: room_text, hosted: true })
                }
                HostState::Failed(e) => Err(t!("start-host-failed", error = e.to_string())),
                _ => Err(t!("start-host-still-starting")),
            },
            ServerMode::Remote => {
                let url = self.settings.server_url.trim();
                if url.is_empty() {
                    return Err(t!("start-enter-server-example"));
                }
                ServerUrl::parse(url).map_err(|e| t!("server-address-error", error = e.to_string()))?;
                Ok(Target { server: url.to_string(), trust: pinned(url)?, room: room_text, hosted: false })
            }
        }
    }

    /// How to trust a remote server: a typed fingerprint, else the one remembered for it (trust on first
    /// use), else the Web PKI.
    fn server_trust(&self, server: &str) -> Result<Trust, String> {
        let fp = self.settings.server_fingerprint.trim();
        if fp.is_empty() {
            let remembered = ServerUrl::parse(server).ok().and_then(|u| self.trust.remembered(&u));
            Ok(remembered.map_or(Trust::WebPki, Trust::Pinned))
        } else {
            fp.parse().map(Trust::Pinned).map_err(|e| t!("server-fingerprint-error", error = e.to_string()))
        }
    }

    fn http_base(target: &Target) -> Option<String> {
        ServerUrl::parse(&target.server).ok().map(|u| u.http_base())
    }

    fn save_settings(&self) {
        if self.persist {
            self.settings.save();
        }
    }

    /// Uses another known-hosts file (tests).
    #[cfg(test)]
    pub fn set_known_hosts(&mut self, path: std::path::PathBuf) {
        self.trust.set_path(path);
    }

    pub fn go_prejoin(&mut self, ctx: &egui::Context) {
        match self.target() {
            Ok(t) if !self.server_trusted(ctx, &t.server, t.trust, trust::Next::Prejoin) => {}
            Ok(t) => {
                self.start.error = None;
                self.save_settings();
                self.preview = Some(Preview::start(ctx, &self.settings));
                self.net_check = netcheck::NetCheck::start(&self.rt, ctx, &t.server, t.trust);
                self.screen = Screen::Prejoin;
            }
            Err(e) => self.start.error = Some(e),
        }
    }

    pub fn join(&mut self, ctx: &egui::Context) {
        let target = match self.target() {
            Ok(t) => t,
            Err(e) => {
                self.start.error = Some(e);
                self.screen = Screen::Start;
                return;
            }
        };
        if !self.server_trusted(ctx, &target.server, target.trust, trust::Next::Join) {
            return;
        }
        self.save_settings();
        let link = self.hosting().map(|h| h.join_link(&target.room));
        let room = target.room.clone();
        let session = session::Session::start(&self.rt, ctx, target, &self.settings, self.preview.take());
        self.call = Some(call::Call::new(session, room, link, self.volumes.clone()));
        self.screen = Screen::Call;
    }

    /// Back to the start screen; the call task leaves the room on its own.
    pub fn leave(&mut self) {
        if let Some(call) = self.call.take() {
            call.session.send(session::Command::Leave);
            self.volumes = call.state.volumes;
        }
        // Switches changed during the call (echo cancellation) are kept.
        self.save_settings();
        self.drop_preview();
        self.screen = Screen::Start;
    }

    fn drop_preview(&mut self) {
        if let Some(p) = self.preview.take() {
            // Joining the preview threads waits for a frame: not on this thread.
            self.rt.spawn_blocking(move || drop(p));
        }
    }

    /// Everything that is not drawing: channels from the runtime.
    fn poll(&mut self, ctx: &egui::Context) {
        if let HostState::Starting(rx) = &self.host {
            match rx.try_recv() {
                Ok(Ok(h)) => self.host = HostState::Ready(h),
                Ok(Err(e)) => self.host = HostState::Failed(e),
                Err(mpsc::TryRecvError::Empty) => {
                    ctx.request_repaint_after(std::time::Duration::from_millis(100))
                }
                Err(mpsc::TryRecvError::Disconnected) => self.host = HostState::Failed("stopped".into()),
            }
        }
        self.poll_start(ctx);
        self.poll_trust(ctx);
        if self.auto_join {
            match self.target() {
                Ok(_) => {
                    self.auto_join = false;
                    self.join(ctx);
                }
                Err(_) if matches!(self.host, HostState::Starting(_)) => {}
                Err(e) => {
                    self.auto_join = false;
                    self.start.error = Some(e);
                }
            }
        }
        if self.auto_prejoin && self.target().is_ok() {
            self.auto_prejoin = false;
            self.go_prejoin(ctx);
        }
        if let Some(call) = &mut self.call {
            call.poll(std::time::Instant::now());
        }
    }
}

impl eframe::App for KaiwaApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        let now = std::time::Instant::now();
        if let Some(stats) = &mut self.frame_stats {
            let (tiles, shown) = self.call.as_ref().map_or((0, Vec::new()), |c| {
                let shown =
                    c.state.peers.iter().map(|p| (p.info.id.clone(), c.view.frames_shown(p))).collect();
                (c.state.here(), shown)
            });
            stats.set_call(now, tiles, shown);
            stats.on_frame(now, frame.info().cpu_usage);
        }
        if let Some(at) = self.exit_at {
            if now >= at {
                self.exit_at = None;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            } else {
                ctx.request_repaint_after(at - now);
            }
        }
        if !self.styled {
            theme::apply(ctx);
            self.styled = true;
        }
        self.poll(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        match self.screen {
            Screen::Start => self.start_ui(ui),
            Screen::Prejoin => self.prejoin_ui(ui),
            Screen::Call => self.call_screen_ui(ui),
        }
        self.trust_dialog_ui(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(stats) = &mut self.frame_stats {
            eprintln!("{}", stats.finish());
        }
        self.save_settings();
        self.leave();
    }
}

/// Opens the window; returns when it is closed.
pub fn run(rt: &tokio::runtime::Runtime, options: Options) -> anyhow::Result<()> {
    let (w, h) = options
        .window
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<f32>().ok()?, h.parse::<f32>().ok()?)))
        .unwrap_or((1280.0, 800.0));
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Kaiwa")
            .with_app_id("kaiwa")
            .with_inner_size([w, h])
            .with_min_inner_size([640.0, 480.0]),
        renderer: eframe::Renderer::Glow,
        // Our own system font provider instead (`theme::apply`), so the tests draw with the same fonts.
        system_font_fallback: false,
        ..Default::default()
    };
    let handle = rt.handle().clone();
    eframe::run_native(
        "Kaiwa",
        native,
        Box::new(move |_cc| Ok(Box::new(KaiwaApp::new(handle, Settings::load(), options)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

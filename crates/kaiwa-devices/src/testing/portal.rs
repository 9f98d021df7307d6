//! A desktop whose screen-cast portal can be tested without a person or a GPU: a private D-Bus session
//! bus, PipeWire and WirePlumber, Debian's real `xdg-desktop-portal` (the frontend apps talk to, which opens
//! the restricted PipeWire connection), and behind it a portal backend of ours, in this process, that
//! "chooses" a screen at once and streams the picture the test shows ([`PortalDesktop::show`]) as a real
//! PipeWire video source.
//!
//! Why our own backend: `xdg-desktop-portal-wlr` (the one for sway, which runs headless) refuses to start
//! a cast when the compositor cannot offer DMA-BUF, which needs a GPU render node
//! (emersion/xdg-desktop-portal-wlr#289), and the GNOME and KDE backends ask in a dialog.
//!
//! Clients reach it through `DBUS_SESSION_BUS_ADDRESS` and `XDG_RUNTIME_DIR` ([`PortalDesktop::env`]).

mod backend;
mod source;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MISSING: &str = "the portal tests need dbus-daemon, pipewire, wireplumber and xdg-desktop-portal: run \
                       `scripts/setup.sh test`";
const FRONTEND: &str = "/usr/libexec/xdg-desktop-portal";
/// The backend's bus name; `UseIn` matches `XDG_CURRENT_DESKTOP`.
const BACKEND_NAME: &str = "org.freedesktop.impl.portal.desktop.kaiwatest";
const DESKTOP: &str = "kaiwatest";

/// The shared picture: `width × height` pixels, BGRx.
pub(super) struct Screen {
    pub width: u32,
    pub height: u32,
    pub bgrx: Mutex<Vec<u8>>,
}

/// The running desktop; everything stops (and its directory goes) on drop.
pub struct PortalDesktop {
    dir: PathBuf,
    bus: String,
    screen: Arc<Screen>,
    children: Vec<Child>,
    source: Option<source::Source>,
    backend: Option<backend::Backend>,
}

impl PortalDesktop {
    /// Starts a desktop whose one screen is `width × height`, showing `pixels` (0xRRGGBB each).
    pub fn start(width: u32, height: u32, pixels: &[u32]) -> Result<PortalDesktop, String> {
        for tool in ["dbus-daemon", "pipewire", "wireplumber", FRONTEND] {
            if !super::on_path(tool) && !std::path::Path::new(tool).exists() {
                return Err(format!("`{tool}` not found: {MISSING}"));
            }
        }
        let dir = super::unique_dir()?;
        let portals = dir.join("portals");
        std::fs::create_dir_all(&portals).map_err(|e| e.to_string())?;
        std::fs::write(
            portals.join("kaiwatest.portal"),
            format!(
                "[portal]\nDBusName={BACKEND_NAME}\nInterfaces=org.freedesktop.impl.portal.ScreenCast;\nUseIn={DESKTOP}\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        let bus_socket = dir.join("bus");
        let bus = format!("unix:path={}", bus_socket.display());
        let screen = Arc::new(Screen { width, height, bgrx: Mutex::new(bgrx(pixels)) });
        let mut desktop = PortalDesktop {
            dir: dir.clone(),
            bus: bus.clone(),
            screen,
            children: Vec::new(),
            source: None,
            backend: None,
        };
        // A bus with no activatable services: nothing starts behind the test's back (the document portal
        // would mount a FUSE file system).
        let config = dir.join("bus.conf");
        std::fs::write(&config, bus_config(&bus)).map_err(|e| e.to_string())?;
        desktop.spawn(
            "dbus-daemon",
            Command::new("dbus-daemon").arg(format!("--config-file={}", config.display())).arg("--nofork"),
        )?;
        wait_for(&bus_socket, "the D-Bus session bus")?;
        desktop.spawn("pipewire", &mut Command::new("pipewire"))?;
        wait_for(&dir.join("pipewire-0"), "PipeWire")?;
        desktop.spawn("wireplumber", &mut Command::new("wireplumber"))?;
        desktop.source = Some(source::Source::start(&dir.join("pipewire-0"), desktop.screen.clone())?);
        let node = desktop.source.as_ref().map(|s| s.node_id).unwrap_or_default();
        desktop.backend = Some(backend::Backend::start(&bus, BACKEND_NAME, node, (width, height))?);
        desktop
            .spawn("xdg-desktop-portal", Command::new(FRONTEND).env("XDG_DESKTOP_PORTAL_DIR", &portals))?;
        backend::wait_for_name(&bus, "org.freedesktop.portal.Desktop", Duration::from_secs(10))?;
        Ok(desktop)
    }

    /// Shows `pixels` (0xRRGGBB each, the screen's size) from the next picture on.
    pub fn show(&self, pixels: &[u32]) {
        *self.screen.bgrx.lock().unwrap_or_else(|p| p.into_inner()) = bgrx(pixels);
    }

    /// Ends the screen's stream, as a desktop does when the person stops sharing from its own controls.
    pub fn stop_sharing(&mut self) {
        drop(self.source.take());
    }

    /// What a client needs to find this desktop.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.bus.clone()),
            ("XDG_RUNTIME_DIR".into(), self.dir.display().to_string()),
            ("XDG_CURRENT_DESKTOP".into(), DESKTOP.into()),
        ]
    }

    /// The logs of the desktop's programs, for a failing test's message.
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for name in ["dbus-daemon", "pipewire", "wireplumber", "xdg-desktop-portal"] {
            let log = std::fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default();
            all.push_str(&format!("--- {name}\n{}\n", tail(&log, 40)));
        }
        all
    }

    fn spawn(&mut self, name: &str, command: &mut Command) -> Result<(), String> {
        let log = std::fs::File::create(self.dir.join(format!("{name}.log"))).map_err(|e| e.to_string())?;
        let child = command
            .envs(self.env())
            .env("PIPEWIRE_RUNTIME_DIR", &self.dir)
            .env("HOME", &self.dir)
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("DISPLAY")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        self.children.push(child);
        Ok(())
    }
}

impl Drop for PortalDesktop {
    fn drop(&mut self) {
        drop(self.backend.take());
        drop(self.source.take());
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn bgrx(pixels: &[u32]) -> Vec<u8> {
    pixels.iter().flat_map(|p| p.to_le_bytes()).collect()
}

fn bus_config(address: &str) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>{address}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#
    )
}

fn wait_for(path: &std::path::Path, what: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        if Instant::now() > deadline {
            return Err(format!("{what} did not start ({} never appeared)", path.display()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

//! Screen capture on X11: the whole screen (or a part of it: one monitor; or one window, `window.rs`) copied
//! every frame through the MIT-SHM extension into memory we share with the X server, the cursor drawn in (XFixes), converted to
//! I420. RustDesk and libwebrtc capture X11 the same way. A server without MIT-SHM (a remote display) is
//! read with plain `GetImage` instead, which copies each frame through the socket.
//!
//! Pure Rust through `x11rb` (already built for winit), talking to the `DISPLAY` the app runs on. Under
//! Wayland an X11 connection reaches only XWayland, whose root window shows no native windows: the caller
//! checks [`wayland_session`] and says so instead of sharing a black picture.

#[cfg(feature = "portal")]
mod portal;
mod shm;
mod window;

use std::time::{Duration, Instant};

use kaiwa_media::video::I420Frame;
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::randr::ConnectionExt as _;
use x11rb::protocol::shm::{self as x11_shm, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, Window};
use x11rb::rust_connection::RustConnection;

#[cfg(feature = "portal")]
pub use self::portal::PortalSource;
use self::shm::Shared;
pub use self::window::{WindowInfo, windows};
use crate::pacer::Pacer;
use crate::source::{CapturedFrame, SourceError, VideoSource};

/// Why this session cannot share its screen, in words for the person trying: under Wayland an X11 capture
/// would share a black XWayland picture, and a build without the `portal` feature cannot ask the desktop.
pub fn share_unavailable() -> Option<&'static str> {
    (wayland_session() && !share_through_portal()).then_some(
        "Screen sharing under Wayland needs the desktop's screen-cast portal, which this build does not \
         have; an X11 capture would only see a black XWayland picture. Log in to an X11 session to share.",
    )
}

/// Whether sharing goes through the desktop's screen-cast portal ([`PortalSource`]): under Wayland, in
/// a build with the `portal` feature. The desktop then chooses what to share, in its own dialog.
pub fn share_through_portal() -> bool {
    cfg!(feature = "portal") && wayland_session()
}

/// Whether this is a Wayland session, where an X11 capture would see only XWayland's windows.
pub fn wayland_session() -> bool {
    std::env::var_os("WAYLAND_DISPLAY").is_some()
        || std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t.eq_ignore_ascii_case("wayland"))
}

/// The monitors of `display` (`None`: `$DISPLAY`) as RandR describes them, primary first; the whole screen
/// when the server has no RandR 1.5.
pub fn monitors(display: Option<&str>) -> Result<Vec<Area>, SourceError> {
    let (conn, screen_num) = x11rb::connect(display)
        .map_err(|e| SourceError::Device(format!("cannot reach the X display {display:?}: {e}")))?;
    let screen = &conn.setup().roots[screen_num];
    let whole = Area { x: 0, y: 0, width: screen.width_in_pixels, height: screen.height_in_pixels };
    let reply = conn.randr_get_monitors(screen.root, true).ok().and_then(|c| c.reply().ok());
    let mut monitors: Vec<(bool, Area)> = reply
        .map(|r| {
            r.monitors
                .iter()
                .map(|m| (m.primary, Area { x: m.x, y: m.y, width: m.width, height: m.height }))
                .collect()
        })
        .unwrap_or_default();
    monitors.sort_by_key(|(primary, a)| (!primary, a.x, a.y));
    let areas: Vec<Area> = monitors.into_iter().map(|(_, a)| a).collect();
    Ok(if areas.is_empty() { vec![whole] } else { areas })
}

/// The part of the screen to capture, in root-window pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    pub x: i16,
    pub y: i16,
    pub width: u16,
    pub height: u16,
}

/// What a [`ScreenSource`] captures.
enum Target {
    /// A part of the screen (`None`: all of it).
    Area(Option<Area>),
    Window(u32),
}

/// The screen (or one window) as a video source.
pub struct ScreenSource {
    conn: RustConnection,
    root: Window,
    area: Area,
    fps: u32,
    pacer: Pacer,
    shared: Option<Shared>,
    /// Plain GetImage's copy, when there is no MIT-SHM.
    copy: Vec<u8>,
    cursor: bool,
    spare: Option<I420Frame>,
    display: String,
    /// A single window instead of the screen (its size at the start is kept; `area` follows where it is).
    window: Option<Window>,
}

impl ScreenSource {
    /// Captures screen `screen` of `display` (`None`: `$DISPLAY`) at `fps`, `area` of it (`None`: all of
    /// it, cut to even sizes).
    pub fn open(display: Option<&str>, area: Option<Area>, fps: u32) -> Result<ScreenSource, SourceError> {
        ScreenSource::open_target(display, Target::Area(area), fps)
    }

    /// Captures one window of `display` (an id from [`windows`]) at `fps`: its own picture, whatever
    /// covers it on the screen, at the size it has now.
    pub fn open_window(display: Option<&str>, window: u32, fps: u32) -> Result<ScreenSource, SourceError> {
        ScreenSource::open_target(display, Target::Window(window), fps)
    }

    fn open_target(display: Option<&str>, target: Target, fps: u32) -> Result<ScreenSource, SourceError> {
        let name = display.map(str::to_owned).or_else(|| std::env::var("DISPLAY").ok()).unwrap_or_default();
        let (conn, screen_num) = x11rb::connect(display)
            .map_err(|e| SourceError::Device(format!("cannot reach the X display {name:?}: {e}")))?;
        let screen = &conn.setup().roots[screen_num];
        let (root, depth) = (screen.root, screen.root_depth);
        let full = Area { x: 0, y: 0, width: screen.width_in_pixels, height: screen.height_in_pixels };
        let (mut area, window) = match target {
            Target::Area(area) => (area.unwrap_or(full), None),
            Target::Window(id) => {
                let (width, height) = window::redirect(&conn, id)?;
                (Area { x: 0, y: 0, width, height }, Some(id))
            }
        };
        area.width &= !1;
        area.height &= !1;
        if area.width < 16 || area.height < 16 {
            return Err(SourceError::Device(format!("the screen area {area:?} is too small to share")));
        }
        if depth != 24 && depth != 32 {
            return Err(SourceError::Device(format!("a {depth}-bit screen cannot be shared")));
        }
        let has_shm = conn.extension_information(x11_shm::X11_EXTENSION_NAME).ok().flatten().is_some();
        let len = area.width as usize * area.height as usize * 4;
        let shared = if has_shm {
            match Shared::new(&conn, len) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::info!(error = %e, "no shared memory with the X server: copying frames instead");
                    None
                }
            }
        } else {
            None
        };
        let cursor = conn.extension_information(xfixes::X11_EXTENSION_NAME).ok().flatten().is_some()
            && conn.xfixes_query_version(4, 0).ok().and_then(|c| c.reply().ok()).is_some();
        let fps = fps.clamp(1, 60);
        Ok(ScreenSource {
            conn,
            root,
            area,
            fps,
            pacer: Pacer::new(Instant::now(), Duration::from_secs(1) / fps),
            shared,
            copy: Vec::new(),
            cursor,
            spare: None,
            display: name,
            window,
        })
    }

    /// Whether frames come through shared memory (MIT-SHM) rather than the socket.
    pub fn shared_memory(&self) -> bool {
        self.shared.is_some()
    }

    /// Copies the area's (or the window's) pixels (BGRX) into our buffer; returns them.
    fn grab(&mut self) -> Result<&mut [u8], String> {
        let Area { x, y, width, height } = self.area;
        let format = ImageFormat::Z_PIXMAP.into();
        if let Some(id) = self.window {
            let size = (width, height);
            (self.area.x, self.area.y) =
                window::grab(&self.conn, id, self.root, size, self.shared.as_ref(), &mut self.copy)?;
            if self.cursor {
                self.draw_cursor();
            }
            return Ok(&mut self.copy);
        }
        match &self.shared {
            Some(shared) => {
                self.conn
                    .shm_get_image(self.root, x, y, width, height, !0, format, shared.seg, 0)
                    .map_err(|e| e.to_string())?
                    .reply()
                    .map_err(|e| format!("MIT-SHM GetImage: {e}"))?;
                self.copy.clear();
                self.copy.extend_from_slice(shared.bytes());
            }
            None => {
                let reply = self
                    .conn
                    .get_image(ImageFormat::Z_PIXMAP, self.root, x, y, width, height, !0)
                    .map_err(|e| e.to_string())?
                    .reply()
                    .map_err(|e| format!("GetImage: {e}"))?;
                self.copy = reply.data;
            }
        }
        let expected = width as usize * height as usize * 4;
        if self.copy.len() != expected {
            return Err(format!("the X server sent {} bytes for {expected}", self.copy.len()));
        }
        if self.cursor {
            self.draw_cursor();
        }
        Ok(&mut self.copy)
    }

    /// Blends the cursor (XFixes' ARGB image, premultiplied) into the copied pixels.
    fn draw_cursor(&mut self) {
        let Some(cursor) = self.conn.xfixes_get_cursor_image().ok().and_then(|c| c.reply().ok()) else {
            return;
        };
        let Area { x: ax, y: ay, width, height } = self.area;
        let left = i32::from(cursor.x) - i32::from(cursor.xhot) - i32::from(ax);
        let top = i32::from(cursor.y) - i32::from(cursor.yhot) - i32::from(ay);
        let (cw, ch) = (i32::from(cursor.width), i32::from(cursor.height));
        for cy in 0..ch {
            let py = top + cy;
            if py < 0 || py >= i32::from(height) {
                continue;
            }
            for cx in 0..cw {
                let px = left + cx;
                if px < 0 || px >= i32::from(width) {
                    continue;
                }
                let Some(&argb) = cursor.cursor_image.get((cy * cw + cx) as usize) else { continue };
                let alpha = argb >> 24;
                if alpha == 0 {
                    continue;
                }
                let at = (py as usize * width as usize + px as usize) * 4;
                let Some(pixel) = self.copy.get_mut(at..at + 3) else { continue };
                for (i, channel) in pixel.iter_mut().enumerate() {
                    // B, G, R: premultiplied source over the screen.
                    let src = (argb >> (8 * i)) & 0xff;
                    *channel = (src + u32::from(*channel) * (255 - alpha) / 255).min(255) as u8;
                }
            }
        }
    }
}

impl VideoSource for ScreenSource {
    fn describe(&self) -> String {
        let how = if self.shared.is_some() { "MIT-SHM" } else { "GetImage" };
        let Area { x, y, width, height } = self.area;
        match self.window {
            Some(id) => format!("window {id:#x} of {} {width}x{height}@{} ({how})", self.display, self.fps),
            None => format!("screen {} {width}x{height}+{x}+{y}@{} ({how})", self.display, self.fps),
        }
    }

    fn size(&self) -> (u32, u32) {
        (u32::from(self.area.width), u32::from(self.area.height))
    }

    fn fps(&self) -> u32 {
        self.fps
    }

    fn next_frame(&mut self) -> Result<Option<CapturedFrame>, SourceError> {
        let captured_at = self.pacer.wait();
        let (width, height) = self.size();
        let mut frame = match self.spare.take() {
            Some(f) if f.width() == width && f.height() == height => f,
            _ => I420Frame::black(width, height).map_err(|e| SourceError::Media(e.to_string()))?,
        };
        let stride = width * 4;
        let pixels = self.grab().map_err(SourceError::Device)?;
        frame.fill_from_bgra(pixels, stride).map_err(|e| SourceError::Media(e.to_string()))?;
        Ok(Some(CapturedFrame { frame, captured_at }))
    }

    fn content(&self) -> kaiwa_media::video::Content {
        kaiwa_media::video::Content::Screen
    }

    fn recycle(&mut self, frame: I420Frame) {
        self.spare = Some(frame);
    }
}

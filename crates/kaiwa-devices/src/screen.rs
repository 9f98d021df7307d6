//! Screen capture on X11: the whole screen (or a part of it: one monitor) copied every frame through the
//! MIT-SHM extension into memory we share with the X server, the cursor drawn in (XFixes), converted to
//! I420. RustDesk and libwebrtc capture X11 the same way. A server without MIT-SHM (a remote display) is
//! read with plain `GetImage` instead, which copies each frame through the socket.
//!
//! Pure Rust through `x11rb` (already built for winit), talking to the `DISPLAY` the app runs on. Under
//! Wayland an X11 connection reaches only XWayland, whose root window shows no native windows: the caller
//! checks [`wayland_session`] and says so instead of sharing a black picture.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use kaiwa_media::video::I420Frame;
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::randr::ConnectionExt as _;
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, Window};
use x11rb::rust_connection::RustConnection;

use crate::pacer::Pacer;
use crate::source::{CapturedFrame, SourceError, VideoSource};

/// Why this session cannot share its screen, in words for the person trying: under Wayland an X11 capture
/// would share a black XWayland picture, and this build has no screen-cast portal.
pub fn share_unavailable() -> Option<&'static str> {
    wayland_session().then_some(
        "Screen sharing under Wayland needs the desktop's screen-cast portal, which this build does not \
         have; an X11 capture would only see a black XWayland picture. Log in to an X11 session to share.",
    )
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

/// Memory shared with the X server: a memfd mapped here and attached there.
struct Shared {
    seg: shm::Seg,
    ptr: *mut u8,
    len: usize,
    _fd: OwnedFd,
}

impl Shared {
    fn new(conn: &RustConnection, len: usize) -> Result<Shared, String> {
        // SAFETY: memfd_create with a valid NUL-terminated name; the result is checked.
        let raw = unsafe { libc::memfd_create(c"kaiwa-screen".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(format!("memfd_create: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: `raw` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: `fd` is a valid memfd; the length is checked by the kernel.
        if unsafe { libc::ftruncate(raw, len as libc::off_t) } != 0 {
            return Err(format!("ftruncate: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: a fresh shared mapping of `len` bytes of the memfd; the result is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                raw,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(format!("mmap: {}", std::io::Error::last_os_error()));
        }
        let seg = conn.generate_id().map_err(|e| e.to_string())?;
        let dup = fd.as_fd().try_clone_to_owned().map_err(|e| e.to_string())?;
        let attached = conn.shm_attach_fd(seg, dup, false).map_err(|e| e.to_string())?.check();
        let shared = Shared { seg, ptr: ptr.cast(), len, _fd: fd };
        attached.map_err(|e| format!("MIT-SHM attach: {e}"))?;
        Ok(shared)
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` bytes for as long as `self` lives; the X server writes into it only
        // during a GetImage we wait for, never while this slice is read.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

// SAFETY: the mapping is owned by this value alone and only read through `&self`.
unsafe impl Send for Shared {}

/// The screen as a video source.
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
}

impl ScreenSource {
    /// Captures screen `screen` of `display` (`None`: `$DISPLAY`) at `fps`, `area` of it (`None`: all of
    /// it, cut to even sizes).
    pub fn open(display: Option<&str>, area: Option<Area>, fps: u32) -> Result<ScreenSource, SourceError> {
        let name = display.map(str::to_owned).or_else(|| std::env::var("DISPLAY").ok()).unwrap_or_default();
        let (conn, screen_num) = x11rb::connect(display)
            .map_err(|e| SourceError::Device(format!("cannot reach the X display {name:?}: {e}")))?;
        let screen = &conn.setup().roots[screen_num];
        let root = screen.root;
        let full = Area { x: 0, y: 0, width: screen.width_in_pixels, height: screen.height_in_pixels };
        let mut area = area.unwrap_or(full);
        area.width &= !1;
        area.height &= !1;
        if area.width < 16 || area.height < 16 {
            return Err(SourceError::Device(format!("the screen area {area:?} is too small to share")));
        }
        if screen.root_depth != 24 && screen.root_depth != 32 {
            return Err(SourceError::Device(format!("a {}-bit screen cannot be shared", screen.root_depth)));
        }
        let has_shm = conn.extension_information(shm::X11_EXTENSION_NAME).ok().flatten().is_some();
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
        })
    }

    /// Whether frames come through shared memory (MIT-SHM) rather than the socket.
    pub fn shared_memory(&self) -> bool {
        self.shared.is_some()
    }

    /// Copies the area's pixels (BGRX) into our buffer; returns them.
    fn grab(&mut self) -> Result<&mut [u8], String> {
        let Area { x, y, width, height } = self.area;
        let format = ImageFormat::Z_PIXMAP.into();
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
        format!("screen {} {width}x{height}+{x}+{y}@{} ({how})", self.display, self.fps)
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

//! One window instead of the screen: the windows a person could share (the window manager's client list,
//! or the root's mapped children without one), and a window's own picture through the Composite extension
//! (libwebrtc's X11 window capturer does the same): the window is redirected off-screen, so what covers it
//! on the screen is not shared, and its pixmap is read like the screen.

use x11rb::connection::Connection;
use x11rb::protocol::composite::{ConnectionExt as _, Redirect};
use x11rb::protocol::shm::ConnectionExt as _;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, ImageFormat, MapState, Window};
use x11rb::rust_connection::RustConnection;

use super::Area;
use super::shm::Shared;
use crate::source::SourceError;

/// A window that can be shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowInfo {
    pub id: u32,
    /// Its title (`_NET_WM_NAME`, else `WM_NAME`).
    pub name: String,
    /// Where it is on the screen now.
    pub area: Area,
}

/// At most this many windows are offered.
const MAX_WINDOWS: usize = 32;
/// Smaller windows (tool tips, docks' slivers) are not offered.
const MIN_SIDE: u16 = 64;

fn atom(conn: &RustConnection, name: &str) -> Option<u32> {
    conn.intern_atom(true, name.as_bytes()).ok()?.reply().ok().map(|r| r.atom).filter(|a| *a != 0)
}

fn title(
    conn: &RustConnection,
    window: Window,
    net_wm_name: Option<u32>,
    utf8: Option<u32>,
) -> Option<String> {
    if let (Some(prop), Some(utf8)) = (net_wm_name, utf8)
        && let Some(reply) = conn.get_property(false, window, prop, utf8, 0, 256).ok()?.reply().ok()
        && !reply.value.is_empty()
    {
        return Some(String::from_utf8_lossy(&reply.value).into_owned());
    }
    let reply =
        conn.get_property(false, window, AtomEnum::WM_NAME, AtomEnum::STRING, 0, 256).ok()?.reply().ok()?;
    // STRING is Latin-1.
    let name: String = reply.value.iter().map(|&b| char::from(b)).collect();
    (!name.is_empty()).then_some(name)
}

/// The windows of `display` (`None`: `$DISPLAY`) a person could share, top-most first: titled, mapped and
/// at least 64×64.
pub fn windows(display: Option<&str>) -> Result<Vec<WindowInfo>, SourceError> {
    let (conn, screen_num) = x11rb::connect(display)
        .map_err(|e| SourceError::Device(format!("cannot reach the X display {display:?}: {e}")))?;
    let root = conn.setup().roots[screen_num].root;
    let utf8 = atom(&conn, "UTF8_STRING");
    let net_wm_name = atom(&conn, "_NET_WM_NAME");
    // A window manager lists its clients (bottom to top); without one, the root's children are the windows.
    let listed = atom(&conn, "_NET_CLIENT_LIST_STACKING")
        .and_then(|a| conn.get_property(false, root, a, AtomEnum::WINDOW, 0, 1024).ok()?.reply().ok())
        .and_then(|r| r.value32().map(|v| v.collect::<Vec<u32>>()))
        .filter(|v| !v.is_empty());
    let candidates = match listed {
        Some(list) => list,
        None => {
            conn.query_tree(root)
                .map_err(|e| SourceError::Device(e.to_string()))?
                .reply()
                .map_err(|e| SourceError::Device(e.to_string()))?
                .children
        }
    };
    let mut found = Vec::new();
    for &window in candidates.iter().rev() {
        let Some(attributes) = conn.get_window_attributes(window).ok().and_then(|c| c.reply().ok()) else {
            continue;
        };
        if attributes.map_state != MapState::VIEWABLE || attributes.override_redirect {
            continue;
        }
        let Some(geometry) = conn.get_geometry(window).ok().and_then(|c| c.reply().ok()) else { continue };
        if geometry.width < MIN_SIDE || geometry.height < MIN_SIDE {
            continue;
        }
        let Some(name) = title(&conn, window, net_wm_name, utf8) else { continue };
        let Some(origin) = conn.translate_coordinates(window, root, 0, 0).ok().and_then(|c| c.reply().ok())
        else {
            continue;
        };
        let area = Area { x: origin.dst_x, y: origin.dst_y, width: geometry.width, height: geometry.height };
        found.push(WindowInfo { id: window, name, area });
        if found.len() == MAX_WINDOWS {
            break;
        }
    }
    Ok(found)
}

/// Readies `window` for capture: the Composite extension keeps its picture off-screen from now on (for as
/// long as this connection lives). Its size now, which the capture keeps.
pub(super) fn redirect(conn: &RustConnection, window: Window) -> Result<(u16, u16), SourceError> {
    let device = |what: &str, e: &dyn std::fmt::Display| SourceError::Device(format!("{what}: {e}"));
    conn.composite_query_version(0, 4)
        .map_err(|e| device("no Composite extension", &e))?
        .reply()
        .map_err(|e| device("no Composite extension", &e))?;
    let geometry = conn
        .get_geometry(window)
        .map_err(|e| device("no such window", &e))?
        .reply()
        .map_err(|e| device("no such window", &e))?;
    conn.composite_redirect_window(window, Redirect::AUTOMATIC)
        .map_err(|e| device("the window cannot be redirected", &e))?
        .check()
        .map_err(|e| device("the window cannot be redirected", &e))?;
    Ok((geometry.width, geometry.height))
}

/// Copies `window`'s own picture into `out` as `width`×`height` BGRX (what lies beyond a window that
/// shrank is black; a window that grew is cut); returns where the window is on the root now.
pub(super) fn grab(
    conn: &RustConnection,
    window: Window,
    root: Window,
    (width, height): (u16, u16),
    shared: Option<&Shared>,
    out: &mut Vec<u8>,
) -> Result<(i16, i16), String> {
    let gone = |e: &dyn std::fmt::Display| format!("the shared window is gone ({e})");
    let geometry = conn.get_geometry(window).map_err(|e| gone(&e))?.reply().map_err(|e| gone(&e))?;
    let origin = conn
        .translate_coordinates(window, root, 0, 0)
        .map_err(|e| gone(&e))?
        .reply()
        .map_err(|e| gone(&e))?;
    let (cw, ch) = (geometry.width.min(width), geometry.height.min(height));
    let pixmap = conn.generate_id().map_err(|e| e.to_string())?;
    conn.composite_name_window_pixmap(window, pixmap).map_err(|e| gone(&e))?.check().map_err(|e| gone(&e))?;
    let format = ImageFormat::Z_PIXMAP;
    let read: Result<Vec<u8>, String> = match shared {
        Some(shared) => conn
            .shm_get_image(pixmap, 0, 0, cw, ch, !0, format.into(), shared.seg, 0)
            .map_err(|e| e.to_string())
            .and_then(|c| c.reply().map_err(|e| format!("MIT-SHM GetImage: {e}")))
            .map(|_| {
                shared.bytes().get(..usize::from(cw) * usize::from(ch) * 4).unwrap_or_default().to_vec()
            }),
        None => conn
            .get_image(format, pixmap, 0, 0, cw, ch, !0)
            .map_err(|e| e.to_string())
            .and_then(|c| c.reply().map_err(|e| format!("GetImage: {e}")))
            .map(|r| r.data),
    };
    let _ = conn.free_pixmap(pixmap);
    let pixels = read?;
    let (row_in, row_out) = (usize::from(cw) * 4, usize::from(width) * 4);
    if pixels.len() < row_in * usize::from(ch) {
        return Err(format!("the X server sent {} bytes for a {cw}x{ch} window", pixels.len()));
    }
    out.clear();
    out.resize(row_out * usize::from(height), 0);
    for (src, dst) in pixels.chunks_exact(row_in).zip(out.chunks_exact_mut(row_out)) {
        dst[..row_in].copy_from_slice(src);
    }
    Ok((origin.dst_x, origin.dst_y))
}

//! A virtual X display for tests: `Xvfb` on a free display number, and a client that covers the screen
//! with a window and paints rectangles on it (kept open while the display lives: an X client's windows go
//! when it disconnects). For the screen-sharing tests, of this crate and of the app.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ChangeGCAux, ConnectionExt as _, CreateGCAux, CreateWindowAux, ImageFormat, Rectangle, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// `Xvfb` running on [`Xvfb::display`] with one `width`×`height` 24-bit screen; killed on drop.
pub struct Xvfb {
    child: Child,
    pub display: String,
    pub width: u16,
    pub height: u16,
    painter: Option<Painter>,
}

struct Painter {
    conn: RustConnection,
    window: u32,
    gc: u32,
}

impl Xvfb {
    /// Starts `Xvfb` (`scripts/setup.sh test` installs it) on a display number it picks itself
    /// (`-displayfd`: tests starting displays at once never share one), and waits (bounded) until it
    /// accepts clients.
    pub fn start(width: u16, height: u16) -> std::io::Result<Xvfb> {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", &format!("{width}x{height}x24"), "-nolisten", "tcp"])
            .arg("-noreset")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| std::io::Error::other(format!("Xvfb (scripts/setup.sh test installs it): {e}")))?;
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("no pipe from Xvfb"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(Duration::from_secs(20)).ok().and_then(|l| l.trim().parse::<u32>().ok()) {
            Some(n) => Ok(Xvfb { child, display: format!(":{n}"), width, height, painter: None }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(std::io::Error::other("Xvfb did not start"))
            }
        }
    }

    /// Paints `rect` (x, y, width, height) in `rgb` (0xRRGGBB) on a window covering the screen, and waits
    /// until the server has done it.
    pub fn fill(&mut self, (x, y, width, height): (i16, i16, u16, u16), rgb: u32) {
        let painter =
            self.painter.get_or_insert_with(|| Painter::open(&self.display, self.width, self.height));
        painter.conn.change_gc(painter.gc, &ChangeGCAux::new().foreground(rgb)).expect("change the colour");
        painter
            .conn
            .poly_fill_rectangle(painter.window, painter.gc, &[Rectangle { x, y, width, height }])
            .expect("fill");
        painter.conn.sync().expect("the X server drew");
    }
}

impl Xvfb {
    /// Opens a titled top-level window at `area` (x, y, width, height) filled with `rgb`, stacked above the
    /// windows before it; returns its id. It lives as long as the display.
    pub fn window(&mut self, title: &str, (x, y, width, height): (i16, i16, u16, u16), rgb: u32) -> u32 {
        let painter =
            self.painter.get_or_insert_with(|| Painter::open(&self.display, self.width, self.height));
        let conn = &painter.conn;
        let window = new_window(conn, (x, y, width, height), &CreateWindowAux::new().background_pixel(rgb));
        conn.change_property8(
            x11rb::protocol::xproto::PropMode::REPLACE,
            window,
            x11rb::protocol::xproto::AtomEnum::WM_NAME,
            x11rb::protocol::xproto::AtomEnum::STRING,
            title.as_bytes(),
        )
        .expect("its title");
        conn.map_window(window).expect("map it");
        conn.clear_area(false, window, 0, 0, 0, 0).expect("paint it");
        conn.sync().expect("the X server drew");
        window
    }

    /// Paints `pixels` (0xRRGGBB, row by row, `width` a row) with its top-left corner at (`x`, `y`), and
    /// waits until the server has done it.
    pub fn put_rgb(&mut self, (x, y): (i16, i16), width: u16, pixels: &[u32]) {
        let painter =
            self.painter.get_or_insert_with(|| Painter::open(&self.display, self.width, self.height));
        let depth = painter.conn.setup().roots[0].root_depth;
        // A 24-bit screen stores BGRX; requests stay well under the core protocol's 256 KiB.
        let rows_per_request = (150_000 / (usize::from(width) * 4)).max(1);
        for (i, rows) in pixels.chunks(usize::from(width) * rows_per_request).enumerate() {
            let data: Vec<u8> = rows.iter().flat_map(|p| p.to_le_bytes()).collect();
            let top = y + (i * rows_per_request) as i16;
            let height = (rows.len() / usize::from(width)) as u16;
            painter
                .conn
                .put_image(
                    ImageFormat::Z_PIXMAP,
                    painter.window,
                    painter.gc,
                    width,
                    height,
                    x,
                    top,
                    0,
                    depth,
                    &data,
                )
                .expect("put the image");
        }
        painter.conn.sync().expect("the X server drew");
    }
}

/// Lines of a white page of black "glyphs" (strokes of a pseudo-random 5×7 pattern in 9-pixel cells,
/// lines 18 pixels apart) as 0xRRGGBB pixels, from line `first` on: each line is the same wherever it is
/// shown, so `text_page(w, h, n + 1)` is `text_page(w, h, n)` scrolled by a line. What a shared document
/// looks like to an encoder.
pub fn text_page(width: u16, height: u16, first: u32) -> Vec<u32> {
    let (w, h) = (usize::from(width), usize::from(height));
    let mut page = vec![0xffffffu32; w * h];
    for (k, top) in (12..h.saturating_sub(30)).step_by(LINE).enumerate() {
        let mut state = (first + k as u32).wrapping_mul(2_654_435_761).wrapping_add(12345);
        for col in (12..w.saturating_sub(20)).step_by(9) {
            for gy in 0..7 {
                for gx in 0..5 {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    if state >> 29 < 3 {
                        page[(top + gy * 2) * w + col + gx] = 0x000000;
                    }
                }
            }
        }
    }
    page
}

/// The distance between two lines of [`text_page`], pixels.
const LINE: usize = 18;

/// A top-level window at `(x, y, width, height)` on the first screen, not mapped yet.
fn new_window(
    conn: &RustConnection,
    (x, y, width, height): (i16, i16, u16, u16),
    aux: &CreateWindowAux,
) -> u32 {
    let screen = &conn.setup().roots[0];
    let (root, depth, visual) = (screen.root, screen.root_depth, screen.root_visual);
    let window = conn.generate_id().expect("an id");
    conn.create_window(depth, window, root, x, y, width, height, 0, WindowClass::INPUT_OUTPUT, visual, aux)
        .expect("a window");
    window
}

impl Painter {
    fn open(display: &str, width: u16, height: u16) -> Painter {
        let (conn, _) = x11rb::connect(Some(display)).expect("connect to Xvfb");
        let aux = CreateWindowAux::new().override_redirect(1).background_pixel(0);
        let window = new_window(&conn, (0, 0, width, height), &aux);
        conn.map_window(window).expect("map it");
        let gc = conn.generate_id().expect("an id");
        conn.create_gc(gc, window, &CreateGCAux::new()).expect("a graphics context");
        conn.sync().expect("the X server answered");
        Painter { conn, window, gc }
    }
}

/// `pixels` (0xRRGGBB, `width` a row) as the capture makes them: I420 from the X server's BGRX.
pub fn as_i420(pixels: &[u32], width: u16, height: u16) -> kaiwa_media::video::I420Frame {
    let mut frame =
        kaiwa_media::video::I420Frame::black(u32::from(width), u32::from(height)).expect("a size");
    let bytes: Vec<u8> = pixels.iter().flat_map(|p| p.to_le_bytes()).collect();
    frame.fill_from_bgra(&bytes, u32::from(width) * 4).expect("the pixels fit");
    frame
}

/// BT.601 limited-range luma of an RGB colour (0xRRGGBB), as the conversion to I420 makes it: what a
/// picture painted in that colour reads as after capture.
pub fn luma(rgb: u32) -> f64 {
    let (r, g, b) = (f64::from(rgb >> 16 & 0xff), f64::from(rgb >> 8 & 0xff), f64::from(rgb & 0xff));
    16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        self.painter = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

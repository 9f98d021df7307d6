//! The X11 screen source against a real X server (Xvfb, started here on a free display number): what a
//! client draws is what the source returns, through MIT-SHM, a part of the screen can be taken alone, and
//! the frames follow when the picture changes.

use std::time::{Duration, Instant};

use kaiwa_devices::testing::{Xvfb, luma};
use kaiwa_devices::{Area, ScreenSource, VideoSource, monitors};
use kaiwa_media::video::I420Frame;

const W: u16 = 320;
const H: u16 = 240;

fn y_at(frame: &I420Frame, x: u32, y: u32) -> f64 {
    f64::from(frame.y()[(y * frame.width() + x) as usize])
}

/// The next frame whose luma at (`x`, `y`) is near `want` (bounded: the X server draws asynchronously).
fn frame_with(source: &mut ScreenSource, x: u32, y: u32, want: f64) -> I420Frame {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let frame = source.next_frame().expect("a frame").expect("the screen never ends").frame;
        if (y_at(&frame, x, y) - want).abs() < 3.0 {
            return frame;
        }
        assert!(
            Instant::now() < deadline,
            "luma at ({x}, {y}) stayed {} (want {want:.0})",
            y_at(&frame, x, y)
        );
    }
}

const RED: u32 = 0xff0000;
const BLUE: u32 = 0x0000ff;
const GREEN: u32 = 0x00ff00;

#[test]
fn the_screen_source_returns_what_is_on_the_screen_and_follows_it() {
    let mut xvfb = Xvfb::start(W, H).expect("Xvfb");
    xvfb.fill((0, 0, W / 2, H), RED);
    xvfb.fill((W as i16 / 2, 0, W / 2, H), BLUE);

    let mut source = ScreenSource::open(Some(&xvfb.display), None, 15).expect("open the screen");
    assert!(source.shared_memory(), "Xvfb has MIT-SHM: {}", source.describe());
    assert_eq!(source.size(), (u32::from(W), u32::from(H)));
    // Away from the cursor, which Xvfb puts in the middle.
    let frame = frame_with(&mut source, 40, 40, luma(RED));
    assert!((y_at(&frame, 280, 200) - luma(BLUE)).abs() < 3.0, "right half: {}", y_at(&frame, 280, 200));

    // The picture changes: the frames follow.
    xvfb.fill((0, 0, W, H), GREEN);
    let frame = frame_with(&mut source, 40, 40, luma(GREEN));
    assert!((y_at(&frame, 280, 200) - luma(GREEN)).abs() < 3.0);
    // The cursor is drawn in (Xvfb's default one, in the middle of the screen).
    let (cx, cy) = (u32::from(W) / 2, u32::from(H) / 2);
    let cursor = (cy - 16..cy + 16)
        .flat_map(|y| (cx - 16..cx + 16).map(move |x| (x, y)))
        .filter(|&(x, y)| (y_at(&frame, x, y) - luma(GREEN)).abs() > 20.0)
        .count();
    assert!(cursor > 10, "no cursor drawn around the middle ({cursor} pixels differ)");

    // One part of the screen alone (a monitor of a wider desktop).
    xvfb.fill((W as i16 / 2, 0, W / 2, H), BLUE);
    let right = Area { x: W as i16 / 2, y: 0, width: W / 2, height: H };
    let mut part = ScreenSource::open(Some(&xvfb.display), Some(right), 15).expect("open a part");
    // One monitor here, the whole screen.
    assert_eq!(monitors(Some(&xvfb.display)).unwrap(), vec![Area { x: 0, y: 0, width: W, height: H }]);
    assert_eq!(part.size(), (u32::from(W / 2), u32::from(H)));
    frame_with(&mut part, 10, 10, luma(BLUE));
}

#[test]
fn no_display_is_a_plain_error() {
    let err = ScreenSource::open(Some(":4999"), None, 15).err().expect("no X server there");
    assert!(err.to_string().contains("cannot reach the X display"), "{err}");
}

#[test]
fn a_window_is_listed_by_title_and_shared_alone_whatever_covers_it() {
    let mut xvfb = Xvfb::start(W, H).expect("Xvfb");
    let notes = xvfb.window("Notes", (20, 20, 160, 120), RED);
    let _cover = xvfb.window("Cover", (100, 60, 160, 120), BLUE);
    let listed = kaiwa_devices::windows(Some(&xvfb.display)).expect("the windows");
    let names: Vec<&str> = listed.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["Cover", "Notes"], "top-most first");
    assert_eq!(listed[1].area, Area { x: 20, y: 20, width: 160, height: 120 });
    let mut source = ScreenSource::open_window(Some(&xvfb.display), notes, 30).expect("the window");
    assert_eq!(source.size(), (160, 120));
    // Red all over, also where the blue window covers it on the screen.
    let frame = frame_with(&mut source, 150, 100, luma(RED));
    assert!((y_at(&frame, 5, 5) - luma(RED)).abs() < 3.0);
    // Gone: the source says so instead of sending stale pictures.
    drop(xvfb);
    assert!(source.next_frame().is_err(), "a frame from a window that is gone");
}

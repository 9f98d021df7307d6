//! Sharing through the desktop's screen-cast portal, against a test desktop (`testing::PortalDesktop`:
//! real D-Bus, PipeWire, WirePlumber and xdg-desktop-portal; a backend of ours behind it).
#![cfg(feature = "portal")]

use kaiwa_devices::testing::{PortalDesktop, as_i420, text_page};
use kaiwa_devices::{PortalSource, VideoSource};
use kaiwa_media::video::quality::plane_psnr;

#[test]
fn a_screen_shared_through_the_portal_arrives_and_follows_changes() {
    let (w, h) = (640u32, 360u32);
    let first = text_page(w as u16, h as u16, 0);
    let mut desktop = PortalDesktop::start(w, h, &first).expect("the test desktop");
    let bus = desktop.env().into_iter().find(|(k, _)| k == "DBUS_SESSION_BUS_ADDRESS").unwrap().1;
    let mut source = match PortalSource::open_on(Some(&bus), 15) {
        Ok(s) => s,
        Err(e) => panic!("open the portal source: {e}\n{}", desktop.logs()),
    };
    assert_eq!(source.size(), (w, h));
    let expected = as_i420(&first, w as u16, h as u16);
    let frame = source.next_frame().unwrap().unwrap().frame;
    let psnr = plane_psnr(frame.y(), expected.y());
    let other = plane_psnr(frame.y(), as_i420(&text_page(w as u16, h as u16, 7), w as u16, h as u16).y());
    eprintln!("{}: {psnr:.1} dB (against another page: {other:.1} dB)", source.describe());
    assert!(other < 25.0, "the pages are too alike to tell apart: {other:.1} dB");
    assert!(psnr > 40.0, "the shared picture is not the screen's: {psnr:.1} dB");
    let second = text_page(w as u16, h as u16, 7);
    desktop.show(&second);
    let expected = as_i420(&second, w as u16, h as u16);
    let mut best = 0.0f64;
    for _ in 0..30 {
        let frame = source.next_frame().unwrap().unwrap().frame;
        best = best.max(plane_psnr(frame.y(), expected.y()));
    }
    eprintln!("after the change: {best:.1} dB");
    assert!(best > 40.0, "the share did not follow the screen: {best:.1} dB");
    // The desktop ends the share: the source says so instead of sending the last picture for ever.
    desktop.stop_sharing();
    let ended = (0..45).find_map(|_| source.next_frame().err());
    let why = ended.expect("the share ended on the desktop, but pictures kept coming");
    eprintln!("ended: {why}");
}

//! `kaiwa call --share screen` end to end: a CLI shares a virtual X display (Xvfb, painted here with pages
//! of text-like strokes) beside its camera, and a second CLI, which records what it receives, gets both:
//! the camera in one recording, the screen in another, sharp enough to read (PSNR of the text), and
//! following when the page changes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use kaiwa_devices::testing::{Xvfb, as_i420, text_page};
use kaiwa_media::video::{I420Frame, Y4mReader, plane_psnr};
use tokio_util::sync::CancellationToken;

const W: u16 = 640;
const H: u16 = 360;
/// The text's rows compared: the top 40 % (the cursor sits in the middle of the screen).
const TEXT_ROWS: u32 = H as u32 * 2 / 5;

async fn server() -> (std::net::SocketAddr, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(kaiwa_signaling::serve(listener, Default::default(), None, stop.clone()));
    (addr, stop)
}

fn kaiwa_call(addr: std::net::SocketAddr, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kaiwa"));
    cmd.args([
        "call",
        "--server",
        &format!("ws://{addr}/ws"),
        "--bind",
        "127.0.0.1:0",
        "--quiet",
        "--room",
        "screen",
    ])
    .args(extra)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// Waits for both calls to end; each must have succeeded. Their outputs.
async fn both_succeed(ann: std::process::Child, bo: std::process::Child) -> (Output, Output) {
    let (ann, bo) = tokio::join!(
        tokio::task::spawn_blocking(move || ann.wait_with_output().unwrap()),
        tokio::task::spawn_blocking(move || bo.wait_with_output().unwrap())
    );
    let (ann, bo) = (ann.unwrap(), bo.unwrap());
    assert!(ann.status.success(), "Ann: {}", text(&ann));
    assert!(bo.status.success(), "Bo: {}", text(&bo));
    (ann, bo)
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Luma PSNR of the text rows of `got` against `want`, dB.
fn text_psnr(got: &I420Frame, want: &I420Frame) -> f64 {
    let n = (TEXT_ROWS * got.width()) as usize;
    plane_psnr(&got.y()[..n], &want.y()[..n])
}

fn frames(path: &Path) -> (u32, u32, Vec<I420Frame>) {
    let mut reader = Y4mReader::new(std::io::BufReader::new(std::fs::File::open(path).unwrap())).unwrap();
    let (w, h) = (reader.header().width, reader.header().height);
    let mut all = Vec::new();
    while let Some(f) = reader.read_frame().unwrap() {
        all.push(f);
    }
    (w, h, all)
}

fn recording(dir: &Path, screen: bool) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "y4m")
                && p.to_string_lossy().ends_with("-screen.y4m") == screen
        })
        .unwrap_or_else(|| panic!("no recording of Ann's {}", if screen { "screen" } else { "camera" }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_screen_reaches_the_other_side_readable_beside_the_camera_and_follows_changes() {
    let mut xvfb = Xvfb::start(W, H).expect("Xvfb");
    let (first, second) = (text_page(W, H, 1), text_page(W, H, 500));
    xvfb.put_rgb((0, 0), W, &first);
    let (addr, _stop) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let mut ann = kaiwa_call(
        addr,
        &[
            "--name",
            "Ann",
            "--video",
            "testpattern",
            "--size",
            "320x240",
            "--share",
            "screen",
            "--audio",
            "none",
        ],
    );
    ann.args(["--duration", "10"]);
    ann.env("DISPLAY", &xvfb.display).env_remove("WAYLAND_DISPLAY").env_remove("XDG_SESSION_TYPE");
    let ann = ann.spawn().unwrap();
    let mut bo = kaiwa_call(addr, &["--name", "Bo", "--video", "none", "--duration", "9", "--record"]);
    bo.arg(&rec);
    let bo = bo.spawn().unwrap();
    // Half way through, another page.
    tokio::time::sleep(Duration::from_secs(5)).await;
    xvfb.put_rgb((0, 0), W, &second);
    let (_, bo) = both_succeed(ann, bo).await;
    assert!(text(&bo).contains("sharing a screen"), "Bo was not told: {}", text(&bo));

    let (w, h, camera) = frames(&recording(&rec, false));
    assert_eq!((w, h), (320, 240), "the camera kept its own track");
    assert!(camera.len() > 60, "only {} camera frames", camera.len());
    both_pages_readable(&rec, &first, &second);
}

/// The screen Ann shared, as Bo recorded it: at its full size, the first page readable, then the second.
fn both_pages_readable(rec: &Path, first: &[u32], second: &[u32]) {
    let (w, h, screen) = frames(&recording(rec, true));
    assert_eq!((w, h), (u32::from(W), u32::from(H)), "the screen at its full size");
    assert!(screen.len() > 20, "only {} frames of the screen", screen.len());
    let (first, second) = (as_i420(first, W, H), as_i420(second, W, H));
    let scores: Vec<(f64, f64)> =
        screen.iter().map(|f| (text_psnr(f, &first), text_psnr(f, &second))).collect();
    let sharp_first = scores.iter().position(|(a, _)| *a > 30.0);
    let sharp_second = scores.iter().rposition(|(_, b)| *b > 30.0);
    let best = |i: usize| scores.iter().map(|s| if i == 0 { s.0 } else { s.1 }).fold(0.0, f64::max);
    println!("text PSNR: first page best {:.1} dB, second page best {:.1} dB", best(0), best(1));
    assert!(sharp_first.is_some(), "the first page never arrived readable (best {:.1} dB)", best(0));
    assert!(
        sharp_second.is_some_and(|s| Some(s) > sharp_first),
        "the second page did not arrive readable after the first (best {:.1} dB)",
        best(1)
    );
}

/// Under Wayland `--share screen` goes through the desktop's screen-cast portal (here a test desktop:
/// real D-Bus, PipeWire and xdg-desktop-portal, `testing::PortalDesktop`), and the other side reads it.
#[cfg(feature = "portal")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_wayland_the_desktop_portal_shares_the_screen() {
    let (first, second) = (text_page(W, H, 1), text_page(W, H, 500));
    let desktop =
        kaiwa_devices::testing::PortalDesktop::start(W.into(), H.into(), &first).expect("the test desktop");
    let (addr, _stop) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let mut ann =
        kaiwa_call(addr, &["--name", "Ann", "--video", "none", "--share", "screen", "--audio", "none"]);
    // A Wayland session as far as Kaiwa can tell; it never talks to the compositor, only to the portal.
    ann.args(["--duration", "10"])
        .envs(desktop.env())
        .env("WAYLAND_DISPLAY", "wayland-kaiwatest")
        .env_remove("DISPLAY");
    let ann = ann.spawn().unwrap();
    let mut bo = kaiwa_call(addr, &["--name", "Bo", "--video", "none", "--duration", "9", "--record"]);
    bo.arg(&rec);
    let bo = bo.spawn().unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    desktop.show(&second);
    let (ann, _) = both_succeed(ann, bo).await;
    assert!(text(&ann).contains("portal"), "Ann did not share through the portal: {}", text(&ann));
    both_pages_readable(&rec, &first, &second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_window_arrives_alone_whatever_covers_it() {
    let mut xvfb = Xvfb::start(W, H).expect("Xvfb");
    let notes = xvfb.window("Notes", (40, 40, 320, 200), 0xff0000);
    xvfb.window("Cover", (200, 120, 320, 200), 0x0000ff);
    let (addr, _stop) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let share = format!("window:{notes:#x}");
    let mut ann =
        kaiwa_call(addr, &["--name", "Ann", "--video", "none", "--share", &share, "--audio", "none"]);
    ann.args(["--duration", "6"]).env("DISPLAY", &xvfb.display);
    ann.env_remove("WAYLAND_DISPLAY").env_remove("XDG_SESSION_TYPE");
    let ann = ann.spawn().unwrap();
    let mut bo = kaiwa_call(addr, &["--name", "Bo", "--video", "none", "--duration", "5", "--record"]);
    bo.arg(&rec);
    let bo = bo.spawn().unwrap();
    both_succeed(ann, bo).await;
    let (w, h, frames) = frames(&recording(&rec, true));
    assert_eq!((w, h), (320, 200), "the window's size");
    let last = frames.last().expect("frames of the window");
    // Red all over (luma ~82), also where the blue window covers it on the screen (blue would be ~41).
    let red = kaiwa_devices::testing::luma(0xff0000);
    for (x, y) in [(10u32, 10u32), (300, 180), (160, 100)] {
        let got = f64::from(last.y()[(y * w + x) as usize]);
        assert!((got - red).abs() < 12.0, "luma {got:.0} at ({x}, {y}), want {red:.0}");
    }
}

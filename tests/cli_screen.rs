//! `kaiwa call --video screen` end to end: a CLI shares a virtual X display (Xvfb, painted here) and a second
//! CLI, which records what it receives, gets that picture; the picture follows when the screen changes.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use kaiwa_devices::testing::{Xvfb, luma};
use kaiwa_media::video::{I420Frame, Y4mReader};
use tokio_util::sync::CancellationToken;

const W: u16 = 320;
const H: u16 = 240;

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

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Mean luma of a 16×16 block at (`x`, `y`).
fn block(frame: &I420Frame, x: u32, y: u32) -> f64 {
    let sum: u32 = (y..y + 16)
        .flat_map(|r| (x..x + 16).map(move |c| (r, c)))
        .map(|(r, c)| u32::from(frame.y()[(r * frame.width() + c) as usize]))
        .sum();
    f64::from(sum) / 256.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_screen_reaches_the_other_side_and_follows_changes() {
    let mut xvfb = Xvfb::start(W, H).expect("Xvfb");
    xvfb.fill((0, 0, W / 2, H), 0xff0000);
    xvfb.fill((W as i16 / 2, 0, W / 2, H), 0x0000ff);
    let (addr, _stop) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let mut ann =
        kaiwa_call(addr, &["--name", "Ann", "--video", "screen", "--audio", "none", "--duration", "8"]);
    ann.env("DISPLAY", &xvfb.display).env_remove("WAYLAND_DISPLAY").env_remove("XDG_SESSION_TYPE");
    let ann = ann.spawn().unwrap();
    let mut bo = kaiwa_call(addr, &["--name", "Bo", "--video", "none", "--duration", "7", "--record"]);
    bo.arg(&rec);
    let bo = bo.spawn().unwrap();
    // Half way through, the screen turns green.
    tokio::time::sleep(Duration::from_secs(4)).await;
    xvfb.fill((0, 0, W, H), 0x00ff00);
    let (ann, bo) = tokio::join!(
        tokio::task::spawn_blocking(move || ann.wait_with_output().unwrap()),
        tokio::task::spawn_blocking(move || bo.wait_with_output().unwrap())
    );
    let (ann, bo) = (ann.unwrap(), bo.unwrap());
    assert!(ann.status.success(), "Ann: {}", text(&ann));
    assert!(bo.status.success(), "Bo: {}", text(&bo));

    let y4m = std::fs::read_dir(&rec)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "y4m"))
        .expect("Bo recorded Ann's screen");
    let mut reader = Y4mReader::new(std::io::BufReader::new(std::fs::File::open(&y4m).unwrap())).unwrap();
    assert_eq!((reader.header().width, reader.header().height), (u32::from(W), u32::from(H)));
    let mut frames = Vec::new();
    while let Some(f) = reader.read_frame().unwrap() {
        frames.push(f);
    }
    assert!(frames.len() > 20, "only {} frames of the screen", frames.len());
    let near = |got: f64, want: u32| (got - luma(want)).abs() < 8.0;
    // Red | blue first, then green all over (the cursor is in the middle; the blocks are clear of it).
    let split =
        frames.iter().position(|f| near(block(f, 24, 24), 0xff0000) && near(block(f, 280, 200), 0x0000ff));
    let green =
        frames.iter().rposition(|f| near(block(f, 24, 24), 0x00ff00) && near(block(f, 280, 200), 0x00ff00));
    assert!(
        split.is_some(),
        "never red | blue: first frame {:.0} / {:.0}",
        block(&frames[0], 24, 24),
        block(&frames[0], 280, 200)
    );
    assert!(green.is_some_and(|g| Some(g) > split), "the change to green did not arrive after it");
}

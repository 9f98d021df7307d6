//! A native client behind a thin uplink in a room through Janus: its sending connection's congestion
//! control (the delay half alone, `sfu/publish.rs`) brings what it sends under the link, and the others
//! keep receiving it smoothly. At the fixed 300 kbit/s of video it sent before, plus audio, a 250 kbit/s
//! uplink overflowed for the whole call.

use std::time::Duration;

use anyhow::{Context, Result};
use kaiwa_browser_tests::SERIAL;
use kaiwa_testkit::lab::{LinkProfile, Profile};

use crate::harness::{MEDIA_WAIT, Room};

/// How long the picture is watched once it has settled.
const WATCH: Duration = Duration::from_secs(20);
/// The time congestion control is given to settle after the first frame.
const SETTLE: f64 = 8.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_native_behind_a_thin_uplink_sends_what_it_carries_to_janus() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let room = Room::start(26, 0).await?;
    let thin = Profile {
        name: "up-250k".into(),
        up: LinkProfile::capped(250_000, Duration::from_millis(300)),
        down: LinkProfile::default(),
        changes: Vec::new(),
    };
    let _ann = room.native_behind(&thin, "thin", "Ann")?;
    let bo = room.native("thin", "Bo")?;
    let deadline = tokio::time::Instant::now() + MEDIA_WAIT;
    let first = loop {
        let first = bo.samples("Ann").into_iter().find(|s| s.via_sfu && s.frames > 0);
        if let Some(first) = first {
            break first.t;
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "Bo never received Ann through Janus");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    tokio::time::sleep(Duration::from_secs_f64(SETTLE) + WATCH).await;
    let samples = bo.samples("Ann");
    let watched: Vec<_> = samples.iter().filter(|s| s.t >= first + SETTLE).collect();
    let (start, end) = (watched.first().context("no samples")?, watched.last().context("no samples")?);
    let fps = (end.frames - start.frames) as f64 / (end.t - start.t);
    let freezes = end.freezes - start.freezes;
    eprintln!(
        "Bo receives Ann: {fps:.1} fps, {freezes} freezes over {:.0} s, widths {:?}",
        end.t - start.t,
        watched.iter().map(|s| s.width).collect::<Vec<_>>()
    );
    anyhow::ensure!(fps >= 20.0 && freezes <= 1, "Ann's picture through a 250 kbit/s uplink: {samples:?}");
    Ok(())
}

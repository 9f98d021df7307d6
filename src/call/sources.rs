//! What `kaiwa call` sends: the video and audio sources its arguments name.

use super::*;

/// Period of `--audio clicks`; receivers measure click latency modulo it.
pub(super) const CLICK_PERIOD_MS: u32 = 500;

/// `--video screen[:N]` (or `portal`) shares the screen instead of sending a camera.
fn is_screen(source: &str) -> bool {
    source == "screen" || source.starts_with("screen:") || source == "portal"
}

pub(super) fn video_source(args: &CallArgs) -> anyhow::Result<Option<Box<dyn VideoSource>>> {
    if is_screen(&args.video) {
        return Ok(None);
    }
    named_video_source(&args.video, args)
}

/// What `--share` (or `--video screen[:N]`) shares, if anything.
pub(super) fn share_source(args: &CallArgs) -> anyhow::Result<Option<Box<dyn VideoSource>>> {
    match (&args.share, is_screen(&args.video)) {
        (Some(_), true) => {
            bail!("--video screen already shares the screen; use --share with another --video")
        }
        (Some(share), false) if share == "none" => Ok(None),
        (Some(share), false) => named_video_source(share, args),
        (None, true) => named_video_source(&args.video, args),
        (None, false) => Ok(None),
    }
}

fn named_video_source(name: &str, args: &CallArgs) -> anyhow::Result<Option<Box<dyn VideoSource>>> {
    let (w, h) = parse_size(&args.size)?;
    Ok(match name {
        "none" => None,
        "testpattern" => Some(Box::new(TestPatternSource::new(w, h, args.fps)?)),
        v if v == "camera" || v.starts_with("camera:") => {
            let id = v.strip_prefix("camera:");
            let request = kaiwa_devices::CameraRequest { width: w, height: h, fps: args.fps };
            Some(Box::new(kaiwa_devices::CameraSource::open_with(id, request)?))
        }
        "portal" => Some(portal_source(args.fps)?),
        "screen" if kaiwa_devices::share_through_portal() => Some(portal_source(args.fps)?),
        v if is_screen(v) => Some(Box::new(screen_source(v.strip_prefix("screen:"), args.fps)?)),
        v if let Some(id) = v.strip_prefix("window:") => Some(Box::new(window_source(id, args.fps)?)),
        path => Some(Box::new(Y4mFileSource::open(Path::new(path))?)),
    })
}

/// Whatever the desktop's screen-cast portal shares (it asks which, in its own dialog), at most 15 fps.
#[cfg(feature = "portal")]
fn portal_source(fps: u32) -> anyhow::Result<Box<dyn VideoSource>> {
    Ok(Box::new(kaiwa_devices::PortalSource::open(fps.min(15))?))
}

#[cfg(not(feature = "portal"))]
fn portal_source(_fps: u32) -> anyhow::Result<Box<dyn VideoSource>> {
    bail!("this build has no screen-cast portal support (the `portal` feature)")
}

/// One window of the `DISPLAY` by its X id (`0x…` or decimal, as `xwininfo` or `xdotool` print it), its
/// own picture whatever covers it, at most 15 fps.
fn window_source(id: &str, fps: u32) -> anyhow::Result<kaiwa_devices::ScreenSource> {
    if let Some(why) = kaiwa_devices::share_unavailable() {
        anyhow::bail!("{why}");
    }
    if kaiwa_devices::share_through_portal() {
        bail!("under Wayland the desktop chooses the window, in its own dialog: use --share screen");
    }
    let parsed = match id.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => id.parse(),
    };
    let id = parsed
        .map_err(|_| anyhow::anyhow!("window:ID takes an X window id (0x1a00007 or decimal), not {id:?}"))?;
    Ok(kaiwa_devices::ScreenSource::open_window(None, id, fps.min(15))?)
}

/// The `DISPLAY`'s screen, or its monitor `monitor` (0 = the primary), at most 15 fps (text needs sharp
/// frames more than many).
fn screen_source(monitor: Option<&str>, fps: u32) -> anyhow::Result<kaiwa_devices::ScreenSource> {
    if let Some(why) = kaiwa_devices::share_unavailable() {
        anyhow::bail!("{why}");
    }
    if kaiwa_devices::share_through_portal() {
        bail!("under Wayland the desktop chooses the screen, in its own dialog: use --share screen");
    }
    let area = match monitor {
        None => None,
        Some(n) => {
            let n: usize =
                n.parse().map_err(|_| anyhow::anyhow!("screen:N takes a monitor number, not {n:?}"))?;
            let monitors = kaiwa_devices::monitors(None)?;
            let count = monitors.len();
            Some(
                *monitors
                    .get(n)
                    .ok_or_else(|| anyhow::anyhow!("no monitor {n}: this display has {count}"))?,
            )
        }
    };
    Ok(kaiwa_devices::ScreenSource::open(None, area, fps.min(15))?)
}

pub(super) fn audio_source(args: &CallArgs) -> anyhow::Result<Option<Box<dyn AudioSource>>> {
    Ok(match args.audio.as_str() {
        "none" => None,
        "tone" => Some(Box::new(ToneSource::new(440.0))),
        "clicks" => Some(Box::new(ClickSource::new(CLICK_PERIOD_MS))),
        t if let Some(hz) = t.strip_prefix("tone:") => {
            let hz: f64 = hz.parse().context("--audio tone:HZ needs a number")?;
            if !(20.0..=20_000.0).contains(&hz) {
                bail!("--audio tone:HZ must be between 20 and 20000 Hz");
            }
            Some(Box::new(ToneSource::new(hz)))
        }
        "mic" => Some(Box::new(kaiwa_devices::MicSource::open(None)?)),
        m if let Some(device) = m.strip_prefix("mic:") => {
            Some(Box::new(kaiwa_devices::MicSource::open(Some(device))?))
        }
        path => Some(Box::new(WavFileSource::open(Path::new(path))?)),
    })
}

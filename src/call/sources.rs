//! What `kaiwa call` sends: the video and audio sources its arguments name.

use super::*;

/// Period of `--audio clicks`; receivers measure click latency modulo it.
pub(super) const CLICK_PERIOD_MS: u32 = 500;

pub(super) fn video_source(args: &CallArgs) -> anyhow::Result<Option<Box<dyn VideoSource>>> {
    let (w, h) = parse_size(&args.size)?;
    Ok(match args.video.as_str() {
        "none" => None,
        "testpattern" => Some(Box::new(TestPatternSource::new(w, h, args.fps)?)),
        v if v == "camera" || v.starts_with("camera:") => {
            let id = v.strip_prefix("camera:");
            let request = kaiwa_devices::CameraRequest { width: w, height: h, fps: args.fps };
            Some(Box::new(kaiwa_devices::CameraSource::open_with(id, request)?))
        }
        path => Some(Box::new(Y4mFileSource::open(Path::new(path))?)),
    })
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

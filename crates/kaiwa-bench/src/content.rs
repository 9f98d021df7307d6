//! The content both contenders send in the CPU runs, made once into a cache directory: the moving test
//! pattern as a Y4M file per size (the native side plays it with `--video FILE`, Chromium with
//! `--use-file-for-fake-video-capture`) and one WAV file (`--audio FILE` / `--use-file-for-fake-audio-capture`).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::Context;
use kaiwa_media::audio::WavAudio;
use kaiwa_media::video::{TestPattern, Y4mHeader, Y4mWriter};

/// Length of the looped video. Chromium maps the whole file into memory (counted in its RSS), so it is
/// kept short: 2 s of 720p is 83 MB.
const VIDEO_SECONDS: u32 = 2;
/// Length of the looped audio.
const AUDIO_SECONDS: u32 = 10;
const RATE: u32 = 48_000;

/// The Y4M file for `width × height` at `fps`, made if missing.
pub fn video(dir: &Path, (width, height): (u32, u32), fps: u32) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("pattern-{width}x{height}-{fps}fps-{VIDEO_SECONDS}s.y4m"));
    if path.exists() {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let pattern = TestPattern::new(width, height)?;
    let tmp = path.with_extension("partial");
    let header = Y4mHeader { width, height, fps_num: fps, fps_den: 1 };
    let mut w = Y4mWriter::new(BufWriter::new(File::create(&tmp)?), header)?;
    for n in 0..VIDEO_SECONDS * fps {
        // Capture time 0: the file's stamps say nothing about latency; CPU runs do not read them.
        w.write_frame(&pattern.frame(n, 0))?;
    }
    w.finish()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// A 48 kHz mono WAV file: 200 ms bursts of a 440 Hz tone with a little harmonic, every 500 ms (speech-like
/// on/off so neither side's encoder idles), made if missing.
pub fn audio(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("bursts-{AUDIO_SECONDS}s.wav"));
    if path.exists() {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let samples = (0..AUDIO_SECONDS * RATE)
        .map(|i| {
            let t = f64::from(i) / f64::from(RATE);
            if (t % 0.5) < 0.2 {
                let x = std::f64::consts::TAU * 440.0 * t;
                ((x.sin() * 0.3 + (2.0 * x).sin() * 0.1) * 32767.0) as i16
            } else {
                0
            }
        })
        .collect();
    let tmp = path.with_extension("partial");
    WavAudio { sample_rate: RATE, channels: 1, samples }.write(BufWriter::new(File::create(&tmp)?))?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

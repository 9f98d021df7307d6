use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kaiwa_media::audio::{FRAME_SAMPLES, SAMPLE_RATE, WavAudio};
use kaiwa_media::video::{I420Frame, Y4mReader};

use crate::{AudioSource, CapturedFrame, Pacer, SourceError, VideoSource};

/// Longest WAV file accepted as a source: ten minutes of 48 kHz stereo.
const MAX_WAV_SAMPLES: usize = 10 * 60 * 48_000 * 2;

fn file_error(path: &Path, message: impl ToString) -> SourceError {
    SourceError::File { path: path.display().to_string(), message: message.to_string() }
}

/// A 4:2:0 Y4M file played at its own frame rate, looping at the end.
pub struct Y4mFileSource {
    path: PathBuf,
    reader: Y4mReader<BufReader<File>>,
    size: (u32, u32),
    fps: u32,
    pacer: Pacer,
    /// A frame given back by the consumer, read into next.
    spare: Option<I420Frame>,
}

impl Y4mFileSource {
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        let reader = Self::reader(path)?;
        let h = reader.header();
        let fps = (h.fps_num / h.fps_den.max(1)).clamp(1, 120);
        Ok(Y4mFileSource {
            path: path.to_owned(),
            size: (h.width, h.height),
            fps,
            pacer: Pacer::new(Instant::now(), Duration::from_secs(1) / fps),
            reader,
            spare: None,
        })
    }

    fn reader(path: &Path) -> Result<Y4mReader<BufReader<File>>, SourceError> {
        let file = File::open(path).map_err(|e| file_error(path, e))?;
        Y4mReader::new(BufReader::new(file)).map_err(|e| file_error(path, e))
    }
}

impl VideoSource for Y4mFileSource {
    fn describe(&self) -> String {
        format!("{} {}x{}@{}", self.path.display(), self.size.0, self.size.1, self.fps)
    }

    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn fps(&self) -> u32 {
        self.fps
    }

    fn next_frame(&mut self) -> Result<Option<CapturedFrame>, SourceError> {
        self.pacer.wait();
        let (w, h) = self.size;
        let mut frame = match self.spare.take() {
            Some(f) => f,
            None => I420Frame::black(w, h).map_err(|e| file_error(&self.path, e))?,
        };
        if !self.reader.read_frame_into(&mut frame).map_err(|e| file_error(&self.path, e))? {
            // End of file: loop.
            self.reader = Self::reader(&self.path)?;
            if !self.reader.read_frame_into(&mut frame).map_err(|e| file_error(&self.path, e))? {
                return Err(file_error(&self.path, "no frames"));
            }
        }
        Ok(Some(CapturedFrame { frame, captured_at: Instant::now() }))
    }

    fn recycle(&mut self, frame: I420Frame) {
        self.spare = Some(frame);
    }
}

/// A WAV file (48 kHz, mono or stereo, mixed down to mono) played in real time, looping.
pub struct WavFileSource {
    path: PathBuf,
    samples: Vec<i16>,
    pos: usize,
    pacer: Pacer,
}

impl WavFileSource {
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        let file = File::open(path).map_err(|e| file_error(path, e))?;
        let wav = WavAudio::read(BufReader::new(file), MAX_WAV_SAMPLES).map_err(|e| file_error(path, e))?;
        if wav.sample_rate != SAMPLE_RATE {
            return Err(file_error(
                path,
                format!("{} Hz: only 48000 Hz files are supported", wav.sample_rate),
            ));
        }
        let channels = usize::from(wav.channels.max(1));
        let samples: Vec<i16> = wav
            .samples
            .chunks(channels)
            .map(|c| (c.iter().map(|&s| i32::from(s)).sum::<i32>() / channels as i32) as i16)
            .collect();
        if samples.is_empty() {
            return Err(file_error(path, "no samples"));
        }
        Ok(WavFileSource {
            path: path.to_owned(),
            samples,
            pos: 0,
            pacer: Pacer::new(Instant::now(), Duration::from_millis(20)),
        })
    }
}

impl AudioSource for WavFileSource {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> Result<bool, SourceError> {
        self.pacer.wait();
        for s in out.iter_mut() {
            *s = self.samples[self.pos];
            self.pos = (self.pos + 1) % self.samples.len();
        }
        Ok(true)
    }
}

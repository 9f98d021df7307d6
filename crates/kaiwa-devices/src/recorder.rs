//! Sinks that write what was received to files: one Y4M per remote video, one WAV per remote audio.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use kaiwa_media::audio::{SAMPLE_RATE, WavAudio};
use kaiwa_media::video::{I420Frame, Y4mHeader, Y4mWriter};

use crate::SourceError;

fn file_error(path: &Path, message: impl ToString) -> SourceError {
    SourceError::File { path: path.display().to_string(), message: message.to_string() }
}

/// Writes decoded frames to a Y4M file, created at the first frame (whose size fixes the file's). Frames of
/// another size (the sender changed resolution) are skipped and counted, since Y4M has one size per file.
pub struct Y4mRecorder {
    path: PathBuf,
    fps: u32,
    writer: Option<Y4mWriter<BufWriter<File>>>,
    size: Option<(u32, u32)>,
    pub frames_written: u64,
    pub frames_skipped: u64,
}

impl Y4mRecorder {
    pub fn new(path: PathBuf, fps: u32) -> Self {
        Y4mRecorder { path, fps, writer: None, size: None, frames_written: 0, frames_skipped: 0 }
    }

    pub fn write(&mut self, frame: &I420Frame) -> Result<(), SourceError> {
        let size = (frame.width(), frame.height());
        if self.writer.is_none() {
            let file = File::create(&self.path).map_err(|e| file_error(&self.path, e))?;
            let header = Y4mHeader { width: size.0, height: size.1, fps_num: self.fps, fps_den: 1 };
            self.writer =
                Some(Y4mWriter::new(BufWriter::new(file), header).map_err(|e| file_error(&self.path, e))?);
            self.size = Some(size);
        }
        if self.size != Some(size) {
            self.frames_skipped += 1;
            return Ok(());
        }
        if let Some(w) = self.writer.as_mut() {
            w.write_frame(frame).map_err(|e| file_error(&self.path, e))?;
            self.frames_written += 1;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(), SourceError> {
        if let Some(w) = self.writer {
            w.finish().map_err(|e| file_error(&self.path, e))?;
        }
        Ok(())
    }
}

/// Collects received audio and writes it as a 48 kHz mono WAV when finished.
pub struct WavRecorder {
    path: PathBuf,
    samples: Vec<i16>,
}

impl WavRecorder {
    pub fn new(path: PathBuf) -> Self {
        WavRecorder { path, samples: Vec::new() }
    }

    pub fn write(&mut self, samples: &[i16]) {
        self.samples.extend_from_slice(samples);
    }

    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    pub fn finish(self) -> Result<(), SourceError> {
        let file = File::create(&self.path).map_err(|e| file_error(&self.path, e))?;
        let wav = WavAudio { sample_rate: SAMPLE_RATE, channels: 1, samples: self.samples };
        wav.write(BufWriter::new(file)).map_err(|e| file_error(&self.path, e))
    }
}

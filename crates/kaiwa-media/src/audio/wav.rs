//! WAV files (via `hound`) for file-based audio sources and recorders: 16-bit PCM out, 16-bit integer or
//! 32-bit float in.

use std::io::{Read, Seek, Write};

use thiserror::Error;

/// WAV errors.
#[derive(Debug, Error)]
pub enum WavError {
    /// Parse or I/O error from `hound`.
    #[error("WAV: {0}")]
    Hound(#[from] hound::Error),
    /// A sample format other than 16-bit int or 32-bit float.
    #[error("unsupported WAV sample format: {0}")]
    Unsupported(String),
    /// The file is larger than the cap given to the reader.
    #[error("WAV has more than {0} samples")]
    TooLong(usize),
}

/// Interleaved 16-bit audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavAudio {
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u16,
    /// Interleaved samples.
    pub samples: Vec<i16>,
}

impl WavAudio {
    /// Reads a whole WAV stream, at most `max_samples` samples (all channels).
    pub fn read<R: Read>(reader: R, max_samples: usize) -> Result<Self, WavError> {
        let mut r = hound::WavReader::new(reader)?;
        let spec = r.spec();
        if spec.channels == 0 {
            return Err(WavError::Unsupported("zero channels".into()));
        }
        let declared = r.len() as usize;
        if declared > max_samples {
            return Err(WavError::TooLong(max_samples));
        }
        let samples = match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Int, 16) => {
                r.samples::<i16>().take(max_samples).collect::<Result<Vec<_>, _>>()?
            }
            (hound::SampleFormat::Float, 32) => r
                .samples::<f32>()
                .take(max_samples)
                .map(|s| s.map(|v| (v.clamp(-1.0, 1.0) * 32767.0).round() as i16))
                .collect::<Result<Vec<_>, _>>()?,
            (format, bits) => return Err(WavError::Unsupported(format!("{format:?} {bits}-bit"))),
        };
        Ok(Self { sample_rate: spec.sample_rate, channels: spec.channels, samples })
    }

    /// Writes 16-bit PCM.
    pub fn write<W: Write + Seek>(&self, writer: W) -> Result<(), WavError> {
        let spec = hound::WavSpec {
            channels: self.channels,
            sample_rate: self.sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::new(writer, spec)?;
        for &s in &self.samples {
            w.write_sample(s)?;
        }
        w.finalize()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn round_trip() {
        let audio = WavAudio {
            sample_rate: 48_000,
            channels: 1,
            samples: (0..4800).map(|i| (i * 7) as i16).collect(),
        };
        let mut buf = Cursor::new(Vec::new());
        audio.write(&mut buf).unwrap();
        let back = WavAudio::read(Cursor::new(buf.into_inner()), 1 << 20).unwrap();
        assert_eq!(back, audio);
    }

    #[test]
    fn garbage_and_caps_are_errors() {
        assert!(WavAudio::read(Cursor::new(b"RIFF1234WAVEfmt ".to_vec()), 100).is_err());
        let audio = WavAudio { sample_rate: 8000, channels: 2, samples: vec![1; 100] };
        let mut buf = Cursor::new(Vec::new());
        audio.write(&mut buf).unwrap();
        assert!(matches!(WavAudio::read(Cursor::new(buf.into_inner()), 10), Err(WavError::TooLong(10))));
    }
}

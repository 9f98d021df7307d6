//! YUV4MPEG2 (`.y4m`) reader and writer, 4:2:0 8-bit only, for file sources and recorders.
//!
//! Format: a header line `YUV4MPEG2 W<w> H<h> F<n>:<d> [Ip] [A..] [C420jpeg] [X..]\n`, then per frame
//! `FRAME[ params]\n` followed by the Y, U and V planes. Any colour space other than 4:2:0 (`C420`,
//! `C420jpeg`, `C420paldv`, `C420mpeg2`, or none, which means 4:2:0) is a clear error.

use std::io::{BufRead, Write};

use thiserror::Error;

use super::frame::{FrameError, I420Frame, MAX_DIMENSION};

/// Longest header or frame line accepted.
const MAX_LINE: usize = 4096;

/// Y4M errors.
#[derive(Debug, Error)]
pub enum Y4mError {
    /// I/O failure.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Not a Y4M stream or a malformed header/frame line.
    #[error("malformed Y4M: {0}")]
    Malformed(String),
    /// A colour space other than 8-bit 4:2:0.
    #[error("unsupported Y4M colour space {0:?} (only 4:2:0 8-bit is supported)")]
    UnsupportedColorspace(String),
    /// The stream ended inside a frame.
    #[error("truncated frame")]
    Truncated,
    /// The frame does not match the stream's dimensions.
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// Stream parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Y4mHeader {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Frame rate numerator.
    pub fps_num: u32,
    /// Frame rate denominator.
    pub fps_den: u32,
}

fn read_line<R: BufRead>(r: &mut R) -> Result<Option<String>, Y4mError> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return if line.is_empty() { Ok(None) } else { Err(Y4mError::Truncated) };
        }
        if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            line.extend_from_slice(&buf[..pos]);
            r.consume(pos + 1);
            break;
        }
        let n = buf.len();
        line.extend_from_slice(buf);
        r.consume(n);
        if line.len() > MAX_LINE {
            return Err(Y4mError::Malformed("line too long".into()));
        }
    }
    if line.len() > MAX_LINE {
        return Err(Y4mError::Malformed("line too long".into()));
    }
    String::from_utf8(line).map(Some).map_err(|_| Y4mError::Malformed("header is not ASCII".into()))
}

/// Reads frames from a Y4M stream.
#[derive(Debug)]
pub struct Y4mReader<R> {
    reader: R,
    header: Y4mHeader,
}

impl<R: BufRead> Y4mReader<R> {
    /// Parses the stream header.
    pub fn new(mut reader: R) -> Result<Self, Y4mError> {
        let line = read_line(&mut reader)?.ok_or_else(|| Y4mError::Malformed("empty stream".into()))?;
        let mut parts = line.split(' ');
        if parts.next() != Some("YUV4MPEG2") {
            return Err(Y4mError::Malformed("missing YUV4MPEG2 signature".into()));
        }
        let (mut width, mut height, mut fps) = (None, None, (30, 1));
        for part in parts.filter(|p| !p.is_empty()) {
            let Some((tag, value)) = part.split_at_checked(1) else {
                return Err(Y4mError::Malformed(format!("bad header field {part:?}")));
            };
            let num =
                |v: &str| v.parse::<u32>().map_err(|_| Y4mError::Malformed(format!("bad {tag} value {v:?}")));
            match tag {
                "W" => width = Some(num(value)?),
                "H" => height = Some(num(value)?),
                "F" => {
                    let (n, d) = value
                        .split_once(':')
                        .ok_or_else(|| Y4mError::Malformed(format!("bad frame rate {value:?}")))?;
                    fps = (num(n)?, num(d)?);
                }
                "C" if !matches!(value, "420" | "420jpeg" | "420paldv" | "420mpeg2") => {
                    return Err(Y4mError::UnsupportedColorspace(value.to_string()));
                }
                "I" if !matches!(value, "p" | "?") => {
                    return Err(Y4mError::Malformed(format!("interlacing {value:?} not supported")));
                }
                _ => {} // A (aspect), X (extensions): ignored.
            }
        }
        let (width, height) =
            width.zip(height).ok_or_else(|| Y4mError::Malformed("missing W or H".into()))?;
        if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
            return Err(Y4mError::Malformed(format!("dimensions {width}x{height} out of range")));
        }
        Ok(Self { reader, header: Y4mHeader { width, height, fps_num: fps.0, fps_den: fps.1 } })
    }

    /// The stream header.
    pub fn header(&self) -> Y4mHeader {
        self.header
    }

    /// Next frame, or `None` at a clean end of stream.
    pub fn read_frame(&mut self) -> Result<Option<I420Frame>, Y4mError> {
        let Y4mHeader { width, height, .. } = self.header;
        let mut frame = I420Frame::black(width, height)?;
        Ok(self.read_frame_into(&mut frame)?.then_some(frame))
    }

    /// Reads the next frame into `frame`, reusing its buffers (a frame of another size is replaced), so a
    /// looping file source reads without allocating. `false` at a clean end of stream. After an error the
    /// frame's content is unspecified (its size is the stream's).
    pub fn read_frame_into(&mut self, frame: &mut I420Frame) -> Result<bool, Y4mError> {
        let Some(line) = read_line(&mut self.reader)? else { return Ok(false) };
        if line != "FRAME" && !line.starts_with("FRAME ") {
            return Err(Y4mError::Malformed("expected FRAME".into()));
        }
        let Y4mHeader { width, height, .. } = self.header;
        if frame.width() != width || frame.height() != height {
            *frame = I420Frame::black(width, height)?;
        }
        let (y, u, v) = frame.planes_mut();
        for plane in [y, u, v] {
            self.reader.read_exact(plane).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => Y4mError::Truncated,
                _ => Y4mError::Io(e),
            })?;
        }
        Ok(true)
    }
}

/// Writes frames to a Y4M stream.
#[derive(Debug)]
pub struct Y4mWriter<W: Write> {
    writer: W,
    header: Y4mHeader,
}

impl<W: Write> Y4mWriter<W> {
    /// Writes the stream header.
    pub fn new(mut writer: W, header: Y4mHeader) -> Result<Self, Y4mError> {
        let Y4mHeader { width, height, fps_num, fps_den } = header;
        writeln!(writer, "YUV4MPEG2 W{width} H{height} F{fps_num}:{fps_den} Ip A1:1 C420jpeg")?;
        Ok(Self { writer, header })
    }

    /// Appends one frame; its size must match the header.
    pub fn write_frame(&mut self, frame: &I420Frame) -> Result<(), Y4mError> {
        if frame.width() != self.header.width || frame.height() != self.header.height {
            return Err(Y4mError::Frame(FrameError::InvalidDimensions {
                width: frame.width(),
                height: frame.height(),
            }));
        }
        self.writer.write_all(b"FRAME\n")?;
        self.writer.write_all(frame.y())?;
        self.writer.write_all(frame.u())?;
        self.writer.write_all(frame.v())?;
        Ok(())
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> Result<W, Y4mError> {
        self.writer.flush()?;
        Ok(self.writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::TestPattern;

    #[test]
    fn round_trip() {
        let pattern = TestPattern::new(96, 64).unwrap();
        let header = Y4mHeader { width: 96, height: 64, fps_num: 30, fps_den: 1 };
        let mut w = Y4mWriter::new(Vec::new(), header).unwrap();
        let frames: Vec<_> = (0..3).map(|i| pattern.frame(i, u64::from(i) * 33_333)).collect();
        for f in &frames {
            w.write_frame(f).unwrap();
        }
        let bytes = w.finish().unwrap();
        let mut r = Y4mReader::new(&bytes[..]).unwrap();
        assert_eq!(r.header(), header);
        for f in &frames {
            assert_eq!(r.read_frame().unwrap().as_ref(), Some(f));
        }
        assert!(r.read_frame().unwrap().is_none());
        // Into a reused frame (of another size at first).
        let mut r = Y4mReader::new(&bytes[..]).unwrap();
        let mut reused = I420Frame::black(64, 64).unwrap();
        for f in &frames {
            assert!(r.read_frame_into(&mut reused).unwrap());
            assert_eq!(&reused, f);
        }
        assert!(!r.read_frame_into(&mut reused).unwrap());
        // Truncated last frame.
        let mut r = Y4mReader::new(&bytes[..bytes.len() - 10]).unwrap();
        r.read_frame().unwrap();
        r.read_frame().unwrap();
        assert!(matches!(r.read_frame(), Err(Y4mError::Truncated)));
    }

    #[test]
    fn rejects_other_colourspaces_and_garbage() {
        assert!(matches!(
            Y4mReader::new(&b"YUV4MPEG2 W4 H4 F30:1 C444\n"[..]),
            Err(Y4mError::UnsupportedColorspace(c)) if c == "444"
        ));
        assert!(Y4mReader::new(&b"YUV4MPEG2 W4 F30:1\n"[..]).is_err());
        assert!(Y4mReader::new(&b"RIFF"[..]).is_err());
        assert!(Y4mReader::new(&b"YUV4MPEG2 W99999999 H4\n"[..]).is_err());
        let mut r = Y4mReader::new(&b"YUV4MPEG2 W4 H4\nFRAMEX\n"[..]).unwrap();
        assert!(r.read_frame().is_err());
    }
}

//! Screen sharing through the desktop's screen-cast portal: the way under Wayland, where no app may read
//! the screen itself. The desktop asks the person which screen or window to share (its own dialog,
//! `request.rs`), then streams it over PipeWire (`stream.rs`); pictures are converted to I420 here, on
//! the capture thread, at the share's frame rate.
//!
//! Behind the `portal` feature (libpipewire-0.3 at build and run time).

mod request;
mod stream;

use std::time::{Duration, Instant};

use kaiwa_media::video::I420Frame;

use self::request::PortalSession;
use self::stream::{Latest, Order, Picture, Receiver};
use crate::pacer::Pacer;
use crate::source::{CapturedFrame, SourceError, VideoSource};

/// How long the stream may take to send its first picture once the person has chosen.
const FIRST_PICTURE: Duration = Duration::from_secs(10);

/// A screen or window the desktop's portal shares with us, as a video source.
pub struct PortalSource {
    latest: Latest,
    receiver: Option<Receiver>,
    session: Option<PortalSession>,
    /// The size of the first picture (even); later pictures of another size (a resized window) are cut
    /// or padded to it.
    size: (u32, u32),
    fps: u32,
    pacer: Pacer,
    /// The newest picture converted, sent again while the screen does not change (the stream sends
    /// pictures only when it does).
    last: I420Frame,
    seen: u64,
    /// The newest picture, swapped out of the stream's slot.
    taken: Picture,
    /// A resized window's rows, cut or padded to `size`.
    fitted: Vec<u8>,
}

impl PortalSource {
    /// Asks the desktop for a screen or a window (blocking until the person has chosen in its dialog)
    /// and starts receiving it at up to `fps`.
    pub fn open(fps: u32) -> Result<PortalSource, SourceError> {
        PortalSource::open_on(None, fps)
    }

    /// [`PortalSource::open`] through the D-Bus session bus at `bus` (`None`: this session's).
    pub fn open_on(bus: Option<&str>, fps: u32) -> Result<PortalSource, SourceError> {
        let grant = request::ask(bus)?;
        let latest = Latest::default();
        let receiver = match Receiver::start(grant.remote, grant.node_id, fps, latest.clone()) {
            Ok(r) => r,
            Err(e) => {
                grant.session.close();
                return Err(SourceError::Device(e));
            }
        };
        let mut source = PortalSource {
            latest,
            receiver: Some(receiver),
            session: Some(grant.session),
            size: (0, 0),
            fps,
            pacer: Pacer::new(Instant::now(), Duration::from_secs(1) / fps.max(1)),
            last: I420Frame::black(2, 2).map_err(|e| SourceError::Media(e.to_string()))?,
            seen: 0,
            taken: Picture::default(),
            fitted: Vec::new(),
        };
        let (width, height) = source.first_picture()?;
        tracing::info!(width, height, node = grant.node_id, portal_size = ?grant.size, "sharing through the portal");
        source.size = (width & !1, height & !1);
        source.last =
            I420Frame::black(source.size.0, source.size.1).map_err(|e| SourceError::Media(e.to_string()))?;
        source.take_newest()?;
        Ok(source)
    }

    /// Waits for the stream's first picture; its size.
    fn first_picture(&self) -> Result<(u32, u32), SourceError> {
        let (slot, wake) = &*self.latest;
        let slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        let (slot, _) = wake
            .wait_timeout_while(slot, FIRST_PICTURE, |s| s.picture.seq == 0 && s.ended.is_none())
            .unwrap_or_else(|p| p.into_inner());
        if let Some(why) = &slot.ended {
            return Err(SourceError::Device(why.clone()));
        }
        let Picture { width, height, seq, .. } = slot.picture;
        if seq == 0 || width < 2 || height < 2 {
            return Err(SourceError::Device(format!(
                "the desktop's screen share sent no picture in {} s",
                FIRST_PICTURE.as_secs()
            )));
        }
        Ok((width, height))
    }

    /// Converts the newest picture, if there is one we have not seen, into `last`.
    fn take_newest(&mut self) -> Result<(), SourceError> {
        {
            let (slot, _) = &*self.latest;
            let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(why) = &slot.ended {
                return Err(SourceError::Device(why.clone()));
            }
            if slot.picture.seq == self.seen {
                return Ok(());
            }
            // Swap the buffers and convert after the lock: the PipeWire thread never waits on a conversion
            // (and fills our old buffer next, without allocating).
            let picture = &mut slot.picture;
            self.seen = picture.seq;
            std::mem::swap(&mut self.taken.bytes, &mut picture.bytes);
            (self.taken.width, self.taken.height, self.taken.stride) =
                (picture.width, picture.height, picture.stride);
            self.taken.order = picture.order;
        }
        let picture = &self.taken;
        let (width, height) = self.size;
        let (bytes, stride) = if fits(picture, self.size) {
            (&picture.bytes[..picture.stride as usize * height as usize], picture.stride)
        } else {
            fit(picture, self.size, &mut self.fitted);
            (&self.fitted[..], width * 4)
        };
        let converted = match picture.order {
            Some(Order::Rgba) => self.last.fill_from_rgba(bytes, stride),
            _ => self.last.fill_from_bgra(bytes, stride),
        };
        converted.map_err(|e| SourceError::Media(e.to_string()))
    }
}

/// Whether `picture` can be read as `size` as it is: at least as large (its right and bottom edges cut).
fn fits(picture: &Picture, (width, height): (u32, u32)) -> bool {
    picture.width >= width && picture.height >= height
}

/// `picture` cut or padded (black) to `size`, 4 bytes a pixel, rows `width * 4` apart, into `out`.
fn fit(picture: &Picture, (width, height): (u32, u32), out: &mut Vec<u8>) {
    let row = width as usize * 4;
    out.clear();
    out.resize(row * height as usize, 0);
    let copy = row.min(picture.width as usize * 4);
    for y in 0..height.min(picture.height) as usize {
        let from = y * picture.stride as usize;
        if let Some(src) = picture.bytes.get(from..from + copy) {
            out[y * row..y * row + copy].copy_from_slice(src);
        }
    }
}

impl VideoSource for PortalSource {
    fn describe(&self) -> String {
        let (width, height) = self.size;
        format!("screen shared by the desktop (portal) {width}x{height}@{}", self.fps)
    }

    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn fps(&self) -> u32 {
        self.fps
    }

    fn next_frame(&mut self) -> Result<Option<CapturedFrame>, SourceError> {
        let captured_at = self.pacer.wait();
        self.take_newest()?;
        Ok(Some(CapturedFrame { frame: self.last.clone(), captured_at }))
    }

    fn content(&self) -> kaiwa_media::video::Content {
        kaiwa_media::video::Content::Screen
    }
}

impl Drop for PortalSource {
    fn drop(&mut self) {
        drop(self.receiver.take());
        if let Some(session) = self.session.take() {
            session.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(width: u32, height: u32, stride: u32) -> Picture {
        let bytes = (0..stride * height).map(|i| (i % 251) as u8).collect();
        Picture { bytes, width, height, stride, order: Some(Order::Bgra), seq: 1 }
    }

    #[test]
    fn a_smaller_picture_is_padded_black() {
        let p = picture(2, 2, 12);
        let mut out = Vec::new();
        fit(&p, (4, 3), &mut out);
        assert_eq!(out.len(), 4 * 4 * 3);
        assert_eq!(&out[0..8], &p.bytes[0..8]);
        assert_eq!(&out[16..24], &p.bytes[12..20]);
        assert!(out[8..16].iter().all(|&b| b == 0), "right of the picture");
        assert!(out[32..].iter().all(|&b| b == 0), "below the picture");
    }

    #[test]
    fn a_larger_picture_is_read_as_it_is() {
        assert!(fits(&picture(6, 4, 24), (4, 4)));
        assert!(!fits(&picture(6, 2, 24), (4, 4)));
        let p = picture(6, 4, 28);
        let mut out = Vec::new();
        fit(&p, (4, 2), &mut out);
        assert_eq!(&out[16..32], &p.bytes[28..44]);
    }
}

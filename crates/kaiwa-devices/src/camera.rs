//! Camera capture with nokhwa (V4L2 on Linux), converted to I420 with kaiwa-media's SIMD converters.
//!
//! Capture runs on the calling thread: `next_frame` blocks in the driver until the camera delivers the
//! next picture, so the camera's own clock paces the caller.

use std::time::Instant;

use kaiwa_media::video::I420Frame;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
};
use nokhwa::{Camera, NokhwaError};
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use crate::{CapturedFrame, SourceError, VideoSource};

/// A camera as the settings dialog shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    /// Id to store in settings and pass to [`CameraSource::open`] (on Linux the V4L2 index, e.g. "0").
    pub id: String,
    /// Human-readable name, e.g. "HD Webcam C270".
    pub name: String,
    /// Extra detail from the driver (bus, path).
    pub description: String,
}

/// Cameras present now; empty (not an error) when there are none or the camera system is unavailable.
/// The first one is the default.
pub fn list_cameras() -> Vec<CameraInfo> {
    match nokhwa::query(ApiBackend::Auto) {
        Ok(list) => list
            .into_iter()
            .map(|c| CameraInfo {
                id: c.index().as_string(),
                name: c.human_name(),
                description: c.description().into(),
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// What to ask the camera for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CameraRequest {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Default for CameraRequest {
    fn default() -> Self {
        CameraRequest { width: 640, height: 480, fps: 30 }
    }
}

/// Formats we can convert, best first: MJPEG reaches 720p30 on USB 2 cameras, YUYV/NV12 need no decoding.
const FORMATS: [FrameFormat; 3] = [FrameFormat::MJPEG, FrameFormat::YUYV, FrameFormat::NV12];

/// A camera as a [`VideoSource`].
pub struct CameraSource {
    camera: Camera,
    name: String,
    format: CameraFormat,
}

impl CameraSource {
    /// Opens a camera (`None`: the first one) at 640x480@30 or the closest format it offers.
    pub fn open(id: Option<&str>) -> Result<Self, SourceError> {
        Self::open_with(id, CameraRequest::default())
    }

    pub fn open_with(id: Option<&str>, request: CameraRequest) -> Result<Self, SourceError> {
        let cameras = list_cameras();
        let info = match id {
            None => cameras.into_iter().next().ok_or(SourceError::NoCamera)?,
            Some(id) => match cameras.into_iter().find(|c| c.id == id || c.name == id) {
                Some(c) => c,
                None => {
                    return Err(SourceError::Device(format!(
                        "the camera \"{id}\" is not connected (pick another one in the settings)"
                    )));
                }
            },
        };
        let index = match info.id.parse::<u32>() {
            Ok(n) => CameraIndex::Index(n),
            Err(_) => CameraIndex::String(info.id.clone()),
        };
        let mut last_err = None;
        for ff in FORMATS {
            let wanted = CameraFormat::new(Resolution::new(request.width, request.height), ff, request.fps);
            let requested = RequestedFormat::with_formats(RequestedFormatType::Closest(wanted), &FORMATS);
            match Camera::new(index.clone(), requested) {
                Ok(mut camera) => {
                    camera.open_stream().map_err(|e| camera_error(&info.name, e))?;
                    let format = camera.camera_format();
                    return Ok(CameraSource { camera, name: info.name, format });
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(match last_err {
            Some(e) => camera_error(&info.name, e),
            None => SourceError::NoCamera,
        })
    }
}

impl VideoSource for CameraSource {
    fn describe(&self) -> String {
        format!(
            "camera {} {}x{}@{} {}",
            self.name,
            self.format.width(),
            self.format.height(),
            self.format.frame_rate(),
            self.format.format()
        )
    }

    fn size(&self) -> (u32, u32) {
        (self.format.width(), self.format.height())
    }

    fn fps(&self) -> u32 {
        self.format.frame_rate()
    }

    fn next_frame(&mut self) -> Result<Option<CapturedFrame>, SourceError> {
        let buffer = self.camera.frame().map_err(|e| camera_error(&self.name, e))?;
        let captured_at = Instant::now();
        let res = buffer.resolution();
        let frame = convert(buffer.source_frame_format(), res.width(), res.height(), buffer.buffer())?;
        Ok(Some(CapturedFrame { frame, captured_at }))
    }
}

/// Converts one camera picture to I420.
pub(crate) fn convert(
    format: FrameFormat,
    width: u32,
    height: u32,
    data: &[u8],
) -> Result<I420Frame, SourceError> {
    let media = |e: kaiwa_media::video::FrameError| SourceError::Media(format!("camera picture: {e}"));
    match format {
        FrameFormat::YUYV => I420Frame::from_yuyv(width, height, data).map_err(media),
        FrameFormat::NV12 => I420Frame::from_nv12(width, height, data).map_err(media),
        FrameFormat::MJPEG => {
            let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGBA);
            let mut decoder = JpegDecoder::new_with_options(ZCursor::new(data), options);
            let rgba =
                decoder.decode().map_err(|e| SourceError::Media(format!("camera sent a bad JPEG: {e:?}")))?;
            let (w, h) =
                decoder.info().map(|i| (u32::from(i.width), u32::from(i.height))).unwrap_or((width, height));
            I420Frame::from_rgba(w, h, &rgba).map_err(media)
        }
        other => Err(SourceError::Media(format!("camera format {other} is not supported"))),
    }
}

/// Plain-language camera errors for the status line.
fn camera_error(name: &str, e: NokhwaError) -> SourceError {
    let text = e.to_string();
    let lower = text.to_lowercase();
    let msg = if lower.contains("busy") || lower.contains("resource temporarily") {
        format!("the camera \"{name}\" is in use by another application")
    } else if lower.contains("permission")
        || lower.contains("not permitted")
        || lower.contains("access denied")
    {
        format!("no permission to use the camera \"{name}\" (on Linux, is your user in the \"video\" group?)")
    } else if lower.contains("no such device")
        || lower.contains("no such file")
        || lower.contains("not found")
    {
        format!("the camera \"{name}\" is not available (unplugged?)")
    } else {
        format!("camera \"{name}\": {text}")
    };
    SourceError::Device(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_plain() {
        let busy =
            camera_error("Cam", NokhwaError::OpenDeviceError("0".into(), "Device or resource busy".into()));
        assert_eq!(busy.to_string(), "the camera \"Cam\" is in use by another application");
        let gone = camera_error("Cam", NokhwaError::ReadFrameError("No such device (os error 19)".into()));
        assert_eq!(gone.to_string(), "the camera \"Cam\" is not available (unplugged?)");
        let perm = camera_error("Cam", NokhwaError::OpenDeviceError("0".into(), "Permission denied".into()));
        assert!(perm.to_string().starts_with("no permission to use the camera"));
    }

    #[test]
    fn converts_mjpeg() {
        // A 64x48 picture: left half red, right half blue.
        let (w, h) = (64u16, 48u16);
        let mut rgb = Vec::new();
        for _y in 0..h {
            for x in 0..w {
                rgb.extend_from_slice(if x < w / 2 { &[220, 30, 30] } else { &[30, 30, 220] });
            }
        }
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 95).encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
        let f = convert(FrameFormat::MJPEG, 64, 48, &jpeg).unwrap();
        assert_eq!((f.width(), f.height()), (64, 48));
        // Red has high V (Cr), blue has high U (Cb).
        let (cw, _) = (32usize, 24usize);
        let (u, v) = (f.u(), f.v());
        let left = 12 * cw + 4;
        let right = 12 * cw + 28;
        assert!(v[left] > 180 && u[left] < 128, "red: u {} v {}", u[left], v[left]);
        assert!(u[right] > 180 && v[right] < 128, "blue: u {} v {}", u[right], v[right]);
        assert!(convert(FrameFormat::MJPEG, 64, 48, &jpeg[..jpeg.len() / 3]).is_err(), "truncated JPEG");
    }

    #[test]
    fn converts_yuyv() {
        let yuyv = [16u8, 128, 16, 128].repeat(4 * 2 / 2);
        let f = convert(FrameFormat::YUYV, 4, 2, &yuyv).unwrap();
        assert_eq!((f.width(), f.height()), (4, 2));
    }
}

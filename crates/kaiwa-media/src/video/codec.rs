//! The video codecs a call can use, and one encoder, decoder and depacketizer type over them, so the
//! engine's threads work the same whichever codec a peer negotiated.

use super::depacketizer::{DepacketizerError, DepacketizerEvent, DepacketizerStats};
use super::encoder::{EncoderConfig, EncoderError, H264Encoder};
use super::frame::I420Frame;
use super::h264_depacketizer::H264Depacketizer;
use super::vp8::{Vp8Decoder, Vp8Encoder};
use super::vp8_rtp::{Vp8Depacketizer, Vp8Packetizer};
use super::{DepacketizerConfig, H264Decoder, H264Packetizer, RtpPayload};

/// A video codec of ours, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VideoCodec {
    /// H.264 constrained baseline (openh264): every browser with H.264, cheapest for us.
    H264,
    /// VP8 (libvpx): what every WebRTC browser has (Firefox without its OpenH264 plugin has nothing else
    /// we speak).
    Vp8,
}

impl VideoCodec {
    /// Every codec, in order of preference.
    pub const ALL: [VideoCodec; 2] = [VideoCodec::H264, VideoCodec::Vp8];

    /// The SDP/WebRTC MIME type.
    pub fn mime_type(self) -> &'static str {
        match self {
            VideoCodec::H264 => "video/H264",
            VideoCodec::Vp8 => "video/VP8",
        }
    }

    /// The encoding name, as in SDP's `a=rtpmap` (`H264`, `VP8`).
    pub fn encoding_name(self) -> &'static str {
        self.mime_type().trim_start_matches("video/")
    }

    /// The codec of a MIME type (case-insensitive, as SDP compares them).
    pub fn from_mime_type(mime: &str) -> Option<VideoCodec> {
        VideoCodec::ALL.into_iter().find(|c| c.mime_type().eq_ignore_ascii_case(mime))
    }

    /// A small index (for per-codec arrays).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The codec of an [`Self::index`].
    pub fn from_index(index: usize) -> Option<VideoCodec> {
        VideoCodec::ALL.get(index).copied()
    }
}

impl std::fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VideoCodec::H264 => "H.264",
            VideoCodec::Vp8 => "VP8",
        })
    }
}

impl std::str::FromStr for VideoCodec {
    type Err = String;

    /// `h264` (or `h.264`) and `vp8`, in any case, as command lines take them.
    fn from_str(text: &str) -> Result<VideoCodec, String> {
        match text.to_ascii_lowercase().as_str() {
            "h264" | "h.264" => Ok(VideoCodec::H264),
            "vp8" => Ok(VideoCodec::Vp8),
            _ => Err(format!("unknown video codec {text:?} (h264 or vp8)")),
        }
    }
}

/// An encoded frame, whatever the codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedFrame {
    /// H.264: Annex-B; VP8: the compressed frame.
    pub data: Vec<u8>,
    pub keyframe: bool,
}

/// An encoder of either codec.
#[derive(Debug)]
pub enum VideoEncoder {
    // Boxed: each is hundreds of bytes to kilobytes of codec state and settings.
    H264(Box<H264Encoder>),
    Vp8(Box<Vp8Encoder>),
}

impl VideoEncoder {
    pub fn new(codec: VideoCodec, config: EncoderConfig) -> Result<Self, EncoderError> {
        Ok(match codec {
            VideoCodec::H264 => VideoEncoder::H264(Box::new(H264Encoder::new(config)?)),
            VideoCodec::Vp8 => VideoEncoder::Vp8(Box::new(Vp8Encoder::new(config)?)),
        })
    }

    pub fn codec(&self) -> VideoCodec {
        match self {
            VideoEncoder::H264(_) => VideoCodec::H264,
            VideoEncoder::Vp8(_) => VideoCodec::Vp8,
        }
    }

    pub fn bitrate(&self) -> u32 {
        match self {
            VideoEncoder::H264(e) => e.bitrate(),
            VideoEncoder::Vp8(e) => e.bitrate(),
        }
    }

    /// New target bitrate (clamped to the opening one).
    pub fn set_bitrate(&mut self, bps: u32) -> Result<(), EncoderError> {
        match self {
            VideoEncoder::H264(e) => {
                e.set_bitrate(bps);
                Ok(())
            }
            VideoEncoder::Vp8(e) => e.set_bitrate(bps),
        }
    }

    /// Encodes one frame; `None` when rate control skipped it.
    pub fn encode(&mut self, frame: &I420Frame, keyframe: bool) -> Result<Option<CodedFrame>, EncoderError> {
        Ok(match self {
            VideoEncoder::H264(e) => {
                e.encode(frame, keyframe)?.map(|f| CodedFrame { data: f.annex_b, keyframe: f.keyframe })
            }
            VideoEncoder::Vp8(e) => {
                e.encode(frame, keyframe)?.map(|f| CodedFrame { data: f.data, keyframe: f.keyframe })
            }
        })
    }
}

/// A decoder of either codec.
#[derive(Debug)]
pub enum VideoDecoder {
    H264(H264Decoder),
    Vp8(Vp8Decoder),
}

impl VideoDecoder {
    pub fn new(codec: VideoCodec) -> Result<Self, String> {
        Ok(match codec {
            VideoCodec::H264 => VideoDecoder::H264(H264Decoder::new().map_err(|e| e.to_string())?),
            VideoCodec::Vp8 => VideoDecoder::Vp8(Vp8Decoder::new().map_err(|e| e.to_string())?),
        })
    }

    pub fn codec(&self) -> VideoCodec {
        match self {
            VideoDecoder::H264(_) => VideoCodec::H264,
            VideoDecoder::Vp8(_) => VideoCodec::Vp8,
        }
    }

    /// Decodes one frame (`Ok(None)`: no picture). Errors are described in words; after one the decoder
    /// needs a keyframe.
    pub fn decode(&mut self, data: &[u8]) -> Result<Option<I420Frame>, String> {
        match self {
            VideoDecoder::H264(d) => d.decode(data).map_err(|e| e.to_string()),
            VideoDecoder::Vp8(d) => d.decode(data).map_err(|e| e.to_string()),
        }
    }

    pub fn needs_keyframe(&self) -> bool {
        match self {
            VideoDecoder::H264(d) => d.needs_keyframe(),
            VideoDecoder::Vp8(d) => d.needs_keyframe(),
        }
    }

    pub fn mark_loss(&mut self) {
        match self {
            VideoDecoder::H264(d) => d.mark_loss(),
            VideoDecoder::Vp8(d) => d.mark_loss(),
        }
    }

    /// Hands a picture back for its buffers to be reused.
    pub fn recycle(&mut self, frame: I420Frame) {
        match self {
            VideoDecoder::H264(d) => d.recycle(frame),
            VideoDecoder::Vp8(d) => d.recycle(frame),
        }
    }
}

/// A depacketizer of either payload format.
#[derive(Debug)]
pub enum VideoDepacketizer {
    H264(H264Depacketizer),
    Vp8(Vp8Depacketizer),
}

macro_rules! each {
    ($self:expr, $d:ident => $e:expr) => {
        match $self {
            VideoDepacketizer::H264($d) => $e,
            VideoDepacketizer::Vp8($d) => $e,
        }
    };
}

impl VideoDepacketizer {
    pub fn new(codec: VideoCodec, config: DepacketizerConfig) -> Self {
        match codec {
            VideoCodec::H264 => VideoDepacketizer::H264(H264Depacketizer::new(config)),
            VideoCodec::Vp8 => VideoDepacketizer::Vp8(Vp8Depacketizer::new(config)),
        }
    }

    pub fn codec(&self) -> VideoCodec {
        match self {
            VideoDepacketizer::H264(_) => VideoCodec::H264,
            VideoDepacketizer::Vp8(_) => VideoCodec::Vp8,
        }
    }

    pub fn push(
        &mut self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), DepacketizerError> {
        each!(self, d => d.push(seq, timestamp, marker, payload))
    }

    pub fn poll_event(&mut self) -> Option<DepacketizerEvent> {
        each!(self, d => d.poll_event())
    }

    pub fn is_waiting_for_missing(&self) -> bool {
        each!(self, d => d.is_waiting_for_missing())
    }

    pub fn skip_missing(&mut self) {
        each!(self, d => d.skip_missing())
    }

    pub fn waiting_for_keyframe(&self) -> bool {
        each!(self, d => d.waiting_for_keyframe())
    }

    pub fn stats(&self) -> DepacketizerStats {
        each!(self, d => d.stats())
    }
}

/// A packetizer of either payload format.
#[derive(Debug, Clone)]
pub enum VideoPacketizer {
    H264(H264Packetizer),
    Vp8(Vp8Packetizer),
}

impl VideoPacketizer {
    /// Payloads of at most `mtu` bytes.
    pub fn new(codec: VideoCodec, mtu: usize) -> Self {
        match codec {
            VideoCodec::H264 => VideoPacketizer::H264(H264Packetizer::new(mtu)),
            VideoCodec::Vp8 => VideoPacketizer::Vp8(Vp8Packetizer::new(mtu)),
        }
    }

    /// One frame's payloads, in order; the last carries the marker.
    pub fn packetize(&mut self, frame: &[u8]) -> Vec<RtpPayload> {
        match self {
            VideoPacketizer::H264(p) => p.packetize(frame),
            VideoPacketizer::Vp8(p) => p.packetize(frame),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::TestPattern;

    #[test]
    fn mime_types_round_trip() {
        for codec in VideoCodec::ALL {
            assert_eq!(VideoCodec::from_mime_type(&codec.mime_type().to_lowercase()), Some(codec));
        }
        assert_eq!(VideoCodec::from_mime_type("video/AV1"), None);
    }

    #[test]
    fn each_codec_goes_through_rtp_and_back() {
        let pattern = TestPattern::new(320, 240).unwrap();
        for codec in VideoCodec::ALL {
            let mut encoder = VideoEncoder::new(codec, EncoderConfig::call(320, 240)).unwrap();
            let mut packetizer = VideoPacketizer::new(codec, 1200);
            let mut depacketizer = VideoDepacketizer::new(codec, DepacketizerConfig::default());
            let mut decoder = VideoDecoder::new(codec).unwrap();
            let mut seq = 0u16;
            let mut decoded = 0;
            for i in 0..10u32 {
                let Some(frame) = encoder.encode(&pattern.frame(i, u64::from(i) * 33_333), false).unwrap()
                else {
                    continue;
                };
                for p in packetizer.packetize(&frame.data) {
                    depacketizer.push(seq, i * 3000, p.marker, &p.payload).unwrap();
                    seq = seq.wrapping_add(1);
                }
                while let Some(event) = depacketizer.poll_event() {
                    if let DepacketizerEvent::Frame(f) = event
                        && decoder.decode(&f.data).unwrap().is_some()
                    {
                        decoded += 1;
                    }
                }
            }
            assert!(decoded >= 8, "{codec}: {decoded} of 10 frames decoded");
        }
    }
}

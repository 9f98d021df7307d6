//! Video: I420 frames and colour conversion, H.264 and VP8 encode/decode, RTP (de)packetization, test
//! sources.

pub mod codec;
pub mod decoder;
pub mod depacketizer;
pub mod encoder;
pub mod frame;
pub mod h264_depacketizer;
pub mod h264_packetizer;
pub mod nal;
mod payload_format;
pub mod playout;
pub mod quality;
pub mod test_pattern;
pub mod vp8;
pub mod vp8_rtp;
pub mod y4m;

pub use codec::{CodedFrame, VideoCodec, VideoDecoder, VideoDepacketizer, VideoEncoder, VideoPacketizer};
pub use decoder::{DecoderError, H264Decoder};
pub use depacketizer::{
    AccessUnit, Depacketizer, DepacketizerConfig, DepacketizerError, DepacketizerEvent, DepacketizerStats,
    PayloadFormat,
};
pub use encoder::{Content, EncodedFrame, EncoderConfig, EncoderError, H264Encoder};
pub use frame::{FrameError, I420Frame};
pub use h264_depacketizer::H264Depacketizer;
pub use h264_packetizer::{H264Packetizer, RtpPayload};
pub use playout::VideoPlayout;
pub use quality::{plane_psnr, psnr};
pub use test_pattern::{PatternError, Stamp, StampReader, TestPattern};
pub use vp8::{Vp8Decoder, Vp8DecoderError, Vp8Encoder, Vp8Frame, is_vp8_keyframe};
pub use vp8_rtp::{Vp8Depacketizer, Vp8Descriptor, Vp8Packetizer};
pub use y4m::{Y4mError, Y4mHeader, Y4mReader, Y4mWriter};

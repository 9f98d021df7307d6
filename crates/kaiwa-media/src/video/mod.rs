//! Video: I420 frames and colour conversion, H.264 encode/decode, RTP (de)packetization, test sources.

pub mod decoder;
pub mod encoder;
pub mod frame;
pub mod h264_depacketizer;
pub mod h264_packetizer;
pub mod nal;
pub mod playout;
pub mod quality;
pub mod test_pattern;
pub mod y4m;

pub use decoder::{DecoderError, H264Decoder};
pub use encoder::{EncodedFrame, EncoderConfig, EncoderError, H264Encoder};
pub use frame::{FrameError, I420Frame};
pub use h264_depacketizer::{
    AccessUnit, DepacketizerConfig, DepacketizerError, DepacketizerEvent, DepacketizerStats, H264Depacketizer,
};
pub use h264_packetizer::{H264Packetizer, RtpPayload};
pub use playout::VideoPlayout;
pub use quality::psnr;
pub use test_pattern::{PatternError, Stamp, TestPattern};
pub use y4m::{Y4mError, Y4mHeader, Y4mReader, Y4mWriter};

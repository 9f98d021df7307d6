//! What a video codec's RTP payload format tells the depacketizer (`depacketizer.rs`): how its payloads
//! parse, which can start a frame, and how they add up to one ([`PayloadFormat`], implemented for H.264 in
//! [`super::h264_depacketizer`] and VP8 in [`super::vp8_rtp`]), and what breaks a payload or a frame.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use thiserror::Error;

/// No RTP payload can be larger than a UDP datagram; anything bigger is rejected.
pub const MAX_RTP_PAYLOAD: usize = 65_535;

/// A malformed RTP payload. The packet still takes its place in the sequence (its frame is dropped).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DepacketizerError {
    /// Zero-length payload.
    #[error("empty payload")]
    Empty,
    /// The NAL unit type cannot appear in packetization-mode 1.
    #[error("unsupported NAL unit type {0} (packetization-mode 1 allows 1-24 and 28)")]
    UnsupportedType(u8),
    /// A STAP-A's length fields do not match its size.
    #[error("truncated STAP-A: {0}")]
    TruncatedStapA(&'static str),
    /// An FU-A shorter than its two header bytes, or with both start and end bits set.
    #[error("malformed FU-A: {0}")]
    MalformedFuA(&'static str),
    /// A VP8 payload descriptor that runs past the packet, or a packet with nothing after it.
    #[error("malformed VP8 payload descriptor: {0}")]
    MalformedVp8(&'static str),
    /// The payload is larger than a UDP datagram or a frame may be.
    #[error("payload of {0} bytes is too large")]
    TooLarge(usize),
}

/// How one codec's RTP payloads make up a frame. Holds the state of the frame being assembled (e.g. an
/// H.264 fragmented NAL unit in progress); [`Default`] is the state at the start of a frame.
pub trait PayloadFormat: Default + std::fmt::Debug {
    /// A parsed payload.
    type Unit: std::fmt::Debug;

    /// Parses one non-empty payload of at most the accepted size.
    fn parse(payload: &[u8]) -> Result<Self::Unit, DepacketizerError>;

    /// Whether a frame can begin with this payload (after a loss, a frame that does not is broken).
    fn starts_frame(unit: &Self::Unit) -> bool;

    /// Adds a payload's content to the frame; `Err` breaks the frame (its start or a middle was lost, or
    /// it grew too large).
    fn append(&mut self, unit: Self::Unit, frame: &mut FrameData) -> Result<(), FrameBroken>;

    /// Whether the frame is still missing a piece when its last packet has been added.
    fn unfinished(&self) -> bool;
}

/// The frame being assembled, as a [`PayloadFormat`] sees it.
#[derive(Debug, Default)]
pub struct FrameData {
    /// The frame's bytes as the decoder takes them.
    pub bytes: Vec<u8>,
    /// A decoder can start at this frame.
    pub keyframe: bool,
    limit: usize,
}

/// The frame cannot be completed (see [`PayloadFormat::append`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameBroken;

impl FrameData {
    /// An empty frame that may grow to `limit` bytes.
    pub(super) fn with_limit(limit: usize) -> FrameData {
        FrameData { limit, ..FrameData::default() }
    }

    /// Appends to the frame, or breaks it when it would grow past the size limit.
    pub fn extend(&mut self, bytes: &[u8]) -> Result<(), FrameBroken> {
        if self.bytes.len() + bytes.len() > self.limit {
            return Err(FrameBroken);
        }
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }
}

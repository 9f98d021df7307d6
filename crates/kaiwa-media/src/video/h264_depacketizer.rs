//! H.264 RTP payloads ([RFC 6184](https://www.rfc-editor.org/rfc/rfc6184), packetization-mode 1,
//! non-interleaved) for the shared frame assembler ([`super::depacketizer`]): complete Annex-B access units
//! out; one with an IDR slice is a keyframe.
//!
//! Supported payload structures (RFC 6184 §5.2): single NAL unit packets (types 1–23), STAP-A (24,
//! §5.7.1) and FU-A (28, §5.8). STAP-B, MTAP16/24 and FU-B (25, 26, 27, 29) only occur in interleaved mode
//! and are rejected, as are the reserved types 0, 30 and 31. Every length field is validated: a truncated
//! STAP-A is an error, never a panic.
//!
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use super::depacketizer::{Depacketizer, DepacketizerError, FrameBroken, FrameData, PayloadFormat};
use super::nal::{NAL_IDR, START_CODE, nal_type};

/// NAL unit type of a STAP-A aggregation packet (RFC 6184 §5.7.1).
pub const STAP_A: u8 = 24;
/// NAL unit type of an FU-A fragmentation unit (RFC 6184 §5.8).
pub const FU_A: u8 = 28;

/// The depacketizer for one H.264 RTP stream.
pub type H264Depacketizer = Depacketizer<H264Payload>;

/// RFC 6184's payloads; the state is the NAL unit an FU-A is reassembling.
#[derive(Debug, Default)]
pub struct H264Payload {
    /// Header byte of the NAL unit an FU-A is reassembling.
    in_fu: Option<u8>,
}

/// A parsed H.264 payload.
#[derive(Debug)]
pub enum H264Unit {
    /// One or more whole NAL units (single NAL packet or STAP-A).
    Nals(Vec<Vec<u8>>),
    /// An FU-A fragment.
    Fragment { start: bool, end: bool, header: u8, data: Vec<u8> },
}

fn append_nal(frame: &mut FrameData, nal: &[u8]) -> Result<(), FrameBroken> {
    if let Some(&h) = nal.first()
        && nal_type(h) == NAL_IDR
    {
        frame.keyframe = true;
    }
    frame.extend(&START_CODE)?;
    frame.extend(nal)
}

impl PayloadFormat for H264Payload {
    type Unit = H264Unit;

    fn parse(payload: &[u8]) -> Result<H264Unit, DepacketizerError> {
        let Some(&header) = payload.first() else { return Err(DepacketizerError::Empty) };
        match nal_type(header) {
            1..=23 => Ok(H264Unit::Nals(vec![payload.to_vec()])),
            STAP_A => {
                let mut nals = Vec::new();
                let mut rest = payload.get(1..).unwrap_or_default();
                while !rest.is_empty() {
                    let [hi, lo, tail @ ..] = rest else {
                        return Err(DepacketizerError::TruncatedStapA("dangling length byte"));
                    };
                    let size = usize::from(u16::from_be_bytes([*hi, *lo]));
                    if size == 0 {
                        return Err(DepacketizerError::TruncatedStapA("zero-length NAL unit"));
                    }
                    let Some(nal) = tail.get(..size) else {
                        return Err(DepacketizerError::TruncatedStapA("NAL unit size exceeds packet"));
                    };
                    nals.push(nal.to_vec());
                    rest = tail.get(size..).unwrap_or_default();
                }
                if nals.is_empty() {
                    return Err(DepacketizerError::TruncatedStapA("no NAL units"));
                }
                Ok(H264Unit::Nals(nals))
            }
            FU_A => {
                let [indicator, fu_header, data @ ..] = payload else {
                    return Err(DepacketizerError::MalformedFuA("shorter than its headers"));
                };
                let start = fu_header & 0x80 != 0;
                let end = fu_header & 0x40 != 0;
                if start && end {
                    return Err(DepacketizerError::MalformedFuA("start and end bits both set"));
                }
                let inner = fu_header & 0x1f;
                if inner == 0 || inner > 23 {
                    return Err(DepacketizerError::MalformedFuA("fragmented NAL unit type out of range"));
                }
                let header = (indicator & 0xe0) | inner;
                Ok(H264Unit::Fragment { start, end, header, data: data.to_vec() })
            }
            other => Err(DepacketizerError::UnsupportedType(other)),
        }
    }

    fn starts_frame(unit: &H264Unit) -> bool {
        match unit {
            H264Unit::Nals(_) => true,
            H264Unit::Fragment { start, .. } => *start,
        }
    }

    fn append(&mut self, unit: H264Unit, frame: &mut FrameData) -> Result<(), FrameBroken> {
        match unit {
            H264Unit::Nals(nals) => {
                if self.in_fu.take().is_some() {
                    return Err(FrameBroken);
                }
                for nal in &nals {
                    append_nal(frame, nal)?;
                }
            }
            H264Unit::Fragment { start, end, header, data } => {
                if start {
                    if self.in_fu.is_some() {
                        return Err(FrameBroken);
                    }
                    append_nal(frame, &[header])?;
                    frame.extend(&data)?;
                    self.in_fu = Some(header);
                } else if self.in_fu == Some(header) {
                    frame.extend(&data)?;
                    if end {
                        self.in_fu = None;
                    }
                } else {
                    // A middle or end fragment without its start: the start was lost.
                    return Err(FrameBroken);
                }
            }
        }
        Ok(())
    }

    fn unfinished(&self) -> bool {
        self.in_fu.is_some()
    }
}

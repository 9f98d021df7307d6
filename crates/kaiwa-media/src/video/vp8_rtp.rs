//! VP8 in RTP ([RFC 7741](https://www.rfc-editor.org/rfc/rfc7741)): the payload descriptor, a packetizer,
//! and the payload format for the shared frame assembler ([`super::depacketizer`]).
//!
//! Every packet starts with a payload descriptor (§4.2):
//!
//! ```text
//!   X R N S R PID      (required)   X: extensions follow; S: a partition starts here; PID: its index
//!   I L T K RSV        (if X)       which of the optional fields follow
//!   M PictureID        (if I)       7 bits, or 15 with M
//!   TL0PICIDX          (if L)
//!   TID Y KEYIDX       (if T or K)
//! ```
//!
//! A frame starts with the packet whose S bit is set and PID is 0; its first payload byte says whether it
//! is a keyframe (§4.3, RFC 6386 §9.1: bit 0 clear). The frame ends at the marker bit. Every length is
//! checked: a descriptor that runs past its packet, or a packet with nothing after it, is malformed, never
//! a panic.
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

use super::depacketizer::{Depacketizer, DepacketizerError, FrameBroken, FrameData, PayloadFormat};
use super::h264_packetizer::RtpPayload;
use super::vp8::is_vp8_keyframe;

/// Descriptor bits (RFC 7741 §4.2).
const X: u8 = 0x80;
const S: u8 = 0x10;
const PID: u8 = 0x07;
const I: u8 = 0x80;
const L: u8 = 0x40;
const T: u8 = 0x20;
const K: u8 = 0x10;
const M: u8 = 0x80;

/// The depacketizer for one VP8 RTP stream.
pub type Vp8Depacketizer = Depacketizer<Vp8Payload>;

/// What a descriptor says, and where the VP8 data starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vp8Descriptor {
    /// A partition starts in this packet.
    pub start: bool,
    /// The partition's index (0–7).
    pub partition: u8,
    /// The picture id, when present (7 or 15 bits).
    pub picture_id: Option<u16>,
    /// Bytes of descriptor before the VP8 data.
    pub len: usize,
}

impl Vp8Descriptor {
    /// Whether this packet begins a frame (the first partition's start).
    pub fn starts_frame(&self) -> bool {
        self.start && self.partition == 0
    }

    /// Reads the descriptor at the start of `payload`.
    pub fn parse(payload: &[u8]) -> Result<Vp8Descriptor, DepacketizerError> {
        let truncated = DepacketizerError::MalformedVp8("descriptor runs past the packet");
        let mut bytes = payload.iter().copied();
        let first = bytes.next().ok_or(DepacketizerError::Empty)?;
        let mut len = 1;
        let mut picture_id = None;
        if first & X != 0 {
            let ext = bytes.next().ok_or(truncated.clone())?;
            len += 1;
            if ext & I != 0 {
                let b = bytes.next().ok_or(truncated.clone())?;
                len += 1;
                picture_id = Some(if b & M != 0 {
                    let low = bytes.next().ok_or(truncated.clone())?;
                    len += 1;
                    u16::from(b & 0x7f) << 8 | u16::from(low)
                } else {
                    u16::from(b & 0x7f)
                });
            }
            if ext & L != 0 {
                bytes.next().ok_or(truncated.clone())?;
                len += 1;
            }
            if ext & (T | K) != 0 {
                bytes.next().ok_or(truncated)?;
                len += 1;
            }
        }
        if payload.len() <= len {
            return Err(DepacketizerError::MalformedVp8("no VP8 data after the descriptor"));
        }
        Ok(Vp8Descriptor { start: first & S != 0, partition: first & PID, picture_id, len })
    }
}

/// A parsed VP8 payload: whether it begins a frame, and its data.
#[derive(Debug)]
pub struct Vp8Unit {
    pub starts_frame: bool,
    pub data: Vec<u8>,
}

/// RFC 7741's payloads; the state is whether the frame's first packet has been seen.
#[derive(Debug, Default)]
pub struct Vp8Payload {
    started: bool,
}

impl PayloadFormat for Vp8Payload {
    type Unit = Vp8Unit;

    fn parse(payload: &[u8]) -> Result<Vp8Unit, DepacketizerError> {
        let descriptor = Vp8Descriptor::parse(payload)?;
        let data = payload.get(descriptor.len..).ok_or(DepacketizerError::Empty)?.to_vec();
        Ok(Vp8Unit { starts_frame: descriptor.starts_frame(), data })
    }

    fn starts_frame(unit: &Vp8Unit) -> bool {
        unit.starts_frame
    }

    fn append(&mut self, unit: Vp8Unit, frame: &mut FrameData) -> Result<(), FrameBroken> {
        if unit.starts_frame {
            if self.started {
                // A second start within one timestamp: not one frame.
                return Err(FrameBroken);
            }
            self.started = true;
            frame.keyframe = is_vp8_keyframe(&unit.data);
        } else if !self.started {
            // The frame's start was lost.
            return Err(FrameBroken);
        }
        frame.extend(&unit.data)
    }

    fn unfinished(&self) -> bool {
        !self.started
    }
}

/// Splits VP8 frames into RTP payloads of at most `mtu` bytes, each with a descriptor carrying a 15-bit
/// picture id (counting frames, so a receiver can tell frames apart across loss).
#[derive(Debug, Clone)]
pub struct Vp8Packetizer {
    mtu: usize,
    picture_id: u16,
}

impl Default for Vp8Packetizer {
    fn default() -> Self {
        Self::new(1200)
    }
}

/// Descriptor length with a 15-bit picture id.
const DESCRIPTOR_LEN: usize = 4;

impl Vp8Packetizer {
    /// `mtu`: largest payload (descriptor included); at least one byte of data fits in any.
    pub fn new(mtu: usize) -> Self {
        Vp8Packetizer { mtu: mtu.max(DESCRIPTOR_LEN + 1), picture_id: 0 }
    }

    /// The payloads of one frame, in order; the last one carries the marker.
    pub fn packetize(&mut self, frame: &[u8]) -> Vec<RtpPayload> {
        let id = self.picture_id;
        self.picture_id = (self.picture_id + 1) & 0x7fff;
        let chunks: Vec<&[u8]> = frame.chunks(self.mtu - DESCRIPTOR_LEN).collect();
        let last = chunks.len().saturating_sub(1);
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| {
                let mut data = Vec::with_capacity(DESCRIPTOR_LEN + chunk.len());
                data.push(X | if i == 0 { S } else { 0 });
                data.push(I);
                data.push(M | (id >> 8) as u8);
                data.push(id as u8);
                data.extend_from_slice(chunk);
                RtpPayload { payload: data, marker: i == last }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::DepacketizerEvent;

    fn frames(d: &mut Vp8Depacketizer) -> Vec<(Vec<u8>, bool)> {
        std::iter::from_fn(|| d.poll_event())
            .filter_map(|e| match e {
                DepacketizerEvent::Frame(f) => Some((f.data, f.keyframe)),
                DepacketizerEvent::Loss { .. } => None,
            })
            .collect()
    }

    #[test]
    fn descriptors_of_every_shape() {
        // Minimal, start of partition 0.
        let d = Vp8Descriptor::parse(&[0x10, 0xaa]).unwrap();
        assert_eq!((d.start, d.partition, d.picture_id, d.len), (true, 0, None, 1));
        assert!(d.starts_frame());
        // 7-bit picture id; partition 1 starts (not a frame start).
        let d = Vp8Descriptor::parse(&[0x91, 0x80, 0x05, 0xaa]).unwrap();
        assert_eq!((d.partition, d.picture_id, d.len), (1, Some(5), 3));
        assert!(!d.starts_frame());
        // 15-bit picture id, TL0PICIDX, TID/KEYIDX.
        let d = Vp8Descriptor::parse(&[0x90, 0xf0, 0x81, 0x02, 0x07, 0x40, 0xaa]).unwrap();
        assert_eq!((d.picture_id, d.len), (Some(0x102), 6));
        // Truncated anywhere, or nothing after the descriptor.
        for bad in
            [&[][..], &[0x80], &[0x90, 0x80], &[0x90, 0x80, 0x81], &[0x90, 0xf0, 0x81, 0x02, 0x07], &[0x10]]
        {
            assert!(Vp8Descriptor::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn packetized_frames_come_back_whole_and_keyframes_are_recognised() {
        let mut packetizer = Vp8Packetizer::new(100);
        let mut depacketizer = Vp8Depacketizer::default();
        let key: Vec<u8> = (0..250u32).map(|i| (i * 2) as u8).collect(); // first byte 0: keyframe
        let delta: Vec<u8> = (0..90u32).map(|i| (i * 2 + 1) as u8).collect(); // first byte odd: delta
        let mut seq = 7u16;
        for (n, frame) in [&key, &delta].into_iter().enumerate() {
            for p in packetizer.packetize(frame) {
                depacketizer.push(seq, n as u32 * 3000, p.marker, &p.payload).unwrap();
                seq = seq.wrapping_add(1);
            }
        }
        assert_eq!(frames(&mut depacketizer), vec![(key, true), (delta, false)]);
    }

    #[test]
    fn a_lost_first_packet_breaks_the_frame_until_a_keyframe() {
        let mut packetizer = Vp8Packetizer::new(60);
        let mut depacketizer = Vp8Depacketizer::default();
        let key = vec![0u8; 100];
        let delta = vec![1u8; 100];
        let mut seq = 0u16;
        let mut push_all = |d: &mut Vp8Depacketizer, frame: &[u8], ts: u32, drop_first: bool| {
            for (i, p) in packetizer.packetize(frame).into_iter().enumerate() {
                if !(drop_first && i == 0) {
                    d.push(seq, ts, p.marker, &p.payload).unwrap();
                }
                seq += 1;
            }
        };
        push_all(&mut depacketizer, &key, 0, false);
        push_all(&mut depacketizer, &delta, 3000, true);
        push_all(&mut depacketizer, &delta, 6000, false);
        push_all(&mut depacketizer, &key, 9000, false);
        depacketizer.skip_missing();
        let got = frames(&mut depacketizer);
        assert_eq!(
            got.iter().map(|f| f.1).collect::<Vec<_>>(),
            vec![true, true],
            "key, (lost), (withheld), key"
        );
    }
}

//! H.264 RTP packetizer ([RFC 6184](https://www.rfc-editor.org/rfc/rfc6184), packetization-mode 1).
//!
//! Turns an Annex-B access unit into RTP payloads no larger than the MTU: consecutive small NAL units are
//! aggregated into STAP-A packets (§5.7.1, so SPS+PPS travel together), NAL units that fit alone go as single
//! NAL unit packets (§5.6), and larger ones are split into FU-A fragments (§5.8). The marker bit is set on the
//! last packet of the access unit (§5.1). The engine sends through webrtc's own payloader; this one is the
//! reference for tests, benchmarks and file-based tools.

use super::h264_depacketizer::{FU_A, STAP_A};
use super::nal::split_annex_b;

/// Default RTP payload budget, matching webrtc-rs' H.264 payloader.
pub const DEFAULT_MTU: usize = 1200;

/// One RTP payload plus its marker bit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPayload {
    /// Set on the last packet of an access unit.
    pub marker: bool,
    /// The RTP payload (no RTP header).
    pub payload: Vec<u8>,
}

/// Packetizer with a fixed payload budget.
#[derive(Debug, Clone)]
pub struct H264Packetizer {
    mtu: usize,
}

impl Default for H264Packetizer {
    fn default() -> Self {
        Self::new(DEFAULT_MTU)
    }
}

impl H264Packetizer {
    /// `mtu` is the largest payload produced; values below 16 are raised to 16.
    pub fn new(mtu: usize) -> Self {
        Self { mtu: mtu.max(16) }
    }

    /// Packetizes one access unit. Empty input gives no packets.
    pub fn packetize(&self, annex_b: &[u8]) -> Vec<RtpPayload> {
        let nals = split_annex_b(annex_b);
        let mut out: Vec<RtpPayload> = Vec::new();
        let mut stap: Vec<&[u8]> = Vec::new();
        let mut stap_len = 1; // STAP-A header byte

        fn flush_stap(out: &mut Vec<RtpPayload>, stap: &mut Vec<&[u8]>, stap_len: &mut usize) {
            match stap.as_slice() {
                [] => {}
                [single] => out.push(RtpPayload { marker: false, payload: single.to_vec() }),
                many => {
                    // F = OR of F bits, NRI = max NRI (RFC 6184 §5.7).
                    let f = many.iter().fold(0u8, |acc, n| acc | (n[0] & 0x80));
                    let nri = many.iter().map(|n| n[0] & 0x60).max().unwrap_or(0);
                    let mut p = Vec::with_capacity(*stap_len);
                    p.push(f | nri | STAP_A);
                    for nal in many {
                        p.extend_from_slice(&(nal.len() as u16).to_be_bytes());
                        p.extend_from_slice(nal);
                    }
                    out.push(RtpPayload { marker: false, payload: p });
                }
            }
            stap.clear();
            *stap_len = 1;
        }

        for nal in nals {
            if nal.len() + 2 < self.mtu {
                if stap_len + 2 + nal.len() > self.mtu {
                    flush_stap(&mut out, &mut stap, &mut stap_len);
                }
                stap_len += 2 + nal.len();
                stap.push(nal);
                continue;
            }
            flush_stap(&mut out, &mut stap, &mut stap_len);
            if nal.len() <= self.mtu {
                out.push(RtpPayload { marker: false, payload: nal.to_vec() });
                continue;
            }
            let header = nal[0];
            let indicator = (header & 0xe0) | FU_A;
            let body = &nal[1..];
            let chunk = self.mtu - 2;
            let count = body.len().div_ceil(chunk);
            for (i, part) in body.chunks(chunk).enumerate() {
                let mut fu_header = header & 0x1f;
                if i == 0 {
                    fu_header |= 0x80;
                }
                if i + 1 == count {
                    fu_header |= 0x40;
                }
                let mut p = Vec::with_capacity(part.len() + 2);
                p.extend_from_slice(&[indicator, fu_header]);
                p.extend_from_slice(part);
                out.push(RtpPayload { marker: false, payload: p });
            }
        }
        flush_stap(&mut out, &mut stap, &mut stap_len);
        if let Some(last) = out.last_mut() {
            last.marker = true;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::{DepacketizerEvent, H264Depacketizer};

    fn au(sizes: &[(u8, usize)]) -> Vec<u8> {
        let mut v = Vec::new();
        for &(header, len) in sizes {
            v.extend_from_slice(&[0, 0, 0, 1, header]);
            v.extend((1..len).map(|i| (i % 251) as u8 + 1));
        }
        v
    }

    #[test]
    fn round_trip_single_stap_and_fu() {
        let frame = au(&[(0x67, 12), (0x68, 4), (0x65, 5000), (0x65, 800)]);
        let packets = H264Packetizer::default().packetize(&frame);
        assert!(packets.iter().all(|p| p.payload.len() <= DEFAULT_MTU));
        assert_eq!(packets[0].payload[0] & 0x1f, STAP_A);
        assert_eq!(packets[1].payload[0] & 0x1f, FU_A);
        assert!(packets.last().unwrap().marker);
        assert_eq!(packets.iter().filter(|p| p.marker).count(), 1);
        let mut d = H264Depacketizer::default();
        for (i, p) in packets.iter().enumerate() {
            d.push(65530u16.wrapping_add(i as u16), 9000, p.marker, &p.payload).unwrap();
        }
        match d.poll_event() {
            Some(DepacketizerEvent::Frame(f)) => {
                assert_eq!(f.data, frame);
                assert!(f.keyframe);
                assert_eq!(f.timestamp, 9000);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(d.poll_event().is_none());
    }
}

//! Forged media for the hostile cases: RTP payloads that break the rules of RFC 6184 on purpose, H.264
//! parameter sets announcing pictures no decoder should try to allocate, and RTCP that is not RTCP.
//! Everything here is deterministic (a fixed-seed generator), so a failing case fails the same way again.

/// NAL unit types (H.264 §7.4.1, Table 7-1) and RTP payload structures (RFC 6184 §5.4).
const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const STAP_A: u8 = 24;
const FU_A: u8 = 28;
/// `nal_ref_idc` = 3, as in every parameter set and IDR slice.
const REFERENCE: u8 = 0x60;

/// A small deterministic generator (xorshift64*), enough for garbage.
pub struct Garbage(u64);

impl Garbage {
    pub fn new(seed: u64) -> Self {
        Garbage(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// An RBSP bit writer with Exp-Golomb codes (H.264 §9.1) for hand-made parameter sets and slice headers.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: usize,
}

impl Bits {
    fn bit(&mut self, one: bool) {
        if self.used.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if one && let Some(last) = self.bytes.last_mut() {
            *last |= 0x80 >> (self.used % 8);
        }
        self.used += 1;
    }

    fn bits(&mut self, value: u64, width: u32) {
        for i in (0..width).rev() {
            self.bit((value >> i) & 1 == 1);
        }
    }

    /// ue(v).
    fn ue(&mut self, value: u32) {
        let x = u64::from(value) + 1;
        let len = 64 - x.leading_zeros();
        self.bits(0, len - 1);
        self.bits(x, len);
    }

    /// The NAL unit: header byte, these bits with the stop bit, and emulation prevention (§7.4.1.1).
    fn nal(mut self, header: u8) -> Vec<u8> {
        self.bit(true);
        let mut out = vec![header];
        let mut zeros = 0;
        for b in self.bytes {
            if zeros >= 2 && b <= 3 {
                out.push(3);
                zeros = 0;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            out.push(b);
        }
        out
    }
}

/// A sequence parameter set (Baseline) for a picture of `width_mbs` × `height_mbs` macroblocks, cropped by
/// `crop` (left, right, top, bottom, in units of 2 pixels) if given.
pub fn sps(width_mbs: u32, height_mbs: u32, crop: Option<[u32; 4]>) -> Vec<u8> {
    let mut b = Bits::default();
    b.bits(66, 8); // profile_idc: Baseline
    b.bits(0xc0, 8); // constraint_set0/1
    b.bits(40, 8); // level_idc 4.0
    b.ue(0); // seq_parameter_set_id
    b.ue(0); // log2_max_frame_num_minus4
    b.ue(2); // pic_order_cnt_type
    b.ue(1); // max_num_ref_frames
    b.bit(false); // gaps_in_frame_num_value_allowed_flag
    b.ue(width_mbs.saturating_sub(1));
    b.ue(height_mbs.saturating_sub(1));
    b.bit(true); // frame_mbs_only_flag
    b.bit(true); // direct_8x8_inference_flag
    b.bit(crop.is_some()); // frame_cropping_flag
    for offset in crop.into_iter().flatten() {
        b.ue(offset);
    }
    b.bit(false); // vui_parameters_present_flag
    b.nal(REFERENCE | NAL_SPS)
}

/// The picture parameter set that goes with [`sps`].
pub fn pps() -> Vec<u8> {
    let mut b = Bits::default();
    b.ue(0); // pic_parameter_set_id
    b.ue(0); // seq_parameter_set_id
    b.bit(false); // entropy_coding_mode_flag: CAVLC
    b.bit(false); // bottom_field_pic_order_in_frame_present_flag
    b.ue(0); // num_slice_groups_minus1
    b.ue(0); // num_ref_idx_l0_default_active_minus1
    b.ue(0); // num_ref_idx_l1_default_active_minus1
    b.bit(false); // weighted_pred_flag
    b.bits(0, 2); // weighted_bipred_idc
    b.ue(0); // pic_init_qp_minus26 (se(0) is ue(0))
    b.ue(0); // pic_init_qs_minus26
    b.ue(0); // chroma_qp_index_offset
    b.bit(true); // deblocking_filter_control_present_flag
    b.bit(false); // constrained_intra_pred_flag
    b.bit(false); // redundant_pic_cnt_present_flag
    b.nal(REFERENCE | NAL_PPS)
}

/// An IDR slice header followed by `body` as its macroblock data (garbage, usually).
pub fn idr_slice(body: &[u8]) -> Vec<u8> {
    let mut b = Bits::default();
    b.ue(0); // first_mb_in_slice
    b.ue(7); // slice_type: I, all slices
    b.ue(0); // pic_parameter_set_id
    b.bits(0, 4); // frame_num
    b.ue(0); // idr_pic_id
    b.bit(false); // no_output_of_prior_pics_flag
    b.bit(false); // long_term_reference_flag
    b.ue(0); // slice_qp_delta
    b.ue(1); // disable_deblocking_filter_idc
    for byte in body {
        b.bits(u64::from(*byte), 8);
    }
    b.nal(REFERENCE | NAL_IDR)
}

/// One NAL unit per RTP payload (RFC 6184 §5.6), cut into FU-A fragments (§5.8) when it is larger than
/// `mtu`.
pub fn packetize(nal: &[u8], mtu: usize) -> Vec<Vec<u8>> {
    let Some((&header, body)) = nal.split_first() else { return vec![Vec::new()] };
    if nal.len() <= mtu {
        return vec![nal.to_vec()];
    }
    let chunks: Vec<&[u8]> = body.chunks(mtu.saturating_sub(2).max(1)).collect();
    let last = chunks.len().saturating_sub(1);
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let start = if i == 0 { 0x80 } else { 0 };
            let end = if i == last { 0x40 } else { 0 };
            let mut p = vec![(header & 0xe0) | FU_A, start | end | (header & 0x1f)];
            p.extend_from_slice(chunk);
            p
        })
        .collect()
}

/// RTP payloads that break RFC 6184 on purpose: fragments without a start or an end, aggregation packets
/// whose lengths run past their end or are zero, empty and reserved NAL types.
pub fn broken_h264_payloads(g: &mut Garbage) -> Vec<Vec<u8>> {
    let idr = idr_slice(&g.bytes(3000));
    let fragments = packetize(&idr, 1000);
    let mut v = vec![
        Vec::new(),
        vec![0],
        vec![REFERENCE | FU_A],
        vec![REFERENCE | FU_A, 0x80 | NAL_IDR],
        vec![REFERENCE | STAP_A],
        vec![REFERENCE | STAP_A, 0xff, 0xff, 0x65, 1, 2],
        vec![REFERENCE | STAP_A, 0, 0, 0, 0, 0, 0],
        vec![REFERENCE | STAP_A, 0, 1],
        vec![REFERENCE | 29, 0x80, 1, 2, 3],
        vec![REFERENCE | 30, 1, 2, 3],
        vec![REFERENCE | 31],
        vec![0x80 | NAL_IDR, 1],
    ];
    // Middles of a fragmented unit without its start, then a start without its end, twice over.
    v.extend(fragments.iter().skip(1).cloned());
    v.extend(fragments.iter().take(fragments.len().saturating_sub(1)).cloned());
    v.extend(fragments.iter().take(fragments.len().saturating_sub(1)).cloned());
    v
}

/// One access unit far larger than any real one: `packets` FU-A fragments of 1100 bytes, one start, no
/// end until the last.
pub fn oversized_unit(g: &mut Garbage, packets: usize) -> Vec<Vec<u8>> {
    packetize(&idr_slice(&g.bytes(packets * 1100)), 1100)
}

/// Keyframes announcing impossible pictures: enormous, a single macroblock cropped to less than nothing,
/// and cropping larger than the picture.
pub fn impossible_sizes(g: &mut Garbage) -> Vec<Vec<Vec<u8>>> {
    [
        (8192, 8192, None),
        (1 << 20, 1, None),
        (1, 1, Some([100, 100, 100, 100])),
        (40, 30, Some([u32::MAX / 4; 4])),
    ]
    .into_iter()
    .map(|(w, h, crop)| {
        let mut unit = vec![sps(w, h, crop), pps()];
        unit.extend(packetize(&idr_slice(&g.bytes(2000)), 1100));
        unit
    })
    .collect()
}

/// RTCP that is not RTCP: valid-looking common headers (version 2, RFC 3550 §6.4.1) with lengths that lie,
/// unknown packet types and random bodies.
pub fn rtcp_garbage(g: &mut Garbage, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let n = g.below(200);
            let body = g.bytes(n);
            let packet_type = [200u8, 201, 202, 203, 204, 205, 206, 207, 0, 255][i % 10];
            let words = match i % 3 {
                0 => (body.len() / 4) as u16,
                1 => u16::MAX,
                _ => 0,
            };
            let mut p = vec![0x80 | (g.below(32) as u8), packet_type];
            p.extend_from_slice(&words.to_be_bytes());
            p.extend_from_slice(&body);
            p
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_codes_are_the_standards() {
        // ue(0) = 1, ue(1) = 010, ue(2) = 011, ue(3) = 00100 (H.264 Table 9-2).
        let mut b = Bits::default();
        for v in [0, 1, 2, 3] {
            b.ue(v);
        }
        assert_eq!(b.bytes, vec![0b1010_0110, 0b0100_0000]);
        assert_eq!(b.used, 12);
    }

    #[test]
    fn parameter_sets_have_no_start_code_inside() {
        for nal in [sps(8192, 8192, None), sps(1 << 20, 1, None), pps(), idr_slice(&[0; 64])] {
            assert!(nal.windows(3).all(|w| w != [0, 0, 1] && w != [0, 0, 0]), "{nal:02x?}");
        }
    }

    #[test]
    fn fragments_reassemble_to_the_unit() {
        let nal = idr_slice(&Garbage::new(7).bytes(5000));
        let fragments = packetize(&nal, 1100);
        assert!(fragments.len() > 4);
        assert!(fragments.iter().all(|f| f.len() <= 1100));
        let mut back = vec![(fragments[0][0] & 0xe0) | (fragments[0][1] & 0x1f)];
        for f in &fragments {
            back.extend_from_slice(&f[2..]);
        }
        assert_eq!(back, nal);
    }
}

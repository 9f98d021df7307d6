//! H.264 NAL unit basics: Annex-B byte-stream splitting and NAL unit types.
//!
//! Annex-B is the start-code-delimited byte stream of ITU-T H.264 Annex B; RTP carries NAL units without
//! start codes ([RFC 6184 §1.3](https://www.rfc-editor.org/rfc/rfc6184#section-1.3)).
// Receive path: input from other participants is indexed only with checks (`get`), never `[i]`.
#![warn(clippy::indexing_slicing)]

/// The 4-byte start code we write in front of every NAL unit.
pub const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// NAL unit type: coded slice of a non-IDR picture.
pub const NAL_SLICE: u8 = 1;
/// NAL unit type: coded slice of an IDR picture (a keyframe).
pub const NAL_IDR: u8 = 5;
/// NAL unit type: supplemental enhancement information.
pub const NAL_SEI: u8 = 6;
/// NAL unit type: sequence parameter set.
pub const NAL_SPS: u8 = 7;
/// NAL unit type: picture parameter set.
pub const NAL_PPS: u8 = 8;
/// NAL unit type: access unit delimiter.
pub const NAL_AUD: u8 = 9;

/// The `nal_unit_type` field (low 5 bits of the first byte).
pub fn nal_type(header: u8) -> u8 {
    header & 0x1f
}

/// Splits an Annex-B byte stream into NAL units (without start codes). Accepts 3- and 4-byte start codes;
/// leading bytes before the first start code are ignored, and empty NAL units are skipped.
pub fn split_annex_b(stream: &[u8]) -> Vec<&[u8]> {
    let mut nals = Vec::new();
    let mut starts = Vec::new(); // (payload start, start-code start)
    let mut i = 0;
    while let Some(window) = stream.get(i..i + 3) {
        if window == [0, 0, 1] {
            let code_start = if i > 0 && stream.get(i - 1) == Some(&0) { i - 1 } else { i };
            starts.push((i + 3, code_start));
            i += 3;
        } else {
            i += 1;
        }
    }
    for (k, &(payload_start, _)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(stream.len(), |&(_, code_start)| code_start);
        if let Some(nal) = stream.get(payload_start..end) {
            // Trailing zero bytes belong to the next start code (or are trailing_zero_8bits).
            let mut nal = nal;
            while let [rest @ .., 0] = nal {
                nal = rest;
            }
            if !nal.is_empty() {
                nals.push(nal);
            }
        }
    }
    nals
}

/// Whether an Annex-B access unit contains an IDR slice.
pub fn contains_idr(stream: &[u8]) -> bool {
    split_annex_b(stream).iter().any(|nal| nal.first().is_some_and(|&h| nal_type(h) == NAL_IDR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_mixed_start_codes() {
        let s = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 0];
        let nals = split_annex_b(&s);
        assert_eq!(nals, vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 4, 5][..]]);
        assert!(contains_idr(&s));
        assert!(split_annex_b(&[0, 0]).is_empty());
        assert!(split_annex_b(&[0, 0, 1]).is_empty());
    }
}

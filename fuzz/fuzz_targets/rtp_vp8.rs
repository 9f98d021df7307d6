//! Arbitrary RTP packets → VP8 depacketizer (RFC 7741) → libvpx decoder. Nothing may panic.
#![no_main]

use kaiwa_media::video::{DepacketizerConfig, DepacketizerEvent, Vp8Decoder, Vp8Depacketizer};
use libfuzzer_sys::fuzz_target;

// Input format: a sequence of records `[seq_hi, seq_lo, ts_byte, flags, len, payload[len]]`.
fuzz_target!(|data: &[u8]| {
    let mut depack = Vp8Depacketizer::new(DepacketizerConfig {
        wait_for_keyframe_after_loss: data.first().is_some_and(|b| b & 1 == 1),
        ..DepacketizerConfig::default()
    });
    let Ok(mut decoder) = Vp8Decoder::new() else { return };
    let mut rest = data;
    while let [seq_hi, seq_lo, ts, flags, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        let seq = u16::from_be_bytes([*seq_hi, *seq_lo]);
        let _ = depack.push(seq, u32::from(*ts) * 3000, flags & 0x80 != 0, payload);
        if flags & 0x40 != 0 {
            depack.skip_missing();
        }
        while let Some(event) = depack.poll_event() {
            if let DepacketizerEvent::Frame(frame) = event {
                let _ = decoder.decode(&frame.data);
            }
        }
    }
});

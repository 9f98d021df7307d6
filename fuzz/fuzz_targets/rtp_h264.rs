//! Arbitrary RTP packets → H.264 depacketizer → openh264 decoder; also the Opus jitter buffer/receiver.
//! Nothing may panic.
#![no_main]

use std::time::{Duration, Instant};

use kaiwa_media::audio::{AudioReceiver, JitterConfig};
use kaiwa_media::video::{DepacketizerConfig, DepacketizerEvent, H264Decoder, H264Depacketizer};
use libfuzzer_sys::fuzz_target;

// Input format: a sequence of records `[seq_hi, seq_lo, ts_byte, flags, len, payload[len]]`.
fuzz_target!(|data: &[u8]| {
    let mut depack = H264Depacketizer::new(DepacketizerConfig {
        wait_for_keyframe_after_loss: data.first().is_some_and(|b| b & 1 == 1),
        ..DepacketizerConfig::default()
    });
    let Ok(mut decoder) = H264Decoder::new() else { return };
    let Ok(mut audio) = AudioReceiver::new(JitterConfig::default()) else { return };
    let t0 = Instant::now();
    let mut rest = data;
    let mut step = 0u64;
    while let [seq_hi, seq_lo, ts, flags, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        step += 1;
        let seq = u16::from_be_bytes([*seq_hi, *seq_lo]);
        let marker = flags & 0x80 != 0;
        let timestamp = u32::from(*ts) * 3000;
        let now = t0 + Duration::from_millis(step * u64::from(flags & 0x3f));
        if flags & 0x40 != 0 {
            audio.push(seq, u32::from(*ts) * 960, payload, now);
            let _ = audio.pop(now);
            continue;
        }
        let _ = depack.push(seq, timestamp, marker, payload);
        while let Some(event) = depack.poll_event() {
            if let DepacketizerEvent::Frame(au) = event {
                let _ = decoder.decode(&au.data);
            }
        }
    }
});

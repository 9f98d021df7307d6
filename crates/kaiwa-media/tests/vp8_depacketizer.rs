//! RFC 7741 depacketizer robustness (proptest: arbitrary payloads, and real streams cut, reordered and
//! corrupted, never panic; whatever comes out decodes or fails cleanly).

use kaiwa_media::video::{
    DepacketizerConfig, DepacketizerEvent, EncoderConfig, TestPattern, Vp8Decoder, Vp8Depacketizer,
    Vp8Encoder, Vp8Packetizer,
};
use proptest::prelude::*;

/// Packets of a short real stream (160x120, a keyframe every 4 frames), encoded once.
fn real_packets() -> &'static Vec<(u32, bool, Vec<u8>)> {
    static PACKETS: std::sync::OnceLock<Vec<(u32, bool, Vec<u8>)>> = std::sync::OnceLock::new();
    PACKETS.get_or_init(|| {
        let pattern = TestPattern::new(160, 120).unwrap();
        let config = EncoderConfig { intra_period: 4, bitrate_bps: 300_000, ..EncoderConfig::call(160, 120) };
        let mut encoder = Vp8Encoder::new(config).unwrap();
        let mut packetizer = Vp8Packetizer::new(200);
        let mut out = Vec::new();
        for i in 0..8u32 {
            if let Some(f) = encoder.encode(&pattern.frame(i, 0), false).unwrap() {
                for p in packetizer.packetize(&f.data) {
                    out.push((i * 3000, p.marker, p.payload));
                }
            }
        }
        out
    })
}

fn drain(d: &mut Vp8Depacketizer, dec: &mut Vp8Decoder) -> usize {
    let mut pictures = 0;
    while let Some(ev) = d.poll_event() {
        if let DepacketizerEvent::Frame(f) = ev
            && let Ok(Some(_)) = dec.decode(&f.data)
        {
            pictures += 1;
        }
    }
    pictures
}

#[test]
fn a_clean_real_stream_decodes_every_frame() {
    let mut d = Vp8Depacketizer::default();
    let mut dec = Vp8Decoder::new().unwrap();
    let mut pictures = 0;
    for (i, (ts, marker, payload)) in real_packets().iter().enumerate() {
        d.push(i as u16, *ts, *marker, payload).unwrap();
        pictures += drain(&mut d, &mut dec);
    }
    assert_eq!(pictures, 8);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_packets_never_panic(
        packets in proptest::collection::vec(
            (any::<u16>(), any::<u32>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)),
            0..40,
        ),
        seq_base in any::<u16>(),
        sequential in any::<bool>(),
    ) {
        let mut d = Vp8Depacketizer::new(DepacketizerConfig {
            wait_for_keyframe_after_loss: false,
            ..DepacketizerConfig::default()
        });
        let mut dec = Vp8Decoder::new().unwrap();
        for (i, (seq, ts, marker, payload)) in packets.iter().enumerate() {
            let seq = if sequential { seq_base.wrapping_add(i as u16) } else { *seq };
            let ts = if sequential { ts % 4 } else { *ts };
            let _ = d.push(seq, ts, *marker, payload);
            drain(&mut d, &mut dec);
        }
        d.skip_missing();
        drain(&mut d, &mut dec);
    }

    #[test]
    fn real_streams_dropped_reordered_and_corrupted_never_panic(
        drops in proptest::collection::vec(any::<bool>(), 64),
        swaps in proptest::collection::vec((0usize..64, 0usize..64), 0..8),
        flips in proptest::collection::vec((0usize..64, 0usize..200, any::<u8>()), 0..8),
    ) {
        let mut packets: Vec<(u16, u32, bool, Vec<u8>)> = real_packets()
            .iter()
            .enumerate()
            .map(|(i, (ts, m, p))| (i as u16, *ts, *m, p.clone()))
            .collect();
        let n = packets.len();
        for (i, at, byte) in flips {
            if let Some(p) = packets.get_mut(i % n) && !p.3.is_empty() {
                let at = at % p.3.len();
                p.3[at] ^= byte;
            }
        }
        for (a, b) in swaps {
            packets.swap(a % n, b % n);
        }
        let mut d = Vp8Depacketizer::default();
        let mut dec = Vp8Decoder::new().unwrap();
        for (i, (seq, ts, marker, payload)) in packets.iter().enumerate() {
            if drops[i % drops.len()] && i % 3 == 0 {
                continue;
            }
            let _ = d.push(*seq, *ts, *marker, payload);
            drain(&mut d, &mut dec);
        }
        d.skip_missing();
        drain(&mut d, &mut dec);
    }
}

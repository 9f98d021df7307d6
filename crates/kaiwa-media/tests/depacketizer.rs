//! RFC 6184 depacketizer edge cases and robustness (proptest: arbitrary payloads never panic).

use kaiwa_media::video::{
    DepacketizerConfig, DepacketizerError, DepacketizerEvent, H264Decoder, H264Depacketizer, H264Packetizer,
};
use proptest::prelude::*;

fn events(d: &mut H264Depacketizer) -> Vec<DepacketizerEvent> {
    std::iter::from_fn(|| d.poll_event()).collect()
}

fn frames(evs: &[DepacketizerEvent]) -> Vec<&[u8]> {
    evs.iter()
        .filter_map(|e| match e {
            DepacketizerEvent::Frame(au) => Some(au.data.as_slice()),
            DepacketizerEvent::Loss { .. } => None,
        })
        .collect()
}

fn losses(evs: &[DepacketizerEvent]) -> usize {
    evs.iter().filter(|e| matches!(e, DepacketizerEvent::Loss { .. })).count()
}

const IDR: &[u8] = &[0x65, 1, 2, 3];
const P: &[u8] = &[0x41, 9, 9];

#[test]
fn single_nal_frames_in_order() {
    let mut d = H264Depacketizer::default();
    d.push(10, 0, true, IDR).unwrap();
    d.push(11, 3000, true, P).unwrap();
    let evs = events(&mut d);
    assert_eq!(frames(&evs), vec![&[0, 0, 0, 1, 0x65, 1, 2, 3][..], &[0, 0, 0, 1, 0x41, 9, 9][..]]);
}

#[test]
fn truncated_stap_a_is_an_error_not_a_panic() {
    let mut d = H264Depacketizer::default();
    // Declares a 16-byte NAL unit but carries 3 bytes.
    assert_eq!(
        d.push(1, 0, true, &[24, 0, 16, 0x67, 1, 2]),
        Err(DepacketizerError::TruncatedStapA("NAL unit size exceeds packet"))
    );
    assert!(d.push(2, 10, true, &[24, 0]).is_err());
    assert!(d.push(3, 20, true, &[24, 0, 0]).is_err());
    assert!(d.push(4, 30, true, &[24]).is_err());
    assert!(d.push(5, 40, true, &[28]).is_err());
    assert!(d.push(6, 50, true, &[28, 0xc5, 1]).is_err()); // start and end
    assert!(d.push(7, 60, true, &[25, 1, 2, 3]).is_err()); // STAP-B
    let evs = events(&mut d);
    assert!(frames(&evs).is_empty());
    assert!(losses(&evs) >= 1);
    assert_eq!(d.stats().malformed, 7);
}

#[test]
fn padding_only_packets_are_not_loss() {
    // Chromium pads the video SSRC to probe bandwidth (at the start, while the camera is off): packets
    // with no payload (after padding removal) that take sequence numbers, some with the last frame's
    // timestamp, some with later ones.
    let mut d = H264Depacketizer::default();
    d.push(10, 0, true, IDR).unwrap();
    d.push(11, 0, false, &[]).unwrap();
    d.push(12, 3000, false, &[]).unwrap();
    d.push(13, 3000, true, P).unwrap();
    for seq in 14..40 {
        d.push(seq, 9000, false, &[]).unwrap();
    }
    d.push(40, 12000, true, P).unwrap();
    let evs = events(&mut d);
    assert_eq!(frames(&evs).len(), 3);
    assert_eq!(losses(&evs), 0);
    assert_eq!(d.stats().malformed, 0);
    assert_eq!(d.stats().dropped_frames, 0);
    assert!(!d.waiting_for_keyframe());
}

#[test]
fn stap_a_and_fu_a_reassembly_across_wraparound() {
    let nal: Vec<u8> = std::iter::once(0x65).chain((0..5000).map(|i| (i % 200) as u8 + 1)).collect();
    let mut au = vec![0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0, 0, 1];
    au.extend_from_slice(&nal);
    let pk = H264Packetizer::default().packetize(&au);
    let mut d = H264Depacketizer::default();
    let mut seq = 65_533u16;
    for p in &pk {
        d.push(seq, 1234, p.marker, &p.payload).unwrap();
        seq = seq.wrapping_add(1);
    }
    let evs = events(&mut d);
    assert_eq!(frames(&evs), vec![au.as_slice()]);
    match &evs[0] {
        DepacketizerEvent::Frame(f) => assert!(f.keyframe),
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicates_and_late_packets_are_ignored() {
    let mut d = H264Depacketizer::default();
    d.push(1, 0, true, IDR).unwrap();
    d.push(1, 0, true, IDR).unwrap();
    d.push(2, 3000, true, P).unwrap();
    d.push(0, 0, true, P).unwrap(); // before the start: late
    let evs = events(&mut d);
    assert_eq!(frames(&evs).len(), 2);
    assert_eq!(d.stats().late_or_duplicate, 2);
}

#[test]
fn gap_is_reported_and_frames_withheld_until_idr() {
    let mut d = H264Depacketizer::default();
    d.push(1, 0, true, IDR).unwrap();
    // seq 2 (frame at 3000) lost.
    let mut seq = 3u16;
    for k in 2..12u32 {
        d.push(seq, k * 3000, true, P).unwrap();
        seq += 1;
    }
    let evs = events(&mut d);
    assert_eq!(losses(&evs), 1);
    assert_eq!(frames(&evs).len(), 1, "P frames after the loss are withheld");
    assert!(d.waiting_for_keyframe());
    d.push(seq, 99_000, true, IDR).unwrap();
    let evs = events(&mut d);
    assert_eq!(frames(&evs), vec![&[0, 0, 0, 1, 0x65, 1, 2, 3][..]]);
    assert!(!d.waiting_for_keyframe());
}

#[test]
fn skip_missing_gives_up_on_a_gap_without_later_frames() {
    let mut d = H264Depacketizer::default();
    d.push(1, 0, true, IDR).unwrap();
    assert!(!d.is_waiting_for_missing());
    d.push(3, 3000, true, IDR).unwrap(); // 2 missing; too few later packets to call it lost yet
    assert_eq!(frames(&events(&mut d)).len(), 1);
    assert!(d.is_waiting_for_missing());
    d.skip_missing();
    assert!(!d.is_waiting_for_missing());
    let evs = events(&mut d);
    assert_eq!(evs[0], DepacketizerEvent::Loss { missing_packets: 1 });
    assert_eq!(frames(&evs).len(), 1, "the IDR after the gap is complete and delivered");
    d.push(2, 1500, true, P).unwrap();
    assert_eq!(d.stats().late_or_duplicate, 1);
}

#[test]
fn sender_restart_resynchronises_as_soon_with_a_wide_reorder_window() {
    // The engine's settings: a wide window and no frame count, so a repair may take 250 ms.
    let mut d = H264Depacketizer::new(DepacketizerConfig {
        reorder_frames: usize::MAX,
        reorder_window: 512,
        ..DepacketizerConfig::default()
    });
    for s in 0..10u16 {
        d.push(30_000 + s, u32::from(s) * 3000, true, IDR).unwrap();
    }
    let mut evs = Vec::new();
    for s in 0..100u16 {
        d.push(10_000 + s, 1_000_000 + u32::from(s) * 3000, true, IDR).unwrap();
        evs.extend(events(&mut d));
    }
    assert_eq!(d.stats().resyncs, 1);
    assert!(frames(&evs).len() >= 30, "{:?}", d.stats());
}

#[test]
fn sender_restart_with_lower_sequence_resynchronises() {
    let mut d = H264Depacketizer::default();
    for s in 0..10u16 {
        d.push(30_000 + s, u32::from(s) * 3000, true, IDR).unwrap();
    }
    assert_eq!(frames(&events(&mut d)).len(), 10);
    // New sender, sequence numbers "behind" ours (within i16 distance): late at first, then a resync.
    let mut evs = Vec::new();
    for s in 0..100u16 {
        d.push(10_000 + s, 1_000_000 + u32::from(s) * 3000, true, IDR).unwrap();
        evs.extend(events(&mut d));
    }
    assert!(frames(&evs).len() >= 30, "{:?}", d.stats());
    assert_eq!(d.stats().resyncs, 1);
}

#[test]
fn missing_fu_start_breaks_the_frame() {
    let mut d = H264Depacketizer::default();
    d.push(1, 0, true, IDR).unwrap();
    // An FU-A middle and end fragment whose start never came, with no sequence gap (sender bug).
    d.push(2, 3000, false, &[0x7c, 0x05, 1, 2]).unwrap();
    d.push(3, 3000, true, &[0x7c, 0x45, 3]).unwrap();
    let evs = events(&mut d);
    assert_eq!(frames(&evs).len(), 1);
    assert_eq!(losses(&evs), 1);
}

#[test]
fn memory_is_bounded() {
    let config = DepacketizerConfig { max_frame_bytes: 10_000, max_pending_events: 4, ..Default::default() };
    let mut d = H264Depacketizer::new(config);
    // A frame that never ends grows past the cap and is dropped.
    d.push(1, 0, false, &[0x7c, 0x85, 1]).unwrap();
    let mut middle = vec![7u8; 1000];
    middle[..2].copy_from_slice(&[0x7c, 0x05]);
    for s in 2..30u16 {
        d.push(s, 0, false, &middle).unwrap();
    }
    d.push(30, 0, true, &[0x7c, 0x45, 1]).unwrap();
    // Many frames that nobody polls: the queue stays bounded.
    for s in 31..200u16 {
        d.push(s, u32::from(s) * 3000, true, IDR).unwrap();
    }
    let evs = events(&mut d);
    assert!(evs.len() <= 5, "{}", evs.len());
    assert!(losses(&evs) >= 1);
    // A huge forward sequence jump resynchronises instead of buffering forever.
    d.push(30_000, 1, true, IDR).unwrap();
    for s in 30_001..30_100u16 {
        d.push(s, u32::from(s) * 3000, true, IDR).unwrap();
    }
    assert!(!frames(&events(&mut d)).is_empty());
}

/// Fixed seed: the suite is deterministic (raise `cases` or change the seed locally to explore).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x006b_6169_7761),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn payload_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Completely arbitrary bytes.
        proptest::collection::vec(any::<u8>(), 0..64),
        // Structured-looking STAP-A / FU-A headers with arbitrary bodies.
        (
            prop_oneof![Just(24u8), Just(28u8), Just(0x78u8), Just(0x7cu8), 1u8..=23],
            proptest::collection::vec(any::<u8>(), 0..48)
        )
            .prop_map(|(h, mut body)| {
                body.insert(0, h);
                body
            }),
    ]
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn arbitrary_packets_never_panic(
        packets in proptest::collection::vec(
            (any::<u16>(), any::<u32>(), any::<bool>(), payload_strategy()),
            0..40,
        ),
        seq_base in any::<u16>(),
        sequential in any::<bool>(),
    ) {
        let mut d = H264Depacketizer::new(DepacketizerConfig {
            wait_for_keyframe_after_loss: false,
            ..DepacketizerConfig::default()
        });
        let mut dec = H264Decoder::new().unwrap();
        for (i, (seq, ts, marker, payload)) in packets.iter().enumerate() {
            let seq = if sequential { seq_base.wrapping_add(i as u16) } else { *seq };
            let ts = if sequential { ts % 4 } else { *ts };
            let _ = d.push(seq, ts, *marker, payload);
            while let Some(ev) = d.poll_event() {
                if let DepacketizerEvent::Frame(au) = ev {
                    prop_assert!(au.data.starts_with(&[0, 0, 0, 1]));
                    let _ = dec.decode(&au.data);
                }
            }
        }
    }
}

/// Packets of a short real stream (160x120), encoded once.
fn real_packets() -> &'static Vec<(u32, bool, Vec<u8>)> {
    static PACKETS: std::sync::OnceLock<Vec<(u32, bool, Vec<u8>)>> = std::sync::OnceLock::new();
    PACKETS.get_or_init(|| {
        use kaiwa_media::video::{EncoderConfig, H264Encoder, TestPattern};
        let pattern = TestPattern::new(160, 120).unwrap();
        let mut enc = H264Encoder::new(EncoderConfig {
            content: Default::default(),
            width: 160,
            height: 120,
            max_fps: 30.0,
            bitrate_bps: 300_000,
            intra_period: 4,
        })
        .unwrap();
        let packetizer = H264Packetizer::new(300);
        let mut out = Vec::new();
        for i in 0..8u32 {
            if let Some(f) = enc.encode(&pattern.frame(i, 0), false).unwrap() {
                for p in packetizer.packetize(&f.annex_b) {
                    out.push((i * 3000, p.marker, p.payload));
                }
            }
        }
        out
    })
}

proptest! {
    #![proptest_config(config(256))]

    /// Real H.264 packets with random corruption, loss and duplication: depacketizer and decoder must
    /// never panic (decode errors are expected).
    #[test]
    fn mutated_real_stream_never_panics(
        mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<usize>(), any::<u8>(), 0u8..4), 0..12),
    ) {
        let mut packets: Vec<(u16, u32, bool, Vec<u8>)> = real_packets()
            .iter()
            .enumerate()
            .map(|(i, (ts, m, p))| (i as u16, *ts, *m, p.clone()))
            .collect();
        for (idx, pos, byte, kind) in &mutations {
            let k = idx.index(packets.len());
            match kind {
                0 => {
                    let p = &mut packets[k].3;
                    let at = pos % p.len().max(1);
                    if let Some(b) = p.get_mut(at) { *b ^= byte | 1; }
                }
                1 => { let p = &mut packets[k].3; let keep = pos % (p.len() + 1); p.truncate(keep); }
                2 => { packets.remove(k); if packets.is_empty() { break; } }
                _ => { let dup = packets[k].clone(); packets.insert(k, dup); }
            }
        }
        let mut d = H264Depacketizer::new(DepacketizerConfig {
            wait_for_keyframe_after_loss: false,
            ..DepacketizerConfig::default()
        });
        let mut dec = H264Decoder::new().unwrap();
        for (seq, ts, marker, payload) in &packets {
            let _ = d.push(*seq, *ts, *marker, payload);
            while let Some(ev) = d.poll_event() {
                if let DepacketizerEvent::Frame(au) = ev {
                    let _ = dec.decode(&au.data);
                }
            }
        }
    }
}

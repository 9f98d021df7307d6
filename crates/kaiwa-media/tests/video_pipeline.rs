//! End-to-end video: test pattern → openh264 → (RTP packetizer → depacketizer) → openh264 → stamp + PSNR.

use kaiwa_media::video::{
    DepacketizerEvent, EncoderConfig, H264Decoder, H264Depacketizer, H264Encoder, H264Packetizer, I420Frame,
    TestPattern, psnr,
};

const W: u32 = 640;
const H: u32 = 480;
const FRAMES: u32 = 60;

fn capture_us(i: u32) -> u64 {
    1_000_000 + u64::from(i) * 33_333
}

/// (frame counter, Annex-B access unit, keyframe)
type Encoded = Vec<(u32, Vec<u8>, bool)>;

fn encode_all(frames: u32) -> (TestPattern, Vec<I420Frame>, Encoded) {
    let pattern = TestPattern::new(W, H).unwrap();
    let mut enc = H264Encoder::new(EncoderConfig {
        content: Default::default(),
        width: W,
        height: H,
        max_fps: 30.0,
        bitrate_bps: 1_000_000,
        intra_period: 300,
    })
    .unwrap();
    let mut sources = Vec::new();
    let mut encoded = Vec::new();
    for i in 0..frames {
        let frame = pattern.frame(i, capture_us(i));
        if let Some(out) = enc.encode(&frame, false).unwrap() {
            assert!(!out.annex_b.is_empty());
            encoded.push((i, out.annex_b, out.keyframe));
        }
        sources.push(frame);
    }
    (pattern, sources, encoded)
}

fn check_decoded(pattern: &TestPattern, sources: &[I420Frame], decoded: &[I420Frame]) {
    let mut last = None;
    for frame in decoded {
        let stamp = pattern.read_stamp(frame).expect("stamp must read back after H.264");
        assert_eq!(stamp.capture_us, capture_us(stamp.counter));
        if let Some(prev) = last {
            assert!(stamp.counter > prev, "counters must strictly increase");
        }
        last = Some(stamp.counter);
        let q = psnr(&sources[stamp.counter as usize], frame).unwrap();
        assert!(q >= 30.0, "frame {} PSNR {q:.1} dB", stamp.counter);
    }
}

#[test]
fn encode_decode_60_frames_stamps_and_psnr() {
    let (pattern, sources, encoded) = encode_all(FRAMES);
    assert!(encoded.len() >= 55, "only {} of {FRAMES} frames encoded", encoded.len());
    assert!(encoded[0].2, "first frame must be a keyframe");
    assert_eq!(encoded.iter().filter(|e| e.2).count(), 1, "no spurious keyframes");
    let mut dec = H264Decoder::new().unwrap();
    assert!(dec.needs_keyframe());
    let mut decoded = Vec::new();
    for (_, au, _) in &encoded {
        if let Some(f) = dec.decode(au).unwrap() {
            decoded.push(f);
        }
    }
    assert!(!dec.needs_keyframe());
    assert_eq!(decoded.len(), encoded.len());
    check_decoded(&pattern, &sources, &decoded);
    // Bitrate sanity: ~1 Mbps at 30 fps is ~4.2 kB/frame; allow generous slack for the IDR.
    let total: usize = encoded.iter().map(|e| e.1.len()).sum();
    assert!(total < 2 * 1_000_000 / 8 * 2, "{total} bytes for 2 s of video");
}

/// Deterministic bounded reordering: reverses consecutive blocks of 2–5 packets, so packets move by at
/// most 4 places, and often across frame boundaries.
fn reorder<T>(items: &mut [T]) {
    let mut state = 0x2545_f491_u32;
    let mut i = 0;
    while i < items.len() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let len = (2 + (state >> 16) as usize % 4).min(items.len() - i);
        items[i..i + len].reverse();
        i += len;
    }
}

#[test]
fn through_rtp_with_reordering() {
    let (pattern, sources, encoded) = encode_all(FRAMES);
    let packetizer = H264Packetizer::default();
    let mut packets = Vec::new();
    let mut seq: u16 = 65_000; // wraps during the run
    for (i, au, _) in &encoded {
        let ts = 90_000u32.wrapping_mul(*i).wrapping_div(30).wrapping_add(4_000_000_000);
        for p in packetizer.packetize(au) {
            assert!(p.payload.len() <= 1200);
            packets.push((seq, ts, p.marker, p.payload));
            seq = seq.wrapping_add(1);
        }
    }
    assert!(packets.len() > encoded.len(), "the IDR must need FU-A");
    // Keep the very first packet first so the stream starts at its beginning; shuffle the rest.
    reorder(&mut packets[1..]);
    let mut depack = H264Depacketizer::default();
    let mut dec = H264Decoder::new().unwrap();
    let mut decoded = Vec::new();
    for (seq, ts, marker, payload) in &packets {
        depack.push(*seq, *ts, *marker, payload).unwrap();
        while let Some(ev) = depack.poll_event() {
            match ev {
                DepacketizerEvent::Frame(au) => {
                    if let Some(f) = dec.decode(&au.data).unwrap() {
                        decoded.push(f);
                    }
                }
                DepacketizerEvent::Loss { .. } => panic!("no loss expected: {:?}", depack.stats()),
            }
        }
    }
    let stats = depack.stats();
    assert_eq!(stats.lost_packets, 0);
    assert_eq!(decoded.len(), encoded.len(), "{stats:?}");
    check_decoded(&pattern, &sources, &decoded);
}

#[test]
fn lost_fu_a_fragment_reports_loss_and_recovers_after_forced_keyframe() {
    let pattern = TestPattern::new(W, H).unwrap();
    let mut enc = H264Encoder::new(EncoderConfig::call(W, H)).unwrap();
    let packetizer = H264Packetizer::default();
    let mut depack = H264Depacketizer::default();
    let mut dec = H264Decoder::new().unwrap();
    let mut seq: u16 = 1;
    let mut loss_reported = false;
    let mut recovered_counter = None;
    let mut decoded_counters = Vec::new();
    for i in 0..40u32 {
        let force = loss_reported && recovered_counter.is_none() && depack.waiting_for_keyframe();
        let Some(out) = enc.encode(&pattern.frame(i, capture_us(i)), force).unwrap() else { continue };
        if force {
            assert!(out.keyframe, "forced keyframe must be an IDR");
        }
        let packets = packetizer.packetize(&out.annex_b);
        for (k, p) in packets.iter().enumerate() {
            // Frame 10: drop the second packet (an FU-A fragment of the big slice).
            let drop = i == 10 && k == 1;
            if i == 10 && k == 1 {
                assert_eq!(p.payload[0] & 0x1f, 28, "expected an FU-A fragment");
            }
            if !drop {
                depack.push(seq, i * 3000, p.marker, &p.payload).unwrap();
            }
            seq = seq.wrapping_add(1);
        }
        while let Some(ev) = depack.poll_event() {
            match ev {
                DepacketizerEvent::Loss { .. } => {
                    loss_reported = true;
                    dec.mark_loss();
                    enc.request_keyframe();
                }
                DepacketizerEvent::Frame(au) => {
                    if let Ok(Some(f)) = dec.decode(&au.data) {
                        let stamp = pattern.read_stamp(&f).expect("stamp");
                        if loss_reported && recovered_counter.is_none() {
                            assert!(au.keyframe);
                            recovered_counter = Some(stamp.counter);
                        }
                        decoded_counters.push(stamp.counter);
                    }
                }
            }
        }
    }
    assert!(loss_reported, "dropping a fragment must be reported");
    let recovered = recovered_counter.expect("decoder must recover after the keyframe");
    assert!(recovered > 10 && recovered <= 14, "recovered at {recovered}");
    assert!(!decoded_counters.contains(&10), "the broken frame must not be decoded");
    assert!(decoded_counters.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(*decoded_counters.last().unwrap(), 39);
    assert!(!dec.needs_keyframe());
}

#[test]
fn decoder_waits_for_keyframe_and_survives_garbage() {
    let (_, _, encoded) = encode_all(5);
    let mut dec = H264Decoder::new().unwrap();
    // Starting on a P frame: no decode attempted, keyframe needed.
    assert!(dec.decode(&encoded[1].1).is_err());
    assert!(dec.needs_keyframe());
    assert!(dec.decode(&encoded[0].1).unwrap().is_some());
    assert!(!dec.needs_keyframe());
    // A truncated P frame after that errors or decodes with concealment, but never panics.
    let cut = &encoded[1].1[..encoded[1].1.len() / 2];
    let _ = dec.decode(cut);
    let _ = dec.decode(&[0, 0, 0, 1, 0x65, 0xff, 0xff, 0xff]);
    let _ = dec.decode(&[]);
}

#[test]
fn encoder_runtime_controls() {
    let pattern = TestPattern::new(320, 240).unwrap();
    let mut enc = H264Encoder::new(EncoderConfig {
        content: Default::default(),
        width: 320,
        height: 240,
        max_fps: 30.0,
        bitrate_bps: 600_000,
        intra_period: 0,
    })
    .unwrap();
    enc.set_bitrate(5_000_000);
    assert_eq!(enc.bitrate(), 600_000, "never above the opening bitrate");
    let mut sizes = Vec::new();
    for i in 0..90u32 {
        if i == 45 {
            enc.set_bitrate(150_000);
        }
        let force = i == 30;
        match enc.encode(&pattern.frame(i, 0), force).unwrap() {
            Some(out) => {
                assert_eq!(out.keyframe, i == 0 || i == 30, "frame {i}");
                sizes.push((i, out.annex_b.len()));
            }
            None => assert!(i != 0 && i != 30),
        }
    }
    let before: usize = sizes.iter().filter(|(i, _)| (31..45).contains(i)).map(|s| s.1).sum();
    let after: usize = sizes.iter().filter(|(i, _)| (75..90).contains(i)).map(|s| s.1).sum();
    assert!(after < before, "lower bitrate must shrink frames: {before} -> {after}");
    assert!(enc.encode(&I420Frame::black(640, 480).unwrap(), false).is_err(), "size mismatch");
    assert!(H264Encoder::new(EncoderConfig::call(641, 480)).is_err());
}

#[test]
fn stamps_survive_low_bitrates() {
    for (w, h, bps) in [(320u32, 240u32, 100_000u32), (640, 480, 250_000)] {
        let pattern = TestPattern::new(w, h).unwrap();
        let mut enc = H264Encoder::new(EncoderConfig {
            content: Default::default(),
            width: w,
            height: h,
            max_fps: 30.0,
            bitrate_bps: bps,
            intra_period: 0,
        })
        .unwrap();
        let mut dec = H264Decoder::new().unwrap();
        let mut read = 0;
        let mut last = None;
        for i in 0..45u32 {
            let Some(out) = enc.encode(&pattern.frame(i, capture_us(i)), false).unwrap() else { continue };
            let f = dec.decode(&out.annex_b).unwrap().expect("picture");
            let stamp =
                pattern.read_stamp(&f).unwrap_or_else(|| panic!("{w}x{h}@{bps}: frame {i} unreadable"));
            assert_eq!(stamp.counter, i);
            assert_eq!(stamp.capture_us, capture_us(i));
            assert!(last.is_none_or(|l| l < i));
            last = Some(i);
            read += 1;
        }
        assert!(read >= 30, "{w}x{h}@{bps}: only {read} frames");
    }
}

/// 150 frames through RTP with 3% random packet loss and a PLI → keyframe loop: the receiver reports every
/// loss, shows only correctly decoded pictures (stamps readable, strictly increasing) and keeps recovering.
#[test]
fn random_loss_with_pli_loop_keeps_recovering() {
    let (w, h) = (320, 240);
    let pattern = TestPattern::new(w, h).unwrap();
    let mut enc = H264Encoder::new(EncoderConfig {
        content: Default::default(),
        width: w,
        height: h,
        max_fps: 30.0,
        bitrate_bps: 500_000,
        intra_period: 0,
    })
    .unwrap();
    let packetizer = H264Packetizer::default();
    let mut depack = H264Depacketizer::default();
    let mut dec = H264Decoder::new().unwrap();
    let mut rng = 0x1234_5678_u32;
    let mut seq = 0u16;
    let (mut sent, mut dropped, mut losses, mut plis_pending) = (0, 0, 0, false);
    let mut shown = Vec::new();
    for i in 0..150u32 {
        let force = std::mem::take(&mut plis_pending);
        let Some(out) = enc.encode(&pattern.frame(i, capture_us(i)), force).unwrap() else { continue };
        for p in packetizer.packetize(&out.annex_b) {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            sent += 1;
            if rng % 100 < 3 {
                dropped += 1;
            } else {
                let _ = depack.push(seq, i * 3000, p.marker, &p.payload);
            }
            seq = seq.wrapping_add(1);
        }
        while let Some(ev) = depack.poll_event() {
            match ev {
                DepacketizerEvent::Loss { .. } => {
                    losses += 1;
                    dec.mark_loss();
                    plis_pending = true;
                }
                DepacketizerEvent::Frame(au) => match dec.decode(&au.data) {
                    Ok(Some(f)) => {
                        let stamp = pattern.read_stamp(&f).expect("shown pictures carry a valid stamp");
                        assert!(shown.last().is_none_or(|&l| l < stamp.counter));
                        shown.push(stamp.counter);
                    }
                    Ok(None) => {}
                    Err(_) => plis_pending = true,
                },
            }
        }
        if depack.waiting_for_keyframe() || dec.needs_keyframe() {
            plis_pending = true;
        }
    }
    assert!(dropped > 0 && losses > 0, "sent {sent}, dropped {dropped}, losses {losses}");
    assert!(shown.len() >= 75, "only {} of 150 frames shown (dropped {dropped} of {sent})", shown.len());
    assert!(*shown.last().unwrap() >= 140, "still recovering at the end: {shown:?}");
}

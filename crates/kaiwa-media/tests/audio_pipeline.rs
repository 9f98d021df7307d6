//! Opus round trips and the receive path (jitter buffer + FEC/PLC) under loss.

use std::time::{Duration, Instant};

use kaiwa_media::audio::analysis::{dominant_frequency, longest_gap_ms, rms};
use kaiwa_media::audio::{
    AudioReceiver, FRAME_SAMPLES, FRAME_TICKS, JitterConfig, OpusDecoder, OpusEncoder, OpusEncoderConfig,
    SAMPLE_RATE, ToneGenerator,
};

fn encode_tone(freq: f64, frames: usize, loss_pct: u8) -> Vec<Vec<u8>> {
    let mut tone = ToneGenerator::new(freq, SAMPLE_RATE, 0.5);
    let mut enc =
        OpusEncoder::new(OpusEncoderConfig { bitrate_bps: 32_000, fec: true, expected_loss_pct: loss_pct })
            .unwrap();
    (0..frames).map(|_| enc.encode(&tone.take(FRAME_SAMPLES)).unwrap()).collect()
}

#[test]
fn tones_survive_opus() {
    for freq in [440.0, 1000.0] {
        let packets = encode_tone(freq, 60, 0);
        let mut dec = OpusDecoder::new().unwrap();
        let mut pcm = Vec::new();
        for p in &packets {
            let mut out = [0i16; FRAME_SAMPLES];
            dec.decode(p, &mut out).unwrap();
            pcm.extend_from_slice(&out);
        }
        // Skip the codec's start-up (look-ahead and ramp), analyse 1 s.
        let tail = &pcm[pcm.len() - SAMPLE_RATE as usize..];
        let est = dominant_frequency(tail, SAMPLE_RATE).unwrap();
        assert!((est - freq).abs() / freq < 0.01, "{freq} Hz estimated as {est}");
        assert!(rms(tail) > 0.2, "level {}", rms(tail));
    }
}

/// Sends `packets` every 20 ms over a simulated network (per-packet extra delay `delay(i)` ms, packets
/// with `lost(i)` dropped) into an [`AudioReceiver`] popped every 20 ms; returns the played PCM.
fn receive(
    rx: &mut AudioReceiver,
    packets: &[Vec<u8>],
    lost: impl Fn(usize) -> bool,
    delay: impl Fn(usize) -> u64,
) -> Vec<i16> {
    let t0 = Instant::now();
    let mut arrivals: Vec<(u64, usize)> =
        (0..packets.len()).filter(|&i| !lost(i)).map(|i| (20 * i as u64 + delay(i), i)).collect();
    arrivals.sort();
    let mut next = 0;
    let mut pcm = Vec::new();
    let seq0: u16 = 65_500; // wraps
    let ts0: u32 = u32::MAX - 10 * FRAME_TICKS; // wraps too
    for t in 0..(packets.len() as u64 * 20 + 400) {
        while next < arrivals.len() && arrivals[next].0 <= t {
            let i = arrivals[next].1;
            let seq = seq0.wrapping_add(i as u16);
            let ts = ts0.wrapping_add(i as u32 * FRAME_TICKS);
            rx.push(seq, ts, &packets[i], t0 + Duration::from_millis(arrivals[next].0));
            next += 1;
        }
        if t % 20 == 10 {
            pcm.extend_from_slice(&rx.pop(t0 + Duration::from_millis(t)));
        }
    }
    pcm
}

#[test]
fn five_percent_loss_with_jitter_through_receiver_with_fec_and_plc() {
    for freq in [440.0, 1000.0] {
        let frames = 150; // 3 s
        let packets = encode_tone(freq, frames, 5);
        let mut rx = AudioReceiver::new(JitterConfig::default()).unwrap();
        // Deterministic 5% loss (every 20th packet, one burst of two) and up to 30 ms of jitter.
        let lost = |i: usize| i % 20 == 7 || i == 101 || i == 102;
        let delay = |i: usize| 5 + (i as u64).wrapping_mul(2_654_435_761) % 31;
        let pcm = receive(&mut rx, &packets, lost, delay);
        let stats = rx.stats();
        assert!(stats.jitter.lost >= 9, "{stats:?}");
        assert!(stats.jitter.fec >= 6, "FEC should recover isolated losses: {stats:?}");
        assert_eq!(stats.decode_errors, 0);
        // Find where the audio starts (pre-buffering), then check there is no hole in the 2.5 s after it.
        let start = pcm.iter().position(|&s| s.unsigned_abs() > 1000).unwrap();
        let body = &pcm[start..start + SAMPLE_RATE as usize * 5 / 2];
        let gap = longest_gap_ms(body, SAMPLE_RATE, 0.05);
        assert!(gap <= 100, "{freq} Hz: gap of {gap} ms; {stats:?}");
        for second in 0..2 {
            let window = &body[second * SAMPLE_RATE as usize..(second + 1) * SAMPLE_RATE as usize];
            let est = dominant_frequency(window, SAMPLE_RATE).unwrap();
            assert!((est - freq).abs() / freq < 0.01, "{freq} Hz estimated as {est}");
        }
    }
}

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

#[test]
fn five_percent_loss_through_jitter_buffer_with_fec_and_plc() {
    let freq = 440.0;
    let frames = 150; // 3 s
    let packets = encode_tone(freq, frames, 5);
    let mut rx = AudioReceiver::new(JitterConfig::default()).unwrap();
    let t0 = Instant::now();
    // Deterministic 5% loss: every 20th packet, plus one burst of two.
    let lost = |i: usize| i % 20 == 7 || i == 101 || i == 102;
    let mut pcm = Vec::new();
    let mut seq: u16 = 65_500; // wraps
    let mut ts: u32 = u32::MAX - 10 * FRAME_TICKS; // wraps too
    for (i, p) in packets.iter().enumerate() {
        let now = t0 + Duration::from_millis(20 * i as u64);
        if !lost(i) {
            rx.push(seq, ts, p, now);
        }
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(FRAME_TICKS);
        pcm.extend_from_slice(&rx.pop(now + Duration::from_millis(10)));
    }
    for k in 0..10u64 {
        pcm.extend_from_slice(&rx.pop(t0 + Duration::from_millis(20 * (frames as u64 + k))));
    }
    let stats = rx.stats();
    assert!(stats.jitter.lost >= 9, "{stats:?}");
    assert!(stats.jitter.fec >= 7, "FEC should recover isolated losses: {stats:?}");
    assert_eq!(stats.decode_errors, 0);
    // Find where the audio starts (pre-buffering), then check there is no hole in the 2.5 s after it.
    let start = pcm.iter().position(|&s| s.unsigned_abs() > 1000).unwrap();
    let body = &pcm[start..start + SAMPLE_RATE as usize * 5 / 2];
    let gap = longest_gap_ms(body, SAMPLE_RATE, 0.05);
    assert!(gap <= 100, "gap of {gap} ms");
    let est = dominant_frequency(&body[..SAMPLE_RATE as usize], SAMPLE_RATE).unwrap();
    assert!((est - freq).abs() / freq < 0.01, "estimated {est}");
    let est = dominant_frequency(&body[SAMPLE_RATE as usize..2 * SAMPLE_RATE as usize], SAMPLE_RATE).unwrap();
    assert!((est - freq).abs() / freq < 0.01, "estimated {est}");
}

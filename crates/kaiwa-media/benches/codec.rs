//! Codec and colour-conversion timings. Run with: `cargo bench -p kaiwa-media` (optionally followed by
//! `-- --frames N`). Prints milliseconds per frame; it asserts nothing.

use std::time::{Duration, Instant};

use kaiwa_media::audio::{
    FRAME_SAMPLES, OpusDecoder, OpusEncoder, OpusEncoderConfig, SAMPLE_RATE, ToneGenerator,
};
use kaiwa_media::video::{EncoderConfig, H264Decoder, H264Encoder, I420Frame, TestPattern};

fn ms_per(total: Duration, n: usize) -> f64 {
    total.as_secs_f64() * 1000.0 / n.max(1) as f64
}

fn video(width: u32, height: u32, bitrate_bps: u32, frames: u32) {
    let pattern = TestPattern::new(width, height).expect("pattern");
    let sources: Vec<I420Frame> = (0..frames).map(|i| pattern.frame(i, 0)).collect();
    let mut enc =
        H264Encoder::new(EncoderConfig { width, height, max_fps: 30.0, bitrate_bps, intra_period: 300 })
            .expect("encoder");
    let mut encoded = Vec::new();
    let t = Instant::now();
    for f in &sources {
        if let Some(out) = enc.encode(f, false).expect("encode") {
            encoded.push(out.annex_b);
        }
    }
    let enc_time = t.elapsed();
    let mut dec = H264Decoder::new().expect("decoder");
    let t = Instant::now();
    let mut decoded = Vec::new();
    for au in &encoded {
        if let Some(f) = dec.decode(au).expect("decode") {
            decoded.push(f);
        }
    }
    let dec_time = t.elapsed();
    let t = Instant::now();
    let mut rgba = vec![0u8; width as usize * height as usize * 4];
    for f in &decoded {
        f.write_rgba(&mut rgba).expect("to rgba");
    }
    let to_rgba = t.elapsed();
    let t = Instant::now();
    for _ in &decoded {
        let _ = I420Frame::from_rgba(width, height, &rgba).expect("from rgba");
    }
    let from_rgba = t.elapsed();
    let bytes: usize = encoded.iter().map(Vec::len).sum();
    println!(
        "{width}x{height} @ {} kbps: encode {:.2} ms/frame, decode {:.2} ms/frame, I420->RGBA {:.2} ms, \
         RGBA->I420 {:.2} ms, {} frames, {:.0} kbps actual",
        bitrate_bps / 1000,
        ms_per(enc_time, sources.len()),
        ms_per(dec_time, encoded.len()),
        ms_per(to_rgba, decoded.len()),
        ms_per(from_rgba, decoded.len()),
        encoded.len(),
        bytes as f64 * 8.0 * 30.0 / 1000.0 / encoded.len().max(1) as f64,
    );
}

fn audio(frames: usize) {
    let mut tone = ToneGenerator::new(440.0, SAMPLE_RATE, 0.5);
    let pcm: Vec<Vec<i16>> = (0..frames).map(|_| tone.take(FRAME_SAMPLES)).collect();
    let mut enc = OpusEncoder::new(OpusEncoderConfig::default()).expect("opus encoder");
    let t = Instant::now();
    let packets: Vec<Vec<u8>> = pcm.iter().map(|f| enc.encode(f).expect("encode")).collect();
    let enc_time = t.elapsed();
    let mut dec = OpusDecoder::new().expect("opus decoder");
    let mut out = [0i16; FRAME_SAMPLES];
    let t = Instant::now();
    for p in &packets {
        dec.decode(p, &mut out).expect("decode");
    }
    let dec_time = t.elapsed();
    println!(
        "opus 20 ms mono: encode {:.3} ms/frame, decode {:.3} ms/frame",
        ms_per(enc_time, frames),
        ms_per(dec_time, frames)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let frames = args
        .iter()
        .position(|a| a == "--frames")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(120u32);
    video(640, 480, 1_000_000, frames);
    video(1280, 720, 2_500_000, frames);
    audio(500);
}

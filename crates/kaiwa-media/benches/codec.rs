//! Codec and colour-conversion timings: H.264 (openh264) and VP8 (libvpx) side by side at equal target
//! bitrates, with the PSNR of what decodes. Run with: `cargo bench -p kaiwa-media` (optionally followed by
//! `-- --frames N`). Prints milliseconds per frame; it asserts nothing.

use std::time::{Duration, Instant};

use kaiwa_media::audio::{
    AudioProcessor, FRAME_SAMPLES, OpusDecoder, OpusEncoder, OpusEncoderConfig, ProcessingConfig,
    SAMPLE_RATE, ToneGenerator, speech_like,
};
use kaiwa_media::video::{
    EncoderConfig, I420Frame, TestPattern, VideoCodec, VideoDecoder, VideoEncoder, psnr,
};

fn ms_per(total: Duration, n: usize) -> f64 {
    total.as_secs_f64() * 1000.0 / n.max(1) as f64
}

fn video(codec: VideoCodec, width: u32, height: u32, bitrate_bps: u32, frames: u32) {
    let pattern = TestPattern::new(width, height).expect("pattern");
    let sources: Vec<I420Frame> = (0..frames).map(|i| pattern.frame(i, 0)).collect();
    let config = EncoderConfig {
        width,
        height,
        max_fps: 30.0,
        bitrate_bps,
        intra_period: 300,
        content: Default::default(),
    };
    let mut enc = VideoEncoder::new(codec, config).expect("encoder");
    // (index of the source picture, encoded frame): rate control may skip pictures.
    let mut encoded = Vec::new();
    let t = Instant::now();
    for (i, f) in sources.iter().enumerate() {
        if let Some(out) = enc.encode(f, false).expect("encode") {
            encoded.push((i, out.data));
        }
    }
    let enc_time = t.elapsed();
    let mut dec = VideoDecoder::new(codec).expect("decoder");
    let t = Instant::now();
    let mut decoded = Vec::new();
    for (i, data) in &encoded {
        if let Some(f) = dec.decode(data).expect("decode") {
            decoded.push((*i, f));
        }
    }
    let dec_time = t.elapsed();
    // Quality of what was sent, skipping the first second (the opening keyframe and rate control settling).
    let quality: Vec<f64> =
        decoded.iter().filter(|(i, _)| *i >= 30).filter_map(|(i, f)| psnr(&sources[*i], f)).collect();
    let mean_psnr = quality.iter().sum::<f64>() / quality.len().max(1) as f64;
    let t = Instant::now();
    let mut rgba = vec![0u8; width as usize * height as usize * 4];
    for (_, f) in &decoded {
        f.write_rgba(&mut rgba).expect("to rgba");
    }
    let to_rgba = t.elapsed();
    let t = Instant::now();
    for _ in &decoded {
        let _ = I420Frame::from_rgba(width, height, &rgba).expect("from rgba");
    }
    let from_rgba = t.elapsed();
    let bytes: usize = encoded.iter().map(|(_, d)| d.len()).sum();
    println!(
        "{codec} {width}x{height} @ {} kbps: encode {:.2} ms/frame, decode {:.2} ms/frame, PSNR {mean_psnr:.1} dB, \
         I420->RGBA {:.2} ms, RGBA->I420 {:.2} ms, {} of {} frames, {:.0} kbps actual",
        bitrate_bps / 1000,
        ms_per(enc_time, sources.len()),
        ms_per(dec_time, encoded.len()),
        ms_per(to_rgba, decoded.len()),
        ms_per(from_rgba, decoded.len()),
        encoded.len(),
        sources.len(),
        bytes as f64 * 8.0 * 30.0 / 1000.0 / sources.len().max(1) as f64,
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

/// Echo cancellation + noise suppression + gain control: one far-end and one microphone frame per 20 ms
/// (the far end speech-like, the microphone its echo 60 ms later plus the near end's own speech).
fn processing(frames: usize) {
    let n = frames * FRAME_SAMPLES;
    let far = speech_like(n, SAMPLE_RATE, 1, 0.5);
    let near = speech_like(n, SAMPLE_RATE, 2, 0.2);
    let delay = SAMPLE_RATE as usize * 60 / 1000;
    let mic: Vec<i16> = (0..n)
        .map(|i| {
            let echo = if i >= delay { i32::from(far[i - delay]) / 3 } else { 0 };
            (echo + i32::from(near[i])).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
        })
        .collect();
    for (name, config) in [
        ("all on", ProcessingConfig::ON),
        (
            "echo cancellation only",
            ProcessingConfig { echo_cancellation: true, noise_suppression: false, gain_control: false },
        ),
    ] {
        let mut p = AudioProcessor::new(config);
        let mut frame = [0i16; FRAME_SAMPLES];
        let t = Instant::now();
        for k in 0..frames {
            let range = k * FRAME_SAMPLES..(k + 1) * FRAME_SAMPLES;
            p.analyze_render(&far[range.clone()]).expect("render");
            frame.copy_from_slice(&mic[range]);
            p.process_capture(&mut frame).expect("capture");
        }
        println!(
            "audio processing ({name}), 20 ms of far end + microphone: {:.3} ms/frame ({} frames, ERLE {:.1} dB)",
            ms_per(t.elapsed(), frames),
            frames,
            p.stats().erle_db.unwrap_or(0.0),
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let frames = args
        .iter()
        .position(|a| a == "--frames")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(120u32);
    // The two codecs side by side, at the same target bitrates (the engine's ceiling is 1.5 Mbit/s).
    for (width, height, bitrate) in
        [(640, 480, 1_000_000), (1280, 720, 2_500_000), (640, 480, 300_000), (1280, 720, 800_000)]
    {
        for codec in VideoCodec::ALL {
            video(codec, width, height, bitrate, frames);
        }
    }
    audio(500);
    processing(1500);
}

//! Both encoders in screen-content mode (a shared screen: text, sharp edges, still between changes): a page
//! of text-like strokes at a screen-sharing bitrate comes out readable, in each codec and each mode.
//! Measured here (1280×720 at 15 fps, 1 Mbit/s, after 3 s of the same page): H.264 36.9 dB as camera and
//! 33.9 dB as screen, VP8 35.9 and 34.0: on a still page the screen modes are not better by PSNR; after 1 s
//! VP8 is at 23 dB in both (its keyframe is capped at 3 frames' budget, then it refines). Which mode serves
//! text better when it changes and scrolls is for the screen-sharing benchmark to show.

use kaiwa_media::video::{Content, EncoderConfig, I420Frame, VideoCodec, VideoDecoder, VideoEncoder, psnr};

/// A white page with rows of black "glyphs" (strokes of a pseudo-random 5×7 pattern), 1280×720.
fn text_page() -> I420Frame {
    let (w, h) = (1280u32, 720u32);
    let mut frame = I420Frame::black(w, h).unwrap();
    let (y, u, v) = frame.planes_mut();
    y.fill(235);
    u.fill(128);
    v.fill(128);
    let mut seed = 12345u32;
    for row in (20..h - 20).step_by(18) {
        for col in (20..w - 20).step_by(9) {
            for gy in 0..7u32 {
                for gx in 0..5u32 {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    if seed >> 29 < 3 {
                        y[((row + gy * 2) * w + col + gx) as usize] = 16;
                    }
                }
            }
        }
    }
    frame
}

/// PSNR of the page after `frames` frames through `codec` in `content` mode at `bitrate_bps`.
fn through(codec: VideoCodec, content: Content, bitrate_bps: u32, frames: usize) -> f64 {
    let page = text_page();
    let config = EncoderConfig { bitrate_bps, max_fps: 15.0, content, ..EncoderConfig::call(1280, 720) };
    let mut encoder = VideoEncoder::new(codec, config).unwrap();
    let mut decoder = VideoDecoder::new(codec).unwrap();
    let mut last = None;
    for i in 0..frames {
        if let Some(coded) = encoder.encode(&page, i == 0).unwrap()
            && let Some(decoded) = decoder.decode(&coded.data).unwrap()
        {
            last = Some(decoded);
        }
    }
    psnr(&page, &last.expect("a decoded frame")).unwrap()
}

#[test]
fn a_text_page_is_readable_in_both_codecs_and_modes() {
    for codec in [VideoCodec::H264, VideoCodec::Vp8] {
        let camera = through(codec, Content::Camera, 1_000_000, 45);
        let screen = through(codec, Content::Screen, 1_000_000, 45);
        println!(
            "{codec}: text page after 1 s at 1 Mbit/s: {camera:.1} dB as camera, {screen:.1} dB as screen"
        );
        assert!(screen > 30.0, "{codec} screen mode: {screen:.1} dB");
        assert!(camera > 30.0, "{codec} camera mode: {camera:.1} dB");
    }
}
